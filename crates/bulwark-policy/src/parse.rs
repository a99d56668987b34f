//! From policy text to [`Policy`], collecting every problem with its position.

use std::collections::HashMap;

use bulwark_core::Digest;
use bulwark_core::glob::{self, Glob, Legacy};
use bulwark_core::report::{PolicyAction, Severity};
use bulwark_core::time::Date;

use crate::yaml::{self, Node, Pos, Value, is_null};
use crate::{
    API_VERSION, Check, Diagnostic, DiagnosticSeverity, EXPIRY_WARNING_DAYS, Exception, FindingFilter, KIND, Policy,
    Rule, Scope, SeverityLimits,
};

const TOP_KEYS: &[&str] = &["apiVersion", "kind", "name", "unknown_severity", "rules", "exceptions"];
const RULE_COMMON: &[&str] = &["id", "description", "action"];
/// The keys that name what a rule checks; a rule has exactly one (`deny_end_of_life` may
/// also accompany `allowed_os`).
const RULE_KINDS: &[&str] = &[
    "max_severity_counts",
    "deny_ids",
    "deny_kev",
    "max_epss",
    "deny_malware",
    "deny_secrets",
    "deny_config",
    "allowed_os",
    "deny_end_of_life",
    "allowed_base_registries",
    "max_image_age_days",
];
const VULN_KINDS: &[&str] = &["max_severity_counts", "deny_ids", "deny_kev", "max_epss"];
const EXCEPTION_KEYS: &[&str] = &["id", "scope", "reason", "owner", "expires"];
const SCOPE_KEYS: &[&str] = &["image", "package", "path"];
const SEVERITIES: &[&str] = &["critical", "high", "medium", "low", "unknown"];

/// Ids a policy may name that are defined outside this crate, so that a typo is an error
/// rather than a rule that never matches. The caller passes them in (the CLI takes the
/// config check ids from `bulwark-detect`): this crate stays free of the detectors. An
/// empty list means "not checked".
#[derive(Debug, Clone, Copy, Default)]
pub struct KnownIds<'a> {
    /// Misconfiguration check ids (`BW-CFG-001`…), for `deny_config.ids` and exceptions
    /// whose id starts with `BW-CFG-`.
    pub config_checks: &'a [&'a str],
}

/// Parses a policy. On failure, every problem found, in file order.
pub fn parse(text: &str) -> Result<Policy, Vec<Diagnostic>> {
    parse_with(text, KnownIds::default())
}

/// [`parse`], also rejecting check ids that are not in `known`.
pub fn parse_with(text: &str, known: KnownIds<'_>) -> Result<Policy, Vec<Diagnostic>> {
    let mut cx = Cx { diags: Vec::new(), warnings: Vec::new(), config_checks: known.config_checks };
    let policy = cx.policy(text);
    cx.diags.sort();
    cx.diags.dedup();
    match policy {
        Some(mut p) if cx.diags.is_empty() => {
            cx.warnings.sort();
            p.warnings = cx.warnings;
            Ok(p)
        }
        _ => Err(cx.diags),
    }
}

/// Everything [`parse`] reports, plus warnings: exceptions that expired before `today` or
/// expire within [`EXPIRY_WARNING_DAYS`] days. Empty means the policy is clean.
pub fn lint(text: &str, today: Date) -> Vec<Diagnostic> {
    lint_with(text, today, KnownIds::default())
}

/// [`lint`], also rejecting check ids that are not in `known`.
pub fn lint_with(text: &str, today: Date, known: KnownIds<'_>) -> Vec<Diagnostic> {
    let policy = match parse_with(text, known) {
        Ok(p) => p,
        Err(diags) => return diags,
    };
    let mut out = policy.warnings.clone();
    for e in &policy.exceptions {
        let left = e.expires.days_since(today);
        let message = if left < 0 {
            format!("exception `{}` expired on {} and no longer applies: renew it or remove it", e.id, e.expires)
        } else if left <= EXPIRY_WARNING_DAYS {
            let when = match left {
                0 => "today".to_owned(),
                1 => "tomorrow".to_owned(),
                n => format!("in {n} days"),
            };
            format!("exception `{}` expires {when} ({})", e.id, e.expires)
        } else {
            continue;
        };
        let (line, column) = e.expires_at;
        out.push(Diagnostic { line, column, severity: DiagnosticSeverity::Warning, message });
    }
    out.sort();
    out
}

struct Cx<'k> {
    diags: Vec<Diagnostic>,
    /// Warnings that do not stop the policy from being used (globs whose meaning changed).
    warnings: Vec<Diagnostic>,
    /// Known config check ids; empty: not checked.
    config_checks: &'k [&'k str],
}

impl Cx<'_> {
    /// An error when `id` names a config check that does not exist.
    fn known_config_check(&mut self, pos: Pos, id: &str) {
        if self.config_checks.is_empty() || self.config_checks.contains(&id) {
            return;
        }
        let upper = id.to_ascii_uppercase();
        let hint = match closest(&upper, self.config_checks) {
            Some(c) => format!("did you mean `{c}`?"),
            None => format!(
                "the checks are {}…{} (docs/misconfig.md)",
                self.config_checks.first().unwrap_or(&""),
                self.config_checks.last().unwrap_or(&"")
            ),
        };
        self.error(pos, format!("unknown config check `{id}`: {hint}"));
    }

    fn error(&mut self, pos: Pos, message: impl Into<String>) {
        self.diags.push(Diagnostic {
            line: pos.line,
            column: pos.column,
            severity: DiagnosticSeverity::Error,
            message: message.into(),
        });
    }

    fn policy(&mut self, text: &str) -> Option<Policy> {
        let root = match yaml::parse(text) {
            Ok(Some(root)) => root,
            Ok(None) => {
                self.error(Pos { line: 1, column: 1 }, "the policy is empty");
                return None;
            }
            Err(e) => {
                self.error(e.pos, format!("invalid YAML: {}", e.message));
                return None;
            }
        };
        let map = self.mapping(&root, "the policy", TOP_KEYS, &["apiVersion", "kind", "name", "rules"])?;
        if let Some(v) = map.get("apiVersion").and_then(|n| self.string(n, "apiVersion"))
            && v != API_VERSION
        {
            self.error(map["apiVersion"].pos, format!("unsupported apiVersion `{v}`: expected `{API_VERSION}`"));
        }
        if let Some(v) = map.get("kind").and_then(|n| self.string(n, "kind"))
            && v != KIND
        {
            self.error(map["kind"].pos, format!("unsupported kind `{v}`: expected `{KIND}`"));
        }
        let name = map.get("name").and_then(|n| self.non_empty(n, "name"));
        let unknown_severity = match map.get("unknown_severity") {
            Some(n) => Some(self.severity(n, "unknown_severity")?),
            None => None,
        };
        let mut rules = Vec::new();
        if let Some(node) = map.get("rules")
            && let Some(items) = self.seq(node, "rules")
        {
            let mut seen: HashMap<String, Pos> = HashMap::new();
            for item in items {
                if let Some(rule) = self.rule(item) {
                    if rule.id == crate::CHECKS_COMPLETE {
                        let msg = format!(
                            "rule id `{}` is reserved for the built-in rule that fails images Bulwark could not fully check: choose another id",
                            rule.id
                        );
                        self.error(id_pos(item), msg);
                    } else if let Some(first) = seen.get(&rule.id) {
                        let msg = format!("duplicate rule id `{}` (first used at line {})", rule.id, first.line);
                        self.error(id_pos(item), msg);
                    } else {
                        seen.insert(rule.id.clone(), id_pos(item));
                    }
                    rules.push(rule);
                }
            }
            if items.is_empty() {
                self.error(node.pos, "`rules` is empty: a policy needs at least one rule");
            }
        }
        let mut exceptions = Vec::new();
        if let Some(node) = map.get("exceptions")
            && let Some(items) = self.seq(node, "exceptions")
        {
            exceptions.extend(items.iter().filter_map(|item| self.exception(item)));
        }
        Some(Policy {
            name: name?,
            unknown_severity,
            rules,
            exceptions,
            digest: Digest::sha256_of(text.as_bytes()).to_string(),
            warnings: Vec::new(),
        })
    }

    /// The entries of a mapping, by key, after checking for unknown, duplicate and
    /// missing keys. `None` when the node is not a mapping.
    fn mapping<'n>(
        &mut self,
        node: &'n Node,
        what: &str,
        allowed: &[&str],
        required: &[&str],
    ) -> Option<HashMap<&'n str, &'n Node>> {
        let Value::Map(entries) = &node.value else {
            self.error(node.pos, format!("{what} must be a mapping, not {}", node.type_name()));
            return None;
        };
        let mut out: HashMap<&str, &Node> = HashMap::new();
        for (k, v) in entries {
            let Value::Scalar { text: key, .. } = &k.value else {
                self.error(k.pos, format!("keys of {what} must be plain words, not {}", k.type_name()));
                continue;
            };
            if !allowed.contains(&key.as_str()) {
                let hint = match closest(key, allowed) {
                    Some(c) => format!("did you mean `{c}`?"),
                    None => format!("expected one of: {}", allowed.join(", ")),
                };
                self.error(k.pos, format!("unknown key `{key}` in {what}: {hint}"));
                continue;
            }
            if out.insert(key, v).is_some() {
                self.error(k.pos, format!("duplicate key `{key}` in {what}"));
            }
        }
        for key in required {
            if !out.contains_key(key) {
                self.error(node.pos, format!("{what} is missing `{key}`"));
            }
        }
        Some(out)
    }

    fn seq<'n>(&mut self, node: &'n Node, what: &str) -> Option<&'n [Node]> {
        match &node.value {
            Value::Seq(items) => Some(items),
            _ => {
                self.error(node.pos, format!("`{what}` must be a list, not {}", node.type_name()));
                None
            }
        }
    }

    fn string(&mut self, node: &Node, what: &str) -> Option<String> {
        match &node.value {
            Value::Scalar { text, plain } if !(*plain && is_null(text)) => Some(text.clone()),
            _ => {
                self.error(node.pos, format!("`{what}` must be a string, not {}", node.type_name()));
                None
            }
        }
    }

    fn non_empty(&mut self, node: &Node, what: &str) -> Option<String> {
        let s = self.string(node, what)?;
        if s.trim().is_empty() {
            self.error(node.pos, format!("`{what}` must not be empty"));
            return None;
        }
        Some(s)
    }

    /// A pattern of the one glob dialect: an error when invalid, a warning when a policy
    /// written for the old dialect (where `*` matched `/`) now means something else.
    fn glob(&mut self, node: &Node, pattern: &str) -> Option<Glob> {
        let glob = match Glob::new(pattern) {
            Ok(g) => g,
            Err(e) => {
                self.error(node.pos, e.to_string());
                return None;
            }
        };
        if let Some(change) = glob::migration(pattern, Legacy::Policy) {
            self.warnings.push(Diagnostic {
                line: node.pos.line,
                column: node.pos.column,
                severity: DiagnosticSeverity::Warning,
                message: format!("{change} (docs/globs.md)"),
            });
        }
        Some(glob)
    }

    fn strings(&mut self, node: &Node, what: &str) -> Option<Vec<String>> {
        let items = self.seq(node, what)?;
        let mut out = Vec::new();
        let mut ok = true;
        for item in items {
            match self.non_empty(item, what) {
                Some(s) => out.push(s),
                None => ok = false,
            }
        }
        ok.then_some(out)
    }

    fn bool(&mut self, node: &Node, what: &str) -> Option<bool> {
        match &node.value {
            Value::Scalar { text, plain: true } if text == "true" => Some(true),
            Value::Scalar { text, plain: true } if text == "false" => Some(false),
            _ => {
                self.error(node.pos, format!("`{what}` must be true or false, not {}", node.type_name()));
                None
            }
        }
    }

    /// A flag that only means something when true (`deny_kev: true`).
    fn must_be_true(&mut self, node: &Node, what: &str) -> bool {
        match self.bool(node, what) {
            Some(true) => true,
            Some(false) => {
                self.error(node.pos, format!("`{what}: false` checks nothing: remove the rule instead"));
                false
            }
            None => false,
        }
    }

    fn count(&mut self, node: &Node, what: &str) -> Option<u64> {
        match &node.value {
            Value::Scalar { text, plain: true } if text.parse::<u64>().is_ok() => text.parse().ok(),
            _ => {
                self.error(node.pos, format!("`{what}` must be a whole number ≥ 0, not {}", node.type_name()));
                None
            }
        }
    }

    fn fraction(&mut self, node: &Node, what: &str) -> Option<f64> {
        match &node.value {
            Value::Scalar { text, plain: true } => match text.parse::<f64>() {
                Ok(v) if (0.0..=1.0).contains(&v) => Some(v),
                Ok(_) => {
                    self.error(node.pos, format!("`{what}` must be between 0 and 1, not {text}"));
                    None
                }
                Err(_) => {
                    self.error(
                        node.pos,
                        format!("`{what}` must be a number between 0 and 1, not {}", node.type_name()),
                    );
                    None
                }
            },
            _ => {
                self.error(node.pos, format!("`{what}` must be a number between 0 and 1, not {}", node.type_name()));
                None
            }
        }
    }

    fn severity(&mut self, node: &Node, what: &str) -> Option<Severity> {
        let s = self.string(node, what)?;
        let sev = match s.to_ascii_lowercase().as_str() {
            "critical" => Severity::Critical,
            "high" => Severity::High,
            "medium" => Severity::Medium,
            "low" => Severity::Low,
            "unknown" => Severity::Unknown,
            _ => {
                self.error(node.pos, format!("`{what}` must be one of {}, not `{s}`", SEVERITIES.join(", ")));
                return None;
            }
        };
        Some(sev)
    }

    fn rule(&mut self, node: &Node) -> Option<Rule> {
        let mut allowed: Vec<&str> = RULE_COMMON.to_vec();
        allowed.extend(RULE_KINDS);
        allowed.push("fixable_only");
        let map = self.mapping(node, "a rule", &allowed, RULE_COMMON)?;
        let id = map.get("id").and_then(|n| self.non_empty(n, "id"));
        let description = map.get("description").and_then(|n| self.non_empty(n, "description"));
        let action = map.get("action").and_then(|n| match self.string(n, "action").as_deref() {
            Some("deny") => Some(PolicyAction::Deny),
            Some("warn") => Some(PolicyAction::Warn),
            Some(other) => {
                self.error(n.pos, format!("`action` must be `deny` or `warn`, not `{other}`"));
                None
            }
            None => None,
        });
        let mut kinds: Vec<&str> = RULE_KINDS.iter().copied().filter(|k| map.contains_key(k)).collect();
        if kinds.contains(&"allowed_os") {
            kinds.retain(|k| *k != "deny_end_of_life");
        }
        let kind = match kinds.as_slice() {
            [kind] => *kind,
            [] => {
                self.error(node.pos, format!("a rule needs one check, one of: {}", RULE_KINDS.join(", ")));
                return None;
            }
            [_, second, ..] => {
                let names = kinds.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ");
                self.error(
                    key_pos(node, second).unwrap_or(node.pos),
                    format!("a rule has exactly one check, this one has {names}: split it into several rules"),
                );
                return None;
            }
        };
        let fixable_only = match map.get("fixable_only") {
            Some(n) if !VULN_KINDS.contains(&kind) => {
                let pos = key_pos(node, "fixable_only").unwrap_or(n.pos);
                self.error(
                    pos,
                    format!("`fixable_only` applies to vulnerability checks ({}), not `{kind}`", VULN_KINDS.join(", ")),
                );
                return None;
            }
            Some(n) => self.bool(n, "fixable_only")?,
            None => false,
        };
        let value = map[kind];
        let check = match kind {
            "max_severity_counts" => {
                let m = self.mapping(value, "`max_severity_counts`", SEVERITIES, &[])?;
                let mut limits = SeverityLimits::default();
                for (key, slot) in [
                    ("critical", &mut limits.critical),
                    ("high", &mut limits.high),
                    ("medium", &mut limits.medium),
                    ("low", &mut limits.low),
                    ("unknown", &mut limits.unknown),
                ] {
                    if let Some(n) = m.get(key) {
                        *slot = Some(self.count(n, key)?);
                    }
                }
                if m.is_empty() {
                    self.error(value.pos, "`max_severity_counts` sets no limit: give at least one severity");
                    return None;
                }
                Check::MaxSeverityCounts { limits, fixable_only }
            }
            "deny_ids" => Check::DenyIds { ids: self.strings(value, kind)?, fixable_only },
            "deny_kev" => self.must_be_true(value, kind).then_some(Check::DenyKev { fixable_only })?,
            "max_epss" => match &value.value {
                Value::Map(_) => {
                    let m = self.mapping(value, "`max_epss`", &["probability", "percentile"], &[])?;
                    let probability = m.get("probability").map(|n| self.fraction(n, "probability"));
                    let percentile = m.get("percentile").map(|n| self.fraction(n, "percentile"));
                    if probability.is_none() && percentile.is_none() {
                        self.error(value.pos, "`max_epss` needs `probability` or `percentile`");
                        return None;
                    }
                    let (probability, percentile) = (probability.map(|p| p.ok_or(())), percentile.map(|p| p.ok_or(())));
                    Check::MaxEpss {
                        probability: probability.transpose().ok()?,
                        percentile: percentile.transpose().ok()?,
                        fixable_only,
                    }
                }
                _ => Check::MaxEpss { probability: Some(self.fraction(value, kind)?), percentile: None, fixable_only },
            },
            "deny_malware" => self.must_be_true(value, kind).then_some(Check::DenyMalware)?,
            "deny_secrets" => Check::DenySecrets(self.filter(value, kind, "rules")?),
            "deny_config" => Check::DenyConfig(self.filter(value, kind, "ids")?),
            "allowed_os" => {
                let allowed = self.strings(value, kind)?;
                let deny_end_of_life = match map.get("deny_end_of_life") {
                    Some(n) => self.bool(n, "deny_end_of_life")?,
                    None => false,
                };
                Check::AllowedOs { allowed, deny_end_of_life }
            }
            "deny_end_of_life" => self.must_be_true(value, kind).then_some(Check::DenyEndOfLife)?,
            "allowed_base_registries" => {
                let allowed = self.strings(value, kind)?;
                if let Value::Seq(items) = &value.value {
                    for (item, pattern) in items.iter().zip(&allowed) {
                        // A host pattern (no `/`) is only ever matched against a host.
                        if pattern.contains('/') {
                            self.glob(item, pattern)?;
                        } else {
                            Glob::new(pattern).map_err(|e| self.error(item.pos, e.to_string())).ok()?;
                        }
                    }
                }
                Check::AllowedBaseRegistries(allowed)
            }
            "max_image_age_days" => Check::MaxImageAgeDays(self.count(value, kind)?),
            _ => return None,
        };
        Some(Rule { id: id?, description: description?, action: action?, check })
    }

    /// `deny_secrets`/`deny_config`: `true` (everything) or `{<ids_key>: [...], min_severity: …}`.
    fn filter(&mut self, node: &Node, what: &str, ids_key: &str) -> Option<FindingFilter> {
        if let Value::Scalar { .. } = node.value {
            return self.must_be_true(node, what).then(FindingFilter::default);
        }
        let m = self.mapping(node, &format!("`{what}`"), &[ids_key, "min_severity"], &[])?;
        let ids = match m.get(ids_key) {
            Some(n) => self.strings(n, ids_key)?,
            None => Vec::new(),
        };
        if what == "deny_config"
            && let Some(Value::Seq(items)) = m.get(ids_key).map(|n| &n.value)
        {
            for item in items {
                if let Value::Scalar { text, .. } = &item.value {
                    self.known_config_check(item.pos, text);
                }
            }
        }
        let min_severity = match m.get("min_severity") {
            Some(n) => Some(self.severity(n, "min_severity")?),
            None => None,
        };
        Some(FindingFilter { ids, min_severity })
    }

    fn exception(&mut self, node: &Node) -> Option<Exception> {
        let map = self.mapping(node, "an exception", EXCEPTION_KEYS, &["id", "reason", "owner", "expires"])?;
        let id = map.get("id").and_then(|n| self.non_empty(n, "id"));
        if let (Some(id), Some(n)) = (&id, map.get("id"))
            && id.get(..7).is_some_and(|p| p.eq_ignore_ascii_case("BW-CFG-"))
        {
            self.known_config_check(n.pos, id);
        }
        let reason = map.get("reason").and_then(|n| self.non_empty(n, "reason"));
        let owner = map.get("owner").and_then(|n| self.non_empty(n, "owner"));
        let expires = map.get("expires").and_then(|n| {
            let s = self.string(n, "expires")?;
            let date = if s.len() == 10 { Date::parse(&s) } else { None };
            if date.is_none() {
                self.error(n.pos, format!("`expires` must be a date, YYYY-MM-DD, not `{s}`"));
            }
            date.map(|d| (d, (n.pos.line, n.pos.column)))
        });
        let scope = match map.get("scope") {
            Some(n) => {
                let m = self.mapping(n, "`scope`", SCOPE_KEYS, &[])?;
                // A key given with a bad value fails the exception (its diagnostic is recorded).
                let mut field =
                    |key: &str| m.get(key).map(|n| self.non_empty(n, key).map(|s| (n, s)).ok_or(())).transpose();
                let (image, package, path) = (field("image"), field("package"), field("path"));
                let mut glob = |f: Result<Option<(&&Node, String)>, ()>| match f {
                    Ok(Some((n, s))) => self.glob(n, &s).map(Some).ok_or(()),
                    Ok(None) => Ok(None),
                    Err(()) => Err(()),
                };
                let (image, path) = (glob(image), glob(path));
                Scope { image: image.ok()?, package: package.ok()?.map(|(_, s)| s), path: path.ok()? }
            }
            None => Scope::default(),
        };
        let (expires, expires_at) = expires?;
        Some(Exception { id: id?, scope, reason: reason?, owner: owner?, expires, expires_at })
    }
}

fn id_pos(rule: &Node) -> Pos {
    key_pos(rule, "id").unwrap_or(rule.pos)
}

/// Where `key` is written in a mapping node.
fn key_pos(node: &Node, key: &str) -> Option<Pos> {
    let Value::Map(entries) = &node.value else { return None };
    entries.iter().find_map(|(k, _)| matches!(&k.value, Value::Scalar { text, .. } if text == key).then_some(k.pos))
}

/// The allowed word nearest to a misspelt one, if it is close (edit distance ≤ 2): the
/// "did you mean" of policy keys, `bulwark.yaml` keys and `--output` formats.
pub fn closest<'a>(key: &str, allowed: &[&'a str]) -> Option<&'a str> {
    allowed.iter().map(|a| (distance(key, a), *a)).filter(|(d, _)| *d <= 2).min().map(|(_, a)| a)
}

fn distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    if a.len().abs_diff(b.len()) > 2 || a.len() > 64 {
        return usize::MAX;
    }
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != cb)).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_are_the_one_dialect_and_changed_meanings_are_warned_where_written() {
        let text = "apiVersion: bulwark.dev/v1\nkind: ImageAssertion\nname: g\nrules:\n  - id: r\n    description: d\n    action: deny\n    allowed_base_registries: [ghcr.io/acme/*, '*.io']\nexceptions:\n  - id: CVE-1\n    scope: {image: 'ghcr.io/acme/*', path: /usr/lib/**}\n    reason: r\n    owner: o\n    expires: 2030-01-01\n";
        let p = parse(text).unwrap();
        let scope = &p.exceptions[0].scope;
        let image = scope.image.as_ref().unwrap();
        assert!(image.is_match("ghcr.io/acme/app:1") && !image.is_match("ghcr.io/acme/team/app:1"));
        let at: Vec<(usize, usize)> = p.warnings.iter().map(|d| (d.line, d.column)).collect();
        // The registry list's `ghcr.io/acme/*` and the scope's `image`; not `*.io` (a host,
        // which has no `/`) and not `/usr/lib/**` (which means what it meant).
        assert_eq!(at, vec![(8, 31), (11, 20)], "{:?}", p.warnings);
        assert!(p.warnings.iter().all(|d| d.severity == DiagnosticSeverity::Warning));
        assert!(p.warnings[1].message.starts_with("glob `ghcr.io/acme/*` changed meaning"), "{:?}", p.warnings);
        let linted = lint(text, Date::parse("2025-01-01").unwrap());
        assert_eq!(linted, p.warnings, "lint lists them");

        let bad = text.replace("/usr/lib/**", "'/usr/[lib'");
        let diags = parse(&bad).unwrap_err();
        assert_eq!(diags.len(), 1, "{diags:?}");
        assert!(diags[0].message.starts_with("invalid glob \"/usr/[lib\""), "{diags:?}");
    }

    const KNOWN: KnownIds<'static> = KnownIds { config_checks: &["BW-CFG-001", "BW-CFG-006", "BW-CFG-013"] };

    fn policy(rule: &str, exception_id: &str) -> String {
        format!(
            "apiVersion: bulwark.dev/v1\nkind: ImageAssertion\nname: t\nrules:\n  - id: r\n    description: d\n    action: deny\n    {rule}\nexceptions:\n  - id: {exception_id}\n    reason: r\n    owner: o\n    expires: 2099-01-01\n"
        )
    }

    #[test]
    fn unknown_config_check_ids_are_errors_with_their_position() {
        let today = Date::parse("2025-01-01").unwrap();
        let text = policy("deny_config: {ids: [BW-CFG-001, BW-CFG-999]}", "CVE-2024-1");
        // Without the list nothing can be checked: the plain parser accepts it.
        assert!(parse(&text).is_ok());
        let d = lint_with(&text, today, KNOWN);
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!((d[0].line, d[0].column), (8, 37), "{d:?}");
        assert!(d[0].message.starts_with("unknown config check `BW-CFG-999`"), "{d:?}");
        let d = lint_with(&policy("deny_kev: true", "bw-cfg-006"), today, KNOWN);
        assert!(d[0].message.contains("unknown config check `bw-cfg-006`: did you mean `BW-CFG-006`?"), "{d:?}");
        assert_eq!(d[0].line, 10);
        assert!(lint_with(&policy("deny_config: {ids: [BW-CFG-013]}", "BW-CFG-001"), today, KNOWN).is_empty());
        assert!(parse_with(&policy("deny_kev: true", "BW-CFG-014"), KNOWN).is_err());
    }
}
