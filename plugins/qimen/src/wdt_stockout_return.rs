//! `wdt.stockout.order.query.return` 查询采购退货出库单 (seed 000): the
//! openapi2 `stockout_order_query_return` travelling to 旺店通 through 奇门
//! (routed by `target_app_key`). Body fields as openapi2 (`start_time`,
//! `end_time`, 0-based `page_no`, `page_size`); the answer is
//! `{"response":{"code"|"errorcode":0,"total_count":N,"stockout_list":[..]}}`
//! with `total_count` on page 0 only. Params, paging and codes are
//! 旺店通's own, from `weft-wdt-api`.

use serde_json::{Map, Value};
use weft_plugin_sdk::{Operation, Page, Result};

use weft_wdt_api::codes as wdt_codes;
use weft_wdt_api::paging::{self as wdt_paging, Cursor};
use weft_wdt_api::stockout_order_query_return::{self as wdt_stockout, StockoutReturnQuery};

use crate::config::QimenConfig;
use crate::gateway::integer;

/// Operation id and 奇门 method.
pub const METHOD: &str = "wdt.stockout.order.query.return";

/// What `describe()` says about the operation.
pub fn operation() -> Operation {
    wdt_stockout::operation(
        METHOD,
        "查询采购退货出库单 (旺店通 via 奇门)",
        "Purchase-return stock-outs (采购退货出库单) modified in [start_time, end_time], with their \
         detail_list, from 旺店通·企业版 through the 奇门 method wdt.stockout.order.query.return.",
    )
}

/// The JSON body of one page: the params, `page_no`, and the 旺店通
/// account fields when the connection has them.
///
/// # Errors
/// `fatal` when the params cannot be serialised.
pub fn body(params: &StockoutReturnQuery, page_no: u32, config: &QimenConfig) -> Result<Value> {
    let mut body = serde_json::to_value(params)?;
    if let Value::Object(map) = &mut body {
        map.insert("page_no".to_owned(), Value::from(page_no));
        // UNCONFIRMED: see docs/protocol-choices.md: third-party callers add
        // the seller's 旺店通 sid/appkey; the pinned body does not need them.
        for (key, value) in [("sid", &config.wdt_sid), ("appkey", &config.wdt_appkey)] {
            if let Some(value) = value.as_deref().filter(|v| !v.is_empty()) {
                map.insert(key.to_owned(), Value::from(value));
            }
        }
    }
    Ok(body)
}

/// Reads one page out of the inner `response`.
///
/// # Errors
/// 旺店通's non-zero `code` (or `errorcode`) classified as openapi2 does;
/// `fatal` for a list that is not an array.
pub fn page(reply: &Map<String, Value>, cursor: &Cursor, page_size: u32) -> Result<Page> {
    // UNCONFIRMED: see docs/protocol-choices.md: `errorcode` is a synonym of
    // `code`; an answer with neither is a success.
    let code = reply
        .get("code")
        .or_else(|| reply.get("errorcode"))
        .and_then(integer)
        .unwrap_or(0);
    if code != 0 {
        let message = reply.get("message").and_then(Value::as_str).unwrap_or("");
        return Err(wdt_codes::classify(code, message));
    }
    wdt_paging::page_from_reply(reply, wdt_stockout::LIST_KEY, cursor, page_size)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use weft_plugin_sdk::decode_cursor;

    fn reply(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    fn params() -> StockoutReturnQuery {
        serde_json::from_value(
            json!({"start_time":"2024-01-01 00:00:00","end_time":"2024-01-02 00:00:00"}),
        )
        .expect("params")
    }

    #[test]
    fn the_body_has_the_page_and_the_account() {
        let mut config: QimenConfig = serde_json::from_value(json!({
            "app_key":"1","app_secret":"s","target_app_key":"t","wdt_sid":"seller"
        }))
        .expect("config");
        config.wdt_appkey = Some(String::new());
        let b = body(&params(), 2, &config).expect("body");
        assert_eq!(
            b,
            json!({"start_time":"2024-01-01 00:00:00","end_time":"2024-01-02 00:00:00","page_size":30,"page_no":2,"sid":"seller"})
        );
    }

    #[test]
    fn pages_follow_the_total() {
        let records: Vec<Value> = (0..30)
            .map(|i| json!({"order_no": format!("CK{i}")}))
            .collect();
        let r = reply(json!({"code":0,"message":"","total_count":45,"stockout_list":records}));
        let page = page(&r, &Cursor::default(), 30).expect("page");
        assert_eq!(page.known_total(), Some(45));
        let next: Option<Cursor> = decode_cursor(page.next_cursor()).expect("cursor");
        assert_eq!(
            next,
            Some(Cursor {
                page_no: 1,
                total: Some(45)
            })
        );
    }

    #[test]
    fn errorcode_is_a_synonym_of_code() {
        let r = reply(json!({"errorcode":1090,"message":"接口调用频率超限"}));
        assert_eq!(
            page(&r, &Cursor::default(), 30).err().map(|e| e.class()),
            Some("rate-limited")
        );
        let r = reply(json!({"errorcode":0,"stockout_list":[]}));
        assert!(page(&r, &Cursor::default(), 30).is_ok_and(|p| p.next_cursor().is_none()));
        let r = reply(json!({"code":"2900","message":"时间跨度不能超过30天"}));
        assert_eq!(
            page(&r, &Cursor::default(), 30)
                .err()
                .map(|e| e.to_string()),
            Some("invalid: 旺店通 code 2900: 时间跨度不能超过30天".to_owned())
        );
        let r = reply(json!({"code":100,"message":"签名错误"}));
        assert_eq!(
            page(&r, &Cursor::default(), 30).err().map(|e| e.class()),
            Some("auth")
        );
    }
}
