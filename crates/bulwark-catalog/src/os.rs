//! Which distribution an image is: `os-release(5)` first, then the older release files,
//! then the distroless layout; and the OSV ecosystem name the release maps to.

/// A distro as far as package URLs care: the os-release `ID` and `VERSION_ID`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Distro {
    pub id: String,
    pub version_id: Option<String>,
}

impl Distro {
    /// A distro with a known version, e.g. `Distro::new("debian", "12")`.
    pub fn new(id: &str, version_id: &str) -> Self {
        Distro { id: id.to_owned(), version_id: Some(version_id.to_owned()).filter(|v| !v.is_empty()) }
    }

    /// The purl `distro` qualifier: `<id>-<version_id>` (e.g. `debian-12`, `alpine-3.19.1`),
    /// or just the id for rolling distros.
    pub fn purl_qualifier(&self) -> Option<String> {
        if self.id.is_empty() {
            return None;
        }
        Some(match &self.version_id {
            Some(v) => format!("{}-{v}", self.id),
            None => self.id.clone(),
        })
    }
}

/// The contents of the release files of an image, each `None` when the file is absent.
/// Paths are relative to the image root.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReleaseFiles<'a> {
    /// `etc/os-release`
    pub etc_os_release: Option<&'a [u8]>,
    /// `usr/lib/os-release`
    pub usr_lib_os_release: Option<&'a [u8]>,
    /// `etc/alpine-release`
    pub alpine_release: Option<&'a [u8]>,
    /// `etc/debian_version`
    pub debian_version: Option<&'a [u8]>,
    /// `etc/redhat-release`
    pub redhat_release: Option<&'a [u8]>,
    /// `etc/system-release`
    pub system_release: Option<&'a [u8]>,
    /// Whether `var/lib/dpkg/status.d/` holds any file (Google's distroless layout).
    pub has_dpkg_status_d: bool,
}

/// What was detected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OsInfo {
    /// os-release `ID`, lower-case (`debian`, `ubuntu`, `alpine`, `rhel`, `rocky`, …).
    pub id: String,
    pub id_like: Vec<String>,
    pub name: Option<String>,
    pub pretty_name: Option<String>,
    /// os-release `VERSION_ID` (`12`, `22.04`, `3.19.1`, `9.3`), completed from
    /// `debian_version`/`alpine-release` when os-release lacks it.
    pub version_id: Option<String>,
    /// os-release `VERSION` (`22.04.3 LTS (Jammy Jellyfish)`).
    pub version: Option<String>,
    /// `VERSION_CODENAME`, `UBUNTU_CODENAME`, or for Debian/Ubuntu the word in
    /// parentheses in `VERSION`.
    pub codename: Option<String>,
    /// Debian's point release from `/etc/debian_version` (`12.5`), when numeric.
    pub point_release: Option<String>,
    /// A Google distroless image (`PRETTY_NAME="Distroless"` or a `dpkg/status.d/` layout).
    pub distroless: bool,
    /// The OSV ecosystem the release's advisories are published under, e.g. `Debian:12`,
    /// `Ubuntu:22.04:LTS`, `Alpine:v3.19`, `Rocky Linux:9`. `None` when OSV has no
    /// ecosystem for the distro or the version is unknown. For Red Hat this is the prefix
    /// `Red Hat:enterprise_linux:<major>`: OSV scopes Red Hat records per CPE product stream
    /// (`…::baseos`, `…::appstream`), which os-release alone cannot tell.
    pub osv_ecosystem: Option<String>,
    /// The file the identity came from, e.g. `/etc/os-release`.
    pub source: &'static str,
}

impl OsInfo {
    /// The distro for purl qualifiers.
    pub fn distro(&self) -> Distro {
        Distro { id: self.id.clone(), version_id: self.version_id.clone() }
    }

    fn empty(id: &str, source: &'static str) -> Self {
        OsInfo {
            id: id.to_owned(),
            id_like: Vec::new(),
            name: None,
            pretty_name: None,
            version_id: None,
            version: None,
            codename: None,
            point_release: None,
            distroless: false,
            osv_ecosystem: None,
            source,
        }
    }
}

/// Parses `os-release(5)`: `KEY=value` lines; values may be double-quoted (with `\"`, `\\`,
/// `` \` `` and `\$` escapes) or single-quoted; comments and malformed lines are skipped.
/// Later assignments win, as in a shell.
pub fn parse_os_release(bytes: &[u8]) -> Vec<(String, String)> {
    let text = String::from_utf8_lossy(bytes);
    let mut out: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((key, raw)) = line.split_once('=') else { continue };
        let key = key.trim();
        if key.is_empty() || !key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            continue;
        }
        let value = unquote(raw.trim());
        out.retain(|(k, _)| k != key);
        out.push((key.to_owned(), value));
    }
    out
}

fn unquote(v: &str) -> String {
    let bytes = v.as_bytes();
    if bytes.len() >= 2 && bytes[0] == b'\'' && bytes[bytes.len() - 1] == b'\'' {
        return v[1..v.len() - 1].to_owned();
    }
    if bytes.len() >= 2 && bytes[0] == b'"' && bytes[bytes.len() - 1] == b'"' {
        let inner = &v[1..v.len() - 1];
        let mut out = String::with_capacity(inner.len());
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            if c == '\\' {
                match chars.next() {
                    Some(n @ ('"' | '\\' | '`' | '$')) => out.push(n),
                    Some(n) => {
                        out.push('\\');
                        out.push(n);
                    }
                    None => out.push('\\'),
                }
            } else {
                out.push(c);
            }
        }
        return out;
    }
    v.to_owned()
}

/// Detects the distribution from its release files. Returns `None` when no file names one
/// (an image `FROM scratch`, or an os-release without `ID`): an unknown OS is never guessed.
pub fn detect(files: &ReleaseFiles<'_>) -> Option<OsInfo> {
    let mut info = from_os_release(files).or_else(|| from_legacy_files(files))?;
    complete(&mut info, files);
    info.osv_ecosystem = osv_ecosystem(&info);
    Some(info)
}

fn from_os_release(files: &ReleaseFiles<'_>) -> Option<OsInfo> {
    let candidates = [("/etc/os-release", files.etc_os_release), ("/usr/lib/os-release", files.usr_lib_os_release)];
    for (source, bytes) in candidates {
        let Some(bytes) = bytes else { continue };
        let kv = parse_os_release(bytes);
        let get =
            |k: &str| kv.iter().find(|(key, _)| key == k).map(|(_, v)| v.trim().to_owned()).filter(|v| !v.is_empty());
        let Some(id) = get("ID") else { continue };
        let mut info = OsInfo::empty(&id.to_ascii_lowercase(), source);
        info.id_like =
            get("ID_LIKE").map(|s| s.split_whitespace().map(|w| w.to_ascii_lowercase()).collect()).unwrap_or_default();
        info.name = get("NAME");
        info.pretty_name = get("PRETTY_NAME");
        info.version_id = get("VERSION_ID");
        info.version = get("VERSION");
        info.codename = get("VERSION_CODENAME").or_else(|| get("UBUNTU_CODENAME")).map(|c| c.to_ascii_lowercase());
        info.distroless = info.pretty_name.as_deref() == Some("Distroless");
        return Some(info);
    }
    None
}

fn first_line(bytes: Option<&[u8]>) -> Option<String> {
    let text = String::from_utf8_lossy(bytes?);
    let line = text.lines().next()?.trim();
    (!line.is_empty()).then(|| line.to_owned())
}

fn from_legacy_files(files: &ReleaseFiles<'_>) -> Option<OsInfo> {
    if let Some(v) = first_line(files.alpine_release) {
        let mut info = OsInfo::empty("alpine", "/etc/alpine-release");
        info.version_id = Some(v);
        return Some(info);
    }
    for (source, bytes) in
        [("/etc/redhat-release", files.redhat_release), ("/etc/system-release", files.system_release)]
    {
        if let Some(line) = first_line(bytes)
            && let Some(info) = parse_redhat_release(&line, source)
        {
            return Some(info);
        }
    }
    if first_line(files.debian_version).is_some() {
        let mut info = OsInfo::empty("debian", "/etc/debian_version");
        info.distroless = files.has_dpkg_status_d;
        return Some(info);
    }
    if files.has_dpkg_status_d {
        // Early distroless images shipped neither os-release nor debian_version; their
        // dpkg `status.d/` layout only exists in Google's Debian-based distroless builds.
        let mut info = OsInfo::empty("debian", "/var/lib/dpkg/status.d/");
        info.distroless = true;
        return Some(info);
    }
    None
}

/// Parses `/etc/redhat-release`-style lines: `Rocky Linux release 9.3 (Blue Onyx)`.
pub fn parse_redhat_release(line: &str, source: &'static str) -> Option<OsInfo> {
    let (product, rest) = line.split_once(" release ")?;
    let version = rest.split_whitespace().next().filter(|v| v.starts_with(|c: char| c.is_ascii_digit()))?;
    const IDS: &[(&str, &str)] = &[
        ("Red Hat Enterprise Linux", "rhel"),
        ("CentOS Stream", "centos"),
        ("CentOS", "centos"),
        ("Rocky Linux", "rocky"),
        ("AlmaLinux", "almalinux"),
        ("Scientific Linux", "scientific"),
        ("Fedora", "fedora"),
        ("Amazon Linux", "amzn"),
        ("Oracle Linux", "ol"),
    ];
    let id = IDS.iter().find(|(prefix, _)| product.starts_with(prefix)).map(|(_, id)| *id)?;
    let mut info = OsInfo::empty(id, source);
    info.version_id = Some(version.to_owned());
    info.pretty_name = Some(line.to_owned());
    info.name = Some(product.to_owned());
    Some(info)
}

/// Fills what os-release left out from the other files.
fn complete(info: &mut OsInfo, files: &ReleaseFiles<'_>) {
    if info.id == "debian" {
        info.distroless |= files.has_dpkg_status_d;
        if let Some(dv) = first_line(files.debian_version) {
            // `12.5` is a point release; testing and unstable say `trixie/sid` instead.
            if let Some(m) = major(&dv) {
                if info.version_id.is_none() {
                    info.version_id = Some(m.to_owned());
                }
                info.point_release = Some(dv.clone());
            }
        }
    }
    if info.id == "alpine"
        && info.version_id.is_none()
        && let Some(v) = first_line(files.alpine_release)
    {
        info.version_id = Some(v);
    }
    if info.codename.is_none() && matches!(info.id.as_str(), "debian" | "ubuntu") {
        // `VERSION="8 (jessie)"`, `VERSION="18.04.3 LTS (Bionic Beaver)"`: the codename is
        // the first word in parentheses, lower-cased (Ubuntu's codename is the adjective).
        info.codename = info
            .version
            .as_deref()
            .and_then(|v| v.split_once('(').map(|(_, r)| r))
            .and_then(|r| r.split([')', ' ']).next())
            .map(str::to_ascii_lowercase)
            .filter(|c| !c.is_empty());
    }
}

fn major(version: &str) -> Option<&str> {
    let m = version.split('.').next()?;
    (!m.is_empty() && m.bytes().all(|b| b.is_ascii_digit())).then_some(m)
}

/// Maps a release to its OSV ecosystem (see `schemas/osv/ecosystems.json` for the list).
pub fn osv_ecosystem(info: &OsInfo) -> Option<String> {
    let vid = info.version_id.as_deref();
    Some(match info.id.as_str() {
        "debian" => format!("Debian:{}", major(vid?)?),
        "ubuntu" => {
            let v = vid?;
            let (yy, mm) = v.split_once('.')?;
            let yy_num: u32 = yy.parse().ok()?;
            // LTS: what VERSION says, else Ubuntu's rule (every even year's April release).
            let lts = info.version.as_deref().is_some_and(|s| s.contains("LTS"))
                || info.pretty_name.as_deref().is_some_and(|s| s.contains("LTS"))
                || (mm == "04" && yy_num.is_multiple_of(2));
            if lts { format!("Ubuntu:{v}:LTS") } else { format!("Ubuntu:{v}") }
        }
        "alpine" => {
            let v = vid?;
            // Development snapshots (`3.19_alpha20230901`, PRETTY_NAME "edge") have no branch.
            if v.contains('_') || info.pretty_name.as_deref().is_some_and(|p| p.contains("edge")) {
                return None;
            }
            let mut parts = v.split('.');
            let (maj, min) = (parts.next()?, parts.next()?);
            if maj.is_empty() || min.is_empty() || !(maj.bytes().chain(min.bytes())).all(|b| b.is_ascii_digit()) {
                return None;
            }
            format!("Alpine:v{maj}.{min}")
        }
        "rhel" => format!("Red Hat:enterprise_linux:{}", major(vid?)?),
        "rocky" => format!("Rocky Linux:{}", major(vid?)?),
        "almalinux" => format!("AlmaLinux:{}", major(vid?)?),
        "sles" | "sles_sap" | "sle-micro" => format!("SUSE:{}", info.pretty_name.as_deref()?),
        "opensuse-leap" | "opensuse-tumbleweed" | "opensuse-leap-micro" => {
            format!("openSUSE:{}", info.pretty_name.as_deref()?)
        }
        "photon" => format!("Photon OS:{}", vid?),
        "azurelinux" => format!("Azure Linux:{}", vid?),
        "mageia" => format!("Mageia:{}", vid?),
        "alpaquita" => format!("Alpaquita:{}", vid?),
        "wolfi" => "Wolfi".to_owned(),
        "chainguard" => "Chainguard".to_owned(),
        "minimos" => "MinimOS".to_owned(),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os_release(text: &str) -> OsInfo {
        detect(&ReleaseFiles { etc_os_release: Some(text.as_bytes()), ..Default::default() }).unwrap()
    }

    #[test]
    fn quoting() {
        let kv = parse_os_release(b"A=\"x \\\"y\\\" \\$z\"\nB='a b'\n# c\nbad line\nC=plain\nA=again\n");
        assert_eq!(kv, vec![("B".into(), "a b".into()), ("C".into(), "plain".into()), ("A".into(), "again".into())]);
    }

    #[test]
    fn ubuntu_lts_rule() {
        assert_eq!(os_release("ID=ubuntu\nVERSION_ID=\"22.04\"\n").osv_ecosystem.as_deref(), Some("Ubuntu:22.04:LTS"));
        assert_eq!(os_release("ID=ubuntu\nVERSION_ID=\"23.10\"\n").osv_ecosystem.as_deref(), Some("Ubuntu:23.10"));
        assert_eq!(os_release("ID=ubuntu\nVERSION_ID=\"21.04\"\n").osv_ecosystem.as_deref(), Some("Ubuntu:21.04"));
    }

    #[test]
    fn unknown_distro_has_no_ecosystem() {
        let info = os_release("ID=my-awesome-distro\nVERSION_ID=8\n");
        assert_eq!(info.osv_ecosystem, None);
    }

    #[test]
    fn redhat_release_lines() {
        let info = parse_redhat_release("Red Hat Enterprise Linux Server release 7.9 (Maipo)", "/x").unwrap();
        assert_eq!((info.id.as_str(), info.version_id.as_deref()), ("rhel", Some("7.9")));
        assert!(parse_redhat_release("Something release x", "/x").is_none());
    }
}
