//! Integration tests against the real advisory data in `../shared/advisories`, read in place.
//! Expected values are read off the records themselves; each assertion names the record.

use std::collections::BTreeSet;
use std::fs;
use std::io::{self, Cursor, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use bulwark_advisory::{Advisory, AdvisorySource, MemorySource};

use bulwark_vulndb::osv::Event;
use bulwark_vulndb::severity::cvss_base_score;
use bulwark_vulndb::{Db, DbBuilder, Error, Format, Rating, Scheme, enrich, parse_record};

/// The shared data folder, checked to hold `advisories`.
fn shared() -> PathBuf {
    bulwark_testkit::shared_dir("advisories");
    bulwark_testkit::shared()
}

fn adv(rel: &str) -> PathBuf {
    shared().join("advisories").join(rel)
}

/// The OSV sources as laid out in shared/ (the Kubernetes feed from its root, so that its
/// non-OSV `last_updated.json` is read and counted as invalid).
const SOURCES: [(&str, &str); 7] = [
    ("go-vulndb", "go-vulndb/data/osv"),
    ("rustsec-osv", "rustsec-osv/crates"),
    ("pypa-advisory-db", "pypa-advisory-db/vulns"),
    ("debian-elts-osv", "debian-elts-osv/advisories"),
    ("k8s-cve-feed-osv", "k8s-cve-feed-osv"),
    ("ghsa-sample", "index-samples/ghsa-osv"),
    ("ubuntu-sample", "index-samples/ubuntu-osv"),
];

struct Built {
    path: PathBuf,
    report: bulwark_vulndb::BuildReport,
}

/// One DB built from everything, shared by the tests that only read it.
fn full() -> &'static Built {
    static BUILT: OnceLock<Built> = OnceLock::new();
    BUILT.get_or_init(|| {
        let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("bulwark-vulndb-full.db");
        let mut b = DbBuilder::new(&path).unwrap();
        for (name, rel) in SOURCES {
            b.add_osv(name, adv(rel)).unwrap();
        }
        b.add_kev("cisa-kev", adv("cisa-kev/known_exploited_vulnerabilities.json")).unwrap();
        b.add_nvd("nvd-sample", adv("index-samples/nvd-json2")).unwrap();
        let report = b.finish().unwrap();
        Built { path, report }
    })
}

fn count_files(dir: &Path) -> u64 {
    let mut n = 0;
    for e in fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            n += count_files(&p);
        } else if Format::from_path(&p.to_string_lossy()).is_some() {
            n += 1;
        }
    }
    n
}

#[test]
fn counts_per_source_account_for_every_file() {
    let built = full();
    let sources = &built.report.metadata.sources;
    for (name, rel) in SOURCES {
        let s = sources.iter().find(|s| s.name == name).unwrap();
        assert_eq!(s.files, count_files(&adv(rel)), "{name}: every .json/.yaml file is read");
        assert_eq!(s.records + s.withdrawn + s.invalid + s.duplicates, s.files, "{name}: every file accounted for");
        assert!(s.sha256.starts_with("sha256:") && s.sha256.len() == 71, "{name}");
    }
    // (name, files, active, withdrawn, invalid): file and withdrawn counts as the feeds'
    // SOURCE.md state them (go-vulndb: 4,291 records, 17 withdrawn; rustsec: 1,206, 13
    // withdrawn; PyPA: 2,661; Debian ELTS: 1,712; k8s: 47 CVEs + last_updated.json).
    let expected = [
        ("go-vulndb", 4291, 4274, 17, 0),
        ("rustsec-osv", 1206, 1193, 13, 0),
        ("pypa-advisory-db", 2661, 2651, 10, 0),
        ("debian-elts-osv", 1712, 1712, 0, 0),
        ("k8s-cve-feed-osv", 48, 47, 0, 1),
    ];
    for (name, files, records, withdrawn, invalid) in expected {
        let s = sources.iter().find(|s| s.name == name).unwrap();
        assert_eq!((s.files, s.records, s.withdrawn, s.invalid), (files, records, withdrawn, invalid), "{name}");
    }
    // The one invalid file is named in a warning.
    let w: Vec<_> = built.report.warnings.iter().filter(|w| !w.message.contains("computed CVSS")).collect();
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(w[0].location.ends_with("k8s-cve-feed-osv/last_updated.json"), "{}", w[0]);
    assert!(w[0].message.contains("missing field `id`"), "{}", w[0]);

    let kev = sources.iter().find(|s| s.name == "cisa-kev").unwrap();
    assert_eq!((kev.records, kev.invalid), (1404, 0), "KEV catalog 2025.08.25 has 1,404 entries");
    assert_eq!(kev.detail.as_deref(), Some("catalogVersion=2025.08.25 dateReleased=2025-08-25T17:04:19.9796Z"));

    // Reopening gives the same metadata as the build reported.
    let db = Db::open(&built.path).unwrap();
    assert_eq!(db.metadata().unwrap(), built.report.metadata);
}

#[test]
fn go_record_round_trips() {
    // GO-2020-0001: gin log injection, fixed in 1.6.0, aliases CVE-2020-36567 and a GHSA.
    let db = Db::open(&full().path).unwrap();
    let found = db.advisories_for("Go", "github.com/gin-gonic/gin").unwrap();
    let a = found.iter().find(|a| a.id == "GO-2020-0001").unwrap();
    assert_eq!(a.source, "go-vulndb");
    assert_eq!(a.aliases, ["CVE-2020-36567", "GHSA-6vm3-jj99-7229"]);
    assert_eq!(a.summary.as_deref(), Some("Arbitrary log line injection in github.com/gin-gonic/gin"));
    assert_eq!(a.published.as_deref(), Some("2021-04-14T20:04:52Z"));
    assert_eq!(a.affected.len(), 1);
    assert_eq!(a.affected[0].ranges[0].kind, "SEMVER");
    assert_eq!(a.affected[0].ranges[0].events, [Event::Introduced("0".into()), Event::Fixed("1.6.0".into())]);
    assert!(a.severities.is_empty(), "Go records carry no severity");
    assert!(found.windows(2).all(|w| w[0].id < w[1].id), "sorted by id");
    // The stored original is the file, byte for byte.
    let (format, raw) = db.raw_record("GO-2020-0001").unwrap().unwrap();
    assert_eq!(format, Format::Json);
    assert_eq!(raw, fs::read(adv("go-vulndb/data/osv/GO-2020-0001.json")).unwrap());
    assert_eq!(db.ids_for_alias("CVE-2020-36567").unwrap(), ["GO-2020-0001"]);
}

#[test]
fn withdrawn_records_never_match() {
    // GO-2022-0617 and GO-2024-2442 carry `withdrawn`.
    let db = Db::open(&full().path).unwrap();
    for id in ["GO-2022-0617", "GO-2024-2442"] {
        let a = db.advisory(id).unwrap().unwrap();
        assert!(a.withdrawn.is_some(), "{id}");
        for aff in &a.affected {
            let p = aff.package.as_ref().unwrap();
            let hits = db.advisories_for(&p.ecosystem, &p.name).unwrap();
            assert!(hits.iter().all(|h| h.id != id), "{id} matched {}", p.name);
        }
    }
}

#[test]
fn rustsec_cvss_v4_record() {
    // RUSTSEC-2026-0009: `time` 0.3.6 until 0.3.47, CVSS v4 vector, aliases CVE-2026-25727.
    let db = Db::open(&full().path).unwrap();
    let found = db.advisories_for("crates.io", "time").unwrap();
    let a = found.iter().find(|a| a.id == "RUSTSEC-2026-0009").unwrap();
    assert_eq!(a.aliases, ["CVE-2026-25727", "GHSA-r6v5-fh4h-64xc"]);
    assert_eq!(a.affected[0].ranges[0].events, [Event::Introduced("0.3.6".into()), Event::Fixed("0.3.47".into())]);
    assert_eq!(a.severities.len(), 1);
    let s = &a.severities[0];
    assert_eq!(s.scheme, Scheme::CvssV4);
    assert_eq!(s.vector.as_deref(), Some("CVSS:4.0/AV:N/AC:H/AT:N/PR:L/UI:A/VC:N/VI:N/VA:H/SC:N/SI:N/SA:H"));
    assert_eq!(s.origin, "osv:severity");
    assert!(s.score.is_some_and(|v| (0.1..=10.0).contains(&v)));
}

#[test]
fn pypa_yaml_record_and_pep503_names() {
    // PYSEC-2021-335 (YAML): accesscontrol, ECOSYSTEM ranges 4.0–4.3 and 5.0–5.2 beside a GIT
    // range, explicit versions, aliases CVE-2021-32807 and GHSA-qcx9-j53g-ccgf.
    let db = Db::open(&full().path).unwrap();
    let found = db.advisories_for("PyPI", "AccessControl").unwrap();
    let a = found.iter().find(|a| a.id == "PYSEC-2021-335").unwrap();
    assert_eq!(a.aliases, ["CVE-2021-32807", "GHSA-qcx9-j53g-ccgf"]);
    let aff = &a.affected[0];
    assert_eq!(aff.versions, ["4.0", "4.1", "4.2", "5.0", "5.1"]);
    let kinds: Vec<_> = aff.ranges.iter().map(|r| r.kind.as_str()).collect();
    assert_eq!(kinds, ["GIT", "ECOSYSTEM"]);
    assert_eq!(aff.ranges[0].repo.as_deref(), Some("https://github.com/zopefoundation/AccessControl"));
    assert_eq!(aff.ranges[1].events[3], Event::Fixed("5.2".into()));
    assert_eq!(db.raw_record("PYSEC-2021-335").unwrap().unwrap().0, Format::Yaml);
    let full_record = db.record("PYSEC-2021-335").unwrap().unwrap();
    assert!(full_record.details.unwrap().starts_with("The module `AccessControl` defines security policies"));
    // PEP 503: the same package under any spelling.
    assert_eq!(db.advisories_for("pypi", "access_control").unwrap().len(), 0, "`_` separates, it is not dropped");
    assert_eq!(db.advisories_for("PyPI", "ACCESSCONTROL").unwrap(), found);
}

#[test]
fn debian_ecosystem_matches_release_exactly() {
    // ELA-669-1 publishes `ranges` as an object (not a list) for Debian:8 and Debian:9; read
    // leniently. Each release sees only its own fixed version.
    let db = Db::open(&full().path).unwrap();
    let rec = db.record("ELA-669-1").unwrap().unwrap();
    let p = rec.affected[0].package.clone().unwrap();
    for (eco, fixed) in [("Debian:8", "2.1-2+deb8u1"), ("Debian:9", "2.1-2+deb9u1")] {
        let found = db.advisories_for(eco, &p.name).unwrap();
        let a = found.iter().find(|a| a.id == "ELA-669-1").unwrap_or_else(|| panic!("{eco}"));
        assert_eq!(a.affected.len(), 1);
        assert_eq!(a.affected[0].ranges[0].events[1], Event::Fixed(fixed.into()), "{eco}");
    }
    for eco in ["Debian", "Debian:10", "Debian:7"] {
        assert!(db.advisories_for(eco, &p.name).unwrap().iter().all(|a| a.id != "ELA-669-1"), "{eco}");
    }
    // ELA-10-1: exiv2 on Debian:7 only.
    assert!(db.advisories_for("Debian:7", "exiv2").unwrap().iter().any(|a| a.id == "ELA-10-1"));
    assert!(db.advisories_for("debian:7", "exiv2").unwrap().iter().any(|a| a.id == "ELA-10-1"), "case-insensitive");
}

#[test]
fn ghsa_and_ubuntu_severities_keep_their_source() {
    let db = Db::open(&full().path).unwrap();
    // GHSA-jfh8-c2jp-5v3q: log4j-core, three disjoint ranges in three affected entries,
    // CVSS 3.1 10.0 and database_specific.severity CRITICAL.
    let found = db.advisories_for("Maven", "org.apache.logging.log4j:log4j-core").unwrap();
    let a = found.iter().find(|a| a.id == "GHSA-jfh8-c2jp-5v3q").unwrap();
    assert_eq!(a.affected.len(), 3);
    let ghsa = a.severities.iter().find(|s| s.scheme == Scheme::Ghsa).unwrap();
    assert_eq!((ghsa.label.as_deref(), ghsa.rating), (Some("CRITICAL"), Rating::Critical));
    assert_eq!(ghsa.origin, "osv:database_specific.severity");
    let cvss = a.severities.iter().find(|s| s.scheme == Scheme::CvssV3).unwrap();
    assert_eq!((cvss.score, cvss.rating), (Some(10.0), Rating::Critical));

    // UBUNTU-CVE-2024-3094: ubuntu_priority "critical" per release, fixed versions per release.
    let found = db.advisories_for("Ubuntu:22.04:LTS", "xz-utils").unwrap();
    let a = found.iter().find(|a| a.id == "UBUNTU-CVE-2024-3094").unwrap();
    assert_eq!(a.affected.len(), 1);
    assert_eq!(a.affected[0].ranges[0].events[1], Event::Fixed("5.2.5-2ubuntu1".into()));
    let prio = a.severities.iter().find(|s| s.scheme == Scheme::UbuntuPriority).unwrap();
    assert_eq!((prio.label.as_deref(), prio.rating), (Some("critical"), Rating::Critical));
    assert_eq!(prio.origin, "osv:affected[1].ecosystem_specific.ubuntu_priority", "22.04's own entry");
    assert_eq!(a.severities.iter().filter(|s| s.scheme == Scheme::UbuntuPriority).count(), 1);
    assert!(db.advisories_for("Ubuntu:20.04", "xz-utils").unwrap().is_empty(), "release string matches exactly");

    // CVE-2023-2727 (Kubernetes feed): severity only inside affected[].
    let found = db.advisories_for("kubernetes", "k8s.io/apiserver").unwrap();
    let a = found.iter().find(|a| a.id == "CVE-2023-2727").unwrap();
    assert_eq!(a.severities[0].origin, "osv:affected[0].severity");
    assert_eq!(a.severities[0].vector.as_deref(), Some("CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:N"));
    assert_eq!(a.severities[0].score, Some(6.5));
    // CVE-2017-1002101: one vector repeated in each of its affected entries; each package sees
    // it once, from its own entry.
    let rec = db.record("CVE-2017-1002101").unwrap().unwrap();
    assert!(rec.affected.len() > 1);
    for (i, aff) in rec.affected.iter().enumerate() {
        let p = aff.package.as_ref().unwrap();
        let a = db.advisories_for(&p.ecosystem, &p.name).unwrap().into_iter().find(|a| a.id == rec.id).unwrap();
        let cvss: Vec<_> = a.severities.iter().filter(|s| s.vector.is_some()).collect();
        assert_eq!(cvss.len(), 1, "{}", p.name);
        assert!(a.affected.len() > 1 || cvss[0].origin == format!("osv:affected[{i}].severity"), "{}", p.name);
    }
}

#[test]
fn cvss_scores_equal_published_scores() {
    // NVD 2.0 sample (CVE-2024-3094): both metrics publish baseScore 10.0 beside the vector.
    let nvd = enrich::parse_nvd(&fs::read(adv("index-samples/nvd-json2/CVE-2024-3094.json")).unwrap()).unwrap();
    assert_eq!(nvd.len(), 2);
    for m in &nvd {
        assert_eq!(m.severity.score, m.published_score, "{:?}", m.severity);
        assert_eq!(m.severity.rating, Rating::Critical);
    }
    // Every vector/baseScore pair in the Red Hat CSAF VEX samples (v3.0 and v3.1).
    let mut checked = 0;
    for e in fs::read_dir(adv("redhat-csaf-vex-samples")).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "json") {
            let v: serde_json::Value = serde_json::from_slice(&fs::read(&p).unwrap()).unwrap();
            checked += check_vectors(&v, &p);
        }
    }
    assert!(checked >= 11, "{checked}");
    // The CVSS v2 and v3.1 scores NVD published for CVE-2021-28831, quoted in the cosign
    // vulnerability attestation spec (schemas/cosign-specs/specs/COSIGN_VULN_ATTESTATION_SPEC.md).
    let spec = fs::read_to_string(shared().join("schemas/cosign-specs/specs/COSIGN_VULN_ATTESTATION_SPEC.md")).unwrap();
    assert!(spec.contains(r#""V2Vector": "AV:N/AC:L/Au:N/C:N/I:N/A:P""#) && spec.contains(r#""V2Score": 5,"#));
    assert_eq!(cvss_base_score("AV:N/AC:L/Au:N/C:N/I:N/A:P").unwrap(), (Scheme::CvssV2, 5.0, Rating::Medium));
    assert_eq!(
        cvss_base_score("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H").unwrap(),
        (Scheme::CvssV3, 7.5, Rating::High)
    );
    // CVSS v4.0: the specification's example of a network-exploitable, no-privilege,
    // high-impact vulnerability scores 9.3 in FIRST's reference calculator.
    assert_eq!(
        cvss_base_score("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N").unwrap(),
        (Scheme::CvssV4, 9.3, Rating::Critical)
    );
    // No build warning says a computed score disagreed with NVD's.
    assert!(full().report.warnings.iter().all(|w| !w.message.contains("computed CVSS")));
}

fn check_vectors(v: &serde_json::Value, file: &Path) -> usize {
    match v {
        serde_json::Value::Object(m) => {
            let mut n = 0;
            if let (Some(vector), Some(score)) = (m.get("vectorString").and_then(|x| x.as_str()), m.get("baseScore")) {
                let (_, computed, _) = cvss_base_score(vector).unwrap();
                assert_eq!(Some(computed), score.as_f64(), "{vector} in {}", file.display());
                n += 1;
            }
            n + m.values().map(|x| check_vectors(x, file)).sum::<usize>()
        }
        serde_json::Value::Array(a) => a.iter().map(|x| check_vectors(x, file)).sum(),
        _ => 0,
    }
}

#[test]
fn every_cvss_vector_in_the_feeds_scores() {
    // Every severity vector of every active record parses and scores (RustSec: v3.0, v3.1, v4.0).
    let db = Db::open(&full().path).unwrap();
    let mut n = 0;
    for a in db
        .advisories_for("crates.io", "time")
        .unwrap()
        .into_iter()
        .chain(db.advisories_for("kubernetes", "kubelet").unwrap())
    {
        for s in a.severities {
            assert!(s.score.is_some(), "{}: {:?}", a.id, s.vector);
            n += 1;
        }
    }
    assert!(n > 0);
    let dir = adv("rustsec-osv/crates");
    let mut versions = BTreeSet::new();
    for e in fs::read_dir(&dir).unwrap() {
        let rec = parse_record(&fs::read(e.unwrap().path()).unwrap()).unwrap();
        for s in bulwark_vulndb::severity::severities_of(&rec) {
            assert!(s.score.is_some(), "{}: {:?}", rec.id, s.vector);
            versions.insert(format!("{:?}", s.scheme));
        }
    }
    assert_eq!(versions.into_iter().collect::<Vec<_>>(), ["CvssV3", "CvssV4"]);
}

#[test]
fn kev_and_epss_lookups() {
    let db = Db::open(&full().path).unwrap();
    // CVE-2021-44228 (Log4Shell) in KEV 2025.08.25: added 2021-12-10, ransomware use Known.
    let kev = db.kev("CVE-2021-44228").unwrap().unwrap();
    assert_eq!(kev.entry.date_added, "2021-12-10");
    assert_eq!(kev.entry.known_ransomware_campaign_use, "Known");
    assert_eq!(kev.entry.vendor_project, "Apache");
    assert_eq!(kev.source, "cisa-kev");
    // CVE-2025-48384 (Git) is the newest entry of that catalog.
    assert_eq!(db.kev("CVE-2025-48384").unwrap().unwrap().entry.date_added, "2025-08-25");
    assert!(db.kev("CVE-2024-3094").unwrap().is_none(), "xz is not in KEV");

    // EPSS: FIRST's daily file format, written from the real time series of CVE-2024-3094
    // (index-samples/epss-timeseries: 2025-08-15, model v4, epss 0.83739, percentile 0.99245),
    // once plain and once gzipped.
    let series = fs::read_to_string(adv("index-samples/epss-timeseries/CVE-2024-3094.epss.excerpt.csv")).unwrap();
    let last: Vec<&str> = series.lines().last().unwrap().split(',').collect();
    assert_eq!(last, ["2025-08-15", "v4", "0.83739", "0.99245"]);
    let csv = format!(
        "#model_version:v2025.03.14,score_date:2025-08-15T00:00:00+0000\ncve,epss,percentile\nCVE-2024-3094,{},{}\n",
        last[2], last[3]
    );
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("epss_scores-2025-08-15.csv");
    fs::write(&plain, &csv).unwrap();
    let gz = dir.path().join("epss_scores-2025-08-15.csv.gz");
    let mut enc = flate2::write::GzEncoder::new(fs::File::create(&gz).unwrap(), flate2::Compression::default());
    enc.write_all(csv.as_bytes()).unwrap();
    enc.finish().unwrap();
    for (i, file) in [plain, gz].iter().enumerate() {
        let path = dir.path().join(format!("db{i}"));
        let mut b = DbBuilder::new(&path).unwrap();
        let s = b.add_epss("epss", file).unwrap();
        assert_eq!(
            (s.records, s.detail.as_deref()),
            (1, Some("model_version=v2025.03.14 score_date=2025-08-15T00:00:00+0000"))
        );
        b.finish().unwrap();
        let db = Db::open(&path).unwrap();
        let e = db.epss("CVE-2024-3094").unwrap().unwrap();
        assert_eq!((e.score.epss, e.score.percentile, e.source.as_str()), (0.83739, 0.99245, "epss"));
        assert!(db.epss("CVE-2021-44228").unwrap().is_none());
    }
}

#[test]
fn nvd_cvss_fills_records_without_severity() {
    // UBUNTU-CVE-2024-3094 with its own `severity` removed (done here, on the real record):
    // NVD's CVSS for the CVE in its id is attached, with NVD's sources as origin.
    let raw = fs::read(adv("index-samples/ubuntu-osv/UBUNTU-CVE-2024-3094.json")).unwrap();
    let mut v: serde_json::Value = serde_json::from_slice(&raw).unwrap();
    v.as_object_mut().unwrap().remove("severity");
    let dir = tempfile::tempdir().unwrap();
    let rec = dir.path().join("UBUNTU-CVE-2024-3094.json");
    fs::write(&rec, serde_json::to_vec(&v).unwrap()).unwrap();
    let path = dir.path().join("db");
    let mut b = DbBuilder::new(&path).unwrap();
    b.add_osv("ubuntu", &rec).unwrap();
    b.add_nvd("nvd", adv("index-samples/nvd-json2/CVE-2024-3094.json")).unwrap();
    b.finish().unwrap();
    let db = Db::open(&path).unwrap();
    let a = &db.advisories_for("Ubuntu:20.04:LTS", "xz-utils").unwrap()[0];
    let origins: Vec<_> = a.severities.iter().map(|s| s.origin.as_str()).collect();
    assert_eq!(
        origins,
        [
            "osv:affected[0].ecosystem_specific.ubuntu_priority",
            "nvd:secalert@redhat.com (Secondary)",
            "nvd:nvd@nist.gov (Primary)"
        ]
    );
    assert_eq!(a.max_cvss(), Some(10.0));
    assert_eq!(db.nvd_cvss("CVE-2024-3094").unwrap().len(), 2);

    // The unmodified record keeps its own CVSS and gets nothing from NVD.
    let a = full_advisory("Ubuntu:20.04:LTS", "xz-utils", "UBUNTU-CVE-2024-3094");
    assert!(a.severities.iter().all(|s| s.origin.starts_with("osv:")), "{:?}", a.severities);
}

fn full_advisory(eco: &str, name: &str, id: &str) -> Advisory {
    let db = Db::open(&full().path).unwrap();
    db.advisories_for(eco, name).unwrap().into_iter().find(|a| a.id == id).unwrap()
}

fn zip_dir(dir: &Path) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    let mut names: Vec<_> = fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    names.sort();
    for p in names {
        w.start_file(p.file_name().unwrap().to_string_lossy(), opts).unwrap();
        w.write_all(&fs::read(&p).unwrap()).unwrap();
    }
    w.finish().unwrap().into_inner()
}

#[test]
fn zip_archive_gives_the_same_content_as_the_folder() {
    // osv.dev's all.zip is a flat zip of <id>.json; built here from the RustSec folder.
    let dir = tempfile::tempdir().unwrap();
    let zip_path = dir.path().join("all.zip");
    fs::write(&zip_path, zip_dir(&adv("rustsec-osv/crates"))).unwrap();

    let from_zip = dir.path().join("zip.db");
    let mut b = DbBuilder::new(&from_zip).unwrap();
    let s = b.add_osv("rustsec-osv", &zip_path).unwrap().clone();
    let zip_report = b.finish().unwrap();
    assert_eq!((s.files, s.records, s.withdrawn, s.invalid), (1206, 1193, 13, 0));
    assert!(zip_report.warnings.is_empty());

    let from_dir = dir.path().join("dir.db");
    let mut b = DbBuilder::new(&from_dir).unwrap();
    b.add_osv("rustsec-osv", adv("rustsec-osv/crates")).unwrap();
    let dir_report = b.finish().unwrap();
    assert_eq!(zip_report.metadata.content_digest, dir_report.metadata.content_digest);
    assert_ne!(zip_report.metadata.sources[0].sha256, dir_report.metadata.sources[0].sha256);

    let db = Db::open(&from_zip).unwrap();
    assert!(db.advisories_for("crates.io", "time").unwrap().iter().any(|a| a.id == "RUSTSEC-2026-0009"));
}

#[test]
fn bad_records_are_skipped_with_a_warning_naming_them() {
    let dir = tempfile::tempdir().unwrap();
    let feed = dir.path().join("feed");
    fs::create_dir_all(feed.join("sub")).unwrap();
    fs::copy(adv("go-vulndb/data/osv/GO-2020-0001.json"), feed.join("sub/GO-2020-0001.json")).unwrap();
    // The same record cut in half, a YAML file that is not a mapping, a non-record file.
    let good = fs::read(adv("rustsec-osv/crates/RUSTSEC-2026-0009.json")).unwrap();
    fs::write(feed.join("truncated.json"), &good[..good.len() / 2]).unwrap();
    fs::write(feed.join("list.yaml"), "- 1\n- 2\n").unwrap();
    fs::write(feed.join("README.md"), "ignored").unwrap();
    let path = dir.path().join("db");
    let mut b = DbBuilder::new(&path).unwrap();
    let s = b.add_osv("feed", &feed).unwrap().clone();
    let report = b.finish().unwrap();
    assert_eq!((s.files, s.records, s.invalid), (3, 1, 2));
    let mut locations: Vec<_> =
        report.warnings.iter().map(|w| w.location.rsplit('/').next().unwrap().to_owned()).collect();
    locations.sort();
    assert_eq!(locations, ["list.yaml", "truncated.json"]);

    // Duplicate ids: the later `modified` wins and the other is counted.
    let mut newer: serde_json::Value = serde_json::from_slice(&good).unwrap();
    newer["modified"] = "2099-01-01T00:00:00Z".into();
    newer["summary"] = "newer copy".into();
    let other = dir.path().join("other.json");
    fs::write(&other, serde_json::to_vec(&newer).unwrap()).unwrap();
    let path = dir.path().join("db2");
    let mut b = DbBuilder::new(&path).unwrap();
    b.add_osv("rustsec", adv("rustsec-osv/crates/RUSTSEC-2026-0009.json")).unwrap();
    b.add_osv("newer", &other).unwrap();
    assert!(matches!(b.add_osv("newer", &other), Err(Error::DuplicateSource { .. })));
    let report = b.finish().unwrap();
    let counts: Vec<_> = report.metadata.sources.iter().map(|s| (s.name.as_str(), s.records, s.duplicates)).collect();
    assert_eq!(counts, [("newer", 1, 0), ("rustsec", 0, 1)]);
    let db = Db::open(&path).unwrap();
    assert_eq!(db.advisory("RUSTSEC-2026-0009").unwrap().unwrap().summary.as_deref(), Some("newer copy"));
    assert_eq!(db.advisories_for("crates.io", "time").unwrap().len(), 1);
}

/// A reader that fails after `left` bytes, like a connection dropped mid-download.
struct Failing<R> {
    inner: R,
    left: usize,
}

impl<R: Read> Read for Failing<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 {
            return Err(io::Error::new(io::ErrorKind::ConnectionReset, "connection reset by peer"));
        }
        let n = buf.len().min(self.left);
        let n = self.inner.read(&mut buf[..n])?;
        self.left -= n;
        Ok(n)
    }
}

impl<R: Seek> Seek for Failing<R> {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        self.inner.seek(pos)
    }
}

#[test]
fn failed_build_leaves_the_old_db_intact() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("bulwark.db");
    let mut b = DbBuilder::new(&target).unwrap();
    b.add_osv("k8s", adv("k8s-cve-feed-osv/vulns")).unwrap();
    let old = b.finish().unwrap().metadata;
    let zip = zip_dir(&adv("rustsec-osv/crates"));

    // 1. A source whose reader fails midway: the error names the source, the build is dropped.
    let mut b = DbBuilder::new(&target).unwrap();
    b.add_osv("go", adv("go-vulndb/data/osv")).unwrap();
    let err = b
        .add_osv_zip(
            "rustsec",
            "https://mirror.example/crates.io/all.zip",
            Failing { inner: Cursor::new(&zip), left: 4096 },
        )
        .unwrap_err();
    assert!(err.to_string().contains("https://mirror.example/crates.io/all.zip"), "{err}");
    assert!(err.to_string().contains("connection reset"), "{err}");
    drop(b);

    // 2. A corrupt (truncated) archive.
    let mut b = DbBuilder::new(&target).unwrap();
    let err = b.add_osv_zip("rustsec", "all.zip", Cursor::new(&zip[..zip.len() / 2])).unwrap_err();
    assert!(matches!(err, Error::Archive { .. }), "{err}");
    drop(b);

    // 3. An enrichment feed that is not one.
    let mut b = DbBuilder::new(&target).unwrap();
    let err = b.add_kev("kev", adv("index-samples/nvd-json2/CVE-2024-3094.json")).unwrap_err();
    assert!(matches!(err, Error::Feed { feed: "KEV", .. }), "{err}");
    drop(b);

    let db = Db::open(&target).unwrap();
    assert_eq!(db.metadata().unwrap(), old);
    assert!(db.advisories_for("kubernetes", "k8s.io/apiserver").unwrap().iter().any(|a| a.id == "CVE-2023-2727"));
    let leftovers: Vec<_> = fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(leftovers, ["bulwark.db"], "no temp files left behind");

    // A successful build replaces it, even while the old one is open.
    let mut b = DbBuilder::new(&target).unwrap();
    b.add_osv_zip("rustsec", "all.zip", Cursor::new(&zip)).unwrap();
    let new = b.finish().unwrap().metadata;
    assert_ne!(new.content_digest, old.content_digest);
    assert!(
        !db.advisories_for("kubernetes", "k8s.io/apiserver").unwrap().is_empty(),
        "old handle still reads the old file"
    );
    assert_eq!(Db::open(&target).unwrap().metadata().unwrap(), new);
}

#[test]
fn open_rejects_other_files() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("not-a-db");
    fs::write(&p, b"hello").unwrap();
    assert!(matches!(Db::open(&p), Err(Error::Corrupt { .. })));
    fs::write(&p, b"x".repeat(8192)).unwrap();
    let err = Db::open(&p).unwrap_err();
    assert!(matches!(err, Error::Corrupt { .. }) && err.to_string().contains("not an SQLite database"), "{err}");
    assert!(matches!(Db::open(dir.path().join("missing")), Err(Error::Io { .. })));
    let err = Db::open(dir.path()).unwrap_err();
    assert!(matches!(err, Error::IsDirectory { .. }), "{err}");
    assert!(err.to_string().contains("hint: name the file inside it"), "{err}");
    let conn = rusqlite::Connection::open(dir.path().join("old.db")).unwrap();
    conn.execute_batch(
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT); INSERT INTO meta VALUES ('schema_version', '0');",
    )
    .unwrap();
    drop(conn);
    let err = Db::open(dir.path().join("old.db")).unwrap_err();
    // The advice (rebuild with `bulwark db update`) is the CLI's, from the variant (hints.rs).
    assert!(matches!(err, Error::SchemaVersion { .. }), "{err}");
}

#[test]
fn osv_schema_examples_parse() {
    // The OSV linter's real records (schemas/osv/testdata/osv-linter), including its
    // deliberately non-conforming ones (no package, no introduced): all readable.
    let dir = shared().join("schemas/osv/testdata/osv-linter");
    for e in fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        let r = parse_record(&fs::read(&p).unwrap()).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        assert!(!r.id.is_empty());
    }
}

#[test]
fn parse_record_survives_every_prefix() {
    // Cheap stand-in for the fuzz target: every truncation of a JSON and a YAML record.
    for rel in ["go-vulndb/data/osv/GO-2020-0001.json", "pypa-advisory-db/vulns/accesscontrol/PYSEC-2021-335.yaml"] {
        let bytes = fs::read(adv(rel)).unwrap();
        for n in 0..bytes.len() {
            let _ = parse_record(&bytes[..n]);
        }
        assert!(parse_record(&bytes).is_ok());
    }
}

#[test]
fn open_and_1000_queries_are_fast() {
    let built = full();
    let mut pairs = BTreeSet::new();
    let db = Db::open(&built.path).unwrap();
    for (_, rel) in SOURCES {
        for e in walk(&adv(rel)) {
            if let Ok(r) = parse_record(&fs::read(&e).unwrap()) {
                for a in r.affected.into_iter().filter_map(|a| a.package) {
                    pairs.insert((a.ecosystem, a.name));
                }
            }
        }
    }
    let pairs: Vec<_> = pairs.into_iter().collect();
    let queries: Vec<_> = pairs.iter().step_by((pairs.len() / 1000).max(1)).take(1000).collect();
    assert_eq!(queries.len(), 1000);
    drop(db);
    let mut best = std::time::Duration::MAX;
    for _ in 0..5 {
        let t = std::time::Instant::now();
        let db = Db::open(&built.path).unwrap();
        let mut hits = 0;
        for (eco, name) in &queries {
            hits += db.advisories_for(eco, name).unwrap().len();
        }
        assert!(hits >= 1000);
        best = best.min(t.elapsed());
    }
    // The 50 ms budget is for optimised builds (`cargo run --release --example query_bench`);
    // unoptimised test builds only get a loose sanity bound.
    let budget = if cfg!(debug_assertions) { 1000 } else { 50 };
    assert!(best.as_millis() < budget, "open + 1000 queries took {best:?}");
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else if Format::from_path(&p.to_string_lossy()).is_some() {
            out.push(p);
        }
    }
    out
}

/// `Db::verify`, run before a built, updated or imported database replaces another: each kind
/// of damage is found and named.
#[test]
fn verify_finds_each_kind_of_damage() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.db");
    let mut b = DbBuilder::new(&good).unwrap();
    b.add_osv("go", shared().join("advisories/go-vulndb/data/osv")).unwrap();
    b.finish().unwrap();
    Db::open(&good).unwrap().verify().unwrap();
    let bytes = fs::read(&good).unwrap();
    let damaged = |name: &str, f: &dyn Fn(&mut Vec<u8>)| {
        let mut b = bytes.clone();
        f(&mut b);
        let p = dir.path().join(name);
        fs::write(&p, &b).unwrap();
        p
    };
    // 64 KiB zeroed in the middle: opens, fails the integrity check.
    let zeroed = damaged("zeroed.db", &|b| {
        let mid = b.len() / 2;
        b[mid - 32768..mid + 32768].fill(0);
    });
    let err = Db::open(&zeroed).and_then(|d| d.verify()).unwrap_err();
    assert!(matches!(err, Error::Corrupt { .. }) && err.to_string().contains("integrity"), "{err}");
    // Truncated: refused at open, from the header's page count.
    let truncated = damaged("truncated.db", &|b| b.truncate(b.len() / 2));
    let err = Db::open(&truncated).unwrap_err();
    assert!(err.to_string().contains("truncated"), "{err}");
    // A stated content digest that is not the content's, and a table this version does not write.
    for (name, sql, want) in [
        ("digest.db", "UPDATE meta SET value = 'sha256:00' WHERE key = 'content_digest'", "content digest is"),
        ("schema.db", "CREATE TABLE extra (x TEXT)", "unexpected tables or columns"),
    ] {
        let p = dir.path().join(name);
        fs::copy(&good, &p).unwrap();
        rusqlite::Connection::open(&p).unwrap().execute_batch(sql).unwrap();
        let err = Db::open(&p).unwrap().verify().unwrap_err();
        assert!(err.to_string().contains(want), "{name}: {err}");
    }
}

/// The OSV files under `dir` as the DB build reads them: dot files skipped, sorted by their
/// relative path.
fn osv_files(dir: &Path) -> Vec<PathBuf> {
    fn go(root: &Path, dir: &Path, out: &mut Vec<(String, PathBuf)>) {
        for e in fs::read_dir(dir).unwrap() {
            let e = e.unwrap();
            let name = e.file_name().to_string_lossy().into_owned();
            let p = e.path();
            if name.starts_with('.') {
                continue;
            }
            if p.is_dir() {
                go(root, &p, out);
            } else if Format::from_path(&name).is_some() {
                out.push((p.strip_prefix(root).unwrap().to_string_lossy().into_owned(), p));
            }
        }
    }
    let mut out = Vec::new();
    go(dir, dir, &mut out);
    out.sort();
    out.into_iter().map(|(_, p)| p).collect()
}

/// Every record of [`SOURCES`] in a `MemorySource`, read as the DB build reads them.
fn memory_of_sources() -> (MemorySource, BTreeSet<(String, String)>) {
    let mut source = MemorySource::new();
    let mut packages = BTreeSet::new();
    for (name, rel) in SOURCES {
        for file in osv_files(&adv(rel)) {
            let Ok(record) = parse_record(&fs::read(&file).unwrap()) else { continue };
            if record.withdrawn.is_none() {
                for p in record.affected.iter().filter_map(|a| a.package.as_ref()) {
                    packages.insert((p.ecosystem.clone(), p.name.clone()));
                }
            }
            source.add_record(name, &record);
        }
    }
    (source, packages)
}

/// Drops the CVSS values the DB attaches from NVD (the in-memory source has no NVD feed).
fn without_nvd(mut list: Vec<Advisory>) -> Vec<Advisory> {
    for a in &mut list {
        a.severities.retain(|s| !s.origin.starts_with("nvd:"));
    }
    list
}

/// The database and `MemorySource` answer every package lookup of the real feeds alike, as
/// the matcher's `AdvisorySource` (ids, entries, severities), and so do the alias lookups
/// and the ecosystem checks: the matcher's unit tests, which run on the in-memory source,
/// test what a scan sees.
#[test]
fn db_and_memory_source_answer_alike() {
    let db = Db::open(&full().path).unwrap();
    let (memory, packages) = memory_of_sources();
    assert!(packages.len() > 3000, "{} packages", packages.len());
    let (db, memory): (&dyn AdvisorySource, &dyn AdvisorySource) = (&db, &memory);
    let mut cves = BTreeSet::new();
    for (eco, name) in &packages {
        let from_db = without_nvd(db.advisories_for(eco, name).unwrap());
        let from_memory = memory.advisories_for(eco, name).unwrap();
        assert!(!from_db.is_empty(), "{eco} {name}");
        assert_eq!(from_db, from_memory, "{eco} {name}");
        cves.extend(from_db.iter().flat_map(|a| a.aliases.iter().filter(|x| x.starts_with("CVE-")).cloned()));
    }
    for cve in cves.iter().step_by(7) {
        assert_eq!(
            without_nvd(db.advisories_aliasing(cve).unwrap()),
            memory.advisories_aliasing(cve).unwrap(),
            "{cve}"
        );
    }
    for eco in ["Go", "crates.io", "PyPI", "Debian:10", "debian:9", "npm", "Debian:12", "Red Hat:enterprise_linux:9"] {
        assert_eq!(db.has_ecosystem(eco).unwrap(), memory.has_ecosystem(eco).unwrap(), "{eco}");
    }
}

/// The same, through the matcher, for what only CSAF and the Debian tracker say (typed Red
/// Hat and tracker states): one database and one in-memory source built from the same
/// documents give the same findings, warnings and gaps.
#[test]
fn db_and_memory_source_match_alike_on_vendor_states() {
    use bulwark_advisory::csaf::{parse_csaf, to_records};
    use bulwark_core::report::{OsRelease, Package};

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db.sqlite");
    let (csaf, tracker, elts) =
        (adv("redhat-csaf-vex-samples"), adv("index-samples/debian-tracker-cve"), adv("debian-elts-osv/advisories"));
    let mut b = DbBuilder::new(&path).unwrap();
    b.add_csaf("csaf:samples", &csaf).unwrap();
    b.add_debian_tracker("tracker", &tracker).unwrap();
    b.add_osv("elts", &elts).unwrap();
    b.finish().unwrap();
    let db = Db::open(&path).unwrap();

    let mut memory = MemorySource::new();
    for file in osv_files(&csaf) {
        let rel = file.strip_prefix(&csaf).unwrap().display().to_string();
        for record in to_records(&parse_csaf(&fs::read(&file).unwrap()).unwrap(), &format!("csaf:{rel}")).0 {
            memory.add_record("csaf:samples", &record);
        }
    }
    for file in osv_files(&tracker) {
        memory.add_tracker_states(
            "tracker",
            bulwark_vulndb::debian_tracker::parse_tracker(&fs::read(&file).unwrap()).unwrap(),
        );
    }
    for file in osv_files(&elts) {
        if let Ok(record) = parse_record(&fs::read(&file).unwrap()) {
            memory.add_record("elts", &record);
        }
    }

    let os = |id: &str, version: &str, eco: &str| OsRelease {
        id: id.into(),
        version_id: Some(version.into()),
        version_codename: None,
        pretty_name: None,
        source: "/etc/os-release".into(),
        osv_ecosystem: Some(eco.into()),
        distroless: false,
    };
    let package = |ty: &str, name: &str, version: &str, source: &str| -> Package {
        bulwark_testkit::report::package(ty, name, version).source(source).location("/var/lib/pkgdb").layer(0).build()
    };
    // Names and versions from the documents: cve-2024-0727-openssl.json (RHEL 7 no_fix_planned,
    // RHEL 9 fixed in 1:3.0.7-27.el9, compat-openssl11 none_available), cve-2023-38545.json
    // (curl), cve-2025-6176.json (brotli); the tracker's CVE-2024-0727 (buster openssl
    // postponed) with ELTS openssl records.
    let cases = [
        (
            os("rhel", "9.4", "Red Hat:enterprise_linux:9"),
            vec![
                package("rpm", "openssl-libs", "1:3.0.7-26.el9", "openssl"),
                package("rpm", "compat-openssl11", "1:1.1.1k-4.el9_0", "compat-openssl11"),
                package("rpm", "libcurl", "7.76.1-26.el9_3", "curl"),
                package("rpm", "brotli", "1.0.9-7.el9_5", "brotli"),
            ],
        ),
        (
            os("rhel", "7.9", "Red Hat:enterprise_linux:7"),
            vec![package("rpm", "openssl-libs", "1:1.0.2k-26.el7_9", "openssl")],
        ),
        (os("rocky", "9.5", "Rocky Linux:9"), vec![package("rpm", "brotli", "1.0.9-7.el9_5", "brotli")]),
        (
            os("debian", "10", "Debian:10"),
            vec![
                package("deb", "libssl1.1", "1.1.1d-0+deb10u3", "openssl"),
                package("deb", "curl", "7.64.0-4+deb10u1", "curl"),
            ],
        ),
    ];
    let mut findings = 0;
    for (os, packages) in &cases {
        let from_db = bulwark_match::match_packages_checked(packages, Some(os), &db);
        let from_memory = bulwark_match::match_packages_checked(packages, Some(os), &memory);
        findings += from_db.vulnerabilities.len();
        assert_eq!(format!("{from_db:?}"), format!("{from_memory:?}"), "{}", os.id);
    }
    assert!(findings > 10, "{findings} findings");
}

/// One `Db` serves many threads at once (a server's workers), with the answers a single
/// thread gets.
#[test]
fn one_db_serves_many_threads() {
    fn shared_by_threads<T: Send + Sync>(_: &T) {}
    let db = Db::open(&full().path).unwrap();
    shared_by_threads(&db);
    let (_, packages) = memory_of_sources();
    let packages: Vec<(String, String)> = packages.into_iter().step_by(10).collect();
    let expected: Vec<Vec<String>> = packages
        .iter()
        .map(|(eco, name)| db.advisories_for(eco, name).unwrap().into_iter().map(|a| a.id).collect())
        .collect();
    std::thread::scope(|s| {
        for t in 0..8 {
            let (db, packages, expected) = (&db, &packages, &expected);
            s.spawn(move || {
                // Each thread walks the list from another point, so lookups overlap.
                for i in 0..packages.len() {
                    let i = (i + t * packages.len() / 8) % packages.len();
                    let (eco, name) = &packages[i];
                    let ids: Vec<String> = db.advisories_for(eco, name).unwrap().into_iter().map(|a| a.id).collect();
                    assert_eq!(ids, expected[i], "{eco} {name}");
                }
            });
        }
    });
}
