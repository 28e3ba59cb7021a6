//! # qimen — the 奇门 (Taobao TOP) custom-API gateway
//!
//! Reaches ERPs that publish their APIs on 奇门: 旺店通·企业版
//! (`wdt.stockout.order.query.return`) and 吉客云
//! (`jackyun.tradenotsensitiveinfos.list.get`). 奇门 routes each call to the
//! ERP named by the connection's `target_app_key`, so a connection serves
//! one ERP. The gateway protocol lives in [`gateway`], one module per method.
//!
//! Through 奇门 a method is still the ERP's own: the same parameters, the
//! same records, the same paging and codes. Those live once, in
//! `weft-wdt-api` and `weft-jackyun-api`, which the ERPs' own connectors use
//! too, so that the two ways to one method cannot drift apart.

mod config;
mod gateway;
mod wdt_stockout_return;

use serde_json::json;
use weft_jackyun_api::reply as jackyun_reply;
use weft_jackyun_api::trade_list as jackyun_trades;
use weft_plugin_sdk::prelude::*;
use weft_signing::{china_time, clock};
use weft_wdt_api::paging as wdt_paging;
use weft_wdt_api::stockout_order_query_return::StockoutReturnQuery;

use crate::config::QimenConfig;

struct Qimen;

impl Connector for Qimen {
    fn describe() -> ConnectorInfo {
        let mut info = ConnectorInfo::new("qimen", env!("CARGO_PKG_VERSION"), "奇门")
            .description(
                "The 奇门 (Taobao TOP) custom-API gateway: 旺店通·企业版 and 吉客云 methods, routed to the \
                 ERP by target_app_key, signed with the TOP signature over query and body.",
            );
        for field in config::fields() {
            info = info.field(field);
        }
        info.egress(Egress::BaseUrl)
            .egress(Egress::host("*.api.taobao.com"))
            .operation(wdt_stockout_return::operation())
            .operation(jackyun_trades::operation(
                "销售单查询 (吉客云 via 奇门)",
                "吉客云 sales trades modified in [startModified, endModified], with goodsDetail, through the \
                 奇门 method jackyun.tradenotsensitiveinfos.list.get (scrollId paging).",
            ))
    }

    /// Asks the ERP for the last minute's documents. 奇门 checks the app
    /// key and signature before routing, so a TOP error names a bad
    /// credential; a target that does not serve the 旺店通 method is tried
    /// with the 吉客云 one.
    fn check(ctx: &Context) -> Result<()> {
        let config: QimenConfig = ctx.config()?;
        let now = clock::now_unix_secs();
        let (from, to) = (china_time::format(now - 60), china_time::format(now));
        let wdt = json!({"start_time": from, "end_time": to, "page_no": 0, "page_size": 1});
        let wdt_answer = gateway::call(&config, wdt_stockout_return::METHOD, &wdt)
            .and_then(|reply| wdt_stockout_return::page(&reply, &wdt_paging::Cursor::default(), 1));
        let wdt_error = match wdt_answer {
            Ok(_) => return Ok(()),
            Err(e @ (Error::Auth(_) | Error::Transient(_) | Error::RateLimited { .. })) => {
                return Err(e);
            }
            Err(e) => e,
        };
        let jackyun =
            json!({"startModified": from, "endModified": to, "pageIndex": 0, "pageSize": 1});
        gateway::call(&config, jackyun_trades::METHOD, &jackyun)
            .and_then(|reply| jackyun_reply::data(&reply).map(drop))
            .map_err(|e| {
                e.context(format!(
                    "{} answered {wdt_error}",
                    wdt_stockout_return::METHOD
                ))
            })
    }

    fn read(
        ctx: &Context,
        operation: &str,
        params: Params,
        cursor: Option<String>,
    ) -> Result<Page> {
        let config: QimenConfig = ctx.config()?;
        match operation {
            wdt_stockout_return::METHOD => {
                let params: StockoutReturnQuery = params.parse()?;
                let cursor: wdt_paging::Cursor =
                    decode_cursor(cursor.as_deref())?.unwrap_or_default();
                let body = wdt_stockout_return::body(&params, cursor.page_no, &config)?;
                let reply = gateway::call(&config, operation, &body)?;
                wdt_stockout_return::page(&reply, &cursor, params.page_size)
            }
            jackyun_trades::METHOD => {
                let params: jackyun_trades::TradeQuery = params.parse()?;
                let cursor: jackyun_trades::Cursor =
                    decode_cursor(cursor.as_deref())?.unwrap_or_default();
                let body = jackyun_trades::business(&params, &cursor)?;
                let reply = gateway::call(&config, operation, &body)?;
                jackyun_trades::page(jackyun_reply::data(&reply)?, &cursor, params.page_size)
            }
            other => Err(Error::fatal(format!("'{other}' is not a source of qimen"))),
        }
    }
}

export_connector!(Qimen);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describe_names_the_crate_and_every_operation() {
        let info = weft_plugin_sdk::glue::describe::<Qimen>();
        assert_eq!(info.name, env!("CARGO_PKG_NAME"));
        let ids: Vec<&str> = info.operations.iter().map(|o| o.id.as_str()).collect();
        assert_eq!(ids, [wdt_stockout_return::METHOD, jackyun_trades::METHOD]);
        assert!(
            info.connection_fields
                .iter()
                .any(|f| f.name == "app_secret" && f.secret)
        );
        assert_eq!(
            info.operations[1].window_params,
            Some(("startModified".to_owned(), "endModified".to_owned()))
        );
        assert!(
            info.operations[1]
                .params_schema
                .contains("\"startModified\"")
        );
    }
}
