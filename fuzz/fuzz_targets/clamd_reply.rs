//! clamd's replies (`bulwark_detect::malware::clamd::parse_reply`) and the clamd address syntax on
//! arbitrary bytes: a hostile or broken daemon (or a man in the middle on a TCP socket)
//! must never make the parser panic, and nothing but `OK` may ever read as clean.
#![no_main]

use bulwark_detect::malware::clamd::{Address, Reply, parse_reply};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(replies) = parse_reply(data) {
        assert!(!replies.is_empty());
        let text = String::from_utf8_lossy(data);
        for r in &replies {
            match r {
                Reply::Clean => assert!(text.contains("OK")),
                Reply::Found(sig) => {
                    assert!(!sig.is_empty() && sig.len() <= 512 && !sig.chars().any(char::is_control));
                    assert!(text.contains("FOUND"));
                }
                Reply::SizeLimit | Reply::Error(_) => assert!(text.contains("ERROR")),
            }
        }
    }
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = s.parse::<Address>().map(|a| a.to_string());
    }
});
