//! `/open/refund/single/query` 退货退款查询 (seed 003, PROTOCOLS.md §5.3):
//! after-sale (refund/return) orders by modified time, `modified_begin` /
//! `modified_end` at most 7 days apart, 1-based `page_index`, `page_size`
//! ≤ 50. The answer's `data` holds `datas`, `has_next`, `page_count` and
//! `data_count`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use weft_plugin_sdk::{Error, Operation, Page, Result};

/// Operation id.
pub const NAME: &str = "refund.single.query";
/// The API path.
pub const PATH: &str = "/open/refund/single/query";
/// Longest window one call may ask for: 7 days (`code 130` beyond).
pub const MAX_WINDOW_SECS: u64 = 7 * 24 * 3600;

/// The request parameters (page_index is the cursor's).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct RefundQuery {
    /// 修改起始时间, `yyyy-MM-dd HH:mm:ss`; with modified_end, at most 7 days apart.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modified_begin: Option<String>,
    /// 修改结束时间, `yyyy-MM-dd HH:mm:ss`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modified_end: Option<String>,
    /// 店铺编号.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shop_id: Option<i64>,
    /// With shop_id 0: query offline shops.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_offline_shop: Option<bool>,
    /// 线上订单号.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub so_ids: Option<Vec<String>>,
    /// 内部订单号.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub o_ids: Option<Vec<i64>>,
    /// 售后单号.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub as_ids: Option<Vec<i64>>,
    /// 买家账号, at most 50.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shop_buyer_ids: Option<Vec<String>>,
    /// 状态: WaitConfirm, Confirmed, Cancelled, Merged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// 货物状态.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub good_status: Option<String>,
    /// 售后类型.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// 货主编码.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_co_id: Option<i64>,
    /// Row-version cursor for incremental reads (instead of a time range).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_ts: Option<i64>,
    /// Whether to count the total (pass false with start_ts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_get_total: Option<bool>,
    /// 每页多少条, at most 50.
    #[serde(default = "default_page_size")]
    #[schemars(range(min = 1, max = 50))]
    pub page_size: u32,
}

fn default_page_size() -> u32 {
    50
}

/// What `describe()` says about the operation.
pub fn operation() -> Operation {
    Operation::source::<RefundQuery>(NAME, "退货退款查询")
        .description(
            "After-sale orders (退货退款) modified in [modified_begin, modified_end], with their items, from \
             /open/refund/single/query.",
        )
        .key_pointer("/as_id")
        .window(MAX_WINDOW_SECS, "modified_begin", "modified_end")
}

/// Where the next page starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    /// 1-based page index.
    pub page_index: u32,
}

impl Default for Cursor {
    fn default() -> Self {
        Self { page_index: 1 }
    }
}

/// The `biz` JSON of one page.
///
/// # Errors
/// `fatal` when the params cannot be serialised.
pub fn biz(params: &RefundQuery, cursor: &Cursor) -> Result<String> {
    let mut biz = serde_json::to_value(params)?;
    if let Value::Object(map) = &mut biz {
        map.insert("page_index".to_owned(), Value::from(cursor.page_index));
    }
    Ok(biz.to_string())
}

/// Reads one page out of the answer's `data`.
///
/// # Errors
/// `fatal` when `datas` is not a list.
pub fn page(data: &Value, cursor: &Cursor) -> Result<Page> {
    let records = match data.get("datas") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items.clone(),
        Some(other) => {
            return Err(Error::fatal(format!(
                "聚水潭 answered 'datas' with {other} instead of a list"
            )));
        }
    };
    let number = |key: &str| match data.get(key) {
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    };
    let has_next = match data.get("has_next") {
        Some(Value::Bool(b)) => *b,
        _ => number("page_count").is_some_and(|count| u64::from(cursor.page_index) < count),
    };
    let got = records.len();
    let mut page = Page::from_values(records);
    if let Some(total) = number("data_count") {
        page = page.total(total);
    }
    match cursor.page_index.checked_add(1) {
        Some(page_index) if has_next && got > 0 => page.next(&Cursor { page_index }),
        _ => Ok(page),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use weft_plugin_sdk::decode_cursor;

    #[test]
    fn biz_carries_the_params_and_the_page() {
        let params: RefundQuery = serde_json::from_value(json!({
            "modified_begin": "2021-05-21 00:00:00", "modified_end": "2021-05-28 00:00:00", "type": "退货"
        }))
        .expect("params");
        let biz: Value =
            serde_json::from_str(&biz(&params, &Cursor::default()).expect("biz")).expect("json");
        assert_eq!(
            biz,
            json!({"modified_begin":"2021-05-21 00:00:00","modified_end":"2021-05-28 00:00:00","type":"退货","page_size":50,"page_index":1})
        );
    }

    #[test]
    fn pages_follow_has_next() {
        let data = json!({"page_size":2,"page_index":1,"data_count":3,"page_count":2,"has_next":true,
            "datas":[{"as_id":1},{"as_id":2}]});
        let p = page(&data, &Cursor::default()).expect("page");
        assert_eq!(p.known_total(), Some(3));
        let next: Option<Cursor> = decode_cursor(p.next_cursor()).expect("cursor");
        assert_eq!(next, Some(Cursor { page_index: 2 }));

        let data = json!({"data_count":3,"page_count":2,"has_next":false,"datas":[{"as_id":3}]});
        assert!(
            page(&data, &Cursor { page_index: 2 })
                .expect("page")
                .next_cursor()
                .is_none()
        );
    }

    #[test]
    fn without_has_next_the_page_count_decides() {
        let data = json!({"page_count":"3","datas":[{"as_id":1}]});
        assert!(
            page(&data, &Cursor { page_index: 2 })
                .expect("page")
                .next_cursor()
                .is_some()
        );
        assert!(
            page(&data, &Cursor { page_index: 3 })
                .expect("page")
                .next_cursor()
                .is_none()
        );
        assert!(
            page(&json!(null), &Cursor::default())
                .expect("page")
                .records()
                .is_empty()
        );
    }
}
