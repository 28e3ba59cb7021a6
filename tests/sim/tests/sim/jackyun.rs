//! 吉客云 open API gateway.

use std::collections::BTreeSet;

use serde_json::json;

use crate::common::{self, start};

#[tokio::test]
async fn trades_page_from_zero() {
    let sim = start();
    let (s, e) = common::window(&sim, 7);
    let mut seen = BTreeSet::new();
    let mut total = None;
    for index in 0..20 {
        let reply = sim
            .jackyun(&json!({"startModified": s, "endModified": e, "pageIndex": index, "pageSize": 2, "hasTotal": 1}))
            .await;
        assert_eq!(reply["code"], 200, "{reply}");
        let data = &reply["result"]["data"];
        total.get_or_insert(data["totalResults"].as_u64().expect("totalResults"));
        let trades = data["trades"].as_array().expect("trades");
        for t in trades {
            assert!(seen.insert(t["tradeNo"].as_str().expect("tradeNo").to_string()));
            assert!(!t["goodsDetail"].as_array().expect("goodsDetail").is_empty());
        }
        if trades.len() < 2 {
            break;
        }
    }
    assert_eq!(Some(seen.len() as u64), total);
}

#[tokio::test]
async fn errors_carry_sub_codes() {
    let sim = start();
    let (s, e) = common::window(&sim, 1);
    let biz = json!({"startModified": s, "endModified": e});
    let reply = sim
        .jackyun_with("jackyun.tradenotsensitiveinfos.list.get", &biz, "wrong")
        .await;
    assert_eq!(reply["subCode"], "0858030801", "{reply}");
    let secret = sim.handle.config().credentials.jackyun.secret.clone();
    let reply = sim
        .jackyun_with("erp.storage.goodslist", &biz, &secret)
        .await;
    assert_eq!(reply["subCode"], "0130020310", "{reply}");
    let (s, e) = common::window(&sim, 8);
    let reply = sim
        .jackyun(&json!({"startModified": s, "endModified": e}))
        .await;
    assert_eq!(reply["subCode"], "0050030002", "{reply}");
    let reply = sim
        .jackyun(&json!({"startModified": s, "endModified": s, "pageSize": 201}))
        .await;
    assert_eq!(reply["subCode"], "0050030002", "{reply}");
}

#[tokio::test]
async fn fields_narrow_the_trade() {
    let sim = start();
    let (s, e) = common::window(&sim, 7);
    let reply = sim
        .jackyun(&json!({"startModified": s, "endModified": e, "fields": "tradeNo,gmtModified,goodsDetail.goodsNo"}))
        .await;
    let trade = &reply["result"]["data"]["trades"][0];
    let keys: Vec<&String> = trade.as_object().expect("object").keys().collect();
    assert_eq!(keys.len(), 3, "{trade}");
    assert_eq!(
        trade["goodsDetail"][0].as_object().map(|o| o.len()),
        Some(1)
    );
}
