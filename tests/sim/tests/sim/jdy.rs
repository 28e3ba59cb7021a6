//! 金蝶云星辰: app-token and purchase returns.

use reqwest::StatusCode;
use serde_json::{Value, json};
use weft_sim::System;

use crate::common::{body_json, start};

fn pur_return(billno: &str, material: &str) -> Value {
    json!({
        "billno": billno, "billdate": "2024-01-05", "supplierid_number": "0001",
        "material_entity": [
            {"materialid_number": material, "stockid_number": "WH001", "qty": "2", "price": "10.5"},
            {"materialid_number": "SKU00002", "qty": 1, "unit_id": "1800000000000010101"}
        ]
    })
}

#[tokio::test]
async fn saves_validates_and_refuses_duplicates() {
    let sim = start();
    let token = sim.jdy_token().await;
    let (status, reply) = sim
        .jdy_save(&token, &pur_return("CGTH-1", "SKU00001"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(reply["errcode"], 0, "{reply}");
    assert_eq!(reply["data"]["number"], "CGTH-1");
    let (_, again) = sim
        .jdy_save(&token, &pur_return("CGTH-1", "SKU00001"))
        .await;
    assert_eq!(
        again,
        json!({"errcode": 1020002, "description": "单据编号[CGTH-1]已存在"})
    );
    let (_, bad) = sim.jdy_save(&token, &pur_return("CGTH-2", "NO-SUCH")).await;
    assert_eq!(bad["errcode"], 1020001, "{bad}");
    assert!(
        bad["description"]
            .as_str()
            .unwrap_or_default()
            .contains("NO-SUCH")
    );
    let log = sim.handle.received(System::Jdy, "pur_return");
    assert_eq!(log.counts["CGTH-1"].accepted, 1);
    assert_eq!(log.counts["CGTH-1"].received, 2);
    assert_eq!(
        sim.handle.jdy_pur_return("CGTH-1").expect("stored")["supplierid_number"],
        "0001"
    );
}

#[tokio::test]
async fn gateway_signature_and_app_token_are_checked() {
    let sim = start();
    let token = sim.jdy_token().await;
    let path = sim.handle.config().jdy_pur_return_path.clone();
    let mut request = sim
        .http
        .post(sim.url(&path))
        .json(&pur_return("CGTH-3", "SKU00001"))
        .header("app-token", &token);
    for (k, v) in sim.jdy_headers("POST", &path, &[], "not-the-client-secret") {
        request = request.header(k, v);
    }
    let (status, reply) = body_json(request.send().await.expect("answered")).await;
    assert_eq!(status.as_u16(), 519, "{reply}");
    assert_eq!(reply["errcode"], 1010001);
    let (status, reply) = sim
        .jdy_save("not-a-token", &pur_return("CGTH-3", "SKU00001"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(reply["errcode"], 1010002, "{reply}");
    sim.handle.expire_jdy_tokens();
    let (_, reply) = sim
        .jdy_save(&token, &pur_return("CGTH-3", "SKU00001"))
        .await;
    assert_eq!(reply["errcode"], 1010002);
}

#[tokio::test]
async fn detail_lookup_by_number() {
    let sim = start();
    let token = sim.jdy_token().await;
    sim.jdy_save(&token, &pur_return("CGTH-4", "SKU00001"))
        .await;
    let detail_path = format!("{}_detail", sim.handle.config().jdy_pur_return_path);
    let secret = sim.handle.config().credentials.jdy.client_secret.clone();
    let lookup = |number: &str| {
        let query = vec![("number".to_string(), number.to_string())];
        let mut request = sim
            .http
            .get(sim.url_with(&detail_path, &query))
            .header("app-token", &token);
        for (k, v) in sim.jdy_headers("GET", &detail_path, &query, &secret) {
            request = request.header(k, v);
        }
        request
    };
    let (_, found) = body_json(lookup("CGTH-4").send().await.expect("answered")).await;
    assert_eq!(found["data"]["number"], "CGTH-4", "{found}");
    assert!(found["data"]["id"].as_str().is_some());
    let (_, missing) = body_json(lookup("NOPE").send().await.expect("answered")).await;
    assert_eq!(missing["errcode"], 1020003, "{missing}");
}
