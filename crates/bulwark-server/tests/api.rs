//! The API over real stores (SQLite in a temp dir, and a throwaway PostgreSQL server), on a
//! real listener at 127.0.0.1:0, through a real HTTP client: the authorization matrix of
//! every route in the OpenAPI document, hostile input (nothing in the store changes), tokens,
//! policies with versions and the exception workflow, report uploads and the inventory
//! questions, limits, audit and operations.

use std::collections::BTreeMap;
use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::time::Duration;

use bulwark_core::report::{
    AffectedPackage, FixState, ImageSummary as ReportImage, LayerSummary, Package, ScanReport, Severity, Vulnerability,
};
use bulwark_server::{AppState, ServerConfig, listen, router};
use bulwark_store::Store;
use serde_json::{Value, json};

const ROLES: [&str; 4] = ["admin", "security", "ci", "viewer"];

struct Api {
    base: String,
    addr: String,
    agent: ureq::Agent,
    /// A live token per role (and `security2`, a second security user), plus `expired`.
    tokens: BTreeMap<&'static str, String>,
    store: Store,
    rt: tokio::runtime::Runtime,
    _tmp: tempfile::TempDir,
}

struct Answer {
    status: u16,
    content_type: String,
    body: String,
    headers: BTreeMap<String, String>,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }

    /// Asserts a problem+json answer of `status` and returns it.
    fn problem(&self, status: u16) -> Value {
        assert_eq!(self.status, status, "{}", self.body);
        assert_eq!(self.content_type, "application/problem+json", "{}", self.body);
        let p = self.json();
        assert_eq!(p["status"], status);
        p
    }
}

/// The key-encryption key of the test servers (a fixed test value).
const KEK: &str = "8f1c2a7d9e03b4c5a6f7e8d9c0b1a29384756657a8b9cadbecfd0e1f20314253";

fn start(pg: Option<&bulwark_store::testing::TempPostgres>, config: ServerConfig) -> Api {
    start_with(pg, config, None)
}

fn start_with(
    pg: Option<&bulwark_store::testing::TempPostgres>,
    config: ServerConfig,
    kek: Option<bulwark_store::secrets::Kek>,
) -> Api {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let store = rt.block_on(async {
        match pg {
            Some(pg) => Store::open(&pg.fresh_database().await.unwrap()).await,
            None => Store::open_data_dir(tmp.path()).await,
        }
    });
    let store = store.unwrap();
    let (listener, addr) = rt.block_on(listen::bind("127.0.0.1:0")).unwrap();
    let app = router(AppState::with_kek(store.clone(), config, kek.map(std::sync::Arc::new)));
    rt.spawn(listen::serve(listener, app, None, std::future::pending(), Duration::from_secs(1)));
    let mut tokens = BTreeMap::new();
    let day = 86_400_000;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
    rt.block_on(async {
        for (user, role) in [
            ("admin", "admin"),
            ("security", "security"),
            ("security2", "security"),
            ("ci", "ci"),
            ("viewer", "viewer"),
        ] {
            let u = store.create_user(user, role).await.unwrap().unwrap();
            let secret = bulwark_server::new_secret().unwrap();
            store.create_token(u.id, "test", &bulwark_server::secret_hash(&secret), now + day).await.unwrap();
            tokens.insert(user, secret);
            if user == "ci" {
                let old = bulwark_server::new_secret().unwrap();
                store.create_token(u.id, "old", &bulwark_server::secret_hash(&old), now - 1000).await.unwrap();
                tokens.insert("expired", old);
            }
        }
    });
    // No pooled connections: a refused request whose body the server did not read closes its
    // connection (hyper), and the client must not reuse it for the next, non-idempotent call.
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_idle_connections(0)
        .max_idle_connections_per_host(0)
        .build()
        .new_agent();
    Api { base: format!("http://{addr}"), addr: addr.to_string(), agent, tokens, store, rt, _tmp: tmp }
}

impl Api {
    fn call(&self, method: &str, path: &str, token: Option<&str>, body: Option<&str>) -> Answer {
        let mut req = ureq::http::Request::builder().method(method).uri(format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.header("Authorization", format!("Bearer {}", self.tokens.get(t).map_or(t, String::as_str)));
        }
        if body.is_some() {
            req = req.header("Content-Type", "application/json");
        }
        let req = req.body(body.unwrap_or("").to_owned()).unwrap();
        let mut res = self.agent.run(req).unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let headers = res
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
            .collect::<BTreeMap<_, _>>();
        Answer {
            status: res.status().as_u16(),
            content_type: headers.get("content-type").cloned().unwrap_or_default(),
            body: res.body_mut().with_config().limit(64 << 20).read_to_string().unwrap_or_default(),
            headers,
        }
    }

    fn get(&self, path: &str, token: &str) -> Answer {
        self.call("GET", path, Some(token), None)
    }

    fn send(&self, method: &str, path: &str, token: &str, body: Value) -> Answer {
        self.call(method, path, Some(token), Some(&body.to_string()))
    }

    /// Row counts of every table but the audit log (which records refused requests too).
    fn counts(&self) -> Vec<(String, i64)> {
        let tables = [
            "images",
            "scans",
            "jobs",
            "packages",
            "findings",
            "users",
            "api_tokens",
            "policy_versions",
            "policy_exceptions",
            "scan_requests",
            "secrets",
        ];
        self.rt.block_on(async {
            let mut out = Vec::new();
            for t in tables {
                let n: i64 = sqlx::Row::get(
                    &sqlx::query(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {t}")))
                        .fetch_one(self.store.pool())
                        .await
                        .unwrap(),
                    0,
                );
                out.push((t.to_owned(), n));
            }
            out
        })
    }
}

fn digest(seed: &str) -> String {
    let d = ring::digest::digest(&ring::digest::SHA256, seed.as_bytes());
    format!("sha256:{}", d.as_ref().iter().map(|b| format!("{b:02x}")).collect::<String>())
}

/// A report of an image with log4j-core 2.14.1 (CVE-2021-44228, alias GHSA-jfh8-c2jp-5v3q,
/// fixed in 2.15.0, in KEV) in layer 1 when `log4j`, else only bash.
fn report(seed: &str, log4j: bool) -> Value {
    let pkg = |eco: &str, name: &str, version: &str, purl: &str, layer| Package {
        ecosystem: eco.into(),
        name: name.into(),
        version: version.into(),
        purl: purl.into(),
        locations: vec!["/x".into()],
        layer: Some(layer),
        ..serde_json::from_value(json!({"ecosystem": "", "name": "", "version": "", "purl": "", "locations": []}))
            .unwrap()
    };
    let bash = pkg("deb", "bash", "5.2.15-2+b2", "pkg:deb/debian/bash@5.2.15-2%2Bb2?arch=amd64&distro=debian-12", 0);
    let mut packages = vec![bash];
    let mut vulnerabilities = Vec::new();
    if log4j {
        let l = pkg(
            "maven",
            "org.apache.logging.log4j:log4j-core",
            "2.14.1",
            "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1",
            1,
        );
        vulnerabilities.push(Vulnerability {
            id: "CVE-2021-44228".into(),
            aliases: vec!["GHSA-jfh8-c2jp-5v3q".into()],
            package: AffectedPackage {
                ecosystem: l.ecosystem.clone(),
                name: l.name.clone(),
                version: l.version.clone(),
                purl: l.purl.clone(),
                matched_as: None,
                layer: l.layer,
                locations: l.locations.clone(),
            },
            state: FixState::Fixed,
            fixed_versions: vec!["2.15.0".into()],
            severity: Severity::Critical,
            severity_source: None,
            cvss: None,
            kev: true,
            epss: None,
            title: None,
            sources: vec!["osv:test".into()],
            explanation: "test".into(),
        });
        packages.push(l);
    }
    let r = ScanReport {
        schema_version: 1,
        bulwark_version: "0.1.0".into(),
        image: ReportImage {
            reference: format!("oci:/build/{seed}"),
            source: Some("oci".into()),
            manifest_digest: Some(digest(seed).parse().unwrap()),
            config_digest: Some(digest(&format!("{seed}-config")).parse().unwrap()),
            platform: Some("linux/amd64".parse().unwrap()),
            created: None,
        },
        layers: (0..2)
            .map(|i| LayerSummary {
                index: i,
                digest: Some(digest(&format!("{seed}-layer{i}")).parse().unwrap()),
                diff_id: digest(&format!("{seed}-diff{i}")).parse().unwrap(),
                media_type: None,
                size: 1000,
                uncompressed_size: 2000,
                entries: 10,
                whiteouts: 0,
                created_by: Some(format!("RUN step {i}")),
            })
            .collect(),
        packages,
        vulnerabilities,
        scanners: vec!["vuln".into()],
        ..ScanReport::default()
    };
    serde_json::to_value(r).unwrap()
}

/// The path with every `{param}` filled with a harmless value.
fn fill(path: &str) -> String {
    path.replace("{id}", "999999").replace("{digest}", &digest("none")).replace("{name}", "none")
}

fn authorization(api: &Api) {
    let doc = api.call("GET", "/api/v1/openapi.json", None, None).json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let method = method.to_uppercase();
            let permission: bulwark_api::Permission = serde_json::from_value(op["x-bulwark-permission"].clone())
                .unwrap_or_else(|_| panic!("{method} {path}"));
            let url = fill(path);
            let body = matches!(method.as_str(), "POST" | "PUT").then_some("{}");
            let case = |who: Option<&str>| {
                let a = api.call(&method, &url, who, body);
                assert!(a.status < 500, "{method} {url} as {who:?}: {} {}", a.status, a.body);
                a
            };
            let anon = case(None);
            if permission == bulwark_api::Permission::Public {
                assert!(!matches!(anon.status, 401 | 403), "{method} {path} is public: {}", anon.status);
            } else {
                anon.problem(401);
            }
            case(Some("expired")).problem(401);
            for role in ROLES {
                let a = case(Some(role));
                if bulwark_api::Role::parse(role).unwrap().grants(permission) {
                    assert!(!matches!(a.status, 401 | 403), "{method} {path} as {role}: {} {}", a.status, a.body);
                } else {
                    a.problem(403);
                }
            }
            checked += 1;
        }
    }
    assert_eq!(checked, bulwark_server::routes::permissions().len(), "every routed operation is documented");
}

fn hostile_input(api: &Api) {
    let before = api.counts();
    // Malformed JSON, unknown and wrong fields, a body that is not JSON.
    api.call("POST", "/api/v1/scans", Some("ci"), Some("{\"reference\": ")).problem(400);
    let p = api.send("POST", "/api/v1/scans", "ci", json!({"reference": "r.example/a:1", "refrence": 1})).problem(422);
    assert_eq!(p["errors"][0]["field"], "/refrence");
    let p = api
        .send("POST", "/api/v1/scans", "ci", json!({"reference": "r.example/a:1", "scanners": ["virus"]}))
        .problem(422);
    assert_eq!(p["errors"][0]["field"], "/scanners/0");
    let p = api.send("POST", "/api/v1/users", "admin", json!({"name": "x", "role": "root"})).problem(422);
    assert_eq!(p["errors"][0]["field"], "/role");
    let mut req = ureq::http::Request::builder().method("POST").uri(format!("{}/api/v1/scans", api.base));
    req = req.header("Authorization", format!("Bearer {}", api.tokens["ci"])).header("Content-Type", "text/plain");
    let res = api.agent.run(req.body("reference=x".to_owned()).unwrap()).unwrap();
    assert_eq!(res.status().as_u16(), 415);
    // 100 MB, declared: refused before a byte of the body is read.
    let mut s = TcpStream::connect(&api.addr).unwrap();
    write!(
        s,
        "POST /api/v1/reports HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        api.tokens["ci"],
        100 << 20
    )
    .unwrap();
    let mut head = [0u8; 512];
    let n = s.read(&mut head).unwrap();
    let head = String::from_utf8_lossy(&head[..n]);
    assert!(head.starts_with("HTTP/1.1 413"), "{head}");
    assert!(head.contains("application/problem+json"), "{head}");
    // 100 MB, chunked (no length): refused when the limit is reached.
    let mut s = TcpStream::connect(&api.addr).unwrap();
    write!(
        s,
        "POST /api/v1/reports HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
        api.tokens["ci"]
    )
    .unwrap();
    let mut reader = s.try_clone().unwrap();
    let writer = std::thread::spawn(move || {
        let chunk = vec![b' '; 1 << 20];
        for _ in 0..100 {
            if write!(s, "{:x}\r\n", chunk.len())
                .and_then(|_| s.write_all(&chunk))
                .and_then(|_| s.write_all(b"\r\n"))
                .is_err()
            {
                return;
            }
        }
    });
    let mut head = [0u8; 512];
    let n = reader.read(&mut head).unwrap();
    assert!(String::from_utf8_lossy(&head[..n]).starts_with("HTTP/1.1 413"), "{}", String::from_utf8_lossy(&head[..n]));
    drop(reader);
    let _ = writer.join();
    // SQL metacharacters in every filter: an answer, never a 500, and nothing changes.
    let sql = "x'%20OR%201%3D1%3B%20DROP%20TABLE%20images%3B%20--%22%5C";
    for (path, params) in [
        ("/api/v1/images", &["registry", "repository", "tag", "verdict", "severity", "kev", "cursor", "limit"][..]),
        ("/api/v1/packages", &["purl", "name", "cursor", "limit"][..]),
        ("/api/v1/audit", &["actor", "cursor", "limit"][..]),
        ("/api/v1/exceptions", &["state", "cursor", "limit"][..]),
        ("/api/v1/tokens", &["user", "cursor", "limit"][..]),
        ("/api/v1/users", &["cursor", "limit"][..]),
        ("/api/v1/policies", &["cursor", "limit"][..]),
        ("/api/v1/vulnerabilities/CVE-2021-44228/images", &["cursor", "limit"][..]),
    ] {
        for param in params {
            let a = api.get(&format!("{path}?{param}={sql}"), "admin");
            assert!(a.status == 200 || a.status == 400, "{path}?{param}: {} {}", a.status, a.body);
            if a.status == 400 {
                let p = a.problem(400);
                assert!(p["errors"][0]["field"].as_str().is_some_and(|f| !f.is_empty()), "{}", a.body);
            }
        }
        api.get(&format!("{path}?limit=100000"), "admin").problem(400);
        api.get(&format!("{path}?nosuchparam=1"), "admin").problem(400);
    }
    // Path traversal and junk in every path parameter.
    for path in [
        "/api/v1/scans/{}",
        "/api/v1/scans/{}/report",
        "/api/v1/scans/{}/events",
        "/api/v1/images/{}",
        "/api/v1/vulnerabilities/{}/images",
        "/api/v1/policies/{}",
        "/api/v1/policies/{}/versions",
        "/api/v1/exceptions/{}",
    ] {
        for junk in ["..%2F..%2Fetc%2Fpasswd", "%00", "'%20OR%201=1--", "%E2%80%AE", &"9".repeat(400)] {
            let a = api.get(&path.replace("{}", junk), "admin");
            assert!(matches!(a.status, 400 | 404), "{path} {junk}: {} {}", a.status, a.body);
            assert_eq!(a.content_type, "application/problem+json", "{path} {junk}");
        }
    }
    // Dot segments as sent (an HTTP client would resolve them first).
    for path in [
        "/api/v1/vulnerabilities/../images",
        "/api/v1/images/..",
        "/api/v1/policies/..",
        "/api/v1/scans/..",
        "/api/v1/exceptions/../approve",
        "/api/v1/images/../../../etc/passwd",
    ] {
        let mut s = TcpStream::connect(&api.addr).unwrap();
        write!(
            s,
            "GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nConnection: close\r\n\r\n",
            api.tokens["admin"]
        )
        .unwrap();
        let mut answer = String::new();
        s.read_to_string(&mut answer).unwrap();
        assert!(
            answer.starts_with("HTTP/1.1 400")
                || answer.starts_with("HTTP/1.1 404")
                || answer.starts_with("HTTP/1.1 405"),
            "{path}: {answer}"
        );
        assert!(answer.contains("application/problem+json"), "{path}: {answer}");
    }
    // Odd image references.
    for reference in [
        "",
        " ",
        "\u{0}",
        "x\ny",
        "UPPER/Case:1",
        "r.example/a:1@sha256:zz",
        "oci:/etc",
        "dir:/",
        "docker:x",
        "container:x",
        "http://evil.example/a",
        "../../etc/passwd",
        &"a".repeat(2000),
        "registry:",
    ] {
        let a = api.send("POST", "/api/v1/scans", "ci", json!({"reference": reference}));
        let p = a.problem(422);
        assert_eq!(p["errors"][0]["field"], "/reference", "{reference:?}: {}", a.body);
    }
    for (body, field) in [
        (json!({"reference": "r.example/a:1", "platform": "no/such/platform/at/all"}), "/platform"),
        (json!({"reference": "r.example/a:1", "scanners": []}), "/scanners"),
        (json!({"reference": "r.example/a:1", "policy": "../x"}), "/policy"),
        (json!({"reference": "r.example/a:1", "policy": "missing"}), "/policy"),
        (json!({"reference": "r.example/a:1", "policy_yaml": "rules: [\n"}), "/policy_yaml"),
        (json!({"reference": "r.example/a:1", "credential": "nope"}), "/credential"),
    ] {
        let p = api.send("POST", "/api/v1/scans", "ci", body.clone()).problem(422);
        assert_eq!(p["errors"][0]["field"], field, "{body}");
    }
    assert_eq!(api.counts(), before, "a refused request changed the store");
}

fn tokens(api: &Api) {
    let a =
        api.send("POST", "/api/v1/tokens", "admin", json!({"name": "pipeline", "expires_in_days": 7, "user": "ci"}));
    assert_eq!(a.status, 201, "{}", a.body);
    let created = a.json();
    let secret = created["token"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("bwk_"));
    let list = api.get("/api/v1/tokens?user=ci", "admin");
    assert!(list.body.contains("pipeline") && !list.body.contains(&secret), "{}", list.body);
    api.call("GET", "/api/v1/images", Some(&secret), None);
    assert_eq!(api.call("GET", "/api/v1/images", Some(&secret), None).status, 200);
    // Only admins make tokens for others; nobody sees another user's tokens but admins.
    api.send("POST", "/api/v1/tokens", "ci", json!({"name": "x", "expires_in_days": 1, "user": "admin"})).problem(403);
    api.get("/api/v1/tokens?user=admin", "ci").problem(403);
    api.send("POST", "/api/v1/tokens", "ci", json!({"name": "x", "expires_in_days": 9999})).problem(422);
    let id = created["id"].as_str().unwrap();
    assert_eq!(api.call("DELETE", &format!("/api/v1/tokens/{id}"), Some("viewer"), None).status, 404);
    assert_eq!(api.call("DELETE", &format!("/api/v1/tokens/{id}"), Some("ci"), None).status, 204);
    api.call("GET", "/api/v1/images", Some(&secret), None).problem(401);
    api.send("POST", "/api/v1/users", "admin", json!({"name": "admin", "role": "viewer"})).problem(409);
    assert_eq!(api.send("POST", "/api/v1/users", "admin", json!({"name": "auditor", "role": "viewer"})).status, 201);
}

fn uploads_policies_and_exceptions(api: &Api) {
    let policy = "apiVersion: bulwark.dev/v1\nkind: ImageAssertion\nname: release\nrules:\n  - id: no-critical\n    description: no critical vulnerability\n    action: deny\n    max_severity_counts: {critical: 0}\n";
    let p = api.send("PUT", "/api/v1/policies/release", "security", json!({"yaml": "rules: [\n"})).problem(422);
    assert_eq!(p["errors"][0]["field"], "/yaml");
    api.send("PUT", "/api/v1/policies/release", "ci", json!({"yaml": policy})).problem(403);
    let v1 = api.send("PUT", "/api/v1/policies/release", "security", json!({"yaml": policy}));
    assert_eq!(v1.status, 201, "{}", v1.body);
    assert_eq!(v1.json()["version"], 1);
    assert_eq!(api.send("PUT", "/api/v1/policies/release", "security", json!({"yaml": policy})).json()["version"], 1);
    let v2 = api.send(
        "PUT",
        "/api/v1/policies/release",
        "security",
        json!({"yaml": format!("{policy}# v2\n"), "comment": "v2"}),
    );
    assert_eq!(v2.json()["version"], 2, "{}", v2.body);
    assert_eq!(api.get("/api/v1/policies/release/versions", "viewer").json()["items"].as_array().unwrap().len(), 2);
    assert_eq!(api.get("/api/v1/policies/release?version=1", "viewer").json()["version"], 1);

    // Uploads: the verdict is evaluated here, with the stored policy version it names.
    let mut forged = report("app-1", true);
    forged["policy"] = json!({"policy": "forged", "passed": true, "evaluated_on": "2026-01-01", "rules": []});
    let a = api.send(
        "POST",
        "/api/v1/reports",
        "ci",
        json!({"report": forged, "reference": "r.example/team/app:1.0", "policy": "release"}),
    );
    assert_eq!(a.status, 201, "{}", a.body);
    let up = a.json();
    assert_eq!(up["verdict"]["passed"], false, "{}", a.body);
    assert_eq!(up["verdict"]["policy_version"], 2);
    assert_eq!(up["verdict"]["failed_rules"], json!(["no-critical"]));
    let a = api.send(
        "POST",
        "/api/v1/reports",
        "ci",
        json!({"report": report("app-2", false), "reference": "r.example/team/app:2.0", "policy": "release"}),
    );
    assert_eq!(a.json()["verdict"]["passed"], true, "{}", a.body);
    let p = api.send("POST", "/api/v1/reports", "ci", json!({"report": {"schema_version": "one"}})).problem(422);
    assert!(p["errors"][0]["field"].as_str().unwrap().starts_with("/report"), "{p}");

    // The inventory questions.
    let d1 = digest("app-1");
    let hit = api.get("/api/v1/vulnerabilities/GHSA-jfh8-c2jp-5v3q/images", "viewer").json();
    assert_eq!(hit["items"].as_array().unwrap().len(), 1, "{hit}");
    assert_eq!(hit["items"][0]["digest"], d1.as_str());
    assert_eq!(hit["items"][0]["fix_available"], true);
    assert_eq!(hit["items"][0]["layer"], 1);
    let pk = api.get("/api/v1/packages?purl=pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1", "viewer").json();
    assert_eq!(pk["items"][0]["digest"], d1.as_str(), "{pk}");
    let pk = api.get("/api/v1/packages?name=bash&ecosystem=deb&version=%3E%3D5,%3C6", "viewer").json();
    assert_eq!(pk["items"].as_array().unwrap().len(), 2, "{pk}");
    let img = api.get(&format!("/api/v1/images/{d1}"), "viewer").json();
    assert_eq!(img["verdict"], "fail", "{img}");
    assert_eq!(img["layers"].as_array().unwrap().len(), 2);
    assert_eq!(img["refs"][0]["repository"], "team/app");
    let failing = api.get("/api/v1/images?verdict=fail&kev=true", "viewer").json();
    assert_eq!(failing["items"].as_array().unwrap().len(), 1, "{failing}");
    let page = api.get("/api/v1/images?limit=1", "viewer").json();
    let next = page["next_cursor"].as_str().unwrap();
    let page2 = api.get(&format!("/api/v1/images?limit=1&cursor={next}"), "viewer").json();
    assert_ne!(page["items"][0]["digest"], page2["items"][0]["digest"]);

    // Dry run of a stricter policy: the passing image would fail.
    let strict = "apiVersion: bulwark.dev/v1\nkind: ImageAssertion\nname: strict\nrules:\n  - id: no-log4shell\n    description: not Log4Shell\n    action: deny\n    deny_ids: [CVE-2021-44228]\n  - id: no-vulns\n    description: no vulnerability at all\n    action: deny\n    max_severity_counts: {critical: 0, high: 0, medium: 0, low: 0, unknown: 0}\n";
    let dry = api.send("POST", "/api/v1/policies/release/evaluate", "security", json!({"yaml": strict}));
    assert_eq!(dry.status, 200, "{}", dry.body);
    let dry = dry.json();
    assert_eq!(dry["evaluated"], 2, "{dry}");

    // Exceptions: requested by ci, decided by another user with the security role.
    let expires = bulwark_core::time::Date::today().plus_days(30).to_string();
    let e = api.send("POST", "/api/v1/exceptions", "ci", json!({"finding": "CVE-2021-44228", "reason": "not reachable", "expires": expires, "scope": {"package": "org.apache.logging.log4j:log4j-core"}}));
    assert_eq!(e.status, 201, "{}", e.body);
    let id = e.json()["id"].as_str().unwrap().to_owned();
    api.send("POST", &format!("/api/v1/exceptions/{id}/approve"), "ci", json!({})).problem(403);
    let mine = api.send(
        "POST",
        "/api/v1/exceptions",
        "security",
        json!({"finding": "X-1", "reason": "r", "expires": expires}),
    );
    let mine = mine.json()["id"].as_str().unwrap().to_owned();
    api.send("POST", &format!("/api/v1/exceptions/{mine}/approve"), "security", json!({})).problem(403);
    let ok = api.send(
        "POST",
        &format!("/api/v1/exceptions/{id}/approve"),
        "security",
        json!({"comment": "ok until the fix"}),
    );
    assert_eq!(ok.json()["state"], "approved", "{}", ok.body);
    api.send("POST", &format!("/api/v1/exceptions/{id}/deny"), "security2", json!({})).problem(409);
    api.send("POST", "/api/v1/exceptions", "ci", json!({"finding": "X", "reason": "r", "expires": "2001-01-01"}))
        .problem(422);
    // The approved exception applies to the next evaluation.
    let a = api.send(
        "POST",
        "/api/v1/reports",
        "ci",
        json!({"report": report("app-1", true), "reference": "r.example/team/app:1.0", "policy": "release"}),
    );
    let v = a.json();
    assert_eq!(v["verdict"]["passed"], true, "{v}");
    assert_eq!(v["verdict"]["exceptions"], json!([id]));
    // An upload from an old or hostile client with a whole secret in its text: the server's
    // own redaction removes it before the report is stored.
    let secret = bulwark_testkit::planted::github_token("abcdefghijklmnopqrstuvwxyz0123");
    let mut leaky = report("app-leaky", false);
    leaky["warnings"] = json!([format!("found GITHUB_TOKEN={secret} in /app/.env")]);
    leaky["image"]["reference"] = json!(format!("r.example/team/leaky:{secret}"));
    let a = api.send("POST", "/api/v1/reports", "ci", json!({"report": leaky}));
    assert_eq!(a.status, 201, "{}", a.body);
    let id: i64 = a.json()["result"].as_str().unwrap().parse().unwrap();
    let stored = api.rt.block_on(api.store.scan_report(id)).unwrap().unwrap();
    let text = String::from_utf8_lossy(&stored.json);
    assert!(text.contains("found GITHUB_TOKEN="), "the warning is kept, redacted: {text}");
    assert!(!text.contains(&secret), "a whole secret from an upload reached the store");
}

fn scans(api: &Api) {
    let a = api.send(
        "POST",
        "/api/v1/scans",
        "ci",
        json!({"reference": "registry.example/team/app:3", "scanners": ["vuln"], "policy": "release"}),
    );
    assert_eq!(a.status, 202, "{}", a.body);
    let loc = a.headers["location"].clone();
    let scan = a.json();
    assert_eq!(loc, format!("/api/v1/scans/{}", scan["id"].as_str().unwrap()));
    assert_eq!(scan["state"], "queued");
    // The same image and options attach to the same job.
    let again = api
        .send("POST", "/api/v1/scans", "ci", json!({"reference": "registry.example/team/app:3", "scanners": ["vuln"]}))
        .json();
    assert_eq!(again["job"], scan["job"]);
    // Display filters and the gate are the request's own: the same job again.
    let filtered = api.send(
        "POST",
        "/api/v1/scans",
        "ci",
        json!({"reference": "registry.example/team/app:3", "scanners": ["vuln"], "severity": ["critical", "high"],
               "ignore_unfixed": true, "fail_on": "high"}),
    );
    assert_eq!(filtered.status, 202, "{}", filtered.body);
    assert_eq!(filtered.json()["job"], scan["job"]);
    let p = api
        .send(
            "POST",
            "/api/v1/scans",
            "ci",
            json!({"reference": "registry.example/team/app:3", "severity": ["severe"]}),
        )
        .problem(422);
    assert!(p["errors"][0]["field"].as_str().unwrap().starts_with("/severity"), "{p}");
    // A policy is parsed with the config check ids the CLI knows: a real one is accepted,
    // a misspelt one is an error that names the field (as `bulwark scan --policy` says).
    let with_ids = |id: &str| {
        format!(
            "apiVersion: bulwark.dev/v1\nkind: ImageAssertion\nname: cfg\nrules:\n  - id: cfg\n    description: d\n    action: deny\n    deny_config: {{ids: [{id}]}}\n"
        )
    };
    let ok = api.send(
        "POST",
        "/api/v1/scans",
        "ci",
        json!({"reference": "registry.example/team/app:4", "policy_yaml": with_ids("BW-CFG-001")}),
    );
    assert_eq!(ok.status, 202, "{}", ok.body);
    let p = api
        .send(
            "POST",
            "/api/v1/scans",
            "ci",
            json!({"reference": "registry.example/team/app:4", "policy_yaml": with_ids("BW-CFG-999")}),
        )
        .problem(422);
    assert_eq!(p["errors"][0]["field"], "/policy_yaml", "{p}");
    api.get(&format!("{loc}/report"), "viewer").problem(409);
    let waited = api.get(&format!("{loc}?wait=1"), "viewer").json();
    assert_eq!(waited["state"], "queued");
    api.get(&format!("{loc}?wait=100000"), "viewer").problem(400);
    let c = api.send("POST", &format!("{loc}/cancel"), "ci", json!({}));
    assert_eq!(c.json()["state"], "cancelled", "{}", c.body);
    api.send("POST", &format!("{loc}/cancel"), "ci", json!({})).problem(409);
    let events = api.get(&format!("{loc}/events"), "viewer");
    assert_eq!(events.content_type, "text/event-stream");
    assert!(
        events.body.contains("event: scan\ndata: {") && events.body.ends_with("event: done\ndata: {}\n\n"),
        "{}",
        events.body
    );
}

fn audit_and_operations(api: &Api) {
    let log = api.get("/api/v1/audit?limit=500", "security").json();
    let entries = log["items"].as_array().unwrap();
    assert!(
        entries.iter().any(|e| e["actor"] == "ci" && e["action"] == "POST /api/v1/scans" && e["outcome"] == "success")
    );
    assert!(entries.iter().any(|e| e["actor"] == "anonymous" && e["status"] == 401));
    assert!(entries.iter().any(|e| e["actor"] == "ci"
        && e["action"] == "POST /api/v1/exceptions/{id}/approve"
        && e["outcome"] == "denied"));
    let text = log.to_string();
    for t in api.tokens.values() {
        assert!(!text.contains(t.as_str()), "a token reached the audit log");
    }
    api.get("/api/v1/audit", "ci").problem(403);
    assert_eq!(api.call("GET", "/healthz", None, None).status, 200);
    let ready = api.call("GET", "/readyz", None, None);
    assert_eq!(ready.json()["ready"], true, "{}", ready.body);
    let m = api.call("GET", "/metrics", None, None).body;
    assert!(m.contains("bulwark_http_request_duration_seconds_bucket{method=\"GET\",route=\"/api/v1/images\""), "{m}");
    assert!(m.contains("bulwark_jobs{state=\"cancelled\"} 1"), "{m}");
    let docs = api.call("GET", "/api/v1/docs", None, None);
    assert!(docs.content_type.starts_with("text/html") && docs.body.contains("/api/v1/scans/{id}/report"));
    api.call("GET", "/api/v1/nothing", None, None).problem(404);
    api.call("PATCH", "/api/v1/images", Some("admin"), None).problem(405);
}

/// Registry credentials: stored sealed, listed and deleted by admin and security only, the
/// password never in an answer, the store or the audit log; a scan may name one.
fn credentials(api: &Api) {
    const PASSWORD: &str = "pa55-w0rd-never-shown";
    let body =
        json!({"name": "ci-pull", "registry": "registry.example:5000", "username": "puller", "password": PASSWORD});
    let a = api.send("POST", "/api/v1/credentials", "security", body.clone());
    assert_eq!(a.status, 201, "{}", a.body);
    assert!(!a.body.contains(PASSWORD), "{}", a.body);
    let created = a.json();
    assert_eq!(created["registry"], "registry.example:5000");
    assert_eq!(created["username"], "puller");
    assert_eq!(created["created_by"], "security");
    assert_eq!(created["kek_id"].as_str().unwrap().len(), 16);
    api.send("POST", "/api/v1/credentials", "admin", body.clone()).problem(409);
    api.send("POST", "/api/v1/credentials", "ci", body.clone()).problem(403);
    let mut bad = body.clone();
    bad["registry"] = json!("https://evil.example/x");
    assert_eq!(api.send("POST", "/api/v1/credentials", "admin", bad).problem(422)["errors"][0]["field"], "/registry");
    let mut bad = body.clone();
    bad["password"] = json!("");
    assert_eq!(api.send("POST", "/api/v1/credentials", "admin", bad).problem(422)["errors"][0]["field"], "/password");
    let list = api.get("/api/v1/credentials", "admin");
    assert_eq!(list.status, 200);
    assert!(!list.body.contains(PASSWORD));
    assert_eq!(list.json()["items"][0]["name"], "ci-pull");
    api.get("/api/v1/credentials", "viewer").problem(403);
    // A scan names it (also as `registry_credential`); the job carries the name only.
    let a = api.send(
        "POST",
        "/api/v1/scans",
        "ci",
        json!({"reference": "registry.example:5000/app:1", "registry_credential": "ci-pull"}),
    );
    assert_eq!(a.status, 202, "{}", a.body);
    api.send("POST", "/api/v1/scans", "ci", json!({"reference": "registry.example:5000/app:1", "credential": "nope"}))
        .problem(422);
    // Nowhere in the store in plaintext: not in the secrets, not in any job or request.
    let dump = api.rt.block_on(async {
        let mut text = String::new();
        for q in [
            "SELECT options FROM jobs",
            "SELECT COALESCE(credential, '') FROM scan_requests",
            "SELECT metadata FROM secrets",
        ] {
            for row in sqlx::query(q).fetch_all(api.store.pool()).await.unwrap() {
                text.push_str(&sqlx::Row::get::<String, _>(&row, 0));
            }
        }
        for row in sqlx::query("SELECT ciphertext FROM secrets").fetch_all(api.store.pool()).await.unwrap() {
            text.push_str(&String::from_utf8_lossy(&sqlx::Row::get::<Vec<u8>, _>(&row, 0)));
        }
        text
    });
    assert!(dump.contains("ci-pull") && !dump.contains(PASSWORD), "{dump}");
    let audit = api.get("/api/v1/audit?limit=500", "admin");
    assert!(audit.body.contains("POST /api/v1/credentials") && !audit.body.contains(PASSWORD));
    api.call("DELETE", "/api/v1/credentials/ci-pull", Some("ci"), None).problem(403);
    assert_eq!(api.call("DELETE", "/api/v1/credentials/ci-pull", Some("admin"), None).status, 204);
    api.call("DELETE", "/api/v1/credentials/ci-pull", Some("admin"), None).problem(404);
    api.call("DELETE", "/api/v1/credentials/..%2Fx", Some("admin"), None).problem(400);
}

/// Signing keys held by the server: generated or imported (sealed), the public key for
/// everyone who reads, the private key for nobody.
fn signing_keys(api: &Api) {
    let a = api.send("POST", "/api/v1/signing-keys", "security", json!({"name": "release"}));
    assert_eq!(a.status, 201, "{}", a.body);
    let generated = a.json();
    assert!(generated["public_key"].as_str().unwrap().starts_with("-----BEGIN PUBLIC KEY-----"));
    assert!(!a.body.contains("PRIVATE"), "{}", a.body);
    api.send("POST", "/api/v1/signing-keys", "security", json!({"name": "release"})).problem(409);
    api.send("POST", "/api/v1/signing-keys", "ci", json!({"name": "mine"})).problem(403);
    // An OpenSSL SEC1 key is imported; its public key is the one OpenSSL derives.
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("k.pem");
    let ok = std::process::Command::new("openssl")
        .args(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out"])
        .arg(&key)
        .status()
        .expect("openssl is installed by scripts/setup-dev.sh");
    assert!(ok.success());
    let public = std::process::Command::new("openssl").args(["ec", "-pubout", "-in"]).arg(&key).output().unwrap();
    let pem = std::fs::read_to_string(&key).unwrap();
    let a = api.send("POST", "/api/v1/signing-keys", "admin", json!({"name": "imported", "private_key": pem}));
    assert_eq!(a.status, 201, "{}", a.body);
    assert_eq!(a.json()["public_key"].as_str().unwrap().trim(), String::from_utf8_lossy(&public.stdout).trim());
    let p = api
        .send(
            "POST",
            "/api/v1/signing-keys",
            "admin",
            json!({"name": "bad", "private_key": "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"}),
        )
        .problem(422);
    assert_eq!(p["errors"][0]["field"], "/private_key");
    // Readers get public keys; nobody gets a private key.
    let one = api.get("/api/v1/signing-keys/release", "viewer");
    assert_eq!(one.status, 200);
    assert_eq!(one.json()["public_key"], generated["public_key"]);
    let list = api.get("/api/v1/signing-keys", "ci");
    assert_eq!(list.json()["items"].as_array().unwrap().len(), 2);
    assert!(!list.body.contains("PRIVATE"));
    let audit = api.get("/api/v1/audit?limit=500", "admin");
    assert!(audit.body.contains("POST /api/v1/signing-keys") && !audit.body.contains("PRIVATE"));
    api.call("DELETE", "/api/v1/signing-keys/imported", Some("viewer"), None).problem(403);
    assert_eq!(api.call("DELETE", "/api/v1/signing-keys/imported", Some("security"), None).status, 204);
    api.get("/api/v1/signing-keys/imported", "viewer").problem(404);
}

fn suite(pg: Option<&bulwark_store::testing::TempPostgres>) {
    let api = start_with(pg, ServerConfig::default(), Some(bulwark_store::secrets::Kek::from_hex(KEK).unwrap()));
    authorization(&api);
    hostile_input(&api);
    tokens(&api);
    uploads_policies_and_exceptions(&api);
    scans(&api);
    audit_and_operations(&api);
    credentials(&api);
    signing_keys(&api);
    // The per-token rate limit: a 429 with Retry-After, never a 500.
    let limited = start(pg, ServerConfig { rate_per_second: 1, rate_burst: 3, ..ServerConfig::default() });
    let statuses: Vec<u16> = (0..6).map(|_| limited.get("/api/v1/images", "viewer").status).collect();
    assert_eq!(&statuses[..3], &[200, 200, 200], "{statuses:?}");
    let a = limited.get("/api/v1/images", "viewer");
    a.problem(429);
    assert!(a.headers.contains_key("retry-after"));
    assert_eq!(limited.get("/api/v1/images", "ci").status, 200, "another token has its own bucket");
    // Without a key-encryption key no secret is stored, in plaintext or otherwise.
    let plain = start(pg, ServerConfig::default());
    let body = json!({"name": "x", "registry": "r.example", "username": "u", "password": "p"});
    let p = plain.send("POST", "/api/v1/credentials", "admin", body).problem(409);
    assert_eq!(p["type"].as_str().map(|t| t.ends_with("no-key-encryption-key")), Some(true), "{p}");
    assert_eq!(plain.counts().iter().find(|(t, _)| t == "secrets").unwrap().1, 0);
}

/// HTTPS with a certificate and key from files: a client that trusts the certificate gets
/// answers over TLS; a plain-HTTP request to the TLS port gets none.
#[test]
fn https_with_a_given_certificate() {
    let tmp = tempfile::tempdir().unwrap();
    let (cert, key) = (tmp.path().join("cert.pem"), tmp.path().join("key.pem"));
    let ok = std::process::Command::new("openssl")
        .args(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1"])
        .args(["-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"])
        .args(["-addext", "basicConstraints=critical,CA:FALSE", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl is installed by scripts/setup-dev.sh");
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    assert!(listen::tls_config(&key, &key).is_err(), "a key is not a certificate");
    let tls = listen::tls_config(&cert, &key).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let store = rt.block_on(Store::open_data_dir(tmp.path())).unwrap();
    let (listener, addr) = rt.block_on(listen::bind("127.0.0.1:0")).unwrap();
    rt.spawn(listen::serve(
        listener,
        router(AppState::new(store, ServerConfig::default())),
        Some(tls),
        std::future::pending(),
        Duration::from_secs(1),
    ));
    let pem = std::fs::read(&cert).unwrap();
    let certs: Vec<_> = ureq::tls::parse_pem(&pem)
        .filter_map(|i| match i.unwrap() {
            ureq::tls::PemItem::Certificate(c) => Some(c),
            _ => None,
        })
        .collect();
    let tls_config = ureq::tls::TlsConfig::builder().root_certs(ureq::tls::RootCerts::new_with_certs(&certs)).build();
    let agent = ureq::Agent::config_builder().tls_config(tls_config).http_status_as_error(false).build().new_agent();
    let mut res = agent.get(format!("https://localhost:{}/readyz", addr.port())).call().unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert!(res.body_mut().read_to_string().unwrap().contains("\"ready\":true"));
    let plain = ureq::Agent::config_builder().http_status_as_error(false).build().new_agent();
    assert!(plain.get(format!("http://127.0.0.1:{}/healthz", addr.port())).call().is_err());
}

#[test]
fn api_over_sqlite() {
    suite(None);
}

#[test]
fn api_over_postgres() {
    let pg = bulwark_store::testing::TempPostgres::start().unwrap_or_else(|e| panic!("{e}"));
    suite(Some(&pg));
}
