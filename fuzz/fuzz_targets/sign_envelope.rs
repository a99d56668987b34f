//! DSSE envelopes, in-toto statements and Sigstore bundles come from registries and
//! files: parsing and verifying arbitrary bytes must end in a value or an error.
#![no_main]

use std::sync::OnceLock;

use bulwark_sign::bundle::Bundle;
use bulwark_sign::cosign::{Layer, TrustPolicy};
use bulwark_sign::dsse::{DSSE_LAYER_MEDIA_TYPE, Envelope};
use bulwark_sign::intoto::{Statement, VerdictPredicate, VulnPredicate};
use bulwark_sign::keys::SigningKey;
use libfuzzer_sys::fuzz_target;

fn policy() -> &'static TrustPolicy {
    static POLICY: OnceLock<TrustPolicy> = OnceLock::new();
    POLICY.get_or_init(|| TrustPolicy {
        keys: vec![SigningKey::generate().expect("key").public_key()],
        ..Default::default()
    })
}

fuzz_target!(|data: &[u8]| {
    if let Ok(env) = Envelope::from_json(data) {
        let _ = env.verify(&policy().keys);
    }
    let layer =
        Layer { media_type: DSSE_LAYER_MEDIA_TYPE.into(), content: data.to_vec(), annotations: Default::default() };
    let _ =
        policy().verify_attestation(&layer, "sha256:0000000000000000000000000000000000000000000000000000000000000000");
    if let Ok(bundle) = Bundle::from_json(data) {
        let _ = bundle.certificates();
        let _ = policy().verify_bundle(&bundle);
    }
    if let Ok(st) = Statement::from_json(data) {
        let _ = serde_json::from_value::<VerdictPredicate>(st.predicate.clone());
        let _ = serde_json::from_value::<VulnPredicate>(st.predicate);
    }
});
