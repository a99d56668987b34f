//! The cure for typed library errors, in the flags this binary has. Libraries report
//! what failed (status, object, limit); only here does that become `--flag` advice.
//! Matching is on error types and fields, never on message text.
//!
//! Also here: the advice for settings errors (`config_file::settings_error`) and for a
//! reference that does not parse (`commands::parse_reference`), in this binary's terms.

use bulwark_registry::{Error as RegistryError, Limit, TransportKind};

/// A hint for `e`, if one of its causes is an error we know the cure for.
pub(crate) fn hint(e: &anyhow::Error) -> Option<String> {
    registry_error(e)
        .and_then(registry_hint)
        .or_else(|| image_error(e).and_then(image_hint))
        .or_else(|| vulndb_hint(e))
        .or_else(|| reference_hint(e))
}

/// An `sbom:` input given where an image is needed.
fn reference_hint(e: &anyhow::Error) -> Option<String> {
    e.chain().find_map(|cause| match cause.downcast_ref() {
        Some(bulwark_core::Error::NotAnImage { .. }) => Some("`bulwark scan sbom:…` matches its packages".to_owned()),
        _ => None,
    })
}

/// The image error behind `e`: directly or inside the scan error that carries it.
fn image_error(e: &anyhow::Error) -> Option<&bulwark_image::Error> {
    e.chain().find_map(|cause| {
        cause.downcast_ref::<bulwark_image::Error>().or_else(|| match cause.downcast_ref() {
            Some(bulwark_scan::Error::Image(image)) => Some(image),
            _ => None,
        })
    })
}

fn image_hint(e: &bulwark_image::Error) -> Option<String> {
    use bulwark_image::{Error, LimitKind};
    let flag = |kind| match kind {
        LimitKind::ManifestBytes => "--max-manifest-bytes",
        LimitKind::ConfigBytes => "--max-config-bytes",
        LimitKind::Layers => "--max-layers",
        LimitKind::LayerBytes => "--max-layer-bytes",
        LimitKind::CompressionRatio => "--max-compression-ratio",
        LimitKind::Entries => "--max-entries",
        LimitKind::ImageResults => "--max-image-results",
        _ => "the matching --max-… flag",
    };
    Some(match e {
        Error::TooLarge { kind, .. } | Error::LayerLimit { kind, .. } => format!("raise it with {}", flag(*kind)),
        Error::NoMatchingPlatform { .. } => "--platform-fallback scans what is available instead".to_owned(),
        Error::Offline { .. } => "`skopeo copy` it to an `oci:` layout first, or drop --offline".to_owned(),
        Error::Schema1 { .. } => "re-push the image with a current client, e.g. `skopeo copy --format v2s2`".to_owned(),
        _ => return None,
    })
}

fn vulndb_hint(e: &anyhow::Error) -> Option<String> {
    use bulwark_vulndb::{DownloadFailure, Error};
    fn stalled(e: &Error) -> bool {
        match e {
            Error::Download { failure: DownloadFailure::Stalled { .. }, .. } => true,
            Error::EveryDownloadFailed { first, .. } => stalled(first),
            _ => false,
        }
    }
    let db = e.chain().find_map(|cause| cause.downcast_ref::<Error>())?;
    Some(match db {
        e if stalled(e) => "for a slow mirror, raise --stall-timeout".to_owned(),
        Error::Corrupt { .. } => {
            "rebuild it (`bulwark db build`, `bulwark db update`) or import a good copy (`bulwark db import FILE`)"
                .to_owned()
        }
        Error::SchemaVersion { .. } => "rebuild it with `bulwark db build` or `bulwark db update`".to_owned(),
        // The scan engine could not open or read the database it was given.
        _ if scan_db_error(e) => "build it with `bulwark db build`".to_owned(),
        _ => return None,
    })
}

/// Whether `e` is the scan engine's advisory database error.
fn scan_db_error(e: &anyhow::Error) -> bool {
    e.chain().any(|c| matches!(c.downcast_ref(), Some(bulwark_scan::Error::Db { .. })))
}

/// The registry error behind `e`: directly, or inside the image or scan error that
/// carries it (those wrap it transparently, so it is not a cause of its own).
fn registry_error(e: &anyhow::Error) -> Option<&RegistryError> {
    e.chain().find_map(|cause| {
        if let Some(r) = cause.downcast_ref::<RegistryError>() {
            return Some(r);
        }
        let image = cause.downcast_ref::<bulwark_image::Error>().or_else(|| match cause.downcast_ref() {
            Some(bulwark_scan::Error::Image(image)) => Some(image),
            _ => None,
        })?;
        match image {
            bulwark_image::Error::Registry(r) => Some(r),
            _ => None,
        }
    })
}

fn registry_hint(e: &RegistryError) -> Option<String> {
    Some(match e {
        RegistryError::PlainHttp { registry } => format!(
            "{registry} speaks plain HTTP; if the network to it is trusted, allow that with --insecure-registry"
        ),
        RegistryError::Unauthorized { registry, anonymous: true, .. } => format!(
            "give credentials with --username NAME --password-stdin (the password on stdin), or `docker login {registry}`"
        ),
        RegistryError::Unauthorized { registry, anonymous: false, .. } => format!(
            "check the user name and password (--username with --password-stdin) or the Docker config's entry for {registry}"
        ),
        RegistryError::Token { status: Some(401 | 403), registry, .. } => format!(
            "give or check credentials for {registry}: --username NAME --password-stdin, or `docker login {registry}`"
        ),
        RegistryError::Denied { .. } => {
            "the credentials work but lack permission for this repository; use an account that can pull it".to_owned()
        }
        RegistryError::Transport { kind: TransportKind::Tls, .. } => {
            "for a registry with a self-signed or private certificate, --insecure-registry skips verification"
                .to_owned()
        }
        RegistryError::TooLarge { kind: Limit::ManifestBytes, .. } => "raise it with --max-manifest-bytes".to_owned(),
        RegistryError::Status { status: 429, .. } => {
            "the registry is rate-limiting requests; try again later".to_owned()
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::hint;

    /// The library says what failed, without this binary's flags or commands; the hint
    /// says what to do, from the error's type.
    fn check(e: impl std::error::Error + Send + Sync + 'static, hint_has: &str) {
        let message = e.to_string();
        assert!(!message.contains("--") && !message.contains("hint") && !message.contains("`bulwark"), "{message}");
        let e = anyhow::Error::new(e).context("scanning x");
        let h = hint(&e).unwrap_or_default();
        assert!(h.contains(hint_has), "{message}: hint {h:?} lacks {hint_has:?}");
    }

    #[test]
    fn hints_come_from_typed_errors() {
        use bulwark_image::Error as Image;
        use bulwark_vulndb::Error as Db;
        check(Image::Offline { reference: "app:1".into(), bare: true }, "drop --offline");
        check(Image::Offline { reference: "registry:app:1".into(), bare: false }, "drop --offline");
        check(bulwark_core::Error::NotAnImage { reference: "sbom:x.json".into() }, "`bulwark scan sbom:…`");
        check(Image::Schema1 { reference: "r/a:1".into() }, "skopeo copy --format v2s2");
        check(Db::Corrupt { path: PathBuf::from("/d.db"), message: "truncated".into() }, "bulwark db import");
        let schema = || Db::SchemaVersion { path: PathBuf::from("/d.db"), found: "1".into(), expected: 9 };
        check(schema(), "bulwark db update");
        // Inside the scan engine's error, the database's cause still decides the hint.
        check(bulwark_scan::Error::Db { path: PathBuf::from("/d.db"), source: schema() }, "bulwark db update");
        let other = Db::Db { path: PathBuf::from("/d.db"), message: "disk I/O error".into() };
        check(bulwark_scan::Error::Db { path: PathBuf::from("/d.db"), source: other }, "bulwark db build");
        // Reference syntax errors: the library names the scheme, the CLI points at --help.
        let e = "podman:app".parse::<bulwark_core::Reference>().unwrap_err().to_string();
        assert!(e.contains("unknown source scheme \"podman\"") && !e.contains("--help"), "{e}");
    }

    #[test]
    fn settings_errors_in_cli_terms() {
        use bulwark_scan::settings::SettingsError;
        let unknown = SettingsError::UnknownKey { key: "severty".into(), closest: Some("severity".into()) };
        assert!(!unknown.to_string().contains("hint"));
        assert_eq!(
            crate::config_file::settings_error(&unknown),
            "unknown key \"severty\"\nhint: did you mean `severity`?"
        );
        assert_eq!(
            crate::config_file::settings_error(&SettingsError::ClamdWithoutClamav),
            "--clamd is set but clamav is not among --malware-engine\nhint: add --malware-engine yara,clamav"
        );
    }
}
