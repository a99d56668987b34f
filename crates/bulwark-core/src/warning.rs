//! Warnings: what was wrong with an image (or with a scan's inputs) but did not stop the
//! scan, as values with a kind, the layer and path they are about, and a message.
//!
//! A warning's `Display` is the one text every human-readable output shows:
//! `layer N: ` when it names a layer, then `path: ` when it names a path, then the message.
//! JSON carries the parts (`{"kind", "layer", "path", "message"}`); reports written before
//! warnings had parts held plain strings, and those still deserialize (see [`Warning`]).
//!
//! ```
//! use bulwark_core::{Warning, WarningKind};
//!
//! let w = Warning::file("/etc/passwd", "a link that cannot be followed (loop); nothing read there").in_layer(2);
//! assert_eq!(w.to_string(), "layer 2: /etc/passwd: a link that cannot be followed (loop); nothing read there");
//! assert_eq!(w.kind, WarningKind::Layer);
//! let old: Warning = serde_json::from_str(r#""layer 2: /etc/passwd: a link that cannot be followed (loop); nothing read there""#).unwrap();
//! assert_eq!(old, w);
//! ```

use std::fmt;

use serde::{Deserialize, Serialize};

/// What kind of problem a [`Warning`] is. The names are stable codes (kebab-case in JSON).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum WarningKind {
    /// A counted limit was reached (`limit reached: --<flag>=<n>: …`): the rest was not
    /// checked.
    Limit,
    /// A layer cache entry could not be used, or the cache cannot authenticate entries.
    Cache,
    /// Something odd in a layer: a tar entry, a link, a file that could not be read.
    Layer,
    /// A package database, manifest or lockfile that was only partly readable.
    Package,
    /// A rule (malware, secret allowlist) that was not loaded or compiled.
    Rules,
    /// A note about the image source: a platform fallback, a foreign layer, an archive
    /// holding several images, an SBOM entry that was skipped.
    Source,
    /// A note of the matcher, the advisory database, an ignore file or a VEX document.
    Match,
    /// Anything else.
    Other,
}

impl WarningKind {
    /// The stable code, as written in JSON.
    pub fn code(self) -> &'static str {
        match self {
            WarningKind::Limit => "limit",
            WarningKind::Cache => "cache",
            WarningKind::Layer => "layer",
            WarningKind::Package => "package",
            WarningKind::Rules => "rules",
            WarningKind::Source => "source",
            WarningKind::Match => "match",
            WarningKind::Other => "other",
        }
    }
}

/// One warning of a scan. Its `Display` is the text the report formats show.
///
/// Deserializes from the structured form and from the plain string reports held before
/// (the store keeps reports written then; `rematch` and `scan sbom:` read them back): the
/// string's `layer N: ` prefix and leading `/path: ` become `layer` and `path`, and its
/// kind is inferred from the wording the pipeline used, so that the text shown is the same.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(from = "Repr")]
pub struct Warning {
    pub kind: WarningKind,
    /// The layer (index in the image, base first) the warning is about, when it names one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layer: Option<usize>,
    /// The path the warning is about, when it names one, as it is named in the text (a
    /// path in the image, a cache entry, a rule file).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The text after the `layer N: ` and `path: ` prefixes.
    pub message: String,
}

impl Warning {
    /// A warning of `kind` that names no layer and no path.
    pub fn new(kind: WarningKind, message: impl Into<String>) -> Warning {
        Warning { kind, layer: None, path: None, message: message.into() }
    }

    /// Something odd about the file at `path` in a layer (the layer is added with
    /// [`Warning::in_layer`] where it is known).
    pub fn file(path: impl Into<String>, message: impl Into<String>) -> Warning {
        Warning::new(WarningKind::Layer, message).at(path)
    }

    /// Something odd in layer `layer`, about `path` when given.
    pub fn layer(layer: usize, path: Option<String>, message: impl Into<String>) -> Warning {
        Warning { kind: WarningKind::Layer, layer: Some(layer), path, message: message.into() }
    }

    /// A package database, manifest or lockfile at `path` that was only partly readable.
    pub fn package(path: impl Into<String>, message: impl Into<String>) -> Warning {
        Warning::new(WarningKind::Package, message).at(path)
    }

    /// A counted limit that was reached: `limit reached: --<flag>=<limit>: <what> (<dropped>
    /// more not checked)`, the one shape readers recognise (see
    /// [`crate::report::limit_warning`]).
    pub fn limit(flag: &str, limit: u64, what: &str, dropped: u64) -> Warning {
        Warning::new(WarningKind::Limit, crate::report::limit_warning(flag, limit, what, dropped))
    }

    /// A layer cache entry that could not be used, or a cache that cannot authenticate.
    pub fn cache(message: impl Into<String>) -> Warning {
        Warning::new(WarningKind::Cache, message)
    }

    /// A rule that was not loaded or compiled.
    pub fn rules(message: impl Into<String>) -> Warning {
        Warning::new(WarningKind::Rules, message)
    }

    /// A note about the image source.
    pub fn source(message: impl Into<String>) -> Warning {
        Warning::new(WarningKind::Source, message)
    }

    /// A note of the matcher, the advisory database, an ignore file or a VEX document.
    pub fn matching(message: impl Into<String>) -> Warning {
        Warning::new(WarningKind::Match, message)
    }

    /// Anything else.
    pub fn other(message: impl Into<String>) -> Warning {
        Warning::new(WarningKind::Other, message)
    }

    /// The same warning about `path`.
    pub fn at(mut self, path: impl Into<String>) -> Warning {
        self.path = Some(path.into());
        self
    }

    /// The same warning about layer `layer`.
    pub fn in_layer(mut self, layer: usize) -> Warning {
        self.layer = Some(layer);
        self
    }

    /// The structure of a warning written as text, before warnings had parts: its
    /// `layer N: ` prefix, a leading `/path: `, and its kind from the pipeline's wording.
    /// `legacy(text).to_string() == text` for every text.
    fn legacy(text: &str) -> Warning {
        let (layer, rest) = match text.strip_prefix("layer ").and_then(|r| r.split_once(": ")) {
            // Only a number written as Display writes it, so the text is kept exactly.
            Some((n, rest)) if n.parse::<usize>().is_ok_and(|v| v.to_string() == n) => (n.parse().ok(), rest),
            _ => (None, text),
        };
        let (path, message) = match rest.split_once(": ") {
            Some((p, m)) if p.starts_with('/') => (Some(p.to_owned()), m),
            _ => (None, rest),
        };
        let kind = if message.starts_with(crate::report::LIMIT_WARNING_PREFIX) {
            WarningKind::Limit
        } else if message.starts_with("layer cache") {
            WarningKind::Cache
        } else if message.starts_with("secret rule") || (message.contains("rule") && message.contains("not loaded")) {
            WarningKind::Rules
        } else if layer.is_some() || path.is_some() {
            WarningKind::Layer
        } else {
            WarningKind::Other
        };
        Warning { kind, layer, path, message: message.to_owned() }
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(layer) = self.layer {
            write!(f, "layer {layer}: ")?;
        }
        if let Some(path) = &self.path {
            write!(f, "{path}: ")?;
        }
        f.write_str(&self.message)
    }
}

/// The structured form of a warning, as it is serialised.
#[derive(Deserialize)]
struct Parts {
    kind: WarningKind,
    #[serde(default)]
    layer: Option<usize>,
    #[serde(default)]
    path: Option<String>,
    message: String,
}

impl From<Parts> for Warning {
    fn from(Parts { kind, layer, path, message }: Parts) -> Warning {
        Warning { kind, layer, path, message }
    }
}

/// What a warning deserializes from: the structured form, or a legacy string.
#[derive(Deserialize)]
#[serde(untagged)]
enum Repr {
    Text(String),
    Parts(Parts),
}

impl From<Repr> for Warning {
    fn from(r: Repr) -> Warning {
        match r {
            Repr::Text(text) => Warning::legacy(&text),
            Repr::Parts(parts) => parts.into(),
        }
    }
}

/// For `#[serde(deserialize_with)]`: a list of warnings in the structured form only. A plain
/// string is an error here, never split into parts by guessing: for stored results whose
/// older shape must be a cache miss rather than a guess.
pub fn structured_warnings<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<Warning>, D::Error> {
    Ok(Vec::<Parts>::deserialize(d)?.into_iter().map(Warning::from).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_layer_then_path_then_message() {
        assert_eq!(Warning::other("the archive holds 2 images").to_string(), "the archive holds 2 images");
        assert_eq!(
            Warning::package("/var/lib/dpkg/status", "bad line 3").to_string(),
            "/var/lib/dpkg/status: bad line 3"
        );
        assert_eq!(
            Warning::layer(0, Some("etc".into()), "cannot list: denied").to_string(),
            "layer 0: etc: cannot list: denied"
        );
        assert_eq!(
            Warning::limit("max-findings", 10, "secret findings of rule x", 3).to_string(),
            "limit reached: --max-findings=10: secret findings of rule x (3 more not checked)"
        );
    }

    #[test]
    fn json_has_the_parts_and_skips_absent_ones() {
        let w = Warning::file("/etc/passwd", "a link that cannot be followed (loop); nothing read there").in_layer(2);
        assert_eq!(
            serde_json::to_string(&w).unwrap(),
            r#"{"kind":"layer","layer":2,"path":"/etc/passwd","message":"a link that cannot be followed (loop); nothing read there"}"#
        );
        assert_eq!(serde_json::to_string(&Warning::cache("x")).unwrap(), r#"{"kind":"cache","message":"x"}"#);
        let back: Warning = serde_json::from_str(&serde_json::to_string(&w).unwrap()).unwrap();
        assert_eq!(back, w);
        let codes: Vec<String> = [WarningKind::Limit, WarningKind::Package, WarningKind::Match]
            .iter()
            .map(|k| serde_json::to_value(k).unwrap().as_str().unwrap().to_owned())
            .collect();
        assert_eq!(codes, [WarningKind::Limit.code(), WarningKind::Package.code(), WarningKind::Match.code()]);
    }

    #[test]
    fn legacy_strings_get_their_parts_and_keep_their_text() {
        let cases: &[(&str, WarningKind, Option<usize>, Option<&str>)] = &[
            (
                "layer 2: /etc/passwd: a link that cannot be followed (loop); nothing read there",
                WarningKind::Layer,
                Some(2),
                Some("/etc/passwd"),
            ),
            (
                "limit reached: --max-findings=10: secret findings of rule x (3 more not checked)",
                WarningKind::Limit,
                None,
                None,
            ),
            ("layer cache entry /c/x.json.zst fails its integrity check; not used", WarningKind::Cache, None, None),
            ("secret rule aws not loaded: bad regex", WarningKind::Rules, None, None),
            ("the archive holds 2 images", WarningKind::Other, None, None),
            ("/app/package-lock.json: bad json", WarningKind::Layer, None, Some("/app/package-lock.json")),
            ("layer 1: huge is a sparse file", WarningKind::Layer, Some(1), None),
            // Not a layer prefix as Display writes one: kept as text.
            ("layer 01: x", WarningKind::Other, None, None),
            ("layer x: y", WarningKind::Other, None, None),
        ];
        for &(text, kind, layer, path) in cases {
            let w: Warning = serde_json::from_value(serde_json::Value::String(text.to_owned())).unwrap();
            assert_eq!((w.kind, w.layer, w.path.as_deref()), (kind, layer, path), "{text}");
            assert_eq!(w.to_string(), text);
        }
    }

    #[test]
    fn a_structured_warning_without_kind_is_an_error() {
        assert!(serde_json::from_str::<Warning>(r#"{"message":"x"}"#).is_err());
        assert!(serde_json::from_str::<Warning>(r#"{"kind":"nope","message":"x"}"#).is_err());
    }
}
