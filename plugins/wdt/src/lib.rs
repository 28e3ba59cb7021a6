//! # wdt — 旺店通·企业版 openapi2
//!
//! Reads purchase orders and purchase-return stock-outs, and pushes trades,
//! through 旺店通·企业版's openapi2 API (`{base_url}/openapi2/{name}.php`,
//! signed form posts). The protocol lives in [`openapi2`], list reading in
//! [`list_query`], the push in [`trade_push`]; the list queries' params,
//! codes and paging are 旺店通's own and shared with the `qimen` connector
//! through `weft-wdt-api`.

mod config;
mod list_query;
mod openapi2;
mod trade_push;

use weft_plugin_sdk::prelude::*;
use weft_signing::{china_time, clock};
use weft_wdt_api::purchase_order_query::{self, PurchaseOrderQuery};
use weft_wdt_api::stockout_order_query_return::{self, StockoutReturnQuery};

use crate::config::WdtConfig;
use crate::trade_push::{Pushed, TradePush};

struct Wdt;

impl Connector for Wdt {
    fn describe() -> ConnectorInfo {
        let mut info = ConnectorInfo::new("wdt", env!("CARGO_PKG_VERSION"), "旺店通·企业版")
            .description(
                "旺店通·企业版 (Wangdiantong ERP, enterprise edition) through its openapi2 API: \
                 purchase orders and purchase-return stock-outs in, trades out.",
            );
        for field in config::fields() {
            info = info.field(field);
        }
        info.egress(Egress::BaseUrl)
            .egress(Egress::host("*.wangdian.cn"))
            .operation(purchase_order_query::operation(
                purchase_order_query::NAME,
                "查询采购单",
                "Purchase orders modified in [start_time, end_time] (or one by purchase_no / outer_no), \
                 with their details_list, from purchase_order_query.php.",
            ))
            .operation(stockout_order_query_return::operation(
                stockout_order_query_return::NAME,
                "查询采购退货出库单",
                "Purchase-return stock-outs (采购退货出库单) modified in [start_time, end_time], with their \
                 detail_list, from stockout_order_query_return.php.",
            ))
            .operation(trade_push::operation())
    }

    /// Asks for one purchase order of the last minute: signed and cheap.
    fn check(ctx: &Context) -> Result<()> {
        let config: WdtConfig = ctx.config()?;
        let now = clock::now_unix_secs();
        let fields = vec![
            ("start_time".to_owned(), china_time::format(now - 60)),
            ("end_time".to_owned(), china_time::format(now)),
            ("page_no".to_owned(), "0".to_owned()),
            ("page_size".to_owned(), "1".to_owned()),
        ];
        openapi2::call(&config, purchase_order_query::NAME, fields).map(drop)
    }

    fn read(
        ctx: &Context,
        operation: &str,
        params: Params,
        cursor: Option<String>,
    ) -> Result<Page> {
        match operation {
            purchase_order_query::NAME => list_query::read::<PurchaseOrderQuery>(
                ctx,
                &params,
                cursor.as_deref(),
                purchase_order_query::NAME,
                purchase_order_query::LIST_KEY,
            ),
            stockout_order_query_return::NAME => list_query::read::<StockoutReturnQuery>(
                ctx,
                &params,
                cursor.as_deref(),
                stockout_order_query_return::NAME,
                stockout_order_query_return::LIST_KEY,
            ),
            other => Err(Error::fatal(format!("'{other}' is not a source of wdt"))),
        }
    }

    fn write(
        ctx: &Context,
        operation: &str,
        params: Params,
        records: Vec<Value>,
    ) -> Result<Vec<WriteOutcome>> {
        if operation != trade_push::NAME {
            return Err(Error::fatal(format!(
                "'{operation}' is not a target of wdt"
            )));
        }
        let config: WdtConfig = ctx.config()?;
        let params: TradePush = params.parse()?;
        let mut outcomes = Outcomes::new(records.len());
        let groups = trade_push::group_by_shop(records, params.shop_no.as_deref(), &mut outcomes);
        trade_push::push_all(&groups, &mut outcomes, |shop_no, trades| {
            let form = trade_push::form(shop_no, trades, params.switch)?;
            let reply = openapi2::call(&config, trade_push::NAME, form)?;
            Ok(Pushed::from_reply(&reply))
        });
        outcomes.finish()
    }
}

export_connector!(Wdt);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describe_names_the_crate_and_every_operation() {
        let info = weft_plugin_sdk::glue::describe::<Wdt>();
        assert_eq!(info.name, env!("CARGO_PKG_NAME"));
        let ids: Vec<&str> = info.operations.iter().map(|o| o.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "purchase_order_query",
                "stockout_order_query_return",
                "trade_push"
            ]
        );
        assert!(
            info.connection_fields
                .iter()
                .any(|f| f.name == "appsecret" && f.secret)
        );
        assert_eq!(info.operations[0].max_window_secs, Some(30 * 24 * 3600));
        assert_eq!(info.operations[2].max_batch, Some(50));
    }
}
