//! Bulwark's image reference syntax.
//!
//! | form | meaning |
//! |---|---|
//! | `oci:<dir>[:tag\|@digest]` | an OCI image layout directory |
//! | `oci-archive:<file>[:tag\|@digest]` | a tar of an OCI image layout |
//! | `docker-archive:<file>[:repo:tag]` | `docker save` output |
//! | `dir:<path>` | an unpacked root filesystem |
//! | `docker:<name\|id>` | an image in the local Docker engine (`name` without a tag is `name:latest`) |
//! | `container:<name\|id>` | the image of a container in the local Docker engine |
//! | `registry:<ref>` | an image in an OCI distribution registry |
//! | a bare `<ref>` | the local Docker engine's image of that name if it has one, else the registry's |
//! | `sbom:<file>` | a CycloneDX or SPDX JSON SBOM, scanned instead of an image |

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use crate::{Digest, Error, Result};

/// The registry that references without a host name resolve to.
pub const DEFAULT_REGISTRY: &str = "docker.io";

/// Where an image comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reference {
    OciLayout {
        path: PathBuf,
        selector: ArchiveSelector,
    },
    OciArchive {
        path: PathBuf,
        selector: ArchiveSelector,
    },
    DockerArchive {
        path: PathBuf,
        tag: Option<String>,
    },
    Dir {
        path: PathBuf,
    },
    Docker {
        name: String,
    },
    /// A container in the local Docker engine, by name or id: its image is read (the
    /// container's own changes to its filesystem are not).
    Container {
        name: String,
    },
    Registry(DockerRef),
    /// A reference without a scheme, e.g. `app:1`: the image the local Docker engine has
    /// under this name, or, when the engine has none (or cannot be reached), the
    /// registry's, as Trivy and `docker run` resolve it.
    Bare(DockerRef),
    /// A CycloneDX or SPDX JSON SBOM: its packages are matched instead of an image's.
    Sbom {
        path: PathBuf,
    },
}

/// Which image of an OCI layout to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArchiveSelector {
    /// The only image in the layout (an error if there are several).
    Only,
    /// The manifest annotated with `org.opencontainers.image.ref.name` equal to this.
    Tag(String),
    /// The manifest (or index) with this digest.
    Digest(Digest),
}

/// A reference to an image in a registry: `[host[:port]/]repository[:tag][@digest]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DockerRef {
    /// Registry host and optional port, e.g. `localhost:5000`; `docker.io` when absent.
    pub registry: String,
    /// Repository path, e.g. `library/alpine`.
    pub repository: String,
    pub tag: Option<String>,
    pub digest: Option<Digest>,
}

impl DockerRef {
    /// The tag or digest to request from the registry (`latest` if neither is given).
    pub fn reference(&self) -> String {
        match (&self.digest, &self.tag) {
            (Some(d), _) => d.to_string(),
            (None, Some(t)) => t.clone(),
            (None, None) => "latest".to_owned(),
        }
    }

    /// Whether the registry is on the loopback interface, where plain HTTP is allowed.
    pub fn is_loopback(&self) -> bool {
        let host = match self.registry.strip_prefix('[') {
            Some(v6) => v6.split(']').next().unwrap_or_default(),
            None => self.registry.split(':').next().unwrap_or_default(),
        };
        host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
    }
}

impl fmt::Display for DockerRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

fn invalid(value: &str, reason: impl Into<String>) -> Error {
    Error::InvalidReference { value: value.to_owned(), reason: reason.into() }
}

fn is_valid_tag(tag: &str) -> bool {
    let b = tag.as_bytes();
    !b.is_empty()
        && b.len() <= 128
        && (b[0].is_ascii_alphanumeric() || b[0] == b'_')
        && b.iter().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'))
}

/// One path component of a repository name, per the distribution reference grammar:
/// lower-case alphanumerics separated by `.`, `_`, `__` or runs of `-`.
fn is_valid_component(c: &str) -> bool {
    let b = c.as_bytes();
    if b.is_empty() || !b[0].is_ascii_alphanumeric() || !b[b.len() - 1].is_ascii_alphanumeric() {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'a'..=b'z' | b'0'..=b'9' => i += 1,
            b'.' => {
                if !b[i + 1].is_ascii_alphanumeric() {
                    return false;
                }
                i += 1;
            }
            b'_' => {
                if b[i + 1] == b'_' {
                    i += 1;
                }
                if !b[i + 1].is_ascii_alphanumeric() || !b[i + 1].is_ascii_lowercase() && !b[i + 1].is_ascii_digit() {
                    return false;
                }
                i += 1;
            }
            b'-' => {
                while b[i] == b'-' {
                    i += 1;
                }
            }
            _ => return false,
        }
    }
    true
}

fn is_valid_host(h: &str) -> bool {
    let (host, port) = match h.rsplit_once(':') {
        Some((host, port)) if !host.ends_with(':') && !host.is_empty() && !h.ends_with(']') => (host, Some(port)),
        _ => (h, None),
    };
    if let Some(p) = port
        && (p.is_empty() || p.len() > 5 || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return false;
    }
    if host.starts_with('[') {
        return host.ends_with(']') && host[1..host.len() - 1].parse::<std::net::Ipv6Addr>().is_ok();
    }
    !host.is_empty()
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

impl FromStr for DockerRef {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        if s.is_empty() || s.len() > 4096 {
            return Err(invalid(s, "empty or too long"));
        }
        let (rest, digest) = match s.split_once('@') {
            Some((r, d)) => (r, Some(d.parse::<Digest>().map_err(|e| invalid(s, e.to_string()))?)),
            None => (s, None),
        };
        let (name, tag) = match rest.rsplit_once(':') {
            Some((n, t)) if !t.contains('/') => (n, Some(t)),
            _ => (rest, None),
        };
        if let Some(t) = tag
            && !is_valid_tag(t)
        {
            return Err(invalid(s, format!("invalid tag {t:?}")));
        }
        let (registry, path) = match name.split_once('/') {
            Some((first, path)) if first.contains(['.', ':']) || first == "localhost" || first.starts_with('[') => {
                if !is_valid_host(first) {
                    return Err(invalid(s, format!("invalid registry host {first:?}")));
                }
                (first.to_owned(), path.to_owned())
            }
            _ => (DEFAULT_REGISTRY.to_owned(), name.to_owned()),
        };
        let repository =
            if registry == DEFAULT_REGISTRY && !path.contains('/') { format!("library/{path}") } else { path };
        if repository.len() > 255 {
            return Err(invalid(s, "repository name longer than 255 characters"));
        }
        if let Some(bad) = repository.split('/').find(|c| !is_valid_component(c)) {
            return Err(invalid(
                s,
                format!("invalid repository component {bad:?}: use lower-case letters, digits and separators . _ __ -"),
            ));
        }
        Ok(DockerRef { registry, repository, tag: tag.map(str::to_owned), digest })
    }
}

/// Splits `path[:tag|@digest]` for OCI layouts. A suffix after the last `:` is a tag only
/// if it looks like one and contains no `/`, so paths with colons still work when no tag
/// is given.
fn split_layout(s: &str, value: &str) -> Result<(PathBuf, ArchiveSelector)> {
    if let Some((p, d)) = s.rsplit_once('@')
        && d.contains(':')
    {
        let digest = d.parse::<Digest>().map_err(|e| invalid(value, e.to_string()))?;
        return Ok((PathBuf::from(p), ArchiveSelector::Digest(digest)));
    }
    if let Some((p, t)) = s.rsplit_once(':')
        && !p.is_empty()
        && is_valid_tag(t)
    {
        return Ok((PathBuf::from(p), ArchiveSelector::Tag(t.to_owned())));
    }
    Ok((PathBuf::from(s), ArchiveSelector::Only))
}

impl FromStr for Reference {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        let nonempty = |rest: &str, what: &str| {
            if rest.is_empty() { Err(invalid(s, format!("missing {what} after the scheme"))) } else { Ok(()) }
        };
        if let Some(rest) = s.strip_prefix("oci:") {
            nonempty(rest, "a directory")?;
            let (path, selector) = split_layout(rest, s)?;
            return Ok(Reference::OciLayout { path, selector });
        }
        if let Some(rest) = s.strip_prefix("oci-archive:") {
            nonempty(rest, "a file")?;
            let (path, selector) = split_layout(rest, s)?;
            return Ok(Reference::OciArchive { path, selector });
        }
        if let Some(rest) = s.strip_prefix("docker-archive:") {
            nonempty(rest, "a file")?;
            // `file:repo:tag` selects one image of a multi-image archive.
            return Ok(match rest.split_once(':') {
                Some((p, tag)) if tag.contains(':') || !tag.contains('/') && !tag.is_empty() && !p.is_empty() => {
                    Reference::DockerArchive { path: p.into(), tag: Some(tag.to_owned()) }
                }
                _ => Reference::DockerArchive { path: rest.into(), tag: None },
            });
        }
        if let Some(rest) = s.strip_prefix("dir:") {
            nonempty(rest, "a directory")?;
            return Ok(Reference::Dir { path: rest.into() });
        }
        if let Some(rest) = s.strip_prefix("sbom:") {
            nonempty(rest, "a file")?;
            return Ok(Reference::Sbom { path: rest.into() });
        }
        if let Some(rest) = s.strip_prefix("docker:").or_else(|| s.strip_prefix("docker-daemon:")) {
            nonempty(rest, "an image name or id")?;
            if rest.bytes().any(|b| b.is_ascii_whitespace() || b.is_ascii_control() || b == b'?' || b == b'#') {
                return Err(invalid(s, "image name contains characters that are not allowed"));
            }
            return Ok(Reference::Docker { name: rest.to_owned() });
        }
        if let Some(rest) = s.strip_prefix("container:") {
            nonempty(rest, "a container name or id")?;
            // Docker's container names: `[a-zA-Z0-9][a-zA-Z0-9_.-]+`; ids are hex.
            let b = rest.as_bytes();
            if !b[0].is_ascii_alphanumeric()
                || !b.iter().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'))
                || b.len() > 255
            {
                return Err(invalid(s, "not a container name or id (letters, digits, `_`, `.`, `-`)"));
            }
            return Ok(Reference::Container { name: rest.to_owned() });
        }
        let explicit = s.starts_with("registry:");
        let rest = s.strip_prefix("registry:").unwrap_or(s);
        if let Some((scheme, _)) = rest.split_once(':')
            && !scheme.contains(['/', '.'])
            && rest.split_once('/').is_none_or(|(first, _)| !first.contains(':'))
            && ["http", "https", "file", "podman", "containerd"].contains(&scheme)
        {
            return Err(invalid(s, format!("unknown source scheme {scheme:?}")));
        }
        let r: DockerRef = rest.parse()?;
        Ok(if explicit { Reference::Registry(r) } else { Reference::Bare(r) })
    }
}

impl Reference {
    /// The registry reference this names, for the registry and bare forms.
    pub fn docker_ref(&self) -> Option<&DockerRef> {
        match self {
            Reference::Registry(r) | Reference::Bare(r) => Some(r),
            _ => None,
        }
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sel = |f: &mut fmt::Formatter<'_>, s: &ArchiveSelector| match s {
            ArchiveSelector::Only => Ok(()),
            ArchiveSelector::Tag(t) => write!(f, ":{t}"),
            ArchiveSelector::Digest(d) => write!(f, "@{d}"),
        };
        match self {
            Reference::OciLayout { path, selector } => {
                write!(f, "oci:{}", path.display())?;
                sel(f, selector)
            }
            Reference::OciArchive { path, selector } => {
                write!(f, "oci-archive:{}", path.display())?;
                sel(f, selector)
            }
            Reference::DockerArchive { path, tag } => {
                write!(f, "docker-archive:{}", path.display())?;
                match tag {
                    Some(t) => write!(f, ":{t}"),
                    None => Ok(()),
                }
            }
            Reference::Dir { path } => write!(f, "dir:{}", path.display()),
            Reference::Docker { name } => write!(f, "docker:{name}"),
            Reference::Container { name } => write!(f, "container:{name}"),
            Reference::Registry(r) => write!(f, "registry:{r}"),
            Reference::Bare(r) => write!(f, "{r}"),
            Reference::Sbom { path } => write!(f, "sbom:{}", path.display()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reg(s: &str) -> DockerRef {
        match s.parse::<Reference>().unwrap() {
            Reference::Registry(r) | Reference::Bare(r) => r,
            other => panic!("{s} parsed as {other:?}"),
        }
    }

    #[test]
    fn bare_and_explicit_registry_refs() {
        let bare = "app:1".parse::<Reference>().unwrap();
        assert!(matches!(&bare, Reference::Bare(r) if r.repository == "library/app"));
        // Displayed in full, and read back as the same bare reference.
        assert_eq!(bare.to_string(), "docker.io/library/app:1");
        assert_eq!(bare.to_string().parse::<Reference>().unwrap(), bare);
        let explicit = "registry:app:1".parse::<Reference>().unwrap();
        assert!(matches!(explicit, Reference::Registry(_)));
        assert_eq!(explicit.docker_ref(), bare.docker_ref());
    }

    #[test]
    fn container_refs() {
        assert_eq!("container:web-1".parse::<Reference>().unwrap(), Reference::Container { name: "web-1".into() });
        assert_eq!("container:web_1.x".parse::<Reference>().unwrap().to_string(), "container:web_1.x");
        for bad in ["container:", "container:/web", "container:a b", "container:-x", "container:a:b"] {
            assert!(bad.parse::<Reference>().is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn registry_refs() {
        let r = reg("alpine");
        assert_eq!(
            (r.registry.as_str(), r.repository.as_str(), r.reference()),
            ("docker.io", "library/alpine", "latest".into())
        );
        let r = reg("localhost:5000/app:1.2");
        assert_eq!(
            (r.registry.as_str(), r.repository.as_str(), r.tag.as_deref()),
            ("localhost:5000", "app", Some("1.2"))
        );
        assert!(r.is_loopback());
        let d = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        let r = reg(&format!("ghcr.io/org/app@{d}"));
        assert_eq!(r.reference(), d);
        assert!(!r.is_loopback());
        let r = reg("registry:127.0.0.1:5001/a/b-c__d.e:v1");
        assert_eq!(r.repository, "a/b-c__d.e");
        assert!(r.is_loopback());
        assert!(reg("[::1]:5000/x").is_loopback());
        assert_eq!(reg("org/app").repository, "org/app");
    }

    #[test]
    fn rejects_bad_registry_refs() {
        for bad in [
            "",
            "Upper/Case",
            "app:",
            "app:bad tag",
            "a//b",
            "-a",
            "a@sha256:zz",
            "http://example.com/app",
            "local host:5000/app",
            "localhost:99999999/app",
            "a/../b",
        ] {
            assert!(bad.parse::<Reference>().is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn local_sources() {
        let d = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        assert_eq!(
            "oci:/tmp/img:v1".parse::<Reference>().unwrap(),
            Reference::OciLayout { path: "/tmp/img".into(), selector: ArchiveSelector::Tag("v1".into()) }
        );
        assert_eq!(
            format!("oci:img@{d}").parse::<Reference>().unwrap(),
            Reference::OciLayout { path: "img".into(), selector: ArchiveSelector::Digest(d.parse().unwrap()) }
        );
        assert_eq!(
            "oci-archive:a/b.tar".parse::<Reference>().unwrap(),
            Reference::OciArchive { path: "a/b.tar".into(), selector: ArchiveSelector::Only }
        );
        assert_eq!(
            "docker-archive:x.tar".parse::<Reference>().unwrap(),
            Reference::DockerArchive { path: "x.tar".into(), tag: None }
        );
        assert_eq!(
            "docker-archive:x.tar:app:1".parse::<Reference>().unwrap(),
            Reference::DockerArchive { path: "x.tar".into(), tag: Some("app:1".into()) }
        );
        assert_eq!("dir:/".parse::<Reference>().unwrap(), Reference::Dir { path: "/".into() });
        assert_eq!("docker:app:1".parse::<Reference>().unwrap(), Reference::Docker { name: "app:1".into() });
        assert_eq!("sbom:bom.json".parse::<Reference>().unwrap(), Reference::Sbom { path: "bom.json".into() });
        for bad in ["oci:", "dir:", "docker:", "docker:a b", "docker:x?y", "sbom:"] {
            assert!(bad.parse::<Reference>().is_err(), "{bad:?} accepted");
        }
        for s in ["oci:/tmp/img:v1", "docker:abc", "registry:localhost:5000/app:1"] {
            assert_eq!(s.parse::<Reference>().unwrap().to_string(), s);
        }
    }
}
