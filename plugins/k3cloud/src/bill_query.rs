//! `DynamicFormService.ExecuteBillQuery` (PROTOCOLS.md §1.3–1.5): rows of
//! the requested `FieldKeys`, paged by a 0-based row offset `StartRow` and
//! a page size `Limit`, with no total (page until a short page). A failure
//! comes back as `[[{"Result":{"ResponseStatus":..}}]]`.
//!
//! Used as the source operation `execute_bill_query` (records are objects
//! keyed by field key) and to find which bill numbers already exist before
//! a save.

use std::collections::HashMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use weft_plugin_sdk::http::Transport;
use weft_plugin_sdk::{Error, Operation, Page, Result};

use crate::response_status;
use crate::service;
use crate::webapi::Client;

/// Operation id.
pub const NAME: &str = "execute_bill_query";
/// Rows per page unless the params say otherwise (older K3 versions allow
/// at most 2000, newer ones 10000).
const DEFAULT_LIMIT: u32 = 2000;
/// Bill numbers per existence query, to keep the filter short.
const NUMBERS_PER_QUERY: usize = 100;

/// The params of `execute_bill_query`: K3's own names.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "PascalCase")]
pub struct BillQuery {
    /// 业务对象表单Id, e.g. `PUR_PurchaseOrder`, `BD_MATERIAL`.
    pub form_id: String,
    /// Fields to return, comma-separated (e.g. `FID,FBillNo,FMaterialId.FNumber`); each record has them as keys.
    pub field_keys: String,
    /// Filter: a SQL-like string (`FDocumentStatus='C'`) or a list of conditions `{Left, FieldName, Compare, Value, Right, Logic}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter_string: Option<Value>,
    /// Sort order, e.g. `FID ASC`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_string: Option<String>,
    /// Caps the total number of rows (0: no cap).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_row_count: Option<u64>,
    /// Rows per page (K3 allows at most 10000; older versions 2000).
    #[serde(default = "default_limit")]
    #[schemars(range(min = 1, max = 10000))]
    pub limit: u32,
    /// 系统模块.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_system_id: Option<String>,
}

fn default_limit() -> u32 {
    DEFAULT_LIMIT
}

/// What `describe()` says about the operation.
pub fn operation() -> Operation {
    Operation::source::<BillQuery>(NAME, "单据查询 (ExecuteBillQuery)")
        .description(
            "Rows of any form (bills or base data) from ExecuteBillQuery, as objects keyed by FieldKeys; \
             pages by StartRow/Limit until a short page. Also suited to lookups (materials, customers).",
        )
}

/// Where the next page starts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    /// 0-based row offset.
    pub start_row: u64,
}

/// The body of one page (the Python SDK's `{"data": {...}}`).
///
/// # Errors
/// `fatal` when the query cannot be serialised.
pub fn body(query: &BillQuery, start_row: u64) -> Result<Value> {
    let mut data = serde_json::to_value(query)?;
    if let Value::Object(map) = &mut data {
        map.insert("StartRow".to_owned(), Value::from(start_row));
    }
    // Not `json!`, which would copy `data` through the serialiser.
    let mut body = Map::new();
    body.insert("data".to_owned(), data);
    Ok(Value::Object(body))
}

/// The rows of an answer.
///
/// # Errors
/// K3's failure status, classified; `transient` for an answer that is
/// neither rows nor a status.
pub fn rows(reply: Value) -> Result<Vec<Vec<Value>>> {
    if let Some(error) = response_status::failure(&reply) {
        return Err(error);
    }
    match reply {
        // Taken apart rather than cloned: a page can hold thousands of rows.
        Value::Array(rows) => Ok(rows
            .into_iter()
            .map(|row| match row {
                Value::Array(values) => values,
                other => vec![other],
            })
            .collect()),
        other => Err(Error::transient(format!(
            "金蝶云星空 answered ExecuteBillQuery with {other} instead of rows"
        ))),
    }
}

/// Rows as objects keyed by the field keys, in their order.
pub fn records(field_keys: &str, rows: Vec<Vec<Value>>) -> Vec<Value> {
    let keys: Vec<&str> = field_keys.split(',').map(str::trim).collect();
    rows.into_iter()
        .map(|row| {
            let record: Map<String, Value> = keys
                .iter()
                .zip(row)
                .map(|(k, v)| ((*k).to_owned(), v))
                .collect();
            Value::Object(record)
        })
        .collect()
}

/// One page of the source operation.
///
/// # Errors
/// Classified errors of the call.
pub fn read<T: Transport>(
    client: &mut Client<T>,
    query: &BillQuery,
    cursor: &Cursor,
) -> Result<Page> {
    let reply = client.call(service::EXECUTE_BILL_QUERY, &body(query, cursor.start_row)?)?;
    let rows = rows(reply)?;
    let got = rows.len() as u64;
    let page = Page::from_values(records(&query.field_keys, rows));
    let next_row = cursor.start_row + got;
    let capped = query
        .top_row_count
        .is_some_and(|top| top > 0 && next_row >= top);
    if got < u64::from(query.limit) || got == 0 || capped {
        return Ok(page);
    }
    page.next(&Cursor {
        start_row: next_row,
    })
}

/// `F in ('A','B')`, quotes doubled.
pub fn in_filter(field: &str, values: &[String]) -> String {
    let quoted: Vec<String> = values
        .iter()
        .map(|v| format!("'{}'", v.replace('\'', "''")))
        .collect();
    format!("{field} in ({})", quoted.join(","))
}

/// Which of `numbers` already exist in `form_id`: number → internal id.
///
/// # Errors
/// Classified errors of the query.
pub fn existing<T: Transport>(
    client: &mut Client<T>,
    form_id: &str,
    id_field: &str,
    number_field: &str,
    numbers: &[String],
) -> Result<HashMap<String, Option<String>>> {
    let mut found = HashMap::new();
    for chunk in numbers.chunks(NUMBERS_PER_QUERY) {
        let query = BillQuery {
            form_id: form_id.to_owned(),
            field_keys: format!("{id_field},{number_field}"),
            filter_string: Some(Value::from(in_filter(number_field, chunk))),
            order_string: None,
            top_row_count: None,
            limit: DEFAULT_LIMIT,
            sub_system_id: None,
        };
        let mut cursor = Cursor::default();
        loop {
            let reply = client.call(
                service::EXECUTE_BILL_QUERY,
                &body(&query, cursor.start_row)?,
            )?;
            let rows = rows(reply)?;
            let got = rows.len();
            for row in rows {
                let mut values = row.into_iter();
                let id = values.next().and_then(|v| text(&v));
                if let Some(number) = values.next().and_then(|v| text(&v)) {
                    found.entry(number).or_insert(id);
                }
            }
            if got < DEFAULT_LIMIT as usize {
                break;
            }
            cursor.start_row += got as u64;
        }
    }
    Ok(found)
}

/// A text or a number as text.
pub fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => trimmed(s),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A text trimmed, unless it is blank.
pub fn trimmed(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::webapi::tests::{Script, logged_in, session_config};
    use serde_json::json;
    use weft_plugin_sdk::decode_cursor;

    fn query(limit: u32) -> BillQuery {
        serde_json::from_value(json!({"FormId":"BD_MATERIAL","FieldKeys":"FMATERIALID, FNumber","FilterString":"FForbidStatus='A'","Limit":limit}))
            .expect("query")
    }

    #[test]
    fn the_body_is_the_sdk_shape() {
        assert_eq!(
            body(&query(2), 4).expect("body"),
            json!({"data":{"FormId":"BD_MATERIAL","FieldKeys":"FMATERIALID, FNumber","FilterString":"FForbidStatus='A'","Limit":2,"StartRow":4}})
        );
    }

    #[test]
    fn rows_become_records_and_pages_end_short() {
        let mut script = Script::new(vec![
            logged_in(),
            (
                "ExecuteBillQuery",
                vec![],
                json!([[100001, "A01"], [100002, "A02"]]),
            ),
            ("ExecuteBillQuery", vec![], json!([[100003, "A03"]])),
        ]);
        let mut client = Client::new(&mut script, session_config());
        let first = read(&mut client, &query(2), &Cursor::default()).expect("page");
        assert_eq!(
            first.records()[0],
            json!({"FMATERIALID":100001,"FNumber":"A01"})
        );
        let next: Cursor = decode_cursor(first.next_cursor())
            .expect("cursor")
            .expect("next");
        assert_eq!(next.start_row, 2);
        let second = read(&mut client, &query(2), &next).expect("page");
        assert_eq!(second.records().len(), 1);
        assert!(second.next_cursor().is_none());
        assert_eq!(script.bodies("ExecuteBillQuery")[1]["data"]["StartRow"], 2);
    }

    #[test]
    fn top_row_count_caps_the_pages() {
        let mut script = Script::new(vec![
            logged_in(),
            ("ExecuteBillQuery", vec![], json!([[1, "A"], [2, "B"]])),
        ]);
        let mut client = Client::new(&mut script, session_config());
        let mut q = query(2);
        q.top_row_count = Some(2);
        assert!(
            read(&mut client, &q, &Cursor::default())
                .expect("page")
                .next_cursor()
                .is_none()
        );
    }

    #[test]
    fn failures_are_classified() {
        let failure = json!([[{"Result":{"ResponseStatus":{"ErrorCode":500,"IsSuccess":false,"Errors":[{"FieldName":null,"Message":"元数据中标识为FIssueType的字段不存在","DIndex":0}],"MsgCode":9}}}]]);
        assert_eq!(rows(failure).err().map(|e| e.class()), Some("invalid"));
        assert_eq!(
            rows(json!({"x":1})).err().map(|e| e.class()),
            Some("transient")
        );
    }

    #[test]
    fn existing_numbers_are_found_with_their_ids() {
        let mut script = Script::new(vec![
            logged_in(),
            (
                "ExecuteBillQuery",
                vec![],
                json!([[100029, "CGDD000123"], [100029, "CGDD000123"]]),
            ),
        ]);
        let mut client = Client::new(&mut script, session_config());
        let numbers = vec!["CGDD000123".to_owned(), "O'Brien".to_owned()];
        let found =
            existing(&mut client, "PUR_PurchaseOrder", "FID", "FBillNo", &numbers).expect("found");
        assert_eq!(found.len(), 1);
        assert_eq!(found.get("CGDD000123"), Some(&Some("100029".to_owned())));
        assert_eq!(
            script.bodies("ExecuteBillQuery")[0]["data"],
            json!({"FormId":"PUR_PurchaseOrder","FieldKeys":"FID,FBillNo","FilterString":"FBillNo in ('CGDD000123','O''Brien')","Limit":2000,"StartRow":0})
        );
    }
}
