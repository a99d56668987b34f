//! Every request body of the server's API (`bulwark-api`), from arbitrary bytes: an error or
//! a value, never a panic; a value serialises and parses back to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde::Serialize;
use serde::de::DeserializeOwned;

fn round_trip<T: DeserializeOwned + Serialize + PartialEq + std::fmt::Debug>(data: &[u8]) {
    if let Ok(v) = serde_json::from_slice::<T>(data) {
        let again: T = serde_json::from_slice(&serde_json::to_vec(&v).unwrap()).unwrap();
        assert_eq!(v, again);
    }
}

fuzz_target!(|data: &[u8]| {
    round_trip::<bulwark_api::ScanRequest>(data);
    round_trip::<bulwark_api::ReportUpload>(data);
    round_trip::<bulwark_api::PolicyWrite>(data);
    round_trip::<bulwark_api::EvaluateRequest>(data);
    round_trip::<bulwark_api::ExceptionRequest>(data);
    round_trip::<bulwark_api::ExceptionDecision>(data);
    round_trip::<bulwark_api::UserCreate>(data);
    round_trip::<bulwark_api::TokenCreate>(data);
});
