//! `jdy` (金蝶云星辰) against the simulator: the app-token flow behind the
//! gateway signature, purchase returns saved per record, duplicate numbers
//! as existing bills, refused app-tokens renewed, and classified faults.

use serde_json::{Value, json};
use weft_runtime::{ErrorClass, WriteOutcome};
use weft_sim::System;

use super::{
    Rig, SHORT_HTTP_TIMEOUT, answered_late, assert_error, failure, held, logged, refused,
    server_errors, throttled, written,
};

const OPERATION: &str = "pur_return_save";

async fn rig() -> Rig {
    Rig::start("jdy", |_| {}).await
}

fn config(rig: &Rig) -> Value {
    let c = &rig.sim.config().credentials.jdy;
    json!({"base_url": rig.sim.origin(), "client_id": c.client_id, "client_secret": c.client_secret,
        "app_key": c.app_key, "app_secret": c.app_secret})
}

/// A purchase return of the simulator's master data.
fn pur_return(rig: &Rig, number: &str, material: &str) -> Value {
    let m = rig.sim.master();
    json!({
        "billno": number, "billdate": "2024-01-08",
        "supplierid_number": m.suppliers[0].number,
        "remark": "weft",
        "material_entity": [
            {"materialid_number": material, "stockid_number": m.warehouses[0].number,
             "qty": "2", "price": "15.5"},
            {"materialid_id": m.materials[1].jdy_id, "unit_id": m.materials[1].jdy_unit_id, "qty": 1}
        ]
    })
}

/// Ids of written records, checked against what JDY holds.
fn assert_held(rig: &Rig, outcomes: &[WriteOutcome], numbers: &[&str], existed: bool) {
    for (outcome, number) in outcomes.iter().zip(numbers) {
        let (id, got, was) = written(outcome);
        assert_eq!((got, was), (Some(*number), existed), "{outcome:?}");
        let held = rig
            .sim
            .jdy_pur_return(number)
            .unwrap_or_else(|| panic!("JDY holds {number}"));
        assert_eq!(id, held["id"].as_str(), "{held}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_fetches_a_token_and_wrong_credentials_are_named() {
    let rig = rig().await;
    let good = config(&rig);
    rig.session(good.clone())
        .await
        .check()
        .await
        .expect("the simulator's credentials pass");
    for (field, code) in [
        ("app_secret", "1010002"),
        ("app_key", "1010002"),
        ("client_secret", "1010001"),
        ("client_id", "1010001"),
    ] {
        let mut bad = good.clone();
        bad[field] = json!("WRONG-secret");
        let mut s = rig.session(bad).await;
        assert_error(&failure(s.check().await), ErrorClass::Auth, &[field, code]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn purchase_returns_are_saved_per_record_and_idempotently() {
    let rig = rig().await;
    let sku = rig.sim.master().materials[0].number.clone();
    let batch = vec![
        pur_return(&rig, "CGTH-1", &sku),
        pur_return(&rig, "CGTH-2", "NO-SUCH-SKU"),
        pur_return(&rig, "CGTH-3", &sku),
    ];
    let mut s = rig.session(config(&rig)).await;
    let first = s
        .write(OPERATION, &json!({}), &batch)
        .await
        .expect("the batch gets outcomes");
    assert_held(
        &rig,
        &[first[0].clone(), first[2].clone()],
        &["CGTH-1", "CGTH-3"],
        false,
    );
    assert_error(
        refused(&first[1]),
        ErrorClass::Invalid,
        &["CGTH-2", "1020001", "商品编码[NO-SUCH-SKU]不存在"],
    );
    let held = rig.sim.jdy_pur_return("CGTH-1").expect("held");
    assert_eq!(held["material_entity"], batch[0]["material_entity"]);

    let replay = s
        .write(OPERATION, &json!({}), &batch)
        .await
        .expect("the replay gets outcomes");
    assert_held(
        &rig,
        &[replay[0].clone(), replay[2].clone()],
        &["CGTH-1", "CGTH-3"],
        true,
    );
    assert_eq!(written(&replay[0]).0, written(&first[0]).0);

    let log = rig.sim.received(System::Jdy, "pur_return");
    assert!(log.duplicates().is_empty());
    for number in ["CGTH-1", "CGTH-3"] {
        let count = log.counts[number];
        assert_eq!((count.received, count.accepted), (2, 1), "{number}");
    }
    assert_eq!(log.counts["CGTH-2"].accepted, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_app_token_is_renewed() {
    let rig = rig().await;
    let sku = rig.sim.master().materials[0].number.clone();
    let mut s = rig.session(config(&rig)).await;
    let out = s
        .write(OPERATION, &json!({}), &[pur_return(&rig, "CGTH-E-1", &sku)])
        .await
        .expect("outcomes");
    assert_held(&rig, &out, &["CGTH-E-1"], false);
    s.take_log();

    rig.sim.expire_jdy_tokens();
    let out = s
        .write(OPERATION, &json!({}), &[pur_return(&rig, "CGTH-E-2", &sku)])
        .await
        .expect("the call after the expiry goes through");
    assert_held(&rig, &out, &["CGTH-E-2"], false);
    assert!(
        logged(&mut s, "refused the app-token"),
        "the batch's token was reused and renewed once refused"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_are_classified() {
    let rig = rig().await;
    let sku = rig.sim.master().materials[0].number.clone();
    let batch = vec![pur_return(&rig, "CGTH-F-1", &sku)];
    let mut s = rig.session(config(&rig)).await;

    rig.sim.set_faults(System::Jdy, server_errors());
    assert_error(
        &failure(s.write(OPERATION, &json!({}), &batch).await),
        ErrorClass::Transient,
        &["503"],
    );
    rig.sim.set_faults(System::Jdy, throttled());
    assert_error(
        &failure(s.write(OPERATION, &json!({}), &batch).await),
        ErrorClass::RateLimited,
        &["1030001", "请求过于频繁"],
    );
    assert!(rig.sim.jdy_pur_return("CGTH-F-1").is_none());
}

/// A save that lands while its caller times out is retried by the host;
/// the retry meets the taken number and reports the bill as existed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_save_that_timed_out_but_landed_existed_on_retry() {
    let rig = Rig::with_http_timeout("jdy", SHORT_HTTP_TIMEOUT).await;
    let sku = rig.sim.master().materials[0].number.clone();
    let mut s = rig.session(config(&rig)).await;
    // The check leaves the batch a token, so the save is the only request
    // the fault holds.
    s.check().await.expect("a token");
    rig.sim.set_faults(System::Jdy, answered_late());
    let batch = [pur_return(&rig, "CGTH-L-1", &sku)];
    let error = failure(s.write(OPERATION, &json!({}), &batch).await);
    assert_error(&error, ErrorClass::Transient, &["timed out"]);
    assert!(
        rig.sim.jdy_pur_return("CGTH-L-1").is_some(),
        "the save landed"
    );

    rig.sim.clear_faults();
    let retry = s
        .write(OPERATION, &json!({}), &batch)
        .await
        .expect("the retry gets outcomes");
    assert_held(&rig, &retry, &["CGTH-L-1"], true);
    assert!(
        rig.sim
            .received(System::Jdy, "pur_return")
            .duplicates()
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_held_request_times_out_as_transient() {
    let rig = Rig::with_http_timeout("jdy", SHORT_HTTP_TIMEOUT).await;
    rig.sim.set_faults(System::Jdy, held());
    let mut s = rig.session(config(&rig)).await;
    assert_error(
        &failure(s.check().await),
        ErrorClass::Transient,
        &["timed out"],
    );
}
