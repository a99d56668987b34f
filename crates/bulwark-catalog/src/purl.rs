//! The purl of each package the catalogers find, per the purl specification
//! (<https://github.com/package-url/purl-spec>): OS packages (`deb`, `apk`, `rpm`) with the
//! `distro` qualifier, and language packages with each type's naming rules. The `Purl`
//! type itself (parsing and canonical formatting) is `bulwark_core::Purl`.

pub use bulwark_core::Purl;

use crate::os::Distro;
use crate::package::{Package, PackageKind};

/// Builds the purl of an OS package. The namespace is the distro vendor (`debian`,
/// `ubuntu`, `alpine`, `redhat`, `rocky`, …): from `distro` when known, else the
/// package type's usual vendor (`debian` for deb, `alpine` for apk, none for rpm).
pub fn for_package(pkg: &Package, distro: Option<&Distro>) -> Purl {
    if !pkg.kind.is_os() {
        return for_language_package(pkg);
    }
    let namespace = match distro {
        // Red Hat's own VEX and SBOMs use `pkg:rpm/redhat/…`, not the os-release ID `rhel`.
        Some(d) if d.id == "rhel" => Some("redhat".to_owned()),
        Some(d) => Some(d.id.clone()),
        None => match pkg.kind {
            PackageKind::Deb => Some("debian".to_owned()),
            PackageKind::Apk => Some("alpine".to_owned()),
            _ => None,
        },
    };
    let mut qualifiers = Vec::new();
    if let Some(arch) = &pkg.arch {
        qualifiers.push(("arch".to_owned(), arch.clone()));
    }
    if let Some(d) = distro
        && let Some(q) = d.purl_qualifier()
    {
        qualifiers.push(("distro".to_owned(), q));
    }
    // rpm purls carry the epoch as a qualifier and `version-release` as the version;
    // dpkg keeps the epoch inside the version string, as dpkg itself prints it.
    let version = match pkg.kind {
        PackageKind::Rpm => {
            if let Some(epoch) = pkg.epoch {
                qualifiers.push(("epoch".to_owned(), epoch.to_string()));
            }
            strip_rpm_epoch(&pkg.version).to_owned()
        }
        _ => pkg.version.clone(),
    };
    Purl {
        ty: pkg.kind.purl_type().to_owned(),
        namespace,
        name: pkg.name.clone(),
        version: Some(version).filter(|v| !v.is_empty()),
        qualifiers,
        subpath: None,
    }
}

/// Language package purls, following each type's rules in the purl-spec: PyPI names
/// lower-cased with `_` as `-`; npm scopes as the namespace; Go module paths split
/// into namespace and last segment; Maven `groupId:artifactId` as namespace and name.
fn for_language_package(pkg: &Package) -> Purl {
    let (namespace, name) = match pkg.kind {
        PackageKind::Python => (None, pkg.name.to_ascii_lowercase().replace('_', "-")),
        PackageKind::Npm => match pkg.name.strip_prefix('@').and_then(|n| n.split_once('/')) {
            Some((scope, name)) => (Some(format!("@{scope}")), name.to_owned()),
            None => (None, pkg.name.clone()),
        },
        PackageKind::GoModule | PackageKind::Composer => match pkg.name.rsplit_once('/') {
            Some((ns, name)) => (Some(ns.to_owned()), name.to_owned()),
            None => (None, pkg.name.clone()),
        },
        PackageKind::Maven => match pkg.name.split_once(':') {
            Some((group, artifact)) => (Some(group.to_owned()), artifact.to_owned()),
            None => (None, pkg.name.clone()),
        },
        _ => (None, pkg.name.clone()),
    };
    Purl {
        ty: pkg.kind.purl_type().to_owned(),
        namespace,
        name,
        version: Some(pkg.version.clone()).filter(|v| !v.is_empty()),
        qualifiers: Vec::new(),
        subpath: None,
    }
}

fn strip_rpm_epoch(version: &str) -> &str {
    match version.split_once(':') {
        Some((epoch, rest)) if !epoch.is_empty() && epoch.bytes().all(|b| b.is_ascii_digit()) => rest,
        _ => version,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pkg(kind: PackageKind, name: &str, version: &str, arch: &str) -> Package {
        let mut p = Package::new(kind, name.into(), version.into(), "/db");
        p.arch = Some(arch.into());
        p
    }

    #[test]
    fn deb_with_distro() {
        let p = pkg(PackageKind::Deb, "curl", "7.88.1-10", "amd64");
        assert_eq!(
            p.purl(Some(&Distro::new("debian", "12"))).to_string(),
            "pkg:deb/debian/curl@7.88.1-10?arch=amd64&distro=debian-12"
        );
    }

    #[test]
    fn encodes_plus_keeps_colon() {
        // purl-spec: `+` is not in the unreserved set; `:` must not be encoded.
        let p = pkg(PackageKind::Deb, "libstdc++6", "1:12.2.0-14+deb12u1", "amd64");
        assert_eq!(
            p.purl(Some(&Distro::new("debian", "12"))).to_string(),
            "pkg:deb/debian/libstdc%2B%2B6@1:12.2.0-14%2Bdeb12u1?arch=amd64&distro=debian-12"
        );
    }

    #[test]
    fn rpm_epoch_is_a_qualifier() {
        // purl-spec's own rpm example: pkg:rpm/fedora/curl@7.50.3-1.fc25?arch=i386&distro=fedora-25
        let mut p = pkg(PackageKind::Rpm, "curl", "7.50.3-1.fc25", "i386");
        assert_eq!(
            p.purl(Some(&Distro::new("fedora", "25"))).to_string(),
            "pkg:rpm/fedora/curl@7.50.3-1.fc25?arch=i386&distro=fedora-25"
        );
        p.version = "2:9.0-1.cm2".into();
        p.epoch = Some(2);
        assert_eq!(p.purl(None).to_string(), "pkg:rpm/curl@9.0-1.cm2?arch=i386&epoch=2");
        assert_eq!(
            p.purl(Some(&Distro::new("rhel", "9.3"))).to_string(),
            "pkg:rpm/redhat/curl@9.0-1.cm2?arch=i386&distro=rhel-9.3&epoch=2"
        );
    }

    #[test]
    fn language_purls() {
        // Examples from the purl-spec's PURL-TYPES.rst.
        for (kind, name, version, want) in [
            (PackageKind::Python, "Django_Allauth", "1.11.1", "pkg:pypi/django-allauth@1.11.1"),
            (PackageKind::Npm, "@angular/animation", "12.3.1", "pkg:npm/%40angular/animation@12.3.1"),
            (PackageKind::Npm, "foobar", "12.3.1", "pkg:npm/foobar@12.3.1"),
            (
                PackageKind::GoModule,
                "github.com/gorilla/context",
                "v1.1.1",
                "pkg:golang/github.com/gorilla/context@v1.1.1",
            ),
            (
                PackageKind::Maven,
                "org.apache.xmlgraphics:batik-anim",
                "1.9.1",
                "pkg:maven/org.apache.xmlgraphics/batik-anim@1.9.1",
            ),
            (PackageKind::Gem, "ruby-advisory-db-check", "0.12.4", "pkg:gem/ruby-advisory-db-check@0.12.4"),
            (PackageKind::Composer, "laravel/laravel", "5.5.0", "pkg:composer/laravel/laravel@5.5.0"),
            (PackageKind::NuGet, "EnterpriseLibrary.Common", "6.0.1304", "pkg:nuget/EnterpriseLibrary.Common@6.0.1304"),
            (PackageKind::Cargo, "rand", "0.7.2", "pkg:cargo/rand@0.7.2"),
        ] {
            let p = Package::new(kind, name.into(), version.into(), "/x");
            assert_eq!(p.purl(None).to_string(), want);
        }
    }

    #[test]
    fn apk() {
        // purl-spec's apk example: pkg:apk/alpine/curl@7.83.0-r0?arch=x86
        let p = pkg(PackageKind::Apk, "curl", "7.83.0-r0", "x86");
        assert_eq!(p.purl(None).to_string(), "pkg:apk/alpine/curl@7.83.0-r0?arch=x86");
    }
}
