//! `qimen` (the 奇门 gateway) against the simulator: TOP-signed check for
//! both targets, 旺店通 stock-outs paged 0-based and 吉客云 trades paged by
//! scroll id through 奇门, the 7-day limit of the 吉客云 method, and
//! classified faults.

use serde_json::{Value, json};
use weft_runtime::ErrorClass;
use weft_sim::{SourceKind, System};

use super::{
    Rig, SHORT_HTTP_TIMEOUT, assert_error, failure, held, keys, read_pages, records, server_errors,
    throttled,
};

const WDT_METHOD: &str = "wdt.stockout.order.query.return";
const JACKYUN_METHOD: &str = "jackyun.tradenotsensitiveinfos.list.get";

async fn rig() -> Rig {
    Rig::start("qimen", |c| {
        c.dataset.stockout_returns = 19;
        c.dataset.jackyun_trades = 40;
    })
    .await
}

/// A connection to the 旺店通 (`wdt`) or 吉客云 target.
fn config(rig: &Rig, wdt: bool) -> Value {
    let c = &rig.sim.config().credentials.qimen;
    let target = if wdt {
        &c.wdt_target_app_key
    } else {
        &c.jackyun_target_app_key
    };
    json!({
        "base_url": rig.sim.origin(), "app_key": c.app_key, "app_secret": c.secret,
        "target_app_key": target, "customer_id": c.customer_id
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_passes_for_both_targets_and_wrong_credentials_are_named() {
    let rig = rig().await;
    for wdt in [true, false] {
        let good = config(&rig, wdt);
        rig.session(good.clone())
            .await
            .check()
            .await
            .expect("the simulator's credentials pass");
        let mut bad = good.clone();
        bad["app_secret"] = json!("WRONG-secret");
        let mut s = rig.session(bad).await;
        assert_error(
            &failure(s.check().await),
            ErrorClass::Auth,
            &["25", "Invalid signature", "app_secret"],
        );
        let mut bad = good;
        bad["app_key"] = json!("99999");
        let mut s = rig.session(bad).await;
        assert_error(
            &failure(s.check().await),
            ErrorClass::Auth,
            &["29", "app_key"],
        );
    }
    for sign_method in ["hmac", "hmac-sha256"] {
        let mut other = config(&rig, true);
        other["sign_method"] = json!(sign_method);
        rig.session(other)
            .await
            .check()
            .await
            .unwrap_or_else(|e| panic!("{sign_method} signs: {e}"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wdt_stockout_returns_page_through_a_window() {
    let rig = rig().await;
    assert_eq!(rig.max_window_secs(WDT_METHOD), 30 * 86_400);
    let window = rig.window(0, 28);
    let expected = rig.documents_in(SourceKind::StockoutReturns, "modified", &window);
    let mut s = rig.session(config(&rig, true)).await;
    let params = json!({"start_time": window.0, "end_time": window.1, "page_size": 5});
    let pages = read_pages(&mut s, WDT_METHOD, &params).await;
    assert_eq!(pages.len(), expected.len().div_ceil(5));
    assert!(pages.iter().all(|p| p.total == Some(expected.len() as u64)));
    let got = records(&pages);
    assert_eq!(keys(&got, "stockout_no"), keys(&expected, "stockout_no"));
    assert_eq!(got, expected);

    let (_, too_late) = rig.window(0, 31);
    let error = failure(
        s.read(
            WDT_METHOD,
            &json!({"start_time": window.0, "end_time": too_late}),
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jackyun_trades_scroll_through_a_window() {
    let rig = rig().await;
    assert_eq!(rig.max_window_secs(JACKYUN_METHOD), 7 * 86_400);
    let window = rig.window(7, 14);
    let expected = rig.documents_in(SourceKind::JackyunTrades, "gmtModified", &window);
    assert!(expected.len() > 3, "the window holds several pages");
    let mut s = rig.session(config(&rig, false)).await;
    let params = json!({"startModified": window.0, "endModified": window.1, "pageSize": 3});
    let pages = read_pages(&mut s, JACKYUN_METHOD, &params).await;
    assert!(pages.iter().all(|p| p.records.len() <= 3));
    assert_eq!(pages[0].total, Some(expected.len() as u64));
    let got = records(&pages);
    assert_eq!(keys(&got, "tradeNo"), keys(&expected, "tradeNo"));
    assert_eq!(got, expected);
    assert!(
        got[0]["goodsDetail"]
            .as_array()
            .is_some_and(|g| g.len() == 3)
    );

    let (_, too_late) = rig.window(7, 15);
    let error = failure(
        s.read(
            JACKYUN_METHOD,
            &json!({"startModified": window.0, "endModified": too_late}),
            None,
        )
        .await,
    );
    assert_error(&error, ErrorClass::Invalid, &["0050030002", "7天"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_method_of_the_other_target_is_refused() {
    let rig = rig().await;
    let window = rig.window(0, 1);
    let mut s = rig.session(config(&rig, false)).await;
    let error = failure(
        s.read(
            WDT_METHOD,
            &json!({"start_time": window.0, "end_time": window.1}),
            None,
        )
        .await,
    );
    assert_error(&error, ErrorClass::Invalid, &["41", "target_app_key"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_are_classified() {
    let rig = rig().await;
    let window = rig.window(0, 1);
    let wdt = json!({"start_time": window.0, "end_time": window.1});
    let jackyun = json!({"startModified": window.0, "endModified": window.1});
    let mut s = rig.session(config(&rig, true)).await;
    let mut j = rig.session(config(&rig, false)).await;

    rig.sim.set_faults(System::Qimen, server_errors());
    assert_error(
        &failure(s.read(WDT_METHOD, &wdt, None).await),
        ErrorClass::Transient,
        &["503"],
    );

    rig.sim.set_faults(System::Qimen, throttled());
    for error in [
        failure(s.read(WDT_METHOD, &wdt, None).await),
        failure(j.read(JACKYUN_METHOD, &jackyun, None).await),
    ] {
        assert_error(&error, ErrorClass::RateLimited, &["App Call Limited"]);
        assert!(error.retry_after.is_some(), "TOP names the ban: {error:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_held_request_times_out_as_transient() {
    let rig = Rig::with_http_timeout("qimen", SHORT_HTTP_TIMEOUT).await;
    rig.sim.set_faults(System::Qimen, held());
    let window = rig.window(0, 1);
    let mut s = rig.session(config(&rig, false)).await;
    let error = failure(
        s.read(
            JACKYUN_METHOD,
            &json!({"startModified": window.0, "endModified": window.1}),
            None,
        )
        .await,
    );
    assert_error(&error, ErrorClass::Transient, &["timed out"]);
}
