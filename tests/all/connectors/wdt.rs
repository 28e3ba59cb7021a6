//! `wdt` (旺店通·企业版 openapi2) against the simulator: signed check,
//! purchase orders and purchase-return stock-outs paged 0-based through a
//! window, the 30-day limit, `trade_push` upserts, and classified faults.

use serde_json::{Value, json};
use weft_runtime::ErrorClass;
use weft_sim::{SourceKind, System};

use super::{
    Rig, SHORT_HTTP_TIMEOUT, answered_late, assert_error, cut, failure, held, keys, read_pages,
    records, refused, server_errors, throttled, written,
};

async fn rig() -> Rig {
    Rig::start("wdt", |c| {
        c.dataset.purchase_orders = 23;
        c.dataset.stockout_returns = 17;
    })
    .await
}

fn config(rig: &Rig) -> Value {
    let c = &rig.sim.config().credentials.wdt;
    json!({"base_url": rig.sim.origin(), "sid": c.sid, "appkey": c.appkey, "appsecret": c.appsecret})
}

fn with(mut config: Value, field: &str, value: &str) -> Value {
    config[field] = json!(value);
    config
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_passes_and_wrong_credentials_are_named() {
    let rig = rig().await;
    let good = config(&rig);
    rig.session(good.clone())
        .await
        .check()
        .await
        .expect("the simulator's credentials pass");
    for (field, names) in [
        ("appsecret", ["签名错误", "appsecret"]),
        ("appkey", ["appkey不存在", "appkey"]),
        ("sid", ["sid不存在", "sid"]),
    ] {
        let mut s = rig.session(with(good.clone(), field, "WRONG")).await;
        assert_error(&failure(s.check().await), ErrorClass::Auth, &names);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn purchase_orders_page_through_a_window() {
    let rig = rig().await;
    let window = rig.window(0, 29);
    let expected = rig.documents_in(SourceKind::PurchaseOrders, "modified", &window);
    assert!(expected.len() > 14, "the window holds several pages");
    let mut s = rig.session(config(&rig)).await;
    let params = json!({"start_time": window.0, "end_time": window.1, "page_size": 7});
    let pages = read_pages(&mut s, "purchase_order_query", &params).await;

    assert_eq!(pages.len(), expected.len().div_ceil(7));
    assert!(pages.iter().all(|p| p.records.len() <= 7));
    // total_count comes with page 0 only; the cursor carries it on.
    assert!(pages.iter().all(|p| p.total == Some(expected.len() as u64)));
    let got = records(&pages);
    assert_eq!(
        keys(&got, "purchase_no"),
        keys(&expected, "purchase_no"),
        "every purchase order of the window, once, in modified order"
    );
    assert_eq!(got, expected, "the records are the documents as rendered");
    let first = &got[0];
    let doc = rig
        .sim
        .document(
            SourceKind::PurchaseOrders,
            first["purchase_no"].as_str().expect("number"),
        )
        .expect("the document exists");
    assert_eq!(first["provider_no"], doc["provider_no"]);
    assert_eq!(first["details_list"], doc["details_list"]);
    assert!(
        first["details_list"]
            .as_array()
            .is_some_and(|d| d.len() == 5 && d[0]["spec_no"].is_string())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stockout_returns_page_through_a_window() {
    let rig = rig().await;
    let window = rig.window(3, 20);
    let expected = rig.documents_in(SourceKind::StockoutReturns, "modified", &window);
    assert!(expected.len() > 4, "the window holds several pages");
    let mut s = rig.session(config(&rig)).await;
    let params = json!({"start_time": window.0, "end_time": window.1, "page_size": 4});
    let pages = read_pages(&mut s, "stockout_order_query_return", &params).await;
    assert_eq!(pages.len(), expected.len().div_ceil(4));
    let got = records(&pages);
    assert_eq!(keys(&got, "stockout_no"), keys(&expected, "stockout_no"));
    assert_eq!(got, expected);
    assert!(got[0]["detail_list"][0]["position_list"].is_array());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_window_over_30_days_is_refused_as_declared() {
    let rig = rig().await;
    assert_eq!(rig.max_window_secs("purchase_order_query"), 30 * 86_400);
    assert_eq!(
        rig.max_window_secs("stockout_order_query_return"),
        30 * 86_400
    );
    let (from, _) = rig.window(0, 0);
    let (_, to) = rig.window(0, 31);
    let mut s = rig.session(config(&rig)).await;
    for operation in ["purchase_order_query", "stockout_order_query_return"] {
        let error = failure(
            s.read(
                operation,
                &json!({"start_time": from, "end_time": to}),
                None,
            )
            .await,
        );
        assert_error(
            &error,
            ErrorClass::Invalid,
            &["2900", "时间跨度不能超过30天"],
        );
    }
    // The declared limit itself is accepted.
    let (_, to) = rig.window(0, 30);
    s.read(
        "purchase_order_query",
        &json!({"start_time": from, "end_time": to}),
        None,
    )
    .await
    .expect("exactly 30 days is allowed");
}

fn trade(tid: &str, spec_no: &str, num: i64) -> Value {
    json!({
        "tid": tid, "trade_status": 30, "pay_status": 2, "delivery_term": 1,
        "trade_time": "2024-02-01 10:00:00", "pay_time": "2024-02-01 10:01:00",
        "buyer_nick": "weft", "receiver_name": "张三", "receiver_mobile": "13800000000",
        "post_amount": "0", "paid": "25.0000",
        "order_list": [{
            "oid": format!("{tid}-1"), "num": num, "price": "25.0000", "status": 30,
            "refund_status": 0, "spec_no": spec_no, "goods_name": "经典T恤"
        }]
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trade_push_upserts_and_replays_existed() {
    let rig = rig().await;
    let shop = rig.sim.master().shops[0].code.clone();
    let sku = rig.sim.master().materials[0].number.clone();
    let mut s = rig.session(config(&rig)).await;
    let params = json!({"shop_no": shop});
    let batch = vec![trade("T-1", &sku, 1), trade("T-2", &sku, 2)];

    let first = s
        .write("trade_push", &params, &batch)
        .await
        .expect("the batch is pushed");
    assert_eq!(first.len(), 2);
    for (outcome, tid) in first.iter().zip(["T-1", "T-2"]) {
        assert_eq!(written(outcome), (None, Some(tid), false));
    }
    assert!(rig.sim.wdt_trade("T-1").is_some());

    let replay = s
        .write("trade_push", &params, &batch)
        .await
        .expect("the replay is pushed");
    for (outcome, tid) in replay.iter().zip(["T-1", "T-2"]) {
        assert_eq!(
            written(outcome),
            (None, Some(tid), true),
            "a replay existed"
        );
    }

    // A changed trade is an update: this call changed it.
    let changed = s
        .write("trade_push", &params, &[trade("T-1", &sku, 5)])
        .await
        .expect("the change is pushed");
    assert_eq!(written(&changed[0]), (None, Some("T-1"), false));

    let log = rig.sim.received(System::Wdt, "trade_push");
    assert!(log.counts.keys().eq(["T-1", "T-2"]));
    let outcomes: Vec<String> = log
        .entries
        .iter()
        .filter(|e| e.key == "T-1")
        .map(|e| format!("{:?}", e.outcome))
        .collect();
    assert_eq!(outcomes, ["Created", "Unchanged", "Updated"]);
    assert_eq!(
        rig.sim.wdt_trade("T-1").expect("held")["order_list"][0]["num"],
        5
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trade_push_refuses_a_bad_trade_alone() {
    let rig = rig().await;
    let shop = rig.sim.master().shops[1].code.clone();
    let sku = rig.sim.master().materials[3].number.clone();
    let mut s = rig.session(config(&rig)).await;
    let batch = vec![
        trade("T-10", &sku, 1),
        trade("T-11", &sku, 0),
        trade("T-12", &sku, 1),
    ];
    let out = s
        .write("trade_push", &json!({"shop_no": shop}), &batch)
        .await
        .expect("the batch gets outcomes");
    assert!(!written(&out[0]).2);
    assert_error(
        refused(&out[1]),
        ErrorClass::Invalid,
        &["T-11", "2820", "num必须大于0"],
    );
    assert!(!written(&out[2]).2);
    assert!(rig.sim.wdt_trade("T-11").is_none());
    assert!(rig.sim.wdt_trade("T-12").is_some());

    // Lenient mode stores the good trades and lists the bad one.
    let lenient = s
        .write(
            "trade_push",
            &json!({"shop_no": shop, "switch": 0}),
            &[trade("T-14", &sku, 1), trade("T-15", &sku, -1)],
        )
        .await
        .expect("the batch gets outcomes");
    assert!(!written(&lenient[0]).2);
    assert_error(
        refused(&lenient[1]),
        ErrorClass::Invalid,
        &["T-15", "refused", "num必须大于0"],
    );
    assert!(rig.sim.wdt_trade("T-14").is_some());
    assert!(rig.sim.wdt_trade("T-15").is_none());

    let unknown_shop = s
        .write(
            "trade_push",
            &json!({"shop_no": "NO-SUCH-SHOP"}),
            &[trade("T-13", &sku, 1)],
        )
        .await
        .expect("the batch gets outcomes");
    assert_error(refused(&unknown_shop[0]), ErrorClass::Invalid, &["2810"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_are_classified() {
    let rig = rig().await;
    let (from, to) = rig.window(0, 1);
    let params = json!({"start_time": from, "end_time": to});
    let mut s = rig.session(config(&rig)).await;

    rig.sim.set_faults(System::Wdt, server_errors());
    let error = failure(s.read("purchase_order_query", &params, None).await);
    assert_error(&error, ErrorClass::Transient, &["503"]);

    rig.sim.set_faults(System::Wdt, throttled());
    let error = failure(s.read("purchase_order_query", &params, None).await);
    assert_error(&error, ErrorClass::RateLimited, &["1090", "频率超限"]);
    let error = failure(
        s.write(
            "trade_push",
            &json!({"shop_no": "SHOP01"}),
            &[trade("T-20", "SKU00001", 1)],
        )
        .await,
    );
    assert_eq!(error.class, ErrorClass::RateLimited, "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn held_and_cut_requests_are_transient() {
    let rig = Rig::with_http_timeout("wdt", SHORT_HTTP_TIMEOUT).await;
    let (from, to) = rig.window(0, 1);
    let params = json!({"start_time": from, "end_time": to});
    let mut s = rig.session(config(&rig)).await;
    rig.sim.set_faults(System::Wdt, held());
    let error = failure(s.read("purchase_order_query", &params, None).await);
    assert_error(&error, ErrorClass::Transient, &["timed out"]);
    rig.sim.set_faults(System::Wdt, cut());
    let error = failure(s.read("purchase_order_query", &params, None).await);
    assert_error(&error, ErrorClass::Transient, &["connection failed"]);
}

/// A push that lands while its caller times out is retried by the host;
/// the retry finds the trade and reports it as existed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_that_timed_out_but_landed_existed_on_retry() {
    let rig = Rig::with_http_timeout("wdt", SHORT_HTTP_TIMEOUT).await;
    let shop = rig.sim.master().shops[0].code.clone();
    let sku = rig.sim.master().materials[0].number.clone();
    let params = json!({"shop_no": shop});
    let batch = [trade("T-30", &sku, 1)];
    let mut s = rig.session(config(&rig)).await;
    rig.sim.set_faults(System::Wdt, answered_late());
    let error = failure(s.write("trade_push", &params, &batch).await);
    assert_error(&error, ErrorClass::Transient, &["timed out"]);
    assert!(rig.sim.wdt_trade("T-30").is_some(), "the push landed");

    rig.sim.clear_faults();
    let retry = s
        .write("trade_push", &params, &batch)
        .await
        .expect("the retry is pushed");
    assert_eq!(written(&retry[0]), (None, Some("T-30"), true));
}
