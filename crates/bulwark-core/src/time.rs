//! Times and dates without a time crate.
//!
//! Reports carry one timestamp: the image's own `created` time, from its config. Using it
//! (not the time of the scan) keeps outputs reproducible: the same image gives the same
//! bytes. It is normalised to UTC with whole seconds, `YYYY-MM-DDThh:mm:ssZ`, the only form
//! SPDX 2.3 allows and a valid JSON Schema `date-time`.
//!
//! Expiry dates of exceptions and ignore entries are calendar [`Date`]s (`YYYY-MM-DD`), and
//! "today" is always passed in, so evaluation is testable with an injected clock.

/// The Unix epoch, written when an SPDX document needs a time and the image has none.
pub const EPOCH: &str = "1970-01-01T00:00:00Z";

/// Normalises an RFC 3339 time (`2024-05-13T20:53:54.123456789+02:00`) to
/// `2024-05-13T18:53:54Z`; `None` when the value is not RFC 3339.
pub fn normalise(s: &str) -> Option<String> {
    let secs = unix_seconds(s)?;
    let (y, _, _) = civil_from_days(secs.div_euclid(86_400));
    (0..=9999).contains(&y).then(|| format_unix_seconds(secs))
}

/// A Unix time as `YYYY-MM-DDThh:mm:ssZ` (UTC, whole seconds).
pub fn format_unix_seconds(secs: i64) -> String {
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// Seconds since the Unix epoch of an RFC 3339 time; `None` when it is not RFC 3339.
pub fn unix_seconds(s: &str) -> Option<i64> {
    instant(s).map(|(secs, _)| secs)
}

/// An RFC 3339 time as (seconds since the Unix epoch, nanoseconds), so that times with and
/// without fractions or with offsets compare correctly (as strings they do not: `.` < `Z`).
/// Digits past nanoseconds are ignored; `None` when it is not RFC 3339.
pub fn instant(s: &str) -> Option<(i64, u32)> {
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = b.get(r)?;
        if !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(part).ok()?.parse().ok()
    };
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't' | b' ')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let mut i = 19;
    let mut nanos: u32 = 0;
    if b[i] == b'.' {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            if i - start < 9 {
                nanos = nanos * 10 + u32::from(b[i] - b'0');
            }
            i += 1;
        }
        if i == start {
            return None;
        }
        for _ in (i - start).min(9)..9 {
            nanos *= 10;
        }
    }
    let offset = match b.get(i)? {
        b'Z' | b'z' if i + 1 == b.len() => 0,
        sign @ (b'+' | b'-') if i + 6 == b.len() && b[i + 3] == b':' => {
            let (h, m) = (num(i + 1..i + 3)?, num(i + 4..i + 6)?);
            if h > 23 || m > 59 {
                return None;
            }
            let o = h * 3600 + m * 60;
            if *sign == b'-' { -o } else { o }
        }
        _ => return None,
    };
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days_in_month = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month[(month - 1) as usize] {
        return None;
    }
    // A leap second (`:60`) is clamped to :59 rather than rolled into the next minute.
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    Some((days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second.min(59) - offset, nanos))
}

/// A calendar day, `YYYY-MM-DD`: expiry dates, "today".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    /// Days since 1970-01-01.
    days: i64,
}

impl Date {
    /// The day (UTC) of a Unix time.
    pub fn from_unix_seconds(secs: i64) -> Date {
        Date { days: secs.div_euclid(86_400) }
    }

    /// Today (UTC), from the system clock. Library code takes "today" as an argument;
    /// only binaries call this.
    pub fn today() -> Date {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        Date::from_unix_seconds(secs)
    }

    /// Parses `YYYY-MM-DD` (a real calendar day), or the date part of an RFC 3339 time.
    pub fn parse(s: &str) -> Option<Date> {
        if s.len() > 10 {
            return unix_seconds(s).map(Date::from_unix_seconds);
        }
        let b = s.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let num = |r: std::ops::Range<usize>| -> Option<i64> {
            let part = &b[r];
            part.iter().all(u8::is_ascii_digit).then(|| std::str::from_utf8(part).ok()?.parse().ok())?
        };
        let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
        let leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
        let days_in_month = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
        if !(1..=12).contains(&m) || d < 1 || d > days_in_month[(m - 1) as usize] {
            return None;
        }
        Some(Date { days: days_from_civil(y, m, d) })
    }

    /// Days from `earlier` to `self` (negative when `earlier` is later).
    pub fn days_since(self, earlier: Date) -> i64 {
        self.days - earlier.days
    }

    /// The day `n` days later.
    pub fn plus_days(self, n: i64) -> Date {
        Date { days: self.days + n }
    }
}

impl std::fmt::Display for Date {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (y, m, d) = civil_from_days(self.days);
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

// Howard Hinnant's days_from_civil / civil_from_days (public domain,
// http://howardhinnant.github.io/date_algorithms.html).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { yoe + era * 400 + 1 } else { yoe + era * 400 }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises() {
        for (input, want) in [
            ("2024-05-13T20:53:54Z", Some("2024-05-13T20:53:54Z")),
            ("2024-05-13T20:53:54.123456789Z", Some("2024-05-13T20:53:54Z")),
            ("2024-05-13T00:30:00+02:00", Some("2024-05-12T22:30:00Z")),
            ("2023-12-31T23:30:00-01:00", Some("2024-01-01T00:30:00Z")),
            ("2024-02-29T12:00:00Z", Some("2024-02-29T12:00:00Z")),
            ("1970-01-01T00:00:00Z", Some(EPOCH)),
            ("2023-02-29T12:00:00Z", None),
            ("2024-05-13", None),
            ("2024-05-13T20:53:54", None),
            ("2024-13-01T00:00:00Z", None),
            ("0001-01-01T00:00:00Z", Some("0001-01-01T00:00:00Z")),
            ("garbage-in-twenty-chars", None),
        ] {
            assert_eq!(normalise(input).as_deref(), want, "{input}");
        }
    }

    #[test]
    fn instants_compare_with_fractions_and_offsets() {
        let t = |s| instant(s).unwrap_or_else(|| panic!("{s}"));
        assert!(t("2024-01-01T00:00:00Z") < t("2024-01-01T00:00:00.5Z"));
        assert_eq!(t("2024-01-01T00:00:00.123456789123Z"), t("2024-01-01T00:00:00.123456789Z"));
        assert_eq!(t("2024-01-01T01:00:00+01:00"), t("2024-01-01T00:00:00Z"));
        assert_eq!(t("2024-01-01T00:00:00.5Z").1, 500_000_000);
        assert_eq!(instant("2024-01-01T00:00:00.Z"), None);
    }

    #[test]
    fn dates() {
        let d = Date::parse("2024-02-28").unwrap();
        assert_eq!(d.plus_days(1).to_string(), "2024-02-29");
        assert_eq!(d.plus_days(2).to_string(), "2024-03-01");
        assert_eq!(Date::parse("2024-03-01").unwrap().days_since(d), 2);
        assert_eq!(Date::parse("1970-01-01").unwrap(), Date::from_unix_seconds(0));
        assert_eq!(Date::parse("2024-05-13T00:30:00+02:00").unwrap().to_string(), "2024-05-12");
        for bad in ["2023-02-29", "2024-13-01", "24-01-01", "2024-1-01", "", "2024-01-0a"] {
            assert_eq!(Date::parse(bad), None, "{bad}");
        }
        assert!(Date::today() > Date::parse("2024-01-01").unwrap());
    }
}
