//! The gate never passes what it could not check (issue 10 item 4, issue 12 "coverage
//! awareness" and "a gate that does not move with display flags"), through the binary, with
//! real data from `../shared`: the Debian ELTS OSV feed (Debian 7–10 only), claircore's dpkg
//! status files, the EICAR files.
//!
//! Each test first sets up what a user met (a broken or missing database, a database without
//! the image's ecosystem, a scanner left out, a display filter) and then checks that the
//! answer is no longer a silent clean.

use crate::support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;
use support::bulwark_in;

/// The shared data folder, checked to hold `advisories/debian-elts-osv`.
fn shared() -> PathBuf {
    bulwark_testkit::shared_dir("advisories/debian-elts-osv");
    bulwark_testkit::shared()
}

struct Env {
    tmp: tempfile::TempDir,
}

impl Env {
    fn new() -> Env {
        Env { tmp: tempfile::tempdir().unwrap() }
    }

    fn path(&self, p: &str) -> PathBuf {
        self.tmp.path().join(p)
    }

    fn run(&self, args: &[&str]) -> Output {
        bulwark_in(self.tmp.path(), args, &self.path("cache"))
    }

    /// A database built from the Debian ELTS feed alone: Debian 7–10, no Debian 12.
    fn elts_db(&self, name: &str) -> PathBuf {
        let db = self.path(name);
        let feed = shared().join("advisories/debian-elts-osv/advisories");
        let out = self.run(&["db", "build", "--db", s(&db), "--osv", &format!("elts={}", feed.display())]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        db
    }

    /// A root filesystem of Debian `release` with claircore's 357-package texlive status file.
    fn debian_root(&self, release: &str) -> PathBuf {
        let root = self.path(&format!("debian{release}"));
        fs::create_dir_all(root.join("etc")).unwrap();
        fs::create_dir_all(root.join("var/lib/dpkg")).unwrap();
        let os_release =
            shared().join(format!("fixtures/os-pkgdb/claircore/debian/testdata/dist/{release}/etc/os-release"));
        fs::copy(&os_release, root.join("etc/os-release")).unwrap();
        let status = shared().join("fixtures/os-pkgdb/claircore/dpkg/testdata/texlive.status");
        fs::copy(&status, root.join("var/lib/dpkg/status")).unwrap();
        root
    }

    fn policy(&self, name: &str, rules: &str) -> PathBuf {
        let p = self.path(name);
        fs::write(&p, format!("apiVersion: bulwark.dev/v1\nkind: ImageAssertion\nname: {name}\n{rules}")).unwrap();
        p
    }
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The JSON report on stdout, checked against schemas/report.schema.json.
fn json(o: &Output) -> Value {
    let report: Value =
        serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}\n{}", stdout(o), stderr(o)));
    if report.get("bulwark_version").is_some() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schemas/report.schema.json");
        let schema: Value = serde_json::from_slice(&fs::read(path).unwrap()).unwrap();
        let validator = jsonschema::options().build(&schema).unwrap();
        let errors: Vec<String> =
            validator.iter_errors(&report).map(|e| format!("{e} at {}", e.instance_path())).take(20).collect();
        assert!(errors.is_empty(), "{errors:#?}");
    }
    report
}

/// The reasons (codes) of the report's `not_checked` entries.
fn not_checked(report: &Value) -> Vec<(String, String)> {
    report["not_checked"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|n| (n["reason"].as_str().unwrap().to_owned(), n["scope"].as_str().unwrap_or("").to_owned()))
                .collect()
        })
        .unwrap_or_default()
}

/// The ids of the built-in rule's violations.
fn incomplete(report: &Value) -> Vec<String> {
    let rules = report["policy"]["rules"].as_array().expect("a verdict");
    let rule = rules.iter().find(|r| r["id"] == "checks-complete").expect("the built-in rule is in every verdict");
    rule["violations"]
        .as_array()
        .map(|v| v.iter().map(|x| x["id"].as_str().unwrap().to_owned()).collect())
        .unwrap_or_default()
}

const KEV_ONLY: &str =
    "rules:\n  - id: no-kev\n    description: nothing exploited\n    action: deny\n    deny_kev: true\n";

#[test]
fn damaged_databases_are_refused_by_import_and_never_pass_a_scan() {
    let env = Env::new();
    let good = env.elts_db("good.db");
    let good_bytes = fs::read(&good).unwrap();
    let root = env.debian_root("10");
    let policy = env.policy("kev", KEV_ONLY);
    let scan = |db: &Path| {
        env.run(&[
            "scan",
            &format!("dir:{}", root.display()),
            "--db",
            s(db),
            "--scanners",
            "vuln",
            "--policy",
            s(&policy),
            "-f",
            "json",
            "-q",
        ])
    };

    // With the good database the Debian 10 image is checked in full and passes.
    let ok = scan(&good);
    assert_eq!(ok.status.code(), Some(0), "{}", stderr(&ok));
    let ok_report = json(&ok);
    assert!(not_checked(&ok_report).is_empty(), "{:?}", ok_report["not_checked"]);
    let found = ok_report["vulnerabilities"].as_array().unwrap().len();
    assert!(found > 50, "{found}");
    let good_digest = ok_report["database"]["digest"].as_str().unwrap().to_owned();

    // What the user did: 64 KiB zeroed in the middle of the file. Lookups used to turn into a
    // warning and an empty result, and the policy passed with exit 0.
    let zeroed = env.path("zeroed.db");
    let mut bytes = good_bytes.clone();
    let mid = bytes.len() / 2 - 32 * 1024;
    bytes[mid..mid + 64 * 1024].fill(0);
    fs::write(&zeroed, &bytes).unwrap();
    let out = scan(&zeroed);
    assert_eq!(out.status.code(), Some(1), "a damaged database must not pass: {}", stderr(&out));
    let report = json(&out);
    assert!(
        not_checked(&report).contains(&("lookup-failed".into(), "Debian:10".into())),
        "{:?}",
        report["not_checked"]
    );
    assert_eq!(incomplete(&report), ["lookup-failed"]);
    assert!(report["vulnerabilities"].as_array().unwrap().len() < found);

    // Each kind of damage: `db import` refuses it, says why, and leaves the installed database
    // as it was, byte for byte, without printing its digest as if it were the new one.
    let truncated = env.path("truncated.db");
    fs::write(&truncated, &good_bytes[..good_bytes.len() / 3]).unwrap();
    let wrong_digest = env.path("wrong-digest.db");
    fs::copy(&good, &wrong_digest).unwrap();
    {
        // Rewrite the stated digest with SQLite itself, as a tampered or half-written file would.
        let c = rusqlite_free_update(&wrong_digest);
        assert!(c, "could not rewrite the digest");
    }
    let not_sqlite = env.path("not-sqlite.db");
    fs::write(&not_sqlite, "this is not a database\n".repeat(500)).unwrap();
    let directory = env.path("a-directory");
    fs::create_dir(&directory).unwrap();
    let installed = env.path("installed.db");
    for (bad, why) in [
        (&zeroed, "integrity check"),
        (&truncated, "truncated"),
        (&wrong_digest, "content digest is"),
        (&not_sqlite, "not an SQLite database"),
        (&directory, "is a directory"),
    ] {
        fs::copy(&good, &installed).unwrap();
        let out = env.run(&["db", "import", s(bad), "--db", s(&installed)]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{}: {err}", bad.display());
        assert!(err.contains(why), "{}: {err}", bad.display());
        assert!(
            err.starts_with("error: ") && err.lines().skip(1).all(|l| l.starts_with("hint: ")),
            "one line plus hints: {err}"
        );
        // Nothing claims to have been written (the digest printed after "wrote" used to be
        // the old file's).
        assert!(!err.contains("wrote "), "{err}");
        assert!(fs::read(&installed).unwrap() == good_bytes, "{}: the installed database changed", bad.display());
    }

    // Opened for a scan, the kinds SQLite cannot read are errors (exit 2) that say why.
    for (bad, why) in
        [(&truncated, "truncated"), (&not_sqlite, "not an SQLite database"), (&directory, "is a directory")]
    {
        let out = scan(bad);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{}: {err}", bad.display());
        assert!(err.contains(why), "{err}");
    }
    let out = scan(&directory);
    assert!(
        stderr(&out)
            .contains(&format!("hint: name the file inside it, e.g. {}", directory.join("bulwark.db").display())),
        "{}",
        stderr(&out)
    );

    // A good file imports, and what is printed is the imported file's digest.
    let out = env.run(&["db", "import", s(&good), "--db", s(&env.path("fresh.db"))]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains(&good_digest), "{}", stderr(&out));
}

/// Rewrites `meta.content_digest` in place with the python3 sqlite3 module (the test crate has
/// no SQLite binding of its own).
fn rusqlite_free_update(path: &Path) -> bool {
    let script = format!(
        "import sqlite3; c = sqlite3.connect({:?}); c.execute(\"UPDATE meta SET value = 'sha256:' || ? WHERE key = 'content_digest'\", ('0' * 64,)); c.commit()",
        s(path)
    );
    std::process::Command::new("python3").args(["-c", &script]).status().expect("python3").success()
}

#[test]
fn no_database_is_not_checked_and_fails_a_policy() {
    let env = Env::new();
    let root = env.debian_root("10");
    let target = format!("dir:{}", root.display());
    // No database anywhere (HOME is the test's own directory).
    let out = env.run(&["scan", &target, "--scanners", "vuln", "-f", "json", "-q"]);
    assert_eq!(out.status.code(), Some(0), "without a policy a scan still exits 0: {}", stderr(&out));
    assert_eq!(not_checked(&json(&out)), [("no-database".to_owned(), String::new())]);
    let table = env.run(&["scan", &target, "--scanners", "vuln", "-q"]);
    assert!(stdout(&table).contains("Not checked"), "{}", stdout(&table));
    assert!(stdout(&table).contains("no advisory database"), "{}", stdout(&table));

    // What the user saw: "vulnerabilities were not checked", then the vulnerability rules
    // passed and the gate went green.
    let policy = env.policy("kev", KEV_ONLY);
    let out = env.run(&["scan", &target, "--scanners", "vuln", "--policy", s(&policy), "-f", "json", "-q"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(incomplete(&json(&out)), ["no-database"]);

    // An exception naming the built-in rule is the one way to accept it, and it is reported.
    let excused = env.policy(
        "excused",
        &format!(
            "{KEV_ONLY}exceptions:\n  - id: checks-complete\n    reason: SBOM-only run\n    owner: sec@example.com\n    expires: 2026-12-31\n"
        ),
    );
    let out = env.run(&["scan", &target, "--scanners", "vuln", "--policy", s(&excused), "-f", "json", "-q"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(json(&out)["policy"]["exceptions"][0]["status"], "applied");
}

#[test]
fn an_ecosystem_the_database_lacks_is_said_and_fails_the_gate() {
    let env = Env::new();
    let db = env.elts_db("elts.db");
    let root = env.debian_root("12");
    let target = format!("dir:{}", root.display());
    // What the user saw: 357 Debian 12 packages, 0 vulnerabilities, no warning, a pass.
    let out = env.run(&["scan", &target, "--db", s(&db), "--scanners", "vuln", "-f", "json", "-q"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report = json(&out);
    assert_eq!(report["packages"].as_array().unwrap().len(), 357);
    assert_eq!(not_checked(&report), [("ecosystem-missing".to_owned(), "Debian:12".to_owned())]);
    let warnings = report["warnings"].as_array().unwrap();
    assert!(
        warnings.iter().any(|w| w["message"]
            .as_str()
            .unwrap()
            .contains("the advisory database has no Debian:12 advisories: 357 packages")),
        "{warnings:?}"
    );
    let table = env.run(&["scan", &target, "--db", s(&db), "--scanners", "vuln", "-q"]);
    let header: String = stdout(&table).lines().take_while(|l| !l.is_empty()).collect::<Vec<_>>().join("\n");
    assert!(header.contains("Not checked") && header.contains("Debian:12"), "{header}");
    let md = env.run(&["scan", &target, "--db", s(&db), "--scanners", "vuln", "-q", "-f", "markdown"]);
    assert!(stdout(&md).contains("Not checked") && stdout(&md).contains("Debian:12"), "{}", stdout(&md));

    let policy = env.policy("kev", KEV_ONLY);
    let out =
        env.run(&["scan", &target, "--db", s(&db), "--scanners", "vuln", "--policy", s(&policy), "-f", "json", "-q"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(incomplete(&json(&out)), ["ecosystem-missing"]);

    // `db status` lists what the database covers: Debian 7 to 10, nothing else.
    let status = env.run(&["db", "status", "--db", s(&db), "-f", "json"]);
    assert_eq!(status.status.code(), Some(0), "{}", stderr(&status));
    let status = json(&status);
    let ecosystems: Vec<&str> =
        status["ecosystems"].as_array().unwrap().iter().map(|e| e["ecosystem"].as_str().unwrap()).collect();
    assert!(ecosystems.contains(&"Debian:10") && !ecosystems.contains(&"Debian:12"), "{ecosystems:?}");
    assert!(status["ecosystems"][0]["newest_modified"].is_string());
    assert!(status["sources"][0]["fetched_at"].is_string());
}

#[test]
fn a_policy_rule_whose_scanner_did_not_run_fails() {
    let env = Env::new();
    let root = env.path("root");
    fs::create_dir_all(root.join("opt")).unwrap();
    for i in 0..5 {
        fs::copy(shared().join("malware/eicar/eicar.com"), root.join(format!("opt/eicar{i}.com"))).unwrap();
    }
    fs::write(
        root.join("opt/settings.env"),
        "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\nAWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n",
    )
    .unwrap();
    let target = format!("dir:{}", root.display());
    let policy = env.policy(
        "files",
        "rules:\n  - id: no-malware\n    description: no malware\n    action: deny\n    deny_malware: true\n  - id: no-secrets\n    description: no secrets\n    action: deny\n    deny_secrets: true\n",
    );
    // What the user ran: only the vulnerability scanner, with a policy that denies malware
    // and secrets. Those rules used to pass because nothing looked.
    let out = env.run(&["scan", &target, "--scanners", "vuln", "--policy", s(&policy), "-f", "json", "-q"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let report = json(&out);
    let rules = report["policy"]["rules"].as_array().unwrap();
    let built_in = rules.iter().find(|r| r["id"] == "checks-complete").unwrap();
    let targets: Vec<&str> =
        built_in["violations"].as_array().unwrap().iter().map(|v| v["target"].as_str().unwrap()).collect();
    assert_eq!(targets, ["malware", "secret"]);
    assert!(built_in["violations"][0]["message"].as_str().unwrap().contains("rule `no-malware` judged nothing"));
    assert_eq!(built_in["violations"][0]["kind"], "not-checked");

    // With the scanners on, the same policy fails on what they find, and the built-in rule passes.
    let out = env.run(&["scan", &target, "--scanners", "malware,secret", "--policy", s(&policy), "-f", "json", "-q"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let report = json(&out);
    assert_eq!(report["malware"].as_array().unwrap().len(), 5);
    assert!(incomplete(&report).is_empty());

    // Files a scanner skipped for a limit are not checked either.
    let out = env.run(&[
        "scan",
        &target,
        "--scanners",
        "malware,secret",
        "--max-scan-file-bytes",
        "16",
        "--policy",
        s(&policy),
        "-f",
        "json",
        "-q",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let report = json(&out);
    assert!(
        incomplete(&report).iter().all(|id| id == "skipped-by-limit") && !incomplete(&report).is_empty(),
        "{:?}",
        incomplete(&report)
    );
}

#[test]
fn display_filters_never_move_the_gate() {
    let env = Env::new();
    let db = env.elts_db("elts.db");
    let root = env.debian_root("10");
    let target = format!("dir:{}", root.display());
    let base = ["scan", &target, "--db", s(&db), "--scanners", "vuln", "--no-progress"];
    let run = |extra: &[&str]| {
        let mut args = base.to_vec();
        args.extend_from_slice(extra);
        env.run(&args)
    };
    let all = json(&run(&["-f", "json"]));
    let total = all["vulnerabilities"].as_array().unwrap().len();
    // ELTS records state no severity: every finding is unknown, and counted as such.
    assert!(total > 50 && all["vulnerabilities"].as_array().unwrap().iter().all(|v| v["severity"] == "unknown"));
    let table = stdout(&run(&[]));
    assert!(table.contains(&format!("{total} unknown")), "{table}");

    // A policy that treats unknown as high and denies fixable highs.
    let policy = env.policy(
        "highs",
        "unknown_severity: high\nrules:\n  - id: no-fixable-high\n    description: no fixable high\n    action: deny\n    max_severity_counts: {high: 0}\n    fixable_only: true\n",
    );
    // The user displays only criticals: nothing is shown, yet the gate still fails.
    let out = run(&["--policy", s(&policy), "--severity", "critical", "-f", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let report = json(&out);
    assert!(report["vulnerabilities"].as_array().unwrap().is_empty());
    assert_eq!(report["hidden_by_filters"], total);
    let rule = &report["policy"]["rules"][0];
    assert_eq!(rule["violations"].as_array().unwrap().len(), total);
    let table = run(&["--policy", s(&policy), "--severity", "critical", "--ignore-unfixed"]);
    assert_eq!(table.status.code(), Some(1));
    assert!(stdout(&table).contains(&format!("{total} findings hidden by filters")), "{}", stdout(&table));

    // Without a policy: --fail-on and --exit-code, also blind to display filters.
    let out = run(&["--fail-on", "high", "--severity", "critical"]);
    assert_eq!(out.status.code(), Some(1), "unknown severity may be anything: {}", stderr(&out));
    let out = run(&["--fail-on", "critical", "--exit-code", "7", "--ignore-unfixed", "--severity", "low"]);
    assert_eq!(out.status.code(), Some(7), "{}", stderr(&out));
    assert!(stderr(&out).contains("exit code 7"), "{}", stderr(&out));
    // Nothing found and everything checked: 0.
    let clean = env.path("clean");
    fs::create_dir_all(clean.join("etc")).unwrap();
    fs::copy(root.join("etc/os-release"), clean.join("etc/os-release")).unwrap();
    let out = env.run(&[
        "scan",
        &format!("dir:{}", clean.display()),
        "--db",
        s(&db),
        "--scanners",
        "vuln",
        "-q",
        "--fail-on",
        "low",
        "--exit-code",
        "7",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // Not checked (no database) fails --fail-on too.
    let out = env.run(&["scan", &format!("dir:{}", clean.display()), "--scanners", "vuln", "-q", "--fail-on", "low"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
}

#[test]
fn the_yara_cache_stays_under_the_cache_dir() {
    let env = Env::new();
    let root = env.path("root");
    fs::create_dir_all(&root).unwrap();
    fs::write(root.join("hello.txt"), "hello\n").unwrap();
    let parent = env.path("caches");
    let cache = parent.join("mine");
    let out =
        env.run(&["scan", &format!("dir:{}", root.display()), "--scanners", "malware", "--cache-dir", s(&cache), "-q"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let beside: Vec<_> = fs::read_dir(&parent).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(beside, ["mine"], "nothing may be written beside --cache-dir");
    assert!(cache.join("yara").is_dir(), "the compiled rules are cached under --cache-dir");
}
