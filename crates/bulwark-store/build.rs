//! Embeds every `migrations/NNNN_name.sql` file, in version order, so that a module (ours or
//! the server's) adds a migration by adding a file and nothing else.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    // Read at run time, not with `env!`: a build script compiled in one checkout may be reused
    // for another (a shared target dir), and must read that checkout's migrations.
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let dir = Path::new(&manifest_dir).join("migrations");
    println!("cargo::rerun-if-changed={}", dir.display());
    let mut found: Vec<(u32, String, String)> = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("migrations/ is readable") {
        let path = entry.expect("migrations/ entry").path();
        let file = path.file_name().and_then(|f| f.to_str()).unwrap_or_default().to_owned();
        let Some(stem) = file.strip_suffix(".sql") else { continue };
        let (version, name) = stem
            .split_once('_')
            .and_then(|(v, n)| Some((v.parse::<u32>().ok()?, n.to_owned())))
            .unwrap_or_else(|| panic!("migration {file}: the name must be NNNN_name.sql"));
        assert!(!found.iter().any(|(v, _, _)| *v == version), "migration version {version} is used twice");
        found.push((version, name, path.display().to_string()));
    }
    found.sort();
    let mut out = String::from(
        "/// Every migration: version, name, SQL template.\npub(crate) const MIGRATIONS: &[(u32, &str, &str)] = &[\n",
    );
    for (version, name, path) in &found {
        writeln!(out, "    ({version}, {name:?}, include_str!({path:?})),").expect("write to String");
    }
    out.push_str("];\n");
    let dest = Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR")).join("migrations.rs");
    std::fs::write(dest, out).expect("write migrations.rs");
}
