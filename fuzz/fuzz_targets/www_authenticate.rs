//! The `WWW-Authenticate` challenge parser and token-response reader of the registry
//! client. They are crate-private, so source/registry/auth.rs is compiled here in place
//! (it depends only on std, serde and serde_json). Must never panic or hang.

#![no_main]

use libfuzzer_sys::fuzz_target;

#[allow(dead_code, unreachable_pub)]
#[path = "../../crates/bulwark-image/src/source/registry/auth.rs"]
mod auth;

fuzz_target!(|data: &[u8]| {
    let _ = auth::parse_token_response(data);
    let header = String::from_utf8_lossy(data);
    for c in auth::parse_challenges(&header) {
        assert!(!c.scheme.is_empty(), "empty scheme from {header:?}");
        assert_eq!(c.scheme, c.scheme.to_ascii_lowercase());
        for name in c.params.keys() {
            assert!(!name.is_empty(), "empty parameter name from {header:?}");
            assert_eq!(*name, name.to_ascii_lowercase());
            assert_eq!(c.param(name), c.params.get(name).map(String::as_str));
        }
    }
    let encoded = auth::encode_component(&header);
    assert!(encoded.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~%".contains(&b)));
});
