//! The REST API as a client uses it:
//! - a tenant's token finds nothing of another tenant on any route: every
//!   tenant-scoped route answers exactly as for a tenant (or a thing) that
//!   does not exist, and nothing of the other tenant changes;
//! - bad requests (broken JSON, wrong types, unknown fields, wrong content
//!   types, oversized bodies, odd path parameters, unknown query
//!   parameters, garbage webhooks) get a 4xx in the error shape and never
//!   take the service down;
//! - a user can do the whole cycle over HTTP: tenant, token, connection,
//!   scheme, preview, run, logs, records, delete;
//! - the OpenAPI document describes every route.
//!
//! The route tables below are data, checked against the OpenAPI document:
//! a new route without a case fails here.

use std::collections::BTreeSet;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::Method;
use reqwest::header::{CONTENT_TYPE, HeaderMap, WWW_AUTHENTICATE};
use serde_json::{Value, json};
use weft_sim::{DatasetConfig, SimConfig, SimHandle, Simulator, System};

use super::{ADMIN, Answer, Service};
use crate::e2e::{Demo, TENANT, seed};
use crate::support::plugin_wasm;

/// The purchase-order seed (pulled from 旺店通, written to 金蝶云星空).
const PO_SEED: &str = "wdt-purchase-order-to-k3cloud.yaml";
const PO: &str = "wdt-purchase-order-to-k3cloud";
/// The webhook seed.
const HOOK_SEED: &str = "opencallback-to-wdt-trade-push.yaml";
const HOOK: &str = "opencallback-to-wdt-trade-push";
const HOOK_SECRET: &str = "hook-secret-for-the-api-tests";

/// The second tenant, its connections and scheme.
const OTHER: &str = "other";
const OTHER_WDT: &str = "other-wdt";
const OTHER_K3: &str = "other-k3cloud";
const OTHER_PO: &str = "other-purchase-orders";
/// A tenant that does not exist.
const NOBODY: &str = "nobody";

/// Bound of every wait for a run.
const WAIT: Duration = Duration::from_secs(180);

// ---------------------------------------------------------------------------
// The tenant-scoped routes, as data.

/// What a route's `{id}` or `{name}` (or, for `records/retry`, its body)
/// names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Thing {
    Nothing,
    Token,
    Connection,
    Scheme,
    Run,
    Record,
}

/// The (valid) body a route takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Payload {
    Empty,
    /// `{"label": ...}`
    NewToken,
    /// A connection without `allow_addresses`.
    NewConnection,
    /// `{"yaml": ..., "file": ...}` of the tenant's own scheme.
    ApplyScheme,
    /// `{"limit": 2}`
    Preview,
    /// `{"scheme": <the thing>}`
    RetryScheme,
}

/// A tenant-scoped route under `/api/v1`.
#[derive(Debug)]
struct Route {
    method: &'static str,
    path: &'static str,
    thing: Thing,
    payload: Payload,
}

const fn route(method: &'static str, path: &'static str, thing: Thing, payload: Payload) -> Route {
    Route {
        method,
        path,
        thing,
        payload,
    }
}

/// Every tenant-scoped route and method. Checked against the OpenAPI
/// document: a route missing here fails the isolation test.
#[rustfmt::skip]
const TENANT_ROUTES: &[Route] = &[
    //    method    path                                           thing                   body
    route("GET",    "/tenants/{tenant}",                            Thing::Nothing,         Payload::Empty),
    route("GET",    "/tenants/{tenant}/tokens",                     Thing::Nothing,         Payload::Empty),
    route("POST",   "/tenants/{tenant}/tokens",                     Thing::Nothing,         Payload::NewToken),
    route("DELETE", "/tenants/{tenant}/tokens/{id}",                Thing::Token,           Payload::Empty),
    route("GET",    "/tenants/{tenant}/connections",                Thing::Nothing,         Payload::Empty),
    route("POST",   "/tenants/{tenant}/connections",                Thing::Nothing,         Payload::NewConnection),
    route("GET",    "/tenants/{tenant}/connections/{name}",         Thing::Connection,      Payload::Empty),
    route("DELETE", "/tenants/{tenant}/connections/{name}",         Thing::Connection,      Payload::Empty),
    route("POST",   "/tenants/{tenant}/connections/{name}/check",   Thing::Connection,      Payload::Empty),
    route("GET",    "/tenants/{tenant}/schemes",                    Thing::Nothing,         Payload::Empty),
    route("POST",   "/tenants/{tenant}/schemes",                    Thing::Nothing,         Payload::ApplyScheme),
    route("GET",    "/tenants/{tenant}/schemes/{name}",             Thing::Scheme,          Payload::Empty),
    route("DELETE", "/tenants/{tenant}/schemes/{name}",             Thing::Scheme,          Payload::Empty),
    route("POST",   "/tenants/{tenant}/schemes/{name}/run",         Thing::Scheme,          Payload::Empty),
    route("POST",   "/tenants/{tenant}/schemes/{name}/preview",     Thing::Scheme,          Payload::Preview),
    route("GET",    "/tenants/{tenant}/runs",                       Thing::Nothing,         Payload::Empty),
    route("GET",    "/tenants/{tenant}/runs/{id}",                  Thing::Run,             Payload::Empty),
    route("GET",    "/tenants/{tenant}/runs/{id}/logs",             Thing::Run,             Payload::Empty),
    route("GET",    "/tenants/{tenant}/records",                    Thing::Nothing,         Payload::Empty),
    route("GET",    "/tenants/{tenant}/records/{id}",               Thing::Record,          Payload::Empty),
    route("POST",   "/tenants/{tenant}/records/{id}/retry",         Thing::Record,          Payload::Empty),
    route("POST",   "/tenants/{tenant}/records/retry",              Thing::Scheme,          Payload::RetryScheme),
];

/// A tenant's things, by which the routes address them.
#[derive(Debug, Clone)]
struct Things {
    token_id: String,
    connection: String,
    scheme: String,
    run: String,
    record: String,
    /// The scheme's YAML (for `ApplyScheme`).
    yaml: String,
    /// Where its connections point (for `NewConnection`).
    origin: String,
}

impl Things {
    fn get(&self, thing: Thing) -> &str {
        match thing {
            Thing::Nothing => "",
            Thing::Token => &self.token_id,
            Thing::Connection => &self.connection,
            Thing::Scheme => &self.scheme,
            Thing::Run => &self.run,
            Thing::Record => &self.record,
        }
    }

    /// Things that exist nowhere, shaped like real ones.
    fn missing(like: &Things) -> Things {
        Things {
            token_id: "tok-does-not-exist".into(),
            connection: "no-such-connection".into(),
            scheme: "no-such-scheme".into(),
            run: "no-such-run".into(),
            record: "999999999".into(),
            yaml: like.yaml.clone(),
            origin: like.origin.clone(),
        }
    }
}

impl Payload {
    fn body(self, route: &Route, things: &Things) -> Option<Value> {
        Some(match self {
            Payload::Empty => return None,
            Payload::NewToken => json!({"label": "probe"}),
            Payload::NewConnection => json!({
                "name": "probe",
                "plugin": "wdt",
                "settings": {"base_url": things.origin, "sid": "weftsim", "appkey": "weft-wdt-key"},
                "secrets": {"appsecret": "probe-secret-value"},
            }),
            Payload::ApplyScheme => json!({"yaml": things.yaml, "file": "probe.yaml"}),
            Payload::Preview => json!({"limit": 2}),
            Payload::RetryScheme => json!({"scheme": things.get(route.thing)}),
        })
    }
}

impl Route {
    /// The path with `tenant` and the route's thing of `things`.
    fn path(&self, tenant: &str, things: &Things) -> String {
        let thing = things.get(self.thing);
        format!(
            "/api/v1{}",
            self.path
                .replace("{tenant}", tenant)
                .replace("{name}", thing)
                .replace("{id}", thing)
        )
    }

    async fn call(
        &self,
        service: &Service,
        token: Option<&str>,
        tenant: &str,
        things: &Things,
    ) -> (Answer, HeaderMap) {
        let method = Method::from_bytes(self.method.as_bytes()).expect("an HTTP method");
        let mut request = service.request(method, &self.path(tenant, things), token);
        if let Some(body) = self.payload.body(self, things) {
            request = request.json(&body);
        }
        exchange(request).await
    }

    fn name(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

// ---------------------------------------------------------------------------
// Helpers.

/// Sends `request`; the answer and its headers.
async fn exchange(request: reqwest::RequestBuilder) -> (Answer, HeaderMap) {
    let response = request.send().await.expect("the service answers");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.expect("a readable body");
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    (Answer { status, body, text }, headers)
}

/// A request without a body.
async fn bare(service: &Service, method: Method, token: Option<&str>, path: &str) -> Answer {
    service.answer(service.request(method, path, token)).await
}

/// Sends a request over a plain TCP connection, reading the answer while
/// the body is still being written: a service that refuses an oversized
/// body answers before reading it and closes, which an HTTP client that
/// writes the whole body first reports as a broken pipe.
async fn raw_exchange(
    service: &Service,
    method: &str,
    path: &str,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> Answer {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = service
        .origin
        .strip_prefix("http://")
        .expect("an http origin")
        .to_owned();
    let stream = tokio::net::TcpStream::connect(&addr)
        .await
        .expect("connect to the service");
    let (mut reader, mut writer) = stream.into_split();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {ADMIN}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    if let Some(ct) = content_type {
        head.push_str(&format!("Content-Type: {ct}\r\n"));
    }
    head.push_str("\r\n");
    let writing = tokio::spawn(async move {
        if writer.write_all(head.as_bytes()).await.is_err() {
            return;
        }
        for chunk in body.chunks(16 * 1024) {
            if writer.write_all(chunk).await.is_err() {
                return;
            }
        }
        // Dropping the write half would half-close the connection, which
        // the service takes for a client gone; keep it until aborted.
        std::future::pending::<()>().await;
        drop(writer);
    });
    let mut raw = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    let read = tokio::time::timeout(Duration::from_secs(60), async {
        loop {
            match reader.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => raw.extend_from_slice(&buf[..n]),
            }
            if complete_response(&raw) {
                break;
            }
        }
    })
    .await;
    writing.abort();
    assert!(read.is_ok(), "no answer to {method} {path} within 60 s");
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    // No status line: the connection closed without an answer (status 0,
    // which every check refuses).
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = body.to_owned();
    Answer {
        status,
        body: serde_json::from_str(&body).unwrap_or(Value::Null),
        text: body,
    }
}

/// Whether `raw` holds a whole HTTP/1.1 response with a Content-Length.
fn complete_response(raw: &[u8]) -> bool {
    let Some(end) = raw.windows(4).position(|w| w == b"\r\n\r\n") else {
        return false;
    };
    let head = String::from_utf8_lossy(&raw[..end]).to_ascii_lowercase();
    head.lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|n| n.trim().parse::<usize>().ok())
        .is_some_and(|n| raw.len() >= end + 4 + n)
}

/// The first characters of a (possibly huge) text, for messages.
fn short(text: &str) -> String {
    let mut s: String = text.chars().take(300).collect();
    if s.len() < text.len() {
        s.push('…');
    }
    s
}

/// Failures gathered over a table of cases, reported together.
#[derive(Debug, Default)]
struct Failures(Vec<String>);

impl Failures {
    fn check(&mut self, ok: bool, what: impl FnOnce() -> String) {
        if !ok {
            self.0.push(what());
        }
    }

    /// Requires a 4xx in the error shape.
    fn shape(&mut self, what: &str, a: &Answer) {
        if let Some(problem) = not_error_shape(a) {
            self.0.push(format!("{what}: {problem}"));
        }
    }

    /// Requires status `want`.
    fn status(&mut self, what: &str, a: &Answer, want: u16) {
        if a.status != want {
            self.0.push(format!(
                "{what}: want {want}, got {} {}",
                a.status,
                short(&a.text)
            ));
        }
    }

    fn assert_none(&self, title: &str) {
        assert!(
            self.0.is_empty(),
            "{title}: {} failure(s):\n- {}",
            self.0.len(),
            self.0.join("\n- ")
        );
    }
}

/// Why `a` is not a 4xx in the error shape (`None` when it is).
fn not_error_shape(a: &Answer) -> Option<String> {
    let e = &a.body["error"];
    let problem = if !(400..500).contains(&a.status) {
        "not a 4xx"
    } else if a.body.is_null() {
        "the body is not JSON"
    } else if e["status"].as_u64() != Some(u64::from(a.status)) {
        "error.status is not the HTTP status"
    } else if e["code"].as_str().is_none_or(str::is_empty) {
        "no error.code"
    } else if e["message"].as_str().is_none_or(str::is_empty) {
        "no error.message"
    } else {
        return None;
    };
    Some(format!("{problem}: {} {}", a.status, short(&a.text)))
}

/// `text` with every whole occurrence of `name` (not part of a longer
/// name) replaced by `<name>`: two answers that differ only in the name
/// they echo become equal.
fn blind(text: &str, name: &str) -> String {
    let word = |c: char| c.is_alphanumeric() || c == '_' || c == '-';
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (i, _) in text.match_indices(name) {
        let before = text[..i].chars().next_back();
        let after = text[i + name.len()..].chars().next();
        if before.is_some_and(word) || after.is_some_and(word) {
            continue;
        }
        out.push_str(&text[last..i]);
        out.push_str("<name>");
        last = i + name.len();
    }
    out.push_str(&text[last..]);
    out
}

/// Purchase orders modified from 2023-12-05 (+08:00) on: inside the seed
/// scheme's first window (it starts 2023-12-01 and spans 30 days), so
/// that a preview (the first page of the first window) shows some.
fn early_config(purchase_orders: usize) -> SimConfig {
    let mut config = config(purchase_orders);
    config.dataset.base_time = 1_701_705_600;
    config.dataset.spread_days = 20;
    config
}

fn config(purchase_orders: usize) -> SimConfig {
    SimConfig {
        dataset: DatasetConfig {
            purchase_orders,
            ..DatasetConfig::default()
        },
        ..SimConfig::default()
    }
}

fn seed_text(file: &str) -> String {
    std::fs::read_to_string(seed(file)).expect("a seed scheme")
}

/// `weft serve` with no schedules: every run here is started through the
/// API, and nothing starts behind the test's back.
fn serve(demo: &Demo, args: &[&str], env: &[(&str, &str)]) -> Service {
    let mut all = vec!["--no-schedule"];
    all.extend_from_slice(args);
    Service::start(demo, &all, env)
}

/// A tenant token made with the CLI.
fn cli_token(demo: &Demo, tenant: &str) -> String {
    let run = demo.ok(&["tenant", "token", "create", "--tenant", tenant, "--quiet"]);
    let token = run.stdout.trim().to_owned();
    assert!(!token.is_empty(), "no token printed for {tenant}");
    token
}

/// Runs `scheme` through the API and waits for its end; the run.
async fn run_to_end(service: &Service, token: &str, tenant: &str, scheme: &str) -> Value {
    let started = bare(
        service,
        Method::POST,
        Some(token),
        &format!("/api/v1/tenants/{tenant}/schemes/{scheme}/run"),
    )
    .await;
    assert_eq!(
        started.status, 202,
        "run {tenant}/{scheme}: {}",
        started.text
    );
    let id = started.body["run_id"]
        .as_str()
        .unwrap_or_else(|| panic!("no run_id: {}", started.text))
        .to_owned();
    let run = service
        .wait_for(
            token,
            &format!("/api/v1/tenants/{tenant}/runs/{id}"),
            WAIT,
            |a| a.status == 200 && !a.body["finished_at"].is_null(),
        )
        .await;
    assert_eq!(
        run.body["status"], "succeeded",
        "run {id} of {tenant}/{scheme}: {}",
        run.text
    );
    run.body
}

/// What the admin sees of a tenant: everything a tenant's token could
/// have changed.
async fn snapshot(service: &Service, tenant: &str) -> Value {
    let mut all = serde_json::Map::new();
    for part in [
        "",
        "/tokens",
        "/connections",
        "/schemes",
        "/runs?limit=1000",
        "/records?limit=1000",
    ] {
        let a = service
            .get(ADMIN, &format!("/api/v1/tenants/{tenant}{part}"))
            .await;
        assert_eq!(a.status, 200, "admin GET {tenant}{part}: {}", a.text);
        all.insert(part.to_owned(), a.body);
    }
    Value::Object(all)
}

/// `demo`'s or `other`'s things, made through the API: a finished run,
/// a `done` record, its token's id.
async fn things(
    service: &Service,
    token: &str,
    tenant: &str,
    connection: &str,
    scheme: &str,
    yaml: String,
    origin: &str,
) -> Things {
    let run = run_to_end(service, token, tenant, scheme).await;
    assert!(
        run["counts"]["written"].as_u64().is_some_and(|n| n > 0),
        "{tenant}'s run wrote nothing: {run:#}"
    );
    let records = service
        .get(
            token,
            &format!("/api/v1/tenants/{tenant}/records?scheme={scheme}&status=done&limit=5"),
        )
        .await;
    assert_eq!(records.status, 200, "{}", records.text);
    let record = records.body[0]["id"]
        .as_i64()
        .unwrap_or_else(|| panic!("{tenant} has no done record: {}", records.text));
    let tokens = service
        .get(ADMIN, &format!("/api/v1/tenants/{tenant}/tokens"))
        .await;
    let token_id = tokens.body[0]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{tenant} has no token: {}", tokens.text))
        .to_owned();
    Things {
        token_id,
        connection: connection.to_owned(),
        scheme: scheme.to_owned(),
        run: run["id"].as_str().expect("a run id").to_owned(),
        record: record.to_string(),
        yaml,
        origin: origin.to_owned(),
    }
}

/// The purchase-order seed for tenant `other`: its own name and
/// connections.
fn other_scheme_yaml() -> String {
    let text = seed_text(PO_SEED);
    let yaml = text
        .replace(&format!("name: {PO}\n"), &format!("name: {OTHER_PO}\n"))
        .replace("connection: wdt\n", &format!("connection: {OTHER_WDT}\n"))
        .replace(
            "connection: k3cloud\n",
            &format!("connection: {OTHER_K3}\n"),
        );
    for want in [OTHER_PO, OTHER_WDT, OTHER_K3] {
        assert!(yaml.contains(want), "the seed changed shape: no {want}");
    }
    yaml
}

/// Tenant `other`, with connections to its own simulator and its scheme.
fn add_other(demo: &Demo, sim: &SimHandle) -> String {
    demo.ok(&["tenant", "add", OTHER]);
    let origin = sim.origin();
    let file = demo.home().join("other-connections.yaml");
    std::fs::write(
        &file,
        format!(
            r#"connections:
  - name: {OTHER_WDT}
    plugin: wdt
    settings: {{ base_url: "{origin}", sid: weftsim, appkey: weft-wdt-key }}
    secrets: {{ appsecret: weft-wdt-secret }}
    allow_addresses: [127.0.0.1]
  - name: {OTHER_K3}
    plugin: k3cloud
    settings:
      base_url: "{origin}/k3cloud/"
      auth_mode: session
      acctid: weft-dc
      username: administrator
    secrets: {{ password: "888888" }}
    allow_addresses: [127.0.0.1]
"#
        ),
    )
    .expect("write other's connections");
    demo.ok(&[
        "connection",
        "apply",
        file.to_str().expect("utf-8"),
        "--tenant",
        OTHER,
    ]);
    let yaml = other_scheme_yaml();
    let scheme = demo.home().join("other-scheme.yaml");
    std::fs::write(&scheme, &yaml).expect("write other's scheme");
    demo.ok(&[
        "scheme",
        "apply",
        scheme.to_str().expect("utf-8"),
        "--tenant",
        OTHER,
    ]);
    yaml
}

/// Every operation of the OpenAPI document: method (upper case), path,
/// operation.
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let paths = doc["paths"].as_object().expect("the document has paths");
    let mut ops = Vec::new();
    for (path, item) in paths {
        for (method, op) in item.as_object().expect("a path item") {
            if ["get", "post", "put", "patch", "delete", "head", "options"]
                .contains(&method.as_str())
            {
                ops.push((method.to_uppercase(), path.clone(), op.clone()));
            }
        }
    }
    ops
}

/// The `{parameters}` of a path template.
fn path_params(path: &str) -> Vec<&str> {
    path.split('/')
        .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .collect()
}

async fn openapi(service: &Service) -> Value {
    let a = bare(service, Method::GET, None, "/api/v1/openapi.json").await;
    assert_eq!(a.status, 200, "the OpenAPI document: {}", short(&a.text));
    a.body
}

/// Unix seconds now.
fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs()
}

/// A callback to the webhook seed, signed (`secret`) at `at`.
pub(super) fn hook_request(
    service: &Service,
    tenant: &str,
    body: &[u8],
    secret: &str,
    at: u64,
) -> reqwest::RequestBuilder {
    service
        .request(Method::POST, &format!("/hooks/{tenant}/{HOOK}"), None)
        .header(CONTENT_TYPE, "application/json")
        .header("X-Weft-Timestamp", at.to_string())
        .header(
            "X-Weft-Signature",
            super::hook_signature(secret, &at.to_string(), body),
        )
        .body(body.to_vec())
}

// ---------------------------------------------------------------------------
// 1. Isolation.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_token_finds_nothing_of_another_tenant_on_any_route() {
    let demo = Demo::start(config(20), &["wdt", "k3cloud"]);
    // `other` writes to its own simulator: the two tenants' documents
    // never meet in one target.
    let other_sim = Simulator::start(config(20)).expect("the second simulator starts");
    demo.apply_seed(PO_SEED);
    let other_yaml = add_other(&demo, &other_sim);
    let demo_token = cli_token(&demo, TENANT);
    let other_token = cli_token(&demo, OTHER);
    let service = serve(&demo, &[], &[]);

    let mine = things(
        &service,
        &demo_token,
        TENANT,
        "wdt",
        PO,
        seed_text(PO_SEED),
        demo.sim.origin(),
    )
    .await;
    let theirs = things(
        &service,
        &other_token,
        OTHER,
        OTHER_WDT,
        OTHER_PO,
        other_yaml,
        other_sim.origin(),
    )
    .await;
    let missing = Things::missing(&mine);
    let before = snapshot(&service, OTHER).await;
    let other_bills = other_sim.k3_bill_count("PUR_PurchaseOrder");
    assert_eq!(other_bills, 20, "other's run wrote its 20 orders");

    // The table covers every tenant-scoped route of the document, and
    // nothing else.
    let doc = openapi(&service).await;
    let documented: BTreeSet<(String, String)> = operations(&doc)
        .into_iter()
        .filter_map(|(m, p, _)| {
            p.strip_prefix("/api/v1")
                .filter(|p| p.starts_with("/tenants/{tenant}"))
                .map(|p| (m, p.to_owned()))
        })
        .collect();
    let table: BTreeSet<(String, String)> = TENANT_ROUTES
        .iter()
        .map(|r| (r.method.to_owned(), r.path.to_owned()))
        .collect();
    let uncovered: Vec<_> = documented.difference(&table).collect();
    assert!(
        uncovered.is_empty(),
        "tenant-scoped routes of the OpenAPI document without an isolation case: {uncovered:?}"
    );
    let undocumented: Vec<_> = table.difference(&documented).collect();
    assert!(
        undocumented.is_empty(),
        "routes of the isolation table missing from the OpenAPI document: {undocumented:?}"
    );

    let mut failures = Failures::default();
    for route in TENANT_ROUTES {
        let name = route.name();
        // `/tenants/other/...` with other's things, as `/tenants/nobody/...`.
        let (theirs_answer, _) = route
            .call(&service, Some(&demo_token), OTHER, &theirs)
            .await;
        let (nobody_answer, _) = route
            .call(&service, Some(&demo_token), NOBODY, &theirs)
            .await;
        failures.check(
            theirs_answer.status == 404 && theirs_answer.body["error"]["code"] == "not_found",
            || {
                format!(
                    "{name} on tenant other with demo's token: want 404 not_found, got {} {}",
                    theirs_answer.status,
                    short(&theirs_answer.text)
                )
            },
        );
        failures.check(
            blind(&theirs_answer.text, OTHER) == blind(&nobody_answer.text, NOBODY)
                && theirs_answer.status == nobody_answer.status,
            || {
                format!(
                    "{name}: tenant other answers unlike a tenant that does not exist:\n    other:  {} {}\n    nobody: {} {}",
                    theirs_answer.status,
                    short(&theirs_answer.text),
                    nobody_answer.status,
                    short(&nobody_answer.text)
                )
            },
        );
        // `/tenants/demo/...` with other's thing, as with a thing that
        // does not exist.
        if route.thing != Thing::Nothing {
            let (a, _) = route
                .call(&service, Some(&demo_token), TENANT, &theirs)
                .await;
            let (b, _) = route
                .call(&service, Some(&demo_token), TENANT, &missing)
                .await;
            failures.check(
                a.status == 404 && a.body["error"]["code"] == "not_found",
                || {
                    format!(
                        "{name} on demo with other's {:?} {}: want 404 not_found, got {} {}",
                        route.thing,
                        theirs.get(route.thing),
                        a.status,
                        short(&a.text)
                    )
                },
            );
            failures.check(
                blind(&a.text, theirs.get(route.thing)) == blind(&b.text, missing.get(route.thing))
                    && a.status == b.status,
                || {
                    format!(
                        "{name}: other's {:?} under demo answers unlike one that does not exist:\n    other's: {} {}\n    missing: {} {}",
                        route.thing,
                        a.status,
                        short(&a.text),
                        b.status,
                        short(&b.text)
                    )
                },
            );
        }
    }

    // Demo's lists never show other's things, even when asked by name.
    for list in ["runs", "records"] {
        let a = service
            .get(
                &demo_token,
                &format!("/api/v1/tenants/{TENANT}/{list}?scheme={OTHER_PO}"),
            )
            .await;
        failures.check(a.status == 200 && a.body == json!([]), || {
            format!(
                "demo's {list} of other's scheme: want 200 [], got {} {}",
                a.status,
                short(&a.text)
            )
        });
    }
    for (list, field, theirs_value) in [
        ("connections", "name", OTHER_WDT),
        ("schemes", "name", OTHER_PO),
        ("tokens", "id", theirs.token_id.as_str()),
        ("runs", "id", theirs.run.as_str()),
    ] {
        let a = service
            .get(&demo_token, &format!("/api/v1/tenants/{TENANT}/{list}"))
            .await;
        let values: Vec<&Value> = a
            .body
            .as_array()
            .map(|items| items.iter().map(|i| &i[field]).collect())
            .unwrap_or_default();
        failures.check(
            a.status == 200 && !values.iter().any(|v| *v == theirs_value),
            || {
                format!(
                    "demo's {list}: want 200 without other's {theirs_value}, got {} {}",
                    a.status,
                    short(&a.text)
                )
            },
        );
    }
    // A scheme of demo's cannot use other's connection: refused exactly
    // like a connection that does not exist.
    let borrowing =
        seed_text(PO_SEED).replace("connection: wdt\n", &format!("connection: {OTHER_WDT}\n"));
    let absent =
        seed_text(PO_SEED).replace("connection: wdt\n", "connection: no-such-connection\n");
    let schemes = format!("/api/v1/tenants/{TENANT}/schemes");
    let a = service
        .post(
            &demo_token,
            &schemes,
            &json!({"yaml": borrowing, "file": "borrow.yaml"}),
        )
        .await;
    let b = service
        .post(
            &demo_token,
            &schemes,
            &json!({"yaml": absent, "file": "borrow.yaml"}),
        )
        .await;
    failures.check(
        (400..500).contains(&a.status)
            && a.status == b.status
            && blind(&a.text, OTHER_WDT) == blind(&b.text, "no-such-connection"),
        || {
            format!(
                "a demo scheme naming other's connection is answered unlike one naming no connection:\n    other's: {} {}\n    missing: {} {}",
                a.status,
                short(&a.text),
                b.status,
                short(&b.text)
            )
        },
    );

    // Tenants: each token sees its own; admin-only routes are 403.
    let ids = |a: &Answer| -> Vec<String> {
        a.body
            .as_array()
            .map(|t| {
                t.iter()
                    .filter_map(|t| t["id"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let a = service.get(&demo_token, "/api/v1/tenants").await;
    failures.check(a.status == 200 && ids(&a) == [TENANT], || {
        format!(
            "demo's token lists tenants: {} {}",
            a.status,
            short(&a.text)
        )
    });
    let a = service.get(&other_token, "/api/v1/tenants").await;
    failures.check(a.status == 200 && ids(&a) == [OTHER], || {
        format!(
            "other's token lists tenants: {} {}",
            a.status,
            short(&a.text)
        )
    });
    let a = service.get(ADMIN, "/api/v1/tenants").await;
    failures.check(
        a.status == 200
            && ids(&a).contains(&TENANT.to_owned())
            && ids(&a).contains(&OTHER.to_owned()),
        || format!("the admin lists tenants: {} {}", a.status, short(&a.text)),
    );
    let a = service
        .post(&demo_token, "/api/v1/tenants", &json!({"id": "intruder"}))
        .await;
    failures.check(
        a.status == 403 && a.body["error"]["code"] == "forbidden",
        || {
            format!(
                "a tenant token creates a tenant: {} {}",
                a.status,
                short(&a.text)
            )
        },
    );
    let a = service
        .answer(
            service
                .request(Method::POST, "/api/v1/plugins", Some(&demo_token))
                .header(CONTENT_TYPE, "application/wasm")
                .body(plugin_wasm("wdt")),
        )
        .await;
    failures.check(
        a.status == 403 && a.body["error"]["code"] == "forbidden",
        || {
            format!(
                "a tenant token uploads a plugin: {} {}",
                a.status,
                short(&a.text)
            )
        },
    );
    let a = service.get(&demo_token, "/metrics").await;
    failures.check(
        a.status == 403 && a.body["error"]["code"] == "forbidden",
        || {
            format!(
                "a tenant token scrapes /metrics: {} {}",
                a.status,
                short(&a.text)
            )
        },
    );
    let a = service
        .post(
            &demo_token,
            &format!("/api/v1/tenants/{TENANT}/connections"),
            &json!({
                "name": "inside",
                "plugin": "wdt",
                "settings": {"base_url": demo.sim.origin(), "sid": "weftsim", "appkey": "weft-wdt-key"},
                "secrets": {"appsecret": "weft-wdt-secret"},
                "allow_addresses": ["127.0.0.1"],
            }),
        )
        .await;
    failures.check(
        a.status == 403 && a.body["error"]["code"] == "forbidden",
        || {
            format!(
                "a tenant token sets allow_addresses: {} {}",
                a.status,
                short(&a.text)
            )
        },
    );
    let a = service
        .get(
            &demo_token,
            &format!("/api/v1/tenants/{TENANT}/connections/inside"),
        )
        .await;
    failures.check(a.status == 404, || {
        format!(
            "the refused connection exists: {} {}",
            a.status,
            short(&a.text)
        )
    });
    let a = service.get(ADMIN, "/api/v1/tenants").await;
    failures.check(!ids(&a).contains(&"intruder".to_owned()), || {
        format!("the refused tenant exists: {}", short(&a.text))
    });

    // No token, a wrong token, a revoked token: 401 with
    // `WWW-Authenticate: Bearer` on every route.
    let issued = service
        .post(
            &demo_token,
            &format!("/api/v1/tenants/{TENANT}/tokens"),
            &json!({"label": "short-lived"}),
        )
        .await;
    assert_eq!(issued.status, 201, "{}", issued.text);
    let revoked = issued.body["secret"].as_str().expect("a secret").to_owned();
    let revoked_id = issued.body["id"].as_str().expect("an id").to_owned();
    let a = service
        .get(&revoked, &format!("/api/v1/tenants/{TENANT}"))
        .await;
    assert_eq!(a.status, 200, "the new token works: {}", a.text);
    let a = bare(
        &service,
        Method::DELETE,
        Some(&demo_token),
        &format!("/api/v1/tenants/{TENANT}/tokens/{revoked_id}"),
    )
    .await;
    assert_eq!(a.status, 204, "revoke: {}", a.text);
    for route in TENANT_ROUTES {
        for (label, token) in [
            ("no token", None),
            ("a wrong token", Some("weft_this-is-not-a-token")),
            ("a revoked token", Some(revoked.as_str())),
        ] {
            let (a, headers) = route.call(&service, token, TENANT, &mine).await;
            let challenge = headers.get(WWW_AUTHENTICATE).and_then(|v| v.to_str().ok());
            failures.check(
                a.status == 401 && a.body["error"]["code"] == "unauthorized" && challenge == Some("Bearer"),
                || {
                    format!(
                        "{} with {label}: want 401 unauthorized + WWW-Authenticate: Bearer, got {} (WWW-Authenticate {challenge:?}) {}",
                        route.name(),
                        a.status,
                        short(&a.text)
                    )
                },
            );
        }
    }
    let (a, headers) = exchange(
        service
            .request(Method::GET, "/api/v1/tenants", None)
            .header("Authorization", format!("Basic {demo_token}")),
    )
    .await;
    failures.check(
        a.status == 401 && headers.get(WWW_AUTHENTICATE).is_some_and(|v| v == "Bearer"),
        || {
            format!(
                "a Basic Authorization header: {} {}",
                a.status,
                short(&a.text)
            )
        },
    );

    // Nothing of other changed, and its token still works.
    let after = snapshot(&service, OTHER).await;
    failures.check(before == after, || {
        format!("other's state changed:\n    before: {before}\n    after:  {after}")
    });
    failures.check(
        other_sim.k3_bill_count("PUR_PurchaseOrder") == other_bills,
        || "other's target received documents during the probes".to_owned(),
    );
    let a = service
        .get(&other_token, &format!("/api/v1/tenants/{OTHER}"))
        .await;
    failures.check(a.status == 200, || {
        format!("other's token after all: {} {}", a.status, short(&a.text))
    });
    failures.assert_none("tenant isolation");
    other_sim.shutdown();
}

// ---------------------------------------------------------------------------
// 2. Bad requests.

/// A bad body to send: what it is, its content type, its bytes, and the
/// status it must get when one status is right.
type BadBody<'a> = (&'a str, Option<&'a str>, Vec<u8>, Option<u16>);

/// A valid JSON body for each JSON route of the document.
fn valid_body(method: &str, path: &str, origin: &str) -> Option<Value> {
    Some(match (method, path) {
        ("POST", "/api/v1/tenants") => json!({"id": "fresh-tenant", "title": "Fresh"}),
        ("POST", "/api/v1/tenants/{tenant}/tokens") => json!({"label": "probe"}),
        ("POST", "/api/v1/tenants/{tenant}/connections") => json!({
            "name": "probe",
            "plugin": "wdt",
            "settings": {"base_url": origin, "sid": "weftsim", "appkey": "weft-wdt-key"},
            "secrets": {"appsecret": "weft-wdt-secret"},
        }),
        ("POST", "/api/v1/tenants/{tenant}/schemes") => {
            json!({"yaml": seed_text(PO_SEED), "file": PO_SEED})
        }
        ("POST", "/api/v1/tenants/{tenant}/schemes/{name}/preview") => json!({"limit": 1}),
        ("POST", "/api/v1/tenants/{tenant}/records/retry") => json!({"scheme": PO}),
        _ => return None,
    })
}

/// The value of path parameter `param` of `path` that exists (or at
/// least could) in the bad-requests service.
fn real_param(path: &str, param: &str, token_id: &str) -> String {
    let before = path
        .split('/')
        .take_while(|s| *s != format!("{{{param}}}"))
        .last()
        .unwrap_or("");
    match (param, before) {
        ("tenant", _) => TENANT.into(),
        ("scheme", _) => HOOK.into(),
        (_, "connections") => "wdt".into(),
        (_, "schemes") => PO.into(),
        (_, "plugins") => "wdt".into(),
        (_, "tokens") => token_id.into(),
        (_, "runs") => "no-such-run".into(),
        (_, "records") => "1".into(),
        _ => panic!("no value for {{{param}}} of {path}: add one"),
    }
}

fn fill(path: &str, token_id: &str, odd: Option<(&str, &str)>) -> String {
    let mut out = path.to_owned();
    for param in path_params(path) {
        let value = match odd {
            Some((p, v)) if p == param => v.to_owned(),
            _ => real_param(path, param, token_id),
        };
        out = out.replace(&format!("{{{param}}}"), &value);
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_get_json_4xx_answers_and_never_take_the_service_down() {
    let demo = Demo::start(early_config(5), &["wdt", "k3cloud"]);
    demo.apply_seed(PO_SEED);
    demo.apply_seed(HOOK_SEED);
    let service = serve(
        &demo,
        &["--body-limit", "65536"],
        &[("WEFT_HOOK_SECRET_OPENCALLBACK", HOOK_SECRET)],
    );
    let origin = demo.sim.origin().to_owned();
    let issued = service
        .post(
            ADMIN,
            &format!("/api/v1/tenants/{TENANT}/tokens"),
            &json!({"label": "kept"}),
        )
        .await;
    assert_eq!(issued.status, 201, "{}", issued.text);
    let token_id = issued.body["id"].as_str().expect("an id").to_owned();
    let before = snapshot(&service, TENANT).await;
    let doc = openapi(&service).await;
    let ops = operations(&doc);
    let mut failures = Failures::default();
    let mut sent = 0usize;

    let megabyte = format!("{{\"yaml\": \"{}\"}}", "x".repeat(1 << 20)).into_bytes();
    let garbage_wasm = vec![0xA5u8; 1 << 20];

    // Bodies: every route that takes one.
    for (method, path, op) in &ops {
        if op.get("requestBody").is_none() {
            continue;
        }
        let url = fill(path, &token_id, None);
        // (what, content type, body, the status the route documents)
        let variants: Vec<BadBody> = if path == "/api/v1/plugins" {
            vec![
                (
                    "text/plain",
                    Some("text/plain"),
                    b"hello".to_vec(),
                    Some(415),
                ),
                ("no content type", None, b"hello".to_vec(), Some(415)),
                (
                    "JSON",
                    Some("application/json"),
                    b"{\"a\": 1}".to_vec(),
                    Some(415),
                ),
                (
                    "not a component",
                    Some("application/wasm"),
                    b"\0asm garbage".to_vec(),
                    None,
                ),
                (
                    "1 MiB of garbage",
                    Some("application/wasm"),
                    garbage_wasm.clone(),
                    None,
                ),
            ]
        } else if path.starts_with("/hooks/") {
            vec![
                (
                    "malformed JSON, unsigned",
                    Some("application/json"),
                    b"{\"tid\": ".to_vec(),
                    None,
                ),
                (
                    "text, unsigned",
                    Some("text/plain"),
                    b"hello".to_vec(),
                    None,
                ),
                ("no content type, unsigned", None, b"[1, 2]".to_vec(), None),
                (
                    "1 MiB",
                    Some("application/json"),
                    megabyte.clone(),
                    Some(413),
                ),
            ]
        } else {
            let Some(valid) = valid_body(method, path, &origin) else {
                failures.0.push(format!(
                    "{method} {path} takes a body but has no bad-body case here: add one"
                ));
                continue;
            };
            let mut unknown = valid.clone();
            unknown["surely_not_a_field"] = json!(1);
            let valid = serde_json::to_vec(&valid).expect("JSON");
            vec![
                (
                    "malformed JSON",
                    Some("application/json"),
                    b"{\"unterminated".to_vec(),
                    Some(400),
                ),
                (
                    "a JSON array",
                    Some("application/json"),
                    b"[1, 2, 3]".to_vec(),
                    // serde reads a struct from an array too: 400 or 422
                    // by where it stops.
                    None,
                ),
                (
                    "a JSON string",
                    Some("application/json"),
                    b"\"text\"".to_vec(),
                    Some(422),
                ),
                (
                    "an unknown field",
                    Some("application/json"),
                    serde_json::to_vec(&unknown).expect("JSON"),
                    Some(422),
                ),
                ("text/plain", Some("text/plain"), valid.clone(), Some(415)),
                ("no content type", None, valid, Some(415)),
                (
                    "1 MiB",
                    Some("application/json"),
                    megabyte.clone(),
                    Some(413),
                ),
            ]
        };
        for (what, content_type, body, want) in variants {
            let a = raw_exchange(&service, method, &url, content_type, body).await;
            sent += 1;
            let name = format!("{method} {path} with {what}");
            if let Some(want) = want {
                failures.status(&name, &a, want);
            }
            failures.shape(&name, &a);
        }
    }

    // Odd path parameters, one at a time, on every route that has some.
    let long = "a".repeat(10 * 1024);
    let odd: [&str; 8] = [
        long.as_str(),
        "%00",
        "%FF",
        "..%2F..%2Fetc%2Fpasswd",
        "%20",
        "-1",
        "99999999999999999999",
        "x'%3B%20DROP%20TABLE%20tenants%3B--",
    ];
    for (method, path, op) in &ops {
        let m = Method::from_bytes(method.as_bytes()).expect("a method");
        for param in path_params(path) {
            for value in odd {
                let url = fill(path, &token_id, Some((param, value)));
                let mut request = service.request(m.clone(), &url, Some(ADMIN));
                if op.get("requestBody").is_some() {
                    match valid_body(method, path, &origin) {
                        Some(body) => request = request.json(&body),
                        None => {
                            request = request.header(CONTENT_TYPE, "application/json").body("{}")
                        }
                    }
                }
                let a = service.answer(request).await;
                sent += 1;
                failures.shape(
                    &format!("{method} {path} with {{{param}}} = {}", short(value)),
                    &a,
                );
            }
        }
    }

    // Unknown or broken query parameters where a route takes a query: the
    // document's query parameters, and those the handlers are known to
    // take (in case the document misses them).
    let mut query_routes = 0;
    for (method, path, op) in &ops {
        let mut query_params: Vec<&str> = op["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| p["in"] == "query")
            .filter_map(|p| p["name"].as_str())
            .collect();
        query_params.extend(match (method.as_str(), path.as_str()) {
            ("GET", "/api/v1/tenants/{tenant}/runs") => &["scheme", "limit"][..],
            ("GET", "/api/v1/tenants/{tenant}/records") => &["scheme", "status", "limit"][..],
            ("POST", "/api/v1/plugins") => &["file", "force"][..],
            _ => &[][..],
        });
        if query_params.is_empty() {
            continue;
        }
        query_routes += 1;
        let m = Method::from_bytes(method.as_bytes()).expect("a method");
        let mut queries = vec!["surely_not_a_param=1"];
        if query_params.contains(&"limit") {
            queries.extend(["limit=many", "limit=-1"]);
        }
        if query_params.contains(&"status") {
            queries.push("status=weird");
        }
        for query in queries {
            let url = format!("{}?{query}", fill(path, &token_id, None));
            let mut request = service.request(m.clone(), &url, Some(ADMIN));
            if method == "POST" && path == "/api/v1/plugins" {
                request = request
                    .header(CONTENT_TYPE, "application/wasm")
                    .body(b"\0asm garbage".to_vec());
            }
            let a = service.answer(request).await;
            sent += 1;
            let name = format!("{method} {path}?{query}");
            failures.status(&name, &a, 400);
            failures.shape(&name, &a);
        }
    }

    assert!(query_routes >= 3, "only {query_routes} routes with a query");

    // Webhooks: garbage, forged or stale callbacks store nothing.
    let trade = br#"[{"tid": "T-API-1", "shop_no": "S1", "trade_status": 30, "paid": 1}]"#;
    let at = now();
    let hooks: Vec<(&str, reqwest::RequestBuilder, u16)> = vec![
        (
            "JSON signed with the wrong secret",
            hook_request(&service, TENANT, trade, "not-the-secret", at),
            401,
        ),
        (
            "not JSON, signed with the wrong secret",
            hook_request(
                &service,
                TENANT,
                b"<xml>garbage</xml>",
                "not-the-secret",
                at,
            ),
            401,
        ),
        (
            "not JSON, rightly signed",
            hook_request(&service, TENANT, b"<xml>garbage</xml>", HOOK_SECRET, at),
            400,
        ),
        (
            "JSON rightly signed an hour ago",
            hook_request(&service, TENANT, trade, HOOK_SECRET, at - 3600),
            401,
        ),
        (
            "JSON without a signature",
            service
                .request(Method::POST, &format!("/hooks/{TENANT}/{HOOK}"), None)
                .header(CONTENT_TYPE, "application/json")
                .header("X-Weft-Timestamp", at.to_string())
                .body(trade.to_vec()),
            401,
        ),
        (
            "a signature that is not hex",
            service
                .request(Method::POST, &format!("/hooks/{TENANT}/{HOOK}"), None)
                .header(CONTENT_TYPE, "application/json")
                .header("X-Weft-Timestamp", at.to_string())
                .header("X-Weft-Signature", "zz-not-hex")
                .body(trade.to_vec()),
            401,
        ),
        (
            "a tenant that does not exist",
            hook_request(&service, NOBODY, trade, HOOK_SECRET, at),
            404,
        ),
    ];
    for (what, request, want) in hooks {
        let a = service.answer(request).await;
        sent += 1;
        let name = format!("webhook with {what}");
        failures.status(&name, &a, want);
        failures.shape(&name, &a);
    }
    // A pulled scheme takes no callbacks.
    let a = service
        .answer(
            service
                .request(Method::POST, &format!("/hooks/{TENANT}/{PO}"), None)
                .header(CONTENT_TYPE, "application/json")
                .body(trade.to_vec()),
        )
        .await;
    sent += 1;
    failures.shape(&format!("webhook to the pulled scheme {PO}"), &a);
    for list in ["records", "runs"] {
        let a = service
            .get(
                ADMIN,
                &format!("/api/v1/tenants/{TENANT}/{list}?scheme={HOOK}"),
            )
            .await;
        failures.check(a.status == 200 && a.body == json!([]), || {
            format!(
                "refused callbacks left {list}: {} {}",
                a.status,
                short(&a.text)
            )
        });
    }
    failures.check(
        demo.sim
            .received(System::Wdt, "trade_push")
            .entries
            .is_empty(),
        || "refused callbacks reached 旺店通 trade_push".to_owned(),
    );

    // The service is up and serves as before; nothing of the bad
    // requests was kept.
    let health = bare(&service, Method::GET, None, "/healthz").await;
    assert_eq!(
        health.status, 200,
        "/healthz after {sent} bad requests: {}",
        health.text
    );
    let after = snapshot(&service, TENANT).await;
    failures.check(before == after, || {
        format!("bad requests changed demo:\n    before: {before}\n    after:  {after}")
    });
    let tenants = service.get(ADMIN, "/api/v1/tenants").await;
    failures.check(
        tenants.status == 200 && !tenants.text.contains("fresh-tenant"),
        || {
            format!(
                "tenants after bad requests: {} {}",
                tenants.status,
                short(&tenants.text)
            )
        },
    );
    let preview = service
        .post(
            ADMIN,
            &format!("/api/v1/tenants/{TENANT}/schemes/{PO}/preview"),
            &json!({"limit": 1}),
        )
        .await;
    failures.check(
        preview.status == 200
            && preview.body["records"]
                .as_array()
                .is_some_and(|r| r.len() == 1),
        || {
            format!(
                "a preview after bad requests: {} {}",
                preview.status,
                short(&preview.text)
            )
        },
    );
    assert!(sent > 100, "only {sent} bad requests were sent");
    failures.assert_none(&format!("{sent} bad requests"));
}

// ---------------------------------------------------------------------------
// 3. The whole cycle over the API.

/// Secrets of the cycle test: distinctive, so that finding one in an
/// answer means it leaked.
const WDT_SECRET: &str = "wdt-Secret-7Qx2v9Lk";
const K3_PASSWORD: &str = "k3-Pass-4Rt8Wm1Z";
const SCRATCH_SECRET: &str = "scratch-Secret-9Hn3Pq";

/// Calls the service and keeps every answer's text.
struct Client<'s> {
    service: &'s Service,
    seen: Vec<String>,
}

impl Client<'_> {
    async fn call(
        &mut self,
        method: Method,
        token: &str,
        path: &str,
        body: Option<Value>,
    ) -> Answer {
        let mut request = self.service.request(method, path, Some(token));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let a = self.service.answer(request).await;
        self.seen.push(a.text.clone());
        a
    }

    async fn get(&mut self, token: &str, path: &str) -> Answer {
        self.call(Method::GET, token, path, None).await
    }

    async fn post(&mut self, token: &str, path: &str, body: Value) -> Answer {
        self.call(Method::POST, token, path, Some(body)).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_does_the_whole_cycle_over_the_api() {
    let mut sim_config = early_config(20);
    WDT_SECRET.clone_into(&mut sim_config.credentials.wdt.appsecret);
    K3_PASSWORD.clone_into(&mut sim_config.credentials.k3cloud.password);
    let demo = Demo::start(sim_config, &["wdt", "k3cloud"]);
    let origin = demo.sim.origin().to_owned();
    let service = serve(&demo, &[], &[]);
    let mut c = Client {
        service: &service,
        seen: Vec::new(),
    };
    let t = "/api/v1/tenants/acme";

    // The admin adds a tenant and issues it a token.
    let a = c
        .post(
            ADMIN,
            "/api/v1/tenants",
            json!({"id": "acme", "title": "Acme Trading"}),
        )
        .await;
    assert_eq!(a.status, 201, "create tenant: {}", a.text);
    assert_eq!(a.body["id"], "acme", "{}", a.text);
    let a = c
        .post(ADMIN, "/api/v1/tenants", json!({"id": "acme"}))
        .await;
    assert_eq!(
        (a.status, a.body["error"]["code"].as_str()),
        (409, Some("conflict")),
        "a second acme: {}",
        a.text
    );
    let a = c
        .post(ADMIN, &format!("{t}/tokens"), json!({"label": "ci"}))
        .await;
    assert_eq!(a.status, 201, "issue token: {}", a.text);
    let token = a.body["secret"]
        .as_str()
        .expect("the token's value")
        .to_owned();
    let token_id = a.body["id"].as_str().expect("the token's id").to_owned();
    let token = token.as_str();

    // The token works, for acme only.
    let a = c.get(token, t).await;
    assert_eq!(
        (a.status, &a.body["id"]),
        (200, &json!("acme")),
        "{}",
        a.text
    );
    let a = c.get(token, "/api/v1/tenants").await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.body.as_array().map(Vec::len), Some(1), "{}", a.text);
    let a = c.get(token, &format!("{t}/tokens")).await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert!(
        a.body.as_array().is_some_and(|ts| ts
            .iter()
            .any(|x| x["id"] == token_id.as_str() && x["label"] == "ci")),
        "the token is listed: {}",
        a.text
    );
    assert!(
        !a.text.contains(token),
        "a token list shows a token's value"
    );

    // Connections with secrets: the admin adds those that reach the
    // simulator on loopback (allow_addresses is the admin's); the tenant
    // adds, reads and removes one of its own.
    let a = c
        .post(
            ADMIN,
            &format!("{t}/connections"),
            json!({
                "name": "wdt",
                "plugin": "wdt",
                "settings": {"base_url": origin, "sid": "weftsim", "appkey": "weft-wdt-key"},
                "secrets": {"appsecret": WDT_SECRET},
                "allow_addresses": ["127.0.0.1"],
                "rate_limit": "100/s",
            }),
        )
        .await;
    assert_eq!(a.status, 201, "add wdt: {}", a.text);
    assert_eq!(a.body["secrets"], json!(["appsecret"]), "{}", a.text);
    let a = c
        .post(
            ADMIN,
            &format!("{t}/connections"),
            json!({
                "name": "k3cloud",
                "plugin": "k3cloud",
                "settings": {
                    "base_url": format!("{origin}/k3cloud/"),
                    "auth_mode": "session",
                    "acctid": "weft-dc",
                    "username": "administrator",
                },
                "secrets": {"password": K3_PASSWORD},
                "allow_addresses": ["127.0.0.1"],
            }),
        )
        .await;
    assert_eq!(a.status, 201, "add k3cloud: {}", a.text);
    assert_eq!(a.body["secrets"], json!(["password"]), "{}", a.text);
    let a = c
        .post(
            token,
            &format!("{t}/connections"),
            json!({
                "name": "scratch",
                "plugin": "wdt",
                "settings": {"base_url": "https://wdt.example.com", "sid": "s1", "appkey": "k1"},
                "secrets": {"appsecret": SCRATCH_SECRET},
            }),
        )
        .await;
    assert_eq!(a.status, 201, "the tenant adds a connection: {}", a.text);
    let a = c.get(token, &format!("{t}/connections/scratch")).await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.body["secrets"], json!(["appsecret"]), "{}", a.text);
    let a = c
        .call(
            Method::DELETE,
            token,
            &format!("{t}/connections/scratch"),
            None,
        )
        .await;
    assert_eq!(a.status, 204, "remove scratch: {}", a.text);
    let a = c.get(token, &format!("{t}/connections/scratch")).await;
    assert_eq!(a.status, 404, "scratch after removal: {}", a.text);
    let a = c.get(token, &format!("{t}/connections")).await;
    assert_eq!(a.status, 200, "{}", a.text);
    let names: BTreeSet<&str> = a
        .body
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|x| x["name"].as_str())
        .collect();
    assert_eq!(names, BTreeSet::from(["k3cloud", "wdt"]), "{}", a.text);
    for name in ["wdt", "k3cloud"] {
        let a = c
            .post(token, &format!("{t}/connections/{name}/check"), json!({}))
            .await;
        assert_eq!(a.status, 200, "check {name}: {}", a.text);
        assert_eq!(a.body["ok"], true, "check {name}: {}", a.text);
    }

    // A broken scheme: 422 with every problem's line and column.
    let text = seed_text(PO_SEED);
    let broken = text.replace(
        "  batch_size: 50\n",
        "  batch_size: 50\n  no_such_setting: true\n",
    );
    assert_ne!(broken, text, "the seed changed shape");
    let bad_line = broken
        .lines()
        .position(|l| l.contains("no_such_setting"))
        .expect("the broken line")
        + 1;
    let a = c
        .post(
            token,
            &format!("{t}/schemes"),
            json!({"yaml": broken, "file": "broken.yaml"}),
        )
        .await;
    assert_eq!(
        (a.status, a.body["error"]["code"].as_str()),
        (422, Some("invalid")),
        "a broken scheme: {}",
        a.text
    );
    let problems = a.body["error"]["problems"]
        .as_array()
        .unwrap_or_else(|| panic!("a broken scheme's answer has no error.problems: {}", a.text));
    assert!(!problems.is_empty(), "{}", a.text);
    for p in problems {
        assert!(
            p["line"].as_u64().is_some_and(|n| n >= 1)
                && p["column"].as_u64().is_some_and(|n| n >= 1),
            "a problem without line and column: {p}"
        );
    }
    assert!(
        problems
            .iter()
            .any(|p| p["line"].as_u64() == Some(bad_line as u64)),
        "no problem on line {bad_line}: {}",
        a.text
    );
    let a = c.get(token, &format!("{t}/schemes")).await;
    assert_eq!(
        (a.status, &a.body),
        (200, &json!([])),
        "the broken scheme was kept: {}",
        a.text
    );

    // A valid scheme: apply, list, get.
    let a = c
        .post(
            token,
            &format!("{t}/schemes"),
            json!({"yaml": text, "file": PO_SEED}),
        )
        .await;
    assert_eq!(a.status, 201, "apply: {}", a.text);
    assert_eq!(a.body["name"], PO, "{}", a.text);
    let a = c.get(token, &format!("{t}/schemes")).await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(
        a.body
            .as_array()
            .map(|s| s.iter().map(|x| x["name"].clone()).collect::<Vec<_>>()),
        Some(vec![json!(PO)]),
        "{}",
        a.text
    );
    let scheme = format!("{t}/schemes/{PO}");
    let a = c.get(token, &scheme).await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert!(
        a.body["yaml"]
            .as_str()
            .is_some_and(|y| y.contains("purchase_order_query")),
        "the scheme's YAML: {}",
        a.text
    );
    assert!(a.body["last_run"].is_null(), "{}", a.text);

    // Preview: records with their source and mapping; nothing written.
    let a = c
        .post(token, &format!("{scheme}/preview"), json!({"limit": 3}))
        .await;
    assert_eq!(a.status, 200, "preview: {}", a.text);
    let records = a.body["records"].as_array().expect("preview records");
    assert_eq!(records.len(), 3, "{}", a.text);
    for r in records {
        assert!(r["source"].is_object(), "a preview record's source: {r}");
        assert!(r["mapped"].is_object(), "a preview record's mapping: {r}");
        assert_eq!(r["mapped"]["FBillNo"], r["source"]["purchase_no"], "{r}");
        assert_eq!(r["key"], r["source"]["purchase_no"], "{r}");
    }
    assert!(
        demo.sim
            .received(System::K3cloud, "PUR_PurchaseOrder")
            .entries
            .is_empty(),
        "the preview wrote to K3Cloud"
    );
    assert_eq!(demo.sim.k3_bill_count("PUR_PurchaseOrder"), 0);
    let a = c.get(token, &format!("{t}/records")).await;
    assert_eq!(
        (a.status, &a.body),
        (200, &json!([])),
        "the preview filled the ledger: {}",
        a.text
    );
    let a = c.get(token, &format!("{t}/runs")).await;
    assert_eq!(
        (a.status, &a.body),
        (200, &json!([])),
        "the preview made a run: {}",
        a.text
    );
    let a = c.get(token, &scheme).await;
    assert!(
        a.body["ledger"]
            .as_object()
            .is_some_and(|l| l.values().all(|n| n == 0)),
        "the preview filled the ledger: {}",
        a.text
    );

    // Run it and watch it to its end.
    let run = run_to_end(&service, token, "acme", PO).await;
    c.seen.push(run.to_string());
    assert_eq!(run["counts"]["written"], 20, "{run:#}");
    let run_id = run["id"].as_str().expect("a run id").to_owned();
    let a = c.get(token, &format!("{t}/runs?scheme={PO}")).await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.body[0]["id"], run_id.as_str(), "{}", a.text);
    let a = c.get(token, &format!("{t}/runs/{run_id}/logs")).await;
    assert_eq!(a.status, 200, "logs: {}", short(&a.text));
    assert!(
        a.body.as_array().is_some_and(|l| !l.is_empty()),
        "the run logged nothing: {}",
        a.text
    );
    assert_eq!(demo.sim.k3_bill_count("PUR_PurchaseOrder"), 20);

    // Its records, and one record's journey.
    let a = c
        .get(token, &format!("{t}/records?scheme={PO}&limit=1000"))
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    let records = a.body.as_array().expect("records");
    assert_eq!(records.len(), 20, "{}", short(&a.text));
    assert!(
        records.iter().all(|r| r["status"] == "done"),
        "{}",
        short(&a.text)
    );
    let id = records[0]["id"].as_i64().expect("a record id");
    let a = c.get(token, &format!("{t}/records/{id}")).await;
    assert_eq!(a.status, 200, "{}", a.text);
    let key = a.body["key"].clone();
    assert_eq!(a.body["source"]["purchase_no"], key, "{}", a.text);
    assert_eq!(a.body["mapped"]["FBillNo"], key, "{}", a.text);
    assert!(
        !a.body["reply"].is_null(),
        "the record has no target reply: {}",
        a.text
    );
    let a = c.get(token, &format!("{t}/records?status=failed")).await;
    assert_eq!((a.status, &a.body), (200, &json!([])), "{}", a.text);

    // Delete the scheme.
    let a = c.call(Method::DELETE, token, &scheme, None).await;
    assert_eq!(a.status, 204, "delete: {}", a.text);
    let a = c.get(token, &scheme).await;
    assert_eq!(
        (a.status, a.body["error"]["code"].as_str()),
        (404, Some("not_found")),
        "{}",
        a.text
    );
    let a = c.get(token, &format!("{t}/schemes")).await;
    assert_eq!((a.status, &a.body), (200, &json!([])), "{}", a.text);

    // No answer ever held a secret's value.
    for secret in [WDT_SECRET, K3_PASSWORD, SCRATCH_SECRET] {
        let leaks: Vec<String> = c
            .seen
            .iter()
            .filter(|text| text.contains(secret))
            .map(|text| short(text))
            .collect();
        assert!(
            leaks.is_empty(),
            "the secret {secret} is in answers: {leaks:#?}"
        );
    }
}

// ---------------------------------------------------------------------------
// 4. The OpenAPI document.

/// Every route of the service.
const ALL_ROUTES: &[(&str, &str)] = &[
    ("GET", "/api/v1/tenants"),
    ("POST", "/api/v1/tenants"),
    ("GET", "/api/v1/tenants/{tenant}"),
    ("GET", "/api/v1/tenants/{tenant}/tokens"),
    ("POST", "/api/v1/tenants/{tenant}/tokens"),
    ("DELETE", "/api/v1/tenants/{tenant}/tokens/{id}"),
    ("GET", "/api/v1/tenants/{tenant}/connections"),
    ("POST", "/api/v1/tenants/{tenant}/connections"),
    ("GET", "/api/v1/tenants/{tenant}/connections/{name}"),
    ("DELETE", "/api/v1/tenants/{tenant}/connections/{name}"),
    ("POST", "/api/v1/tenants/{tenant}/connections/{name}/check"),
    ("GET", "/api/v1/plugins"),
    ("POST", "/api/v1/plugins"),
    ("GET", "/api/v1/plugins/{name}"),
    ("GET", "/api/v1/tenants/{tenant}/schemes"),
    ("POST", "/api/v1/tenants/{tenant}/schemes"),
    ("GET", "/api/v1/tenants/{tenant}/schemes/{name}"),
    ("DELETE", "/api/v1/tenants/{tenant}/schemes/{name}"),
    ("POST", "/api/v1/tenants/{tenant}/schemes/{name}/run"),
    ("POST", "/api/v1/tenants/{tenant}/schemes/{name}/preview"),
    ("GET", "/api/v1/tenants/{tenant}/runs"),
    ("GET", "/api/v1/tenants/{tenant}/runs/{id}"),
    ("GET", "/api/v1/tenants/{tenant}/runs/{id}/logs"),
    ("GET", "/api/v1/tenants/{tenant}/records"),
    ("GET", "/api/v1/tenants/{tenant}/records/{id}"),
    ("POST", "/api/v1/tenants/{tenant}/records/{id}/retry"),
    ("POST", "/api/v1/tenants/{tenant}/records/retry"),
    ("POST", "/hooks/{tenant}/{scheme}"),
    ("GET", "/metrics"),
    ("GET", "/healthz"),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_describes_every_route() {
    let demo = Demo::start(config(1), &["wdt"]);
    let service = serve(&demo, &[], &[]);
    // Served without a token.
    let doc = openapi(&service).await;
    assert!(
        doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")),
        "not OpenAPI 3: {}",
        doc["openapi"]
    );
    assert!(doc["info"]["title"].as_str().is_some_and(|t| !t.is_empty()));
    assert!(
        doc["info"]["version"]
            .as_str()
            .is_some_and(|t| !t.is_empty())
    );

    let documented: BTreeSet<(String, String)> = operations(&doc)
        .into_iter()
        .map(|(m, p, _)| (m, p))
        .collect();
    let missing: Vec<_> = ALL_ROUTES
        .iter()
        .filter(|(m, p)| !documented.contains(&((*m).to_owned(), (*p).to_owned())))
        .collect();
    assert!(
        missing.is_empty(),
        "routes missing from the document: {missing:?}"
    );

    // Every operation answers something; its path parameters are exactly
    // its template's; the query parameters the handlers take are
    // documented as such.
    let mut failures = Failures::default();
    for (method, path, op) in operations(&doc) {
        failures.check(
            op["responses"].as_object().is_some_and(|r| !r.is_empty()),
            || format!("{method} {path} documents no response"),
        );
        let declared: Vec<&Value> = op["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .chain(
                doc["paths"][&path]["parameters"]
                    .as_array()
                    .into_iter()
                    .flatten(),
            )
            .collect();
        let template = path_params(&path);
        for param in &template {
            failures.check(
                declared
                    .iter()
                    .any(|p| p["name"] == *param && p["in"] == "path" && p["required"] == true),
                || format!("{method} {path} does not declare its path parameter {param}"),
            );
        }
        for p in declared.iter().filter(|p| p["in"] == "path") {
            failures.check(
                p["name"].as_str().is_some_and(|n| template.contains(&n)),
                || format!("{method} {path} declares a path parameter its path does not have: {p}"),
            );
        }
    }
    for (method, path, names) in [
        (
            "get",
            "/api/v1/tenants/{tenant}/runs",
            &["scheme", "limit"][..],
        ),
        (
            "get",
            "/api/v1/tenants/{tenant}/records",
            &["scheme", "status", "limit"][..],
        ),
        ("post", "/api/v1/plugins", &["file", "force"][..]),
    ] {
        let params = doc["paths"][path][method]["parameters"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        for name in names {
            failures.check(
                params
                    .iter()
                    .any(|p| p["name"] == *name && p["in"] == "query" && p["required"] != true),
                || format!("{method} {path} does not document its optional query parameter {name}"),
            );
        }
    }
    failures.assert_none("the OpenAPI document's parameters");
    // Every schema it refers to is in it.
    let text = doc.to_string();
    for (i, _) in text.match_indices("\"$ref\":\"") {
        let target = &text[i + 8..];
        let target = &target[..target.find('"').expect("a closing quote")];
        let name = target
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("a reference outside the schemas: {target}"));
        assert!(
            doc["components"]["schemas"].get(name).is_some(),
            "the document refers to a schema it lacks: {target}"
        );
    }

    // Bearer tokens.
    let bearer = &doc["components"]["securitySchemes"]["bearer"];
    assert_eq!(bearer["type"], "http", "{bearer}");
    assert!(
        bearer["scheme"]
            .as_str()
            .is_some_and(|s| s.eq_ignore_ascii_case("bearer")),
        "{bearer}"
    );
    assert!(
        doc["security"]
            .as_array()
            .is_some_and(|s| s.iter().any(|r| r.get("bearer").is_some())),
        "the API does not require the bearer scheme: {}",
        doc["security"]
    );
    // The API's routes require it, healthz does not.
    let a = bare(&service, Method::GET, None, "/api/v1/tenants").await;
    assert_eq!(a.status, 401, "{}", a.text);
    let a = bare(&service, Method::GET, None, "/healthz").await;
    assert_eq!(a.status, 200, "{}", a.text);
}
