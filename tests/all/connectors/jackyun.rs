//! `jackyun` (吉客云 open API) against the simulator: signed check, trades
//! paged by scroll id through a window, the 7-day limit, and classified
//! faults.

use serde_json::{Value, json};
use weft_runtime::ErrorClass;
use weft_sim::{SourceKind, System};

use super::{
    Rig, SHORT_HTTP_TIMEOUT, assert_error, failure, held, keys, read_pages, records, server_errors,
    throttled,
};

const OPERATION: &str = "jackyun.tradenotsensitiveinfos.list.get";

async fn rig() -> Rig {
    Rig::start("jackyun", |c| c.dataset.jackyun_trades = 50).await
}

fn config(rig: &Rig) -> Value {
    let c = &rig.sim.config().credentials.jackyun;
    json!({"base_url": rig.sim.origin(), "appkey": c.appkey, "secret": c.secret})
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
    let mut bad = good.clone();
    bad["secret"] = json!("WRONG-secret");
    let mut s = rig.session(bad).await;
    assert_error(
        &failure(s.check().await),
        ErrorClass::Auth,
        &["0858030801", "签名错误", "secret"],
    );
    let mut bad = good;
    bad["appkey"] = json!("nobody");
    let mut s = rig.session(bad).await;
    assert_error(
        &failure(s.check().await),
        ErrorClass::Auth,
        &["0858030802", "appkey"],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trades_scroll_through_a_window() {
    let rig = rig().await;
    assert_eq!(rig.max_window_secs(OPERATION), 7 * 86_400);
    let window = rig.window(14, 21);
    let expected = rig.documents_in(SourceKind::JackyunTrades, "gmtModified", &window);
    assert!(expected.len() > 8, "the window holds several pages");
    let mut s = rig.session(config(&rig)).await;
    let params = json!({"startModified": window.0, "endModified": window.1, "pageSize": 4});
    let pages = read_pages(&mut s, OPERATION, &params).await;
    assert!(pages.iter().all(|p| p.records.len() <= 4));
    assert!(
        pages.len() <= expected.len().div_ceil(4) + 1,
        "an empty page at most ends the scroll"
    );
    assert_eq!(pages[0].total, Some(expected.len() as u64));
    let got = records(&pages);
    assert_eq!(keys(&got, "tradeNo"), keys(&expected, "tradeNo"));
    assert_eq!(got, expected);
    let first = &got[0];
    let doc = rig
        .sim
        .document(
            SourceKind::JackyunTrades,
            first["tradeNo"].as_str().expect("tradeNo"),
        )
        .expect("the document exists");
    assert_eq!(first["shopCode"], doc["shopCode"]);
    assert_eq!(first["goodsDetail"], doc["goodsDetail"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_window_over_7_days_is_refused() {
    let rig = rig().await;
    let (from, _) = rig.window(0, 0);
    let (_, to) = rig.window(0, 8);
    let mut s = rig.session(config(&rig)).await;
    let error = failure(
        s.read(
            OPERATION,
            &json!({"startModified": from, "endModified": to}),
            None,
        )
        .await,
    );
    assert_error(
        &error,
        ErrorClass::Invalid,
        &["0050030002", "修改时间起止时间差不能超过7天"],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_are_classified() {
    let rig = rig().await;
    let window = rig.window(0, 1);
    let params = json!({"startModified": window.0, "endModified": window.1});
    let mut s = rig.session(config(&rig)).await;

    rig.sim.set_faults(System::Jackyun, server_errors());
    assert_error(
        &failure(s.read(OPERATION, &params, None).await),
        ErrorClass::Transient,
        &["503"],
    );
    rig.sim.set_faults(System::Jackyun, throttled());
    assert_error(
        &failure(s.read(OPERATION, &params, None).await),
        ErrorClass::RateLimited,
        &["0859999999"],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_held_request_times_out_as_transient() {
    let rig = Rig::with_http_timeout("jackyun", SHORT_HTTP_TIMEOUT).await;
    rig.sim.set_faults(System::Jackyun, held());
    let window = rig.window(0, 1);
    let mut s = rig.session(config(&rig)).await;
    let error = failure(
        s.read(
            OPERATION,
            &json!({"startModified": window.0, "endModified": window.1}),
            None,
        )
        .await,
    );
    assert_error(&error, ErrorClass::Transient, &["timed out"]);
}
