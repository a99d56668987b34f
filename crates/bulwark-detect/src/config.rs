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
pub fn capped_config(cfg: &ImageConfig, max: u64) -> (Cow<'_, ImageConfig>, Vec<String>) {
    let max_n = usize::try_from(max).unwrap_or(usize::MAX);
    let c = &cfg.config;
    let over = [
        ("Env", c.env.len()),
        ("Labels", c.labels.len()),
        ("history", cfg.history.len()),
        ("ExposedPorts", c.exposed_ports.len()),
    ];
    let warnings: Vec<String> = over
        .iter()
        .filter(|(_, n)| *n > max_n)
        .map(|(what, n)| {
            bulwark_core::report::limit_warning(
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

fn config_checks(cfg: &ImageConfig, annotations: &BTreeMap<String, String>, out: &mut Vec<ConfigFinding>) {
    let c = &cfg.config;
    // BW-CFG-001: Windows images name users differently (ContainerAdministrator…); not judged.
    if !cfg.os.eq_ignore_ascii_case("windows") {
        let user = c.user.as_deref().map(str::trim).unwrap_or("");
        if user.is_empty() {
            out.push(finding(ROOT_USER, "no User is set, so the container runs as root".into(), config_loc("User")));
        } else if is_root_user(user) {
            out.push(finding(ROOT_USER, format!("User is {user:?}, which is root"), config_loc("User")));
        }
    }

    // BW-CFG-002
    for key in c.exposed_ports.keys() {
        let (port, proto) = key.split_once('/').unwrap_or((key.as_str(), "tcp"));
        let service = match port.trim().parse::<u16>() {
            Ok(22) => "SSH",
            Ok(23) => "Telnet",
            Ok(3389) => "RDP",
            _ => continue,
        };
        out.push(finding(
            REMOTE_ACCESS_PORT,
            format!("port {}/{} ({service}) is exposed", port.trim(), proto.trim().to_ascii_lowercase()),
            config_loc(&format!("ExposedPorts[{key}]")),
        ));
    }

    // BW-CFG-003
    for var in &c.env {
        let Some((name, value)) = var.split_once('=') else { continue };
        if crate::secret::secret_variable(name, value) {
            out.push(finding(
                ENV_SECRET,
                format!("Env variable {name} has a value set in the image (value not shown)"),
                config_loc(&format!("Env[{name}]")),
            ));
        }
    }

    // BW-CFG-004, BW-CFG-005
    for (i, h) in cfg.history.iter().enumerate() {
        let Some(created_by) = h.created_by.as_deref() else { continue };
        let step = Step::parse(created_by);
        match step.instruction {
            "ADD" => {
                if let Some(url) = step.args.split_whitespace().find_map(remote_url) {
                    out.push(finding(
                        ADD_REMOTE_URL,
                        format!("history[{i}] adds {url} from the network"),
                        config_loc(&format!("history[{i}]")),
                    ));
                }
            }
            "RUN" => {
                if let Some(tool) = pipe_to_shell(step.args) {
                    let from = step.args.split_whitespace().find_map(remote_url);
                    let from = from.map(|u| format!(" from {u}")).unwrap_or_default();
                    out.push(finding(
                        PIPE_TO_SHELL,
                        format!("history[{i}] pipes a {tool} download{from} into a shell"),
                        config_loc(&format!("history[{i}]")),
                    ));
                }
            }
            _ => {}
        }
    }

    // BW-CFG-006
    let healthcheck_off = match &c.healthcheck {
        None | Some(serde_json::Value::Null) => true,
        Some(h) => match h.get("Test").and_then(|t| t.as_array()) {
            Some(test) => test.first().and_then(|t| t.as_str()).is_none_or(|t| t.eq_ignore_ascii_case("NONE")),
            // A healthcheck that only sets timings inherits the base image's test; without
            // one there is nothing to run.
            None => true,
        },
    };
    if healthcheck_off {
        let msg = if c.healthcheck.as_ref().is_some_and(|h| !h.is_null()) {
            "the healthcheck is disabled (HEALTHCHECK NONE)"
        } else {
            "no HEALTHCHECK is defined"
        };
        out.push(finding(NO_HEALTHCHECK, msg.into(), config_loc("Healthcheck")));
    }

    // BW-CFG-007
    const BASE_NAME: &str = "org.opencontainers.image.base.name";
    let base = c
        .labels
        .get(BASE_NAME)
        .map(|n| (n, "Labels"))
        .or_else(|| annotations.get(BASE_NAME).map(|n| (n, "annotations")));
    if let Some((name, from)) = base
        && let Some(why) = moving_tag(name)
    {
        out.push(finding(
            LATEST_BASE,
            format!("the base image {:?} {why}", name.trim()),
            config_loc(&format!("{from}[{BASE_NAME}]")),
        ));
    }
}

/// Whether a `User` value means uid 0: `root`, `0`, `0:0`, `root:staff`, `0:1000`.
fn is_root_user(user: &str) -> bool {
    let name = user.split(':').next().unwrap_or("").trim();
    name == "root" || (!name.is_empty() && name.bytes().all(|b| b == b'0'))
}

/// One history step: the Dockerfile instruction (`RUN` for classic shell steps) and its text.
struct Step<'a> {
    instruction: &'a str,
    args: &'a str,
}

impl<'a> Step<'a> {
    /// Accepts the classic builder's forms (`/bin/sh -c #(nop) ADD …`, `/bin/sh -c apt-get …`,
    /// `|2 A=1 B=2 /bin/sh -c …` with build args) and BuildKit's (`RUN /bin/sh -c … # buildkit`,
    /// `ADD https://… /x # buildkit`).
    fn parse(created_by: &'a str) -> Step<'a> {
        let mut s = created_by.trim();
        s = s.strip_suffix("# buildkit").unwrap_or(s).trim_end();
        let explicit_run = s.strip_prefix("RUN ").map(str::trim_start);
        if let Some(r) = explicit_run {
            s = r;
        }
        // `|N` build-arg prefix: `|2 A=1 B=2 /bin/sh -c …`.
        if let Some(rest) = s.strip_prefix('|') {
            let mut words = rest.splitn(2, ' ');
            let n: usize = words.next().and_then(|n| n.parse().ok()).unwrap_or(0);
            let mut rest = words.next().unwrap_or("");
            for _ in 0..n {
                rest = rest.trim_start().split_once(' ').map_or("", |(_, r)| r);
            }
            s = rest.trim_start();
        }
        for sh in ["/bin/sh -c ", "/bin/bash -c ", "sh -c ", "bash -c ", "cmd /S /C "] {
            if let Some(r) = s.strip_prefix(sh) {
                s = r.trim_start();
                break;
            }
        }
        if explicit_run.is_none()
            && let Some(r) = s.strip_prefix("#(nop)")
        {
            let r = r.trim_start();
            let (ins, args) = r.split_once(char::is_whitespace).unwrap_or((r, ""));
            return Step { instruction: upper_instruction(ins), args: args.trim() };
        }
        if explicit_run.is_some() {
            return Step { instruction: "RUN", args: s };
        }
        let (ins, args) = s.split_once(char::is_whitespace).unwrap_or((s, ""));
        match upper_instruction(ins) {
            "" => Step { instruction: "RUN", args: s },
            ins => Step { instruction: ins, args: args.trim() },
        }
    }
}

/// The Dockerfile instructions BuildKit writes as the first word of `created_by`.
fn upper_instruction(word: &str) -> &'static str {
    const INSTRUCTIONS: &[&str] = &[
        "ADD",
        "ARG",
        "CMD",
        "COPY",
        "ENTRYPOINT",
        "ENV",
        "EXPOSE",
        "HEALTHCHECK",
        "LABEL",
        "MAINTAINER",
        "ONBUILD",
        "RUN",
        "SHELL",
        "STOPSIGNAL",
        "USER",
        "VOLUME",
        "WORKDIR",
    ];
    INSTRUCTIONS.iter().copied().find(|i| *i == word).unwrap_or("")
}

/// An http(s) URL in `word`, shown without credentials, query or fragment (which may hold
/// tokens).
fn remote_url(word: &str) -> Option<String> {
    let w = word.trim_matches(|c| matches!(c, '"' | '\'' | '[' | ']' | ',' | '(' | ')' | ';'));
    let start = w.find("https://").or_else(|| w.find("http://"))?;
    let w = &w[start..];
    let (scheme, rest) = w.split_once("://")?;
    let end = rest.find(['?', '#', '"', '\'', ')', ';', '|', '&']).unwrap_or(rest.len());
    let rest = &rest[..end];
    let (host, path) = rest.split_once('/').map_or((rest, ""), |(h, p)| (h, p));
    let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
    (!host.is_empty()).then(|| format!("{scheme}://{host}/{path}"))
}

const SHELLS: &[&str] =
    &["sh", "bash", "ash", "dash", "zsh", "ksh", "fish", "python", "python3", "perl", "ruby", "node"];

fn is_shell(word: &str) -> bool {
    let base = word.rsplit('/').next().unwrap_or(word);
    SHELLS.contains(&base)
        || base.strip_prefix("python").is_some_and(|v| v.chars().all(|c| c.is_ascii_digit() || c == '.'))
}

fn downloader(text: &str) -> Option<&'static str> {
    text.split(|c: char| c.is_whitespace() || matches!(c, '(' | '`' | '"' | '\'' | ';' | '&'))
        .map(|w| w.rsplit('/').next().unwrap_or(w))
        .find_map(|w| match w {
            "curl" => Some("curl"),
            "wget" => Some("wget"),
            _ => None,
        })
}

/// `curl … | sh`, `wget -O- … | sudo bash -s --`, `sh -c "$(curl …)"`, `bash <(curl …)`:
/// the downloader's name when the step runs a download directly.
fn pipe_to_shell(cmd: &str) -> Option<&'static str> {
    // Pipes: split on `|` but not `||`.
    let cmd_no_or = cmd.replace("||", "\u{0}\u{0}");
    let segments: Vec<&str> = cmd_no_or.split('|').collect();
    for pair in segments.windows(2) {
        // Only the command right before the pipe matters: cut at `&&`, `;`, `\0\0`.
        let before = pair[0].rsplit(['&', ';', '\u{0}']).next().unwrap_or("");
        let Some(tool) = downloader(before) else { continue };
        let mut words = pair[1].split_whitespace().skip_while(|w| *w == "sudo" || *w == "env" || w.contains('='));
        if words.next().is_some_and(is_shell) {
            return Some(tool);
        }
    }
    // Command and process substitution handed to a shell or eval.
    for (i, _) in cmd.match_indices("$(").chain(cmd.match_indices("<(")).chain(cmd.match_indices('`')) {
        let inner = &cmd[i..];
        let mut end = inner.find(')').unwrap_or(inner.len()).min(200);
        while !inner.is_char_boundary(end) {
            end -= 1;
        }
        let Some(tool) = downloader(&inner[..end]) else { continue };
        let head = cmd[..i].trim_end().trim_end_matches(['"', '\'']).trim_end();
        let head = head.strip_suffix("-c").unwrap_or(head).trim_end();
        let last = head.rsplit(|c: char| c.is_whitespace() || c == ';' || c == '&').next().unwrap_or("");
        if is_shell(last) || last == "eval" || last == "source" || last == "." {
            return Some(tool);
        }
    }
    None
}

/// Why a base image name does not pin a version, if it does not.
fn moving_tag(name: &str) -> Option<&'static str> {
    let name = name.trim();
    if name.is_empty() || name.contains('@') {
        return None;
    }
    let last = name.rsplit('/').next().unwrap_or(name);
    match last.rsplit_once(':') {
        Some((_, "latest")) => Some("uses the `latest` tag"),
        Some((_, tag)) if !tag.is_empty() => None,
        _ => Some("has no tag or digest (it means `latest`)"),
    }
}

/// The base image's share of an image's layers, and how it was decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BaseLayers {
    /// Layers `0..count` belong to the base image.
    pub count: usize,
    pub rule: BaseRule,
}

/// Which rule of [`base_layers`] decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BaseRule {
    /// Everything before the last `CMD`/`ENTRYPOINT` step that is followed by a layer.
    BaseCmd,
    /// The leading root-filesystem `ADD` layers (`ADD file:… in /`, `ADD rootfs.tar.gz /`).
    Rootfs,
    /// No history marker, but the first layer is a distribution's root filesystem (it holds
    /// an `os-release`), e.g. `docker import` of a debootstrap tree: that layer is the base.
    DistroRootfs,
    /// No marker of a base image: every layer is the image's own (`FROM scratch`).
    NoBase,
}

/// Decides which leading layers come from the base image, from the config's history (see
/// `docs/misconfig.md`). `None` when there is no config (`dir:`) or its history does not
/// line up with the layers.
pub fn base_layers(image: &dyn AnalyzedImage) -> Option<BaseLayers> {
    let cfg = image.config()?;
    let found = base_layers_in(&cfg.history, image.layers().len())?;
    let distro_rootfs = image
        .layers()
        .first()
        .is_some_and(|l| l.entries.iter().any(|e| matches!(e.path.as_str(), "etc/os-release" | "usr/lib/os-release")));
    if found.rule == BaseRule::NoBase && distro_rootfs {
        return Some(BaseLayers { count: 1, rule: BaseRule::DistroRootfs });
    }
    Some(found)
}

/// [`base_layers`] over a history and a layer count (for callers holding only a config).
pub fn base_layers_in(history: &[History], layers: usize) -> Option<BaseLayers> {
    if history.iter().filter(|h| !h.empty_layer).count() != layers {
        return None;
    }
    // Layers created before each history entry.
    let mut before = Vec::with_capacity(history.len());
    let mut n = 0;
    for h in history {
        before.push(n);
        n += usize::from(!h.empty_layer);
    }
    let boundary = history.iter().enumerate().rev().find(|(i, h)| {
        let ins = Step::parse(h.created_by.as_deref().unwrap_or("")).instruction;
        matches!(ins, "CMD" | "ENTRYPOINT") && before[*i] < layers && (h.empty_layer || before[*i] + 1 < layers)
    });
    if let Some((i, h)) = boundary {
        return Some(BaseLayers { count: before[i] + usize::from(!h.empty_layer), rule: BaseRule::BaseCmd });
    }
    let mut count = 0;
    for h in history {
        let step = Step::parse(h.created_by.as_deref().unwrap_or(""));
        if h.empty_layer {
            continue;
        }
        if step.instruction == "ADD" && is_rootfs_add(step.args) {
            count += 1;
        } else {
            break;
        }
    }
    let rule = if count > 0 { BaseRule::Rootfs } else { BaseRule::NoBase };
    Some(BaseLayers { count, rule })
}

/// `file:<hash> in /` (classic builder) or `<something>.tar[.gz|.xz|…] /` (BuildKit).
fn is_rootfs_add(args: &str) -> bool {
    let words: Vec<&str> = args.split_whitespace().filter(|w| !w.starts_with("--")).collect();
    match words.as_slice() {
        [src, "in", "/"] => src.starts_with("file:"),
        [src, "/"] => {
            let src = src.to_ascii_lowercase();
            [".tar", ".tar.gz", ".tgz", ".tar.xz", ".txz", ".tar.bz2", ".tar.zst"].iter().any(|e| src.ends_with(e))
        }
        _ => false,
    }
}

fn file_mode_checks(image: &dyn AnalyzedImage, base: usize, out: &mut Vec<ConfigFinding>) {
    // Paths a base layer already shipped with the same special bits: a later layer that
    // rewrites them (an upgrade, a `chown -R`) did not add the risk.
    let mut base_setid = BTreeSet::new();
    let mut base_writable = BTreeSet::new();
    for layer in image.layers().iter().take(base) {
        for e in &layer.entries {
            if matches!(e.kind, EntryKind::File) && e.mode & 0o6000 != 0 {
                base_setid.insert(e.path.as_str());
            }
            if world_writable(&e.kind, e.mode) {
                base_writable.insert(e.path.as_str());
            }
        }
    }
    for (path, node) in image.view().iter() {
        if node.layer < base {
            continue;
        }
        let e = &node.entry;
        if matches!(e.kind, EntryKind::File) && e.mode & 0o6000 != 0 && !base_setid.contains(path) {
            let bits = match (e.mode & 0o4000 != 0, e.mode & 0o2000 != 0) {
                (true, true) => "setuid and setgid",
                (true, false) => "setuid",
                _ => "setgid",
            };
            out.push(finding(
                SETID_FILE,
                format!(
                    "/{path} is {bits} (mode {:04o}, owner {}:{}), added in layer {}",
                    e.mode & 0o7777,
                    e.uid,
                    e.gid,
                    node.layer
                ),
                file_loc(path, node.layer, None),
            ));
        }
        if world_writable(&e.kind, e.mode) && !base_writable.contains(path) {
            let what = if matches!(e.kind, EntryKind::Dir) { "directory (no sticky bit)" } else { "file" };
            out.push(finding(
                WORLD_WRITABLE,
                format!(
                    "/{path} is a world-writable {what} (mode {:04o}), added in layer {}",
                    e.mode & 0o7777,
                    node.layer
                ),
                file_loc(path, node.layer, None),
            ));
        }
    }
}

fn world_writable(kind: &EntryKind, mode: u32) -> bool {
    mode & 0o002 != 0
        && match kind {
            EntryKind::File => true,
            EntryKind::Dir => mode & 0o1000 == 0,
            EntryKind::Symlink { .. } | EntryKind::Hardlink { .. } => false,
        }
}

/// A package manager's cache: its name, the directory reported, and which files count.
struct Cache {
    name: &'static str,
    dir: &'static str,
    matches: fn(&str) -> bool,
}

const CACHES: &[Cache] = &[
    Cache {
        name: "apt package archives",
        dir: "var/cache/apt/archives",
        matches: |p| p.starts_with("var/cache/apt/archives/") && p.ends_with(".deb"),
    },
    Cache {
        name: "apt package lists",
        dir: "var/lib/apt/lists",
        matches: |p| p.strip_prefix("var/lib/apt/lists/").is_some_and(|f| !f.contains('/') && f.contains("_Packages")),
    },
    Cache {
        name: "apk cache",
        dir: "var/cache/apk",
        matches: |p| p.strip_prefix("var/cache/apk/").is_some_and(|f| f.ends_with(".apk") || f.starts_with("APKINDEX")),
    },
    Cache { name: "yum cache", dir: "var/cache/yum", matches: |p| p.starts_with("var/cache/yum/") },
    Cache { name: "dnf cache", dir: "var/cache/dnf", matches: |p| p.starts_with("var/cache/dnf/") },
    Cache { name: "pip cache", dir: "root/.cache/pip", matches: |p| p.starts_with("root/.cache/pip/") },
    Cache { name: "npm cache", dir: "root/.npm/_cacache", matches: |p| p.starts_with("root/.npm/_cacache/") },
];

/// Home-directory caches of other users: `home/<user>/.cache/pip/…`, `home/<user>/.npm/_cacache/…`.
fn home_cache(path: &str) -> Option<(&'static str, String)> {
    let rest = path.strip_prefix("home/")?;
    let (user, rest) = rest.split_once('/')?;
    if rest.starts_with(".cache/pip/") {
        Some(("pip cache", format!("home/{user}/.cache/pip")))
    } else if rest.starts_with(".npm/_cacache/") {
        Some(("npm cache", format!("home/{user}/.npm/_cacache")))
    } else {
        None
    }
}

fn cache_checks(image: &dyn AnalyzedImage, out: &mut Vec<ConfigFinding>) {
    // (dir, layer) -> (name, files, bytes, files still visible)
    let mut found: BTreeMap<(String, usize), (&'static str, u64, u64, u64)> = BTreeMap::new();
    for (layer, index) in image.layers().iter().enumerate() {
        for e in &index.entries {
            if !matches!(e.kind, EntryKind::File) || e.size == 0 {
                continue;
            }
            let hit = CACHES
                .iter()
                .find(|c| (c.matches)(&e.path))
                .map(|c| (c.name, c.dir.to_owned()))
                .or_else(|| home_cache(&e.path));
            let Some((name, dir)) = hit else { continue };
            let slot = found.entry((dir, layer)).or_insert((name, 0, 0, 0));
            slot.1 += 1;
            slot.2 += e.size;
            slot.3 += u64::from(image.view().superseded_in(&e.path, layer).is_none());
        }
    }
    for ((dir, layer), (name, files, bytes, visible)) in found {
        let gone = if visible == 0 { " (deleted by a later layer, but the bytes still ship)" } else { "" };
        out.push(finding(
            PACKAGE_CACHE,
            format!(
                "{name}: {}, {} in /{dir}, left by layer {layer}{gone}",
                bulwark_core::plural::count(files, "file", "files"),
                human(bytes)
            ),
            file_loc(&dir, layer, None),
        ));
    }
}

fn package_checks(report: &ScanReport, out: &mut Vec<ConfigFinding>) {
    for p in &report.packages {
        if p.removed_in.is_some() || !matches!(p.ecosystem.as_str(), "deb" | "apk" | "rpm") {
            continue;
        }
        let id = match p.name.as_str() {
            "sudo" | "sudo-rs" | "sudo-ldap" => SUDO_INSTALLED,
            "openssh-server" | "openssh-server-pam" | "dropbear" => SSH_SERVER,
            _ => continue,
        };
        let layer = p.layer.map(|l| format!(", installed in layer {l}")).unwrap_or_default();
        let location = p.locations.first().map(|path| FileLocation {
            path: path.clone(),
            layer: p.layer,
            removed_in: None,
            line: None,
            entry: None,
        });
        out.push(finding(
            id,
            format!("{} package {} {} is installed{layer}", p.ecosystem, p.name, p.version),
            location,
        ));
    }
}

fn large_layer_check(image: &dyn AnalyzedImage, opts: &ConfigOptions, out: &mut Vec<ConfigFinding>) {
    let total: u64 = image.layers().iter().map(|l| l.uncompressed_size).sum();
    if total == 0 {
        return;
    }
    for (i, l) in image.layers().iter().enumerate() {
        let size = l.uncompressed_size;
        if size <= opts.large_layer_bytes || (size as f64) <= opts.large_layer_share * total as f64 {
            continue;
        }
        let step = image.created_by(i).map(|s| format!(" (created by {})", short(s))).unwrap_or_default();
        out.push(finding(
            LARGE_LAYER,
            format!(
                "layer {i} is {} of the image's {} uncompressed ({:.0}%){step}",
                human(size),
                human(total),
                100.0 * size as f64 / total as f64
            ),
            file_loc("/", i, None),
        ));
    }
}

/// A history step cut to a readable length (on a char boundary).
fn short(s: &str) -> String {
    let s = s.trim();
    match s.char_indices().nth(80) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}

fn human(bytes: u64) -> String {
    const UNITS: &[&str] = &["B", "kB", "MB", "GB", "TB"];
    let mut v = bytes as f64;
    let mut u = 0;
    while v >= 1000.0 && u + 1 < UNITS.len() {
        v /= 1000.0;
        u += 1;
    }
    if u == 0 { format!("{bytes} B") } else { format!("{v:.1} {}", UNITS[u]) }
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
