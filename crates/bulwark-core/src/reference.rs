//! Bulwark's image reference syntax.
//!
//! A reference is a scheme and a target. The scheme names the source an image is read from;
//! the target's [`Target`] shape (a layout, an archive, a path, a local image or
//! container, a registry reference) is what consumers look at, so a new source of an
//! existing shape changes no consumer. [`SCHEMES`] is the one table of schemes: parsing,
//! [`Display`](fmt::Display) and the table below follow it (a unit test keeps this table
//! equal to it).
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
//!
//! A scan reads either an image or an SBOM: `sbom:<file>` (a CycloneDX or SPDX JSON SBOM,
//! scanned instead of an image) is a [`ScanInput`], not an image reference.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use crate::{Digest, Error, Result};

/// The registry that references without a host name resolve to.
pub const DEFAULT_REGISTRY: &str = "docker.io";

/// What a scheme's target looks like: the part of a reference consumers match on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// `<path>[:tag|@digest]`: an OCI image layout, as a directory or a tar.
    Layout,
    /// `<file>[:repo:tag]`: a tar of saved images, one selected by its `repo:tag`.
    Archive,
    /// `<path>`: something on the local disk.
    Path,
    /// `<name|id>`: an image of a local engine.
    LocalImage,
    /// `<name|id>`: a container of a local engine (its image is read).
    LocalContainer,
    /// `[host[:port]/]repository[:tag][@digest]`: an image in a registry.
    Registry,
}

/// One scheme of the reference syntax: its name, its target's shape and what it reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scheme {
    /// The name written before the `:` (`oci`), or `bare` for the one form without one.
    pub name: &'static str,
    /// Other names accepted before the `:`, read as this scheme (and written as `name`).
    pub aliases: &'static [&'static str],
    /// Whether references of this scheme are written `name:…` (all but the bare form).
    pub prefixed: bool,
    pub shape: Shape,
    /// What follows the scheme, for the syntax table: `<dir>[:tag|@digest]`.
    pub syntax: &'static str,
    /// What is missing when nothing follows the scheme: `a directory`.
    pub operand: &'static str,
    /// One line on what the scheme reads.
    pub summary: &'static str,
}

/// Every scheme, in the order they are tried when parsing (the bare form last, since it is
/// whatever no prefix claims). Adding a source: one line here, one module in
/// `bulwark-image/src/source/` and its registration (ARCHITECTURE.md, "Adding an image
/// source").
pub const SCHEMES: &[Scheme] = &[
    Scheme {
        name: "oci",
        aliases: &[],
        prefixed: true,
        shape: Shape::Layout,
        syntax: "<dir>[:tag|@digest]",
        operand: "a directory",
        summary: "an OCI image layout directory",
    },
    Scheme {
        name: "oci-archive",
        aliases: &[],
        prefixed: true,
        shape: Shape::Layout,
        syntax: "<file>[:tag|@digest]",
        operand: "a file",
        summary: "a tar of an OCI image layout",
    },
    Scheme {
        name: "docker-archive",
        aliases: &[],
        prefixed: true,
        shape: Shape::Archive,
        syntax: "<file>[:repo:tag]",
        operand: "a file",
        summary: "`docker save` output",
    },
    Scheme {
        name: "dir",
        aliases: &[],
        prefixed: true,
        shape: Shape::Path,
        syntax: "<path>",
        operand: "a directory",
        summary: "an unpacked root filesystem",
    },
    Scheme {
        name: "docker",
        aliases: &["docker-daemon"],
        prefixed: true,
        shape: Shape::LocalImage,
        syntax: "<name|id>",
        operand: "an image name or id",
        summary: "an image in the local Docker engine (`name` without a tag is `name:latest`)",
    },
    Scheme {
        name: "container",
        aliases: &[],
        prefixed: true,
        shape: Shape::LocalContainer,
        syntax: "<name|id>",
        operand: "a container name or id",
        summary: "the image of a container in the local Docker engine",
    },
    Scheme {
        name: "registry",
        aliases: &[],
        prefixed: true,
        shape: Shape::Registry,
        syntax: "<ref>",
        operand: "a reference",
        summary: "an image in an OCI distribution registry",
    },
    Scheme {
        name: "bare",
        aliases: &[],
        prefixed: false,
        shape: Shape::Registry,
        syntax: "<ref>",
        operand: "a reference",
        summary: "the local Docker engine's image of that name if it has one, else the registry's",
    },
];

impl Scheme {
    /// The scheme of this name (not an alias).
    pub fn named(name: &str) -> Option<&'static Scheme> {
        SCHEMES.iter().find(|s| s.name == name)
    }

    /// The form of the syntax table: `oci:<dir>[:tag|@digest]`, or `<ref>` for the bare form.
    pub fn form(&self) -> String {
        if self.prefixed { format!("{}:{}", self.name, self.syntax) } else { self.syntax.to_owned() }
    }
}

/// Where an image comes from: a scheme of [`SCHEMES`] and a target of that scheme's shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    scheme: &'static Scheme,
    target: Target,
}

/// What a reference names, by shape (see [`Shape`]); the scheme says which source reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// An OCI image layout (`oci:`, `oci-archive:`) and which of its images.
    Layout { path: PathBuf, selector: ArchiveSelector },
    /// A tar of saved images (`docker-archive:`), and the `repo:tag` of one of several.
    Archive { path: PathBuf, tag: Option<String> },
    /// A path on disk (`dir:`).
    Path(PathBuf),
    /// An image of a local engine by name or id (`docker:`).
    LocalImage(String),
    /// A container of a local engine, by name or id (`container:`): its image is read (the
    /// container's own changes to its filesystem are not).
    LocalContainer(String),
    /// An image in a registry (`registry:`). `bare` for a reference without a scheme, e.g.
    /// `app:1`: the image the local Docker engine has under this name, or, when the engine
    /// has none (or cannot be reached), the registry's, as Trivy and `docker run` resolve it.
    Registry { reference: DockerRef, bare: bool },
}

impl Target {
    /// This target's shape.
    pub fn shape(&self) -> Shape {
        match self {
            Target::Layout { .. } => Shape::Layout,
            Target::Archive { .. } => Shape::Archive,
            Target::Path(_) => Shape::Path,
            Target::LocalImage(_) => Shape::LocalImage,
            Target::LocalContainer(_) => Shape::LocalContainer,
            Target::Registry { .. } => Shape::Registry,
        }
    }
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

/// The scheme of [`ScanInput::Sbom`].
pub const SBOM_SCHEME: &str = "sbom";

fn nonempty(value: &str, rest: &str, what: &str) -> Result<()> {
    if rest.is_empty() { Err(invalid(value, format!("missing {what} after the scheme"))) } else { Ok(()) }
}

/// Parses what follows a scheme of `shape`; `value` is the whole reference, for errors.
fn parse_target(shape: Shape, rest: &str, value: &str, bare: bool) -> Result<Target> {
    Ok(match shape {
        Shape::Layout => {
            let (path, selector) = split_layout(rest, value)?;
            Target::Layout { path, selector }
        }
        // `file:repo:tag` selects one image of a multi-image archive.
        Shape::Archive => match rest.split_once(':') {
            Some((p, tag)) if tag.contains(':') || !tag.contains('/') && !tag.is_empty() && !p.is_empty() => {
                Target::Archive { path: p.into(), tag: Some(tag.to_owned()) }
            }
            _ => Target::Archive { path: rest.into(), tag: None },
        },
        Shape::Path => Target::Path(rest.into()),
        Shape::LocalImage => {
            if rest.bytes().any(|b| b.is_ascii_whitespace() || b.is_ascii_control() || b == b'?' || b == b'#') {
                return Err(invalid(value, "image name contains characters that are not allowed"));
            }
            Target::LocalImage(rest.to_owned())
        }
        Shape::LocalContainer => {
            // Docker's container names: `[a-zA-Z0-9][a-zA-Z0-9_.-]+`; ids are hex.
            let b = rest.as_bytes();
            if !b[0].is_ascii_alphanumeric()
                || !b.iter().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'))
                || b.len() > 255
            {
                return Err(invalid(value, "not a container name or id (letters, digits, `_`, `.`, `-`)"));
            }
            Target::LocalContainer(rest.to_owned())
        }
        Shape::Registry => {
            // Another tool's scheme is an error here, not a repository named `podman`.
            if let Some((scheme, _)) = rest.split_once(':')
                && !scheme.contains(['/', '.'])
                && rest.split_once('/').is_none_or(|(first, _)| !first.contains(':'))
                && ["http", "https", "file", "podman", "containerd"].contains(&scheme)
            {
                return Err(invalid(value, format!("unknown source scheme {scheme:?}")));
            }
            Target::Registry { reference: rest.parse()?, bare }
        }
    })
}

impl FromStr for Reference {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        if s.strip_prefix(SBOM_SCHEME).is_some_and(|r| r.starts_with(':')) {
            return Err(Error::NotAnImage { reference: s.to_owned() });
        }
        for scheme in SCHEMES {
            let rest = if scheme.prefixed {
                let Some(rest) = std::iter::once(&scheme.name)
                    .chain(scheme.aliases)
                    .find_map(|name| s.strip_prefix(name).and_then(|r| r.strip_prefix(':')))
                else {
                    continue;
                };
                // `registry:` with nothing after it fails the registry grammar ("empty"),
                // like an empty bare reference.
                if scheme.shape != Shape::Registry {
                    nonempty(s, rest, scheme.operand)?;
                }
                rest
            } else {
                s
            };
            let target = parse_target(scheme.shape, rest, s, !scheme.prefixed)?;
            return Ok(Reference { scheme, target });
        }
        Err(invalid(s, "no scheme reads it"))
    }
}

impl Reference {
    /// A reference of scheme `scheme` (a name of [`SCHEMES`]) to `target`; `None` when there
    /// is no such scheme or `target` is not of its shape (a registry target is `bare` exactly
    /// for the bare scheme).
    pub fn new(scheme: &str, target: Target) -> Option<Reference> {
        let scheme = Scheme::named(scheme)?;
        let fits = scheme.shape == target.shape()
            && !matches!(target, Target::Registry { bare, .. } if bare == scheme.prefixed);
        fits.then_some(Reference { scheme, target })
    }

    /// The scheme's name (`oci`, `docker-archive`, …, `bare`): which source reads it.
    pub fn scheme(&self) -> &'static str {
        self.scheme.name
    }

    /// The scheme's entry of [`SCHEMES`].
    pub fn scheme_info(&self) -> &'static Scheme {
        self.scheme
    }

    /// What the reference names.
    pub fn target(&self) -> &Target {
        &self.target
    }

    /// The registry reference this names, for the registry and bare forms.
    pub fn docker_ref(&self) -> Option<&DockerRef> {
        match &self.target {
            Target::Registry { reference, .. } => Some(reference),
            _ => None,
        }
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.scheme.prefixed {
            write!(f, "{}:", self.scheme.name)?;
        }
        match &self.target {
            Target::Layout { path, selector } => {
                write!(f, "{}", path.display())?;
                match selector {
                    ArchiveSelector::Only => Ok(()),
                    ArchiveSelector::Tag(t) => write!(f, ":{t}"),
                    ArchiveSelector::Digest(d) => write!(f, "@{d}"),
                }
            }
            Target::Archive { path, tag } => {
                write!(f, "{}", path.display())?;
                match tag {
                    Some(t) => write!(f, ":{t}"),
                    None => Ok(()),
                }
            }
            Target::Path(path) => write!(f, "{}", path.display()),
            Target::LocalImage(name) | Target::LocalContainer(name) => write!(f, "{name}"),
            Target::Registry { reference, .. } => write!(f, "{reference}"),
        }
    }
}

/// What a scan reads: an image, or an SBOM (`sbom:<file>`, a CycloneDX or SPDX JSON SBOM or
/// Bulwark's JSON report) whose packages are matched instead of an image's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScanInput {
    Image(Reference),
    Sbom(PathBuf),
}

impl ScanInput {
    /// The image reference, unless this is an SBOM.
    pub fn image(&self) -> Option<&Reference> {
        match self {
            ScanInput::Image(r) => Some(r),
            ScanInput::Sbom(_) => None,
        }
    }
}

impl From<Reference> for ScanInput {
    fn from(r: Reference) -> ScanInput {
        ScanInput::Image(r)
    }
}

impl FromStr for ScanInput {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s.strip_prefix(SBOM_SCHEME).and_then(|r| r.strip_prefix(':')) {
            Some(rest) => {
                nonempty(s, rest, "a file")?;
                Ok(ScanInput::Sbom(rest.into()))
            }
            None => s.parse().map(ScanInput::Image),
        }
    }
}

impl fmt::Display for ScanInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScanInput::Image(r) => write!(f, "{r}"),
            ScanInput::Sbom(path) => write!(f, "{SBOM_SCHEME}:{}", path.display()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reg(s: &str) -> DockerRef {
        match s.parse::<Reference>().unwrap().target {
            Target::Registry { reference, .. } => reference,
            other => panic!("{s} parsed as {other:?}"),
        }
    }

    fn local(scheme: &str, target: Target) -> Reference {
        Reference::new(scheme, target).unwrap()
    }

    #[test]
    fn bare_and_explicit_registry_refs() {
        let bare = "app:1".parse::<Reference>().unwrap();
        assert!(
            matches!(bare.target(), Target::Registry { reference, bare: true } if reference.repository == "library/app")
        );
        assert_eq!(bare.scheme(), "bare");
        // Displayed in full, and read back as the same bare reference.
        assert_eq!(bare.to_string(), "docker.io/library/app:1");
        assert_eq!(bare.to_string().parse::<Reference>().unwrap(), bare);
        let explicit = "registry:app:1".parse::<Reference>().unwrap();
        assert!(matches!(explicit.target(), Target::Registry { bare: false, .. }));
        assert_eq!(explicit.scheme(), "registry");
        assert_eq!(explicit.docker_ref(), bare.docker_ref());
    }

    #[test]
    fn container_refs() {
        assert_eq!(
            "container:web-1".parse::<Reference>().unwrap(),
            local("container", Target::LocalContainer("web-1".into()))
        );
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
            "registry:",
        ] {
            assert!(bad.parse::<Reference>().is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn local_sources() {
        let d = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        assert_eq!(
            "oci:/tmp/img:v1".parse::<Reference>().unwrap(),
            local("oci", Target::Layout { path: "/tmp/img".into(), selector: ArchiveSelector::Tag("v1".into()) })
        );
        assert_eq!(
            format!("oci:img@{d}").parse::<Reference>().unwrap(),
            local("oci", Target::Layout { path: "img".into(), selector: ArchiveSelector::Digest(d.parse().unwrap()) })
        );
        assert_eq!(
            "oci-archive:a/b.tar".parse::<Reference>().unwrap(),
            local("oci-archive", Target::Layout { path: "a/b.tar".into(), selector: ArchiveSelector::Only })
        );
        assert_eq!(
            "docker-archive:x.tar".parse::<Reference>().unwrap(),
            local("docker-archive", Target::Archive { path: "x.tar".into(), tag: None })
        );
        assert_eq!(
            "docker-archive:x.tar:app:1".parse::<Reference>().unwrap(),
            local("docker-archive", Target::Archive { path: "x.tar".into(), tag: Some("app:1".into()) })
        );
        assert_eq!("dir:/".parse::<Reference>().unwrap(), local("dir", Target::Path("/".into())));
        assert_eq!("docker:app:1".parse::<Reference>().unwrap(), local("docker", Target::LocalImage("app:1".into())));
        // The alias reads as the scheme, and is written as it.
        assert_eq!("docker-daemon:app:1".parse::<Reference>().unwrap().to_string(), "docker:app:1");
        for bad in ["oci:", "dir:", "docker:", "docker:a b", "docker:x?y"] {
            assert!(bad.parse::<Reference>().is_err(), "{bad:?} accepted");
        }
        for s in [
            "oci:/tmp/img:v1",
            "oci-archive:a.tar@sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "docker-archive:x.tar:app:1",
            "dir:/r",
            "docker:abc",
            "container:web",
            "registry:localhost:5000/app:1",
        ] {
            assert_eq!(s.parse::<Reference>().unwrap().to_string(), s);
        }
    }

    #[test]
    fn sbom_is_a_scan_input_not_an_image() {
        assert_eq!("sbom:bom.json".parse::<ScanInput>().unwrap(), ScanInput::Sbom("bom.json".into()));
        assert_eq!("sbom:bom.json".parse::<ScanInput>().unwrap().to_string(), "sbom:bom.json");
        assert!("sbom:".parse::<ScanInput>().is_err());
        let e = "sbom:bom.json".parse::<Reference>().unwrap_err();
        assert!(matches!(&e, Error::NotAnImage { reference } if reference == "sbom:bom.json"), "{e:?}");
        assert_eq!(e.to_string(), "sbom:bom.json: an SBOM holds no image to read");
        let image = "oci:img:v1".parse::<ScanInput>().unwrap();
        assert_eq!(image.image().map(Reference::scheme), Some("oci"));
        assert_eq!(image.to_string(), "oci:img:v1");
    }

    #[test]
    fn new_checks_the_shape_of_the_scheme() {
        let r = || DockerRef::from_str("app:1").unwrap();
        assert!(Reference::new("registry", Target::Registry { reference: r(), bare: false }).is_some());
        assert!(Reference::new("registry", Target::Registry { reference: r(), bare: true }).is_none());
        assert!(Reference::new("bare", Target::Registry { reference: r(), bare: true }).is_some());
        assert!(Reference::new("dir", Target::LocalImage("x".into())).is_none());
        assert!(Reference::new("podman", Target::LocalImage("x".into())).is_none());
    }

    /// The module's table is the scheme table: one row per scheme, in its order.
    #[test]
    fn doc_table_is_the_scheme_table() {
        let rows: Vec<String> = include_str!("reference.rs")
            .lines()
            .take_while(|l| l.starts_with("//!"))
            .filter(|l| l.starts_with("//! | ") && !l.starts_with("//! | form"))
            .map(str::to_owned)
            .collect();
        let expected: Vec<String> = SCHEMES
            .iter()
            .map(|s| {
                let form = s.form().replace('|', "\\|");
                let form = if s.prefixed { format!("`{form}`") } else { format!("a bare `{form}`") };
                format!("//! | {form} | {} |", s.summary)
            })
            .collect();
        assert_eq!(rows, expected);
        let mut names: Vec<&str> =
            SCHEMES.iter().flat_map(|s| std::iter::once(&s.name).chain(s.aliases)).copied().collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), SCHEMES.iter().map(|s| 1 + s.aliases.len()).sum::<usize>(), "a name used twice");
        assert!(SCHEMES.last().is_some_and(|s| !s.prefixed), "the bare form is tried last");
        assert_eq!(SCHEMES.iter().filter(|s| !s.prefixed).count(), 1);
    }
}
