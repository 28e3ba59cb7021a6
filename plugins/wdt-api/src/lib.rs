//! # weft-wdt-api
//!
//! 旺店通·企业版's methods as both of its gateways carry them: openapi2
//! (the `wdt` connector) and 奇门 (the `qimen` connector) take the same
//! parameters, answer with the same codes and page alike, so each of those
//! lives here once and the two ways to one method cannot drift apart.
//!
//! | module | what |
//! |---|---|
//! | [`codes`] | answer codes and what they mean to weft |
//! | [`paging`] | 0-based `page_no`, `total_count` on page 0 only |
//! | [`purchase_order_query`] | 查询采购单: params, list key, window |
//! | [`stockout_order_query_return`] | 查询采购退货出库单: params, list key, window |
//!
//! Transport and signing stay with each connector.

pub mod codes;
pub mod paging;
pub mod purchase_order_query;
pub mod stockout_order_query_return;
