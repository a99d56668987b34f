//! Misconfiguration checks over an image's config, build history, files and packages.
//!
//! Each check has a stable id (`BW-CFG-001`…), a severity and, where one applies, the CIS
//! Docker Benchmark recommendation it implements; [`checks`] lists them all for docs and
//! SARIF rules. [`check`] runs them on an image that has already been read and inventoried.
//!
//! Checks that need the image config (user, ports, `Env`, history, healthcheck, base image)
//! are skipped, not passed, when the source has none (`dir:`); [`skipped`] says which.
//! Which layers belong to the base image is decided by [`base_layers`]; the rule and its
//! limits are written down in `docs/misconfig.md`.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use bulwark_core::report::{ConfigFinding, FileLocation, ScanReport, Severity};
use bulwark_layer::{AnalyzedImage, EntryKind, History, ImageConfig};

mod base;
mod files;
mod image;

pub use base::{BaseLayers, BaseRule, base_layers, base_layers_in};
use files::*;
use image::*;

/// Thresholds of the checks.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigOptions {
    /// A layer larger than this (uncompressed) may be reported by `BW-CFG-013`.
    pub large_layer_bytes: u64,
    /// …when it is also more than this share (0..1) of the whole image.
    pub large_layer_share: f64,
    /// How many leading layers belong to the base image, when the caller knows (for
    /// example from the base image's own manifest); `None` applies [`base_layers`].
    pub base_layers: Option<usize>,
    /// Most entries of each image config collection checked (see [`capped_config`]).
    pub max_config_entries: u64,
}

impl Default for ConfigOptions {
    fn default() -> Self {
        ConfigOptions {
            large_layer_bytes: 500 * 1000 * 1000,
            large_layer_share: 0.5,
            base_layers: None,
            max_config_entries: 10_000,
        }
    }
}

/// The image config with each per-image collection the checks and the secret scanner walk
/// (`Env`, `Labels`, `history`, `ExposedPorts`) cut to its first `max` entries, plus one
/// limit warning per collection that was cut. A config within the 8 MiB config limit can
/// still hold hundreds of thousands of entries, each of which could become a finding;
/// this bounds them. Borrowed when nothing is cut.
pub fn capped_config(cfg: &ImageConfig, max: u64) -> (Cow<'_, ImageConfig>, Vec<bulwark_core::Warning>) {
    let max_n = usize::try_from(max).unwrap_or(usize::MAX);
    let c = &cfg.config;
    let over = [
        ("Env", c.env.len()),
        ("Labels", c.labels.len()),
        ("history", cfg.history.len()),
        ("ExposedPorts", c.exposed_ports.len()),
    ];
    let warnings: Vec<bulwark_core::Warning> = over
        .iter()
        .filter(|(_, n)| *n > max_n)
        .map(|(what, n)| {
            bulwark_core::Warning::limit(
                "max-config-entries",
                max,
                &format!("image config {what} ({n} entries)"),
                (n - max_n) as u64,
            )
        })
        .collect();
    if warnings.is_empty() {
        return (Cow::Borrowed(cfg), warnings);
    }
    let mut capped = cfg.clone();
    capped.config.env.truncate(max_n);
    capped.history.truncate(max_n);
    capped.config.labels = std::mem::take(&mut capped.config.labels).into_iter().take(max_n).collect();
    capped.config.exposed_ports = std::mem::take(&mut capped.config.exposed_ports).into_iter().take(max_n).collect();
    (Cow::Owned(capped), warnings)
}

/// What a check looks for, for documentation and SARIF rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckInfo {
    /// Stable id, `BW-CFG-NNN`.
    pub id: &'static str,
    pub title: &'static str,
    pub severity: Severity,
    /// CIS Docker Benchmark (v1.6.0) recommendation, where one applies.
    pub cis: Option<&'static str>,
    pub description: &'static str,
    pub remediation: &'static str,
    /// Whether the check reads the image config (and is skipped without one).
    pub needs_config: bool,
}

pub const ROOT_USER: &str = "BW-CFG-001";
pub const REMOTE_ACCESS_PORT: &str = "BW-CFG-002";
pub const ENV_SECRET: &str = "BW-CFG-003";
pub const ADD_REMOTE_URL: &str = "BW-CFG-004";
pub const PIPE_TO_SHELL: &str = "BW-CFG-005";
pub const NO_HEALTHCHECK: &str = "BW-CFG-006";
pub const LATEST_BASE: &str = "BW-CFG-007";
pub const SETID_FILE: &str = "BW-CFG-008";
pub const WORLD_WRITABLE: &str = "BW-CFG-009";
pub const PACKAGE_CACHE: &str = "BW-CFG-010";
pub const SUDO_INSTALLED: &str = "BW-CFG-011";
pub const SSH_SERVER: &str = "BW-CFG-012";
pub const LARGE_LAYER: &str = "BW-CFG-013";

static CHECKS: &[CheckInfo] = &[
    CheckInfo {
        id: ROOT_USER,
        title: "Image runs as root",
        severity: Severity::High,
        cis: Some("4.1"),
        description: "The config sets no `User`, or sets root (`root`, `0`, `0:0`, `root:group`), so the \
                      container's processes run as uid 0 unless the runtime overrides it.",
        remediation: "Create an unprivileged user in the Dockerfile (`RUN useradd -r -u 10001 app`) and \
                      switch to it with `USER 10001` before `CMD`/`ENTRYPOINT`.",
        needs_config: true,
    },
    CheckInfo {
        id: REMOTE_ACCESS_PORT,
        title: "Remote administration port exposed",
        severity: Severity::Medium,
        cis: Some("5.9"),
        description: "The config exposes SSH (22), Telnet (23) or RDP (3389): remote shells inside a \
                      container bypass the runtime's access control and are rarely needed.",
        remediation: "Remove the `EXPOSE` line for the port and the server behind it; use `docker exec` or \
                      `kubectl exec` to get a shell.",
        needs_config: true,
    },
    CheckInfo {
        id: ENV_SECRET,
        title: "Secret in an environment variable of the image",
        severity: Severity::High,
        cis: Some("4.10"),
        description: "An `Env` variable whose name says it holds a credential (PASSWORD, SECRET, TOKEN, \
                      API_KEY, PRIVATE_KEY, ACCESS_KEY, …) has a value baked into the image config, which \
                      anyone who can pull the image can read.",
        remediation: "Pass the value at run time (orchestrator secret, `--env-file`) or point to a mounted \
                      file (`DB_PASSWORD_FILE=/run/secrets/db`); use `RUN --mount=type=secret` for build-time \
                      secrets, then rotate the leaked credential.",
        needs_config: true,
    },
    CheckInfo {
        id: ADD_REMOTE_URL,
        title: "ADD of a remote URL",
        severity: Severity::Medium,
        cis: Some("4.9"),
        description: "A build step used `ADD` with an http(s) URL: the download is not verified against a \
                      checksum unless `--checksum` is given, and changes under the same URL silently.",
        remediation: "Download with `RUN curl -fsSLo file URL && echo \"<sha256>  file\" | sha256sum -c -` or \
                      use `ADD --checksum=sha256:…`, and prefer `COPY` for local files.",
        needs_config: true,
    },
    CheckInfo {
        id: PIPE_TO_SHELL,
        title: "Remote script piped to a shell during the build",
        severity: Severity::Medium,
        cis: Some("4.11"),
        description: "A `RUN` step downloads with curl or wget and runs the result directly in a shell \
                      (`curl … | sh`, `sh -c \"$(curl …)\"`): whatever the server returns at build time is \
                      executed as root, unverified.",
        remediation: "Download the script or package to a file, verify its checksum or signature, then run \
                      it; better, install from the distribution's signed packages.",
        needs_config: true,
    },
    CheckInfo {
        id: NO_HEALTHCHECK,
        title: "No HEALTHCHECK",
        severity: Severity::Low,
        cis: Some("4.6"),
        description: "The config has no `Healthcheck`, or disables it (`HEALTHCHECK NONE`), so the engine \
                      cannot tell a hung container from a healthy one.",
        remediation: "Add a `HEALTHCHECK CMD …` that probes the service (orchestrators with their own probes, \
                      such as Kubernetes, may make this unnecessary).",
        needs_config: true,
    },
    CheckInfo {
        id: LATEST_BASE,
        title: "Base image referenced by a moving tag",
        severity: Severity::Low,
        cis: None,
        description: "The `org.opencontainers.image.base.name` label or annotation names the base image with \
                      the `latest` tag or with no tag or digest, so rebuilds pick up whatever the tag points to.",
        remediation: "Pin the base image in `FROM` to a version tag and digest (`FROM debian:12.5@sha256:…`) and \
                      update it deliberately.",
        needs_config: true,
    },
    CheckInfo {
        id: SETID_FILE,
        title: "setuid/setgid file added by the image",
        severity: Severity::Medium,
        cis: Some("4.8"),
        description: "A regular file with the set-user-ID or set-group-ID bit was added by a layer of this \
                      image (not by its base image): it runs with its owner's privileges whoever starts it.",
        remediation: "Remove the bits unless the program needs them: \
                      `RUN chmod u-s,g-s <path>` (or `find / -xdev -perm /6000 -type f -exec chmod a-s {} +`).",
        needs_config: false,
    },
    CheckInfo {
        id: WORLD_WRITABLE,
        title: "World-writable file added by the image",
        severity: Severity::Medium,
        cis: None,
        description: "A file, or a directory without the sticky bit, that any user may modify was added by a \
                      layer of this image (not by its base image); symlinks are not counted.",
        remediation: "Tighten the mode (`chmod o-w <path>`), or set the sticky bit on shared directories \
                      (`chmod +t`).",
        needs_config: false,
    },
    CheckInfo {
        id: PACKAGE_CACHE,
        title: "Package manager cache left in the image",
        severity: Severity::Low,
        cis: None,
        description: "Downloaded packages or package indexes (apt, apk, yum/dnf, pip, npm) were left in a \
                      layer: they make the image larger and are never used at run time. Bytes in a layer \
                      ship even if a later layer deletes them.",
        remediation: "Clean in the same `RUN` step that installs: `rm -rf /var/lib/apt/lists/*` after apt-get, \
                      `apk add --no-cache`, `dnf clean all`, `pip install --no-cache-dir`, `npm cache clean \
                      --force`, or use a cache mount (`RUN --mount=type=cache`).",
        needs_config: false,
    },
    CheckInfo {
        id: SUDO_INSTALLED,
        title: "sudo installed",
        severity: Severity::Medium,
        cis: Some("4.3"),
        description: "The `sudo` package is installed: in a container it only serves to regain root, and its \
                      setuid binary widens the attack surface.",
        remediation: "Remove sudo; do privileged setup in build steps before `USER`, and run as an \
                      unprivileged user.",
        needs_config: false,
    },
    CheckInfo {
        id: SSH_SERVER,
        title: "SSH server installed",
        severity: Severity::Medium,
        cis: Some("5.7"),
        description: "An SSH server package (openssh-server, dropbear) is installed: a container should not \
                      run its own sshd, which needs key management and bypasses the runtime's access control.",
        remediation: "Remove the SSH server package; use `docker exec` or `kubectl exec` for shell access.",
        needs_config: false,
    },
    CheckInfo {
        id: LARGE_LAYER,
        title: "One layer makes most of the image (informational)",
        severity: Severity::Low,
        cis: None,
        description: "One layer is larger than the configured size and more than the configured share of the \
                      whole image (uncompressed): usually build tools, caches or data that do not belong in \
                      the runtime image.",
        remediation: "Look at what the step adds (`bulwark inspect`), use a multi-stage build to leave build \
                      dependencies behind, and clean caches in the same step.",
        needs_config: false,
    },
];

/// Every check, in id order.
pub fn checks() -> &'static [CheckInfo] {
    CHECKS
}

fn info(id: &str) -> &'static CheckInfo {
    CHECKS.iter().find(|c| c.id == id).unwrap_or(&CHECKS[0])
}

fn finding(id: &str, message: String, location: Option<FileLocation>) -> ConfigFinding {
    let c = info(id);
    ConfigFinding {
        id: c.id.to_owned(),
        title: c.title.to_owned(),
        severity: c.severity,
        cis: c.cis.map(str::to_owned),
        message,
        location,
        remediation: Some(c.remediation.to_owned()),
    }
}

fn config_loc(path: &str) -> Option<FileLocation> {
    Some(FileLocation { path: format!("config:{path}"), layer: None, removed_in: None, line: None, entry: None })
}

fn file_loc(path: &str, layer: usize, removed_in: Option<usize>) -> Option<FileLocation> {
    Some(FileLocation {
        path: format!("/{}", path.trim_start_matches('/')),
        layer: Some(layer),
        removed_in,
        line: None,
        entry: None,
    })
}

/// Runs every check on an image and its inventory (`report.packages`), worst first, then by
/// id and location.
pub fn check(image: &dyn AnalyzedImage, report: &ScanReport, opts: &ConfigOptions) -> Vec<ConfigFinding> {
    let mut out = Vec::new();
    if let Some(config) = image.config() {
        // The caller reports what was cut (see `capped_config`).
        let (config, _) = capped_config(config, opts.max_config_entries);
        config_checks(&config, image.annotations(), &mut out);
    }
    if let Some(base) = opts.base_layers.or_else(|| base_layers(image).map(|b| b.count)) {
        file_mode_checks(image, base, &mut out);
    }
    cache_checks(image, &mut out);
    package_checks(report, &mut out);
    large_layer_check(image, opts, &mut out);
    sort(&mut out);
    out
}

/// The checks that only need an image config (a config blob as read from a registry).
/// Never panics on any parsed config; this is what the `config_checks` fuzz target drives.
pub fn check_image_config(config: &ImageConfig) -> Vec<ConfigFinding> {
    let mut out = Vec::new();
    config_checks(config, &BTreeMap::new(), &mut out);
    sort(&mut out);
    out
}

/// The ids of the checks that could not run on this image: those that need the config when
/// the source has none (`dir:`), and the file-mode checks when the base layers are unknown.
pub fn skipped(image: &dyn AnalyzedImage, opts: &ConfigOptions) -> Vec<&'static str> {
    let mut out = Vec::new();
    if image.config().is_none() {
        out.extend(CHECKS.iter().filter(|c| c.needs_config).map(|c| c.id));
    }
    if opts.base_layers.is_none() && base_layers(image).is_none() {
        out.extend([SETID_FILE, WORLD_WRITABLE]);
    }
    out.sort_unstable();
    out
}

fn sort(out: &mut [ConfigFinding]) {
    out.sort_by(|a, b| {
        b.severity.cmp(&a.severity).then_with(|| a.id.cmp(&b.id)).then_with(|| a.location.cmp(&b.location))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hist(steps: &[(&str, bool)]) -> Vec<History> {
        steps
            .iter()
            .map(|(s, empty)| History { created_by: Some((*s).into()), empty_layer: *empty, ..Default::default() })
            .collect()
    }

    #[test]
    fn root_user_forms() {
        for (u, root) in [
            ("root", true),
            ("0", true),
            ("0:0", true),
            ("root:staff", true),
            ("00", true),
            ("1000", false),
            ("app", false),
            ("1000:0", false),
            ("rootless", false),
        ] {
            assert_eq!(is_root_user(u), root, "{u}");
        }
    }

    #[test]
    fn env_names_and_values() {
        for (var, secret) in [
            ("DB_PASSWORD=hunter2x", true),
            ("GITHUB_TOKEN=ghp_abc", true),
            ("AWS_SECRET_ACCESS_KEY=wJalrXUt", true),
            ("api_key=k3Ld9qZ", true),
            ("api_key=abcd", false), // a placeholder word, for the secret scanner too
            ("DB_PASSWORD_FILE=/run/secrets/db", false),
            ("DB_PASSWORD=/run/secrets/db", false),
            ("DB_PASSWORD=", false),
            ("DB_PASSWORD=${DB_PASSWORD}", false),
            ("DB_PASSWORD=<your password>", false),
            ("DB_PASSWORD=changeme", false),
            ("GPG_KEY=A035C8C19219BA821ECEA86B64E628F8D684696D", false),
            ("TOKEN_URL=https://auth.example/token", false),
            ("PATH=/usr/bin", false),
            ("SECRET_ENABLED=true", false),
        ] {
            let (n, v) = var.split_once('=').unwrap();
            assert_eq!(crate::secret::secret_variable(n, v), secret, "{var}");
        }
    }

    #[test]
    fn history_steps_parse() {
        for (created_by, ins, args) in [
            ("/bin/sh -c #(nop) ADD file:abc123 in / ", "ADD", "file:abc123 in /"),
            ("/bin/sh -c #(nop)  CMD [\"bash\"]", "CMD", "[\"bash\"]"),
            ("/bin/sh -c apt-get update", "RUN", "apt-get update"),
            ("|2 A=1 B=2 /bin/sh -c make install", "RUN", "make install"),
            ("RUN |1 V=1.0 /bin/sh -c curl x | sh # buildkit", "RUN", "curl x | sh"),
            ("RUN /bin/sh -c curl -fsSL x | sh # buildkit", "RUN", "curl -fsSL x | sh"),
            ("ADD https://example.com/a.tgz /opt/ # buildkit", "ADD", "https://example.com/a.tgz /opt/"),
            ("CMD [\"/bin/sh\"]", "CMD", "[\"/bin/sh\"]"),
            ("bazel build //x", "RUN", "bazel build //x"),
        ] {
            let s = Step::parse(created_by);
            assert_eq!((s.instruction, s.args), (ins, args), "{created_by}");
        }
    }

    #[test]
    fn pipe_to_shell_forms() {
        for (cmd, hit) in [
            ("curl -fsSL https://get.example.com | sh", Some("curl")),
            ("wget -qO- https://x.example/install.sh | sudo bash -s -- --yes", Some("wget")),
            ("apt-get update && curl -s https://x | /bin/bash", Some("curl")),
            ("curl -sSL https://x | PREFIX=/opt sh", Some("curl")),
            ("sh -c \"$(curl -fsSL https://x/install.sh)\"", Some("curl")),
            ("bash <(curl -s https://x)", Some("curl")),
            ("eval \"$(wget -qO- https://x)\"", Some("wget")),
            ("curl -fsSL https://x | python3 -", Some("curl")),
            ("curl -fsSLo /tmp/x https://x && sha256sum -c sums | grep OK", None),
            ("curl https://x | tar -xz -C /opt", None),
            ("curl -f https://x || sh -c 'echo failed'", None),
            ("cat script | sh", None),
            ("curl https://x > a; cat a | gpg --verify", None),
            (&format!("bash <(curl {}é)", "é".repeat(150)), Some("curl")),
            (&format!("$({}curl é)", "é".repeat(150)), None),
        ] {
            assert_eq!(pipe_to_shell(cmd), hit, "{cmd}");
        }
    }

    #[test]
    fn remote_urls_hide_credentials_and_queries() {
        assert_eq!(
            remote_url("https://user:pw@example.com/a.tgz?token=x").as_deref(),
            Some("https://example.com/a.tgz")
        );
        assert_eq!(remote_url("\"http://example.com\"").as_deref(), Some("http://example.com/"));
        assert_eq!(remote_url("file:abc"), None);
    }

    #[test]
    fn moving_tags() {
        assert!(moving_tag("docker.io/library/debian:latest").is_some());
        assert!(moving_tag("debian").is_some());
        assert!(moving_tag("localhost:5000/debian").is_some());
        assert!(moving_tag("localhost:5000/debian:12").is_none());
        assert!(moving_tag("debian@sha256:abcd").is_none());
        assert!(moving_tag("debian:latest@sha256:abcd").is_none());
    }

    #[test]
    fn base_layer_rule() {
        // Debian base (rootfs + CMD), then the app's COPY, RUN and CMD.
        let h = hist(&[
            ("/bin/sh -c #(nop) ADD file:aaa in / ", false),
            ("/bin/sh -c #(nop)  CMD [\"bash\"]", true),
            ("COPY app /app # buildkit", false),
            ("RUN /bin/sh -c make # buildkit", false),
            ("CMD [\"/app\"]", true),
        ]);
        assert_eq!(base_layers_in(&h, 3), Some(BaseLayers { count: 1, rule: BaseRule::BaseCmd }));
        // Two-level base: python on debian, then the app.
        let h = hist(&[
            ("ADD rootfs.tar.xz / # buildkit", false),
            ("CMD [\"bash\"]", true),
            ("RUN /bin/sh -c apt-get install python3 # buildkit", false),
            ("CMD [\"python3\"]", true),
            ("COPY . /app # buildkit", false),
        ]);
        assert_eq!(base_layers_in(&h, 3).map(|b| b.count), Some(2));
        // The base image itself: its CMD is last, the rootfs is the base.
        let h = hist(&[("/bin/sh -c #(nop) ADD file:aaa in / ", false), ("/bin/sh -c #(nop)  CMD [\"bash\"]", true)]);
        assert_eq!(base_layers_in(&h, 1), Some(BaseLayers { count: 1, rule: BaseRule::Rootfs }));
        // FROM scratch.
        let h = hist(&[("COPY rootfs / # buildkit", false), ("ENTRYPOINT [\"/x\"]", true)]);
        assert_eq!(base_layers_in(&h, 1), Some(BaseLayers { count: 0, rule: BaseRule::NoBase }));
        // History that does not line up with the layers.
        assert_eq!(base_layers_in(&h, 2), None);
    }
}
