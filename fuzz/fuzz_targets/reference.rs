//! `Reference`, `ScanInput`, `DockerRef`, `Digest` and `Platform` parsing. Must never panic, and
//! whatever parses must print to a string that parses back to the same value
//! (`parse(display(parse(s))) == parse(s)`): reports and cache keys print references.

#![no_main]

use bulwark_core::{Digest, DockerRef, Platform, Reference, ScanInput};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    if let Ok(r) = s.parse::<Reference>() {
        let shown = r.to_string();
        let again = shown.parse::<Reference>();
        assert_eq!(again.as_ref().ok(), Some(&r), "{s:?} -> {r:?} -> {shown:?} -> {again:?}");
    }
    if let Ok(i) = s.parse::<ScanInput>() {
        let shown = i.to_string();
        let again = shown.parse::<ScanInput>();
        assert_eq!(again.as_ref().ok(), Some(&i), "{s:?} -> {i:?} -> {shown:?} -> {again:?}");
    }
    if let Ok(r) = s.parse::<DockerRef>() {
        let shown = r.to_string();
        let again = shown.parse::<DockerRef>();
        assert_eq!(again.as_ref().ok(), Some(&r), "{s:?} -> {r:?} -> {shown:?} -> {again:?}");
        let _ = r.is_loopback();
        assert!(!r.reference().is_empty());
        assert!(!r.registry.is_empty() && !r.repository.is_empty());
    }
    if let Ok(d) = s.parse::<Digest>() {
        assert_eq!(d.to_string(), s, "digests are canonical: the string is the value");
        assert_eq!(d.short().len(), 12);
    }
    if let Ok(p) = s.parse::<Platform>() {
        let shown = p.to_string();
        let again = shown.parse::<Platform>();
        assert_eq!(again.as_ref().ok(), Some(&p), "{s:?} -> {p:?} -> {shown:?} -> {again:?}");
        assert!(p.matches(&p));
    }
});
