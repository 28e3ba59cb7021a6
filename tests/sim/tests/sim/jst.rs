//! 聚水潭: token endpoints and refund/single/query.

use std::collections::BTreeSet;

use serde_json::json;
use weft_sim::SourceKind;

use crate::common::{self, start, start_with};

#[tokio::test]
async fn refunds_page_from_one_and_cap_page_size_at_fifty() {
    let sim = start_with(|c| c.dataset.refunds = 400);
    let (b, e) = common::window(&sim, 7);
    let mut seen = BTreeSet::new();
    let mut expected_total = None;
    for page in 1..20 {
        let reply = sim
            .jst_refunds(&json!({"modified_begin": b, "modified_end": e, "page_index": page, "page_size": 100}))
            .await;
        assert_eq!(reply["code"], 0, "{reply}");
        let data = &reply["data"];
        assert_eq!(data["page_size"], 50, "capped: {reply}");
        assert_eq!(data["page_index"], page);
        expected_total.get_or_insert(data["data_count"].as_u64().expect("data_count"));
        for refund in data["datas"].as_array().expect("datas") {
            assert!(seen.insert(refund["as_id"].to_string()));
            assert!(!refund["items"].as_array().expect("items").is_empty());
        }
        if data["has_next"] != true {
            break;
        }
    }
    assert_eq!(Some(seen.len() as u64), expected_total);
    assert!(
        seen.len() > 50,
        "a week of 400 refunds over 4 weeks needs several pages"
    );
}

#[tokio::test]
async fn page_index_zero_and_long_windows_are_refused() {
    let sim = start();
    let (b, e) = common::window(&sim, 7);
    let reply = sim
        .jst_refunds(&json!({"modified_begin": b, "modified_end": e, "page_index": 0}))
        .await;
    assert_eq!(reply["code"], 130, "{reply}");
    let (b, e) = common::window(&sim, 8);
    let reply = sim
        .jst_refunds(&json!({"modified_begin": b, "modified_end": e}))
        .await;
    assert_eq!(
        reply,
        json!({"code": 130, "msg": "修改时间间隔不能超过7天"})
    );
    let reply = sim.jst_refunds(&json!({"modified_begin": b})).await;
    assert_eq!(reply["code"], 130);
}

#[tokio::test]
async fn lookups_by_order_ids() {
    let sim = start();
    let key = sim.handle.keys(SourceKind::Refunds)[3].clone();
    let doc = sim
        .handle
        .document(SourceKind::Refunds, &key)
        .expect("document");
    let reply = sim.jst_refunds(&json!({"so_ids": [doc["so_id"]]})).await;
    assert_eq!(reply["data"]["datas"][0]["as_id"], doc["as_id"], "{reply}");
    let reply = sim.jst_refunds(&json!({"o_ids": [doc["o_id"]]})).await;
    assert_eq!(reply["data"]["datas"][0], doc);
}

#[tokio::test]
async fn auth_errors_have_their_own_codes() {
    let sim = start();
    let biz = json!({"so_ids": ["1"]});
    let reply = sim
        .jst_signed(
            "/open/refund/single/query",
            vec![
                ("access_token".into(), "weft-jst-token".into()),
                ("version".into(), "2".into()),
                ("biz".into(), biz.to_string()),
            ],
            "wrong-secret",
        )
        .await;
    assert_eq!(reply, json!({"code": 10, "msg": "签名错误"}));
    let reply = sim.jst_refunds_with(&biz, "stale-token").await;
    assert_eq!(reply["code"], 100, "{reply}");
    let old = (weft_sim::clock::now_unix() - 3600).to_string();
    let secret = sim.handle.config().credentials.jst.app_secret.clone();
    let reply = sim
        .jst_signed(
            "/open/refund/single/query",
            vec![
                ("access_token".into(), "weft-jst-token".into()),
                ("timestamp".into(), old),
                ("biz".into(), biz.to_string()),
            ],
            &secret,
        )
        .await;
    assert_eq!(reply["code"], 12, "{reply}");
}

#[tokio::test]
async fn tokens_are_issued_refreshed_and_expired() {
    let sim = start();
    let secret = sim.handle.config().credentials.jst.app_secret.clone();
    let reply = sim
        .jst_signed(
            "/openWeb/auth/getInitToken",
            vec![
                ("grant_type".into(), "authorization_code".into()),
                ("code".into(), "weft-code".into()),
            ],
            &secret,
        )
        .await;
    assert_eq!(reply["code"], 0, "{reply}");
    assert_eq!(reply["data"]["access_token"], "weft-jst-token");
    let refresh = reply["data"]["refresh_token"]
        .as_str()
        .expect("refresh_token")
        .to_string();
    let reply = sim
        .jst_signed(
            "/openWeb/auth/refreshToken",
            vec![
                ("grant_type".into(), "refresh_token".into()),
                ("refresh_token".into(), refresh),
                ("scope".into(), "all".into()),
            ],
            &secret,
        )
        .await;
    let token = reply["data"]["access_token"]
        .as_str()
        .expect("new token")
        .to_string();
    let biz = json!({"as_ids": [sim.handle.keys(SourceKind::Refunds)[0]]});
    assert_eq!(sim.jst_refunds_with(&biz, &token).await["code"], 0);
    sim.handle.expire_jst_tokens();
    assert_eq!(sim.jst_refunds_with(&biz, &token).await["code"], 100);
}
