//! `--malware-engine yara,clamav` against a real clamd (Debian's `clamav-daemon`, installed by
//! `scripts/setup-dev.sh`), started here with its own config on a socket in a temp dir and
//! the two-signature test database of `../shared/malware/clamav-test-db` (no freshclam, no
//! network). Samples are ClamAV's own test files (`../shared/malware/clamav-testfiles`) and
//! the EICAR files, read in place and packed into test images in memory.

use crate::support;
use bulwark_testkit::image as fixture;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bulwark_image::spec::Compression;
use fixture::*;
use serde_json::{Value, json};
use support::bulwark_in;

/// A clamd of our own, killed when dropped.
struct Clamd {
    child: Child,
    dir: tempfile::TempDir,
}

impl Clamd {
    /// Starts clamd on a Unix socket, or `None` when it is not installed outside CI (in CI
    /// it must be).
    fn start() -> Option<Clamd> {
        Self::start_with(None)
    }

    /// [`Clamd::start`], also listening on `127.0.0.1:<port>` when a port is given.
    fn start_with(tcp_port: Option<u16>) -> Option<Clamd> {
        let Some(bin) = ["/usr/sbin/clamd", "/usr/bin/clamd"].into_iter().map(PathBuf::from).find(|p| p.exists())
        else {
            bulwark_testkit::skip_unless_ci("clamd is not installed (scripts/setup-dev.sh installs clamav-daemon)");
            return None;
        };
        let dir = tempfile::tempdir().unwrap();
        let db = shared().join("malware/clamav-test-db");
        std::fs::create_dir(dir.path().join("tmp")).unwrap();
        let conf = dir.path().join("clamd.conf");
        std::fs::write(
            &conf,
            format!(
                "LocalSocket {sock}\nDatabaseDirectory {db}\nForeground yes\nTemporaryDirectory {tmp}\nLogFile {log}\nLogClean yes\nStreamMaxLength 25M\nMaxThreads 8\n",
                sock = dir.path().join("clamd.sock").display(),
                db = db.display(),
                tmp = dir.path().join("tmp").display(),
                log = dir.path().join("clamd.log").display(),
            ) + &tcp_port.map(|p| format!("TCPSocket {p}\nTCPAddr 127.0.0.1\n")).unwrap_or_default(),
        )
        .unwrap();
        let child = Command::new(bin)
            .arg("-c")
            .arg(&conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start clamd");
        let clamd = Clamd { child, dir };
        let deadline = Instant::now() + Duration::from_secs(60);
        while !clamd.answers() {
            assert!(Instant::now() < deadline, "clamd did not come up: {}", clamd.log());
            std::thread::sleep(Duration::from_millis(100));
        }
        Some(clamd)
    }

    fn socket(&self) -> String {
        self.dir.path().join("clamd.sock").display().to_string()
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("clamd.log")).unwrap_or_default()
    }

    fn answers(&self) -> bool {
        use std::io::{Read, Write};
        let Ok(mut s) = std::os::unix::net::UnixStream::connect(self.socket()) else { return false };
        let mut reply = String::new();
        s.write_all(b"zPING\0").is_ok()
            && s.read_to_string(&mut reply).is_ok()
            && reply.trim_matches(['\0', '\n']) == "PONG"
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Clamd {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Writes a one-layer image of `items` and returns its reference.
fn image(tmp: &Path, items: Vec<Item>) -> String {
    let built = build_with_config(&[Layer { compression: Compression::Gzip, items }], "amd64", json!({"Cmd": ["sh"]}));
    let layout = tmp.join("img");
    write_oci_layout(&layout, &built, "1");
    format!("oci:{}:1", layout.display())
}

fn scan(tmp: &Path, reference: &str, clamd: &str, extra: &[&str]) -> (Option<i32>, Value, String) {
    let cache = tmp.join("cache");
    let mut args = vec![
        "scan",
        reference,
        "--scanners",
        "malware",
        "--malware-engine",
        "yara,clamav",
        "--clamd",
        clamd,
        "--format",
        "json",
        "--no-progress",
    ];
    args.extend_from_slice(extra);
    let out = bulwark_in(tmp, &args, &cache);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let report = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out.status.code(), report, stderr)
}

fn malware(report: &Value) -> Vec<(String, String, String, u64)> {
    report["malware"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|m| {
                    (
                        m["engine"].as_str().unwrap_or("").to_owned(),
                        m["rule"].as_str().unwrap_or("").to_owned(),
                        m["location"]["path"].as_str().unwrap_or("").to_owned(),
                        m["location"]["layer"].as_u64().unwrap_or(99),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn every_clamav_test_file_is_found_through_clamd() {
    let Some(clamd) = Clamd::start() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let dir = shared().join("malware/clamav-testfiles");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("clam"))
        .collect();
    names.sort();
    // SOURCE.md: 44 files, every one flagged by clamscan with the two-line test database.
    assert_eq!(names.len(), 44, "{names:?}");
    let mut items = vec![dir_item("samples")];
    for n in &names {
        items.push(Item::File(format!("samples/{n}"), std::fs::read(dir.join(n)).unwrap()));
    }
    let reference = image(tmp.path(), items);
    let (code, report, stderr) = scan(tmp.path(), &reference, &clamd.socket(), &[]);
    assert_eq!(code, Some(0), "{stderr}");
    let found = malware(&report);
    let clam: Vec<&(String, String, String, u64)> = found.iter().filter(|f| f.0 == "clamav").collect();
    let mut missing = Vec::new();
    for n in &names {
        let path = format!("/samples/{n}");
        let hit = clam.iter().any(|(_, rule, p, layer)| {
            rule == "ClamAV-Test-File.UNOFFICIAL" && *layer == 0 && (p == &path || p.starts_with(&format!("{path}!")))
        });
        if !hit {
            missing.push(n.clone());
        }
    }
    assert!(missing.is_empty(), "not found through clamd: {missing:?}\n{found:#?}");
    // Formats our own walker does not open are found at the file itself…
    assert!(clam.iter().any(|f| f.2 == "/samples/clam.7z"), "{clam:#?}");
    assert!(clam.iter().any(|f| f.2 == "/samples/clam.ole.doc"), "{clam:#?}");
    // …and hits in archives we open are narrowed down to the member.
    assert!(clam.iter().any(|f| f.2 == "/samples/clam.zip!clam.exe"), "{clam:#?}");
    // Every finding of the second engine is also a valid report.
    assert!(report["malware"].as_array().unwrap().iter().all(|m| m["source"] == "clamd" || m["engine"] == "yara"));
}

fn dir_item(p: &str) -> Item {
    Item::Dir(p.into())
}

/// `/opt/a.tar.gz` holding the EICAR zip, and the EICAR zip-in-zip beside it.
fn eicar_items() -> Vec<Item> {
    let eicar = shared().join("malware/eicar");
    let zip = std::fs::read(eicar.join("eicar_com.zip")).unwrap();
    let tar = tar_bytes(&[Item::File("eicar_com.zip".into(), zip)]);
    vec![
        dir_item("opt"),
        Item::File("opt/a.tar.gz".into(), compress(&tar, Compression::Gzip)),
        Item::File("opt/eicarcom2.zip".into(), std::fs::read(eicar.join("eicarcom2.zip")).unwrap()),
    ]
}

#[test]
fn eicar_in_nested_archives_is_found_by_both_engines_from_bulwark_yaml() {
    let Some(clamd) = Clamd::start() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let reference = image(tmp.path(), eicar_items());
    // The engines and the socket from bulwark.yaml, as users configure them.
    std::fs::write(
        tmp.path().join("bulwark.yaml"),
        format!("scanners: [malware]\nmalware-engine: [yara, clamav]\nclamd: {}\n", clamd.socket()),
    )
    .unwrap();
    let out =
        bulwark_in(tmp.path(), &["scan", &reference, "--format", "json", "--no-progress"], &tmp.path().join("cache"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let found = malware(&report);
    for path in ["/opt/a.tar.gz!eicar_com.zip!eicar.com", "/opt/eicarcom2.zip!eicar_com.zip!eicar.com"] {
        for engine in ["yara", "clamav"] {
            assert!(
                found.iter().any(|(e, rule, p, layer)| e == engine
                    && p == path
                    && *layer == 0
                    && rule.to_lowercase().contains("eicar")),
                "{engine} at {path}: {found:#?}"
            );
        }
    }
    let clam = found.iter().find(|f| f.0 == "clamav").unwrap();
    assert_eq!(clam.1, "Eicar-Test-Signature.UNOFFICIAL");
}

#[test]
fn clamd_over_tcp() {
    // A free loopback port: bound to 0 and released for clamd (which takes a fixed port).
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let Some(_clamd) = Clamd::start_with(Some(port)) else { return };
    let tmp = tempfile::tempdir().unwrap();
    let reference = image(tmp.path(), eicar_items());
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "clamd is not listening on {port}");
        std::thread::sleep(Duration::from_millis(100));
    }
    let (code, report, stderr) = scan(tmp.path(), &reference, &format!("tcp://127.0.0.1:{port}"), &[]);
    assert_eq!(code, Some(0), "{stderr}");
    let found = malware(&report);
    assert!(found.iter().any(|f| f.0 == "clamav" && f.2 == "/opt/a.tar.gz!eicar_com.zip!eicar.com"), "{found:#?}");
}

#[test]
fn a_clean_debian_minbase_gives_no_finding_from_either_engine() {
    let Some(tar) = std::env::var_os("BULWARK_MINBASE_TAR") else {
        bulwark_testkit::skip_unless_ci("BULWARK_MINBASE_TAR is not set (scripts/minbase.sh prints it)");
        return;
    };
    let Some(clamd) = Clamd::start() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let built = build_from_tars(vec![(std::fs::read(Path::new(&tar)).unwrap(), Compression::None)], "amd64", json!({}));
    let layout = tmp.path().join("img");
    write_oci_layout(&layout, &built, "1");
    let reference = format!("oci:{}:1", layout.display());
    let (code, report, stderr) = scan(tmp.path(), &reference, &clamd.socket(), &[]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(malware(&report), [], "{stderr}");
    // clamd really looked: its log lists the streams it scanned.
    assert!(clamd.log().matches("stream(").count() > 1000, "{}", clamd.log().len());
}

#[test]
fn unreachable_clamd_is_an_error_never_a_skip() {
    let tmp = tempfile::tempdir().unwrap();
    let reference = image(tmp.path(), eicar_items());
    let sock = tmp.path().join("no-clamd.sock").display().to_string();
    let (code, report, stderr) = scan(tmp.path(), &reference, &sock, &[]);
    assert_eq!(code, Some(2), "{stderr}");
    assert_eq!(report, Value::Null, "no report on stdout");
    assert!(stderr.contains("not reachable"), "{stderr}");
    let (code, _, stderr) = scan(tmp.path(), &reference, "127.0.0.1:1", &[]);
    assert_eq!(code, Some(2), "{stderr}");
}

#[test]
fn clamd_killed_mid_scan_fails_the_scan_and_caches_nothing_incomplete() {
    let Some(mut clamd) = Clamd::start() else { return };
    let tmp = tempfile::tempdir().unwrap();
    // Enough files that the scan is still streaming when clamd dies; EICAR last.
    let mut items = vec![dir_item("data")];
    for i in 0..4000u32 {
        let body: Vec<u8> =
            (0..4096u32).map(|j| (i.wrapping_mul(2_654_435_761) ^ j.wrapping_mul(40_503)) as u8).collect();
        items.push(Item::File(format!("data/f{i:05}.bin"), body));
    }
    items.extend(eicar_items());
    let reference = image(tmp.path(), items);
    let cache = tmp.path().join("cache");
    let mut child = Command::new(env!("CARGO_BIN_EXE_bulwark"))
        .args(["scan", &reference, "--scanners", "malware", "--malware-engine", "yara,clamav"])
        .args(["--clamd", &clamd.socket(), "--format", "json", "--no-progress"])
        .current_dir(tmp.path())
        .env("BULWARK_CACHE_DIR", &cache)
        .env("HOME", &cache)
        .env_remove("XDG_CACHE_HOME")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until clamd has scanned some of the image's files, then kill it.
    let deadline = Instant::now() + Duration::from_secs(120);
    while clamd.log().matches("stream(").count() < 20 {
        assert!(Instant::now() < deadline, "clamd never saw the scan: {}", clamd.log());
        assert!(child.try_wait().unwrap().is_none(), "the scan ended before clamd was killed");
        std::thread::sleep(Duration::from_millis(20));
    }
    clamd.kill();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(out.stdout.is_empty(), "no report after a failed engine");
    assert!(stderr.contains("clamd"), "{stderr}");

    // A new clamd, the same cache: the layer is scanned again (nothing incomplete was
    // cached), and EICAR is found by clamd.
    let Some(clamd) = Clamd::start() else { return };
    let (code, report, stderr) = scan(tmp.path(), &reference, &clamd.socket(), &[]);
    assert_eq!(code, Some(0), "{stderr}");
    let found = malware(&report);
    assert!(found.iter().any(|f| f.0 == "clamav" && f.2 == "/opt/a.tar.gz!eicar_com.zip!eicar.com"), "{found:#?}");
}
