//! Java archives: Debian 12's real jars read in place (`/usr/share/java`, shipped by the
//! `maven` package's dependencies), and Spring-Boot-, war- and ear-shaped archives
//! assembled here from those real jars with the zip writer.
//!
//! Expected values were read with `unzip -p <jar> META-INF/maven/*/*/pom.properties` and
//! `unzip -p <jar> META-INF/MANIFEST.MF` from the Debian 12 packages libguava-java
//! (31.1-1), libcommons-io-java (2.11.0-2), libmaven3-core-java (3.8.7-1),
//! libwagon-http-shaded-java (3.5.3-1), libatinject-jsr330-api-java and
//! libaopalliance-java.

use std::io::{Cursor, Write};

use bulwark_catalog::lang::java::{self, Limits};
use bulwark_catalog::{Package, PackageKind};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

const JAVA: &str = "/usr/share/java";

fn read(name: &str) -> Vec<u8> {
    let path = format!("{JAVA}/{name}");
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e} (apt-get install maven)"))
}

fn ids(pkgs: &[Package]) -> Vec<(&str, &str, &str)> {
    pkgs.iter().map(|p| (p.name.as_str(), p.version.as_str(), p.db_path.as_str())).collect()
}

fn parse(bytes: &[u8], path: &str) -> Vec<Package> {
    let (pkgs, warnings) = java::parse_archive(bytes, path, &Limits::default());
    assert!(warnings.is_empty(), "{path}: {warnings:?}");
    assert!(pkgs.iter().all(|p| p.kind == PackageKind::Maven));
    pkgs
}

#[test]
fn debian_jars_in_place() {
    for (file, want) in [
        ("guava.jar", vec![("com.google.guava:guava", "31.1-jre")]),
        ("commons-io.jar", vec![("commons-io:commons-io", "2.11.0")]),
        ("maven3-core.jar", vec![("org.apache.maven:maven-core", "3.8.7")]),
        // A shaded jar: one pom.properties per bundled artifact, each reported.
        (
            "wagon-http-shaded-3.5.3.jar",
            vec![
                ("commons-codec:commons-codec", "1.15"),
                ("org.apache.httpcomponents:httpclient", "4.5.14"),
                ("org.apache.httpcomponents:httpcore", "4.4.16"),
                ("org.apache.maven.wagon:wagon-http", "3.5.3"),
                ("org.apache.maven.wagon:wagon-http-shared", "3.5.3"),
            ],
        ),
        // No pom.properties: the bundle name `javax.inject` is in the table of well-known
        // artifacts; the manifest's Bundle-Version 1.0.0 is the OSGi form of the file
        // name's 1.0, so the file name's spelling is kept.
        ("atinject-jsr330-api-1.0.jar", vec![("javax.inject:javax.inject", "1.0")]),
        // Neither pom.properties nor a manifest version: the file name (and the group from
        // the table of well-known artifacts).
        ("aopalliance-1.0.jar", vec![("aopalliance:aopalliance", "1.0")]),
    ] {
        let path = format!("{JAVA}/{file}");
        let pkgs = parse(&read(file), &path);
        let got: Vec<(&str, &str)> = pkgs.iter().map(|p| (p.name.as_str(), p.version.as_str())).collect();
        assert_eq!(got, want, "{file}");
        assert!(pkgs.iter().all(|p| p.db_path == path));
    }
    // The purl splits groupId and artifactId.
    let pkgs = parse(&read("guava.jar"), "/g.jar");
    assert_eq!(pkgs[0].purl(None).to_string(), "pkg:maven/com.google.guava/guava@31.1-jre");
}

#[test]
fn reads_through_a_file_handle() {
    let file = std::fs::File::open(format!("{JAVA}/guava.jar")).expect("open");
    let (pkgs, warnings) = java::parse_reader(file, "/g.jar", &Limits::default());
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(ids(&pkgs), [("com.google.guava:guava", "31.1-jre", "/g.jar")]);
}

/// Builds a zip from `(name, bytes, stored)` entries.
fn zip(entries: &[(&str, &[u8], bool)]) -> Vec<u8> {
    let mut w = ZipWriter::new(Cursor::new(Vec::new()));
    for (name, bytes, stored) in entries {
        let method = if *stored { CompressionMethod::Stored } else { CompressionMethod::Deflated };
        w.start_file(
            *name,
            SimpleFileOptions::default().compression_method(method).large_file(bytes.len() > u32::MAX as usize),
        )
        .expect("start_file");
        w.write_all(bytes).expect("write");
    }
    w.finish().expect("finish").into_inner()
}

/// Spring Boot's loader manifest (`spring-boot-maven-plugin` writes these attributes).
const BOOT_MANIFEST: &[u8] = b"Manifest-Version: 1.0\r\nMain-Class: org.springframework.boot.loader.launch.JarLauncher\r\nStart-Class: com.example.demo.DemoApplication\r\nSpring-Boot-Version: 3.2.0\r\nSpring-Boot-Classes: BOOT-INF/classes/\r\nSpring-Boot-Lib: BOOT-INF/lib/\r\n\r\n";

#[test]
fn spring_boot_war_and_ear_nesting() {
    let (guava, shaded, aopalliance) =
        (read("guava.jar"), read("wagon-http-shaded-3.5.3.jar"), read("aopalliance-1.0.jar"));
    let boot = zip(&[
        ("META-INF/MANIFEST.MF", BOOT_MANIFEST, false),
        (
            "META-INF/maven/com.example/demo/pom.properties",
            b"artifactId=demo\ngroupId=com.example\nversion=0.0.1-SNAPSHOT\n",
            false,
        ),
        ("BOOT-INF/classes/com/example/demo/DemoApplication.class", b"\xca\xfe\xba\xbe", false),
        // Spring Boot stores nested jars uncompressed.
        ("BOOT-INF/lib/", b"", true),
        ("BOOT-INF/lib/guava-31.1-jre.jar", &guava, true),
        ("BOOT-INF/lib/wagon-http-shaded-3.5.3.jar", &shaded, true),
        ("BOOT-INF/lib/aopalliance-1.0.jar", &aopalliance, false),
    ]);
    let pkgs = parse(&boot, "/app/demo.jar");
    let got = ids(&pkgs);
    for want in [
        ("com.example:demo", "0.0.1-SNAPSHOT", "/app/demo.jar"),
        ("com.google.guava:guava", "31.1-jre", "/app/demo.jar!BOOT-INF/lib/guava-31.1-jre.jar"),
        ("org.apache.httpcomponents:httpclient", "4.5.14", "/app/demo.jar!BOOT-INF/lib/wagon-http-shaded-3.5.3.jar"),
        ("aopalliance:aopalliance", "1.0", "/app/demo.jar!BOOT-INF/lib/aopalliance-1.0.jar"),
    ] {
        assert!(got.contains(&want), "{want:?} not in {got:?}");
    }
    assert_eq!(pkgs.len(), 1 + 1 + 5 + 1);

    // An ear holding a war holding jars: two levels of nesting.
    let war = zip(&[
        ("WEB-INF/web.xml", b"<web-app/>", false),
        ("WEB-INF/lib/commons-io.jar", &read("commons-io.jar"), false),
    ]);
    let ear = zip(&[("META-INF/application.xml", b"<application/>", false), ("shop-1.4.war", &war, false)]);
    let pkgs = parse(&ear, "/srv/shop.ear");
    assert_eq!(
        ids(&pkgs),
        [
            ("commons-io:commons-io", "2.11.0", "/srv/shop.ear!shop-1.4.war!WEB-INF/lib/commons-io.jar"),
            ("shop", "1.4", "/srv/shop.ear!shop-1.4.war"),
        ]
    );
}

#[test]
fn nesting_depth_is_limited() {
    // commons-io at the bottom of seven nested jars.
    let mut inner = read("commons-io.jar");
    for level in (1..=7).rev() {
        inner = zip(&[(&format!("lib/level{level}.jar"), &inner, false)]);
    }
    let (pkgs, warnings) = java::parse_archive(&inner, "/deep.jar", &Limits::default());
    assert!(pkgs.is_empty(), "{pkgs:?}");
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    // The warning is about the archive that was not opened, named once as its path.
    assert_eq!(
        warnings[0].path.as_deref(),
        Some("/deep.jar!lib/level1.jar!lib/level2.jar!lib/level3.jar!lib/level4.jar!lib/level5.jar")
    );
    assert_eq!(warnings[0].message, "nested deeper than 4 archives, skipped");
    let limits = Limits { max_depth: 8, ..Limits::default() };
    let (pkgs, warnings) = java::parse_archive(&inner, "/deep.jar", &limits);
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(pkgs.len(), 1);
    let path: String = (1..=7).map(|l| format!("!lib/level{l}.jar")).collect();
    assert_eq!(ids(&pkgs), [("commons-io:commons-io", "2.11.0", format!("/deep.jar{path}").as_str())]);
}

#[test]
fn zip_bombs_stop_with_warnings() {
    // 200 MiB of zeros deflate to about 200 KiB: over the per-entry limit for a nested jar.
    let zeros = vec![0u8; 200 << 20];
    let bomb = zip(&[("BOOT-INF/lib/bomb.jar", &zeros, false)]);
    drop(zeros);
    assert!(bomb.len() < 1 << 20);
    let (pkgs, w) = java::parse_archive(&bomb, "/b.jar", &Limits::default());
    assert!(pkgs.is_empty());
    assert!(w.len() == 1 && w[0].message.starts_with("declares 209715200 bytes"), "{w:?}");
    assert_eq!(w[0].path.as_deref(), Some("/b.jar!BOOT-INF/lib/bomb.jar"));

    // The same archive nested ten times side by side, under a small total budget: the
    // first copies are read, then the budget stops the rest.
    let guava = read("guava.jar");
    let many: Vec<(String, &[u8], bool)> = (0..10).map(|i| (format!("lib/g{i}.jar"), &guava[..], true)).collect();
    let many: Vec<(&str, &[u8], bool)> = many.iter().map(|(n, b, s)| (n.as_str(), *b, *s)).collect();
    let archive = zip(&many);
    let limits = Limits { max_total_inflated: 3 * guava.len() as u64 + 1000, ..Limits::default() };
    let (pkgs, w) = java::parse_archive(&archive, "/m.jar", &limits);
    assert_eq!(pkgs.len(), 3, "{pkgs:?}");
    assert!(w.iter().any(|w| w.message.starts_with("inflates past")), "{w:?}");
    assert!(w.iter().any(|w| w.message.starts_with("total inflated size limit")), "{w:?}");
    assert!(w.len() <= 2, "one warning per cause, not per entry: {w:?}");
}

#[test]
fn broken_archives_give_warnings() {
    let guava = read("guava.jar");
    // Truncated: the central directory is at the end, so nothing is readable.
    let (pkgs, w) = java::parse_archive(&guava[..guava.len() / 2], "/t.jar", &Limits::default());
    assert!(pkgs.is_empty() && w.len() == 1 && w[0].message.starts_with("not a readable zip"), "{w:?}");
    assert_eq!(w[0].path.as_deref(), Some("/t.jar"));
    // Not a zip at all, nested and top-level.
    let outer = zip(&[
        ("WEB-INF/lib/notazip.jar", b"this is text", false),
        ("WEB-INF/lib/commons-io.jar", &read("commons-io.jar"), false),
    ]);
    let (pkgs, w) = java::parse_archive(&outer, "/x.war", &Limits::default());
    assert_eq!(ids(&pkgs), [("commons-io:commons-io", "2.11.0", "/x.war!WEB-INF/lib/commons-io.jar")]);
    assert!(
        w.len() == 1 && w[0].to_string().starts_with("/x.war!WEB-INF/lib/notazip.jar: not a readable zip"),
        "{w:?}"
    );
    // Corrupted compressed data inside a real jar: every deflated byte range flipped.
    let mut corrupt = read("commons-io.jar");
    let len = corrupt.len();
    for b in &mut corrupt[100..len / 2] {
        *b ^= 0xa5;
    }
    let _ = java::parse_archive(&corrupt, "/c.jar", &Limits::default());
    // A pom.properties that lies about being enormous is skipped by its declared size.
    let big = vec![b'#'; 2 << 20];
    let archive = zip(&[("META-INF/maven/a/b/pom.properties", &big, false)]);
    let (pkgs, w) = java::parse_archive(&archive, "/p.jar", &Limits::default());
    assert!(pkgs.is_empty() && w.len() == 1 && w[0].message.contains("more than the limit"), "{w:?}");
}
