//! The service's own work: schedules (with catch-up after downtime),
//! graceful shutdown in the middle of a run, webhooks committed before
//! they are acknowledged, tenants that cannot stall each other, metrics
//! and JSON logs.

use std::time::Duration;

use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use weft_sim::{DatasetConfig, Faults, SimConfig, SourceKind, System};

use super::{ADMIN, Service};
use crate::e2e::{Demo, TENANT, assert_exactly_once, seed, text};

const PO_SCHEME: &str = "wdt-purchase-order-to-k3cloud";

fn purchase_orders(n: usize) -> SimConfig {
    SimConfig {
        dataset: DatasetConfig {
            purchase_orders: n,
            ..DatasetConfig::default()
        },
        ..SimConfig::default()
    }
}

/// The purchase-order seed with another schedule.
fn po_scheme_every(schedule: &str) -> String {
    let yaml = std::fs::read_to_string(seed(&format!("{PO_SCHEME}.yaml"))).expect("seed scheme");
    assert!(
        yaml.contains("schedule: { every: 10m }"),
        "the seed's schedule moved"
    );
    yaml.replace("schedule: { every: 10m }", &format!("schedule: {schedule}"))
}

fn po_keys(demo: &Demo) -> Vec<String> {
    demo.sim
        .documents(SourceKind::PurchaseOrders)
        .iter()
        .map(|d| text(&d["purchase_no"]))
        .collect()
}

/// Every purchase order of the simulator reached 金蝶云星空 exactly once.
fn purchase_orders_arrived_once(demo: &Demo) {
    assert_exactly_once(
        &demo.sim,
        System::K3cloud,
        "PUR_PurchaseOrder",
        &po_keys(demo),
    );
}

fn instant(v: &Value) -> OffsetDateTime {
    OffsetDateTime::parse(v.as_str().unwrap_or_default(), &Rfc3339)
        .unwrap_or_else(|e| panic!("{v} is not an RFC 3339 time: {e}"))
}

/// The runs of a scheme, oldest first.
async fn runs(service: &Service, tenant: &str, scheme: &str) -> Vec<Value> {
    let a = service
        .get(
            ADMIN,
            &format!("/api/v1/tenants/{tenant}/runs?scheme={scheme}&limit=1000"),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    let mut runs = a.body.as_array().cloned().unwrap_or_default();
    runs.reverse();
    runs
}

/// Starts a run of `scheme` through the API; returns its id.
async fn run_now(service: &Service, token: &str, tenant: &str, scheme: &str) -> String {
    let started = service
        .post(
            token,
            &format!("/api/v1/tenants/{tenant}/schemes/{scheme}/run"),
            &json!({}),
        )
        .await;
    assert_eq!(started.status, 202, "{}", started.text);
    started.body["run_id"]
        .as_str()
        .expect("a run id")
        .to_owned()
}

/// Waits until run `id` of `tenant` has ended; returns it.
async fn finished(service: &Service, tenant: &str, id: &str, limit: Duration) -> Value {
    service
        .wait_for(
            ADMIN,
            &format!("/api/v1/tenants/{tenant}/runs/{id}"),
            limit,
            |a| a.status == 200 && a.body["status"] != "running",
        )
        .await
        .body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schedules_run_schemes_one_at_a_time_and_catch_up_once_after_downtime() {
    let demo = Demo::start(purchase_orders(30), &["wdt", "k3cloud"]);
    demo.apply_text("po.yaml", &po_scheme_every("{ every: 2s }"));
    let mut service = Service::start(&demo, &["--tick", "0.2"], &[]);

    // The first run starts by itself and delivers everything.
    let deadline = Duration::from_secs(60);
    service
        .wait_for(
            ADMIN,
            &format!("/api/v1/tenants/{TENANT}/runs?scheme={PO_SCHEME}"),
            deadline,
            |a| {
                a.body
                    .as_array()
                    .is_some_and(|r| r.iter().filter(|r| r["status"] == "succeeded").count() >= 3)
            },
        )
        .await;
    let before = runs(&service, TENANT, PO_SCHEME).await.len();
    assert_eq!(service.terminate(Duration::from_secs(30)).code(), Some(0));
    purchase_orders_arrived_once(&demo);

    // Downtime of three intervals and more: on restart the scheme is due
    // once, not once per missed slot.
    tokio::time::sleep(Duration::from_secs(7)).await;
    let restarted = OffsetDateTime::now_utc();
    let service = Service::start(&demo, &["--tick", "0.2"], &[]);
    service
        .wait_for(
            ADMIN,
            &format!("/api/v1/tenants/{TENANT}/runs?scheme={PO_SCHEME}&limit=1000"),
            deadline,
            |a| a.body.as_array().is_some_and(|r| r.len() > before),
        )
        .await;
    // Long enough for a flood to show: the missed slots would all be due.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let all = runs(&service, TENANT, PO_SCHEME).await;
    let after: Vec<&Value> = all
        .iter()
        .filter(|r| instant(&r["started_at"]) >= restarted)
        .collect();
    assert!(!after.is_empty(), "no catch-up run after the restart");
    // Never two runs at once, and never sooner than the schedule allows:
    // consecutive starts are at least the interval apart (a flood of
    // catch-up runs would start back to back).
    for pair in all.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        let (a_start, b_start) = (instant(&a["started_at"]), instant(&b["started_at"]));
        let a_end = instant(&a["finished_at"]);
        assert!(a_end <= b_start, "runs overlap: {a} and {b}");
        assert!(
            b_start - a_start >= time::Duration::milliseconds(1900),
            "runs started {} apart, closer than `every: 2s`: {a} {b}",
            b_start - a_start
        );
    }
    // Nothing was sent twice by all those runs.
    purchase_orders_arrived_once(&demo);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cron_schedule_runs_the_scheme() {
    let demo = Demo::start(purchase_orders(5), &["wdt", "k3cloud"]);
    // Every third second (six fields: seconds first).
    demo.apply_text("po.yaml", &po_scheme_every("{ cron: \"*/3 * * * * *\" }"));
    let service = Service::start(&demo, &["--tick", "0.2"], &[]);
    service
        .wait_for(
            ADMIN,
            &format!("/api/v1/tenants/{TENANT}/runs?scheme={PO_SCHEME}"),
            Duration::from_secs(60),
            |a| a.body.as_array().is_some_and(|r| r.len() >= 2),
        )
        .await;
    let all = runs(&service, TENANT, PO_SCHEME).await;
    assert!(all.iter().all(|r| r["trigger"] == "schedule"), "{all:#?}");
    for pair in all.windows(2) {
        let gap = instant(&pair[1]["started_at"]) - instant(&pair[0]["started_at"]);
        assert!(
            gap >= time::Duration::milliseconds(2500),
            "cron runs {gap} apart"
        );
    }
    purchase_orders_arrived_once(&demo);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_stops_a_run_at_a_boundary_and_the_next_run_finishes_it_exactly_once() {
    // Slow writes: the run is still going when the signal comes.
    let slow = Faults {
        latency_ms: 150,
        ..Faults::default()
    };
    let mut config = purchase_orders(1500);
    config.faults.insert(System::K3cloud, slow);
    let demo = Demo::start(config, &["wdt", "k3cloud"]);
    demo.apply_seed(&format!("{PO_SCHEME}.yaml"));
    let mut service = Service::start(&demo, &["--no-schedule"], &[]);
    let id = run_now(&service, ADMIN, TENANT, PO_SCHEME).await;
    // Stop once something was written (and long before the end).
    let limit = Duration::from_secs(60);
    let start = std::time::Instant::now();
    while demo
        .sim
        .received(System::K3cloud, "PUR_PurchaseOrder")
        .entries
        .is_empty()
    {
        assert!(
            start.elapsed() < limit,
            "nothing was written within {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let status = service.terminate(Duration::from_secs(60));
    assert_eq!(
        status.code(),
        Some(0),
        "weft serve exits cleanly on SIGTERM"
    );

    // The run ended as stopped (not killed: its end is recorded), with
    // what it did committed.
    let service = Service::start(&demo, &["--no-schedule"], &[]);
    let run = finished(&service, TENANT, &id, Duration::from_secs(5)).await;
    assert_eq!(run["status"], "stopped", "{run:#}");
    let sent = demo
        .sim
        .received(System::K3cloud, "PUR_PurchaseOrder")
        .accepted_keys()
        .len();
    assert!(
        sent < 1500,
        "the run was meant to be stopped midway; it sent {sent}"
    );

    let id = run_now(&service, ADMIN, TENANT, PO_SCHEME).await;
    let run = finished(&service, TENANT, &id, Duration::from_secs(120)).await;
    assert_eq!(run["status"], "succeeded", "{run:#}");
    purchase_orders_arrived_once(&demo);
}

const HOOK_SCHEME: &str = "opencallback-to-wdt-trade-push";
const HOOK_SECRET: &str = "serve-test-hook-secret";

async fn callback(service: &Service, body: &Value, secret: &str) -> super::Answer {
    let bytes = serde_json::to_vec(body).expect("JSON");
    let at = OffsetDateTime::now_utc().unix_timestamp().unsigned_abs();
    service
        .answer(super::api::hook_request(
            service, TENANT, &bytes, secret, at,
        ))
        .await
}

fn trade(demo: &Demo, tid: &str) -> Value {
    let master = demo.sim.master();
    let shop = master.shops[0].code.clone();
    let details: Vec<Value> = master
        .materials
        .iter()
        .take(2)
        .enumerate()
        .map(|(i, m)| {
            json!({
                "rec_id": i + 1, "src_oid": format!("{tid}-{}", i + 1),
                "goods_no": m.goods_no, "spec_no": m.number, "goods_name": "货品",
                "goods_count": "2.0000", "sell_price": "19.9000", "refund_status": 0,
            })
        })
        .collect();
    json!({
        "tid": tid, "shop_no": shop, "trade_status": 30, "delivery_term": 1,
        "trade_time": "2024-03-05 14:30:00", "pay_time": "2024-03-05 14:31:00",
        "nick_name": "买家", "receiver_name": "张三", "receiver_province": "浙江省",
        "receiver_city": "杭州市", "receiver_district": "西湖区",
        "receiver_address": "文三路 1 号", "receiver_mobile": "13800000000",
        "post_amount": "0.0000", "cod_amount": "0.0000", "paid": "79.6000",
        "details_list": details,
    })
}

fn pushed(demo: &Demo) -> Vec<String> {
    let mut keys: Vec<String> = demo
        .sim
        .received(System::Wdt, "trade_push")
        .accepted_keys()
        .into_iter()
        .map(str::to_owned)
        .collect();
    keys.sort();
    keys
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_callbacks_reach_wdt_trade_push_exactly_once_even_across_a_crash() {
    let demo = Demo::start(SimConfig::default(), &["wdt"]);
    demo.apply_seed(&format!("{HOOK_SCHEME}.yaml"));
    let env = [("WEFT_HOOK_SECRET_OPENCALLBACK", HOOK_SECRET)];
    let mut service = Service::start(&demo, &["--no-schedule"], &env);

    // Refused callbacks store nothing.
    let forged = callback(&service, &trade(&demo, "T-0"), "not-the-secret").await;
    assert_eq!(forged.status, 401, "{}", forged.text);
    assert_eq!(forged.body["error"]["code"], "unauthorized");
    let unsigned = service
        .answer(
            service
                .request(
                    reqwest::Method::POST,
                    &format!("/hooks/{TENANT}/{HOOK_SCHEME}"),
                    None,
                )
                .header("content-type", "application/json")
                .body(serde_json::to_vec(&trade(&demo, "T-0")).expect("JSON")),
        )
        .await;
    assert_eq!(unsigned.status, 401, "{}", unsigned.text);
    let nobody = service
        .answer(
            service
                .request(
                    reqwest::Method::POST,
                    &format!("/hooks/nobody/{HOOK_SCHEME}"),
                    None,
                )
                .body("{}"),
        )
        .await;
    assert_eq!(nobody.status, 404, "{}", nobody.text);

    // An array of trades and a single one.
    let batch = json!([
        trade(&demo, "T-1"),
        trade(&demo, "T-2"),
        trade(&demo, "T-3")
    ]);
    let a = callback(&service, &batch, HOOK_SECRET).await;
    assert_eq!(a.status, 202, "{}", a.text);
    assert_eq!(
        (a.body["received"].as_u64(), a.body["new"].as_u64()),
        (Some(3), Some(3))
    );
    let one = callback(&service, &trade(&demo, "T-4"), HOOK_SECRET).await;
    assert_eq!(one.status, 202, "{}", one.text);
    // The sender retries a callback it already delivered: a duplicate.
    let dup = callback(&service, &trade(&demo, "T-4"), HOOK_SECRET).await;
    assert_eq!(dup.status, 202, "{}", dup.text);
    assert_eq!(dup.body["duplicate"].as_u64(), Some(1), "{}", dup.text);

    let want: Vec<String> = ["T-1", "T-2", "T-3", "T-4"].map(str::to_owned).to_vec();
    let start = std::time::Instant::now();
    while pushed(&demo) != want {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "trade_push got {:?}",
            pushed(&demo)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Acknowledged means committed: crash right after the 2xx, restart,
    // and the callback's trades are still written, once.
    let late = json!([trade(&demo, "T-5"), trade(&demo, "T-6")]);
    let a = callback(&service, &late, HOOK_SECRET).await;
    assert_eq!(a.status, 202, "{}", a.text);
    service.kill();
    let service = Service::start(&demo, &["--no-schedule"], &env);
    let id = run_now(&service, ADMIN, TENANT, HOOK_SCHEME).await;
    let done = finished(&service, TENANT, &id, Duration::from_secs(60)).await;
    assert_eq!(done["status"], "succeeded", "{done:#}");
    let all: Vec<String> = (1..=6).map(|i| format!("T-{i}")).collect();
    assert_exactly_once(&demo.sim, System::Wdt, "trade_push", &all);
    let ledger = service
        .get(
            ADMIN,
            &format!("/api/v1/tenants/{TENANT}/schemes/{HOOK_SCHEME}"),
        )
        .await;
    assert_eq!(
        ledger.body["ledger"]["done"].as_i64(),
        Some(6),
        "{}",
        ledger.text
    );
}

/// A second tenant on the same simulator, with its own connections.
fn add_tenant(demo: &Demo, tenant: &str, connections: &str) {
    demo.ok(&["tenant", "add", tenant]);
    let file = demo.home().join(format!("{tenant}-connections.yaml"));
    std::fs::write(&file, connections).expect("write connections");
    demo.ok(&[
        "connection",
        "apply",
        file.to_str().expect("utf-8"),
        "--tenant",
        tenant,
    ]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hostile_plugin_or_a_throttled_connection_does_not_stall_another_tenant() {
    let demo = Demo::start(purchase_orders(300), &["wdt", "k3cloud", "hostile"]);
    // The healthy scheme runs when asked only (the scheduler would run a
    // new `every:` scheme at once).
    demo.apply_text(
        "po.yaml",
        &po_scheme_every("{ every: 10m }").replace("schedule: { every: 10m }\n", ""),
    );
    let origin = demo.sim.origin().to_owned();
    // The demo tenant's connections (wdt, k3cloud), for the others too.
    let theirs =
        std::fs::read_to_string(demo.home().join("connections.yaml")).expect("connections");
    // `evil` reads through the endless-loop operation, every second.
    add_tenant(
        &demo,
        "evil",
        &format!(
            "{theirs}  - name: loop\n    plugin: hostile\n    settings: {{ base_url: \"{origin}\" }}\n    allow_addresses: [127.0.0.1]\n"
        ),
    );
    // `slow` reads the same purchase orders through a connection limited
    // to one request a second.
    assert!(theirs.contains("  - name: wdt\n"), "{theirs}");
    add_tenant(
        &demo,
        "slow",
        &theirs.replace("  - name: wdt\n", "  - name: wdt\n    rate_limit: 1/s\n"),
    );
    let evil_scheme = po_scheme_every("{ every: 1s }")
        .replace(&format!("name: {PO_SCHEME}"), "name: evil-loop")
        .replace(
            "connection: wdt\n  operation: purchase_order_query",
            "connection: loop\n  operation: loop",
        );
    assert!(
        evil_scheme.contains("operation: loop"),
        "the seed's source moved"
    );
    let path = demo.home().join("evil.yaml");
    std::fs::write(&path, evil_scheme).expect("write scheme");
    demo.ok(&[
        "scheme",
        "apply",
        path.to_str().expect("utf-8"),
        "--tenant",
        "evil",
    ]);
    let path = demo.home().join("slow.yaml");
    std::fs::write(&path, po_scheme_every("{ every: 1s }")).expect("write scheme");
    demo.ok(&[
        "scheme",
        "apply",
        path.to_str().expect("utf-8"),
        "--tenant",
        "slow",
    ]);

    let service = Service::start(&demo, &["--tick", "0.2"], &[]);
    // Both troublemakers are running before the healthy tenant starts.
    for tenant in ["evil", "slow"] {
        service
            .wait_for(
                ADMIN,
                &format!("/api/v1/tenants/{tenant}/runs"),
                Duration::from_secs(60),
                |a| {
                    a.body
                        .as_array()
                        .is_some_and(|r| r.iter().any(|r| r["status"] == "running"))
                },
            )
            .await;
    }
    let id = run_now(&service, ADMIN, TENANT, PO_SCHEME).await;
    let run = finished(&service, TENANT, &id, Duration::from_secs(120)).await;
    assert_eq!(run["status"], "succeeded", "{run:#}");
    purchase_orders_arrived_once(&demo);
    let (began, ended) = (instant(&run["started_at"]), instant(&run["finished_at"]));
    let secs = (ended - began).as_seconds_f64();
    println!(
        "healthy tenant: 300 purchase orders in {secs:.2} s ({:.0} documents/s) beside a looping plugin and a 1 request/s connection",
        300.0 / secs.max(1e-3)
    );

    // The others were at it the whole time: each had a run in progress
    // when the healthy run ended (the loop is cut by its CPU limit and
    // the schedule starts it again; the throttled read takes minutes).
    for tenant in ["evil", "slow"] {
        let theirs = runs(
            &service,
            tenant,
            if tenant == "evil" {
                "evil-loop"
            } else {
                PO_SCHEME
            },
        )
        .await;
        let overlapping = theirs.iter().any(|r| {
            instant(&r["started_at"]) <= ended
                && r["finished_at"]
                    .as_str()
                    .is_none_or(|_| instant(&r["finished_at"]) >= began)
        });
        assert!(
            overlapping,
            "no run of {tenant} overlapped the healthy run: {theirs:#?}"
        );
    }
    // The looping plugin's runs fail with the sandbox's reason; they do
    // not take the service or the other tenants with them.
    let evil = service
        .wait_for(
            ADMIN,
            "/api/v1/tenants/evil/runs?scheme=evil-loop",
            Duration::from_secs(60),
            |a| {
                a.body
                    .as_array()
                    .is_some_and(|r| r.iter().any(|r| r["status"] == "failed"))
            },
        )
        .await;
    let failed = evil
        .body
        .as_array()
        .and_then(|r| r.iter().find(|r| r["status"] == "failed"))
        .cloned()
        .unwrap_or_default();
    assert!(
        failed["error"]
            .as_str()
            .unwrap_or_default()
            .contains("CPU time"),
        "{failed:#}"
    );

    // The metrics saw all of it.
    let metrics = service.get(ADMIN, "/metrics").await;
    assert_eq!(metrics.status, 200);
    for series in [
        "weft_runs_total{trigger=\"manual\",outcome=\"succeeded\"}",
        "weft_runs_total{trigger=\"schedule\",outcome=\"failed\"}",
        "weft_plugin_call_seconds_bucket{plugin=\"hostile\",call=\"read\",outcome=\"trapped\"",
        "weft_egress_requests_total{tenant=\"demo\",connection=\"k3cloud\",status=\"200\"}",
        "weft_records{tenant=\"demo\",scheme=\"wdt-purchase-order-to-k3cloud\",status=\"done\"} 300",
        "weft_runs_active ",
    ] {
        assert!(
            metrics.text.contains(series),
            "/metrics has no {series}:\n{}",
            metrics.text
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_and_metrics_need_the_admin() {
    let demo = Demo::start(purchase_orders(5), &["wdt", "k3cloud"]);
    demo.apply_seed(&format!("{PO_SCHEME}.yaml"));
    let mut service = Service::start(&demo, &["--no-schedule", "--log-format", "json"], &[]);
    let token = demo.ok(&["tenant", "token", "create", "--tenant", TENANT, "--quiet"]);
    let token = token.stdout.trim().to_owned();
    let m = service.get(&token, "/metrics").await;
    assert_eq!(
        (m.status, m.body["error"]["code"].as_str()),
        (403, Some("forbidden"))
    );
    let m = service
        .answer(service.request(reqwest::Method::GET, "/metrics", None))
        .await;
    assert_eq!(m.status, 401);
    let id = run_now(&service, &token, TENANT, PO_SCHEME).await;
    let done = finished(&service, TENANT, &id, Duration::from_secs(60)).await;
    assert_eq!(done["status"], "succeeded", "{done:#}");
    assert_eq!(service.terminate(Duration::from_secs(30)).code(), Some(0));
    let lines = service.log_lines();
    assert!(!lines.is_empty(), "weft serve logged nothing");
    for line in &lines {
        let v: Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("a log line is not JSON ({e}): {line}"));
        assert!(
            v["level"].is_string() && v["timestamp"].is_string(),
            "{line}"
        );
    }
    assert!(
        lines
            .iter()
            .any(|l| l.contains("run ended") && l.contains(&id)),
        "the run's end is not in the log:\n{}",
        lines.join("\n")
    );
}

/// `THP_enabled` of a running service, from its `/proc/<pid>/status`.
fn huge_pages_allowed(service: &Service) -> Option<String> {
    let pid = service.child.as_ref()?.id();
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("THP_enabled:"))
        .map(|v| v.trim().to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_service_does_without_huge_pages_unless_told_otherwise() {
    let demo = Demo::start(purchase_orders(1), &["wdt", "k3cloud"]);
    let service = Service::start(&demo, &["--no-schedule"], &[]);
    // Kernels older than 5.0 do not show the flag; nothing to check there.
    let Some(allowed) = huge_pages_allowed(&service) else {
        return;
    };
    assert_eq!(allowed, "0", "weft serve runs with transparent huge pages");
    drop(service);
    let told = Service::start(&demo, &["--no-schedule"], &[("MIMALLOC_ALLOW_THP", "1")]);
    assert_eq!(
        huge_pages_allowed(&told).as_deref(),
        Some("1"),
        "MIMALLOC_ALLOW_THP=1 did not keep huge pages"
    );
}
