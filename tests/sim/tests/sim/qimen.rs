//! 奇门 gateway: 旺店通 and 吉客云 methods.

use std::collections::BTreeSet;

use serde_json::json;
use weft_sim::SourceKind;
use weft_sim::signing::top::SignMethod;

use crate::common::{self, start};

const STOCKOUTS: &str = "wdt.stockout.order.query.return";
const TRADES: &str = "jackyun.tradenotsensitiveinfos.list.get";

#[tokio::test]
async fn wdt_stockouts_page_from_zero_inside_response() {
    let sim = start();
    let (s, e) = common::window(&sim, 29);
    let creds = sim.handle.config().credentials.qimen.clone();
    let mut seen = BTreeSet::new();
    for page in 0..10 {
        let body = json!({"start_time": s, "end_time": e, "page_no": page, "page_size": 8});
        let method = if page % 2 == 0 {
            SignMethod::Md5
        } else {
            SignMethod::Hmac
        };
        let reply = sim
            .qimen_with(
                STOCKOUTS,
                &creds.wdt_target_app_key,
                &body,
                method,
                &creds.secret,
            )
            .await;
        let inner = &reply["response"];
        assert_eq!(inner["code"], 0, "{reply}");
        assert_eq!(inner.get("total_count").is_some(), page == 0, "{reply}");
        let list = inner["stockout_list"].as_array().expect("stockout_list");
        for doc in list {
            seen.insert(
                doc["stockout_no"]
                    .as_str()
                    .expect("stockout_no")
                    .to_string(),
            );
        }
        if list.len() < 8 {
            break;
        }
    }
    assert_eq!(
        seen.len(),
        sim.handle.dataset_len(SourceKind::StockoutReturns)
    );
}

#[tokio::test]
async fn gateway_errors_use_error_response() {
    let sim = start();
    let creds = sim.handle.config().credentials.qimen.clone();
    let body = json!({"start_time": "2024-01-01 00:00:00", "end_time": "2024-01-02 00:00:00"});
    let reply = sim
        .qimen_with(
            STOCKOUTS,
            &creds.wdt_target_app_key,
            &body,
            SignMethod::Md5,
            "wrong",
        )
        .await;
    assert_eq!(reply["error_response"]["code"], 25, "{reply}");
    assert_eq!(reply["error_response"]["msg"], "Invalid signature");
    let reply = sim
        .qimen_with(
            STOCKOUTS,
            "someone-else",
            &body,
            SignMethod::Md5,
            &creds.secret,
        )
        .await;
    assert_eq!(reply["error_response"]["code"], 41, "{reply}");
    let reply = sim
        .qimen_with(
            "wdt.no.such.method",
            &creds.wdt_target_app_key,
            &body,
            SignMethod::Md5,
            &creds.secret,
        )
        .await;
    assert_eq!(reply["error_response"]["code"], 22, "{reply}");
}

#[tokio::test]
async fn wdt_business_errors_stay_inside_response() {
    let sim = start();
    let (s, e) = common::window(&sim, 31);
    let reply = sim
        .qimen(STOCKOUTS, &json!({"start_time": s, "end_time": e}))
        .await;
    assert_eq!(reply["response"]["code"], 2900, "{reply}");
    let reply = sim
        .qimen(
            STOCKOUTS,
            &json!({"start_time": s, "end_time": s, "page_size": 101}),
        )
        .await;
    assert_eq!(reply["response"]["code"], 2910, "{reply}");
}

#[tokio::test]
async fn jackyun_trades_scroll_to_the_end() {
    let sim = start();
    let (s, e) = common::window(&sim, 7);
    let first = sim
        .qimen(TRADES, &json!({"startModified": s, "endModified": e, "pageSize": 3, "pageIndex": 0, "hasTotal": 1}))
        .await;
    let data = &first["response"]["result"]["data"];
    assert_eq!(first["response"]["code"], 200, "{first}");
    let total = data["totalResults"]
        .as_u64()
        .expect("totalResults with hasTotal=1") as usize;
    let mut seen: Vec<String> = data["trades"]
        .as_array()
        .expect("trades")
        .iter()
        .map(|t| t["tradeNo"].to_string())
        .collect();
    let mut scroll = data["scrollId"].as_str().map(str::to_string);
    for _ in 0..20 {
        let Some(id) = scroll.clone() else { break };
        let reply = sim
            .qimen(TRADES, &json!({"pageSize": 3, "scrollId": id}))
            .await;
        let data = &reply["response"]["result"]["data"];
        let trades = data["trades"].as_array().expect("trades");
        if trades.is_empty() {
            break;
        }
        seen.extend(trades.iter().map(|t| t["tradeNo"].to_string()));
        scroll = data["scrollId"].as_str().map(str::to_string);
    }
    let unique: BTreeSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "no trade twice");
    assert_eq!(seen.len(), total);
    assert!(total > 0);
}

#[tokio::test]
async fn jackyun_window_over_seven_days_is_refused() {
    let sim = start();
    let (s, e) = common::window(&sim, 8);
    let reply = sim
        .qimen(TRADES, &json!({"startModified": s, "endModified": e}))
        .await;
    assert_eq!(reply["response"]["subCode"], "0050030002", "{reply}");
    assert_ne!(reply["response"]["code"], 200);
}
