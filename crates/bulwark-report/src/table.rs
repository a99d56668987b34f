//! The terminal table `bulwark scan` prints: a header (image, digest, OS, database age),
//! the layers with their history steps, vulnerabilities grouped by severity (package,
//! installed and fixed version, layer, KEV/EPSS markers, title), malware, secrets and
//! misconfigurations, the policy verdict with each violated rule's findings, and a summary
//! line with counts per severity and how many have a fix.
//!
//! Every line fits [`TableOptions::width`], counted in display cells (`unicode-width`: CJK
//! and emoji take two): columns take their natural width, and when a table is too wide the
//! least important columns (title, layer, package) give way first; a cell wider than its
//! column wraps onto further lines, and so does a long line, so nothing (digests, fixed
//! versions, details) is cut off. A section lists every ignore entry, VEX statement and
//! policy exception as applied, expired or unused, and scanners or checks that did not run
//! are named, never shown as 0 findings. ANSI colour is used only when
//! [`TableOptions::color`] is set (the caller decides: TTY, `NO_COLOR`, `TERM=dumb`); in the
//! summary only what fails is red.

use std::fmt::Write as _;

use bulwark_core::plural::count;
use bulwark_core::report::{ExceptionStatus, FixState, ScanReport, Severity};
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use crate::common::{
    self, SEVERITIES, clean_step, fixed_text, layer_label, location_text, one_line, severity_upper, severity_word,
    short_hex,
};

/// How to render the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableOptions {
    /// Terminal width in display cells; at least 40 is assumed.
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

/// Text in pieces, each with its own colour: what a summary part is made of.
type Part = Vec<(String, Option<&'static str>)>;

struct Out<'a> {
    buf: String,
    opt: &'a TableOptions,
    width: usize,
}

/// Display cells of a string (CJK and emoji take two, combining marks none).
fn cells(s: &str) -> usize {
    UnicodeWidthStr::width(s)
}

/// Cuts `s` into pieces of at most `width` display cells, breaking after the last space
/// that fits when there is one (words stay whole), otherwise anywhere (digests, paths).
/// Nothing is dropped: the pieces joined give back `s` (less the spaces broken at).
fn wrap(s: &str, width: usize) -> Vec<String> {
    wrap_after(s, width, 0)
}

/// [`wrap`], breaking at spaces only past byte `min_break` of the first piece (a label's
/// gap is not a place to break) and only when the piece keeps a third of the width (a lone
/// `→` is not a line).
fn wrap_after(s: &str, width: usize, min_break: usize) -> Vec<String> {
    let width = width.max(1);
    let mut min_break = min_break;
    let mut out = Vec::new();
    let mut rest = s.trim_end();
    while cells(rest) > width {
        // The longest prefix that fits, by character.
        let mut end = 0;
        let mut used = 0;
        for (i, c) in rest.char_indices() {
            let w = UnicodeWidthChar::width(c).unwrap_or(0);
            if used + w > width {
                break;
            }
            used += w;
            end = i + c.len_utf8();
        }
        if end == 0 {
            // A character wider than the column: give it a line of its own.
            end = rest.chars().next().map_or(rest.len(), char::len_utf8);
        }
        // Never break inside the leading indentation.
        let lead = rest.len() - rest.trim_start().len();
        let cut = if rest[end..].starts_with(' ') {
            end
        } else {
            match rest[..end].rfind(' ').filter(|&sp| sp > lead.max(min_break) && cells(&rest[..sp]) * 3 >= width) {
                Some(sp) => sp,
                None => end,
            }
        };
        min_break = 0;
        out.push(rest[..cut].trim_end().to_owned());
        rest = rest[cut..].trim_start();
    }
    if !rest.is_empty() || out.is_empty() {
        out.push(rest.to_owned());
    }
    out
}

/// Where a continuation line starts: under the value of `Label    value` lines, two cells
/// in from the text otherwise.
fn hanging_indent(text: &str) -> usize {
    let lead = text.len() - text.trim_start_matches(' ').len();
    let body = &text[lead..];
    match body.find("  ") {
        Some(i) if !body[..i].contains(' ') => {
            let after = body[i..].len() - body[i..].trim_start_matches(' ').len();
            lead + i + after
        }
        _ => lead + 2,
    }
}

impl Out<'_> {
    /// Writes one line, wrapped to the width (continuation lines indented), painted when
    /// colour is on. Whatever came from the image is made terminal-safe by the one sanitiser
    /// (cells already are, by `one_line`).
    fn line(&mut self, text: &str, paint: Option<&str>) {
        let text = &*bulwark_core::term::escape(text);
        let indent = hanging_indent(text).min(self.width / 2);
        let first = wrap_after(text, self.width, indent);
        let mut pieces = vec![first[0].clone()];
        if first.len() > 1 {
            let rest = text[..].trim_end();
            // Re-wrap what did not fit on the first line at the narrower width.
            let consumed = first[0].len();
            let tail = rest[consumed..].trim_start();
            for p in wrap(tail, self.width - indent) {
                pieces.push(format!("{}{p}", " ".repeat(indent)));
            }
        }
        for t in pieces {
            match paint.filter(|_| self.opt.color) {
                Some(p) => {
                    let _ = writeln!(self.buf, "{p}{}{RESET}", t.trim_end());
                }
                None => {
                    let _ = writeln!(self.buf, "{}", t.trim_end());
                }
            }
        }
    }

    /// Writes a line made of painted segments, wrapped between segments when too wide.
    fn segments(&mut self, first_prefix: &str, next_prefix: &str, parts: &[Part]) {
        let plain = |part: &Part| part.iter().map(|(t, _)| t.as_str()).collect::<String>();
        let joined: Vec<String> = parts.iter().map(plain).collect();
        let one_line = format!("{first_prefix}{}", joined.join(", "));
        // All parts on one line when they fit, else one part per line.
        let lines: Vec<&[Part]> = if cells(&one_line) <= self.width { vec![parts] } else { parts.chunks(1).collect() };
        for (i, line) in lines.iter().enumerate() {
            let mut s = String::from(if i == 0 { first_prefix } else { next_prefix });
            if self.opt.color && i == 0 {
                s = format!("{BOLD}{s}{RESET}");
            }
            for (j, part) in line.iter().enumerate() {
                if j > 0 {
                    s.push_str(", ");
                }
                for (text, paint) in part.iter() {
                    s.push_str(&self.paint_opt(text, *paint));
                }
            }
            let _ = writeln!(self.buf, "{}", s.trim_end());
        }
    }

    fn blank(&mut self) {
        self.buf.push('\n');
    }

    fn paint(&self, text: &str, p: &str) -> String {
        if self.opt.color { format!("{p}{text}{RESET}") } else { text.to_owned() }
    }

    fn paint_opt(&self, text: &str, p: Option<&str>) -> String {
        match p {
            Some(p) => self.paint(text, p),
            None => text.to_owned(),
        }
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

    /// Column widths that fit `width` (two spaces of indent, two between columns), in
    /// display cells. Cells wider than their column wrap.
    fn widths(&self, width: usize) -> Vec<usize> {
        let mut w: Vec<usize> = self.cols.iter().map(|c| cells(c.head)).collect();
        for (_, rows, _) in &self.groups {
            for row in rows {
                for (i, cell) in row.iter().enumerate() {
                    w[i] = w[i].max(cells(cell));
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
            let min = self.cols[i].min.max(cells(self.cols[i].head)).min(w[i]);
            w[i] = w[i].saturating_sub(total - width).max(min);
        }
        w
    }

    fn render(&self, out: &mut Out<'_>, cell_paint: &dyn Fn(usize, &str) -> Option<&'static str>) {
        let w = self.widths(out.width);
        let last = w.len() - 1;
        // One row, as many lines as its tallest cell needs.
        let fmt_row = |cells_of_row: &[String], out: &Out<'_>, paint: bool| -> Vec<String> {
            let wrapped: Vec<Vec<String>> = cells_of_row.iter().enumerate().map(|(i, c)| wrap(c, w[i])).collect();
            let height = wrapped.iter().map(Vec::len).max().unwrap_or(1);
            (0..height)
                .map(|k| {
                    let mut s = String::from("  ");
                    for (i, pieces) in wrapped.iter().enumerate() {
                        let t = pieces.get(k).map(String::as_str).unwrap_or("");
                        let p = if paint { cell_paint(i, &cells_of_row[i]) } else { None };
                        s.push_str(&out.paint_opt(t, p.filter(|_| !t.is_empty())));
                        if i != last {
                            s.push_str(&" ".repeat(w[i].saturating_sub(cells(t)) + 2));
                        }
                    }
                    s.trim_end().to_owned()
                })
                .collect()
        };
        let header: Vec<String> = self.cols.iter().map(|c| c.head.to_owned()).collect();
        for head in fmt_row(&header, out, false) {
            out.line(&head, Some(DIM));
        }
        let mut details = self.details.iter();
        for (title, rows, more) in &self.groups {
            if let Some((t, p)) = title {
                out.line(t, Some(p));
            }
            for row in rows {
                // Cells were wrapped to their widths already; colour codes must not count.
                for line in fmt_row(row, out, true) {
                    let _ = writeln!(out.buf, "{line}");
                }
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
        s if s < 3600 => format!("{} old", count(s / 60, "minute", "minutes")),
        s if s < 2 * 86_400 => format!("{} old", count(s / 3600, "hour", "hours")),
        s => format!("{} old", count(s / 86_400, "day", "days")),
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
    suppressions(report, &mut out);
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
        let ran: Vec<String> = r
            .scanners
            .iter()
            .map(|s| if r.not_run.iter().any(|n| &n.scanner == s) { format!("{s} (partly)") } else { s.clone() })
            .collect();
        out.line(&format!("Scanners  {}", ran.join(", ")), None);
    }
    for n in &r.not_run {
        let what = if n.checks.is_empty() {
            format!("{}: {}", n.scanner, one_line(&n.reason))
        } else {
            format!(
                "{} {} ({}): {}",
                n.scanner,
                count(n.checks.len(), "check", "checks"),
                n.checks.join(", "),
                one_line(&n.reason)
            )
        };
        out.line(&format!("Not run   {what}"), Some(YELLOW));
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
                let layer = v.package.layer.map(|l| layer_label(r, l)).unwrap_or_else(|| "-".into());
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
        Col { head: "LAYER", min: 12, give: 1 },
        Col { head: "TITLE", min: 12, give: 0 },
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
        Col { head: "LAYER", min: 8, give: 1 },
        Col { head: "MATCH", min: 12, give: 0 },
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
        Col { head: "TITLE", min: 12, give: 1 },
        Col { head: "DETAIL", min: 16, give: 0 },
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
    out.heading(&format!("Policy {} ({})", one_line(&p.policy), count(p.rules.len(), "rule", "rules")));
    let mut summary = format!("  {verdict}");
    if failed > 0 {
        summary.push_str(&format!(": {} violated", count(failed, "deny rule", "deny rules")));
    }
    if warned > 0 {
        summary.push_str(&format!("{} {}", if failed > 0 { "," } else { ":" }, count(warned, "warning", "warnings")));
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
}

/// Every ignore entry, VEX statement and policy exception, applied, expired or unused: an
/// expired entry stops hiding its findings, and an unused one may be stale or misspelt.
fn suppressions(r: &ScanReport, out: &mut Out<'_>) {
    let exceptions = r.policy.as_ref().map(|p| p.exceptions.as_slice()).unwrap_or_default();
    let total = r.suppressions.len() + exceptions.len();
    if total == 0 {
        return;
    }
    out.heading(&format!("Suppressions and exceptions ({total})"));
    let mut g = Grid::new(vec![
        Col { head: "STATUS", min: 7, give: 9 },
        Col { head: "ID", min: 13, give: 5 },
        Col { head: "EXPIRES", min: 10, give: 4 },
        Col { head: "FROM", min: 12, give: 0 },
    ]);
    let status = |s: ExceptionStatus| match s {
        ExceptionStatus::Applied => "applied",
        ExceptionStatus::Expired => "EXPIRED",
        ExceptionStatus::Unused => "unused",
    };
    // The second line: what it did, its scope and its reason.
    let detail = |s: ExceptionStatus, scope: Option<&str>, matched: &[String], reason: &str| {
        let mut d = match s {
            ExceptionStatus::Applied => format!(
                "hides {}: {}",
                count(matched.len(), "finding", "findings"),
                matched.iter().map(|m| one_line(m)).collect::<Vec<_>>().join(", ")
            ),
            ExceptionStatus::Expired => "expired: no longer hides anything".to_owned(),
            ExceptionStatus::Unused => "matched nothing".to_owned(),
        };
        if let Some(scope) = scope {
            d.push_str(&format!(" · scope {}", one_line(scope)));
        }
        d.push_str(&format!(" · {}", one_line(reason)));
        d
    };
    let mut rows: Vec<(Vec<String>, String)> = r
        .suppressions
        .iter()
        .map(|x| {
            let row = vec![
                status(x.status).to_owned(),
                one_line(&x.id),
                x.expires.as_deref().map(one_line).unwrap_or_else(|| "-".into()),
                one_line(&x.source),
            ];
            (row, detail(x.status, x.scope.as_deref(), &x.matched, &x.reason))
        })
        .collect();
    let policy_name = r.policy.as_ref().map(|p| one_line(&p.policy)).unwrap_or_default();
    rows.extend(exceptions.iter().map(|e| {
        let row = vec![
            status(e.status).to_owned(),
            one_line(&e.id),
            one_line(&e.expires),
            format!("policy {policy_name} exception, owner {}", one_line(&e.owner)),
        ];
        (row, detail(e.status, e.scope.as_deref(), &e.matched, &e.reason))
    }));
    let (rows, more) = cap(rows, out.opt.max_rows);
    let (rows, details): (Vec<Vec<String>>, Vec<String>) = rows.into_iter().unzip();
    g.groups.push((None, rows, more));
    g.details = details;
    g.render(out, &|col, cell| match (col, cell) {
        (0, "applied") => Some(GREEN),
        (0, _) => Some(YELLOW),
        _ => None,
    });
}

/// The totals line. Only what fails is red (critical and high vulnerabilities, malware,
/// secrets); a scanner that did not run, or had nothing to look at, says so instead of 0.
fn summary(r: &ScanReport, out: &mut Out<'_>) {
    out.blank();
    let c = common::vuln_counts(r);
    let not_run = |scanner: &str| r.not_run.iter().find(|n| n.scanner == scanner && n.checks.is_empty());
    let partly = |scanner: &str| -> usize {
        r.not_run.iter().filter(|n| n.scanner == scanner && !n.checks.is_empty()).map(|n| n.checks.len()).sum()
    };
    let mut parts: Vec<Part> = Vec::new();
    let vuln_ran = r.database.is_some() || !r.vulnerabilities.is_empty();
    if vuln_ran && not_run("vuln").is_none() {
        let mut part: Part = vec![(count(r.vulnerabilities.len(), "vulnerability", "vulnerabilities"), None)];
        let per: Vec<(String, Option<&'static str>)> = SEVERITIES
            .iter()
            .enumerate()
            .filter(|(i, _)| c.total[*i] > 0)
            .map(|(i, s)| {
                let paint = (i <= 1).then_some(RED);
                (format!("{} {}", c.total[i], severity_word(*s)), paint)
            })
            .collect();
        if !per.is_empty() {
            let fixable: usize = c.fixable.iter().sum();
            part.push((" (".to_owned(), None));
            for (k, p) in per.into_iter().enumerate() {
                if k > 0 {
                    part.push((", ".to_owned(), None));
                }
                part.push(p);
            }
            part.push((format!("; {fixable} fixable)"), None));
        } else if r.packages.is_empty() {
            part.push((" (no packages found to check)".to_owned(), Some(YELLOW)));
        }
        parts.push(part);
    } else {
        parts.push(vec![("vulnerabilities not checked".to_owned(), Some(YELLOW))]);
    }
    for (n, one, many, scanner, paint) in [
        (r.malware.len(), "malware finding", "malware findings", "malware", RED),
        (r.secrets.len(), "secret", "secrets", "secret", RED),
        (r.misconfigurations.len(), "misconfiguration", "misconfigurations", "config", YELLOW),
    ] {
        if let Some(_why) = not_run(scanner) {
            parts.push(vec![(format!("{many} not checked"), Some(YELLOW))]);
            continue;
        }
        if n == 0 && !r.scanners.iter().any(|s| s == scanner) {
            continue;
        }
        let mut part: Part = vec![(count(n, one, many), (n > 0).then_some(paint))];
        let skipped = partly(scanner);
        if skipped > 0 {
            part.push((format!(" ({} not run)", count(skipped, "check", "checks")), Some(YELLOW)));
        } else if n == 0 && scanner != "config" && r.files.files == 0 && !r.layers.is_empty() {
            part.push((" (no files to scan)".to_owned(), Some(YELLOW)));
        }
        parts.push(part);
    }
    out.segments("Total: ", "       ", &parts);
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
            &format!(
                "Skipped by {}: {} ({}), {}",
                s.scanner,
                count(s.files, "file", "files"),
                count(s.bytes, "byte", "bytes"),
                one_line(&s.reason)
            ),
            Some(YELLOW),
        );
    }
    if !r.warnings.is_empty() {
        out.line(&format!("Warnings: {}", r.warnings.len()), Some(YELLOW));
        let (ws, more) = cap(r.warnings.iter().collect(), out.opt.max_rows.or(Some(5)));
        for w in ws {
            out.line(&format!("  {}", one_line(&w.to_string())), None);
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
    fn wrap_keeps_everything_and_counts_display_cells() {
        let digest = format!("sha256:{}", "a".repeat(64));
        let lines = wrap(&digest, 30);
        assert_eq!(lines.concat(), digest);
        assert!(lines.iter().all(|l| cells(l) <= 30), "{lines:?}");
        assert_eq!(cells("漢字"), 4);
        assert_eq!(wrap("漢字漢字漢字", 5), ["漢字", "漢字", "漢字"]);
        assert_eq!(wrap("fix in 1.2.3 and later", 12), ["fix in 1.2.3", "and later"]);
        // A label's gap is no place to break: the value is cut instead.
        assert_eq!(wrap_after("Digest    sha256:abcdef", 16, 10), ["Digest    sha256", ":abcdef"]);
        let mut g = Grid::new(vec![Col { head: "A", min: 1, give: 1 }, Col { head: "B", min: 1, give: 0 }]);
        g.groups.push((None, vec![vec!["漢字漢字".into(), "x".into()]], 0));
        assert_eq!(g.widths(80), vec![8, 1]);
    }

    #[test]
    fn ages() {
        assert_eq!(age(59), "0 minutes old");
        assert_eq!(age(7200), "2 hours old");
        assert_eq!(age(3 * 86_400 + 5), "3 days old");
    }
}
