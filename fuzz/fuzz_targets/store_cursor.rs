//! Pagination cursors of the store's listings (`bulwark_store::cursor`) from arbitrary text:
//! an error or ids, never a panic; an accepted cursor is exactly the one those ids encode to
//! (no second spelling of a position), and encoding any ids decodes back to them.
#![no_main]

use bulwark_store::cursor;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() >= 16 {
        let a = i64::from_le_bytes(data[..8].try_into().unwrap());
        let b = i64::from_le_bytes(data[8..16].try_into().unwrap());
        assert_eq!(cursor::decode_id(&cursor::encode_id(a)).unwrap(), a);
        assert_eq!(cursor::decode_pair(&cursor::encode_pair(a, b)).unwrap(), (a, b));
    }
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(id) = cursor::decode_id(text) {
        assert_eq!(cursor::encode_id(id), text);
    }
    if let Ok((a, b)) = cursor::decode_pair(text) {
        assert_eq!(cursor::encode_pair(a, b), text);
    }
});
