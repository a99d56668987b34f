//! Small helpers: clocks, times, cursors and the validators of path parameters.

use bulwark_api::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};

use crate::error::{Error, invalid};

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// A store time (ms) as RFC 3339.
pub fn time(ms: i64) -> String {
    bulwark_core::time::format_unix_seconds(ms.div_euclid(1000))
}

/// The operator's log (stderr): libraries never print to stdout.
pub fn log(message: &str) {
    #[allow(clippy::print_stderr)]
    {
        eprintln!("bulwark-server: {message}");
    }
}

/// `limit` checked against the maximum page size (a 400 naming `limit` beyond it).
pub fn page_size(limit: Option<u32>) -> Result<u32, Error> {
    match limit {
        None => Ok(DEFAULT_PAGE_SIZE),
        Some(0) => Err(invalid("limit", "must be at least 1")),
        Some(n) if n > MAX_PAGE_SIZE => {
            Err(invalid("limit", format!("at most {MAX_PAGE_SIZE} (the maximum page size)")))
        }
        Some(n) => Ok(n),
    }
}

/// An opaque cursor for a position (`kind` guards against a cursor of another list).
pub fn cursor(kind: &str, position: &str) -> String {
    format!("{kind}.{}", position.bytes().map(|b| format!("{b:02x}")).collect::<String>())
}

/// The position a cursor of list `kind` stands for.
pub fn decode_cursor(kind: &str, cursor: Option<&str>) -> Result<Option<String>, Error> {
    let Some(c) = cursor else { return Ok(None) };
    let bad = || invalid("cursor", "not a cursor of this list (pass `next_cursor` back unchanged)");
    let hex = c.strip_prefix(kind).and_then(|r| r.strip_prefix('.')).ok_or_else(bad)?;
    if hex.len() % 2 != 0 || hex.len() > 512 {
        return Err(bad());
    }
    let bytes: Option<Vec<u8>> =
        (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok()).collect();
    String::from_utf8(bytes.ok_or_else(bad)?).map(Some).map_err(|_| bad())
}

/// A numeric cursor position.
pub fn decode_id_cursor(kind: &str, cursor: Option<&str>) -> Result<Option<i64>, Error> {
    decode_cursor(kind, cursor)?
        .map(|s| s.parse::<i64>().map_err(|_| invalid("cursor", "not a cursor of this list")))
        .transpose()
}

/// `sha256:` and 64 lower-case hex digits.
pub fn check_digest(field: &str, s: &str) -> Result<(), Error> {
    let ok = s
        .strip_prefix("sha256:")
        .is_some_and(|h| h.len() == 64 && h.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')));
    if ok { Ok(()) } else { Err(invalid(field, "expected sha256: and 64 lower-case hex digits")) }
}

/// Names of users, policies and credentials: 1 to 64 of `a-z 0-9 . _ -`, starting with a
/// letter or digit (so no `..`-style path segment, no SQL or shell metacharacter).
pub fn check_name(field: &str, s: &str) -> Result<(), Error> {
    let ok = !s.is_empty()
        && s.len() <= 64
        && s.as_bytes()[0].is_ascii_alphanumeric()
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(invalid(field, "expected 1-64 of a-z, 0-9, `.`, `_`, `-`, starting with a letter or digit"))
    }
}

/// An id path parameter: a positive whole number.
pub fn parse_id(field: &str, s: &str) -> Result<i64, Error> {
    s.parse::<i64>().ok().filter(|n| *n > 0).ok_or_else(|| invalid(field, "expected a positive whole number"))
}

/// A problem for free text over a length.
pub fn check_len(field: &str, s: &str, max: usize) -> Result<(), Error> {
    if s.len() > max {
        return Err(invalid(field, format!("at most {max} bytes")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_others() {
        let c = cursor("images", "sha256:ab");
        assert_eq!(decode_cursor("images", Some(&c)).unwrap().as_deref(), Some("sha256:ab"));
        assert!(decode_cursor("audit", Some(&c)).is_err());
        assert!(decode_cursor("images", Some("images.zz")).is_err());
        assert!(decode_cursor("images", Some("'; DROP TABLE images; --")).is_err());
    }

    #[test]
    fn names_and_digests_refuse_traversal() {
        assert!(check_name("name", "release-1.2").is_ok());
        for bad in ["..", "../etc", "a/b", "A", "", "x'--", &"a".repeat(65)] {
            assert!(check_name("name", bad).is_err(), "{bad}");
        }
        assert!(check_digest("digest", &format!("sha256:{}", "a".repeat(64))).is_ok());
        assert!(check_digest("digest", "sha256:../../etc/passwd").is_err());
        assert_eq!(page_size(Some(501)).map_err(|_| ()), Err(()));
    }
}
