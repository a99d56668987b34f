//! Checks of the image config and its build history: user, ports, secrets in `Env`,
//! health check, `ADD` from URLs, pipes to a shell, moving base-image tags.

use super::*;

pub(super) fn config_checks(cfg: &ImageConfig, annotations: &BTreeMap<String, String>, out: &mut Vec<ConfigFinding>) {
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
pub(super) fn is_root_user(user: &str) -> bool {
    let name = user.split(':').next().unwrap_or("").trim();
    name == "root" || (!name.is_empty() && name.bytes().all(|b| b == b'0'))
}

/// One history step: the Dockerfile instruction (`RUN` for classic shell steps) and its text.
pub(super) struct Step<'a> {
    pub(super) instruction: &'a str,
    pub(super) args: &'a str,
}

impl<'a> Step<'a> {
    /// Accepts the classic builder's forms (`/bin/sh -c #(nop) ADD …`, `/bin/sh -c apt-get …`,
    /// `|2 A=1 B=2 /bin/sh -c …` with build args) and BuildKit's (`RUN /bin/sh -c … # buildkit`,
    /// `ADD https://… /x # buildkit`).
    pub(super) fn parse(created_by: &'a str) -> Step<'a> {
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
pub(super) fn upper_instruction(word: &str) -> &'static str {
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
pub(super) fn remote_url(word: &str) -> Option<String> {
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

pub(super) const SHELLS: &[&str] =
    &["sh", "bash", "ash", "dash", "zsh", "ksh", "fish", "python", "python3", "perl", "ruby", "node"];

pub(super) fn is_shell(word: &str) -> bool {
    let base = word.rsplit('/').next().unwrap_or(word);
    SHELLS.contains(&base)
        || base.strip_prefix("python").is_some_and(|v| v.chars().all(|c| c.is_ascii_digit() || c == '.'))
}

pub(super) fn downloader(text: &str) -> Option<&'static str> {
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
pub(super) fn pipe_to_shell(cmd: &str) -> Option<&'static str> {
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
pub(super) fn moving_tag(name: &str) -> Option<&'static str> {
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
