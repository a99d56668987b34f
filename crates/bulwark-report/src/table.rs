//! The terminal table `bulwark scan` prints: a header (image, digest, OS, database age),
//! the layers with their history steps, vulnerabilities grouped by severity (package,
//! installed and fixed version, layer, KEV/EPSS markers, title), malware, secrets and
//! misconfigurations, the policy verdict with each violated rule's findings, and a summary
//! line with counts per severity and how many have a fix.
//!
//! Every line fits [`TableOptions::width`] (counted in characters; cut text ends in `…`):
//! columns take their natural width, and when a table is too wide the least important
//! columns (title, layer, package) give way first. ANSI colour is used only when
//! [`TableOptions::color`] is set; the caller decides (TTY, `NO_COLOR`).

use std::fmt::Write as _;

use bulwark_core::report::{ExceptionStatus, FixState, ScanReport, Severity};

use crate::common::{
    self, SEVERITIES, clean_step, fixed_text, layer_label, location_text, one_line, severity_upper, severity_word,
    short_hex, truncate,
};

/// How to render the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableOptions {
    /// Terminal width in characters; at least 40 is assumed.
    pub width: usize,
    /// Use ANSI colours.
    pub color: bool,
    /// "Now" as Unix seconds, to say how old the advisory database is; `None` leaves the
    /// age out (and keeps the output reproducible).
    pub now_unix: Option<i64>,
    /// At most this many rows per section (and violations per rule), then "… and N more".
    pub max_rows: Option<usize>,
}

impl Default for TableOptions {
    fn default() -> Self {
        TableOptions { width: 100, color: false, now_unix: None, max_rows: None }
    }
}

const RESET: &str = "\x1b[0m";
const BOLD: &str = "\x1b[1m";
const DIM: &str = "\x1b[2m";
const RED: &str = "\x1b[31m";
const GREEN: &str = "\x1b[32m";
const YELLOW: &str = "\x1b[33m";

fn sev_color(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "\x1b[1;31m",
        Severity::High => "\x1b[31m",
        Severity::Medium => "\x1b[33m",
        Severity::Low => "\x1b[36m",
        Severity::Unknown => "\x1b[2m",
    }
}

struct Out<'a> {
    buf: String,
    opt: &'a TableOptions,
    width: usize,
}

impl Out<'_> {
    /// Writes one line, cut to the width, painted when colour is on. Whatever came from the
    /// image is made terminal-safe by the one sanitiser (cells already are, by `one_line`).
    fn line(&mut self, text: &str, paint: Option<&str>) {
        let t = truncate(&bulwark_core::term::escape(text), self.width);
        match paint.filter(|_| self.opt.color) {
            Some(p) => {
                let _ = writeln!(self.buf, "{p}{t}{RESET}");
            }
            None => {
                let _ = writeln!(self.buf, "{}", t.trim_end());
            }
        }
    }

    fn blank(&mut self) {
        self.buf.push('\n');
    }

    fn paint(&self, text: &str, p: &str) -> String {
        if self.opt.color { format!("{p}{text}{RESET}") } else { text.to_owned() }
    }

    fn heading(&mut self, text: &str) {
        self.blank();
        self.line(text, Some(BOLD));
    }
}

/// A column: header, how far it may shrink, and in which order columns give way (lower
/// gives way first).
struct Col {
    head: &'static str,
    min: usize,
    give: u8,
}

/// A group of rows: an optional heading with its colour, the rows, and how many more rows
/// were left out.
type Group = (Option<(String, &'static str)>, Vec<Vec<String>>, usize);

/// A table whose rows are grouped; each group has an optional heading line.
struct Grid {
    cols: Vec<Col>,
    groups: Vec<Group>,
    /// A second, indented line per row (same order as the rows of all groups), if any.
    details: Vec<String>,
}

impl Grid {
    fn new(cols: Vec<Col>) -> Grid {
        Grid { cols, groups: Vec::new(), details: Vec::new() }
    }

    /// Column widths that fit `width` (two spaces of indent, two between columns).
    fn widths(&self, width: usize) -> Vec<usize> {
        let mut w: Vec<usize> = self.cols.iter().map(|c| c.head.chars().count()).collect();
        for (_, rows, _) in &self.groups {
            for row in rows {
                for (i, cell) in row.iter().enumerate() {
                    w[i] = w[i].max(cell.chars().count());
                }
            }
        }
        let gaps = 2 + 2 * (self.cols.len().saturating_sub(1));
        let mut order: Vec<usize> = (0..self.cols.len()).collect();
        order.sort_by_key(|&i| self.cols[i].give);
        for i in order {
            let total: usize = w.iter().sum::<usize>() + gaps;
            if total <= width {
                break;
            }
            let min = self.cols[i].min.min(w[i]);
            w[i] = w[i].saturating_sub(total - width).max(min);
        }
        w
    }

    fn render(&self, out: &mut Out<'_>, cell_paint: &dyn Fn(usize, &str) -> Option<&'static str>) {
        let w = self.widths(out.width);
        let last = w.len() - 1;
        let fmt_row = |cells: &[String], out: &Out<'_>, paint: bool| -> String {
            let mut s = String::from("  ");
            for (i, cell) in cells.iter().enumerate() {
                let t = truncate(cell, w[i]);
                let pad = if i == last { 0 } else { w[i] - t.chars().count() };
                let p = if paint { cell_paint(i, cell) } else { None };
                match p {
                    Some(p) => s.push_str(&out.paint(&t, p)),
                    None => s.push_str(&t),
                }
                if i != last {
                    s.push_str(&" ".repeat(pad + 2));
                }
            }
            s.trim_end().to_owned()
        };
        let header: Vec<String> = self.cols.iter().map(|c| c.head.to_owned()).collect();
        let head = fmt_row(&header, out, false);
        out.line(&head, Some(DIM));
        let mut details = self.details.iter();
        for (title, rows, more) in &self.groups {
            if let Some((t, p)) = title {
                out.line(t, Some(p));
            }
            for row in rows {
                let line = fmt_row(row, out, true);
                // Cells were cut to their widths already; the colour codes must not count.
                let _ = writeln!(out.buf, "{line}");
                if let Some(d) = details.next().filter(|d| !d.is_empty()) {
                    out.line(&format!("      {d}"), Some(DIM));
                }
            }
            if *more > 0 {
                out.line(&format!("  … and {more} more"), Some(DIM));
            }
        }
    }
}

fn cap<T>(items: Vec<T>, max: Option<usize>) -> (Vec<T>, usize) {
    match max {
        Some(m) if items.len() > m => {
            let more = items.len() - m;
            (items.into_iter().take(m).collect(), more)
        }
        _ => (items, 0),
    }
}

fn age(seconds: i64) -> String {
    let s = seconds.max(0);
    match s {
        s if s < 3600 => format!("{} minutes old", s / 60),
        s if s < 2 * 86_400 => format!("{} hours old", s / 3600),
        s => format!("{} days old", s / 86_400),
    }
}

/// Renders the report for a terminal.
pub fn render(report: &ScanReport, opt: &TableOptions) -> String {
    let mut out = Out { buf: String::new(), opt, width: opt.width.max(40) };
    header(report, &mut out);
    layers(report, &mut out);
    vulnerabilities(report, &mut out);
    malware(report, &mut out);
    secrets(report, &mut out);
    misconfigurations(report, &mut out);
    policy(report, &mut out);
    summary(report, &mut out);
    out.buf
}

fn header(r: &ScanReport, out: &mut Out<'_>) {
    out.line(&format!("Image     {}", r.image.reference), Some(BOLD));
    if let Some(d) = r.image.manifest_digest.as_ref().or(r.image.config_digest.as_ref()) {
        out.line(&format!("Digest    {d}"), None);
    }
    let mut plat = Vec::new();
    if let Some(p) = &r.image.platform {
        plat.push(p.to_string());
    }
    if let Some(c) = r.image.created.as_deref() {
        plat.push(format!("created {}", crate::time::normalise(c).unwrap_or_else(|| one_line(c))));
    }
    if !plat.is_empty() {
        out.line(&format!("Platform  {}", plat.join(", ")), None);
    }
    let os = match &r.os {
        Some(os) => {
            let name = os.pretty_name.clone().unwrap_or_else(|| {
                format!("{} {}", os.id, os.version_id.as_deref().unwrap_or("")).trim_end().to_owned()
            });
            match &os.osv_ecosystem {
                Some(e) => format!("{} ({e})", one_line(&name)),
                None => one_line(&name),
            }
        }
        None => "unknown (no os-release)".to_owned(),
    };
    out.line(&format!("OS        {os}"), None);
    match &r.database {
        Some(db) => {
            let when = crate::time::normalise(&db.built_at).unwrap_or_else(|| db.built_at.clone());
            let a = opt_age(out.opt.now_unix, &db.built_at).map(|a| format!(", {a}")).unwrap_or_default();
            out.line(&format!("Database  built {when}{a}"), None);
        }
        None => out.line("Database  none: vulnerabilities not checked", Some(YELLOW)),
    }
    if !r.scanners.is_empty() {
        out.line(&format!("Scanners  {}", r.scanners.join(", ")), None);
    }
    for n in &r.not_checked {
        out.line(&format!("Not checked  {}: {}", n.scanner, one_line(&n.message)), Some(YELLOW));
    }
}

fn opt_age(now: Option<i64>, built_at: &str) -> Option<String> {
    Some(age(now? - crate::time::unix_seconds(built_at)?))
}

fn layers(r: &ScanReport, out: &mut Out<'_>) {
    if r.layers.is_empty() {
        return;
    }
    out.heading(&format!("Layers ({})", r.layers.len()));
    let mut g = Grid::new(vec![
        Col { head: "#", min: 1, give: 9 },
        Col { head: "DIGEST", min: 12, give: 8 },
        Col { head: "PKGS", min: 4, give: 7 },
        Col { head: "VULNS", min: 5, give: 7 },
        Col { head: "CREATED BY", min: 10, give: 0 },
    ]);
    let rows = r
        .layers
        .iter()
        .map(|l| {
            let pkgs = r.packages.iter().filter(|p| p.layer == Some(l.index)).count();
            let vulns = r.vulnerabilities.iter().filter(|v| v.package.layer == Some(l.index)).count();
            vec![
                l.index.to_string(),
                short_hex(l.digest.as_ref().unwrap_or(&l.diff_id)).to_owned(),
                pkgs.to_string(),
                vulns.to_string(),
                l.created_by.as_deref().map(clean_step).unwrap_or_default(),
            ]
        })
        .collect();
    g.groups.push((None, rows, 0));
    g.render(out, &|_, _| None);
}

fn vulnerabilities(r: &ScanReport, out: &mut Out<'_>) {
    if r.database.is_none() && r.vulnerabilities.is_empty() {
        return;
    }
    let counts = common::vuln_counts(r);
    out.heading(&format!("Vulnerabilities ({})", r.vulnerabilities.len()));
    if r.vulnerabilities.is_empty() {
        out.line("  none found", Some(GREEN));
        return;
    }
    // Wide terminals get one row per finding; narrower ones move the layer and title to a
    // second line so that versions and markers stay readable.
    let wide = out.width >= 160;
    let mut cols = vec![
        Col { head: "ID", min: 13, give: 6 },
        Col { head: "PACKAGE", min: 10, give: 4 },
        Col { head: "INSTALLED", min: 8, give: 3 },
        Col { head: "FIXED", min: 8, give: 3 },
        Col { head: "FLAGS", min: 12, give: 5 },
    ];
    if wide {
        cols.push(Col { head: "LAYER", min: 3, give: 1 });
        cols.push(Col { head: "TITLE", min: 12, give: 2 });
    }
    let mut g = Grid::new(cols);
    let all = common::vulnerabilities(r);
    let mut details = Vec::new();
    for sev in SEVERITIES {
        let of: Vec<_> = all.iter().filter(|v| v.severity == sev).collect();
        if of.is_empty() {
            continue;
        }
        let i = common::sev_index(sev);
        let title = format!("{} ({}, {} fixable)", severity_upper(sev), counts.total[i], counts.fixable[i]);
        let (of, more) = cap(of, out.opt.max_rows);
        let rows = of
            .iter()
            .map(|v| {
                let mut flags = Vec::new();
                if v.kev {
                    flags.push("KEV".to_owned());
                }
                if let Some((p, _)) = v.epss {
                    flags.push(format!("EPSS {:.0}%", p * 100.0));
                }
                let fixed = match v.state {
                    FixState::Fixed => format!("→ {}", fixed_text(v)),
                    _ => format!("({})", fixed_text(v)),
                };
                let layer = v.package.layer.map(|l| truncate(&layer_label(r, l), 48)).unwrap_or_else(|| "-".into());
                let title = v.title.as_deref().map(one_line).unwrap_or_default();
                let mut row = vec![
                    v.id.clone(),
                    one_line(&v.package.name),
                    one_line(&v.package.version),
                    one_line(&fixed),
                    flags.join(" "),
                ];
                if wide {
                    row.push(layer);
                    row.push(title);
                } else {
                    let layer = v.package.layer.map(|l| layer_label(r, l)).unwrap_or_else(|| "-".into());
                    details.push(if title.is_empty() {
                        format!("layer {layer}")
                    } else {
                        format!("{title} · layer {layer}")
                    });
                }
                row
            })
            .collect::<Vec<_>>();
        g.groups.push((Some((title, sev_color(sev))), rows, more));
    }
    g.details = details;
    g.render(out, &|col, cell| match col {
        4 if cell.contains("KEV") => Some(RED),
        3 if cell.starts_with('→') => Some(GREEN),
        _ => None,
    });
}

fn sev_cell(col: usize) -> impl Fn(usize, &str) -> Option<&'static str> {
    move |c, cell| {
        if c != col {
            return None;
        }
        SEVERITIES.iter().find(|s| severity_upper(**s) == cell).map(|s| sev_color(*s))
    }
}

fn malware(r: &ScanReport, out: &mut Out<'_>) {
    if r.malware.is_empty() {
        return;
    }
    out.heading(&format!("Malware ({})", r.malware.len()));
    let mut g = Grid::new(vec![
        Col { head: "SEVERITY", min: 8, give: 9 },
        Col { head: "RULE", min: 10, give: 3 },
        Col { head: "FILE", min: 16, give: 2 },
        Col { head: "LAYER", min: 2, give: 1 },
        Col { head: "TITLE", min: 0, give: 0 },
    ]);
    let (items, more) = cap(common::malware(r), out.opt.max_rows);
    let rows = items
        .iter()
        .map(|m| {
            vec![
                severity_upper(m.severity).to_owned(),
                one_line(&m.rule),
                one_line(&location_text(&m.location)),
                m.location.layer.map(|l| layer_label(r, l)).unwrap_or_else(|| "-".into()),
                one_line(&m.title),
            ]
        })
        .collect();
    g.groups.push((None, rows, more));
    g.render(out, &sev_cell(0));
}

fn secrets(r: &ScanReport, out: &mut Out<'_>) {
    if r.secrets.is_empty() {
        return;
    }
    out.heading(&format!("Secrets ({})", r.secrets.len()));
    let mut g = Grid::new(vec![
        Col { head: "SEVERITY", min: 8, give: 9 },
        Col { head: "RULE", min: 10, give: 3 },
        Col { head: "LOCATION", min: 16, give: 2 },
        Col { head: "LAYER", min: 2, give: 1 },
        Col { head: "MATCH", min: 0, give: 0 },
    ]);
    let (items, more) = cap(common::secrets(r), out.opt.max_rows);
    let rows = items
        .iter()
        .map(|s| {
            vec![
                severity_upper(s.severity).to_owned(),
                one_line(&s.rule),
                one_line(&location_text(&s.location)),
                s.location.layer.map(|l| layer_label(r, l)).unwrap_or_else(|| "config".into()),
                one_line(&s.preview),
            ]
        })
        .collect();
    g.groups.push((None, rows, more));
    g.render(out, &sev_cell(0));
}

fn misconfigurations(r: &ScanReport, out: &mut Out<'_>) {
    if r.misconfigurations.is_empty() {
        return;
    }
    out.heading(&format!("Misconfigurations ({})", r.misconfigurations.len()));
    let mut g = Grid::new(vec![
        Col { head: "SEVERITY", min: 8, give: 9 },
        Col { head: "CHECK", min: 10, give: 4 },
        Col { head: "CIS", min: 3, give: 3 },
        Col { head: "TITLE", min: 10, give: 1 },
        Col { head: "DETAIL", min: 0, give: 0 },
    ]);
    let (items, more) = cap(common::misconfigurations(r), out.opt.max_rows);
    let rows = items
        .iter()
        .map(|c| {
            vec![
                severity_upper(c.severity).to_owned(),
                one_line(&c.id),
                c.cis.as_deref().map(one_line).unwrap_or_else(|| "-".into()),
                one_line(&c.title),
                one_line(&c.message),
            ]
        })
        .collect();
    g.groups.push((None, rows, more));
    g.render(out, &sev_cell(0));
}

fn policy(r: &ScanReport, out: &mut Out<'_>) {
    let Some(p) = &r.policy else { return };
    let failed = p.failures().count();
    let warned = p.warnings().count();
    let verdict = if p.passed { "PASSED" } else { "FAILED" };
    out.heading(&format!("Policy {} ({} rules)", one_line(&p.policy), p.rules.len()));
    let mut summary = format!("  {verdict}");
    if failed > 0 {
        summary.push_str(&format!(": {failed} deny rule{} violated", if failed == 1 { "" } else { "s" }));
    }
    if warned > 0 {
        summary.push_str(&format!(
            "{} {warned} warning{}",
            if failed > 0 { "," } else { ":" },
            if warned == 1 { "" } else { "s" }
        ));
    }
    out.line(&summary, Some(if p.passed { GREEN } else { RED }));
    for rule in p.failures().chain(p.warnings()) {
        let (mark, paint) = if rule.action == bulwark_core::report::PolicyAction::Deny {
            ("✗ deny", RED)
        } else {
            ("! warn", YELLOW)
        };
        out.line(&format!("  {mark} {}: {}", one_line(&rule.id), one_line(&rule.description)), Some(paint));
        let (vs, more) = cap(rule.violations.iter().collect(), out.opt.max_rows);
        // A violation's message names the finding (id, package or path) itself.
        for v in vs {
            out.line(&format!("      {}", one_line(&v.message)), None);
        }
        if more > 0 {
            out.line(&format!("      … and {more} more"), Some(DIM));
        }
    }
    for e in &p.exceptions {
        let what = match e.status {
            ExceptionStatus::Applied => continue,
            ExceptionStatus::Expired => "expired",
            ExceptionStatus::Unused => "matched nothing",
        };
        out.line(
            &format!("  exception {} ({}, expires {}) {what}", one_line(&e.id), one_line(&e.owner), e.expires),
            Some(YELLOW),
        );
    }
}

fn summary(r: &ScanReport, out: &mut Out<'_>) {
    out.blank();
    let c = common::vuln_counts(r);
    let mut parts = Vec::new();
    if r.database.is_some() || !r.vulnerabilities.is_empty() {
        let per: Vec<String> = SEVERITIES
            .iter()
            .enumerate()
            .filter(|(i, _)| c.total[*i] > 0)
            .map(|(i, s)| format!("{} {}", c.total[i], severity_word(*s)))
            .collect();
        let fixable: usize = c.fixable.iter().sum();
        let mut s = format!("{} vulnerabilities", r.vulnerabilities.len());
        if !per.is_empty() {
            s.push_str(&format!(" ({}; {fixable} fixable)", per.join(", ")));
        }
        parts.push(s);
    } else {
        parts.push("vulnerabilities not checked".to_owned());
    }
    for (n, what, scanner) in [
        (r.malware.len(), "malware", "malware"),
        (r.secrets.len(), "secrets", "secret"),
        (r.misconfigurations.len(), "misconfigurations", "config"),
    ] {
        if n > 0 || r.scanners.iter().any(|s| s == scanner) {
            parts.push(format!("{n} {what}"));
        }
    }
    let paint = if c.total[0] + c.total[1] > 0 || !r.malware.is_empty() { RED } else { BOLD };
    // One line when it fits, else one part per line.
    let joined = format!("Total: {}", parts.join(", "));
    if joined.chars().count() <= out.width {
        out.line(&joined, Some(paint));
    } else {
        for (i, p) in parts.iter().enumerate() {
            out.line(&format!("{}{p}", if i == 0 { "Total: " } else { "       " }), Some(paint));
        }
    }
    if !r.suppressed.is_empty() {
        out.line(&format!("Suppressed: {} (by ignore entries or VEX statements)", r.suppressed.len()), Some(DIM));
    }
    if r.hidden_by_filters > 0 {
        let n = r.hidden_by_filters;
        let what = if n == 1 { "finding" } else { "findings" };
        out.line(
            &format!("{n} {what} hidden by filters (--severity, --ignore-unfixed; the policy saw them)"),
            Some(DIM),
        );
    }
    for s in &r.skipped {
        out.line(
            &format!("Skipped by {}: {} files ({} bytes), {}", s.scanner, s.files, s.bytes, one_line(&s.reason)),
            Some(YELLOW),
        );
    }
    if !r.warnings.is_empty() {
        out.line(&format!("Warnings: {}", r.warnings.len()), Some(YELLOW));
        let (ws, more) = cap(r.warnings.iter().collect(), out.opt.max_rows.or(Some(5)));
        for w in ws {
            out.line(&format!("  {}", one_line(w)), None);
        }
        if more > 0 {
            out.line(&format!("  … and {more} more"), Some(DIM));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_fits_width_and_gives_way_by_order() {
        let mut g = Grid::new(vec![Col { head: "ID", min: 5, give: 5 }, Col { head: "TITLE", min: 0, give: 0 }]);
        g.groups.push((None, vec![vec!["CVE-2024-0001".into(), "x".repeat(100)]], 0));
        let w = g.widths(40);
        assert_eq!(w, vec![13, 40 - 2 - 2 - 13]);
        let w = g.widths(200);
        assert_eq!(w, vec![13, 100]);
    }

    #[test]
    fn ages() {
        assert_eq!(age(59), "0 minutes old");
        assert_eq!(age(7200), "2 hours old");
        assert_eq!(age(3 * 86_400 + 5), "3 days old");
    }
}
