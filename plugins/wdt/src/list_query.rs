//! The openapi2 list queries: params plus the 0-based `page_no` of the
//! cursor as form fields, the reply paged by [`weft_wdt_api::paging`].

use serde::Serialize;
use serde::de::DeserializeOwned;
use weft_plugin_sdk::{Context, Page, Params, Result, decode_cursor};

use weft_wdt_api::paging::{self, Cursor};
use weft_wdt_api::purchase_order_query::PurchaseOrderQuery;
use weft_wdt_api::stockout_order_query_return::StockoutReturnQuery;

use crate::config::WdtConfig;
use crate::openapi2;

/// The params of a list query.
pub trait ListParams: Serialize + DeserializeOwned {
    /// Records per page.
    fn page_size(&self) -> u32;
}

impl ListParams for PurchaseOrderQuery {
    fn page_size(&self) -> u32 {
        self.page_size
    }
}

impl ListParams for StockoutReturnQuery {
    fn page_size(&self) -> u32 {
        self.page_size
    }
}

/// The form fields of one page: the params plus `page_no`.
///
/// # Errors
/// `fatal` when the params cannot be serialised.
pub fn page_fields<P: ListParams>(params: &P, page_no: u32) -> Result<Vec<(String, String)>> {
    let mut fields = openapi2::form_fields(&serde_json::to_value(params)?);
    fields.push(("page_no".to_owned(), page_no.to_string()));
    Ok(fields)
}

/// Reads one page of the list query `name`, records under `list_key`.
///
/// # Errors
/// Classified errors of the call; `fatal` for params or a cursor that are
/// not this operation's.
pub fn read<P: ListParams>(
    ctx: &Context,
    params: &Params,
    cursor: Option<&str>,
    name: &str,
    list_key: &str,
) -> Result<Page> {
    let config: WdtConfig = ctx.config()?;
    let params: P = params.parse()?;
    let cursor: Cursor = decode_cursor(cursor)?.unwrap_or_default();
    let reply = openapi2::call(&config, name, page_fields(&params, cursor.page_no)?)?;
    paging::page_from_reply(&reply, list_key, &cursor, params.page_size())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn page_fields_are_the_params_and_the_page() {
        let params: PurchaseOrderQuery = serde_json::from_value(json!({
            "start_time": "2024-01-01 00:00:00", "end_time": "2024-01-02 00:00:00", "status": "40"
        }))
        .expect("params");
        assert_eq!(
            page_fields(&params, 3).expect("fields"),
            vec![
                ("end_time".to_owned(), "2024-01-02 00:00:00".to_owned()),
                ("page_size".to_owned(), "100".to_owned()),
                ("start_time".to_owned(), "2024-01-01 00:00:00".to_owned()),
                ("status".to_owned(), "40".to_owned()),
                ("page_no".to_owned(), "3".to_owned()),
            ]
        );
    }
}
