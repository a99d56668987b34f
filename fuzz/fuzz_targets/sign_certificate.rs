//! Certificates and trust roots come from signature annotations and user files: parsing
//! and chain building over arbitrary bytes must end in a value or an error.
#![no_main]

use bulwark_sign::trust::TrustedRoot;
use bulwark_sign::x509::{self, Certificate};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut certs: Vec<Certificate> = Certificate::from_pem_all(data).unwrap_or_default();
    if let Ok(cert) = Certificate::from_der(data) {
        certs.push(cert);
    }
    for cert in &certs {
        let _ = cert.identities();
        let _ = cert.oidc_issuer();
        let _ = cert.display_name();
        let _ = cert.check_code_signing();
        let _ = cert.verify_issued_by(cert);
        let at = cert.not_before();
        let _ = x509::verify_chain(cert, &certs, &certs, at);
    }
    if let Ok(root) = TrustedRoot::from_json(data) {
        let _ = root.anchors_at(0);
        let _ = root.rekor_keys_at(Some(0));
    }
});
