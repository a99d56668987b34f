//! Markdown for pull-request comments (GitHub and GitLab flavoured): a verdict line, a
//! table of counts per severity, the top findings (capped, with "and N more"), and
//! collapsible `<details>` sections for the rest of what a reviewer may want.
//!
//! Text from images and advisories is escaped: table cells cannot be broken by `|`,
//! inline HTML cannot be injected (`<` and `>` are entities), and line breaks are folded.

use std::fmt::Write as _;

use bulwark_core::report::{FixState, ScanReport, Vulnerability};

use crate::common::{self, SEVERITIES, fixed_text, layer_label, location_text, one_line, severity_word, vuln_target};

/// Rows shown in each findings table before "and N more".
pub const MAX_ROWS: usize = 20;

/// Escapes text for a Markdown table cell or paragraph.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in one_line(s).chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '|' => out.push_str("\\|"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '#' | '~' | '!' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// Inline code; backticks in the value are replaced, since Markdown cannot escape them
/// inside a code span.
fn code(s: &str) -> String {
    format!("`{}`", one_line(s).replace('`', "'").replace('|', "\\|"))
}

/// Writes the report as Markdown, with at most [`MAX_ROWS`] rows per table.
pub fn to_string(report: &ScanReport) -> String {
    render(report, MAX_ROWS)
}

/// [`to_string`] with a chosen row cap.
pub fn render(r: &ScanReport, max_rows: usize) -> String {
    let mut s = String::new();
    heading(&mut s, r);
    counts(&mut s, r);
    policy(&mut s, r, max_rows);
    let vulns = common::vulnerabilities(r);
    top_vulnerabilities(&mut s, r, &vulns, max_rows);
    details(&mut s, r, &vulns, max_rows);
    let _ = writeln!(s, "<sub>Bulwark {}</sub>", esc(&r.bulwark_version));
    s
}

/// The verdict line, the image's facts and what was not checked.
fn heading(s: &mut String, r: &ScanReport) {
    let image = code(&r.image.reference);
    match &r.policy {
        Some(p) if p.passed => {
            let w = p.warnings().count();
            let _ = write!(*s, "### ✅ Bulwark: {image} passed policy {}", esc(&p.policy));
            if w > 0 {
                let _ = write!(*s, " with {w} warning{}", if w == 1 { "" } else { "s" });
            }
            s.push('\n');
        }
        Some(p) => {
            let f = p.failures().count();
            let _ = writeln!(
                s,
                "### ❌ Bulwark: {image} failed policy {} ({f} rule{} violated)",
                esc(&p.policy),
                if f == 1 { "" } else { "s" }
            );
        }
        None => {
            let _ = writeln!(*s, "### Bulwark scan of {image}");
        }
    }
    s.push('\n');
    let mut facts = Vec::new();
    if let Some(d) = r.image.manifest_digest.as_ref().or(r.image.config_digest.as_ref()) {
        facts.push(format!("digest {}", code(&d.to_string())));
    }
    if let Some(os) = &r.os {
        facts.push(format!("OS {}", esc(os.pretty_name.as_deref().unwrap_or(&os.id))));
    }
    match &r.database {
        Some(db) => facts.push(format!("advisory database built {}", esc(&db.built_at))),
        None => facts.push("**no advisory database: vulnerabilities not checked**".into()),
    }
    let _ = writeln!(*s, "{}\n", facts.join(" · "));
    if !r.not_checked.is_empty() {
        s.push_str("**Not checked:**\n\n");
        for n in &r.not_checked {
            let _ = writeln!(*s, "- {} ({}): {}", esc(&n.scanner), n.reason.code(), esc(&n.message));
        }
        s.push('\n');
    }
}

/// Findings per severity and kind.
fn counts(s: &mut String, r: &ScanReport) {
    // Counts.
    let c = common::vuln_counts(r);
    let per_kind = |sev| {
        let m = r.malware.iter().filter(|x| x.severity == sev).count();
        let k = r.secrets.iter().filter(|x| x.severity == sev).count();
        let g = r.misconfigurations.iter().filter(|x| x.severity == sev).count();
        (m, k, g)
    };
    s.push_str("| severity | vulnerabilities | fixable | malware | secrets | misconfigurations |\n");
    s.push_str("|---|---:|---:|---:|---:|---:|\n");
    for (i, sev) in SEVERITIES.iter().enumerate() {
        let (m, k, g) = per_kind(*sev);
        if c.total[i] + m + k + g == 0 {
            continue;
        }
        let _ = writeln!(*s, "| {} | {} | {} | {m} | {k} | {g} |", severity_word(*sev), c.total[i], c.fixable[i]);
    }
    let _ = writeln!(
        s,
        "| **total** | **{}** | **{}** | **{}** | **{}** | **{}** |\n",
        r.vulnerabilities.len(),
        c.fixable.iter().sum::<usize>(),
        r.malware.len(),
        r.secrets.len(),
        r.misconfigurations.len()
    );
}

/// The rules that failed or warned, with their violations, and exceptions that did not apply.
fn policy(s: &mut String, r: &ScanReport, max_rows: usize) {
    // Policy.
    if let Some(p) = &r.policy {
        for rule in p.failures().chain(p.warnings()) {
            let mark = if rule.action == bulwark_core::report::PolicyAction::Deny { "❌" } else { "⚠️" };
            let _ =
                writeln!(*s, "- {mark} {} — {} ({})", code(&rule.id), esc(&rule.description), rule.violations.len());
            // A violation's message names the finding (id, package or path) itself.
            for v in rule.violations.iter().take(max_rows) {
                let _ = writeln!(*s, "  - {}", esc(&v.message));
            }
            if rule.violations.len() > max_rows {
                let _ = writeln!(*s, "  - … and {} more", rule.violations.len() - max_rows);
            }
        }
        for e in &p.exceptions {
            let what = match e.status {
                bulwark_core::report::ExceptionStatus::Applied => continue,
                bulwark_core::report::ExceptionStatus::Expired => "expired",
                bulwark_core::report::ExceptionStatus::Unused => "matched nothing",
            };
            let _ =
                writeln!(*s, "- ⏰ exception {} ({}) {what} (expires {})", code(&e.id), esc(&e.owner), esc(&e.expires));
        }
        s.push('\n');
    }
}

/// The first `max_rows` vulnerabilities, most severe first.
fn top_vulnerabilities(s: &mut String, r: &ScanReport, vulns: &[&Vulnerability], max_rows: usize) {
    // Top vulnerabilities.
    if !vulns.is_empty() {
        s.push_str("#### Top vulnerabilities\n\n");
        s.push_str("| severity | id | package | installed | fixed | layer | |\n|---|---|---|---|---|---|---|\n");
        for v in vulns.iter().take(max_rows) {
            let mut flags = Vec::new();
            if v.kev {
                flags.push("KEV".to_owned());
            }
            if let Some((p, _)) = v.epss {
                flags.push(format!("EPSS {:.0}%", p * 100.0));
            }
            let fixed = if v.state == FixState::Fixed { code(&fixed_text(v)) } else { esc(&fixed_text(v)) };
            let _ = writeln!(
                s,
                "| {} | [{}]({}) | {} | {} | {fixed} | {} | {} |",
                severity_word(v.severity),
                esc(&v.id),
                crate::sarif::advisory_url(&v.id),
                esc(&v.package.name),
                code(&v.package.version),
                v.package.layer.map(|l| esc(&common::truncate(&layer_label(r, l), 60))).unwrap_or_default(),
                flags.join(" ")
            );
        }
        if vulns.len() > max_rows {
            let _ = writeln!(*s, "\n… and {} more", vulns.len() - max_rows);
        }
        s.push('\n');
    }
}

/// Collapsed lists of every finding kind, suppressions and layers.
fn details(s: &mut String, r: &ScanReport, vulns: &[&Vulnerability], max_rows: usize) {
    // Details.
    let mut section = |title: String, body: String| {
        if !body.is_empty() {
            let _ = write!(*s, "<details><summary>{title}</summary>\n\n{body}\n</details>\n\n");
        }
    };
    let list = |lines: Vec<String>| -> String {
        let n = lines.len();
        let mut b: String = lines.iter().take(max_rows).map(|l| format!("- {l}\n")).collect();
        if n > max_rows {
            let _ = writeln!(b, "- … and {} more", n - max_rows);
        }
        b
    };
    section(
        format!("Malware ({})", r.malware.len()),
        list(
            common::malware(r)
                .iter()
                .map(|m| {
                    format!(
                        "**{}** {} in {}",
                        severity_word(m.severity),
                        code(&m.rule),
                        code(&location_text(&m.location))
                    )
                })
                .collect(),
        ),
    );
    section(
        format!("Secrets ({})", r.secrets.len()),
        list(
            common::secrets(r)
                .iter()
                .map(|x| {
                    format!(
                        "**{}** {} in {}: {}",
                        severity_word(x.severity),
                        code(&x.rule),
                        code(&location_text(&x.location)),
                        code(&x.preview)
                    )
                })
                .collect(),
        ),
    );
    section(
        format!("Misconfigurations ({})", r.misconfigurations.len()),
        list(
            common::misconfigurations(r)
                .iter()
                .map(|c| {
                    format!("**{}** {} {}: {}", severity_word(c.severity), code(&c.id), esc(&c.title), esc(&c.message))
                })
                .collect(),
        ),
    );
    section(
        format!("All vulnerabilities by package ({})", r.vulnerabilities.len()),
        list(
            vulns
                .iter()
                .map(|v| {
                    format!(
                        "{} {} {} → {}",
                        code(&vuln_target(v)),
                        esc(&v.id),
                        severity_word(v.severity),
                        esc(&fixed_text(v))
                    )
                })
                .collect(),
        ),
    );
    section(
        format!("Suppressed ({})", r.suppressed.len()),
        list(
            r.suppressed
                .iter()
                .map(|x| {
                    format!(
                        "{} {} by {}: {}",
                        esc(&x.vulnerability.id),
                        code(&vuln_target(&x.vulnerability)),
                        code(&x.by),
                        esc(&x.justification)
                    )
                })
                .collect(),
        ),
    );
    section(
        format!("Layers ({})", r.layers.len()),
        list(r.layers.iter().map(|l| code(&layer_label(r, l.index))).collect()),
    );
}
