//! Signature manifests, signature layers (simple-signing payloads with their annotations,
//! containers/image `signature-N` files) and Rekor bundles come from registries: verifying arbitrary bytes
//! must end in a verdict or an error, never a panic.
#![no_main]

use std::sync::OnceLock;

use bulwark_sign::cosign::{Layer, SimpleSigning, TrustPolicy};
use bulwark_sign::keys::SigningKey;
use bulwark_sign::rekor::{self, RekorBundle};
use libfuzzer_sys::fuzz_target;

fn policy() -> &'static TrustPolicy {
    static POLICY: OnceLock<TrustPolicy> = OnceLock::new();
    POLICY.get_or_init(|| {
        let key = SigningKey::generate().expect("key").public_key();
        TrustPolicy { keys: vec![key.clone()], rekor_keys: vec![key], ..Default::default() }
    })
}

const DIGEST: &str = "sha256:634a8f35b5f16dcf4aaa0822adc0b1964bb786fca12f6831de8ddc45e5986a00";

fuzz_target!(|data: &[u8]| {
    let _ = SimpleSigning::from_json(data);
    let _ = bulwark_sign::manifest::parse(data);
    if let Ok(layer) = Layer::from_containers_image(data) {
        let _ = policy().verify_signature(&layer, DIGEST);
    }
    if let Ok(bundle) = RekorBundle::from_json(data) {
        let _ = bundle.verify_set(&policy().rekor_keys);
        if let Ok(body) = bundle.body() {
            let expected = rekor::Expected::Blob { payload: b"p", signature: b"s", signer_der: b"d" };
            let _ = rekor::check_body(&body, expected);
        }
    }
    let _ = rekor::check_body(
        data,
        rekor::Expected::Dsse { envelope_json: Some(data), payload: data, signature: data, signer_der: data },
    );
});
