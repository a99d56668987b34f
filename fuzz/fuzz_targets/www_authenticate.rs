//! The `WWW-Authenticate` challenge parser and the token-response reader of the registry
//! client (bulwark-registry). Must never panic or hang; a token accepted must be safe to
//! put in a header.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(token) = bulwark_registry::parse_token_response(data) {
        assert!(!token.value.is_empty());
        assert!(token.value.bytes().all(|b| b.is_ascii_graphic()), "unsafe token from {data:?}");
    }
    let header = String::from_utf8_lossy(data);
    for c in bulwark_registry::parse_challenges(&header) {
        assert!(!c.scheme.is_empty(), "empty scheme from {header:?}");
        assert_eq!(c.scheme, c.scheme.to_ascii_lowercase());
        for name in c.params.keys() {
            assert!(!name.is_empty(), "empty parameter name from {header:?}");
            assert_eq!(*name, name.to_ascii_lowercase());
            assert_eq!(c.param(name), c.params.get(name).map(String::as_str));
        }
    }
});
