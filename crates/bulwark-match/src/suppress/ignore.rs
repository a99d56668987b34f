//! Ignore files: parsing and validation (what an entry says; [`super::apply`] applies it).

use super::*;

/// A parsed ignore file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IgnoreFile {
    /// `ignore:<path>`, as reported in [`Suppression::source`].
    pub source: String,
    pub entries: Vec<IgnoreEntry>,
    /// Things to tell the user that do not stop the file from being used (the deprecated
    /// flat scope keys, globs whose meaning changed with the one dialect).
    pub warnings: Vec<String>,
}

/// One ignore entry. Every scope that is set must match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IgnoreEntry {
    /// A vulnerability id; matches a finding's id or any alias, case-insensitively.
    pub id: String,
    /// A package name (the package's own or its source package's) or a purl.
    pub package: Option<String>,
    /// A glob over the package's locations (`docs/globs.md`).
    pub path: Option<Glob>,
    /// A glob over the image reference (with or without its `registry:` prefix) or an
    /// exact manifest/config digest.
    pub image: Option<Glob>,
    pub reason: String,
    /// The last day the entry applies.
    pub expires: Date,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIgnoreFile {
    #[serde(default)]
    ignores: Vec<RawIgnore>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIgnore {
    id: String,
    #[serde(default)]
    scope: Option<RawScope>,
    /// Deprecated: the flat form of `scope.package` (and of `path` and `image` below).
    #[serde(default)]
    package: Option<String>,
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    image: Option<String>,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    expires: Option<String>,
}

/// `scope:` of an ignore entry, as in policy exceptions.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawScope {
    #[serde(default)]
    package: Option<String>,
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    image: Option<String>,
}

/// Reads an ignore file (YAML or JSON). Every entry needs `id`, `reason` and `expires`.
pub fn load_ignore_file(path: impl AsRef<Path>) -> Result<IgnoreFile> {
    let path = path.as_ref();
    parse_ignore_file(&read(path)?, &format!("ignore:{}", path.display()))
}

/// Parses ignore-file bytes; `source` names the file in the report (`ignore:<path>`).
pub fn parse_ignore_file(bytes: &[u8], source: &str) -> Result<IgnoreFile> {
    let text = std::str::from_utf8(bytes).map_err(|e| invalid(source, format!("not UTF-8: {e}")))?;
    let raw: RawIgnoreFile = if text.trim_start().starts_with('{') {
        serde_json::from_str(text).map_err(|e| invalid(source, e.to_string()))?
    } else if text.trim().is_empty() {
        RawIgnoreFile { ignores: Vec::new() }
    } else {
        serde_saphyr::from_str(text).map_err(|e| invalid(source, first_line(&e.to_string())))?
    };
    let mut entries = Vec::with_capacity(raw.ignores.len());
    let mut warnings = Vec::new();
    let mut flat = 0;
    for (i, e) in raw.ignores.into_iter().enumerate() {
        let at = |what: &str| invalid(source, format!("ignores[{i}] ({}): {what}", excerpt(&e.id)));
        let id = e.id.trim().to_owned();
        if id.is_empty() {
            return Err(invalid(source, format!("ignores[{i}]: empty id")));
        }
        let reason = e.reason.as_deref().map(str::trim).filter(|r| !r.is_empty()).ok_or_else(|| at("no reason"))?;
        let expires = e.expires.as_deref().map(str::trim).ok_or_else(|| at("no expires date (YYYY-MM-DD)"))?;
        let expires = Date::parse(expires)
            .ok_or_else(|| at(&format!("expires {:?} is not a date (YYYY-MM-DD)", excerpt(expires))))?;
        let scope = |s: Option<String>| s.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
        let nested = e.scope.unwrap_or_default();
        if e.package.is_some() || e.path.is_some() || e.image.is_some() {
            flat += 1;
        }
        // One place per key: the flat and the nested form of the same key would be two
        // answers to one question.
        let pick = |key: &str, flat: Option<String>, nested: Option<String>| match (flat, nested) {
            (Some(_), Some(_)) => Err(at(&format!("`{key}` is given both flat and under `scope`: keep `scope.{key}`"))),
            (f, n) => Ok(scope(n.or(f))),
        };
        let package = pick("package", e.package, nested.package)?;
        let mut glob = |key: &str, pattern: Option<String>| -> Result<Option<Glob>> {
            let Some(pattern) = pattern else { return Ok(None) };
            let g = Glob::new(&pattern).map_err(|err| at(&format!("scope.{key}: {err}")))?;
            if let Some(change) = glob::migration(&pattern, Legacy::IgnoreFile) {
                warnings
                    .push(format!("{source}: ignores[{i}] ({}) scope.{key}: {change} (docs/globs.md)", excerpt(&id)));
            }
            Ok(Some(g))
        };
        let path = glob("path", pick("path", e.path, nested.path)?)?;
        let image = glob("image", pick("image", e.image, nested.image)?)?;
        if let Some(p) = package.as_deref().filter(|p| p.starts_with("pkg:")) {
            p.parse::<Purl>().map_err(|err| at(&format!("package: {err}")))?;
        }
        entries.push(IgnoreEntry { id, package, path, image, reason: reason.to_owned(), expires });
    }
    if flat > 0 {
        warnings.insert(0, format!(
            "{source}: {} {} `package`, `path` or `image` beside `id`; this form is deprecated: move them under `scope:` as in policy exceptions (docs/ignore-file.md)",
            flat,
            if flat == 1 { "entry gives" } else { "entries give" }
        ));
    }
    Ok(IgnoreFile { source: source.to_owned(), entries, warnings })
}
