//! `jst` (聚水潭) against the simulator: signed check, refunds paged
//! 1-based through a window with the page size capped at 50, the 7-day
//! limit, the access token renewed from the authorization code, and
//! classified faults.

use serde_json::{Value, json};
use weft_runtime::ErrorClass;
use weft_sim::{SourceKind, System};

use super::{
    Rig, SHORT_HTTP_TIMEOUT, assert_error, failure, held, keys, read_pages, records, server_errors,
    throttled,
};

const OPERATION: &str = "refund.single.query";

async fn rig(refunds: usize) -> Rig {
    Rig::start("jst", |c| c.dataset.refunds = refunds).await
}

fn config(rig: &Rig) -> Value {
    let c = &rig.sim.config().credentials.jst;
    json!({"base_url": rig.sim.origin(), "app_key": c.app_key, "app_secret": c.app_secret,
        "access_token": c.access_token})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_passes_and_wrong_credentials_are_named() {
    let rig = rig(20).await;
    let good = config(&rig);
    rig.session(good.clone())
        .await
        .check()
        .await
        .expect("the simulator's credentials pass");
    for (field, names) in [
        ("app_secret", ["10", "签名错误", "app_secret"]),
        ("app_key", ["11", "app_key", "app_key"]),
        ("access_token", ["100", "access_token", "access_token"]),
    ] {
        let mut bad = good.clone();
        bad[field] = json!("WRONG-secret");
        let mut s = rig.session(bad).await;
        assert_error(&failure(s.check().await), ErrorClass::Auth, &names);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refunds_page_through_a_window() {
    let rig = rig(60).await;
    assert_eq!(rig.max_window_secs(OPERATION), 7 * 86_400);
    let window = rig.window(7, 14);
    let expected = rig.documents_in(SourceKind::Refunds, "modified", &window);
    assert!(expected.len() > 4, "the window holds several pages");
    let mut s = rig.session(config(&rig)).await;
    let params = json!({"modified_begin": window.0, "modified_end": window.1, "page_size": 4});
    let pages = read_pages(&mut s, OPERATION, &params).await;
    assert_eq!(pages.len(), expected.len().div_ceil(4));
    assert!(pages.iter().all(|p| p.total == Some(expected.len() as u64)));
    let got = records(&pages);
    assert_eq!(keys(&got, "as_id"), keys(&expected, "as_id"));
    assert_eq!(got, expected);
    assert!(got[0]["items"].as_array().is_some_and(|i| i.len() == 2));
    assert!(got[0]["as_id"].is_number());
}

/// A page size over 聚水潭's cap of 50 is capped by the server, and the
/// connector pages on by what it got.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_larger_than_the_cap_are_cut_to_50() {
    let rig = Rig::start("jst", |c| {
        c.dataset.refunds = 120;
        c.dataset.spread_days = 7;
    })
    .await;
    let window = rig.window(0, 7);
    let expected = rig.documents_in(SourceKind::Refunds, "modified", &window);
    assert!(expected.len() > 100);
    let mut s = rig.session(config(&rig)).await;
    let params = json!({"modified_begin": window.0, "modified_end": window.1});
    let pages = read_pages(&mut s, OPERATION, &params).await;
    assert_eq!(pages.len(), expected.len().div_ceil(50));
    assert!(pages.iter().all(|p| p.records.len() <= 50));
    assert_eq!(keys(&records(&pages), "as_id"), keys(&expected, "as_id"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_window_over_7_days_is_refused() {
    let rig = rig(20).await;
    let (from, _) = rig.window(0, 0);
    let (_, to) = rig.window(0, 8);
    let mut s = rig.session(config(&rig)).await;
    let error = failure(
        s.read(
            OPERATION,
            &json!({"modified_begin": from, "modified_end": to}),
            None,
        )
        .await,
    );
    assert_error(
        &error,
        ErrorClass::Invalid,
        &["130", "修改时间间隔不能超过7天"],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_token_is_renewed_from_the_code() {
    let rig = rig(20).await;
    let window = rig.window(0, 7);
    let params = json!({"modified_begin": window.0, "modified_end": window.1});
    let code = rig.sim.config().credentials.jst.auth_code.clone();
    let mut with_code = config(&rig);
    with_code["code"] = json!(code);
    let mut s = rig.session(with_code).await;
    s.read(OPERATION, &params, None)
        .await
        .expect("the configured token works");

    rig.sim.expire_jst_tokens();
    let pages = read_pages(&mut s, OPERATION, &params).await;
    let expected = rig.documents_in(SourceKind::Refunds, "modified", &window);
    assert_eq!(keys(&records(&pages), "as_id"), keys(&expected, "as_id"));

    // Without a code there is nothing to renew the token with.
    rig.sim.expire_jst_tokens();
    let mut without = rig.session(config(&rig)).await;
    let error = failure(without.read(OPERATION, &params, None).await);
    assert_error(&error, ErrorClass::Auth, &["100", "access_token"]);

    // A code alone is exchanged for a token.
    let mut only_code = config(&rig);
    only_code["access_token"] = Value::Null;
    only_code["code"] = json!(code);
    let mut s = rig.session(only_code).await;
    s.read(OPERATION, &params, None)
        .await
        .expect("the code is exchanged for a token");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_are_classified() {
    let rig = rig(20).await;
    let window = rig.window(0, 1);
    let params = json!({"modified_begin": window.0, "modified_end": window.1});
    let mut s = rig.session(config(&rig)).await;

    rig.sim.set_faults(System::Jst, server_errors());
    assert_error(
        &failure(s.read(OPERATION, &params, None).await),
        ErrorClass::Transient,
        &["503"],
    );
    rig.sim.set_faults(System::Jst, throttled());
    assert_error(
        &failure(s.read(OPERATION, &params, None).await),
        ErrorClass::RateLimited,
        &["199", "频率超限"],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_held_request_times_out_as_transient() {
    let rig = Rig::with_http_timeout("jst", SHORT_HTTP_TIMEOUT).await;
    rig.sim.set_faults(System::Jst, held());
    let window = rig.window(0, 1);
    let mut s = rig.session(config(&rig)).await;
    let error = failure(
        s.read(
            OPERATION,
            &json!({"modified_begin": window.0, "modified_end": window.1}),
            None,
        )
        .await,
    );
    assert_error(&error, ErrorClass::Transient, &["timed out"]);
}
