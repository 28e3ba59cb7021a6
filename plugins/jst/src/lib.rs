//! # jst — 聚水潭 open API
//!
//! Reads after-sale (退货退款) orders from 聚水潭's open API
//! (`openapi.jushuitan.com/open/...`, signed form posts). The protocol lives
//! in [`openapi`], the access token in [`token`], one module per operation.

mod config;
mod openapi;
mod refund_query;
mod token;

use weft_plugin_sdk::prelude::*;
use weft_signing::{china_time, clock};

use crate::config::JstConfig;
use crate::refund_query::RefundQuery;

struct Jst;

impl Connector for Jst {
    fn describe() -> ConnectorInfo {
        let mut info = ConnectorInfo::new("jst", env!("CARGO_PKG_VERSION"), "聚水潭")
            .description(
                "聚水潭 (Jushuitan ERP) through its open API: after-sale (退货退款) orders in. Uses the \
                 connection's access token, or exchanges an authorization code for one.",
            );
        for field in config::fields() {
            info = info.field(field);
        }
        info.egress(Egress::BaseUrl)
            .egress(Egress::host("openapi.jushuitan.com"))
            .egress(Egress::host("dev-api.jushuitan.com"))
            .operation(refund_query::operation())
    }

    /// Asks for one refund of the last minute: signed, token checked.
    fn check(ctx: &Context) -> Result<()> {
        let config: JstConfig = ctx.config()?;
        let now = clock::now_unix_secs();
        let biz = json!({
            "modified_begin": china_time::format(now - 60),
            "modified_end": china_time::format(now),
            "page_index": 1,
            "page_size": 1,
        });
        token::call(&config, refund_query::PATH, &biz.to_string()).map(drop)
    }

    fn read(
        ctx: &Context,
        operation: &str,
        params: Params,
        cursor: Option<String>,
    ) -> Result<Page> {
        if operation != refund_query::NAME {
            return Err(Error::fatal(format!(
                "'{operation}' is not a source of jst"
            )));
        }
        let config: JstConfig = ctx.config()?;
        let params: RefundQuery = params.parse()?;
        let cursor: refund_query::Cursor = decode_cursor(cursor.as_deref())?.unwrap_or_default();
        let data = token::call(
            &config,
            refund_query::PATH,
            &refund_query::biz(&params, &cursor)?,
        )?;
        refund_query::page(&data, &cursor)
    }
}

export_connector!(Jst);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describe_names_the_crate_and_every_operation() {
        let info = weft_plugin_sdk::glue::describe::<Jst>();
        assert_eq!(info.name, env!("CARGO_PKG_NAME"));
        assert_eq!(info.operations.len(), 1);
        assert_eq!(info.operations[0].id, "refund.single.query");
        assert_eq!(info.operations[0].max_window_secs, Some(7 * 24 * 3600));
        assert!(
            info.connection_fields
                .iter()
                .any(|f| f.name == "access_token" && f.secret && !f.required)
        );
    }
}
