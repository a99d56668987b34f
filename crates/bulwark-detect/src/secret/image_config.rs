//! Secrets in the image config: `Env` values, `Labels`, and the variables that build
//! history shows (`ARG`/`ENV` assignments in `created_by`).

use super::*;

pub(super) const ENV_RULE: &str = "env-secret";
pub(super) const GENERIC_RULE: &str = "generic-secret";
pub(super) const ENV_TITLE: &str = "Secret-looking variable with a literal value";

/// Name fragments that mark a credential. `KEY` alone is not one (`GPG_KEY` in the official
/// Python images is a public fingerprint), nor is `AUTH` (`AUTH_METHOD`).
pub(super) const SECRET_NAMES: &[&str] = &[
    "PASSWORD",
    "PASSWD",
    "PASSPHRASE",
    "SECRET",
    "TOKEN",
    "API_KEY",
    "APIKEY",
    "PRIVATE_KEY",
    "ACCESS_KEY",
    "CREDENTIAL",
    "AUTH_KEY",
    "CLIENT_KEY",
    "SIGNING_KEY",
    "ENCRYPTION_KEY",
];

/// Suffixes that make a variable name a reference to a secret, or its metadata, rather than
/// the secret itself (`DB_PASSWORD_FILE`, `TOKEN_URL`, `SECRET_NAME`).
pub(super) const REFERENCE_SUFFIXES: &[&str] = &[
    "_FILE",
    "_PATH",
    "_DIR",
    "_URL",
    "_URI",
    "_ENDPOINT",
    "_HOST",
    "_PORT",
    "_USER",
    "_USERNAME",
    "_NAME",
    "_ID",
    "_LENGTH",
    "_TTL",
    "_EXPIRY",
    "_TIMEOUT",
    "_TYPE",
    "_HEADER",
    "_ENABLED",
    "_REQUIRED",
    "_POLICY",
    "_MIN",
    "_MAX",
    "_LEN",
    "_VERSION",
    "_MODE",
    "_REGION",
];

/// Whether an environment variable, build argument or label `name=value` holds a literal
/// credential: its name says so and its value is really set. One definition for the
/// `env-secret` rule and the `BW-CFG-003` config check, so they never disagree.
pub fn secret_variable(name: &str, value: &str) -> bool {
    env_name_is_secret(name) && env_value_is_real(value) && !rules::is_placeholder(value.as_bytes())
}

pub(super) fn env_name_is_secret(name: &str) -> bool {
    let upper = name.trim().to_ascii_uppercase();
    SECRET_NAMES.iter().any(|s| upper.contains(s)) && !REFERENCE_SUFFIXES.iter().any(|s| upper.ends_with(s))
}

/// A value that is really set: not empty, not a placeholder, not a variable reference, not a
/// path to a file holding the secret, not a bare boolean.
pub(super) fn env_value_is_real(value: &str) -> bool {
    let v = value.trim().trim_matches(|c| c == '"' || c == '\'');
    if v.is_empty() || v.starts_with('/') || v.starts_with('$') || v.starts_with("file:") {
        return false;
    }
    if v.starts_with('<') && v.ends_with('>') || v.starts_with("{{") || v.starts_with("%(") {
        return false;
    }
    if v.chars().all(|c| matches!(c, '*' | 'x' | 'X' | '.' | '-' | '_' | '#')) {
        return false;
    }
    let lower = v.to_ascii_lowercase();
    const PLACEHOLDERS: &[&str] = &[
        "true",
        "false",
        "yes",
        "no",
        "on",
        "off",
        "0",
        "1",
        "none",
        "null",
        "nil",
        "undefined",
        "unset",
        "empty",
        "placeholder",
        "changeme",
        "change_me",
        "change-me",
        "replace_me",
        "replaceme",
        "todo",
        "tbd",
        "redacted",
        "secret",
        "password",
        "token",
        "example",
    ];
    !PLACEHOLDERS.contains(&lower.as_str()) && !lower.starts_with("your_") && !lower.starts_with("your-")
}

/// `NAME=value` assignments a history entry passes: build args (`|2 A=1 B=2 /bin/sh -c …`)
/// and `ENV`/`ARG` instructions (BuildKit's `ENV A=1`, the classic `#(nop)  ENV A=1`).
pub(super) fn history_assignments(created_by: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let text = created_by.trim_start();
    if let Some(rest) = text.strip_prefix('|') {
        let mut words = rest.split_whitespace();
        let n: usize = words.next().and_then(|n| n.parse().ok()).unwrap_or(0);
        for w in words.take(n) {
            if let Some((k, v)) = w.split_once('=') {
                out.push((k.to_owned(), v.to_owned()));
            }
        }
    }
    let words: Vec<&str> = text.split_whitespace().collect();
    for (i, w) in words.iter().enumerate() {
        if *w != "ENV" && *w != "ARG" {
            continue;
        }
        let args = &words[i + 1..];
        if let Some(first) = args.first() {
            if first.contains('=') {
                for a in args.iter().take_while(|a| a.contains('=')) {
                    if let Some((k, v)) = a.split_once('=') {
                        out.push((k.to_owned(), v.to_owned()));
                    }
                }
            } else if *w == "ENV" && args.len() > 1 {
                out.push(((*first).to_owned(), args[1..].join(" ")));
            }
        }
        break;
    }
    out
}

/// Secrets in the image config: `Env` (`config:Env`), labels (`config:Labels`) and each
/// `history[i].created_by` (`config:history[i]`). Variables with secret-looking names and a
/// literal value are findings (`env-secret`) even when the value has no known format.
pub fn scan_image_config(scanner: &SecretScanner, config: &ImageConfig) -> Vec<SecretFinding> {
    let mut out = Vec::new();
    // (location, text, the NAME=value assignments it makes)
    type Text = (String, String, Vec<(String, String)>);
    let mut texts: Vec<Text> = Vec::new();
    for e in &config.config.env {
        let pair = e.split_once('=').map(|(k, v)| vec![(k.to_owned(), v.to_owned())]).unwrap_or_default();
        texts.push(("config:Env".into(), e.clone(), pair));
    }
    for (k, v) in &config.config.labels {
        texts.push(("config:Labels".into(), format!("{k}={v}"), vec![(k.clone(), v.clone())]));
    }
    for (i, h) in config.history.iter().enumerate() {
        if let Some(c) = &h.created_by {
            texts.push((format!("config:history[{i}]"), c.clone(), history_assignments(c)));
        }
    }
    for (location, text, pairs) in texts {
        let bytes = text.as_bytes();
        let hits = scanner.hits(&location, bytes, false);
        // Secrets a rule already found; a variable whose value holds one is not reported
        // again as `env-secret`. (Previews show too little context to tell by the name.)
        let secrets: Vec<&[u8]> = hits.iter().map(|h| &bytes[h.secret.0..h.secret.1]).collect();
        let mut found = scanner.stored(&location, bytes, hits);
        for (name, value) in pairs {
            let covered =
                !value.is_empty() && secrets.iter().any(|s| memchr::memmem::find(value.as_bytes(), s).is_some());
            if covered || !secret_variable(&name, &value) {
                continue;
            }
            let value = value.trim_matches(|c| c == '"' || c == '\'');
            found.push(Stored {
                rule: ENV_RULE.into(),
                line: None,
                preview: format!("{name}={}", mask(value.as_bytes())),
                fingerprint: fingerprint(ENV_RULE, &location, value.as_bytes()),
            });
        }
        for mut s in found {
            s.line = None;
            if scanner.allowed(&location, &s.rule, &s.fingerprint) {
                continue;
            }
            let loc = FileLocation { path: location.clone(), layer: None, removed_in: None, line: None, entry: None };
            out.push(scanner.finding(s, loc));
        }
    }
    sort(&mut out);
    out
}
