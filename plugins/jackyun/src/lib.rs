//! # jackyun — 吉客云 open API
//!
//! Reads sales trades from 吉客云 through its own gateway
//! (`open.jackyun.com/open/openapi/do`, signed form posts). The protocol
//! lives in [`openapi`]; the answer envelope and the trade query are
//! 吉客云's own and shared with the `qimen` connector through
//! `weft-jackyun-api`.

mod config;
mod openapi;

use weft_jackyun_api::reply;
use weft_jackyun_api::trade_list::{self, TradeQuery};
use weft_plugin_sdk::prelude::*;
use weft_signing::{china_time, clock};

use crate::config::JackyunConfig;

struct Jackyun;

impl Connector for Jackyun {
    fn describe() -> ConnectorInfo {
        let mut info = ConnectorInfo::new("jackyun", env!("CARGO_PKG_VERSION"), "吉客云")
            .description("吉客云 (Jackyun ERP) through its open API gateway: sales trades in.");
        for field in config::fields() {
            info = info.field(field);
        }
        info.egress(Egress::BaseUrl)
            .egress(Egress::host("open.jackyun.com"))
            .operation(trade_list::operation(
                "销售单查询",
                "Sales trades modified in [startModified, endModified], with goodsDetail, from the method \
                 jackyun.tradenotsensitiveinfos.list.get (scrollId paging).",
            ))
    }

    /// Asks for one trade of the last minute: signed and cheap.
    fn check(ctx: &Context) -> Result<()> {
        let config: JackyunConfig = ctx.config()?;
        let now = clock::now_unix_secs();
        let business = json!({
            "startModified": china_time::format(now - 60),
            "endModified": china_time::format(now),
            "pageIndex": 0,
            "pageSize": 1,
        });
        let answer = openapi::call(&config, trade_list::METHOD, &business)?;
        reply::data(&answer).map(drop)
    }

    fn read(
        ctx: &Context,
        operation: &str,
        params: Params,
        cursor: Option<String>,
    ) -> Result<Page> {
        if operation != trade_list::METHOD {
            return Err(Error::fatal(format!(
                "'{operation}' is not a source of jackyun"
            )));
        }
        let config: JackyunConfig = ctx.config()?;
        let params: TradeQuery = params.parse()?;
        let cursor: trade_list::Cursor = decode_cursor(cursor.as_deref())?.unwrap_or_default();
        let answer = openapi::call(&config, operation, &trade_list::business(&params, &cursor)?)?;
        trade_list::page(reply::data(&answer)?, &cursor, params.page_size)
    }
}

export_connector!(Jackyun);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describe_names_the_crate_and_every_operation() {
        let info = weft_plugin_sdk::glue::describe::<Jackyun>();
        assert_eq!(info.name, env!("CARGO_PKG_NAME"));
        assert_eq!(info.operations.len(), 1);
        assert_eq!(info.operations[0].id, trade_list::METHOD);
        assert_eq!(info.operations[0].key_pointer.as_deref(), Some("/tradeNo"));
        assert!(
            info.connection_fields
                .iter()
                .any(|f| f.name == "secret" && f.secret)
        );
    }
}
