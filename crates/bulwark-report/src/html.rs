//! One self-contained HTML page: inline CSS, inline SVG charts and a few lines of inline
//! JavaScript, no external assets (it works offline and from a CI artifact store).
//!
//! - Header: image, digest, platform, OS, advisory database, policy verdict.
//! - Severity summary: an SVG bar per severity (all finding kinds together).
//! - Layers: an SVG chart of what each layer added (packages, vulnerabilities, secrets,
//!   malware), labelled with the history step that created it.
//! - Tables of vulnerabilities, malware, secrets, misconfigurations and policy rules, with
//!   one text box that filters every table's rows.
//!
//! Every value from the image or the advisories goes through [`escape_xml`], in text and in
//! attributes; the script reads no data from the page other than cell text.

use std::fmt::Write as _;

use bulwark_core::report::ScanReport;

use crate::common::{
    self, SEVERITIES, escape_xml as e, fixed_text, layer_label, location_text, one_line, severity_word,
};

const CSS: &str = "body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}\
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.6em}\
table{border-collapse:collapse;width:100%;margin:.5em 0}th,td{border-bottom:1px solid #ddd;padding:3px 6px;text-align:left;vertical-align:top}\
th{background:#f4f4f4}code{font-size:.92em}.meta td:first-child{font-weight:bold;width:9em}\
.critical{color:#a00;font-weight:bold}.high{color:#d33}.medium{color:#b70}.low{color:#37a}.unknown{color:#777}\
.pass{color:#070;font-weight:bold}.fail{color:#a00;font-weight:bold}.kev{background:#a00;color:#fff;padding:0 4px;border-radius:3px}\
#q{width:30em;padding:4px}svg text{font:12px sans-serif}";

const JS: &str = "document.getElementById('q').addEventListener('input',function(){\
var q=this.value.toLowerCase();document.querySelectorAll('table.f tbody tr').forEach(function(r){\
r.style.display=r.textContent.toLowerCase().indexOf(q)<0?'none':''})})";

const COLORS: [&str; 5] = ["#a00", "#d33", "#e90", "#48c", "#999"];

/// Writes the report as one HTML page.
pub fn to_vec(report: &ScanReport) -> Vec<u8> {
    to_string(report).into_bytes()
}

/// [`to_vec`] as a string.
pub fn to_string(r: &ScanReport) -> String {
    let mut s = String::new();
    let title = format!("Bulwark: {}", r.image.reference);
    let _ = write!(
        s,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<h1>{}</h1>\n",
        e(&title),
        e(&title)
    );
    header(r, &mut s);
    severity_chart(r, &mut s);
    layer_chart(r, &mut s);
    s.push_str(
        "<p><input id=\"q\" type=\"search\" placeholder=\"Filter the tables below\" aria-label=\"filter\"></p>\n",
    );
    tables(r, &mut s);
    let _ =
        write!(s, "<p><small>Bulwark {}</small></p>\n<script>{JS}</script>\n</body>\n</html>\n", e(&r.bulwark_version));
    s
}

fn header(r: &ScanReport, s: &mut String) {
    s.push_str("<table class=\"meta\">\n");
    let mut row = |k: &str, v: String| {
        let _ = writeln!(s, "<tr><td>{k}</td><td>{v}</td></tr>");
    };
    row("Image", format!("<code>{}</code>", e(&r.image.reference)));
    if let Some(d) = &r.image.manifest_digest {
        row("Manifest", format!("<code>{}</code>", e(&d.to_string())));
    }
    if let Some(d) = &r.image.config_digest {
        row("Config", format!("<code>{}</code>", e(&d.to_string())));
    }
    if let Some(p) = &r.image.platform {
        row("Platform", e(&p.to_string()));
    }
    if let Some(c) = r.image.created.as_deref() {
        row("Created", e(&crate::time::normalise(c).unwrap_or_else(|| c.to_owned())));
    }
    row(
        "OS",
        match &r.os {
            Some(os) => e(os.pretty_name.as_deref().unwrap_or(&os.id)),
            None => "unknown".into(),
        },
    );
    row(
        "Database",
        match &r.database {
            Some(db) => format!("built {} <code>{}</code>", e(&db.built_at), e(&db.digest)),
            None => "none: vulnerabilities not checked".into(),
        },
    );
    for n in &r.not_checked {
        row("Not checked", format!("{} ({}): {}", e(&n.scanner), n.reason.code(), e(&n.message)));
    }
    if let Some(p) = &r.policy {
        let (c, w) = if p.passed { ("pass", "passed") } else { ("fail", "failed") };
        row("Policy", format!("<span class=\"{c}\">{} {w}</span>", e(&p.policy)));
    }
    s.push_str("</table>\n");
}

fn severity_chart(r: &ScanReport, s: &mut String) {
    let counts = common::all_counts(r);
    let max = counts.iter().copied().max().unwrap_or(0).max(1);
    s.push_str("<h2>Findings by severity</h2>\n");
    let h = 24 * SEVERITIES.len() + 8;
    let _ = writeln!(s, "<svg width=\"520\" height=\"{h}\" role=\"img\" aria-label=\"findings by severity\">");
    for (i, sev) in SEVERITIES.iter().enumerate() {
        let y = 4 + i * 24;
        let w = counts[i] * 360 / max;
        let _ = writeln!(
            s,
            "<text x=\"0\" y=\"{}\">{}</text><rect x=\"80\" y=\"{y}\" width=\"{w}\" height=\"18\" fill=\"{}\"/>\
             <text x=\"{}\" y=\"{}\">{}</text>",
            y + 14,
            severity_word(*sev),
            COLORS[i],
            86 + w,
            y + 14,
            counts[i]
        );
    }
    s.push_str("</svg>\n");
}

fn layer_chart(r: &ScanReport, s: &mut String) {
    if r.layers.is_empty() {
        return;
    }
    // (packages, vulnerabilities, secrets, malware) per layer.
    let per: Vec<[usize; 4]> = r
        .layers
        .iter()
        .map(|l| {
            let i = Some(l.index);
            [
                r.packages.iter().filter(|p| p.layer == i).count(),
                r.vulnerabilities.iter().filter(|v| v.package.layer == i).count(),
                r.secrets.iter().filter(|x| x.location.layer == i).count(),
                r.malware.iter().filter(|x| x.location.layer == i).count(),
            ]
        })
        .collect();
    let max = per.iter().flatten().copied().max().unwrap_or(0).max(1);
    let names = ["packages", "vulnerabilities", "secrets", "malware"];
    let colors = ["#48c", "#d33", "#e90", "#606"];
    s.push_str("<h2>What each layer added</h2>\n<p>");
    for (n, c) in names.iter().zip(colors) {
        let _ = write!(s, "<span style=\"color:{c}\">■</span> {n} ");
    }
    s.push_str("</p>\n");
    let row_h = 4 * 12 + 30;
    let _ = writeln!(
        s,
        "<svg width=\"900\" height=\"{}\" role=\"img\" aria-label=\"findings per layer\">",
        row_h * r.layers.len() + 4
    );
    for (row, (l, counts)) in r.layers.iter().zip(&per).enumerate() {
        let y0 = row * row_h;
        let label = common::truncate(&layer_label(r, l.index), 110);
        let _ = writeln!(s, "<text x=\"0\" y=\"{}\">{}</text>", y0 + 14, e(&label));
        for (k, n) in counts.iter().enumerate() {
            let y = y0 + 20 + k * 12;
            let w = n * 600 / max;
            let _ = writeln!(
                s,
                "<rect x=\"0\" y=\"{y}\" width=\"{w}\" height=\"10\" fill=\"{}\"><title>{} {}</title></rect>\
                 <text x=\"{}\" y=\"{}\" font-size=\"10\">{n}</text>",
                colors[k],
                n,
                names[k],
                w + 4,
                y + 9
            );
        }
    }
    s.push_str("</svg>\n");
}

fn table(s: &mut String, title: &str, heads: &[&str], rows: Vec<Vec<String>>) {
    if rows.is_empty() {
        return;
    }
    let _ = writeln!(s, "<h2>{} ({})</h2>\n<table class=\"f\"><thead><tr>", e(title), rows.len());
    for h in heads {
        let _ = write!(s, "<th>{h}</th>");
    }
    s.push_str("</tr></thead>\n<tbody>\n");
    for row in rows {
        s.push_str("<tr>");
        for cell in row {
            let _ = write!(s, "<td>{cell}</td>");
        }
        s.push_str("</tr>\n");
    }
    s.push_str("</tbody></table>\n");
}

fn sev(sv: bulwark_core::report::Severity) -> String {
    format!("<span class=\"{0}\">{0}</span>", severity_word(sv))
}

fn tables(r: &ScanReport, s: &mut String) {
    let layer = |l: Option<usize>| l.map(|l| e(&layer_label(r, l))).unwrap_or_default();
    table(
        s,
        "Vulnerabilities",
        &["severity", "id", "package", "installed", "fixed", "layer", "exploit", "title"],
        common::vulnerabilities(r)
            .iter()
            .map(|v| {
                let mut x = String::new();
                if v.kev {
                    x.push_str("<span class=\"kev\">KEV</span> ");
                }
                if let Some((p, _)) = v.epss {
                    let _ = write!(x, "EPSS {:.1}%", p * 100.0);
                }
                vec![
                    sev(v.severity),
                    format!("<a href=\"{}\">{}</a>", e(&crate::sarif::advisory_url(&v.id)), e(&v.id)),
                    e(&v.package.name),
                    format!("<code>{}</code>", e(&v.package.version)),
                    e(&fixed_text(v)),
                    layer(v.package.layer),
                    x,
                    e(v.title.as_deref().unwrap_or("")),
                ]
            })
            .collect(),
    );
    table(
        s,
        "Malware",
        &["severity", "rule", "file", "layer", "title", "sha256"],
        common::malware(r)
            .iter()
            .map(|m| {
                vec![
                    sev(m.severity),
                    e(&m.rule),
                    format!("<code>{}</code>", e(&location_text(&m.location))),
                    layer(m.location.layer),
                    e(&m.title),
                    e(m.sha256.as_deref().unwrap_or("")),
                ]
            })
            .collect(),
    );
    table(
        s,
        "Secrets",
        &["severity", "rule", "location", "layer", "match"],
        common::secrets(r)
            .iter()
            .map(|x| {
                vec![
                    sev(x.severity),
                    e(&x.rule),
                    format!("<code>{}</code>", e(&location_text(&x.location))),
                    layer(x.location.layer),
                    format!("<code>{}</code>", e(&one_line(&x.preview))),
                ]
            })
            .collect(),
    );
    table(
        s,
        "Misconfigurations",
        &["severity", "check", "CIS", "title", "detail", "remediation"],
        common::misconfigurations(r)
            .iter()
            .map(|c| {
                vec![
                    sev(c.severity),
                    e(&c.id),
                    e(c.cis.as_deref().unwrap_or("")),
                    e(&c.title),
                    e(&c.message),
                    e(c.remediation.as_deref().unwrap_or("")),
                ]
            })
            .collect(),
    );
    if let Some(p) = &r.policy {
        table(
            s,
            "Policy rules",
            &["rule", "action", "result", "violations"],
            p.rules
                .iter()
                .map(|rule| {
                    let result = if rule.passed {
                        "<span class=\"pass\">passed</span>"
                    } else {
                        "<span class=\"fail\">violated</span>"
                    };
                    let v: Vec<String> = rule.violations.iter().map(|v| e(&v.message)).collect();
                    vec![
                        format!("{}<br>{}", e(&rule.id), e(&rule.description)),
                        e(&format!("{:?}", rule.action).to_lowercase()),
                        result.to_owned(),
                        v.join("<br>"),
                    ]
                })
                .collect(),
        );
    }
    table(
        s,
        "Packages",
        &["ecosystem", "name", "version", "layer", "purl"],
        crate::entries(r)
            .iter()
            .map(|en| {
                let p = en.pkg;
                vec![e(&p.ecosystem), e(&p.name), e(&p.version), layer(p.layer), format!("<code>{}</code>", e(&p.purl))]
            })
            .collect(),
    );
}

#[cfg(test)]
mod tests {
    use crate::test_support::*;

    #[test]
    fn hostile_values_are_escaped() {
        let mut p = pkg("npm", "<script>alert(1)</script>", "1\"><img src=x onerror=alert(2)>", "pkg:npm/x@1", "/a");
        p.layer = Some(0);
        let mut r = report(vec![p]);
        r.layers.push(bulwark_core::report::LayerSummary {
            index: 0,
            digest: None,
            diff_id: bulwark_core::Digest::sha256_of(b"x"),
            media_type: None,
            size: 0,
            uncompressed_size: 0,
            entries: 0,
            whiteouts: 0,
            created_by: Some("RUN echo '</svg><script>alert(3)</script>'".into()),
        });
        let html = super::to_string(&r);
        assert_eq!(html.matches("<script").count(), 1, "only our own script: {html}");
        assert!(!html.contains("<img"));
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(html.contains("&lt;/svg&gt;&lt;script&gt;alert(3)"));
    }
}
