//! # k3cloud — 金蝶云星空 (Kingdee K3Cloud) WebAPI
//!
//! Writes bills into 金蝶云星空 with Save / BatchSave, idempotently on the
//! bill number, and reads any form with ExecuteBillQuery. Authentication
//! is either a session login or the signed headers of the official SDK
//! ([`config::AuthMode`]); the client lives in [`webapi`], the answer
//! envelope in [`response_status`], one module per operation.

mod bill_query;
mod config;
mod login;
mod records;
mod response_status;
mod save;
mod service;
mod session_cache;
mod webapi;

use weft_plugin_sdk::prelude::*;

use crate::config::{AuthMode, K3Config};
use crate::save::SaveParams;
use crate::webapi::Client;

struct K3Cloud;

impl K3Cloud {
    /// Runs `call` with a client holding this batch's session, and keeps
    /// the session it ends with for the next call.
    fn with_client<R>(
        ctx: &Context,
        call: impl FnOnce(&mut Client<Host>) -> Result<R>,
    ) -> Result<R> {
        let config: K3Config = ctx.config()?;
        let session = session_cache::take(&config);
        let mut client = Client::new(Host, config).resuming(session);
        let result = call(&mut client);
        session_cache::keep(client.config(), client.session());
        result
    }

    /// A write from the records' JSON text, however they came: only bill
    /// numbers are decoded, the models are sent on as text.
    fn write_json(
        ctx: &Context,
        operation: &str,
        params: &Params,
        records: &str,
    ) -> Result<Vec<WriteOutcome>> {
        let batch = match operation {
            save::SAVE => false,
            save::BATCH_SAVE => true,
            other => {
                return Err(Error::fatal(format!(
                    "'{other}' is not a target of k3cloud"
                )));
            }
        };
        let params: SaveParams = params.parse()?;
        Self::with_client(ctx, |client| {
            save::write_json(client, batch, &params, records)
        })
    }
}

impl Connector for K3Cloud {
    fn describe() -> ConnectorInfo {
        let mut info = ConnectorInfo::new("k3cloud", env!("CARGO_PKG_VERSION"), "金蝶云星空")
            .description(
                "金蝶云星空 (Kingdee K3Cloud) through its WebAPI: Save / BatchSave of any form, idempotent on \
                 the bill number, and ExecuteBillQuery. Session login or signed X-Api/X-Kd headers.",
            );
        for field in config::fields() {
            info = info.field(field);
        }
        info = info
            .egress(Egress::BaseUrl)
            .egress(Egress::host("api.kingdee.com"))
            .egress(Egress::host("*.ik3cloud.com"))
            .operation(bill_query::operation());
        for operation in save::operations() {
            info = info.operation(operation);
        }
        info
    }

    /// Session mode logs in; signed mode asks for one currency row. A
    /// refused query about a form or field still proves the signature was
    /// accepted.
    fn check(ctx: &Context) -> Result<()> {
        Self::with_client(ctx, |client| {
            if client.config().auth_mode == AuthMode::Session {
                return client.log_in();
            }
            let query = json!({"data": {"FormId": "BD_Currency", "FieldKeys": "FCurrencyId", "StartRow": 0, "Limit": 1}});
            let reply = client.call(service::EXECUTE_BILL_QUERY, &query)?;
            match bill_query::rows(reply) {
                Ok(_) | Err(Error::Invalid(_)) => Ok(()),
                Err(e) => Err(e),
            }
        })
    }

    fn read(
        ctx: &Context,
        operation: &str,
        params: Params,
        cursor: Option<String>,
    ) -> Result<Page> {
        if operation != bill_query::NAME {
            return Err(Error::fatal(format!(
                "'{operation}' is not a source of k3cloud"
            )));
        }
        let query: bill_query::BillQuery = params.parse()?;
        let cursor: bill_query::Cursor = decode_cursor(cursor.as_deref())?.unwrap_or_default();
        Self::with_client(ctx, |client| bill_query::read(client, &query, &cursor))
    }

    fn write(
        ctx: &Context,
        operation: &str,
        params: Params,
        records: Vec<Value>,
    ) -> Result<Vec<WriteOutcome>> {
        // Written out once so that parsed records take the one path the
        // host's JSON takes (the glue calls `write_raw`, not this).
        Self::write_json(ctx, operation, &params, &serde_json::to_string(&records)?)
    }

    fn write_raw(
        ctx: &Context,
        operation: &str,
        params: Params,
        records: &RawRecords,
    ) -> Result<Vec<WriteOutcome>> {
        Self::write_json(ctx, operation, &params, records.text())
    }
}

export_connector!(K3Cloud);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describe_names_the_crate_and_every_operation() {
        let info = weft_plugin_sdk::glue::describe::<K3Cloud>();
        assert_eq!(info.name, env!("CARGO_PKG_NAME"));
        let ids: Vec<&str> = info.operations.iter().map(|o| o.id.as_str()).collect();
        assert_eq!(ids, ["execute_bill_query", "save", "batch_save"]);
        for secret in ["password", "appid", "appsecret"] {
            assert!(
                info.connection_fields
                    .iter()
                    .any(|f| f.name == secret && f.secret),
                "{secret}"
            );
        }
        let schema = &info.operations[2].params_schema;
        for key in [
            "\"formid\"",
            "\"IsAutoSubmitAndAudit\"",
            "\"IsVerifyBaseDataField\"",
            "\"number_field\"",
        ] {
            assert!(schema.contains(key), "{key} in {schema}");
        }
    }
}
