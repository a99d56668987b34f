//! Key files come from users and from other tools (cosign's encrypted keys, PKCS#8,
//! SEC1, public keys): reading arbitrary bytes must return a key or an error, never
//! panic, and a key file must not make scrypt run with huge parameters.
#![no_main]

use bulwark_sign::encrypted::EncryptedKey;
use bulwark_sign::keys::{PublicKey, SigningKey};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = PublicKey::from_pem(data);
    let _ = PublicKey::from_spki_der(data);
    let _ = SigningKey::from_pkcs8_der(data);
    let _ = SigningKey::from_sec1_der(data);
    // The encrypted format: parse always, decrypt only at fuzzing-friendly cost (the
    // bounds themselves are unit-tested); the JSON may also come without PEM armour.
    for json in bulwark_sign::pem::parse_all(data).into_iter().flatten().map(|b| b.contents).chain([data.to_vec()]) {
        if let Ok(key) = EncryptedKey::from_json(&json)
            && key.params.n <= 1024
            && key.params.r <= 8
            && key.params.p <= 2
        {
            let _ = key.decrypt(b"");
        }
    }
    if !data.windows(9).any(|w| w == b"ENCRYPTED") {
        let _ = SigningKey::from_pem(data, b"");
    }
});
