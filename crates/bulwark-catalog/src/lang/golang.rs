//! Go: the build information the Go linker embeds in every binary (Go 1.13+ for module
//! data, read the way `go version -m` and `debug/buildinfo` read it).
//!
//! Layout (Go's `src/debug/buildinfo/buildinfo.go`, `cmd/link/internal/ld/data.go`): a
//! 32-byte header, 16-byte aligned, at the start of the `.go.buildinfo` section (ELF),
//! `__go_buildinfo` (Mach-O) or near the start of the first writable data section (PE):
//!
//! - 14 bytes magic `\xff Go buildinf:`, 1 byte pointer size, 1 byte flags;
//! - flags bit 1 (`0x2`, Go 1.18+): the header is followed by two varint-length-prefixed
//!   strings, the toolchain version and the module info;
//! - otherwise (Go ≤ 1.17): two pointers (endianness from flags bit 0) to Go string headers
//!   `{data pointer, length}` for the same two strings, resolved through the sections'
//!   virtual addresses.
//!
//! The module info is framed by two 16-byte sentinels and then holds tab-separated lines
//! (`runtime/debug.ParseBuildInfo`): `path`, `mod` (main module), `dep`, `=>` (replacement
//! of the line before), `build` (settings such as `-ldflags`, `vcs.revision`).
//!
//! Size limit: the pipeline passes a binary's bytes whole only when the file is at most
//! [`MAX_BINARY_SIZE`]; nothing here copies the binary, and the two strings are capped at
//! [`MAX_STRING`] bytes.

use object::{Object, ObjectSection, ObjectSegment, SectionKind};

use crate::package::{Package, PackageKind};
use crate::{Parsed, Warning, excerpt};

/// The largest binary the pipeline hands to [`parse_binary`] as one slice (64 MiB).
pub const MAX_BINARY_SIZE: usize = 64 << 20;

/// The cap on each of the two embedded strings (toolchain version, module info). The
/// module info of a large binary (Kubernetes, Docker) is around 100 KiB.
pub const MAX_STRING: usize = 4 << 20;

const MAGIC: &[u8; 14] = b"\xff Go buildinf:";
const HEADER_LEN: usize = 32;
/// `debug/buildinfo` looks at the first 64 KiB of the data section.
const SEARCH_WINDOW: usize = 64 << 10;

/// One module line (`mod`, `dep` or `=>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Module {
    pub path: String,
    /// `(devel)` for a main module built from a checkout, empty for some replacements.
    pub version: String,
    /// The `h1:` go.sum hash, when recorded.
    pub sum: Option<String>,
    /// The `=>` line that followed this module: the code actually compiled in.
    pub replace: Option<Box<Module>>,
}

/// Everything the build info records.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BuildInfo {
    /// The toolchain version as embedded, e.g. `go1.21.5` or `go1.22.1 X:boringcrypto`.
    pub go_version: String,
    /// The main package path (`path` line), e.g. `github.com/docker/cli/cmd/docker`.
    pub path: Option<String>,
    /// The main module (`mod` line); absent for GOPATH-mode builds (as Debian builds them).
    pub main: Option<Module>,
    pub deps: Vec<Module>,
    /// `build` settings in order: `-compiler=gc`, `-ldflags=…`, `vcs.revision=…`, `GOOS=…`.
    pub settings: Vec<(String, String)>,
}

impl BuildInfo {
    /// The value of a build setting.
    pub fn setting(&self, key: &str) -> Option<&str> {
        self.settings.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
}

/// Reads the Go build info of an ELF, PE or Mach-O binary, with warnings about parts that
/// could not be read. `None` with no warnings means the file is not a Go binary (the usual
/// case for most executables in an image); `None` with warnings means it looked like one
/// but the build info was unreadable.
pub fn read_build_info(bytes: &[u8], path: &str) -> (Option<BuildInfo>, Vec<Warning>) {
    let mut warnings = Vec::new();
    let raw = match find_raw(bytes) {
        Ok(Some(raw)) => raw,
        Ok(None) => return (None, warnings),
        Err(reason) => {
            warnings.push(Warning::package(path, format!("Go build info: {reason}")));
            return (None, warnings);
        }
    };
    let (mut info, line_warnings) = parse_modinfo(&raw.modinfo);
    info.go_version = raw.version;
    warnings.extend(line_warnings.into_iter().map(|w| Warning::package(path, format!("Go build info: {w}"))));
    (Some(info), warnings)
}

/// Catalogs a Go binary: the main module (version `(devel)` when built from a checkout, as
/// Go records it), every dependency (a replacement reported under its own path and version;
/// a replacement by a local directory keeps the original path with version `(devel)`,
/// since no published version of that module was compiled in), and the toolchain as the
/// `stdlib` package (`go1.21.5` → `v1.21.5`, see [`stdlib_version`]).
///
/// Expects at most [`MAX_BINARY_SIZE`] bytes (larger slices are read all the same). A
/// binary that is not a Go binary yields nothing and no warning.
pub fn parse_binary(bytes: &[u8], path: &str) -> Parsed {
    let (info, mut warnings) = read_build_info(bytes, path);
    let Some(info) = info else { return (Vec::new(), warnings) };
    let (packages, w) = packages(&info, path);
    warnings.extend(w);
    (packages, warnings)
}

/// Turns build info into packages (see [`parse_binary`]).
pub fn packages(info: &BuildInfo, path: &str) -> Parsed {
    let mut packages = Vec::new();
    let mut warnings = Vec::new();
    // Go writes a version for the main module (`(devel)` at the least); one without is
    // skipped like a dependency without one, rather than reported with an empty version.
    let main = info.main.as_ref().map(effective).filter(|(name, version)| {
        if version.is_empty() {
            warnings.push(Warning::package(path, format!("Go main module {} has no version, skipped", excerpt(name))));
        }
        !version.is_empty()
    });
    if let Some((name, version)) = &main {
        packages.push(Package::new(PackageKind::GoModule, name.clone(), version.clone(), path));
    }
    for dep in &info.deps {
        let (name, version) = effective(dep);
        if version.is_empty() {
            warnings.push(Warning::package(path, format!("Go module {} has no version, skipped", excerpt(&name))));
            continue;
        }
        packages.push(Package::new(PackageKind::GoModule, name, version, path));
    }
    // The build info lists every module linked into the main package, not a graph: the
    // main module is the only one whose dependencies are known.
    if main.is_some() {
        let names: Vec<String> = packages[1..].iter().map(|p| p.name.clone()).collect();
        packages[0].dependencies = names;
    }
    match stdlib_version(&info.go_version) {
        Some(v) => packages.push(Package::new(PackageKind::GoModule, "stdlib".to_owned(), v, path)),
        None => warnings.push(Warning::package(
            path,
            format!("Go toolchain version {:?} not understood, stdlib not reported", excerpt(&info.go_version)),
        )),
    }
    (packages, warnings)
}

/// The (name, version) a module line stands for after its replacement.
fn effective(m: &Module) -> (String, String) {
    match &m.replace {
        Some(r) if is_local_path(&r.path) => (m.path.clone(), "(devel)".to_owned()),
        Some(r) => (r.path.clone(), r.version.clone()),
        None => (m.path.clone(), m.version.clone()),
    }
}

/// Local-directory replacements (`replace x => ../x`): go.mod requires them to start with
/// `./`, `../` or be absolute.
fn is_local_path(p: &str) -> bool {
    p.starts_with("./") || p.starts_with("../") || p.starts_with('/') || p == "." || p == ".."
}

/// The semantic version of a Go toolchain tag, as Go's module ecosystem writes versions
/// (with the `v` prefix, like every module version in build info): `go1.21.5` → `v1.21.5`,
/// `go1.21` → `v1.21.0`, `go1.21rc2` → `v1.21.0-rc.2`, `go1.19beta1` → `v1.19.0-beta.1`.
/// Anything after the first space (`X:boringcrypto` experiments) is ignored. This is
/// `GoTagToSemver` of golang.org/x/vuln; OSV's Go records write the same versions without
/// the `v` (`"fixed": "1.17.12"`, `"1.27.0-rc.3"`), exactly as for other Go modules, so
/// the matcher strips the prefix for all Go packages alike. `devel` toolchains and
/// vendor-suffixed tags (`go1.25-20250209-RC00`) have no such version: `None`.
pub fn stdlib_version(go_version: &str) -> Option<String> {
    let tag = go_version.split_whitespace().next()?;
    if tag == "go1" {
        return Some("v1.0.0".to_owned());
    }
    let rest = tag.strip_prefix("go")?;
    let (numbers, pre) = match rest.find(|c: char| !(c.is_ascii_digit() || c == '.')) {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let parts: Vec<&str> = numbers.split('.').collect();
    if !(2..=3).contains(&parts.len()) || parts.iter().any(|p| p.is_empty() || p.len() > 9) {
        return None;
    }
    let patch = parts.get(2).copied().unwrap_or("0");
    let mut version = format!("v{}.{}.{}", parts[0], parts[1], patch);
    if !pre.is_empty() {
        let (kind, n) = pre.split_at(pre.find(|c: char| c.is_ascii_digit())?);
        if !matches!(kind, "rc" | "beta") || n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        version.push_str(&format!("-{kind}.{n}"));
    }
    Some(version)
}

/// The two raw strings of the build info.
#[derive(Debug)]
struct Raw {
    version: String,
    modinfo: String,
}

/// Finds and decodes the build info header. `Ok(None)`: no build info at all.
fn find_raw(bytes: &[u8]) -> Result<Option<Raw>, String> {
    let file = object::File::parse(bytes).ok();
    // The section the linker writes the header to; fall back to scanning the whole file
    // (stripped or packed binaries may have no section table).
    let mut windows: Vec<&[u8]> = Vec::new();
    if let Some(file) = &file {
        for name in [".go.buildinfo", "__go_buildinfo"] {
            if let Some(data) = file.section_by_name(name).and_then(|s| s.data().ok()) {
                windows.push(data);
            }
        }
        if windows.is_empty()
            && let Some(data) = file.sections().find(|s| s.kind() == SectionKind::Data).and_then(|s| s.data().ok())
        {
            windows.push(data);
        }
    }
    windows.push(bytes);
    let mut last_err = None;
    for (i, window) in windows.iter().enumerate() {
        let whole_file = i + 1 == windows.len();
        let limit = if whole_file { window.len() } else { window.len().min(SEARCH_WINDOW) };
        let mut offset = 0;
        while offset + HEADER_LEN <= limit {
            // The header is 16-byte aligned in memory; file offsets keep that alignment
            // because ELF, PE and Mach-O map sections at offsets congruent to their addresses
            // modulo the page (or file) alignment.
            if window[offset..offset + MAGIC.len()] == MAGIC[..] {
                match decode_header(&window[offset..], file.as_ref()) {
                    Ok(raw) => return Ok(Some(raw)),
                    // A binary importing debug/buildinfo carries the magic as a string
                    // literal too: keep looking.
                    Err(e) => last_err = Some(e),
                }
            }
            offset += 16;
        }
    }
    match last_err {
        Some(e) => Err(e),
        None => Ok(None),
    }
}

fn decode_header(data: &[u8], file: Option<&object::File<'_>>) -> Result<Raw, String> {
    let ptr_size = data[14] as usize;
    let flags = data[15];
    let (version, modinfo) = if flags & 2 != 0 {
        let (version, rest) = decode_string(&data[HEADER_LEN..]).ok_or("truncated version string")?;
        let (modinfo, _) = decode_string(rest).ok_or("truncated module info")?;
        (version.to_vec(), modinfo.to_vec())
    } else {
        if ptr_size != 4 && ptr_size != 8 {
            return Err(format!("pointer size {ptr_size} is neither 4 nor 8"));
        }
        if flags > 1 {
            return Err(format!("unknown flags {flags:#x}"));
        }
        let Some(file) = file else {
            return Err("pre-1.18 build info needs section addresses, and the file is not ELF, PE or Mach-O".into());
        };
        let big_endian = flags & 1 != 0;
        let read_ptr = |b: &[u8]| -> u64 {
            match (ptr_size, big_endian) {
                (4, false) => u32::from_le_bytes(b[..4].try_into().unwrap_or_default()) as u64,
                (4, true) => u32::from_be_bytes(b[..4].try_into().unwrap_or_default()) as u64,
                (_, false) => u64::from_le_bytes(b[..8].try_into().unwrap_or_default()),
                (_, true) => u64::from_be_bytes(b[..8].try_into().unwrap_or_default()),
            }
        };
        let string_at = |addr: u64| -> Option<Vec<u8>> {
            let header = read_at(file, addr, 2 * ptr_size as u64)?;
            let (data_addr, len) = (read_ptr(header), read_ptr(&header[ptr_size..]));
            if len > MAX_STRING as u64 {
                return None;
            }
            read_at(file, data_addr, len).map(<[u8]>::to_vec)
        };
        let version = string_at(read_ptr(&data[16..])).ok_or("version string pointer does not resolve")?;
        let modinfo = string_at(read_ptr(&data[16 + ptr_size..])).unwrap_or_default();
        (version, modinfo)
    };
    let version = String::from_utf8_lossy(&version).into_owned();
    if !(version.starts_with("go") || version.starts_with("devel")) {
        return Err(format!("version string {:?} does not look like a Go version", excerpt(&version)));
    }
    // Strip the sentinels framing the module info (cmd/go/internal/modload infoStart,
    // infoEnd) the way debug/buildinfo does; without them there is no module info.
    let modinfo = if modinfo.len() >= 33 && modinfo[modinfo.len() - 17] == b'\n' {
        String::from_utf8_lossy(&modinfo[16..modinfo.len() - 16]).into_owned()
    } else {
        String::new()
    };
    Ok(Raw { version, modinfo })
}

/// A `binary.Uvarint` length followed by that many bytes.
fn decode_string(data: &[u8]) -> Option<(&[u8], &[u8])> {
    let mut len: u64 = 0;
    let mut i = 0;
    loop {
        let b = *data.get(i)?;
        if i >= 9 {
            return None;
        }
        len |= u64::from(b & 0x7f) << (7 * i);
        i += 1;
        if b < 0x80 {
            break;
        }
    }
    if len > MAX_STRING as u64 || len > (data.len() - i) as u64 {
        return None;
    }
    let end = i + len as usize;
    Some((&data[i..end], &data[end..]))
}

/// The bytes at a virtual address, from a section or else a segment that maps it.
fn read_at<'a>(file: &object::File<'a>, addr: u64, size: u64) -> Option<&'a [u8]> {
    for s in file.sections() {
        if let Ok(Some(d)) = s.data_range(addr, size) {
            return Some(d);
        }
    }
    for s in file.segments() {
        if let Ok(Some(d)) = s.data_range(addr, size) {
            return Some(d);
        }
    }
    None
}

/// Parses the module info text (`runtime/debug.ParseBuildInfo`'s format). Lines that do
/// not parse are warnings; a `go` line (present in `go version -m` output, not in binaries)
/// sets the toolchain version.
pub fn parse_modinfo(text: &str) -> (BuildInfo, Vec<String>) {
    let mut info = BuildInfo::default();
    let mut warnings = Vec::new();
    // Where the last module line went, for a following `=>`.
    enum Last {
        None,
        Main,
        Dep(usize),
    }
    let mut last = Last::None;
    for (i, line) in text.lines().enumerate() {
        let lineno = i + 1;
        if line.is_empty() {
            continue;
        }
        let Some((key, rest)) = line.split_once('\t').or_else(|| line.split_once(' ')) else {
            warnings.push(format!("line {lineno}: unexpected line: {}", excerpt(line)));
            continue;
        };
        match key {
            "go" => info.go_version = format!("go{}", rest.trim_start_matches("go")),
            "path" => info.path = Some(rest.to_owned()),
            "mod" | "dep" | "=>" => {
                let Some(module) = parse_module(rest) else {
                    warnings.push(format!("line {lineno}: malformed {key} line: {}", excerpt(line)));
                    last = Last::None;
                    continue;
                };
                match key {
                    "mod" => {
                        info.main = Some(module);
                        last = Last::Main;
                    }
                    "dep" => {
                        info.deps.push(module);
                        last = Last::Dep(info.deps.len() - 1);
                    }
                    _ => {
                        let target = match last {
                            Last::Main => info.main.as_mut(),
                            Last::Dep(i) => info.deps.get_mut(i),
                            Last::None => None,
                        };
                        match target {
                            Some(t) if t.replace.is_none() => t.replace = Some(Box::new(module)),
                            _ => {
                                warnings.push(format!("line {lineno}: replacement without a module: {}", excerpt(line)))
                            }
                        }
                        last = Last::None;
                    }
                }
            }
            "build" => match parse_setting(rest) {
                Some(kv) => info.settings.push(kv),
                None => warnings.push(format!("line {lineno}: malformed build line: {}", excerpt(line))),
            },
            _ => warnings.push(format!("line {lineno}: unknown line: {}", excerpt(line))),
        }
    }
    (info, warnings)
}

/// `path\tversion[\tsum]`; `=>` lines of local replacements have an empty version.
fn parse_module(rest: &str) -> Option<Module> {
    let mut fields = rest.split('\t');
    let path = fields.next().filter(|p| !p.is_empty())?;
    let version = fields.next().unwrap_or("");
    let sum = fields.next().filter(|s| !s.is_empty());
    if fields.next().is_some() {
        return None;
    }
    Some(Module { path: path.to_owned(), version: version.to_owned(), sum: sum.map(str::to_owned), replace: None })
}

/// `key=value`, either side possibly a Go quoted string (`strconv.Quote`) when it holds
/// spaces, tabs, quotes, `=` (keys) or newlines.
fn parse_setting(rest: &str) -> Option<(String, String)> {
    let (key, value_raw) = if rest.starts_with('"') {
        let (key, end) = unquote_prefix(rest)?;
        (key, rest[end..].strip_prefix('=')?)
    } else {
        let (k, v) = rest.split_once('=')?;
        (k.to_owned(), v)
    };
    if key.is_empty() {
        return None;
    }
    let value = if value_raw.starts_with('"') {
        match unquote_prefix(value_raw) {
            Some((v, end)) if end == value_raw.len() => v,
            _ => value_raw.to_owned(),
        }
    } else {
        value_raw.to_owned()
    };
    Some((key, value))
}

/// Decodes a Go double-quoted string at the start of `s`; returns it and the byte length
/// consumed. Handles the escapes `strconv.Quote` produces.
fn unquote_prefix(s: &str) -> Option<(String, usize)> {
    let mut out = String::new();
    let mut chars = s.char_indices();
    if chars.next()?.1 != '"' {
        return None;
    }
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((out, i + 1)),
            '\\' => {
                let (_, e) = chars.next()?;
                match e {
                    'n' => out.push('\n'),
                    't' => out.push('\t'),
                    'r' => out.push('\r'),
                    'a' => out.push('\x07'),
                    'b' => out.push('\x08'),
                    'f' => out.push('\x0c'),
                    'v' => out.push('\x0b'),
                    '\\' | '"' | '\'' => out.push(e),
                    'x' | 'u' | 'U' => {
                        let n = match e {
                            'x' => 2,
                            'u' => 4,
                            _ => 8,
                        };
                        let mut code = 0u32;
                        for _ in 0..n {
                            code = code * 16 + chars.next()?.1.to_digit(16)?;
                        }
                        out.push(char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER));
                    }
                    _ => return None,
                }
            }
            _ => out.push(c),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upstream_parse_vectors() {
        // The seeds of FuzzParseBuildInfoRoundTrip in Go's src/runtime/debug/mod_test.go.
        let (bi, w) = parse_modinfo("path\trsc.io/fortune\nmod\trsc.io/fortune\tv1.0.0\n");
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(bi.path.as_deref(), Some("rsc.io/fortune"));
        assert_eq!(bi.main.as_ref().map(|m| m.version.as_str()), Some("v1.0.0"));

        let (bi, w) =
            parse_modinfo("go\t1.18\npath\texample.com/m\nmod\texample.com/m\t(devel)\t\nbuild\t-compiler=gc\n");
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(bi.go_version, "go1.18");
        assert_eq!(bi.main.as_ref().map(|m| (m.version.as_str(), m.sum.clone())), Some(("(devel)", None)));
        assert_eq!(bi.setting("-compiler"), Some("gc"));

        let (bi, w) = parse_modinfo("go 1.18\npath example.com/m\nbuild CRAZY_ENV=\"requires\\nescaping\"\n");
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(bi.setting("CRAZY_ENV"), Some("requires\nescaping"));
    }

    #[test]
    fn replacements() {
        // Go's cmd/go/testdata/script/mod_modinfo.txt: `go mod edit
        // -replace=rsc.io/quote@v1.5.2=rsc.io/quote@v1.0.0` prints
        // `dep rsc.io/quote v1.5.2` then `=> rsc.io/quote v1.0.0 h1:…`. The local
        // replacement shape (`=>\t./dir\t(devel)\t`, original `dep` without sum) is copied
        // from a real binary's build info (Google Cloud SDK `anthoscli`, go1.24.2).
        let text = "path\tx\nmod\tx\t(devel)\t\n\
                    dep\trsc.io/quote\tv1.5.2\n=>\trsc.io/quote\tv1.0.0\th1:abc=\n\
                    dep\tcnrm.googlesource.com/cnrm\tv0.0.0\n=>\t./private_repos/cnrm/\t(devel)\t\n\
                    dep\tgolang.org/x/text\tv0.3.0\th1:def=\n";
        let (mut bi, w) = parse_modinfo(text);
        assert!(w.is_empty(), "{w:?}");
        bi.go_version = "go1.24.2".into();
        let (pkgs, w) = packages(&bi, "/bin/x");
        assert!(w.is_empty(), "{w:?}");
        let got: Vec<(&str, &str)> = pkgs.iter().map(|p| (p.name.as_str(), p.version.as_str())).collect();
        assert_eq!(
            got,
            [
                ("x", "(devel)"),
                ("rsc.io/quote", "v1.0.0"),
                ("cnrm.googlesource.com/cnrm", "(devel)"),
                ("golang.org/x/text", "v0.3.0"),
                ("stdlib", "v1.24.2")
            ]
        );
        assert_eq!(bi.deps[0].replace.as_ref().map(|r| r.version.as_str()), Some("v1.0.0"));
        assert_eq!(bi.deps[0].version, "v1.5.2");
    }

    #[test]
    fn malformed_lines_warn() {
        let (bi, w) = parse_modinfo("=>\ta\tv1\nnonsense\ndep\t\t\nbuild\tnoequals\ndep\ta\tv1\ts\textra\n");
        assert!(bi.deps.is_empty());
        assert_eq!(w.len(), 5, "{w:?}");
    }

    #[test]
    fn toolchain_versions() {
        for (tag, want) in [
            ("go1.21.5", Some("v1.21.5")),
            ("go1.21", Some("v1.21.0")),
            ("go1", Some("v1.0.0")),
            ("go1.21rc2", Some("v1.21.0-rc.2")),
            ("go1.19beta1", Some("v1.19.0-beta.1")),
            ("go1.22.1 X:boringcrypto", Some("v1.22.1")),
            ("go1.25-20250209-RC00 cl/724970549 +ff27d270c9 X:fieldtrack,boringcrypto", None),
            ("devel go1.22-0a1b2c3 Mon Jan 1 00:00:00 2024 +0000", None),
            ("go1.2.3.4", None),
            ("", None),
        ] {
            assert_eq!(stdlib_version(tag).as_deref(), want, "{tag}");
        }
    }

    /// A minimal inline (Go 1.18+) header followed by its strings.
    fn inline_blob(version: &str, modinfo: &[u8]) -> Vec<u8> {
        let mut b = MAGIC.to_vec();
        b.extend([8, 2]);
        b.resize(HEADER_LEN, 0);
        b.push(version.len() as u8);
        b.extend(version.as_bytes());
        b.push(modinfo.len() as u8);
        b.extend(modinfo);
        b
    }

    #[test]
    fn raw_scan_fallback_and_sentinels() {
        let mut modinfo = vec![0u8; 16];
        modinfo.extend(b"path\tp\nmod\tp\tv1.2.3\t\n");
        modinfo.extend([0u8; 16]);
        let mut file = vec![0u8; 48];
        file.extend(inline_blob("go1.20.1", &modinfo));
        let (pkgs, w) = parse_binary(&file, "/p");
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(pkgs.len(), 2);
        assert_eq!(pkgs[1].version, "v1.20.1");
        // Misaligned magic is not build info.
        let mut file = vec![0u8; 8];
        file.extend(inline_blob("go1.20.1", &modinfo));
        assert_eq!(parse_binary(&file, "/p"), (vec![], vec![]));
    }

    #[test]
    fn main_module_without_a_version_is_skipped() {
        let (info, w) = parse_modinfo("path\tp\nmod\tgithub.com/x\t\ndep\tgolang.org/x/net\tv0.1.0\t\n");
        assert!(w.is_empty(), "{w:?}");
        info.main.as_ref().expect("a main module line");
        let (pkgs, w) = packages(&BuildInfo { go_version: "go1.22.1".into(), ..info }, "/b");
        let got: Vec<_> = pkgs.iter().map(|p| (p.name.as_str(), p.version.as_str())).collect();
        assert_eq!(got, [("golang.org/x/net", "v0.1.0"), ("stdlib", "v1.22.1")]);
        assert!(pkgs[0].dependencies.is_empty());
        assert_eq!(w.len(), 1, "{w:?}");
    }

    #[test]
    fn hostile_headers() {
        // Length prefixes past the end, absurd varints, pointer format outside an object.
        let mut blob = MAGIC.to_vec();
        blob.extend([8, 2]);
        blob.resize(HEADER_LEN, 0);
        blob.extend([0xff; 12]);
        let (pkgs, w) = parse_binary(&blob, "/p");
        assert!(pkgs.is_empty() && w.len() == 1, "{w:?}");
        let mut blob = MAGIC.to_vec();
        blob.extend([8, 0]);
        blob.resize(64, 0x41);
        let (pkgs, w) = parse_binary(&blob, "/p");
        assert!(pkgs.is_empty() && w.len() == 1 && w[0].message.contains("pre-1.18"), "{w:?}");
        for n in 0..blob.len() {
            let _ = parse_binary(&blob[..n], "/p");
        }
    }
}
