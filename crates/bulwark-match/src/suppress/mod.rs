//! Ignore files and VEX documents: taking vulnerabilities out of a report, on the record.
//!
//! Two inputs say "this finding does not apply here":
//!
//! - an **ignore file** (YAML or JSON) written by the team that owns the image:
//!
//!   ```yaml
//!   ignores:
//!     - id: CVE-2023-45853              # the finding's id or any of its aliases
//!       scope:                          # optional, the same shape as policy exceptions
//!         package: zlib                 # name, source package name, or purl
//!         path: /usr/lib/**             # a package location (glob, `*` and `**`)
//!         image: registry:ghcr.io/org/* # image reference or digest (glob)
//!       reason: minizip is not built
//!       expires: 2026-06-30             # mandatory; the entry applies through this day
//!   ```
//!
//!   The older form with `package`, `path` and `image` beside `id` is still read, with a
//!   deprecation warning per file ([`IgnoreFile::warnings`]). See `docs/ignore-file.md`.
//!
//! - **VEX** statements from the software's supplier: OpenVEX (v0.2.0, and the older
//!   string-valued `vulnerability`/`products` form) and CycloneDX VEX (a BOM whose
//!   `vulnerabilities[]` carry `analysis.state` and `affects[].ref`). `not_affected` and
//!   `fixed` (OpenVEX), `not_affected`, `false_positive` and `resolved` (CycloneDX) suppress;
//!   `affected`, `under_investigation`, `exploitable` and `in_triage` do not, but a finding
//!   they name gets the statement appended to its explanation.
//!
//! [`apply`] moves suppressed findings from `report.vulnerabilities` to `report.suppressed`
//! and lists every entry and statement in `report.suppressions` as applied, expired or
//! unused. Products are matched by purl (type, name and, when the statement's purl has one,
//! version, compared with the ecosystem's ordering, so `pkg:golang/x@v1.2.0` names Go's
//! `1.2.0`; a purl without a version names every version; OS packages also match by their
//! source package) or by image (`pkg:oci/…@sha256:…`, a `sha256:` digest, or the reference).
//! An OpenVEX product with subcomponents names those packages inside that product.
//!
//! Not supported: CycloneDX `affects[].versions` ranges (the `ref`'s own purl version is
//! used), CPE product identifiers (no fuzzy matching, ever), and resolving the latest of
//! several conflicting statements by timestamp: any suppressing statement that matches wins.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use bulwark_core::glob::{self, Glob, Legacy};
use bulwark_core::purl::Purl;
use bulwark_core::report::{ExceptionStatus, ScanReport, SuppressedVulnerability, Suppression, Vulnerability};
use bulwark_core::time::Date;
use bulwark_version::{Ecosystem, Version};
use serde::Deserialize;

/// Ignore files and VEX documents larger than this are refused (a real one is a few KiB).
pub const MAX_FILE_BYTES: u64 = 32 << 20;

/// Why an ignore file or VEX document could not be used.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot read {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{file}: {message}")]
    Invalid { file: String, message: String },
}

pub type Result<T> = std::result::Result<T, Error>;

fn invalid(source: &str, message: impl Into<String>) -> Error {
    Error::Invalid { file: source.to_owned(), message: message.into() }
}

mod apply;
mod ignore;
mod vex;

pub use apply::apply;
pub use ignore::*;
pub use vex::*;

fn read(path: &Path) -> Result<Vec<u8>> {
    use std::io::Read;
    let io = |source| Error::Io { path: path.to_path_buf(), source };
    let file = std::fs::File::open(path).map_err(io)?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes).map_err(io)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(invalid(&path.display().to_string(), format!("larger than {MAX_FILE_BYTES} bytes")));
    }
    Ok(bytes)
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or_default().to_owned()
}

fn excerpt(s: &str) -> String {
    bulwark_core::excerpt(s)
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && let Some(h) = b.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok())
            && let Ok(x) = u8::from_str_radix(h, 16)
        {
            out.push(x);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ignore_globs_migrate_with_a_warning() {
        let file = "ignores:\n  - id: CVE-1\n    scope: {path: /usr/**.so, image: ghcr.io/acme/*}\n    reason: r\n    expires: 2030-01-01\n";
        let f = parse_ignore_file(file.as_bytes(), "ignore:a.yaml").unwrap();
        assert_eq!(f.warnings.len(), 1, "{:?}", f.warnings);
        assert!(
            f.warnings[0]
                .starts_with("ignore:a.yaml: ignores[0] (CVE-1) scope.path: glob `/usr/**.so` changed meaning"),
            "{:?}",
            f.warnings
        );
        let path = f.entries[0].path.as_ref().unwrap();
        assert!(path.is_match("/usr/libz.so") && !path.is_match("/usr/lib/libz.so"), "now a `*` that stops at `/`");
        let bad = "ignores:\n  - id: CVE-1\n    scope: {path: '/usr/[lib'}\n    reason: r\n    expires: 2030-01-01\n";
        let e = parse_ignore_file(bad.as_bytes(), "ignore:a.yaml").unwrap_err().to_string();
        assert!(e.contains("scope.path: invalid glob"), "{e}");
    }
}

#[cfg(test)]
mod scope_tests {
    use super::*;

    #[test]
    fn scope_is_nested_as_in_policies_and_the_flat_form_is_deprecated() {
        let nested = "ignores:\n  - id: CVE-1\n    scope: {package: zlib, path: /usr/lib/**, image: ghcr.io/acme/*}\n    reason: r\n    expires: 2030-01-01\n";
        let f = parse_ignore_file(nested.as_bytes(), "ignore:a.yaml").unwrap();
        assert!(f.warnings.is_empty(), "{:?}", f.warnings);
        let e = &f.entries[0];
        assert_eq!(
            (e.package.as_deref(), e.path.as_ref().map(Glob::as_str), e.image.as_ref().map(Glob::as_str)),
            (Some("zlib"), Some("/usr/lib/**"), Some("ghcr.io/acme/*"))
        );
        let flat = "ignores:\n  - id: CVE-1\n    package: zlib\n    path: /usr/lib/**\n    image: ghcr.io/acme/*\n    reason: r\n    expires: 2030-01-01\n";
        let g = parse_ignore_file(flat.as_bytes(), "ignore:a.yaml").unwrap();
        assert_eq!(g.entries, f.entries, "both forms mean the same");
        assert_eq!(g.warnings.len(), 1);
        assert!(g.warnings[0].contains("1 entry gives `package`, `path` or `image` beside `id`"), "{:?}", g.warnings);
        assert!(g.warnings[0].contains("under `scope:`"), "{:?}", g.warnings);
        let both = "ignores:\n  - id: CVE-1\n    package: zlib\n    scope: {package: openssl}\n    reason: r\n    expires: 2030-01-01\n";
        let err = parse_ignore_file(both.as_bytes(), "ignore:a.yaml").unwrap_err().to_string();
        assert!(err.contains("`package` is given both flat and under `scope`"), "{err}");
        let typo = "ignores:\n  - id: CVE-1\n    scope: {pakage: zlib}\n    reason: r\n    expires: 2030-01-01\n";
        assert!(parse_ignore_file(typo.as_bytes(), "ignore:a.yaml").is_err());
    }
}
