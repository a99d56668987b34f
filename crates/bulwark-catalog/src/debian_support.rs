//! Debian's lists of source packages whose security support ended early or is limited,
//! from the `debian-security-support` package (`security-support-ended.deb<N>`,
//! `security-support-limited`). The caller supplies the files' bytes.
//!
//! Package names in these lists may be patterns (`php-horde.*`, `node-.*`, `golang.*`):
//! the only pattern syntax used is a trailing `.*`, matched here as a prefix. Version
//! comparison ("is the installed version at or below the last supported one") is dpkg
//! ordering and belongs to the matcher; this module only finds the entries that apply.

/// One line of a `security-support-ended` list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndedEntry {
    /// Source package name or pattern.
    pub source: String,
    /// The last version that had support; `0` means every version.
    pub last_version: String,
    /// When support ended or ends (`YYYY-mm-dd`).
    pub date: Option<String>,
    pub details: Option<String>,
}

/// One line of the `security-support-limited` list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitedEntry {
    pub source: String,
    pub details: Option<String>,
}

/// How Debian's security team supports one source package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SupportFlag<'a> {
    /// Support ended (for versions up to `last_version`).
    Ended(&'a EndedEntry),
    /// Support is limited (e.g. only for trusted input).
    Limited(&'a LimitedEntry),
}

/// The lists for one Debian release.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SupportLists {
    pub ended: Vec<EndedEntry>,
    pub limited: Vec<LimitedEntry>,
}

fn data_lines(bytes: &[u8]) -> impl Iterator<Item = String> + '_ {
    String::from_utf8_lossy(bytes)
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect::<Vec<_>>()
        .into_iter()
}

/// Splits off the first whitespace-separated column.
fn column(s: &str) -> (&str, &str) {
    let s = s.trim_start();
    match s.find(char::is_whitespace) {
        Some(i) => (&s[..i], s[i..].trim_start()),
        None => (s, ""),
    }
}

/// Parses a `security-support-ended[.debN]` file: `source last-version date [details]`.
pub fn parse_ended(bytes: &[u8]) -> (Vec<EndedEntry>, Vec<crate::Warning>) {
    let mut entries = Vec::new();
    let mut warnings = Vec::new();
    for line in data_lines(bytes) {
        let (source, rest) = column(&line);
        let (version, rest) = column(rest);
        if version.is_empty() {
            warnings.push(crate::Warning::package(
                "security-support-ended",
                format!("line without a version: {}", crate::excerpt(&line)),
            ));
            continue;
        }
        let (date, details) = column(rest);
        let is_date = date.len() == 10 && date.as_bytes()[4] == b'-' && date.as_bytes()[7] == b'-';
        let (date, details) = if is_date { (Some(date), details) } else { (None, rest) };
        entries.push(EndedEntry {
            source: source.to_owned(),
            last_version: version.to_owned(),
            date: date.map(str::to_owned),
            details: Some(details.trim().to_owned()).filter(|d| !d.is_empty()),
        });
    }
    (entries, warnings)
}

/// Parses `security-support-limited`: `source [details]`.
pub fn parse_limited(bytes: &[u8]) -> Vec<LimitedEntry> {
    data_lines(bytes)
        .map(|line| {
            let (source, details) = column(&line);
            LimitedEntry { source: source.to_owned(), details: Some(details.to_owned()).filter(|d| !d.is_empty()) }
        })
        .collect()
}

fn name_matches(pattern: &str, name: &str) -> bool {
    match pattern.strip_suffix(".*") {
        Some(prefix) => name.starts_with(prefix),
        None => pattern == name,
    }
}

impl SupportLists {
    /// Reads the lists for a release from the two files' bytes.
    pub fn parse(ended: &[u8], limited: &[u8]) -> (Self, Vec<crate::Warning>) {
        let (ended, warnings) = parse_ended(ended);
        (SupportLists { ended, limited: parse_limited(limited) }, warnings)
    }

    /// Every entry that names this source package.
    pub fn flags_for(&self, source_name: &str) -> Vec<SupportFlag<'_>> {
        let ended = self.ended.iter().filter(|e| name_matches(&e.source, source_name)).map(SupportFlag::Ended);
        let limited = self.limited.iter().filter(|e| name_matches(&e.source, source_name)).map(SupportFlag::Limited);
        ended.chain(limited).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_and_patterns() {
        let (lists, w) = SupportLists::parse(
            b"# c\nphp-horde.*\t0\t\t\t2025-03-22\thttps://x; y\nxen  4.11  2021-08-28\nbroken\n",
            b"binutils        Only suitable for trusted content\nvte\n",
        );
        assert_eq!(w.len(), 1);
        assert_eq!(lists.ended.len(), 2);
        assert_eq!(lists.ended[0].details.as_deref(), Some("https://x; y"));
        assert_eq!(lists.ended[1].details, None);
        assert_eq!(lists.flags_for("php-horde-core").len(), 1);
        assert!(lists.flags_for("php-hord").is_empty());
        assert!(matches!(lists.flags_for("binutils")[..], [SupportFlag::Limited(_)]));
        assert_eq!(lists.limited[1].details, None);
    }
}
