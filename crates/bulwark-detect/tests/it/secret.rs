//! The secret scanner: every built-in rule with a positive and a near miss, redaction,
//! allowlists, the image config, a key deleted by a later layer in a real image, the real
//! gitleaks rule file, and a false-positive sweep over this machine's text files.

use bulwark_testkit::image as fixture;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use bulwark_core::Reference;
use bulwark_detect::secret::{SecretConfig, SecretScanner, base62, findings, scan_image_config};
use bulwark_image::layer::FileAnalyzer;
use bulwark_image::spec::{Compression, ImageConfig};
use bulwark_image::{NoCache, NoProgress, ReadOptions, read_image};
use fixture::*;

fn scanner() -> SecretScanner {
    SecretScanner::new(&SecretConfig::default()).unwrap()
}

/// The rule ids found in `text` as a file at `path`.
fn rules_in(s: &SecretScanner, path: &str, text: &str) -> Vec<String> {
    let mut v: Vec<String> = s.scan_bytes(path, text.as_bytes()).into_iter().map(|h| h.0).collect();
    v.dedup();
    v
}

/// Asserts that `positive` is found by `rule` (and its preview hides `secret`) and that
/// `negative` is not found by it.
fn check(rule: &str, positive: &str, secret: &str, negative: &str) {
    let s = scanner();
    let hits = s.scan_bytes("app/config.txt", positive.as_bytes());
    let hit = hits.iter().find(|h| h.0 == rule).unwrap_or_else(|| panic!("{rule} not found in {positive:?}: {hits:?}"));
    assert!(!hit.2.contains(secret), "{rule}: preview {:?} shows the secret", hit.2);
    assert_eq!(hit.3.len(), 32, "fingerprint is 16 hex bytes");
    assert!(
        !rules_in(&s, "app/config.txt", negative).contains(&rule.to_owned()),
        "{rule} wrongly found in {negative:?}"
    );
}

/// A random-looking alphanumeric string of `n` characters from `seed`.
fn random_alnum(seed: u64, n: usize) -> String {
    let mut x = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"[(x % 62) as usize] as char
        })
        .collect()
}

/// A token in GitHub's classic layout: prefix, 30 random characters, base62 CRC32.
fn checksummed(prefix: &str, seed: u64) -> String {
    let random = random_alnum(seed, 30);
    format!("{prefix}{random}{}", base62(u64::from(crc32fast::hash(random.as_bytes())), 6))
}

#[test]
fn aws_documented_example_keys_are_found() {
    check(
        "aws-access-key-id",
        "aws_access_key_id = AKIAIOSFODNN7EXAMPLE\n",
        "AKIAIOSFODNN7EXAMPLE",
        "id = AKIAIOSFODNN7EXAMPL\n",
    );
    check(
        "aws-secret-access-key",
        "[default]\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        // 40 characters, but with no AWS context.
        "checksum = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n",
    );
}

#[test]
fn github_tokens_need_a_valid_checksum() {
    for (i, prefix) in ["ghp_", "gho_", "ghu_", "ghs_", "ghr_"].iter().enumerate() {
        let token = checksummed(prefix, i as u64 + 1);
        assert!(bulwark_detect::secret::checksum_ok(token.as_bytes()));
        let mut wrong = token.clone();
        let last = wrong.pop().unwrap();
        wrong.push(if last == 'a' { 'b' } else { 'a' });
        check("github-token", &format!("GITHUB_TOKEN={token}\n"), &token, &format!("GITHUB_TOKEN={wrong}\n"));
    }
    let fine = format!("github_pat_{}_{}", random_alnum(9, 22), random_alnum(10, 59));
    check("github-fine-grained-token", &format!("token: {fine}\n"), &fine, &format!("token: {}\n", &fine[..60]));
}

#[test]
fn npm_tokens_need_a_valid_checksum() {
    let token = checksummed("npm_", 42);
    let wrong = format!("npm_{}", random_alnum(43, 36));
    check(
        "npm-token",
        &format!("//registry.npmjs.org/:_authToken={token}\n"),
        &token,
        &format!("_authToken={wrong}\n"),
    );
}

#[test]
fn cloud_and_service_tokens() {
    let gcp_key = format!("AIza{}", random_alnum(5, 35));
    check("gcp-api-key", &format!("key={gcp_key}\n"), &gcp_key, &format!("key=AIza{}\n", random_alnum(5, 20)));
    let sa = r#"{
  "type": "service_account",
  "project_id": "demo",
  "private_key_id": "0123456789abcdef0123456789abcdef01234567",
  "private_key": "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj\nMzEfYyjiWA4R4/M2bS1GB4t7NXp98C3SC6dVMvDuictGeurT8jNbvJZHtCSuYEvu\n-----END PRIVATE KEY-----\n"
}"#;
    check(
        "gcp-service-account-key",
        sa,
        "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj",
        r#"{"type": "service_account", "client_email": "a@b"}"#,
    );
    let account_key = format!("{}==", random_alnum(7, 86));
    check(
        "azure-storage-account-key",
        &format!(
            "DefaultEndpointsProtocol=https;AccountName=demo;AccountKey={account_key};EndpointSuffix=core.windows.net\n"
        ),
        &account_key,
        &format!("AccountKey={}==\n", random_alnum(7, 40)),
    );
    let glpat = format!("glpat-{}", random_alnum(11, 20));
    check("gitlab-token", &format!("token = \"{glpat}\"\n"), &glpat, "token = \"glpat-short\"\n");
    let slack = format!("xoxb-1234567890-1234567890123-{}", random_alnum(12, 24));
    check("slack-token", &format!("SLACK={slack}\n"), &slack, "SLACK=xoxb-notatoken\n");
    let hook = format!("T{}/B{}/{}", random_alnum(13, 8), random_alnum(14, 10), random_alnum(15, 24));
    check(
        "slack-webhook-url",
        &format!("url: https://hooks.slack.com/services/{hook}\n"),
        &hook,
        "url: https://hooks.slack.com/services/\n",
    );
    let stripe = format!("sk_live_{}", random_alnum(16, 24));
    check(
        "stripe-secret-key",
        &format!("STRIPE={stripe}\n"),
        &stripe,
        &format!("STRIPE=sk_test_{}\n", random_alnum(16, 24)),
    );
    let pypi = format!("pypi-AgEIcHlwaS5vcmc{}", random_alnum(17, 60));
    check("pypi-token", &format!("password = {pypi}\n"), &pypi, "password = pypi-AgEIcHlwaS5vcmc\n");
}

#[test]
fn jwts_need_a_header_with_an_algorithm() {
    use base64::Engine as _;
    let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    let jwt = format!(
        "{}.{}.{}",
        b64(r#"{"alg":"HS256","typ":"JWT"}"#),
        b64(r#"{"sub":"1234567890"}"#),
        random_alnum(18, 43)
    );
    let not_jwt =
        format!("{}.{}.{}", b64(r#"{"typ":"JWT","x":1}"#), b64(r#"{"sub":"1234567890"}"#), random_alnum(18, 43));
    check("jwt", &format!("Authorization: Bearer {jwt}\n"), &jwt, &format!("Authorization: Bearer {not_jwt}\n"));
}

#[test]
fn database_urls_and_generic_assignments() {
    check(
        "database-url-password",
        "DATABASE_URL=postgres://app:Zq8v3Lr0pW@db.internal:5432/app\n",
        "Zq8v3Lr0pW",
        "DATABASE_URL=postgres://app:${DB_PASSWORD}@db.internal:5432/app\n",
    );
    for url in [
        "mysql://root:Zq8v3Lr0pW@db/x",
        "mongodb+srv://u:Zq8v3Lr0pW@cluster0.example.net",
        "redis://:Zq8v3Lr0pW@cache:6379",
    ] {
        check("database-url-password", &format!("url = {url}\n"), "Zq8v3Lr0pW", "url = postgres://app@db/app\n");
    }
    check(
        "generic-secret",
        "db_password = \"S3cr3t!Pa55w0rd#2024\"\n",
        "S3cr3t!Pa55w0rd#2024",
        "db_password = \"changeme\"\n",
    );
    check("generic-secret", "api_key: 9fK2mQx7Lp3Zr8Vt\n", "9fK2mQx7Lp3Zr8Vt", "api_key: <your-api-key>\n");
    let s = scanner();
    for placeholder in [
        "password = ${DB_PASSWORD}",
        "password=xxxxxxxxxxxx",
        "secret = self.client_secret",
        "password = os.environ.get('PW')",
        "token: example-token-value-1",
        "password: %(db_password)s",
    ] {
        assert!(rules_in(&s, "app/settings.py", placeholder).is_empty(), "{placeholder}");
    }
}

fn generated_keys(dir: &Path) -> Vec<(String, PathBuf)> {
    let mut keys = Vec::new();
    let run = |cmd: &mut std::process::Command| cmd.output().map(|o| o.status.success()).unwrap_or(false);
    for (name, args) in [
        ("rsa.pem", vec!["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024"]),
        ("ec.pem", vec!["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"]),
        ("ed25519.pem", vec!["genpkey", "-algorithm", "ED25519"]),
    ] {
        let out = dir.join(name);
        if run(std::process::Command::new("openssl").args(&args).arg("-out").arg(&out)) {
            keys.push(("PRIVATE KEY".to_owned(), out.clone()));
            let enc = dir.join(format!("enc-{name}"));
            if run(std::process::Command::new("openssl")
                .args(["pkcs8", "-topk8", "-passout", "pass:pw", "-in"])
                .arg(&out)
                .arg("-out")
                .arg(&enc))
            {
                keys.push(("ENCRYPTED PRIVATE KEY".to_owned(), enc));
            }
        }
    }
    let rsa_trad = dir.join("rsa-trad.pem");
    if run(std::process::Command::new("openssl").args(["genrsa", "-traditional", "-out"]).arg(&rsa_trad).arg("1024")) {
        keys.push(("RSA PRIVATE KEY".to_owned(), rsa_trad));
    }
    let ssh = dir.join("id_ed25519");
    if run(std::process::Command::new("ssh-keygen").args(["-q", "-t", "ed25519", "-N", "", "-f"]).arg(&ssh)) {
        keys.push(("OPENSSH PRIVATE KEY".to_owned(), ssh));
    }
    keys
}

#[test]
fn generated_private_keys_are_found_and_only_their_begin_line_shown() {
    let tmp = tempfile::tempdir().unwrap();
    let keys = generated_keys(tmp.path());
    // openssl and ssh-keygen are part of the development setup; without them the test
    // would prove nothing.
    assert!(keys.len() >= 5, "openssl/ssh-keygen missing: {keys:?}");
    let s = scanner();
    for (kind, path) in keys {
        let text = std::fs::read_to_string(&path).unwrap();
        let hits = s.scan_bytes("root/.ssh/key", text.as_bytes());
        let hit = hits.iter().find(|h| h.0 == "private-key").unwrap_or_else(|| panic!("{kind}: {hits:?}"));
        assert_eq!(hit.2, format!("-----BEGIN {kind}-----"));
        assert_eq!(hit.1, Some(1));
        // The same key as a one-line JSON string is found too, without showing the body.
        let json = serde_json::json!({ "key": text }).to_string();
        let hit = s.scan_bytes("app/key.json", json.as_bytes()).into_iter().find(|h| h.0 == "private-key").unwrap();
        assert_eq!(hit.2, format!("-----BEGIN {kind}-----"));
    }
    // A BEGIN line with no key after it (documentation, code) is not a finding.
    let doc = "if line.startswith('-----BEGIN RSA PRIVATE KEY-----'):\n    parse(line)\n";
    assert!(!rules_in(&s, "usr/lib/x.py", doc).contains(&"private-key".to_owned()));
    let pgp = format!(
        "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nlQOYBF{}\n-----END PGP PRIVATE KEY BLOCK-----\n",
        random_alnum(3, 200)
    );
    assert!(rules_in(&s, "k.asc", &pgp).contains(&"private-key".to_owned()));
}

#[test]
fn previews_and_stored_results_never_hold_the_secret() {
    let s = scanner();
    let gh = checksummed("ghp_", 77);
    let secrets = ["AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", gh.as_str()];
    // Two secrets on one line: each finding's preview masks both.
    let text = format!(
        "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n{}gh={gh}\n",
        "x".repeat(300)
    );
    let stored = s.analyze("app/.env", &mut text.as_bytes(), text.len() as u64).unwrap().unwrap();
    let json = serde_json::to_string(&stored).unwrap();
    let hits = stored.as_array().unwrap();
    assert_eq!(hits.len(), 3, "{json}");
    for secret in secrets {
        assert!(!json.contains(secret), "stored results show {secret}: {json}");
        assert!(!json.contains(&secret[..12]), "stored results show most of {secret}: {json}");
    }
    assert!(hits.iter().all(|h| h["preview"].as_str().unwrap().chars().count() <= 122));
    assert_eq!(hits[2]["line"], 2);

    // A second secret on the line that no rule matches (the secret half of an AWS pair in
    // a URL or a label, a random token) is masked in the preview as well, and the preview
    // is the masked match with a little context, not the rest of the line.
    let token = random_alnum(9, 40);
    let text = format!(
        "src = s3://AKIAIOSFODNN7EXAMPLE:wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY@bucket/{} x-api {token} tail of the line that is long\n",
        "p".repeat(30)
    );
    let hits = s.scan_bytes("app/sync.conf", text.as_bytes());
    let aws = hits.iter().find(|h| h.0 == "aws-access-key-id").expect("the key id is found");
    for secret in ["wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "bPxRfiCYEXAMPLEKEY", token.as_str()] {
        assert!(!aws.2.contains(secret), "{secret} in {:?}", aws.2);
    }
    assert!(aws.2.starts_with("src = s3://AKIA****:wJal****") && !aws.2.contains("tail"), "{:?}", aws.2);
}

#[test]
fn binaries_large_files_and_default_exclusions_are_not_read() {
    let s = scanner();
    let mut elf = b"\x7fELF\x02\x01\x01".to_vec();
    elf.extend_from_slice(b"\nAKIAIOSFODNN7EXAMPLE\n");
    assert!(s.scan_bytes("usr/bin/tool", &elf).is_empty());
    let with_nul = b"key\0 AKIAIOSFODNN7EXAMPLE";
    assert!(s.scan_bytes("opt/blob", with_nul).is_empty());
    let binaries = SecretScanner::new(&SecretConfig { scan_binaries: true, ..Default::default() }).unwrap();
    assert_eq!(binaries.scan_bytes("usr/bin/tool", &elf).len(), 1);
    assert!(!s.wants("opt/big.log", 11 << 20, 0o644));
    assert!(s.wants("opt/app/.env", 100, 0o644));
    for excluded in [
        "usr/share/doc/x/README",
        "usr/lib/python3/dist-packages/__pycache__/a.pyc",
        "usr/share/locale/de/LC_MESSAGES/x.mo",
    ] {
        assert!(!s.wants(excluded, 100, 0o644), "{excluded}");
    }
    assert_ne!(s.version(), binaries.version());
}

fn write_rules(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn own_rule_format_and_version() {
    let tmp = tempfile::tempdir().unwrap();
    let rules = write_rules(
        tmp.path(),
        "acme.toml",
        r#"
[[rule]]
id = "acme-token"
title = "ACME API token"
severity = "critical"
keywords = ["acme_"]
regex = '''\bacme_([a-z0-9]{24})\b'''
secret_group = 1
entropy = 3.0
allow_regexes = ['''^0+$''']

[[rule]]
id = "keystore-file"
title = "Java key store"
path = '''\.jks$'''
"#,
    );
    let config = SecretConfig { rule_files: vec![rules], builtin: false, ..Default::default() };
    let s = SecretScanner::new(&config).unwrap();
    assert_eq!(s.rule_count(), 2);
    assert_eq!(rules_in(&s, "a", "k = acme_7fk2m9x4q1z8w3v6b5n0p2r7\n"), ["acme-token"]);
    assert!(rules_in(&s, "a", "k = acme_000000000000000000000000\n").is_empty());
    assert!(s.wants("opt/keys/server.jks", 0, 0o644));
    assert_eq!(rules_in(&s, "opt/keys/server.jks", "\u{0}\u{1}binary"), ["keystore-file"]);
    assert_ne!(s.version(), scanner().version());
    // Allowlists do not change the version: cached results stay valid.
    let allow = SecretConfig { allow_rules: vec!["acme-token".into()], ..config.clone() };
    assert_eq!(SecretScanner::new(&allow).unwrap().version(), s.version());
    let bad = write_rules(tmp.path(), "bad.toml", "[[rule]]\nid = \"x\"\ntitle = \"x\"\nregex = '(?<=a)b'\n");
    let err = SecretScanner::new(&SecretConfig { rule_files: vec![bad], ..Default::default() }).unwrap_err();
    assert!(err.to_string().contains("rule x"), "{err}");
}

fn gitleaks_file() -> PathBuf {
    shared().join("secrets/gitleaks/config/gitleaks.toml")
}

#[test]
fn real_gitleaks_file_loads() {
    let config = SecretConfig { builtin: false, rule_files: vec![gitleaks_file()], ..Default::default() };
    let s = SecretScanner::new(&config).unwrap();
    assert_eq!(s.unsupported_rules(), &[] as &[(String, String)]);
    assert_eq!(s.rule_count(), 222);
    // Keywords, secretGroup, entropy and the rule and global allowlists at work.
    let gh = checksummed("ghp_", 5);
    assert!(rules_in(&s, "app/x", &format!("t = {gh}\n")).contains(&"github-pat".to_owned()));
    assert!(rules_in(&s, "app/x", "aws_access_key_id = AKIAIOSFODNN7EXAMPLE\n").is_empty(), "EXAMPLE allowlisted");
    assert!(rules_in(&s, "app/node_modules/x/y.js", &format!("t = {gh}\n")).is_empty(), "global path allowlist");
    let both = SecretScanner::new(&SecretConfig { rule_files: vec![gitleaks_file()], ..Default::default() }).unwrap();
    assert!(
        rules_in(&both, "app/x", "aws_access_key_id = AKIAIOSFODNN7EXAMPLE\n")
            .contains(&"aws-access-key-id".to_owned())
    );
}

#[test]
fn gitleaks_features_we_cannot_honour_are_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let file = write_rules(
        tmp.path(),
        "gl.toml",
        r#"
[extend]
useDefault = true

[[rules]]
id = "lookbehind"
regex = '''(?<=key=)[a-z]{20}'''
keywords = ["key="]

[[rules]]
id = "fine"
regex = '''tok_([a-z0-9]{20})'''
secretGroup = 1
keywords = ["tok_"]
[[rules.allowlists]]
stopwords = ["aaaa"]
"#,
    );
    let s = SecretScanner::new(&SecretConfig { builtin: false, rule_files: vec![file], ..Default::default() }).unwrap();
    let ids: Vec<&str> = s.unsupported_rules().iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids.len(), 2, "{:?}", s.unsupported_rules());
    assert!(ids[0].ends_with(":[extend]") && ids[1] == "lookbehind");
    assert!(s.unsupported_rules()[1].1.contains("look-around"), "{:?}", s.unsupported_rules()[1]);
    assert_eq!(rules_in(&s, "a", "x tok_q8w7e6r5t4y3u2i1o0p9\n"), ["fine"]);
    assert!(rules_in(&s, "a", "x tok_aaaaq8w7e6r5t4y3u2i1\n").is_empty());
}

#[test]
fn image_config_env_labels_and_history() {
    let config: ImageConfig = serde_json::from_value(serde_json::json!({
        "architecture": "amd64", "os": "linux",
        "config": {
            "Env": ["PATH=/usr/bin", "DB_PASSWORD=Zq8v3Lr0pWx", "API_TOKEN=${TOKEN}", "GPG_KEY=7169605F62C751356D054A26A821E680E5FA6305",
                    "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE", "PASSWORD_FILE=/run/secrets/pw"],
            "Labels": {"ci.token": "ghx9Lm2Qp7Rt4Zv8", "maintainer": "a@b"}
        },
        "rootfs": {"type": "layers", "diff_ids": []},
        "history": [
            {"created_by": "|1 NPM_TOKEN=Zq8v3Lr0pWx7 /bin/sh -c npm ci"},
            {"created_by": "/bin/sh -c #(nop)  ENV SECRET_KEY=k9Lm2Qp7Rt4Zv8Xw"},
            {"created_by": "ARG VERSION=1.2.3"}
        ]
    }))
    .unwrap();
    let found = scan_image_config(&scanner(), &config);
    let got: Vec<(&str, &str, &str)> =
        found.iter().map(|f| (f.location.path.as_str(), f.rule.as_str(), f.preview.as_str())).collect();
    assert_eq!(
        got,
        [
            ("config:Env", "aws-access-key-id", "AWS_ACCESS_KEY_ID=AKIA****"),
            ("config:Env", "generic-secret", "DB_PASSWORD=Zq****"),
            ("config:Labels", "generic-secret", "ci.token=ghx9****"),
            // The masked secret with a little context, never the whole line.
            ("config:history[0]", "generic-secret", "|1 NPM_TOKEN=Zq8**** /bin/sh -c npm…"),
            ("config:history[1]", "generic-secret", "…#(nop)  ENV SECRET_KEY=k9Lm****"),
        ]
    );
    // A secret-looking name with a literal value that no rule's format matches.
    let plain: ImageConfig =
        serde_json::from_value(serde_json::json!({"config": {"Env": ["REDIS_PASSWORD=hunter22"]}})).unwrap();
    let found2 = scan_image_config(&scanner(), &plain);
    assert_eq!(found2.len(), 1);
    assert_eq!((found2[0].rule.as_str(), found2[0].preview.as_str()), ("env-secret", "REDIS_PASSWORD=hu****"));
    assert!(found.iter().all(|f| f.location.layer.is_none() && f.location.line.is_none()));
}

fn read_oci(dir: &Path, scanner: &std::sync::Arc<SecretScanner>) -> bulwark_image::Image {
    let mut opts = ReadOptions::default();
    opts.analyze.analyzers.push(scanner.clone());
    let r: Reference = format!("oci:{}", dir.display()).parse().unwrap();
    read_image(&r, &opts, &NoCache, &NoProgress).unwrap()
}

#[test]
fn key_deleted_by_a_later_layer_is_still_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let keys = generated_keys(tmp.path());
    let (_, rsa) = keys.iter().find(|(k, _)| k == "RSA PRIVATE KEY").expect("openssl genrsa");
    let key = std::fs::read_to_string(rsa).unwrap();
    let gh = checksummed("ghp_", 99);
    let layers = vec![
        Layer {
            compression: Compression::Gzip,
            items: vec![
                dir("root"),
                dir("root/.ssh"),
                file("root/.ssh/id_rsa", &key),
                dir("usr"),
                dir("usr/bin"),
                file("usr/bin/ls", "aws_access_key_id = AKIAIOSFODNN7EXAMPLE\n"),
            ],
        },
        Layer {
            compression: Compression::Zstd,
            items: vec![dir("app"), file("app/.env", &format!("GITHUB_TOKEN={gh}\n"))],
        },
        Layer { compression: Compression::Gzip, items: vec![whiteout("root/.ssh/id_rsa")] },
    ];
    let built = build(&layers, "amd64");
    let oci = tmp.path().join("oci");
    write_oci_layout(&oci, &built, "1");
    let s = std::sync::Arc::new(scanner());
    let image = read_oci(&oci, &s);
    let owned: BTreeSet<String> = ["/usr/bin/ls".to_owned()].into();
    let found = findings(&image, &s, &owned);
    let got: Vec<(&str, &str, Option<usize>, Option<usize>)> = found
        .iter()
        .map(|f| (f.location.path.as_str(), f.rule.as_str(), f.location.layer, f.location.removed_in))
        .collect();
    assert_eq!(
        got,
        [("/app/.env", "github-token", Some(1), None), ("/root/.ssh/id_rsa", "private-key", Some(0), Some(2))]
    );
    let json = serde_json::to_string(&image.layers.iter().map(|l| &l.analyses).collect::<Vec<_>>()).unwrap();
    assert!(!json.contains(&gh) && !json.contains(&key.lines().nth(1).unwrap()[..20]));

    // Package-owned files count when asked; allowlists by glob, rule and fingerprint.
    let all = |c: SecretConfig| findings(&image, &SecretScanner::new(&c).unwrap(), &owned);
    assert_eq!(all(SecretConfig { skip_package_files: false, ..Default::default() }).len(), 3);
    assert_eq!(all(SecretConfig { allow_paths: vec!["/root/**".into()], ..Default::default() }).len(), 1);
    assert_eq!(all(SecretConfig { allow_paths: vec!["**/.env".into()], ..Default::default() }).len(), 1);
    // The one glob dialect (docs/globs.md): a pattern without `/` no longer matches a file
    // name in any directory; it matches the whole path, so nothing here.
    assert_eq!(all(SecretConfig { allow_paths: vec![".env".into()], ..Default::default() }).len(), 2);
    assert_eq!(all(SecretConfig { allow_rules: vec!["private-key".into()], ..Default::default() }).len(), 1);
    let fp = found[0].fingerprint.clone();
    let rest = all(SecretConfig { allow_fingerprints: vec![fp], ..Default::default() });
    assert_eq!(rest.iter().map(|f| f.rule.as_str()).collect::<Vec<_>>(), ["private-key"]);
}

/// Every readable text file under `roots`, with its size.
fn files(roots: &[PathBuf], out: &mut Vec<PathBuf>) {
    for root in roots {
        let Ok(rd) = std::fs::read_dir(root) else { continue };
        for e in rd.flatten() {
            let Ok(t) = e.file_type() else { continue };
            if t.is_dir() {
                files(&[e.path()], out);
            } else if t.is_file() {
                out.push(e.path());
            }
        }
    }
}

fn python_dirs() -> Vec<PathBuf> {
    std::fs::read_dir("/usr/lib")
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("python3"))
                .collect()
        })
        .unwrap_or_default()
}

/// Files dpkg says its packages own on this machine, as absolute paths.
fn dpkg_owned() -> BTreeSet<String> {
    let mut owned = BTreeSet::new();
    for e in std::fs::read_dir("/var/lib/dpkg/info").into_iter().flatten().flatten() {
        if e.path().extension().is_some_and(|x| x == "list") {
            owned.extend(std::fs::read_to_string(e.path()).unwrap_or_default().lines().map(str::to_owned));
        }
    }
    owned
}

#[test]
fn false_positive_sweep_over_this_machines_docs_config_and_python() {
    let mut roots = vec![PathBuf::from("/usr/share/doc"), PathBuf::from("/etc")];
    roots.extend(python_dirs());
    let mut paths = Vec::new();
    files(&roots, &mut paths);
    assert!(paths.len() > 1000, "{}", paths.len());
    let s = scanner();
    let owned = dpkg_owned();
    let mut raw = 0;
    let mut reported = Vec::new();
    for p in &paths {
        let Ok(bytes) = std::fs::read(p) else { continue };
        let path = p.to_string_lossy();
        // Every file is read here, default exclusions or not: nothing may panic.
        let hits = s.scan_bytes(&path, &bytes);
        raw += hits.len();
        // What a scan reports: wanted files, not owned by a package.
        if s.wants(&path, bytes.len() as u64, 0o644) && !owned.contains(path.as_ref()) {
            reported.extend(hits.into_iter().map(|h| format!("{path} {}", h.0)));
        }
    }
    // Raw hits (documentation examples in package files, see the report) stay few.
    assert!(raw < 40, "{raw}");
    // The only finding left is the machine's own generated snakeoil TLS key, a real one.
    assert!(reported.iter().all(|r| r == "/etc/ssl/private/ssl-cert-snakeoil.key private-key"), "{reported:?}");
}
