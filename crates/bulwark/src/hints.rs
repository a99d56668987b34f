//! The cure for typed library errors, in the flags this binary has. Libraries report
//! what failed (status, object, limit); only here does that become `--flag` advice.
//! Matching is on error types and fields, never on message text.

use bulwark_registry::{Error as RegistryError, Limit, TransportKind};

/// A hint for `e`, if one of its causes is an error we know the cure for.
pub(crate) fn hint(e: &anyhow::Error) -> Option<String> {
    registry_error(e).and_then(registry_hint).or_else(|| image_error(e).and_then(image_hint)).or_else(|| vulndb_hint(e))
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
    e.chain()
        .find_map(|cause| cause.downcast_ref::<Error>().filter(|e| stalled(e)))
        .map(|_| "for a slow mirror, raise --stall-timeout".to_owned())
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
