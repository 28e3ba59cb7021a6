//! `jackyun.tradenotsensitiveinfos.list.get` 销售单查询 (seed 004): sales
//! trades by last-modified time. Business fields `startModified` /
//! `endModified` (span ≤ 7 days), `pageSize` (≤ 200), 0-based `pageIndex`,
//! `hasTotal`, `scrollId`, `fields`; the answer's `result.data` holds
//! `trades`, `scrollId` and `totalResults`. The next page is asked for
//! with the returned `scrollId`, and an empty `trades` list ends the scroll
//! (docs/protocol-choices.md). The method answers alike through 奇门.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use weft_plugin_sdk::{Error, Operation, Page, Result};

/// Operation id and method name.
pub const METHOD: &str = "jackyun.tradenotsensitiveinfos.list.get";
/// Longest window one call may ask for: 7 days.
pub const MAX_WINDOW_SECS: u64 = 7 * 24 * 3600;

/// The request parameters (pageIndex, hasTotal and scrollId are the
/// cursor's). Names are 吉客云's.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TradeQuery {
    /// 最后修改时间(起始), `yyyy-MM-dd HH:mm:ss` (China time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_modified: Option<String>,
    /// 最后修改时间(截止), at most 7 days after startModified.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_modified: Option<String>,
    /// 销售单号, several separated by commas.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trade_no: Option<String>,
    /// 创建时间(起始).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_created: Option<String>,
    /// 创建时间(截止).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_created: Option<String>,
    /// 审核时间(起始).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_audit_time: Option<String>,
    /// 审核时间(截止).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_audit_time: Option<String>,
    /// 发货时间(起始).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_consign_time: Option<String>,
    /// 发货时间(截止).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_consign_time: Option<String>,
    /// 订单状态.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trade_status: Option<String>,
    /// 订单类型.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trade_type: Option<String>,
    /// 网店订单号.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_trade_nos: Option<String>,
    /// 需要返回字段列表, comma-separated (e.g. `tradeNo,shopName,goodsDetail`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fields: Option<String>,
    /// 每页记录数, at most 200.
    #[serde(default = "default_page_size")]
    #[schemars(range(min = 1, max = 200))]
    pub page_size: u32,
}

fn default_page_size() -> u32 {
    200
}

/// What `describe()` says about an operation reading these trades.
pub fn operation(title: &str, description: &str) -> Operation {
    Operation::source::<TradeQuery>(METHOD, title)
        .description(description)
        .key_pointer("/tradeNo")
        .window(MAX_WINDOW_SECS, "startModified", "endModified")
}

/// Where the next page starts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    /// 0-based page index.
    pub page_index: u32,
    /// The scroll id of the previous answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scroll_id: Option<String>,
    /// `totalResults` of the first answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
}

/// The business parameters of one page.
///
/// # Errors
/// `fatal` when the params cannot be serialised.
pub fn business(params: &TradeQuery, cursor: &Cursor) -> Result<Value> {
    let mut body = serde_json::to_value(params)?;
    if let Value::Object(map) = &mut body {
        // UNCONFIRMED: see docs/protocol-choices.md: pageIndex goes on
        // counting beside the scrollId, so a server paging by either agrees.
        map.insert("pageIndex".to_owned(), Value::from(cursor.page_index));
        // The total is asked for once, on the first call.
        map.insert(
            "hasTotal".to_owned(),
            Value::from(u8::from(cursor.page_index == 0)),
        );
        if let Some(scroll_id) = &cursor.scroll_id {
            map.insert("scrollId".to_owned(), Value::from(scroll_id.as_str()));
        }
    }
    Ok(body)
}

/// Reads one page out of the answer's `result.data`.
///
/// # Errors
/// `fatal` for `trades` that is not a list.
pub fn page(data: Option<&Map<String, Value>>, cursor: &Cursor, page_size: u32) -> Result<Page> {
    let trades = match data.and_then(|d| d.get("trades")) {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items.clone(),
        Some(other) => {
            return Err(Error::fatal(format!(
                "吉客云 answered 'trades' with {other} instead of a list"
            )));
        }
    };
    let scroll_id = data
        .and_then(|d| d.get("scrollId"))
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned);
    let total = match cursor.page_index {
        0 => data.and_then(|d| d.get("totalResults")).and_then(count),
        _ => cursor.total,
    };
    let got = trades.len();
    let mut page = Page::from_values(trades);
    if let Some(total) = total {
        page = page.total(total);
    }
    // An empty list ends the scroll. Without a scroll id 吉客云 is paging by
    // pageIndex, and a short page is the last.
    let last = got == 0 || (scroll_id.is_none() && got < page_size as usize);
    match cursor.page_index.checked_add(1) {
        Some(page_index) if !last => page.next(&Cursor {
            page_index,
            scroll_id: scroll_id.or_else(|| cursor.scroll_id.clone()),
            total,
        }),
        _ => Ok(page),
    }
}

fn count(value: &Value) -> Option<u64> {
    match value {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use weft_plugin_sdk::decode_cursor;

    fn data(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    fn params() -> TradeQuery {
        serde_json::from_value(json!({"startModified":"2024-01-01 00:00:00","endModified":"2024-01-02 00:00:00","pageSize":2}))
            .expect("params")
    }

    #[test]
    fn the_first_call_asks_for_the_total() {
        assert_eq!(
            business(&params(), &Cursor::default()).expect("business"),
            json!({"startModified":"2024-01-01 00:00:00","endModified":"2024-01-02 00:00:00","pageSize":2,"pageIndex":0,"hasTotal":1})
        );
        let next = Cursor {
            page_index: 1,
            scroll_id: Some("S1".to_owned()),
            total: Some(3),
        };
        let b = business(&params(), &next).expect("business");
        assert_eq!(b["scrollId"], "S1");
        assert_eq!(b["hasTotal"], 0);
    }

    #[test]
    fn the_scroll_goes_on_until_an_empty_list() {
        let first = data(
            json!({"trades":[{"tradeNo":"JY1"},{"tradeNo":"JY2"}],"scrollId":"S1","totalResults":3}),
        );
        let p = page(Some(&first), &Cursor::default(), 2).expect("page");
        assert_eq!(p.known_total(), Some(3));
        let c: Cursor = decode_cursor(p.next_cursor())
            .expect("cursor")
            .expect("a next page");
        assert_eq!(
            c,
            Cursor {
                page_index: 1,
                scroll_id: Some("S1".to_owned()),
                total: Some(3)
            }
        );

        // A short page with a scroll id still asks once more.
        let second = data(json!({"trades":[{"tradeNo":"JY3"}],"scrollId":"S2"}));
        let p = page(Some(&second), &c, 2).expect("page");
        assert_eq!(p.known_total(), Some(3));
        let c: Cursor = decode_cursor(p.next_cursor())
            .expect("cursor")
            .expect("a next page");
        assert_eq!(c.scroll_id.as_deref(), Some("S2"));

        let end = data(json!({"trades":[],"scrollId":"S3"}));
        assert!(
            page(Some(&end), &c, 2)
                .expect("page")
                .next_cursor()
                .is_none()
        );
        assert!(page(None, &c, 2).expect("page").next_cursor().is_none());
    }

    #[test]
    fn without_a_scroll_id_a_short_page_is_the_last() {
        let d = data(json!({"trades":[{"tradeNo":"JY1"}]}));
        assert!(
            page(Some(&d), &Cursor::default(), 2)
                .expect("page")
                .next_cursor()
                .is_none()
        );
        let d = data(json!({"trades":[{"tradeNo":"JY1"},{"tradeNo":"JY2"}]}));
        let c: Option<Cursor> = decode_cursor(
            page(Some(&d), &Cursor::default(), 2)
                .expect("page")
                .next_cursor(),
        )
        .expect("cursor");
        assert_eq!(
            c,
            Some(Cursor {
                page_index: 1,
                scroll_id: None,
                total: None
            })
        );
    }

    #[test]
    fn trades_must_be_a_list() {
        let d = data(json!({"trades":{}}));
        assert_eq!(
            page(Some(&d), &Cursor::default(), 2)
                .err()
                .map(|e| e.class()),
            Some("fatal")
        );
    }
}
