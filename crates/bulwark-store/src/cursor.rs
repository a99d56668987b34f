//! Pagination cursors of the store's listings: the id of the last item of the previous page
//! (`42`), or two ids for listings ordered by two keys (`42.7`), in canonical decimal.
//!
//! A cursor comes back from the client, so it is untrusted input: anything but the exact
//! form this module writes (a sign, a leading zero, spaces, an overflowing number, a third
//! part) is refused as "not a cursor this listing returned", never guessed at. So every
//! accepted cursor re-encodes to itself (the `store_cursor` fuzz target checks it).

use crate::Result;
use crate::images::bad_cursor;

/// The cursor after the item with this id.
pub fn encode_id(id: i64) -> String {
    id.to_string()
}

/// The id a cursor of [`encode_id`] names.
pub fn decode_id(cursor: &str) -> Result<i64> {
    let id: i64 = cursor.parse().map_err(|_| bad_cursor())?;
    if encode_id(id) != cursor {
        return Err(bad_cursor());
    }
    Ok(id)
}

/// The cursor after the item keyed `(a, b)`.
pub fn encode_pair(a: i64, b: i64) -> String {
    format!("{a}.{b}")
}

/// The two ids a cursor of [`encode_pair`] names.
pub fn decode_pair(cursor: &str) -> Result<(i64, i64)> {
    let (a, b) = cursor.split_once('.').ok_or_else(bad_cursor)?;
    Ok((decode_id(a)?, decode_id(b)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_only_their_own_form_is_accepted() {
        for id in [0, 1, 42, -7, i64::MAX, i64::MIN] {
            assert_eq!(decode_id(&encode_id(id)).unwrap(), id);
        }
        assert_eq!(decode_pair(&encode_pair(12, -3)).unwrap(), (12, -3));
        for bad in ["", "+1", "01", " 1", "1 ", "1.2", "9223372036854775808", "x", "-0", "1e3"] {
            assert!(decode_id(bad).is_err(), "{bad:?}");
        }
        for bad in ["", "1", "1.", ".1", "1.2.3", "1.+2", "01.2", "1..2", "a.b"] {
            assert!(decode_pair(bad).is_err(), "{bad:?}");
        }
    }
}
