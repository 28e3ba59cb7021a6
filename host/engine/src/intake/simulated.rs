//! Seed 001 end to end inside the engine: callbacks posted to
//! `schemes/opencallback-to-wdt-trade-push.yaml` reach the 旺店通 simulator's
//! `trade_push` through the real wdt plugin, exactly once.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use weft_sim::{Outcome, SimConfig, SimHandle, Simulator, System};
use weft_store::{ConnectionInput, SqliteStore};

use super::{HookSecrets, IntakeOutcome, IntakePush};
use crate::{Engine, EngineError, EngineOptions, RunStatus};

const TENANT: &str = "acme";
const SCHEME: &str = "opencallback-to-wdt-trade-push";
const SECRET: &str = "test-hook-secret";

/// Secrets held in memory, so tests never touch the process environment.
#[derive(Debug, Default)]
struct MemorySecrets(HashMap<(String, String), String>);

impl HookSecrets for MemorySecrets {
    fn secret(&self, tenant: &str, name: &str) -> Option<String> {
        self.0.get(&(tenant.to_owned(), name.to_owned())).cloned()
    }

    fn describe(&self, tenant: &str, name: &str) -> String {
        format!("no test secret {tenant}/{name}")
    }
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

struct World {
    engine: Engine,
    sim: SimHandle,
    shop: String,
    materials: Vec<(String, String)>,
    wdt: weft_runtime::ConnectorInfo,
    _home: tempfile::TempDir,
}

/// A store with tenant `acme`, its `wdt` connection to a fresh simulator,
/// the wdt plugin installed and the seed scheme applied.
async fn world() -> World {
    let home = tempfile::tempdir().expect("a temporary home");
    let sim = Simulator::start(SimConfig::default()).expect("the simulator starts");
    let store = Arc::new(SqliteStore::open(home.path()).expect("the store opens"));
    let runtime = weft_runtime::Runtime::new(weft_runtime::RuntimeConfig::default())
        .expect("the runtime starts");
    let plugins =
        weft_plugins::PluginStore::open(home.path(), runtime).expect("the plugin store opens");
    let wasm_path = repo().join("plugins/target/wasm32-wasip2/release/wdt.wasm");
    let wasm = std::fs::read(&wasm_path).unwrap_or_else(|e| {
        panic!(
            "cannot read {}: {e}; build the plugins first (`just build-plugins`)",
            wasm_path.display()
        )
    });
    plugins
        .install("wdt.wasm", &wasm, false)
        .await
        .expect("the wdt plugin installs");
    store
        .add_tenant(TENANT, "Acme")
        .expect("the tenant is added");
    let info = plugins
        .load(&weft_plugins::PluginSpec {
            name: "wdt".into(),
            version: None,
        })
        .await
        .expect("wdt loads")
        .connector_info()
        .cloned()
        .expect("wdt is a connector");
    let input = ConnectionInput {
        settings: vec![
            ("base_url".into(), sim.origin().to_owned()),
            ("sid".into(), "weftsim".into()),
            ("appkey".into(), "weft-wdt-key".into()),
        ],
        secrets: vec![("appsecret".into(), "weft-wdt-secret".into())],
        allowed_addresses: vec!["127.0.0.1/32".parse().expect("a network")],
        rate_limit: None,
    };
    let connection = input
        .validate(TENANT, "wdt", &info)
        .expect("the connection is valid");
    store
        .add_connection(connection, false)
        .expect("the connection is added");
    let file = repo().join("schemes/opencallback-to-wdt-trade-push.yaml");
    let yaml = std::fs::read_to_string(&file).expect("the seed scheme is readable");
    store
        .apply_scheme(TENANT, SCHEME, "opencallback-to-wdt-trade-push.yaml", &yaml)
        .expect("the scheme applies");
    let mut secrets = MemorySecrets::default();
    secrets
        .0
        .insert((TENANT.into(), "opencallback".into()), SECRET.into());
    let engine = Engine::new(
        home.path().to_owned(),
        store,
        plugins,
        EngineOptions::default(),
    )
    .with_hook_secrets(Arc::new(secrets));
    let shop = sim.master().shops[0].code.clone();
    let materials = sim
        .master()
        .materials
        .iter()
        .take(3)
        .map(|m| (m.goods_no.clone(), m.number.clone()))
        .collect();
    World {
        engine,
        sim,
        shop,
        materials,
        wdt: info,
        _home: home,
    }
}

/// The tenant of [`world`] as `weft scheme validate` sees it.
struct Catalog<'a>(&'a weft_runtime::ConnectorInfo);

impl weft_scheme::Catalog for Catalog<'_> {
    fn connection_plugin(&self, name: &str) -> Option<String> {
        (name == "wdt").then(|| "wdt".to_owned())
    }
    fn connector(&self, plugin: &str) -> Option<weft_runtime::ConnectorInfo> {
        (plugin == "wdt").then(|| self.0.clone())
    }
    fn transform(&self, _: &str) -> Option<weft_runtime::TransformInfo> {
        None
    }
}

impl World {
    /// A trade as the OpenCallback payload carries it (seed 001's fields).
    fn trade(&self, tid: &str, lines: usize) -> Value {
        let details: Vec<Value> = self
            .materials
            .iter()
            .take(lines)
            .enumerate()
            .map(|(i, (goods_no, spec_no))| {
                json!({
                    "rec_id": i + 1, "src_oid": format!("{tid}-{}", i + 1),
                    "goods_no": goods_no, "spec_no": spec_no, "goods_name": "货品",
                    "goods_count": "2.0000", "sell_price": "19.9000", "refund_status": 0,
                })
            })
            .collect();
        json!({
            "tid": tid, "shop_no": self.shop, "trade_status": 30, "delivery_term": 1,
            "trade_time": "2024-03-05 14:30:00", "pay_time": "2024-03-05 14:31:00",
            "nick_name": "买家", "receiver_name": "张三", "receiver_province": "浙江省",
            "receiver_city": "杭州市", "receiver_district": "西湖区",
            "receiver_address": "文三路 1 号", "receiver_mobile": "13800000000",
            "post_amount": "0.0000", "cod_amount": "0.0000", "paid": "79.6000",
            "details_list": details,
            "kuaidi100Data": { "nu": "", "com": "", "state": "0" },
        })
    }

    async fn post(&self, body: &[u8], secret: &str) -> Result<IntakeOutcome, EngineError> {
        let ts = time::OffsetDateTime::now_utc().unix_timestamp().to_string();
        let sig = signature(secret, &ts, body);
        let headers = [
            ("Content-Type", "application/json"),
            ("X-Weft-Timestamp", ts.as_str()),
            ("X-Weft-Signature", sig.as_str()),
        ];
        self.engine.intake(TENANT, SCHEME, body, &headers).await
    }

    fn ledger(&self) -> std::collections::BTreeMap<String, i64> {
        self.engine
            .store()
            .ledger_counts(TENANT, SCHEME)
            .expect("the ledger is readable")
    }

    fn pushes(&self, tid: &str) -> usize {
        self.sim
            .received(System::Wdt, "trade_push")
            .entries
            .iter()
            .filter(|e| e.key == tid)
            .count()
    }
}

fn signature(secret: &str, ts: &str, body: &[u8]) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        panic!("any key length is accepted");
    };
    mac.update(ts.as_bytes());
    mac.update(b".");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

fn ran(outcome: &IntakeOutcome) -> &crate::RunOutcome {
    match &outcome.push {
        IntakePush::Ran(run) => run,
        other => panic!("expected a push run, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_callback_reaches_trade_push_exactly_once() {
    let w = world().await;
    let body = json!([w.trade("T-1001", 2), w.trade("T-1002", 1)]).to_string();

    let first = w.post(body.as_bytes(), SECRET).await.expect("accepted");
    assert_eq!(first.accepted.received, 2);
    assert_eq!(first.accepted.counts.new, 2);
    let run = ran(&first);
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.error);
    assert_eq!(run.counts.written, 2);
    let trade = w.sim.wdt_trade("T-1001").expect("T-1001 was pushed");
    assert_eq!(trade["order_list"].as_array().map(Vec::len), Some(2));
    assert_eq!(trade["order_list"][0]["oid"], "T-1001-1");
    assert_eq!(trade["order_list"][0]["num"], 2.0);
    assert_eq!(trade["pay_status"], "2");
    assert_eq!(trade["buyer_nick"], "买家");
    assert!(w.sim.wdt_trade("T-1002").is_some());
    let log = w.sim.received(System::Wdt, "trade_push");
    assert_eq!(log.accepted_keys(), ["T-1001", "T-1002"]);
    assert!(log.duplicates().is_empty());
    assert_eq!(w.ledger().get("done"), Some(&2));

    // The same callback again: duplicates, nothing sent.
    let again = w.post(body.as_bytes(), SECRET).await.expect("accepted");
    assert_eq!(again.accepted.counts.duplicate, 2);
    assert_eq!(again.accepted.counts.new, 0);
    assert!(matches!(again.push, IntakePush::Idle), "{:?}", again.push);
    assert_eq!(w.pushes("T-1001"), 1);
    assert_eq!(w.pushes("T-1002"), 1);

    // One trade changed: only it is sent again, and 旺店通 has the new one.
    let mut changed = w.trade("T-1002", 1);
    changed["receiver_address"] = json!("文二路 2 号");
    let body = json!([w.trade("T-1001", 2), changed]).to_string();
    let third = w.post(body.as_bytes(), SECRET).await.expect("accepted");
    assert_eq!(
        (
            third.accepted.counts.duplicate,
            third.accepted.counts.changed
        ),
        (1, 1)
    );
    assert_eq!(ran(&third).counts.written, 1);
    assert_eq!(w.pushes("T-1001"), 1);
    assert_eq!(w.pushes("T-1002"), 2);
    let trade = w.sim.wdt_trade("T-1002").expect("T-1002 is there");
    assert_eq!(trade["receiver_address"], "文二路 2 号");
    let outcomes: Vec<Outcome> = w
        .sim
        .received(System::Wdt, "trade_push")
        .entries
        .iter()
        .filter(|e| e.key == "T-1002")
        .map(|e| e.outcome)
        .collect();
    assert_eq!(outcomes, [Outcome::Created, Outcome::Updated]);
    w.sim.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_seed_scheme_validates_against_the_wdt_plugin() {
    let w = world().await;
    let text = std::fs::read_to_string(repo().join("schemes/opencallback-to-wdt-trade-push.yaml"))
        .expect("readable");
    let scheme = weft_scheme::Scheme::parse("seed.yaml", &text).unwrap_or_else(|d| panic!("{d}"));
    let problems: Vec<String> = scheme
        .validate(&Catalog(&w.wdt))
        .iter()
        .map(ToString::to_string)
        .collect();
    assert!(problems.is_empty(), "{problems:#?}");
    w.sim.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_signature_is_refused_and_nothing_is_stored() {
    let w = world().await;
    let body = json!([w.trade("T-2001", 1)]).to_string();
    let err = w
        .post(body.as_bytes(), "not-the-secret")
        .await
        .expect_err("refused");
    assert!(
        matches!(&err, EngineError::Unauthorized { reason, .. } if reason.contains("does not match")),
        "{err}"
    );
    // A stale timestamp, correctly signed, is refused too.
    let old = (time::OffsetDateTime::now_utc().unix_timestamp() - 3600).to_string();
    let sig = signature(SECRET, &old, body.as_bytes());
    let headers = [
        ("x-weft-timestamp", old.as_str()),
        ("x-weft-signature", sig.as_str()),
    ];
    let err = w
        .engine
        .intake(TENANT, SCHEME, body.as_bytes(), &headers)
        .await
        .expect_err("refused");
    assert!(
        err.to_string().contains("more than the 300s allowed"),
        "{err}"
    );
    assert!(w.ledger().is_empty(), "{:?}", w.ledger());
    assert!(w.sim.wdt_trade("T-2001").is_none());
    assert!(w.sim.received(System::Wdt, "trade_push").entries.is_empty());
    w.sim.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_are_typed() {
    let w = world().await;
    let err = w
        .engine
        .intake(TENANT, "no-such-scheme", b"{}", &[])
        .await
        .expect_err("unknown");
    assert!(matches!(err, EngineError::UnknownScheme { .. }), "{err}");
    assert_eq!(
        err.to_string(),
        "tenant 'acme' has no scheme 'no-such-scheme'"
    );

    // A pulled scheme takes no webhooks.
    let pulled = std::fs::read_to_string(repo().join("schemes/wdt-purchase-order-to-k3cloud.yaml"))
        .expect("readable");
    w.engine
        .store()
        .apply_scheme(TENANT, "po", "po.yaml", &pulled)
        .expect("applies");
    let err = w
        .engine
        .intake(TENANT, "po", b"{}", &[])
        .await
        .expect_err("not a webhook scheme");
    assert_eq!(
        err.to_string(),
        "scheme 'po' of tenant 'acme' reads its records through connection 'wdt'; it takes no webhooks"
    );

    // Authenticated, but not records.
    let err = w.post(b"trade=1", SECRET).await.expect_err("not JSON");
    assert!(
        matches!(&err, EngineError::BadPayload { reason, .. } if reason.starts_with("the body is not JSON")),
        "{err}"
    );
    let err = w.post(b"[1, 2]", SECRET).await.expect_err("not objects");
    assert_eq!(
        err.to_string(),
        format!("webhook for scheme '{SCHEME}': record 0 at /0 is a number, not an object")
    );
    assert!(w.ledger().is_empty());

    // A scheme whose secret the host does not hold.
    let engine = w
        .engine
        .clone()
        .with_hook_secrets(Arc::new(MemorySecrets::default()));
    let err = engine
        .intake(TENANT, SCHEME, b"[]", &[])
        .await
        .expect_err("no secret");
    assert!(
        matches!(err, EngineError::HookSecretMissing { ref secret, .. } if secret == "opencallback"),
        "{err}"
    );

    // A run of a webhook scheme only pushes: nothing queued, nothing read.
    let outcome = w
        .engine
        .run(crate::RunRequest {
            tenant: TENANT.into(),
            scheme: SCHEME.into(),
            trigger: crate::Trigger::Manual,
            stop: None,
            progress: None,
            push_only: false,
            started: None,
        })
        .await
        .expect("the run starts");
    assert_eq!(outcome.status, RunStatus::Succeeded, "{:?}", outcome.error);
    assert_eq!((outcome.counts.pages, outcome.counts.written), (0, 0));
    w.sim.shutdown();
}
