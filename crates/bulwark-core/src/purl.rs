//! Package URLs (purl-spec,
//! <https://github.com/package-url/purl-spec/blob/main/PURL-SPECIFICATION.rst>): the one
//! parser and formatter every crate uses, for the purls the catalogers build, the purls other
//! tools write into SBOMs, and the `pkg:oci` purl of an image.

use std::fmt;
use std::str::FromStr;

use crate::{Error, excerpt};

/// A parsed package URL. Components are stored decoded; `Display` renders the canonical
/// form (each component percent-encoded, qualifiers sorted by key, empty ones left out).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Purl {
    /// The type, lower-cased: `deb`, `npm`, `maven`, …
    pub ty: String,
    /// Namespace segments joined by `/`, decoded (`@angular`, `org.apache.logging.log4j`).
    pub namespace: Option<String>,
    pub name: String,
    pub version: Option<String>,
    /// Key/value pairs, keys lower-cased, values decoded, in the order found.
    pub qualifiers: Vec<(String, String)>,
    pub subpath: Option<String>,
}

impl Purl {
    /// The value of a qualifier.
    pub fn qualifier(&self, key: &str) -> Option<&str> {
        self.qualifiers.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    /// The package name as its ecosystem spells it, which is how Bulwark's catalogers name
    /// packages: Maven `groupId:artifactId`, npm `@scope/name`, Go and Composer
    /// `namespace/name`; OS package types drop the namespace (it names the distro vendor).
    pub fn ecosystem_name(&self) -> String {
        let ns = self.namespace.as_deref().filter(|n| !n.is_empty());
        match (self.ty.as_str(), ns) {
            ("deb" | "apk" | "rpm" | "alpm" | "pypi" | "cargo" | "gem" | "nuget" | "hex" | "pub", _) | (_, None) => {
                self.name.clone()
            }
            ("maven", Some(ns)) => format!("{ns}:{}", self.name),
            (_, Some(ns)) => format!("{ns}/{}", self.name),
        }
    }

    /// The version as the package manager prints it: for rpm the `epoch` qualifier goes back
    /// in front (`1:3.0.7-27.el9`), as rpm and Bulwark's catalogers spell it.
    pub fn ecosystem_version(&self) -> Option<String> {
        let v = self.version.as_deref().filter(|v| !v.is_empty())?;
        match (self.ty.as_str(), self.qualifier("epoch")) {
            ("rpm", Some(epoch)) if !epoch.is_empty() && epoch != "0" && !v.contains(':') => {
                Some(format!("{epoch}:{v}"))
            }
            _ => Some(v.to_owned()),
        }
    }
}

impl FromStr for Purl {
    type Err = Error;

    /// Parses a purl following the spec's parsing algorithm (right to left: subpath,
    /// qualifiers, scheme, type, version, name, namespace).
    fn from_str(s: &str) -> Result<Self, Error> {
        let err = |reason: &str| Error::InvalidPurl { value: excerpt(s), reason: reason.to_owned() };
        let (rest, subpath) = match s.split_once('#') {
            Some((rest, sub)) => {
                let segs: Vec<String> = sub
                    .split('/')
                    .filter(|p| !p.is_empty() && *p != "." && *p != "..")
                    .map(decode)
                    .collect::<Result<_, _>>()
                    .map_err(&err)?;
                (rest, Some(segs.join("/")).filter(|p| !p.is_empty()))
            }
            None => (s, None),
        };
        let (rest, qualifiers) = match rest.split_once('?') {
            Some((rest, q)) => {
                let mut qualifiers = Vec::new();
                for pair in q.split('&').filter(|p| !p.is_empty()) {
                    let (k, v) = pair.split_once('=').ok_or_else(|| err("a qualifier has no '='"))?;
                    let v = decode(v).map_err(&err)?;
                    if !v.is_empty() {
                        qualifiers.push((k.to_ascii_lowercase(), v));
                    }
                }
                (rest, qualifiers)
            }
            None => (rest, Vec::new()),
        };
        let (scheme, rest) = rest.split_once(':').ok_or_else(|| err("no 'pkg:' scheme"))?;
        if !scheme.eq_ignore_ascii_case("pkg") {
            return Err(err("the scheme is not 'pkg'"));
        }
        let rest = rest.trim_start_matches('/');
        let (ty, rest) = rest.split_once('/').ok_or_else(|| err("no type"))?;
        if ty.is_empty() || !ty.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'+' | b'-')) {
            return Err(err("the type is empty or has characters other than letters, digits, '.', '+', '-'"));
        }
        let ty = ty.to_ascii_lowercase();
        let rest = rest.trim_end_matches('/');
        // The version starts at the last '@' after the last '/': an npm scope (`@angular/core`)
        // is not a version separator.
        let last_slash = rest.rfind('/').map(|i| i + 1).unwrap_or(0);
        let (rest, version) = match rest[last_slash..].rfind('@') {
            Some(i) => {
                let at = last_slash + i;
                (&rest[..at], Some(decode(&rest[at + 1..]).map_err(&err)?).filter(|v| !v.is_empty()))
            }
            None => (rest, None),
        };
        let (namespace, name) = match rest.rsplit_once('/') {
            Some((ns, name)) => {
                let segs: Vec<String> =
                    ns.split('/').filter(|p| !p.is_empty()).map(decode).collect::<Result<_, _>>().map_err(&err)?;
                (Some(segs.join("/")).filter(|n| !n.is_empty()), name)
            }
            None => (None, rest),
        };
        let mut name = decode(name).map_err(&err)?;
        if name.is_empty() {
            return Err(err("no name"));
        }
        let mut namespace = namespace;
        // Type-specific normalisation the spec requires of every parser.
        match ty.as_str() {
            "pypi" => name = name.to_ascii_lowercase().replace('_', "-"),
            "deb" | "apk" | "alpm" | "bitbucket" | "github" | "composer" => {
                name = name.to_ascii_lowercase();
                namespace = namespace.map(|n| n.to_ascii_lowercase());
            }
            _ => {}
        }
        Ok(Purl { ty, namespace, name, version, qualifiers, subpath })
    }
}

/// Decodes `%XX` escapes; the result must be UTF-8.
fn decode(s: &str) -> Result<String, &'static str> {
    if !s.contains('%') {
        return Ok(s.to_owned());
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3).ok_or("a '%' escape is cut short")?;
            let hex = std::str::from_utf8(hex).map_err(|_| "a '%' escape is not hexadecimal")?;
            out.push(u8::from_str_radix(hex, 16).map_err(|_| "a '%' escape is not hexadecimal")?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| "a decoded component is not UTF-8")
}

/// Percent-encodes everything outside the purl-spec's unreserved set. `:` stays literal:
/// the spec says it must not be encoded, whether used as a separator or not (the same rule
/// everywhere a purl is written).
fn encode(s: &str, out: &mut fmt::Formatter<'_>) -> fmt::Result {
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'~' | b':') {
            write!(out, "{}", b as char)?;
        } else {
            write!(out, "%{b:02X}")?;
        }
    }
    Ok(())
}

impl fmt::Display for Purl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "pkg:{}/", self.ty.to_ascii_lowercase())?;
        if let Some(ns) = self.namespace.as_deref().filter(|ns| !ns.is_empty()) {
            for (i, seg) in ns.split('/').filter(|s| !s.is_empty()).enumerate() {
                if i > 0 {
                    f.write_str("/")?;
                }
                encode(seg, f)?;
            }
            f.write_str("/")?;
        }
        encode(&self.name, f)?;
        if let Some(v) = &self.version {
            f.write_str("@")?;
            encode(v, f)?;
        }
        let mut qualifiers: Vec<_> = self.qualifiers.iter().filter(|(_, v)| !v.is_empty()).collect();
        qualifiers.sort_by(|a, b| a.0.cmp(&b.0));
        for (i, (k, v)) in qualifiers.into_iter().enumerate() {
            f.write_str(if i == 0 { "?" } else { "&" })?;
            f.write_str(&k.to_ascii_lowercase())?;
            f.write_str("=")?;
            // `/` is kept in qualifier values such as `repository_url`, as the spec's own
            // `pkg:oci` examples write them.
            for part in v.split('/').enumerate() {
                if part.0 > 0 {
                    f.write_str("/")?;
                }
                encode(part.1, f)?;
            }
        }
        if let Some(sub) = self.subpath.as_deref().filter(|s| !s.is_empty()) {
            f.write_str("#")?;
            for (i, seg) in sub.split('/').filter(|s| !s.is_empty()).enumerate() {
                if i > 0 {
                    f.write_str("/")?;
                }
                encode(seg, f)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, ty: &str, name: &str, version: Option<&str>) -> Purl {
        let p: Purl = input.parse().unwrap_or_else(|e| panic!("{input}: {e}"));
        assert_eq!((p.ty.as_str(), p.ecosystem_name().as_str(), p.ecosystem_version().as_deref()), (ty, name, version));
        p
    }

    #[test]
    fn spec_examples() {
        // Examples from the purl-spec's README and PURL-TYPES.rst.
        check("pkg:deb/debian/curl@7.50.3-1?arch=i386&distro=jessie", "deb", "curl", Some("7.50.3-1"));
        check("pkg:npm/%40angular/animation@12.3.1", "npm", "@angular/animation", Some("12.3.1"));
        check("pkg:npm/foobar@12.3.1", "npm", "foobar", Some("12.3.1"));
        check(
            "pkg:golang/google.golang.org/genproto#googleapis/api/annotations",
            "golang",
            "google.golang.org/genproto",
            None,
        );
        check(
            "pkg:maven/org.apache.xmlgraphics/batik-anim@1.9.1?packaging=sources",
            "maven",
            "org.apache.xmlgraphics:batik-anim",
            Some("1.9.1"),
        );
        check("pkg:pypi/django_allauth@1.11.1", "pypi", "django-allauth", Some("1.11.1"));
        check("pkg:rpm/fedora/curl@7.50.3-1.fc25?arch=i386&distro=fedora-25", "rpm", "curl", Some("7.50.3-1.fc25"));
        check(
            "pkg:rpm/opensuse/curl@7.56.1-1.1.?arch=i386&distro=opensuse-tumbleweed",
            "rpm",
            "curl",
            Some("7.56.1-1.1."),
        );
        check("pkg:gem/ruby-advisory-db-check@0.12.4", "gem", "ruby-advisory-db-check", Some("0.12.4"));
        check("pkg:composer/laravel/laravel@5.5.0", "composer", "laravel/laravel", Some("5.5.0"));
        check("pkg:cargo/rand@0.7.2", "cargo", "rand", Some("0.7.2"));
        check("pkg:nuget/EnterpriseLibrary.Common@6.0.1304", "nuget", "EnterpriseLibrary.Common", Some("6.0.1304"));
        let oci = check(
            "pkg:oci/debian@sha256%3A244fd47e07d10?repository_url=docker.io/library/debian&arch=amd64&tag=latest",
            "oci",
            "debian",
            Some("sha256:244fd47e07d10"),
        );
        assert_eq!(oci.qualifier("repository_url"), Some("docker.io/library/debian"));
    }

    #[test]
    fn npm_scope_without_version_is_not_a_version() {
        check("pkg:npm/@angular/core", "npm", "@angular/core", None);
    }

    #[test]
    fn rpm_epoch_goes_back_into_the_version() {
        // Syft's rpm purls carry the epoch as a qualifier, as the purl-spec says.
        check(
            "pkg:rpm/redhat/openssl-libs@3.0.7-27.el9?arch=x86_64&epoch=1&upstream=openssl-3.0.7-27.el9.src.rpm&distro=rhel-9.4",
            "rpm",
            "openssl-libs",
            Some("1:3.0.7-27.el9"),
        );
    }

    #[test]
    fn round_trips_catalog_spelling() {
        for s in [
            "pkg:deb/debian/libstdc%2B%2B6@1:12.2.0-14%2Bdeb12u1?arch=amd64&distro=debian-12",
            "pkg:rpm/redhat/curl@9.0-1.cm2?arch=i386&distro=rhel-9.3&epoch=2",
            "pkg:npm/%40types/node@20.1.0",
            "pkg:oci/app@sha256:abcd?arch=amd64&repository_url=localhost:5000/team/app&tag=1.2",
        ] {
            let p: Purl = s.parse().unwrap();
            assert_eq!(p.to_string(), s);
        }
    }

    #[test]
    fn rejects_garbage() {
        for s in
            ["", "curl", "pkg:", "pkg:deb", "pkg:deb/", "http://x/y", "pkg:deb/debian/c%zzurl", "pkg:deb/debian/%ff"]
        {
            assert!(s.parse::<Purl>().is_err(), "{s:?} parsed");
        }
    }
}
