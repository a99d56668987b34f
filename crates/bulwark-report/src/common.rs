//! Helpers every human- and CI-facing format shares: severity words and scores, the
//! findings in one stable order, layer labels, escaping and truncation.

use std::cmp::Reverse;

use bulwark_core::report::{
    ConfigFinding, FileLocation, FindingKind, FixState, MalwareFinding, PolicyAction, ScanReport, SecretFinding,
    Severity, Vulnerability,
};

/// Every severity, worst first.
pub(crate) const SEVERITIES: [Severity; 5] =
    [Severity::Critical, Severity::High, Severity::Medium, Severity::Low, Severity::Unknown];

/// `critical`, `high`, …
pub(crate) fn severity_word(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "critical",
        Severity::High => "high",
        Severity::Medium => "medium",
        Severity::Low => "low",
        Severity::Unknown => "unknown",
    }
}

/// `CRITICAL`, `HIGH`, …
pub(crate) fn severity_upper(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "CRITICAL",
        Severity::High => "HIGH",
        Severity::Medium => "MEDIUM",
        Severity::Low => "LOW",
        Severity::Unknown => "UNKNOWN",
    }
}

/// A 0–10 score for a severity word without a CVSS score. The values sit inside GitHub's
/// bands (critical ≥ 9.0, high 7.0–8.9, medium 4.0–6.9, low 0.1–3.9) so a finding lands in
/// the band its word names. `None` for unknown: no number is better than an invented one.
pub(crate) fn severity_score(s: Severity) -> Option<f64> {
    match s {
        Severity::Critical => Some(9.5),
        Severity::High => Some(8.0),
        Severity::Medium => Some(5.5),
        Severity::Low => Some(2.0),
        Severity::Unknown => None,
    }
}

/// The vulnerabilities worst first, then by id, package, version and purl; suppressed ones
/// are not here.
pub(crate) fn vulnerabilities(r: &ScanReport) -> Vec<&Vulnerability> {
    let mut v: Vec<&Vulnerability> = r.vulnerabilities.iter().collect();
    v.sort_by(|a, b| {
        (Reverse(a.severity), &a.id, &a.package.name, &a.package.version, &a.package.purl, &a.package.locations).cmp(&(
            Reverse(b.severity),
            &b.id,
            &b.package.name,
            &b.package.version,
            &b.package.purl,
            &b.package.locations,
        ))
    });
    v
}

pub(crate) fn malware(r: &ScanReport) -> Vec<&MalwareFinding> {
    let mut v: Vec<&MalwareFinding> = r.malware.iter().collect();
    v.sort_by(|a, b| (Reverse(a.severity), &a.location, &a.rule).cmp(&(Reverse(b.severity), &b.location, &b.rule)));
    v
}

pub(crate) fn secrets(r: &ScanReport) -> Vec<&SecretFinding> {
    let mut v: Vec<&SecretFinding> = r.secrets.iter().collect();
    v.sort_by(|a, b| {
        (Reverse(a.severity), &a.location, &a.rule, &a.fingerprint).cmp(&(
            Reverse(b.severity),
            &b.location,
            &b.rule,
            &b.fingerprint,
        ))
    });
    v
}

pub(crate) fn misconfigurations(r: &ScanReport) -> Vec<&ConfigFinding> {
    let mut v: Vec<&ConfigFinding> = r.misconfigurations.iter().collect();
    v.sort_by(|a, b| {
        (Reverse(a.severity), &a.id, &a.location, &a.message).cmp(&(
            Reverse(b.severity),
            &b.id,
            &b.location,
            &b.message,
        ))
    });
    v
}

/// `fixed 1.2.3`, `no fix yet`, `won't fix`.
pub(crate) fn fixed_text(v: &Vulnerability) -> String {
    match v.state {
        FixState::Fixed => v.fixed_versions.first().cloned().unwrap_or_else(|| "fixed".to_owned()),
        FixState::NotFixed => "no fix yet".to_owned(),
        FixState::WontFix => "won't fix".to_owned(),
    }
}

/// `package@version`, the target a policy violation names for a vulnerability.
pub(crate) fn vuln_target(v: &Vulnerability) -> String {
    format!("{}@{}", v.package.name, v.package.version)
}

/// Counts per severity, in [`SEVERITIES`] order: (all, fixable).
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Counts {
    pub total: [usize; 5],
    pub fixable: [usize; 5],
}

pub(crate) fn sev_index(s: Severity) -> usize {
    SEVERITIES.iter().position(|x| *x == s).unwrap_or(4)
}

pub(crate) fn vuln_counts(r: &ScanReport) -> Counts {
    let mut c = Counts::default();
    for v in &r.vulnerabilities {
        c.total[sev_index(v.severity)] += 1;
        if v.state == FixState::Fixed {
            c.fixable[sev_index(v.severity)] += 1;
        }
    }
    c
}

/// Counts per severity of every finding kind together (no fixable split).
pub(crate) fn all_counts(r: &ScanReport) -> [usize; 5] {
    let mut c = vuln_counts(r).total;
    for s in r
        .malware
        .iter()
        .map(|m| m.severity)
        .chain(r.secrets.iter().map(|s| s.severity))
        .chain(r.misconfigurations.iter().map(|m| m.severity))
    {
        c[sev_index(s)] += 1;
    }
    c
}

/// `#1 3f2a9c0d1b2e RUN pip install …` — index, short digest and the history step.
pub(crate) fn layer_label(r: &ScanReport, index: usize) -> String {
    match r.layers.iter().find(|l| l.index == index) {
        Some(l) => {
            let digest = l.digest.as_ref().unwrap_or(&l.diff_id);
            let mut s = format!("#{index} {}", short_hex(digest));
            if let Some(c) = l.created_by.as_deref().map(clean_step).filter(|c| !c.is_empty()) {
                s.push(' ');
                s.push_str(&c);
            }
            s
        }
        None => format!("#{index}"),
    }
}

/// The first 12 hex digits of a digest.
pub(crate) fn short_hex(d: &bulwark_core::Digest) -> &str {
    let h = d.hex();
    &h[..h.len().min(12)]
}

/// A history step on one line: Docker's `/bin/sh -c #(nop) ` prefix dropped, whitespace
/// (including newlines from heredocs) collapsed, control characters removed.
pub(crate) fn clean_step(s: &str) -> String {
    let s = s.trim();
    let s = s.strip_prefix("/bin/sh -c ").unwrap_or(s);
    let s = s.strip_prefix("#(nop) ").unwrap_or(s).trim_start();
    // BuildKit records `RUN /bin/sh -c cmd # buildkit`.
    let s = s.strip_suffix("# buildkit").unwrap_or(s).trim_end();
    let line = one_line(s);
    match line.strip_prefix("RUN /bin/sh -c ") {
        Some(rest) => format!("RUN {rest}"),
        None => line,
    }
}

/// Whitespace runs (newlines, tabs) become one space; every other character a terminal
/// would act on (escape sequences, C1 controls, bidi overrides) is made visible by
/// [`bulwark_core::term::escape`], the one sanitiser for terminal text.
pub(crate) fn one_line(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut space = false;
    for c in s.chars() {
        if c.is_whitespace() {
            space = true;
        } else {
            if space && !out.is_empty() {
                out.push(' ');
            }
            space = false;
            out.push(c);
        }
    }
    bulwark_core::term::escape(&out).into_owned()
}

/// At most `max` characters, the last being `…` when something was cut.
pub(crate) fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    if max == 0 {
        return String::new();
    }
    let mut out: String = s.chars().take(max - 1).collect();
    out.push('…');
    out
}

/// A location as text: `/etc/x:12 (layer 1, removed in 2)`.
pub(crate) fn location_text(l: &FileLocation) -> String {
    let mut s = l.path.clone();
    if let Some(line) = l.line {
        s.push_str(&format!(":{line}"));
    }
    match (l.layer, l.removed_in) {
        (Some(a), Some(b)) => s.push_str(&format!(" (layer {a}, removed in {b})")),
        (Some(a), None) => s.push_str(&format!(" (layer {a})")),
        (None, Some(b)) => s.push_str(&format!(" (removed in {b})")),
        (None, None) => {}
    }
    s
}

/// Escapes text for XML and HTML content and attribute values. Characters XML 1.0 does
/// not allow at all (most C0 controls, lone surrogates cannot occur in `str`, U+FFFE/FFFF)
/// are replaced by U+FFFD: a hostile file name must not make the document unparsable.
pub(crate) fn escape_xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// Whether a finding of this kind, id and target is named by a violated `deny` rule.
pub(crate) fn denied(r: &ScanReport, kind: FindingKind, id: &str, target: Option<&str>) -> bool {
    violated(r, kind, id, target, PolicyAction::Deny)
}

/// Whether a finding is named by a violated rule with this action.
pub(crate) fn violated(
    r: &ScanReport,
    kind: FindingKind,
    id: &str,
    target: Option<&str>,
    action: PolicyAction,
) -> bool {
    let Some(p) = &r.policy else { return false };
    p.rules.iter().filter(|rule| !rule.passed && rule.action == action).any(|rule| {
        rule.violations.iter().any(|v| {
            v.kind == kind && v.id == id && (v.target.is_none() || target.is_none() || v.target.as_deref() == target)
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_counts_characters() {
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate("äöü", 3), "äöü");
        assert_eq!(truncate("äöüß", 3), "äö…");
        assert_eq!(truncate("x", 0), "");
    }

    #[test]
    fn steps_are_one_line() {
        assert_eq!(clean_step("/bin/sh -c #(nop)  CMD [\"sh\"]"), "CMD [\"sh\"]");
        assert_eq!(clean_step("RUN /bin/sh -c apt-get update # buildkit"), "RUN apt-get update");
        assert_eq!(clean_step("RUN a \\\n\t&& b\u{1b}[31m\u{202e}"), "RUN a \\ && b\\e[31m\\u{202e}");
    }

    #[test]
    fn xml_escaping() {
        assert_eq!(escape_xml("<a href=\"x\">&'\u{1}"), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;\u{FFFD}");
    }
}
