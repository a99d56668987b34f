//! Loads a store with N images (default 10,000) built from real package sets, then times
//! the inventory questions. Run by `bench/store.sh` on SQLite and PostgreSQL; see
//! bench/README.md.
//!
//! Package sets (all real names and versions):
//! - Debian: the minbase image's dpkg status (`BENCH_DPKG_STATUS`), plus the source
//!   packages and versions Debian ELTS advisories list as affected (`$BULWARK_SHARED/
//!   advisories/debian-elts-osv`), each with its real advisory (CVE id, ELA alias, fix);
//! - PyPI: the `*.dist-info` of this machine's Python (`/usr/lib/python3/dist-packages`);
//! - Maven: the coordinates in Debian's `/usr/share/maven-repo`, plus log4j-core 2.14.1
//!   with its real advisory (CVE-2021-44228 / GHSA-jfh8-c2jp-5v3q, in KEV).
//!
//! Each image takes the base packages (with ELTS versions swapped in at random), a random
//! slice of the ELTS, PyPI and Maven pools, and a top layer; references spread over 50
//! repositories with a few tags each.
#![allow(clippy::print_stdout)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use bulwark_core::report::{
    AffectedPackage, FixState, ImageSummary, LayerSummary, Package, ScanReport, Severity, Vulnerability,
};
use bulwark_store::images::PageRequest;
use bulwark_store::{PackageQuery, ScanOrigin, Store};

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

#[derive(Clone)]
struct Pkg {
    eco: &'static str,
    name: String,
    version: String,
    purl: String,
    location: String,
    vulns: Vec<(String, Vec<String>, Option<String>, bool)>,
}

fn deb(name: &str, version: &str) -> Pkg {
    let v = version.replace('+', "%2B").replace(':', "%3A");
    Pkg {
        eco: "deb",
        name: name.into(),
        version: version.into(),
        purl: format!("pkg:deb/debian/{name}@{v}?arch=amd64&distro=debian-12"),
        location: "/var/lib/dpkg/status".into(),
        vulns: Vec::new(),
    }
}

fn dpkg_status(path: &Path) -> Vec<Pkg> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.split("\n\n")
        .filter_map(|para| {
            let field = |k: &str| para.lines().find_map(|l| l.strip_prefix(k)).map(|v| v.trim().to_owned());
            Some(deb(&field("Package:")?, &field("Version:")?))
        })
        .collect()
}

/// Debian source packages at real versions (the fixed versions the ELTS advisories name),
/// each with the real advisories it is still affected by (version below the fix, compared
/// with dpkg's ordering): the CVE as id, the ELA id as alias, the fixed version.
fn elts(shared: &Path) -> Vec<Pkg> {
    // package → [(advisory id, aliases, fixed version)]
    let mut fixes: BTreeMap<String, Vec<(String, Vec<String>, String)>> = BTreeMap::new();
    let dir = shared.join("advisories/debian-elts-osv/advisories");
    for e in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let v: serde_json::Value = serde_json::from_slice(&std::fs::read(e.unwrap().path()).unwrap()).unwrap();
        let id = v["id"].as_str().unwrap_or_default().to_owned();
        let cves: Vec<String> =
            v["related"].as_array().into_iter().flatten().filter_map(|a| a.as_str()).map(str::to_owned).collect();
        for (n, cve) in cves.iter().enumerate().take(3) {
            let mut aliases = vec![id.clone()];
            aliases.extend(cves.iter().enumerate().filter(|(m, _)| *m != n).map(|(_, c)| c.clone()).take(3));
            for a in v["affected"].as_array().into_iter().flatten() {
                let name = a["package"]["name"].as_str().unwrap_or_default();
                let fixed = a["ranges"][0]["events"].as_array().into_iter().flatten().find_map(|e| e["fixed"].as_str());
                if let Some(fixed) = fixed {
                    fixes.entry(name.to_owned()).or_default().push((cve.clone(), aliases.clone(), fixed.to_owned()));
                }
            }
        }
    }
    let mut out = Vec::new();
    for (name, advisories) in &fixes {
        let mut versions: Vec<&str> = advisories.iter().map(|a| a.2.as_str()).collect();
        versions.sort();
        versions.dedup();
        for version in versions.iter().take(6) {
            let mut p = deb(name, version);
            for (cve, aliases, fixed) in advisories {
                let below = bulwark_version::compare(bulwark_version::Ecosystem::Dpkg, version, fixed)
                    .is_ok_and(|o| o == std::cmp::Ordering::Less);
                if below && p.vulns.len() < 12 {
                    p.vulns.push((cve.clone(), aliases.clone(), Some(fixed.clone()), false));
                }
            }
            p.vulns.sort();
            p.vulns.dedup_by(|a, b| a.0 == b.0);
            out.push(p);
        }
    }
    out
}

fn pypi() -> Vec<Pkg> {
    let mut out = Vec::new();
    for dir in ["/usr/lib/python3/dist-packages", "/usr/local/lib/python3.11/dist-packages"] {
        let Ok(rd) = std::fs::read_dir(dir) else { continue };
        for e in rd.flatten() {
            let f = e.file_name().to_string_lossy().into_owned();
            if let Some((name, version)) = f.strip_suffix(".dist-info").and_then(|s| s.rsplit_once('-')) {
                let name = name.to_lowercase().replace('_', "-");
                out.push(Pkg {
                    eco: "pypi",
                    purl: format!("pkg:pypi/{name}@{version}"),
                    location: format!("{dir}/{f}/METADATA"),
                    name,
                    version: version.into(),
                    vulns: Vec::new(),
                });
            }
        }
    }
    out
}

fn maven(repo: &Path) -> Vec<Pkg> {
    let mut out = Vec::new();
    let mut stack = vec![repo.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else { continue };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "pom") {
                let version = d.file_name().unwrap().to_string_lossy().into_owned();
                let artifact_dir = d.parent().unwrap();
                let artifact = artifact_dir.file_name().unwrap().to_string_lossy().into_owned();
                let group =
                    artifact_dir.parent().unwrap().strip_prefix(repo).unwrap().to_string_lossy().replace('/', ".");
                if version == "debian" || group.is_empty() {
                    continue;
                }
                out.push(Pkg {
                    eco: "maven",
                    purl: format!("pkg:maven/{group}/{artifact}@{version}"),
                    name: format!("{group}:{artifact}"),
                    location: format!("/app/lib/{artifact}-{version}.jar"),
                    version,
                    vulns: Vec::new(),
                });
            }
        }
    }
    out.sort_by(|a, b| a.purl.cmp(&b.purl));
    out.dedup_by(|a, b| a.purl == b.purl);
    out
}

fn digest(seed: &str) -> bulwark_core::Digest {
    let hex = hex::encode(ring::digest::digest(&ring::digest::SHA256, seed.as_bytes()));
    format!("sha256:{hex}").parse().unwrap()
}

fn report(i: usize, pkgs: &[&Pkg]) -> Vec<u8> {
    let packages: Vec<Package> = pkgs
        .iter()
        .map(|p| Package {
            ecosystem: p.eco.into(),
            name: p.name.clone(),
            version: p.version.clone(),
            purl: p.purl.clone(),
            arch: None,
            source: None,
            license: None,
            locations: vec![p.location.clone()],
            layer: Some(usize::from(p.eco != "deb")),
            removed_in: None,
            dependencies: Vec::new(),
            identification: None,
        })
        .collect();
    let mut vulnerabilities = Vec::new();
    for (p, pkg) in pkgs.iter().zip(&packages) {
        for (id, aliases, fixed, kev) in &p.vulns {
            vulnerabilities.push(Vulnerability {
                id: id.clone(),
                aliases: aliases.clone(),
                package: AffectedPackage {
                    ecosystem: pkg.ecosystem.clone(),
                    name: pkg.name.clone(),
                    version: pkg.version.clone(),
                    purl: pkg.purl.clone(),
                    matched_as: None,
                    layer: pkg.layer,
                    locations: pkg.locations.clone(),
                },
                state: if fixed.is_some() { FixState::Fixed } else { FixState::NotFixed },
                fixed_versions: fixed.iter().cloned().collect(),
                severity: if *kev {
                    Severity::Critical
                } else {
                    [Severity::Low, Severity::Medium, Severity::High][id.len() % 3]
                },
                severity_source: None,
                cvss: None,
                kev: *kev,
                epss: None,
                title: None,
                sources: vec!["osv".into()],
                explanation: "affected version".into(),
            });
        }
    }
    let r = ScanReport {
        schema_version: 1,
        bulwark_version: "0.1.0".into(),
        image: ImageSummary {
            reference: format!("registry:registry.bench:5000/team{}/app{}:{}", i % 10, i % 50, i / 50),
            source: Some("registry".into()),
            manifest_digest: Some(digest(&format!("image-{i}"))),
            config_digest: Some(digest(&format!("config-{i}"))),
            platform: None,
            created: None,
        },
        layers: (0..2)
            .map(|l| LayerSummary {
                index: l,
                digest: Some(digest(&format!("layer-{}", if l == 0 { i % 7 } else { 1000 + i }))),
                diff_id: digest(&format!("diff-{}", if l == 0 { i % 7 } else { 1000 + i })),
                media_type: None,
                size: 30_000_000,
                uncompressed_size: 80_000_000,
                entries: 5000,
                whiteouts: 0,
                created_by: Some(if l == 0 { "debootstrap minbase".into() } else { format!("COPY app-{i} /app") }),
            })
            .collect(),
        packages,
        vulnerabilities,
        ..ScanReport::default()
    };
    let mut json = serde_json::to_vec_pretty(&r).unwrap();
    json.push(b'\n');
    json
}

fn percentiles(mut ms: Vec<f64>) -> (f64, f64) {
    ms.sort_by(|a, b| a.total_cmp(b));
    let at = |q: f64| ms[((ms.len() as f64 - 1.0) * q).round() as usize];
    (at(0.50), at(0.99))
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let url = std::env::var("BENCH_URL").expect("BENCH_URL: the store to load");
    let n: usize = std::env::var("BENCH_IMAGES").ok().and_then(|v| v.parse().ok()).unwrap_or(10_000);
    let shared = PathBuf::from(std::env::var("BULWARK_SHARED").unwrap_or_else(|_| "../shared".into()));
    let base = dpkg_status(Path::new(
        &std::env::var("BENCH_DPKG_STATUS").expect("BENCH_DPKG_STATUS: a real dpkg status file"),
    ));
    let elts = elts(&shared);
    let py = pypi();
    let mut mvn =
        maven(Path::new(&std::env::var("BENCH_MAVEN_REPO").unwrap_or_else(|_| "/usr/share/maven-repo".into())));
    let mut log4j = Pkg {
        eco: "maven",
        name: "org.apache.logging.log4j:log4j-core".into(),
        version: "2.14.1".into(),
        purl: "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1".into(),
        location: "/app/lib/log4j-core-2.14.1.jar".into(),
        vulns: Vec::new(),
    };
    log4j.vulns.push(("CVE-2021-44228".into(), vec!["GHSA-jfh8-c2jp-5v3q".into()], Some("2.15.0".into()), true));
    mvn.push(log4j);
    println!(
        "pools: {} base deb, {} ELTS deb versions, {} pypi, {} maven",
        base.len(),
        elts.len(),
        py.len(),
        mvn.len()
    );
    let store = Store::open(&url).await.unwrap();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let started = Instant::now();
    let mut bytes = 0usize;
    for i in 0..n {
        let mut pkgs: Vec<&Pkg> = base.iter().collect();
        for _ in 0..(20 + rng.below(40)) {
            pkgs.push(&elts[rng.below(elts.len())]);
        }
        for _ in 0..rng.below(40) {
            pkgs.push(&py[rng.below(py.len())]);
        }
        for _ in 0..rng.below(30) {
            pkgs.push(&mvn[rng.below(mvn.len())]);
        }
        pkgs.sort_by(|a, b| a.purl.cmp(&b.purl));
        pkgs.dedup_by(|a, b| a.purl == b.purl);
        let json = report(i, &pkgs);
        bytes += json.len();
        store.record_scan(&json, ScanOrigin::Upload).await.unwrap();
        if (i + 1) % 1000 == 0 {
            println!("loaded {} images ({:.0} s)", i + 1, started.elapsed().as_secs_f64());
        }
    }
    println!("load: {n} images in {:.1} s; mean report {} bytes", started.elapsed().as_secs_f64(), bytes / n.max(1));

    // Queries: 200 vulnerabilities and 200 packages drawn from what was loaded.
    let vuln_ids: Vec<String> = {
        let mut ids: Vec<String> = elts.iter().flat_map(|p| p.vulns.iter().map(|v| v.0.clone())).collect();
        ids.sort();
        ids.dedup();
        let mut r = Rng(7);
        (0..200).map(|_| ids[r.below(ids.len())].clone()).chain(["CVE-2021-44228".to_owned()]).collect()
    };
    let page = PageRequest { limit: 100, cursor: None };
    let mut times = Vec::new();
    let mut hits = 0;
    for id in &vuln_ids {
        let t = Instant::now();
        hits += store.images_with_vulnerability(id, &page).await.unwrap().items.len();
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let (p50, p99) = percentiles(times);
    println!(
        "vulnerability->images: p50 {p50:.2} ms, p99 {p99:.2} ms ({} queries, {hits} rows, page 100)",
        vuln_ids.len()
    );

    let mut r = Rng(11);
    let all: Vec<&Pkg> = base.iter().chain(&elts).chain(&py).chain(&mvn).collect();
    let mut times = Vec::new();
    let mut hits = 0;
    for _ in 0..200 {
        let p = all[r.below(all.len())];
        let t = Instant::now();
        hits += store.find_packages(&PackageQuery::from_purl(&p.purl).unwrap(), &page).await.unwrap().items.len();
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let (p50, p99) = percentiles(times);
    println!("package-by-purl: p50 {p50:.2} ms, p99 {p99:.2} ms (200 queries, {hits} rows, page 100)");
    let mut times = Vec::new();
    for _ in 0..200 {
        let p = all[r.below(all.len())];
        let q = PackageQuery::from_name(Some(p.eco), &p.name, Some(&format!("<={}", p.version))).unwrap();
        let t = Instant::now();
        store.find_packages(&q, &page).await.unwrap();
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let (p50, p99) = percentiles(times);
    println!("package-by-name+range: p50 {p50:.2} ms, p99 {p99:.2} ms (200 queries, page 100)");
    store.close().await;
}
