//! When distribution releases stop receiving security updates.
//!
//! The report does not carry an end-of-life flag, so `deny_end_of_life` judges the release
//! in `report.os` against this table and the evaluation day. Dates are the end of free
//! security support as each project publishes it: Debian (including the Debian LTS team's
//! support, whose DLAs are in Debian's OSV feed) from <https://www.debian.org/releases/> and
//! <https://wiki.debian.org/LTS>, Ubuntu's end of standard support from
//! <https://wiki.ubuntu.com/Releases>, Alpine's from <https://alpinelinux.org/releases/>.
//! Releases older than the oldest listed one are end of life; releases that are newer or
//! from other distributions are not judged (the rule passes).

use bulwark_core::time::Date;

/// `(os-release ID, VERSION_ID prefix, last day of support)`.
const END_OF_SUPPORT: &[(&str, &str, &str)] = &[
    ("debian", "7", "2018-05-31"),
    ("debian", "8", "2020-06-30"),
    ("debian", "9", "2022-06-30"),
    ("debian", "10", "2024-06-30"),
    ("debian", "11", "2026-08-31"),
    ("debian", "12", "2028-06-30"),
    ("ubuntu", "14.04", "2019-04-30"),
    ("ubuntu", "16.04", "2021-04-30"),
    ("ubuntu", "18.04", "2023-05-31"),
    ("ubuntu", "20.04", "2025-05-31"),
    ("ubuntu", "22.04", "2027-06-30"),
    ("ubuntu", "23.10", "2024-07-11"),
    ("ubuntu", "24.04", "2029-05-31"),
    ("alpine", "3.14", "2023-05-01"),
    ("alpine", "3.15", "2023-11-01"),
    ("alpine", "3.16", "2024-05-23"),
    ("alpine", "3.17", "2024-11-22"),
    ("alpine", "3.18", "2025-05-09"),
    ("alpine", "3.19", "2025-11-01"),
    ("alpine", "3.20", "2026-04-01"),
    ("alpine", "3.21", "2026-11-01"),
];

/// What the table says about a release.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Support {
    /// Support ended on this day (it is before the evaluation day).
    Ended(Date),
    /// Older than any release the table lists for the distribution.
    Ancient,
    /// Supported, or not known to the table.
    NotKnownEnded,
}

fn numeric(version: &str) -> Vec<u64> {
    version.split('.').map_while(|p| p.parse().ok()).collect()
}

/// Whether `id` `version_id` is past its end of support on `today`.
pub fn support(id: &str, version_id: &str, today: Date) -> Support {
    let id = id.to_ascii_lowercase();
    let rows: Vec<_> = END_OF_SUPPORT.iter().filter(|(d, ..)| *d == id).collect();
    for (_, release, end) in &rows {
        let matches =
            version_id == *release || version_id.strip_prefix(release).is_some_and(|rest| rest.starts_with('.'));
        if matches {
            return match Date::parse(end) {
                Some(end) if today > end => Support::Ended(end),
                _ => Support::NotKnownEnded,
            };
        }
    }
    let v = numeric(version_id);
    let oldest = rows.iter().map(|(_, r, _)| numeric(r)).min();
    match oldest {
        Some(oldest) if !v.is_empty() && v < oldest => Support::Ancient,
        _ => Support::NotKnownEnded,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        let day = |s| Date::parse(s).unwrap();
        assert_eq!(support("debian", "10", day("2024-06-30")), Support::NotKnownEnded);
        assert_eq!(support("debian", "10", day("2024-07-01")), Support::Ended(day("2024-06-30")));
        assert_eq!(support("alpine", "3.16.9", day("2025-01-01")), Support::Ended(day("2024-05-23")));
        assert_eq!(support("alpine", "3.2", day("2025-01-01")), Support::Ancient);
        assert_eq!(support("alpine", "3.21.2", day("2025-01-01")), Support::NotKnownEnded);
        assert_eq!(support("debian", "13", day("2025-01-01")), Support::NotKnownEnded);
        assert_eq!(support("fedora", "20", day("2025-01-01")), Support::NotKnownEnded);
    }
}
