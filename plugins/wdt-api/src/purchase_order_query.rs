//! `purchase_order_query.php` 查询采购单: purchase orders by last-modified
//! time (or by number), list key `purchase_list` (seed 002).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use weft_plugin_sdk::Operation;

/// The openapi2 endpoint name.
pub const NAME: &str = "purchase_order_query";
/// Where the records are in the reply.
pub const LIST_KEY: &str = "purchase_list";
/// Longest window one call may ask for: 30 days (`code 2900` beyond).
pub const MAX_WINDOW_SECS: u64 = 30 * 24 * 3600;

/// The request parameters (page_no is the cursor's).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct PurchaseOrderQuery {
    /// 开始时间: last-modified time from, `yyyy-MM-dd HH:mm:ss` (China time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<String>,
    /// 结束时间: last-modified time to, `yyyy-MM-dd HH:mm:ss`; at most 30 days after start_time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<String>,
    /// 采购单号: one purchase order (instead of a time range).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purchase_no: Option<String>,
    /// API单号: the order's outer number (instead of a time range).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outer_no: Option<String>,
    /// 采购单状态.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// 仓库编码.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warehouse_no: Option<String>,
    /// 分页大小: records per page, 1..100.
    #[serde(default = "default_page_size")]
    #[schemars(range(min = 1, max = 100))]
    pub page_size: u32,
}

fn default_page_size() -> u32 {
    100
}

/// A source operation `id` reading these purchase orders, as `describe()`
/// declares it: the params, the key and the 30-day window.
pub fn operation(id: &str, title: &str, description: &str) -> Operation {
    Operation::source::<PurchaseOrderQuery>(id, title)
        .description(description)
        .key_pointer("/purchase_no")
        .window(MAX_WINDOW_SECS, "start_time", "end_time")
}
