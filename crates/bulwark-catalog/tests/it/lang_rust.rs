//! Rust: a real `cargo auditable` binary and a real `Cargo.lock`.
//!
//! The binary is built by `tests/data/make-binary-fixtures.sh rust` (cargo-auditable 0.7.7,
//! a crate depending on `itoa =1.0.11` and `hex =0.4.3`), cached outside the repository.
//! Its `.dep-v0` section was checked independently by inflating it with Python's `zlib`:
//! `{"packages": [{"name": "auditable-hello", "version": "0.1.0", "source": "local",
//! "dependencies": [1, 2], "root": true}, {"name": "hex", "version": "0.4.3", "source":
//! "crates.io"}, {"name": "itoa", "version": "1.0.11", "source": "crates.io"}], "format": 1}`.
//! Building it from nothing costs about two minutes (installing cargo-auditable); CI keeps
//! the cache, so it is paid once. The lockfile is this workspace's own.

use std::path::Path;

use crate::binary_fixture as fixture;
use bulwark_catalog::PackageKind;
use bulwark_catalog::lang::rust;
use object::{Object, ObjectSection};

fn auditable_binary() -> Vec<u8> {
    std::fs::read(fixture("rust/auditable-hello", "rust")).expect("read auditable-hello")
}

#[test]
fn auditable_binary_packages() {
    let bytes = auditable_binary();
    let (pkgs, warnings) = rust::parse_auditable(&bytes, "/usr/local/bin/auditable-hello");
    assert!(warnings.is_empty(), "{warnings:?}");
    let got: Vec<(&str, &str, Vec<&str>)> = pkgs
        .iter()
        .map(|p| (p.name.as_str(), p.version.as_str(), p.dependencies.iter().map(String::as_str).collect()))
        .collect();
    assert_eq!(
        got,
        [("auditable-hello", "0.1.0", vec!["hex", "itoa"]), ("hex", "0.4.3", vec![]), ("itoa", "1.0.11", vec![])]
    );
    assert!(pkgs.iter().all(|p| p.kind == PackageKind::Cargo && p.db_path == "/usr/local/bin/auditable-hello"));
    assert_eq!(pkgs[2].purl(None).to_string(), "pkg:cargo/itoa@1.0.11");
}

#[test]
fn binaries_without_audit_data() {
    // A Go binary and a Rust binary built without cargo-auditable (rustup's own).
    for bin in ["/usr/bin/skopeo", env!("CARGO")] {
        let bytes = std::fs::read(bin).unwrap_or_else(|e| panic!("{bin}: {e}"));
        assert_eq!(rust::parse_auditable(&bytes, bin), (vec![], vec![]), "{bin}");
    }
}

#[test]
fn corrupted_audit_data() {
    let bytes = auditable_binary();
    let range = {
        let file = object::File::parse(&*bytes).expect("elf");
        let section = file.section_by_name(".dep-v0").expect(".dep-v0");
        let (offset, size) = section.file_range().expect("file range");
        offset as usize..(offset + size) as usize
    };
    // Flipped bytes inside the zlib stream.
    let mut corrupt = bytes.clone();
    for b in &mut corrupt[range.start + 10..range.end - 4] {
        *b ^= 0x5a;
    }
    let (pkgs, w) = rust::parse_auditable(&corrupt, "/b");
    assert!(pkgs.is_empty() && w.len() == 1, "{w:?}");
    // A valid zlib stream of JSON that is not the expected shape.
    let mut wrong = bytes.clone();
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    std::io::Write::write_all(&mut z, b"[1]").expect("compress");
    let small = z.finish().expect("compress");
    wrong[range.start..range.start + small.len()].copy_from_slice(&small);
    let (pkgs, w) = rust::parse_auditable(&wrong, "/b");
    assert!(pkgs.is_empty() && w.len() == 1 && w[0].message.contains("no packages array"), "{w:?}");
    // Truncations: the section table is at the end, so these are simply not auditable
    // binaries any more; none may panic.
    for len in [0, 4, 64, range.start, range.start + 3, bytes.len() - 1] {
        let _ = rust::parse_auditable(&bytes[..len], "/b");
    }
}

#[test]
fn workspace_cargo_lock() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../Cargo.lock");
    let bytes = std::fs::read(&path).expect("Cargo.lock");
    let (pkgs, warnings) = rust::parse_cargo_lock(&bytes, "/src/Cargo.lock");
    assert!(warnings.is_empty(), "{warnings:?}");
    // Counted independently of the parser: one `[[package]]` header per package.
    let text = String::from_utf8(bytes).expect("utf-8");
    assert_eq!(pkgs.len(), text.lines().filter(|l| *l == "[[package]]").count());
    let catalog = pkgs.iter().find(|p| p.name == "bulwark-catalog").expect("bulwark-catalog");
    assert_eq!(catalog.version, env!("CARGO_PKG_VERSION"));
    for dep in ["flate2", "object", "rusqlite", "thiserror", "zip"] {
        assert!(catalog.dependencies.iter().any(|d| d == dep), "{dep} not in {:?}", catalog.dependencies);
    }
    // Every package's version is the one in the `version = "…"` line right after its name.
    for p in &pkgs {
        let needle = format!("name = \"{}\"\nversion = \"{}\"\n", p.name, p.version);
        assert!(text.contains(&needle), "{} {}", p.name, p.version);
    }
}
