//! `stockout_order_query_return.php` 查询采购退货出库单: purchase-return
//! stock-outs by last-modified time, list key `stockout_list` (seed 000).
//! The 奇门 method `wdt.stockout.order.query.return` takes the same
//! parameters and answers with the same list.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use weft_plugin_sdk::Operation;

/// The openapi2 endpoint name.
pub const NAME: &str = "stockout_order_query_return";
/// Where the records are in the reply.
pub const LIST_KEY: &str = "stockout_list";
/// Longest window one call may ask for: 30 days (`code 2900` beyond).
pub const MAX_WINDOW_SECS: u64 = 30 * 24 * 3600;

/// The request parameters (page_no is the cursor's).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct StockoutReturnQuery {
    /// 开始时间: last-modified time from, `yyyy-MM-dd HH:mm:ss` (China time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<String>,
    /// 结束时间: last-modified time to, `yyyy-MM-dd HH:mm:ss`; at most 30 days after start_time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<String>,
    /// 仓库编号.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warehouse_no: Option<String>,
    /// 出库单状态: 5 已取消, 50 待审核, 55 已审核, 95 已发货, 110 已完成 (default: shipped and done).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// 上层单据编号: the purchase-return number the stock-out came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub src_order_no: Option<String>,
    /// 分页大小: records per page (the API documents 1..30, default 30; the simulator takes up to 100).
    #[serde(default = "default_page_size")]
    #[schemars(range(min = 1, max = 100))]
    pub page_size: u32,
}

fn default_page_size() -> u32 {
    30
}

/// A source operation `id` reading these stock-outs, as `describe()`
/// declares it: the params, the key and the 30-day window.
pub fn operation(id: &str, title: &str, description: &str) -> Operation {
    Operation::source::<StockoutReturnQuery>(id, title)
        .description(description)
        .key_pointer("/stockout_no")
        .window(MAX_WINDOW_SECS, "start_time", "end_time")
}
