//! Control endpoints and library calls: modify, add, inspect, reset.

use serde_json::{Value, json};
use weft_sim::{SourceKind, System};

use crate::common::{self, body_json, purchase_order_model, start};

#[tokio::test]
async fn modified_documents_move_to_a_later_window() {
    let sim = start();
    let key = sim.handle.keys(SourceKind::PurchaseOrders)[0].clone();
    let before = sim
        .handle
        .document(SourceKind::PurchaseOrders, &key)
        .expect("document");
    let after = sim
        .handle
        .modify(SourceKind::PurchaseOrders, &[&key])
        .expect("modified")
        .remove(0);
    assert!(after["modified"].as_str() > before["modified"].as_str());
    assert_ne!(
        after["details_list"][0]["num"],
        before["details_list"][0]["num"]
    );
    assert_ne!(after["remark"], before["remark"]);

    let (s, e) = common::window(&sim, 29);
    let old = sim
        .wdt(
            "purchase_order_query",
            &[("start_time", &s), ("end_time", &e), ("page_size", "100")],
        )
        .await;
    assert_eq!(old["total_count"], 19, "{}", old["total_count"]);
    let now = weft_sim::clock::now_unix();
    let (s, e) = (
        weft_sim::clock::format_china(now - 3600),
        weft_sim::clock::format_china(now + 60),
    );
    let new = sim
        .wdt(
            "purchase_order_query",
            &[("start_time", &s), ("end_time", &e)],
        )
        .await;
    assert_eq!(
        new["purchase_list"][0]["purchase_no"],
        key.as_str(),
        "{new}"
    );
    assert_eq!(new["purchase_list"][0], after);
}

#[tokio::test]
async fn added_documents_carry_the_given_values() {
    let sim = start();
    let doc = sim
        .handle
        .add(
            SourceKind::PurchaseOrders,
            json!({"purchase_no": "CG-BAD-SKU", "details_list": [{"spec_no": "NO-SUCH-SKU"}]}),
        )
        .expect("added");
    assert_eq!(doc["details_list"][0]["spec_no"], "NO-SUCH-SKU");
    assert_eq!(
        doc["details_list"][1]["spec_no"]
            .as_str()
            .map(|s| s.starts_with("SKU")),
        Some(true)
    );
    let reply = sim
        .wdt("purchase_order_query", &[("purchase_no", "CG-BAD-SKU")])
        .await;
    assert_eq!(reply["purchase_list"][0], doc);
    assert!(
        sim.handle
            .add(
                SourceKind::PurchaseOrders,
                json!({"purchase_no": "CG-BAD-SKU"})
            )
            .is_err()
    );

    let response = sim
        .http
        .post(sim.url("/_sim/dataset/refunds"))
        .json(&json!({"shop_id": 99999, "modified": "2024-01-02 03:04:05"}))
        .send()
        .await
        .expect("answered");
    let (_, reply) = body_json(response).await;
    assert_eq!(reply["document"]["shop_id"], 99999);
    assert_eq!(reply["document"]["modified"], "2024-01-02 03:04:05");
}

#[tokio::test]
async fn datasets_are_served_for_comparison() {
    let sim = start();
    let (_, all) = body_json(
        sim.http
            .get(sim.url("/_sim/dataset/jackyun-trades?limit=3"))
            .send()
            .await
            .expect("answered"),
    )
    .await;
    assert_eq!(all["total"], 20);
    assert_eq!(all["documents"].as_array().map(Vec::len), Some(3));
    let key = all["documents"][0]["tradeNo"]
        .as_str()
        .expect("tradeNo")
        .to_string();
    let (_, one) = body_json(
        sim.http
            .get(sim.url(&format!("/_sim/dataset/jackyun-trades/{key}")))
            .send()
            .await
            .expect("answered"),
    )
    .await;
    assert_eq!(one, all["documents"][0]);
    let (_, modified) = body_json(
        sim.http
            .post(sim.url("/_sim/dataset/stockout-returns/modify"))
            .json(&json!({"count": 2}))
            .send()
            .await
            .expect("answered"),
    )
    .await;
    assert_eq!(modified["modified"].as_array().map(Vec::len), Some(2));
    let missing = sim
        .http
        .get(sim.url("/_sim/dataset/refunds/0"))
        .send()
        .await
        .expect("answered");
    assert_eq!(missing.status().as_u16(), 404);
}

#[tokio::test]
async fn inspection_lists_arrivals_and_reset_clears_them() {
    let sim = start();
    for no in ["CG-I-1", "CG-I-2", "CG-I-1"] {
        sim.k3("DynamicFormService.Save", &json!({"formid": "PUR_PurchaseOrder", "data": {"Model": purchase_order_model(no, "SKU00001")}}))
            .await;
    }
    let (_, log) = body_json(
        sim.http
            .get(sim.url("/_sim/received/k3cloud/pur_purchaseorder"))
            .send()
            .await
            .expect("answered"),
    )
    .await;
    assert_eq!(log["form"], "PUR_PurchaseOrder");
    let keys: Vec<&str> = log["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .filter_map(|e| e["key"].as_str())
        .collect();
    assert_eq!(keys, vec!["CG-I-1", "CG-I-2", "CG-I-1"]);
    assert_eq!(
        log["counts"]["CG-I-1"],
        json!({"received": 2, "accepted": 1})
    );
    assert_eq!(log["entries"][2]["outcome"], "rejected");
    assert!(
        log["entries"][0]["body"].is_null(),
        "bodies only on request"
    );
    let (_, with_bodies) = body_json(
        sim.http
            .get(sim.url("/_sim/received/k3cloud/PUR_PurchaseOrder?bodies=true"))
            .send()
            .await
            .expect("answered"),
    )
    .await;
    assert_eq!(with_bodies["entries"][0]["body"]["FBillNo"], "CG-I-1");
    let lib = sim.handle.received(System::K3cloud, "PUR_PurchaseOrder");
    assert_eq!(lib.accepted_keys(), vec!["CG-I-1", "CG-I-2"]);

    let response = sim
        .http
        .post(sim.url("/_sim/reset"))
        .send()
        .await
        .expect("answered");
    assert!(response.status().is_success());
    assert!(
        sim.handle
            .received(System::K3cloud, "PUR_PurchaseOrder")
            .entries
            .is_empty()
    );
    assert_eq!(sim.handle.k3_bill_count("PUR_PurchaseOrder"), 0);
    let (_, health) = body_json(
        sim.http
            .get(sim.url("/_sim/health"))
            .send()
            .await
            .expect("answered"),
    )
    .await;
    assert_eq!(health["status"], "ok");
}

#[tokio::test]
async fn same_seed_same_data_other_seed_other_data() {
    let a = start();
    let b = start();
    let c = common::start_with(|cfg| cfg.seed = 7);
    let first =
        |sim: &common::Sim| -> Value { sim.handle.documents(SourceKind::Refunds).remove(0) };
    assert_eq!(first(&a), first(&b));
    assert_ne!(first(&a), first(&c));
}
