//! # jdy — 金蝶云星辰 (Kingdee JDY) open API
//!
//! Writes purchase returns into 金蝶云星辰 through the Kingdee API gateway,
//! idempotently on the bill number. The gateway protocol lives in
//! [`gateway`], the app-token in [`token`] and [`open_api`], one module per
//! operation.

mod config;
mod gateway;
mod open_api;
mod pur_return;
mod token;
mod token_cache;

use weft_plugin_sdk::prelude::*;

use crate::config::JdyConfig;
use crate::open_api::OpenApi;
use crate::pur_return::PurReturnSave;

struct Jdy;

impl Connector for Jdy {
    fn describe() -> ConnectorInfo {
        let mut info = ConnectorInfo::new("jdy", env!("CARGO_PKG_VERSION"), "金蝶云星辰")
            .description(
                "金蝶云星辰 (Kingdee JDY) through the Kingdee API gateway: app-token from app_key/app_signature, \
                 signed X-Api headers; purchase returns out, idempotent on billno.",
            );
        for field in config::fields() {
            info = info.field(field);
        }
        info.egress(Egress::BaseUrl)
            .egress(Egress::host("api.kingdee.com"))
            .egress(Egress::host("*.jdy.com"))
            .operation(pur_return::operation())
    }

    /// Fetches an app-token: the gateway checks the client signature and
    /// the app's credentials.
    fn check(ctx: &Context) -> Result<()> {
        let mut api = OpenApi::new(Host, ctx.config::<JdyConfig>()?);
        let result = api.fetch_token().map(drop);
        token_cache::keep(api.config(), api.token());
        result
    }

    fn read(
        _ctx: &Context,
        operation: &str,
        _params: Params,
        _cursor: Option<String>,
    ) -> Result<Page> {
        Err(Error::fatal(format!(
            "'{operation}' is not a source of jdy"
        )))
    }

    fn write(
        ctx: &Context,
        operation: &str,
        params: Params,
        records: Vec<Value>,
    ) -> Result<Vec<WriteOutcome>> {
        if operation != pur_return::NAME {
            return Err(Error::fatal(format!(
                "'{operation}' is not a target of jdy"
            )));
        }
        let params: PurReturnSave = params.parse()?;
        let config: JdyConfig = ctx.config()?;
        let token = token_cache::take(&config);
        let mut api = OpenApi::new(Host, config).resuming(token);
        let outcomes = pur_return::write(&mut api, &params, &records);
        token_cache::keep(api.config(), api.token());
        outcomes
    }
}

export_connector!(Jdy);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describe_names_the_crate_and_every_operation() {
        let info = weft_plugin_sdk::glue::describe::<Jdy>();
        assert_eq!(info.name, env!("CARGO_PKG_NAME"));
        assert_eq!(info.operations.len(), 1);
        assert_eq!(info.operations[0].id, "pur_return_save");
        for secret in ["client_secret", "app_secret"] {
            assert!(
                info.connection_fields
                    .iter()
                    .any(|f| f.name == secret && f.secret),
                "{secret}"
            );
        }
        assert!(
            info.connection_fields
                .iter()
                .any(|f| f.name == "pur_return_path"
                    && f.default_value.as_deref() == Some("/jdy/v2/scm/pur_return"))
        );
    }
}
