//! Version parsing and ordering per package ecosystem, for matching installed packages
//! against advisories.
//!
//! Each scheme has its own parsed type implementing [`Ord`] with the ecosystem's own rules
//! ([`DpkgVersion`], [`RpmVersion`], [`ApkVersion`], [`Pep440Version`], [`SemverVersion`],
//! [`GoVersion`], [`MavenVersion`], [`GemVersion`], [`ComposerVersion`]); [`Ecosystem`] picks
//! one by name, including OSV ecosystem names ([`Ecosystem::from_osv`]). Equality on these types
//! is equal *precedence* (`1.0 == 1.0.0` where the scheme says so), not string equality.
//!
//! Strict schemes return an [`Error`] for input they do not accept; nothing here panics on any
//! input. [`GenericVersion`] orders any string by a documented fallback rule, for ecosystems
//! this crate does not model ([`Ecosystem::Generic`]) or when a caller explicitly wants a
//! best-effort answer for an invalid version.
//!
//! ```
//! use std::cmp::Ordering;
//! use bulwark_version::{compare, DpkgVersion, Ecosystem};
//!
//! // Debian's `~` sorts before the release, and the epoch wins over everything.
//! let eco = Ecosystem::from_osv("Debian:12");
//! assert_eq!(eco, Ecosystem::Dpkg);
//! assert_eq!(compare(eco, "2.36-9+deb12u4", "2.36-9+deb12u10").unwrap(), Ordering::Less);
//! assert!(DpkgVersion::parse("1:1.0~rc1-1").unwrap() > DpkgVersion::parse("9.9").unwrap());
//!
//! // PEP 440 accepts non-normalised spellings and orders pre/post/dev releases.
//! assert_eq!(compare(Ecosystem::Pep440, "1.0-RC.1", "1.0rc1").unwrap(), Ordering::Equal);
//! assert_eq!(compare(Ecosystem::Pep440, "1.0.post1", "1.0").unwrap(), Ordering::Greater);
//!
//! // Invalid input is an error, never a guess.
//! assert!(compare(Ecosystem::Semver, "1.0", "1.0.0").is_err());
//! ```

use std::cmp::Ordering;
use std::fmt;

pub mod apk;
mod composer;
mod dpkg;
mod error;
pub mod generic;
pub mod golang;
mod maven;
mod num;
mod pep440;
mod rpm;
mod rubygems;
mod semver;

pub use apk::ApkVersion;
pub use composer::{ComposerVersion, normalize as composer_normalize};
pub use dpkg::DpkgVersion;
pub use error::{Error, Result};
pub use generic::GenericVersion;
pub use golang::GoVersion;
pub use maven::MavenVersion;
pub use pep440::Pep440Version;
pub use rpm::{RpmVersion, rpmvercmp};
pub use rubygems::GemVersion;
pub use semver::{SemverFlavor, SemverVersion};

/// A version ordering scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Ecosystem {
    /// Debian and Ubuntu packages ([`DpkgVersion`]).
    Dpkg,
    /// Red Hat family and SUSE packages ([`RpmVersion`]).
    Rpm,
    /// Alpine, Wolfi and Chainguard packages ([`ApkVersion`]).
    Apk,
    /// Python packages ([`Pep440Version`]).
    Pep440,
    /// Strict SemVer 2.0.0: crates.io, Hex, Pub, SwiftPM ([`SemverVersion`]).
    Semver,
    /// npm packages: SemVer with `v`/`=` prefixes allowed ([`SemverFlavor::Npm`]).
    Npm,
    /// NuGet packages: up to four numeric parts ([`SemverFlavor::NuGet`]).
    NuGet,
    /// Go modules ([`GoVersion`]).
    Go,
    /// Maven artifacts ([`MavenVersion`]).
    Maven,
    /// Ruby gems ([`GemVersion`]).
    RubyGems,
    /// Packagist packages ([`ComposerVersion`]).
    Composer,
    /// The fallback rule for anything else ([`GenericVersion`]); never fails.
    Generic,
}

impl Ecosystem {
    /// Every scheme, in declaration order.
    pub const ALL: [Ecosystem; 12] = [
        Ecosystem::Dpkg,
        Ecosystem::Rpm,
        Ecosystem::Apk,
        Ecosystem::Pep440,
        Ecosystem::Semver,
        Ecosystem::Npm,
        Ecosystem::NuGet,
        Ecosystem::Go,
        Ecosystem::Maven,
        Ecosystem::RubyGems,
        Ecosystem::Composer,
        Ecosystem::Generic,
    ];

    /// Maps an OSV ecosystem name (<https://ossf.github.io/osv-schema/#affectedpackage-field>)
    /// to its version scheme. The release after `:` is ignored (`Debian:12`, `Alpine:v3.19`);
    /// the match is case-insensitive; unknown names map to [`Ecosystem::Generic`].
    pub fn from_osv(name: &str) -> Ecosystem {
        let base = name.split(':').next().unwrap_or(name).trim().to_ascii_lowercase();
        match base.as_str() {
            "debian" | "ubuntu" => Ecosystem::Dpkg,
            "red hat" | "rocky linux" | "almalinux" | "suse" | "opensuse" | "mageia" | "openeuler" | "azure linux"
            | "photon os" | "fedora" | "centos" | "oracle linux" | "amazon linux" | "openmandriva" => Ecosystem::Rpm,
            "alpine" | "wolfi" | "chainguard" | "alpaquita" | "bellsoft hardened containers" | "minimos" => {
                Ecosystem::Apk
            }
            "pypi" => Ecosystem::Pep440,
            "npm" => Ecosystem::Npm,
            "crates.io" | "hex" | "pub" | "swifturl" => Ecosystem::Semver,
            "nuget" => Ecosystem::NuGet,
            "go" => Ecosystem::Go,
            "maven" => Ecosystem::Maven,
            "rubygems" => Ecosystem::RubyGems,
            "packagist" => Ecosystem::Composer,
            _ => Ecosystem::Generic,
        }
    }

    /// A short human-readable name of the scheme.
    pub fn name(self) -> &'static str {
        match self {
            Ecosystem::Dpkg => "dpkg",
            Ecosystem::Rpm => "rpm",
            Ecosystem::Apk => "apk",
            Ecosystem::Pep440 => "PEP 440",
            Ecosystem::Semver => "SemVer",
            Ecosystem::Npm => "npm",
            Ecosystem::NuGet => "NuGet",
            Ecosystem::Go => "Go",
            Ecosystem::Maven => "Maven",
            Ecosystem::RubyGems => "RubyGems",
            Ecosystem::Composer => "Composer",
            Ecosystem::Generic => "generic",
        }
    }

    /// Parses `s` with this scheme.
    pub fn parse(self, s: &str) -> Result<Version> {
        Version::parse(self, s)
    }

    /// Compares two version strings with this scheme; see [`compare`].
    pub fn compare(self, a: &str, b: &str) -> Result<Ordering> {
        compare(self, a, b)
    }
}

impl fmt::Display for Ecosystem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A version parsed with one of the schemes.
///
/// Versions of the same scheme are ordered by it; versions of different schemes are not
/// comparable ([`PartialOrd::partial_cmp`] returns `None`).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Version {
    Dpkg(DpkgVersion),
    Rpm(RpmVersion),
    Apk(ApkVersion),
    Pep440(Pep440Version),
    /// Strict SemVer, npm and NuGet versions; the flavour only changes what parses.
    Semver(SemverVersion),
    Go(GoVersion),
    Maven(MavenVersion),
    RubyGems(GemVersion),
    Composer(ComposerVersion),
    Generic(GenericVersion),
}

impl Version {
    /// Parses `s` with the scheme of `eco`.
    pub fn parse(eco: Ecosystem, s: &str) -> Result<Version> {
        Ok(match eco {
            Ecosystem::Dpkg => Version::Dpkg(DpkgVersion::parse(s)?),
            Ecosystem::Rpm => Version::Rpm(RpmVersion::parse(s)?),
            Ecosystem::Apk => Version::Apk(ApkVersion::parse(s)?),
            Ecosystem::Pep440 => Version::Pep440(Pep440Version::parse(s)?),
            Ecosystem::Semver => Version::Semver(SemverVersion::parse(s)?),
            Ecosystem::Npm => Version::Semver(SemverVersion::parse_flavor(s, SemverFlavor::Npm)?),
            Ecosystem::NuGet => Version::Semver(SemverVersion::parse_flavor(s, SemverFlavor::NuGet)?),
            Ecosystem::Go => Version::Go(GoVersion::parse(s)?),
            Ecosystem::Maven => Version::Maven(MavenVersion::parse(s)?),
            Ecosystem::RubyGems => Version::RubyGems(GemVersion::parse(s)?),
            Ecosystem::Composer => Version::Composer(ComposerVersion::parse(s)?),
            Ecosystem::Generic => Version::Generic(GenericVersion::parse(s)),
        })
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(match (self, other) {
            (Version::Dpkg(a), Version::Dpkg(b)) => a.cmp(b),
            (Version::Rpm(a), Version::Rpm(b)) => a.cmp(b),
            (Version::Apk(a), Version::Apk(b)) => a.cmp(b),
            (Version::Pep440(a), Version::Pep440(b)) => a.cmp(b),
            (Version::Semver(a), Version::Semver(b)) => a.cmp(b),
            (Version::Go(a), Version::Go(b)) => a.cmp(b),
            (Version::Maven(a), Version::Maven(b)) => a.cmp(b),
            (Version::RubyGems(a), Version::RubyGems(b)) => a.cmp(b),
            (Version::Composer(a), Version::Composer(b)) => a.cmp(b),
            (Version::Generic(a), Version::Generic(b)) => a.cmp(b),
            _ => return None,
        })
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Version::Dpkg(v) => v.fmt(f),
            Version::Rpm(v) => v.fmt(f),
            Version::Apk(v) => v.fmt(f),
            Version::Pep440(v) => v.fmt(f),
            Version::Semver(v) => v.fmt(f),
            Version::Go(v) => v.fmt(f),
            Version::Maven(v) => v.fmt(f),
            Version::RubyGems(v) => v.fmt(f),
            Version::Composer(v) => v.fmt(f),
            Version::Generic(v) => v.fmt(f),
        }
    }
}

/// Compares two version strings with the scheme of `eco`.
///
/// Fails if either string is not a valid version in that scheme (except
/// [`Ecosystem::Generic`], which accepts everything). For apk's and Go's own behaviour on
/// invalid strings see [`apk::compare_loose`] and [`golang::compare_upstream`].
pub fn compare(eco: Ecosystem, a: &str, b: &str) -> Result<Ordering> {
    let (a, b) = (Version::parse(eco, a)?, Version::parse(eco, b)?);
    // Same scheme on both sides, so this is always `Some`.
    Ok(a.partial_cmp(&b).unwrap_or(Ordering::Equal))
}

/// Compares any two strings with the [generic fallback rule](generic); never fails.
pub fn compare_generic(a: &str, b: &str) -> Ordering {
    generic::compare(a, b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn osv_names() {
        let cases = [
            ("Debian:12", Ecosystem::Dpkg),
            ("Ubuntu:22.04:LTS", Ecosystem::Dpkg),
            ("Alpine:v3.19", Ecosystem::Apk),
            ("Red Hat:enterprise_linux:9::appstream", Ecosystem::Rpm),
            ("Rocky Linux:9", Ecosystem::Rpm),
            ("AlmaLinux:8", Ecosystem::Rpm),
            ("PyPI", Ecosystem::Pep440),
            ("npm", Ecosystem::Npm),
            ("crates.io", Ecosystem::Semver),
            ("Go", Ecosystem::Go),
            ("Maven", Ecosystem::Maven),
            ("RubyGems", Ecosystem::RubyGems),
            ("Packagist", Ecosystem::Composer),
            ("NuGet", Ecosystem::NuGet),
            ("Wolfi", Ecosystem::Apk),
            ("CRAN", Ecosystem::Generic),
            ("", Ecosystem::Generic),
        ];
        for (name, want) in cases {
            assert_eq!(Ecosystem::from_osv(name), want, "{name}");
        }
    }

    #[test]
    fn mixed_schemes_do_not_compare() {
        let a = Version::parse(Ecosystem::Dpkg, "1.0").unwrap();
        let b = Version::parse(Ecosystem::Rpm, "1.0").unwrap();
        assert_eq!(a.partial_cmp(&b), None);
    }
}
