//! Rule files: Bulwark's own format (`[[rule]]` tables) and gitleaks' (`[[rules]]`, with
//! `[allowlist]`/`[[allowlists]]`). See `docs/secrets.md` for both.

use std::path::Path;
use std::sync::Arc;

use bulwark_core::report::Severity;
use serde::Deserialize;

use super::Error;
use super::rules::{Allowlist, Check, Rule, Target, compile};

/// What one file gave: its rules and those it could not load, with the reason.
#[derive(Debug, Default)]
pub(crate) struct Loaded {
    pub rules: Vec<Rule>,
    pub unsupported: Vec<(String, String)>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OwnRule {
    id: String,
    title: String,
    #[serde(default)]
    severity: Option<String>,
    #[serde(default)]
    keywords: Vec<String>,
    #[serde(default)]
    regex: Option<String>,
    #[serde(default)]
    secret_group: Option<usize>,
    #[serde(default)]
    entropy: Option<f64>,
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    allow_regexes: Vec<String>,
    #[serde(default)]
    allow_paths: Vec<String>,
    #[serde(default)]
    stopwords: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
struct GlAllowlist {
    #[serde(default)]
    condition: Option<String>,
    #[serde(default, rename = "regexTarget")]
    regex_target: Option<String>,
    #[serde(default)]
    regexes: Vec<String>,
    #[serde(default)]
    paths: Vec<String>,
    #[serde(default)]
    stopwords: Vec<String>,
    #[serde(default)]
    commits: Vec<String>,
    #[serde(default, rename = "targetRules")]
    target_rules: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct GlRule {
    id: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    regex: Option<String>,
    #[serde(default, rename = "secretGroup")]
    secret_group: Option<usize>,
    #[serde(default)]
    entropy: Option<f64>,
    #[serde(default)]
    keywords: Vec<String>,
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    allowlist: Option<GlAllowlist>,
    #[serde(default)]
    allowlists: Vec<GlAllowlist>,
    #[serde(default)]
    required: Option<toml::Value>,
}

fn severity(s: Option<&str>, id: &str, path: &Path) -> Result<Severity, Error> {
    Ok(match s.unwrap_or("high").to_ascii_lowercase().as_str() {
        "low" => Severity::Low,
        "medium" => Severity::Medium,
        "high" => Severity::High,
        "critical" => Severity::Critical,
        other => return Err(Error::rules(path, format!("rule {id}: unknown severity {other:?}"))),
    })
}

fn regexes(list: &[String]) -> Result<Vec<regex::bytes::Regex>, String> {
    list.iter().map(|r| compile(r).map_err(|e| format!("{r:?}: {e}"))).collect()
}

/// Loads one rule file, recognising its format from its top-level tables.
pub(crate) fn load(path: &Path) -> Result<Loaded, Error> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Read { path: path.to_owned(), source })?;
    load_text(path, &text)
}

/// Loads rules from `text`, named `path` in errors.
pub(crate) fn load_text(path: &Path, text: &str) -> Result<Loaded, Error> {
    let table: toml::Table = text.parse().map_err(|e: toml::de::Error| Error::rules(path, e.message().to_owned()))?;
    if table.contains_key("rule") {
        return load_own(path, table);
    }
    if table.contains_key("rules") || table.contains_key("allowlist") || table.contains_key("allowlists") {
        return Ok(load_gitleaks(path, table));
    }
    Err(Error::rules(path, "neither Bulwark `[[rule]]` tables nor gitleaks `[[rules]]` found".into()))
}

fn load_own(path: &Path, mut table: toml::Table) -> Result<Loaded, Error> {
    let list = table.remove("rule").unwrap_or(toml::Value::Array(Vec::new()));
    let rules: Vec<OwnRule> =
        list.try_into().map_err(|e: toml::de::Error| Error::rules(path, e.message().to_owned()))?;
    let mut out = Loaded::default();
    for r in rules {
        let bad = |m: String| Error::rules(path, format!("rule {}: {m}", r.id));
        if r.regex.is_none() && r.path.is_none() {
            return Err(bad("needs a regex, a path, or both".into()));
        }
        let regex = r.regex.as_deref().map(compile).transpose().map_err(bad)?;
        let path_re = r.path.as_deref().map(compile).transpose().map_err(bad)?;
        let allow = Allowlist {
            and: false,
            target: Target::Secret,
            regexes: regexes(&r.allow_regexes).map_err(bad)?,
            paths: regexes(&r.allow_paths).map_err(bad)?,
            stopwords: r.stopwords.iter().map(|s| s.to_ascii_lowercase()).collect(),
        };
        let definition = format!(
            "own\0{}\0{:?}\0{:?}\0{:?}\0{:?}\0{:?}\0{:?}\0{:?}\0{:?}\0{:?}",
            r.id,
            r.regex,
            r.keywords,
            r.secret_group,
            r.entropy,
            r.path,
            r.allow_regexes,
            r.allow_paths,
            r.stopwords,
            r.severity
        );
        out.rules.push(Rule {
            severity: severity(r.severity.as_deref(), &r.id, path)?,
            id: r.id,
            title: r.title,
            keywords: r.keywords.iter().map(|k| k.to_ascii_lowercase()).collect(),
            regex,
            secret_group: r.secret_group,
            entropy: r.entropy,
            path: path_re,
            allowlists: vec![Arc::new(allow)],
            check: Check::None,
            definition,
        });
    }
    Ok(out)
}

/// Converts a gitleaks allowlist; `Err` names what we cannot honour.
fn gl_allowlist(a: &GlAllowlist) -> Result<Allowlist, String> {
    let and = match a.condition.as_deref().map(str::to_ascii_uppercase).as_deref() {
        None | Some("OR") => false,
        Some("AND") => true,
        Some(other) => return Err(format!("allowlist condition {other:?} is not OR or AND")),
    };
    let target = match a.regex_target.as_deref() {
        None | Some("secret") => Target::Secret,
        Some("match") => Target::Match,
        Some("line") => Target::Line,
        Some(other) => return Err(format!("allowlist regexTarget {other:?} is not secret, match or line")),
    };
    Ok(Allowlist {
        and,
        target,
        regexes: regexes(&a.regexes)?,
        paths: regexes(&a.paths)?,
        stopwords: a.stopwords.iter().map(|s| s.to_ascii_lowercase()).collect(),
    })
}

fn load_gitleaks(path: &Path, mut table: toml::Table) -> Loaded {
    let mut out = Loaded::default();
    let file = path.display().to_string();
    if table.contains_key("extend") {
        out.unsupported.push((
            format!("{file}:[extend]"),
            "extending another config (or gitleaks' built-in one) is not supported: load that file as well".into(),
        ));
    }
    // Global allowlists: the old single `[allowlist]` and `[[allowlists]]` (optionally
    // restricted with `targetRules`). Commit allowlists mean nothing in an image.
    let mut globals: Vec<(Vec<String>, Arc<Allowlist>)> = Vec::new();
    let mut global_tables: Vec<GlAllowlist> = Vec::new();
    if let Some(v) = table.remove("allowlist") {
        match v.try_into::<GlAllowlist>() {
            Ok(a) => global_tables.push(a),
            Err(e) => out.unsupported.push((format!("{file}:[allowlist]"), e.message().to_owned())),
        }
    }
    if let Some(v) = table.remove("allowlists") {
        match v.try_into::<Vec<GlAllowlist>>() {
            Ok(a) => global_tables.extend(a),
            Err(e) => out.unsupported.push((format!("{file}:[[allowlists]]"), e.message().to_owned())),
        }
    }
    let mut definition = String::new();
    for (i, a) in global_tables.iter().enumerate() {
        match gl_allowlist(a) {
            Ok(allow) => {
                definition.push_str(&format!("{:?}{:?}{:?}{:?}", a.regexes, a.paths, a.stopwords, a.target_rules));
                globals.push((a.target_rules.clone(), Arc::new(allow)));
            }
            Err(reason) => out.unsupported.push((format!("{file}:allowlists[{i}]"), reason)),
        }
    }
    let rules = match table.remove("rules") {
        Some(toml::Value::Array(rules)) => rules,
        Some(_) => {
            out.unsupported.push((format!("{file}:rules"), "`rules` is not an array of tables".into()));
            Vec::new()
        }
        None => Vec::new(),
    };
    for (i, value) in rules.into_iter().enumerate() {
        let id = value.get("id").and_then(|v| v.as_str()).map_or_else(|| format!("{file}:rules[{i}]"), str::to_owned);
        match gl_rule(value, &globals, &definition) {
            Ok(rule) => out.rules.push(rule),
            Err(reason) => out.unsupported.push((id, reason)),
        }
    }
    out
}

fn gl_rule(value: toml::Value, globals: &[(Vec<String>, Arc<Allowlist>)], globals_def: &str) -> Result<Rule, String> {
    let r: GlRule = value.try_into().map_err(|e: toml::de::Error| e.message().to_owned())?;
    if r.required.is_some() {
        return Err("composite rules (`required`) are not supported".into());
    }
    if r.regex.is_none() && r.path.is_none() {
        return Err("neither regex nor path".into());
    }
    let regex = r.regex.as_deref().map(compile).transpose().map_err(|e| format!("regex: {e}"))?;
    let path = r.path.as_deref().map(compile).transpose().map_err(|e| format!("path: {e}"))?;
    if let (Some(re), Some(g)) = (&regex, r.secret_group)
        && g >= re.captures_len()
    {
        return Err(format!("secretGroup {g} but the regex has {} groups", re.captures_len() - 1));
    }
    let mut allowlists = Vec::new();
    for a in r.allowlist.iter().chain(&r.allowlists) {
        if !a.commits.is_empty() && a.regexes.is_empty() && a.paths.is_empty() && a.stopwords.is_empty() {
            // Only commits: nothing to do in an image.
            continue;
        }
        allowlists.push(Arc::new(gl_allowlist(a).map_err(|e| format!("allowlist: {e}"))?));
    }
    for (targets, allow) in globals {
        if targets.is_empty() || targets.contains(&r.id) {
            allowlists.push(allow.clone());
        }
    }
    let definition = format!(
        "gitleaks\0{}\0{:?}\0{:?}\0{:?}\0{:?}\0{:?}\0{:?}\0{}",
        r.id,
        r.regex,
        r.keywords,
        r.secret_group,
        r.entropy,
        r.path,
        r.allowlists.iter().chain(&r.allowlist).map(|a| (&a.regexes, &a.paths, &a.stopwords)).collect::<Vec<_>>(),
        globals_def
    );
    Ok(Rule {
        title: r.description.clone().unwrap_or_else(|| r.id.clone()),
        id: r.id,
        // gitleaks rules carry no severity: every leaked credential is treated as high.
        severity: Severity::High,
        keywords: r.keywords.iter().map(|k| k.to_ascii_lowercase()).collect(),
        regex,
        secret_group: r.secret_group.filter(|&g| g > 0),
        entropy: r.entropy.filter(|&e| e > 0.0),
        path,
        allowlists,
        check: Check::None,
        definition,
    })
}
