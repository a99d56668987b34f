//! Maven coordinates of a Java archive that carries no `pom.properties`: Debian's and other
//! distributions' jars, OSGi bundles, older Spring releases, hand-built and shaded jars.
//!
//! Each coordinate (group, artifact, version) is taken from the strongest evidence that
//! names it, in this order (`docs/java.md` has the reasoning and examples):
//!
//! 1. `META-INF/maven/**/pom.xml` (`pom.properties` is read by [`super::java`] before this
//!    module is asked at all);
//! 2. the manifest's main section: group from `Implementation-Vendor-Id` (unless it is only
//!    an organisation such as `org.apache`), or from `Bundle-SymbolicName` /
//!    `Automatic-Module-Name` when their last component is the artifact's;
//!    artifact from an artifact-like `Implementation-Title` or `Bundle-SymbolicName`;
//!    version from `Implementation-Version`, then `Bundle-Version`;
//! 3. the file name (`name-1.2.3.jar`), for the artifact and the version;
//!    `Specification-Version` only after it, since it versions the specification, not the jar;
//! 4. the top-level Java package of the classes (`org/springframework/beans/…` → group
//!    `org.springframework` for `spring-beans`);
//! 5. [`KNOWN_ARTIFACTS`], a short table of well-known artifacts whose jars name neither
//!    their group nor their Maven artifact (Debian's renamed `commons-collections3`,
//!    `bcprov`). A table row is an exact match on evidence, so it overrides the guess of
//!    step 4, never a declared value of steps 1–2.
//!
//! The version is always the Maven one: an OSGi `Bundle-Version` (or an
//! `Implementation-Version` written in OSGi form) that only pads the file name's version
//! (`1.72.0` for `1.72`) gives way to the file name's spelling, and when the evidence
//! disagrees for real, the order above decides and the loser is kept as an alternative.
//! A package whose group no evidence names is still reported, with [`Confidence::Low`]:
//! the matcher then looks it up by an artifact name that must be unique across the Maven
//! advisories.

use bulwark_core::report::{Alternative, Confidence, Identification};

/// What is known about one archive, gathered in one pass over its entries.
#[derive(Debug, Default)]
pub struct Evidence<'a> {
    /// The manifest's main section.
    pub manifest: &'a [(String, String)],
    /// The archive's file name (`spring-beans-4.3.30.RELEASE.jar`).
    pub file_name: &'a str,
    /// The longest package prefix shared by all classes, dot-separated (`org.springframework.beans`).
    pub class_package: Option<String>,
    /// Coordinates read from `pom.xml` files (possibly partial).
    pub pom_xml: Vec<PomXml>,
}

/// The coordinates of one package identified from [`Evidence`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coordinates {
    pub group: Option<String>,
    pub artifact: String,
    pub version: String,
    pub identification: Identification,
}

impl Coordinates {
    /// The package name: `group:artifact`, or the artifact alone when the group is unknown.
    pub fn name(&self) -> String {
        match &self.group {
            Some(g) => format!("{g}:{}", self.artifact),
            None => self.artifact.clone(),
        }
    }
}

/// The evidence of the pom.properties case, for uniform reporting.
pub fn declared(source: &str) -> Identification {
    Identification {
        confidence: Confidence::High,
        group: Some(source.to_owned()),
        artifact: source.to_owned(),
        version: source.to_owned(),
        alternatives: Vec::new(),
    }
}

/// Organisation-wide `Implementation-Vendor-Id` values that are no project's groupId: the
/// Apache Maven parent POM writes `org.apache` into every Apache project's manifest
/// (log4j 2, commons-collections 3), whose groups are `org.apache.logging.log4j` and
/// `commons-collections`.
const GENERIC_VENDOR_IDS: [&str; 2] = ["org.apache", "org.eclipse"];

/// One row of the table of well-known artifacts: when `key` (a `Bundle-SymbolicName`,
/// `Automatic-Module-Name` or, prefixed `artifact:`, the artifact found so far) matches and
/// the version is at least `since`, the coordinates are `group:artifact`.
#[derive(Debug)]
pub struct KnownArtifact {
    pub key: &'static str,
    pub since: Option<&'static str>,
    pub group: &'static str,
    pub artifact: &'static str,
}

/// Well-known artifacts whose jars (as distributions ship them) do not say their Maven
/// coordinates. Each row names the evidence it keys on; the sources are Maven Central's
/// POMs of these projects. Rows are tried in order; the first that matches wins.
pub const KNOWN_ARTIFACTS: &[KnownArtifact] = &[
    // Bouncy Castle: Debian ships `bcprov-1.72.jar`; Maven Central has `bcprov-jdk18on`
    // from 1.71 and `bcprov-jdk15on` before.
    KnownArtifact {
        key: "org.bouncycastle.provider",
        since: Some("1.71"),
        group: "org.bouncycastle",
        artifact: "bcprov-jdk18on",
    },
    KnownArtifact {
        key: "org.bouncycastle.provider",
        since: None,
        group: "org.bouncycastle",
        artifact: "bcprov-jdk15on",
    },
    KnownArtifact {
        key: "org.bouncycastle.pkix",
        since: Some("1.71"),
        group: "org.bouncycastle",
        artifact: "bcpkix-jdk18on",
    },
    KnownArtifact { key: "org.bouncycastle.pkix", since: None, group: "org.bouncycastle", artifact: "bcpkix-jdk15on" },
    KnownArtifact {
        key: "org.bouncycastle.util",
        since: Some("1.71"),
        group: "org.bouncycastle",
        artifact: "bcutil-jdk18on",
    },
    // Commons Collections 3 and log4j 1 kept their pre-reverse-domain groups.
    KnownArtifact {
        key: "org.apache.commons.collections",
        since: None,
        group: "commons-collections",
        artifact: "commons-collections",
    },
    KnownArtifact { key: "org.apache.log4j", since: None, group: "log4j", artifact: "log4j" },
    KnownArtifact { key: "artifact:log4j", since: None, group: "log4j", artifact: "log4j" },
    KnownArtifact { key: "artifact:commons-lang", since: None, group: "commons-lang", artifact: "commons-lang" },
    KnownArtifact { key: "artifact:commons-io", since: None, group: "commons-io", artifact: "commons-io" },
    KnownArtifact { key: "artifact:commons-codec", since: None, group: "commons-codec", artifact: "commons-codec" },
    KnownArtifact {
        key: "artifact:commons-beanutils",
        since: None,
        group: "commons-beanutils",
        artifact: "commons-beanutils",
    },
    KnownArtifact {
        key: "artifact:commons-fileupload",
        since: None,
        group: "commons-fileupload",
        artifact: "commons-fileupload",
    },
    // H2's classes live in `org.h2`, its group is `com.h2database`.
    KnownArtifact { key: "artifact:h2", since: None, group: "com.h2database", artifact: "h2" },
    KnownArtifact { key: "com.h2database", since: None, group: "com.h2database", artifact: "h2" },
    // JSR 330 and AOP Alliance: Debian's jars carry only a bundle name or nothing.
    KnownArtifact { key: "javax.inject", since: None, group: "javax.inject", artifact: "javax.inject" },
    KnownArtifact { key: "artifact:aopalliance", since: None, group: "aopalliance", artifact: "aopalliance" },
    // XStream's bundle name is the bare artifact.
    KnownArtifact { key: "artifact:xstream", since: None, group: "com.thoughtworks.xstream", artifact: "xstream" },
];

/// One coordinate value and where it came from.
#[derive(Debug, Clone)]
struct Candidate {
    value: String,
    source: &'static str,
}

fn candidate(value: impl Into<String>, source: &'static str) -> Candidate {
    Candidate { value: value.into(), source }
}

fn attribute<'a>(manifest: &'a [(String, String)], name: &str) -> Option<&'a str> {
    manifest.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.trim()).filter(|v| !v.is_empty())
}

/// `Bundle-SymbolicName` without its directives (`org.x.y;singleton:=true`).
fn symbolic_name(manifest: &[(String, String)]) -> Option<&str> {
    attribute(manifest, "Bundle-SymbolicName")
        .map(|s| s.split(';').next().unwrap_or(s).trim())
        .filter(|s| !s.is_empty())
}

/// A Maven artifactId as projects write them: lower-case letters, digits, `-`, `_`, `.`.
fn artifact_like(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 100
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_' | b'.'))
        && s.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
}

/// A groupId: at least two dot-separated components of letters, digits, `-` and `_`, or a
/// single hyphenated legacy group (`commons-io`).
fn group_like(s: &str) -> bool {
    s.len() <= 200
        && s.split('.')
            .all(|c| !c.is_empty() && c.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_')))
        && (s.contains('.') || s.contains('-'))
}

/// The group a dotted name (`Bundle-SymbolicName`, `Automatic-Module-Name`, a class
/// package) implies for `artifact`: the name without its last component, when that component
/// is the artifact or the artifact's last `-` part (`org.apache.commons.lang3` for
/// `commons-lang3` → `org.apache.commons`; `com.fasterxml.jackson.core.jackson-databind`
/// → `com.fasterxml.jackson.core`).
fn group_from_dotted(name: &str, artifact: &str) -> Option<String> {
    let (prefix, last) = name.rsplit_once('.')?;
    let tail = artifact.rsplit('-').next().unwrap_or(artifact);
    let same = last == artifact || last == artifact.replace('-', ".") || (artifact.contains('-') && last == tail);
    (same && group_like(prefix) && prefix.contains('.')).then(|| prefix.to_owned())
}

/// The group a class package implies for `artifact` (step 4): as [`group_from_dotted`],
/// or the whole package when the artifact is a single word that is its last component
/// (`com.thoughtworks.xstream` for `xstream`).
fn group_from_classes(package: &str, artifact: &str) -> Option<String> {
    if let Some(g) = group_from_dotted(package, artifact)
        && artifact.contains('-')
    {
        return Some(g);
    }
    let last = package.rsplit('.').next()?;
    // `spring-core` spans `org.springframework.{core,asm,cglib,util}`: the shared package is
    // the organisation, named after the artifact's first part.
    let first = artifact.split('-').next().unwrap_or(artifact);
    let org = artifact.contains('-') && first.len() >= 3 && last.starts_with(first);
    ((last == artifact || org) && package.contains('.') && group_like(package)).then(|| package.to_owned())
}

/// The OSGi form of a Maven version: three numeric components and the qualifier after a
/// dot, as the bnd tool / maven-bundle-plugin write `Bundle-Version` (`1.72` → `1.72.0`,
/// `2.0-SNAPSHOT` → `2.0.0.SNAPSHOT`).
fn osgi_form(maven: &str) -> String {
    let (numbers, qualifier) = match maven.find(|c: char| !(c.is_ascii_digit() || c == '.')) {
        Some(i) => (&maven[..i], maven[i..].trim_start_matches(['-', '.', '_'])),
        None => (maven, ""),
    };
    let mut parts: Vec<&str> = numbers.trim_end_matches('.').split('.').filter(|p| !p.is_empty()).collect();
    while parts.len() < 3 {
        parts.push("0");
    }
    let mut out = parts.join(".");
    if !qualifier.is_empty() {
        out.push('.');
        out.push_str(qualifier);
    }
    out
}

/// Whether `a` is `b` written in OSGi form (or the other way round), i.e. the same version.
fn same_version(a: &str, b: &str) -> bool {
    a == b || osgi_form(a) == osgi_form(b)
}

/// Compares the leading numeric components of two versions (`1.72` ≥ `1.71`).
fn at_least(version: &str, since: &str) -> bool {
    let nums = |v: &str| -> Vec<u64> {
        v.split(|c: char| !c.is_ascii_digit()).take_while(|p| !p.is_empty()).filter_map(|p| p.parse().ok()).collect()
    };
    nums(version) >= nums(since)
}

/// Picks the first candidate; the others that differ are kept as alternatives.
fn pick(coordinate: &str, candidates: Vec<Candidate>, alternatives: &mut Vec<Alternative>) -> Option<Candidate> {
    let mut it = candidates.into_iter();
    let first = it.next()?;
    for other in it {
        if other.value != first.value
            && !alternatives.iter().any(|a| a.coordinate == coordinate && a.value == other.value)
        {
            alternatives.push(Alternative {
                coordinate: coordinate.to_owned(),
                value: other.value,
                source: other.source.to_owned(),
            });
        }
    }
    Some(first)
}

/// Identifies an archive without `pom.properties`. `None` when no evidence gives both an
/// artifact and a version.
pub fn resolve(ev: &Evidence<'_>) -> Option<Coordinates> {
    // A complete pom.xml is as good as pom.properties.
    if let Some(pom) = ev.pom_xml.iter().find(|p| p.group.is_some() && p.artifact.is_some() && p.version.is_some()) {
        let (group, artifact, version) = (pom.group.clone()?, pom.artifact.clone()?, pom.version.clone()?);
        return Some(Coordinates { group: Some(group), artifact, version, identification: declared("pom.xml") });
    }
    let pom = ev.pom_xml.first();
    let m = ev.manifest;
    let (file_artifact, file_version) = super::java::split_file_name(ev.file_name);
    let symbolic = symbolic_name(m);
    let module = attribute(m, "Automatic-Module-Name");
    let mut alternatives = Vec::new();

    // Artifact.
    let mut artifacts = Vec::new();
    if let Some(a) = pom.and_then(|p| p.artifact.clone()) {
        artifacts.push(candidate(a, "pom.xml"));
    }
    if let Some(t) = attribute(m, "Implementation-Title").filter(|t| artifact_like(t)) {
        artifacts.push(candidate(t, "manifest:Implementation-Title"));
    }
    if let Some(s) = symbolic.filter(|s| artifact_like(s) && !s.contains('.')) {
        artifacts.push(candidate(s, "manifest:Bundle-SymbolicName"));
    }
    if !file_artifact.is_empty() {
        artifacts.push(candidate(file_artifact, "file-name"));
    }
    let mut artifact = pick("artifact", artifacts, &mut alternatives)?;

    // Version.
    let mut versions = Vec::new();
    if let Some(v) = pom.and_then(|p| p.version.clone()) {
        versions.push(candidate(v, "pom.xml"));
    }
    for (attr, source) in
        [("Implementation-Version", "manifest:Implementation-Version"), ("Bundle-Version", "manifest:Bundle-Version")]
    {
        if let Some(v) = attribute(m, attr) {
            versions.push(candidate(v, source));
        }
    }
    if let Some(v) = file_version {
        versions.push(candidate(v, "file-name"));
    }
    if let Some(v) = attribute(m, "Specification-Version") {
        versions.push(candidate(v, "manifest:Specification-Version"));
    }
    // An OSGi spelling of the file name's version is the same version: keep Maven's.
    if let (Some(first), Some(file)) = (versions.first(), file_version)
        && first.source != "pom.xml"
        && first.value != file
        && same_version(&first.value, file)
    {
        let i = versions.iter().position(|c| c.source == "file-name").unwrap_or(0);
        let file = versions.remove(i);
        versions.insert(0, file);
    }
    let version = pick("version", versions, &mut alternatives)?;
    // Drop alternatives that are only other spellings of the chosen version.
    alternatives.retain(|a| a.coordinate != "version" || !same_version(&a.value, &version.value));

    // Group.
    let mut groups = Vec::new();
    if let Some(g) = pom.and_then(|p| p.group.clone()) {
        groups.push(candidate(g, "pom.xml"));
    }
    if let Some(v) =
        attribute(m, "Implementation-Vendor-Id").filter(|v| group_like(v) && !GENERIC_VENDOR_IDS.contains(v))
    {
        groups.push(candidate(v, "manifest:Implementation-Vendor-Id"));
    }
    if let Some(g) = symbolic.and_then(|s| group_from_dotted(s, &artifact.value)) {
        groups.push(candidate(g, "manifest:Bundle-SymbolicName"));
    }
    if let Some(g) = module.and_then(|s| group_from_dotted(s, &artifact.value)) {
        groups.push(candidate(g, "manifest:Automatic-Module-Name"));
    }
    let declared_groups = !groups.is_empty();
    // The table: keyed on the bundle or module name, or on the artifact found so far.
    let artifact_key = format!("artifact:{}", artifact.value);
    let known = KNOWN_ARTIFACTS.iter().find(|k| {
        (Some(k.key) == symbolic || Some(k.key) == module || k.key == artifact_key)
            && k.since.is_none_or(|since| at_least(&version.value, since))
    });
    if let Some(k) = known {
        if k.artifact != artifact.value && artifact.source != "pom.xml" {
            alternatives.push(Alternative {
                coordinate: "artifact".to_owned(),
                value: std::mem::replace(&mut artifact.value, k.artifact.to_owned()),
                source: std::mem::replace(&mut artifact.source, "known-artifacts").to_owned(),
            });
        }
        // A declared group stands; the table only fills in what was guessed or missing.
        if !declared_groups {
            groups.push(candidate(k.group, "known-artifacts"));
        }
    }
    if let Some(g) = ev.class_package.as_deref().and_then(|p| group_from_classes(p, &artifact.value)) {
        groups.push(candidate(g, "class-packages"));
    }
    let group = pick("group", groups, &mut alternatives);

    alternatives.sort();
    let confidence = if group.is_some() { Confidence::Medium } else { Confidence::Low };
    Some(Coordinates {
        identification: Identification {
            confidence,
            group: group.as_ref().map(|g| g.source.to_owned()),
            artifact: artifact.source.to_owned(),
            version: version.source.to_owned(),
            alternatives,
        },
        group: group.map(|g| g.value),
        artifact: artifact.value,
        version: version.value,
    })
}

/// Collects the longest package prefix shared by all class entries, one name at a time.
#[derive(Debug, Default)]
pub struct ClassPackages {
    prefix: Option<Vec<String>>,
}

impl ClassPackages {
    /// Takes one archive entry name; only `.class` files outside `META-INF/` count.
    pub fn add(&mut self, entry: &str) {
        if !entry.ends_with(".class") || entry.starts_with("META-INF/") || entry.ends_with("module-info.class") {
            return;
        }
        let Some((dir, _)) = entry.rsplit_once('/') else {
            // A class in the default package: there is no common package.
            self.prefix = Some(Vec::new());
            return;
        };
        match &mut self.prefix {
            None => self.prefix = Some(dir.split('/').map(str::to_owned).collect()),
            Some(prefix) => {
                let common = prefix.iter().zip(dir.split('/')).take_while(|(a, b)| a.as_str() == *b).count();
                prefix.truncate(common);
            }
        }
    }

    /// The shared package, dot-separated, when it has at least two components.
    pub fn finish(self) -> Option<String> {
        self.prefix.filter(|p| p.len() >= 2).map(|p| p.join("."))
    }
}

/// Coordinates from one `pom.xml`: the project's own `groupId`, `artifactId` and
/// `version`, falling back to the `<parent>`'s group and version as Maven does. Values with
/// unresolved `${…}` properties are dropped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PomXml {
    pub group: Option<String>,
    pub artifact: Option<String>,
    pub version: Option<String>,
}

/// Reads a `pom.xml` without an XML library: only the text of `project/groupId`,
/// `project/artifactId`, `project/version` and `project/parent/{groupId,version}` matters,
/// so a tag-depth scanner over the bytes is enough. Comments, CDATA and processing
/// instructions are skipped; malformed input yields what was read before it.
pub fn parse_pom_xml(bytes: &[u8]) -> PomXml {
    let text = String::from_utf8_lossy(bytes);
    let mut stack: Vec<String> = Vec::new();
    let mut own = PomXml::default();
    let mut parent = PomXml::default();
    let mut rest: &str = &text;
    while let Some(lt) = rest.find('<') {
        rest = &rest[lt..];
        if let Some(after) = rest.strip_prefix("<!--") {
            rest = after.find("-->").map_or("", |i| &after[i + 3..]);
            continue;
        }
        if let Some(after) = rest.strip_prefix("<![CDATA[") {
            rest = after.find("]]>").map_or("", |i| &after[i + 3..]);
            continue;
        }
        let Some(gt) = rest.find('>') else { break };
        let tag = &rest[1..gt];
        rest = &rest[gt + 1..];
        if tag.starts_with(['?', '!']) {
            continue;
        }
        if let Some(name) = tag.strip_prefix('/') {
            let name = name.trim();
            if let Some(i) = stack.iter().rposition(|t| t == name) {
                stack.truncate(i);
            }
            continue;
        }
        if tag.ends_with('/') {
            continue;
        }
        let name = tag.split(|c: char| c.is_whitespace()).next().unwrap_or("").to_owned();
        if stack.len() > 64 {
            break;
        }
        stack.push(name);
        let path: Vec<&str> = stack.iter().map(String::as_str).collect();
        let slot = match path.as_slice() {
            ["project", "groupId"] => &mut own.group,
            ["project", "artifactId"] => &mut own.artifact,
            ["project", "version"] => &mut own.version,
            ["project", "parent", "groupId"] => &mut parent.group,
            ["project", "parent", "version"] => &mut parent.version,
            _ => continue,
        };
        let end = rest.find('<').unwrap_or(rest.len());
        let value = rest[..end].trim();
        if !value.is_empty() && !value.contains("${") && value.len() <= 200 && slot.is_none() {
            *slot = Some(value.to_owned());
        }
    }
    PomXml { group: own.group.or(parent.group), artifact: own.artifact, version: own.version.or(parent.version) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(text: &str) -> Vec<(String, String)> {
        super::super::java::parse_manifest(text.as_bytes())
    }

    #[test]
    fn osgi_forms() {
        assert_eq!(osgi_form("1.72"), "1.72.0");
        assert_eq!(osgi_form("2.0-SNAPSHOT"), "2.0.0.SNAPSHOT");
        assert_eq!(osgi_form("4.3.30.RELEASE"), "4.3.30.RELEASE");
        assert!(same_version("1.72.0", "1.72"));
        assert!(!same_version("1.72.1", "1.72"));
        assert!(at_least("1.72", "1.71") && !at_least("1.70", "1.71") && at_least("1.71.0", "1.71"));
    }

    #[test]
    fn groups_from_dotted_names() {
        assert_eq!(
            group_from_dotted("org.apache.commons.lang3", "commons-lang3").as_deref(),
            Some("org.apache.commons")
        );
        assert_eq!(
            group_from_dotted("com.fasterxml.jackson.core.jackson-databind", "jackson-databind").as_deref(),
            Some("com.fasterxml.jackson.core")
        );
        assert_eq!(group_from_dotted("org.apache.commons.collections", "commons-collections3"), None);
        assert_eq!(
            group_from_classes("org.springframework.beans", "spring-beans").as_deref(),
            Some("org.springframework")
        );
        assert_eq!(
            group_from_classes("com.thoughtworks.xstream", "xstream").as_deref(),
            Some("com.thoughtworks.xstream")
        );
        assert_eq!(group_from_classes("org.h2", "h2").as_deref(), Some("org.h2"));
        assert_eq!(group_from_classes("org.springframework", "spring-core").as_deref(), Some("org.springframework"));
        assert_eq!(group_from_classes("org.apache", "commons-io"), None);
    }

    #[test]
    fn manifest_beats_file_name_and_keeps_the_loser() {
        let m = manifest("Implementation-Title: foo\nImplementation-Version: 1.2.4\nImplementation-Vendor-Id: org.x\n");
        let c = resolve(&Evidence { manifest: &m, file_name: "foo-1.2.3.jar", ..Evidence::default() }).unwrap();
        assert_eq!((c.name(), c.version.as_str()), ("org.x:foo".to_owned(), "1.2.4"));
        assert_eq!(c.identification.version, "manifest:Implementation-Version");
        assert_eq!(
            c.identification.alternatives,
            [Alternative { coordinate: "version".into(), value: "1.2.3".into(), source: "file-name".into() }]
        );
    }

    #[test]
    fn osgi_padding_gives_way_to_the_maven_spelling() {
        let m = manifest("Bundle-Version: 1.72.0\nImplementation-Vendor-Id: org.x\n");
        let c = resolve(&Evidence { manifest: &m, file_name: "lib-1.72.jar", ..Evidence::default() }).unwrap();
        assert_eq!(c.version, "1.72");
        assert_eq!(c.identification.version, "file-name");
        assert!(c.identification.alternatives.is_empty(), "{:?}", c.identification.alternatives);
    }

    #[test]
    fn no_group_is_low_confidence() {
        let c = resolve(&Evidence { manifest: &[], file_name: "thing-2.0.jar", ..Evidence::default() }).unwrap();
        assert_eq!((c.name(), c.identification.confidence), ("thing".to_owned(), Confidence::Low));
        assert!(resolve(&Evidence { manifest: &[], file_name: "thing.jar", ..Evidence::default() }).is_none());
    }

    #[test]
    fn class_packages() {
        let mut p = ClassPackages::default();
        for e in ["org/a/b/C.class", "org/a/b/d/E.class", "META-INF/versions/9/x/Y.class", "org/a/b/c.txt"] {
            p.add(e);
        }
        assert_eq!(p.finish().as_deref(), Some("org.a.b"));
        let mut p = ClassPackages::default();
        p.add("org/a/C.class");
        p.add("com/b/D.class");
        assert_eq!(p.finish(), None);
    }

    #[test]
    fn pom_xml() {
        let xml = br#"<?xml version="1.0"?>
<!-- <groupId>not.this</groupId> -->
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <parent><groupId>org.parent</groupId><artifactId>parent</artifactId><version>7</version></parent>
  <artifactId>child</artifactId>
  <dependencies><dependency><groupId>dep</groupId><version>9</version></dependency></dependencies>
</project>"#;
        let p = parse_pom_xml(xml);
        assert_eq!(
            p,
            PomXml { group: Some("org.parent".into()), artifact: Some("child".into()), version: Some("7".into()) }
        );
        let p = parse_pom_xml(b"<project><groupId>g</groupId><artifactId>a</artifactId><version>${v}</version>");
        assert_eq!(p.version, None);
        assert_eq!(parse_pom_xml(b"<<<>>></"), PomXml::default());
    }
}
