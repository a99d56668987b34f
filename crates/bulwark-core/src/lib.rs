//! Bulwark's domain types, at the bottom of the crate graph.
//!
//! This crate does no IO. It defines what the other crates exchange: content
//! [`Digest`]s, image [`Reference`]s in Bulwark's one reference syntax, [`Platform`]s,
//! the [`report`] a scan produces and its [`Warning`]s.
//!
//! ```
//! use bulwark_core::{Reference, Digest};
//!
//! let r: Reference = "registry:localhost:5000/app:1.2".parse().unwrap();
//! assert_eq!(r.to_string(), "registry:localhost:5000/app:1.2");
//! let d: Digest = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855".parse().unwrap();
//! assert_eq!(d, Digest::sha256_of(b""));
//! ```

mod digest;
mod error;
pub mod glob;
mod platform;
pub mod plural;
pub mod purl;
mod reference;
pub mod report;
pub mod term;
pub mod time;
mod warning;

pub use digest::{Algorithm, Digest};
pub use error::{Error, Result};
pub use platform::Platform;
pub use purl::Purl;
pub use reference::{
    ArchiveSelector, DEFAULT_REGISTRY, DockerRef, Reference, SBOM_SCHEME, SCHEMES, ScanInput, Scheme, Shape, Target,
};
pub use warning::{Warning, WarningKind, structured_warnings};

/// Shortens untrusted text (a value from an image, a feed, an SBOM) for quoting in an error
/// or warning: at most 120 bytes, cut at a character boundary, with `…` when cut.
pub fn excerpt(s: &str) -> String {
    const MAX: usize = 120;
    if s.len() <= MAX {
        return s.to_owned();
    }
    let mut end = MAX;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

/// Percent-encodes everything but RFC 3986's unreserved characters (`A-Z a-z 0-9 - . _ ~`):
/// one URL path segment, query component or form value, whatever bytes it holds.
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
