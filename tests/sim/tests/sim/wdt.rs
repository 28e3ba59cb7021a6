//! 旺店通·企业版 openapi2.

use std::collections::BTreeSet;

use serde_json::{Value, json};
use weft_sim::{Outcome, SourceKind, System};

use crate::common::{self, body_json, start};

#[tokio::test]
async fn purchase_orders_page_from_zero_with_total_on_page_zero_only() {
    let sim = start();
    let (start_time, end_time) = common::window(&sim, 29);
    let mut seen = BTreeSet::new();
    for page in 0..10 {
        let page_no = page.to_string();
        let reply = sim
            .wdt(
                "purchase_order_query",
                &[
                    ("start_time", &start_time),
                    ("end_time", &end_time),
                    ("page_no", &page_no),
                    ("page_size", "7"),
                ],
            )
            .await;
        assert_eq!(reply["code"], 0, "{reply}");
        if page == 0 {
            assert_eq!(reply["total_count"], 20, "{reply}");
        } else {
            assert!(
                reply.get("total_count").is_none(),
                "total_count only on page 0: {reply}"
            );
        }
        let list = reply["purchase_list"].as_array().expect("purchase_list");
        for po in list {
            assert!(seen.insert(po["purchase_no"].as_str().expect("purchase_no").to_string()));
            assert_eq!(po["details_list"].as_array().map(Vec::len), Some(5));
        }
        if list.len() < 7 {
            break;
        }
    }
    let expected: BTreeSet<String> = sim
        .handle
        .keys(SourceKind::PurchaseOrders)
        .into_iter()
        .collect();
    assert_eq!(seen, expected);
}

#[tokio::test]
async fn documents_carry_the_seed_fields_and_master_data_codes() {
    let sim = start();
    let key = sim.handle.keys(SourceKind::PurchaseOrders)[0].clone();
    let reply = sim
        .wdt("purchase_order_query", &[("purchase_no", &key)])
        .await;
    let po = &reply["purchase_list"][0];
    for field in [
        "purchase_no",
        "provider_no",
        "warehouse_no",
        "check_time",
        "goods_amount",
        "modified",
        "details_list",
    ] {
        assert!(po.get(field).is_some(), "missing {field}: {po}");
    }
    let line = &po["details_list"][0];
    for field in [
        "spec_no",
        "num",
        "price",
        "tax",
        "tax_price",
        "tax_amount",
        "rec_id",
        "goods_no",
    ] {
        assert!(
            line.get(field).is_some(),
            "missing details_list.{field}: {line}"
        );
    }
    let master = sim.handle.master();
    assert!(
        master
            .supplier(po["provider_no"].as_str().expect("text"))
            .is_some()
    );
    assert!(
        master
            .material(line["spec_no"].as_str().expect("text"))
            .is_some()
    );
    assert_eq!(
        Some(po),
        sim.handle
            .document(SourceKind::PurchaseOrders, &key)
            .as_ref()
    );
}

#[tokio::test]
async fn replies_are_labelled_html_like_the_real_server() {
    let sim = start();
    let fields = sim.wdt_form(&[("purchase_no", "CG00000001")]);
    let response = sim.wdt_post("purchase_order_query", &fields).await;
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert!(content_type.starts_with("text/html"), "{content_type}");
}

#[tokio::test]
async fn wrong_sign_appkey_or_timestamp_is_code_100() {
    let sim = start();
    let mut fields = sim.wdt_form(&[("purchase_no", "CG00000001")]);
    fields
        .iter_mut()
        .filter(|(k, _)| k == "sign")
        .for_each(|(_, v)| *v = "0".repeat(32));
    let (_, reply) = body_json(sim.wdt_post("purchase_order_query", &fields).await).await;
    assert_eq!(reply, json!({"code": 100, "message": "签名错误"}));

    let mut fields = sim.wdt_form(&[("purchase_no", "CG00000001")]);
    fields
        .iter_mut()
        .filter(|(k, _)| k == "appkey")
        .for_each(|(_, v)| *v = "nope".into());
    let (_, reply) = body_json(sim.wdt_post("purchase_order_query", &fields).await).await;
    assert_eq!(reply["message"], "appkey不存在");

    // A signature made for a timestamp ten minutes old.
    let creds = sim.handle.config().credentials.wdt.clone();
    let old = (weft_sim::clock::now_unix() - 600).to_string();
    let mut fields = vec![
        ("purchase_no".to_string(), "CG00000001".to_string()),
        ("sid".to_string(), creds.sid.clone()),
        ("appkey".to_string(), creds.appkey.clone()),
        ("timestamp".to_string(), old),
    ];
    let sign = weft_sim::signing::wdt::sign(
        fields.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        &creds.appsecret,
    );
    fields.push(("sign".into(), sign));
    let (_, reply) = body_json(sim.wdt_post("purchase_order_query", &fields).await).await;
    assert_eq!(reply, json!({"code": 100, "message": "无效timestamp"}));
}

#[tokio::test]
async fn page_size_over_100_and_long_windows_are_refused() {
    let sim = start();
    let (s, e) = common::window(&sim, 10);
    let reply = sim
        .wdt(
            "purchase_order_query",
            &[("start_time", &s), ("end_time", &e), ("page_size", "101")],
        )
        .await;
    assert_eq!(reply["code"], 2910, "{reply}");
    let (s, e) = common::window(&sim, 31);
    let reply = sim
        .wdt(
            "purchase_order_query",
            &[("start_time", &s), ("end_time", &e)],
        )
        .await;
    assert_eq!(
        reply,
        json!({"code": 2900, "message": "时间跨度不能超过30天"})
    );
    let reply = sim.wdt("purchase_order_query", &[]).await;
    assert_eq!(
        reply,
        json!({"code": 2900, "message": "时间范围与订单编号不能全部为空"})
    );
}

#[tokio::test]
async fn stockout_returns_have_details_and_positions() {
    let sim = start();
    let (s, e) = common::window(&sim, 29);
    let reply = sim
        .wdt(
            "stockout_order_query_return",
            &[("start_time", &s), ("end_time", &e), ("page_size", "100")],
        )
        .await;
    assert_eq!(reply["code"], 0, "{reply}");
    assert_eq!(reply["total_count"], 20);
    let first = &reply["stockout_list"][0];
    assert_eq!(first["order_type"], 3);
    let detail = &first["detail_list"][0];
    let positions = detail["position_list"].as_array().expect("position_list");
    assert!(!positions.is_empty());
    let warehouse = first["warehouse_no"]
        .as_str()
        .expect("warehouse_no")
        .to_string();
    let narrowed = sim
        .wdt(
            "stockout_order_query_return",
            &[
                ("start_time", &s),
                ("end_time", &e),
                ("warehouse_no", &warehouse),
            ],
        )
        .await;
    let list = narrowed["stockout_list"].as_array().expect("list");
    assert!(!list.is_empty() && list.iter().all(|d| d["warehouse_no"] == warehouse.as_str()));
    let cancelled = sim
        .wdt(
            "stockout_order_query_return",
            &[("start_time", &s), ("end_time", &e), ("status", "5")],
        )
        .await;
    assert_eq!(cancelled["total_count"], 0);
}

fn trade(tid: &str, num: &str) -> Value {
    json!({
        "tid": tid, "trade_status": 30, "pay_status": 2, "delivery_term": 1,
        "trade_time": "2024-01-02 10:00:00", "pay_time": "2024-01-02 10:01:00",
        "buyer_nick": "买家", "receiver_name": "张三", "receiver_province": "浙江省",
        "receiver_city": "杭州市", "receiver_district": "西湖区", "receiver_address": "文三路1号",
        "receiver_mobile": "13800000000", "logistics_type": -1, "post_amount": 0, "cod_amount": 0,
        "ext_cod_fee": 0, "other_amount": 0, "paid": "100.00",
        "order_list": [{"oid": format!("{tid}-1"), "num": num, "price": "50.00", "status": 30,
            "refund_status": 0, "goods_id": "G1", "spec_id": "S1", "goods_no": "G0001",
            "spec_no": "SKU00001", "goods_name": "商品", "spec_name": "规格", "adjust_amount": 0,
            "discount": 0, "share_discount": 0}]
    })
}

async fn push(sim: &common::Sim, trades: &[Value], switch: Option<&str>) -> Value {
    let list = Value::Array(trades.to_vec()).to_string();
    let mut params = vec![("shop_no", "SHOP01"), ("trade_list", list.as_str())];
    if let Some(s) = switch {
        params.push(("switch", s));
    }
    sim.wdt("trade_push", &params).await
}

#[tokio::test]
async fn trade_push_upserts_by_tid() {
    let sim = start();
    let reply = push(&sim, &[trade("T1", "1"), trade("T2", "2")], None).await;
    assert_eq!(
        reply,
        json!({"code": 0, "message": "", "new_count": 2, "chg_count": 0})
    );
    let reply = push(&sim, &[trade("T1", "1")], None).await;
    assert_eq!(
        reply,
        json!({"code": 0, "message": "", "new_count": 0, "chg_count": 0})
    );
    let reply = push(&sim, &[trade("T1", "5"), trade("T3", "1")], None).await;
    assert_eq!(
        reply,
        json!({"code": 0, "message": "", "new_count": 1, "chg_count": 1})
    );
    assert_eq!(
        sim.handle.wdt_trade("T1").expect("stored")["order_list"][0]["num"],
        "5"
    );
    let log = sim.handle.received(System::Wdt, "trade_push");
    assert_eq!(log.counts["T1"].received, 3);
    assert_eq!(log.counts["T2"].accepted, 1);
    let outcomes: Vec<Outcome> = log
        .entries
        .iter()
        .filter(|e| e.key == "T1")
        .map(|e| e.outcome)
        .collect();
    assert_eq!(
        outcomes,
        vec![Outcome::Created, Outcome::Unchanged, Outcome::Updated]
    );
}

#[tokio::test]
async fn trade_push_strict_refuses_the_batch_and_lenient_keeps_the_good_ones() {
    let sim = start();
    let mut bad = trade("T9", "1");
    bad["order_list"] = json!([]);
    let reply = push(&sim, &[trade("T8", "1"), bad.clone()], None).await;
    assert_eq!(reply["code"], 2820, "{reply}");
    assert!(sim.handle.wdt_trade("T8").is_none());
    let reply = push(&sim, &[trade("T8", "1"), bad], Some("0")).await;
    assert_eq!(reply["code"], 0, "{reply}");
    assert_eq!(reply["new_count"], 1);
    assert_eq!(reply["error_list"][0]["tid"], "T9");
    let reply = sim
        .wdt("trade_push", &[("shop_no", "NOPE"), ("trade_list", "[]")])
        .await;
    assert_eq!(reply["code"], 2810);
}
