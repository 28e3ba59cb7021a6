//! K3Cloud reply shapes (PROTOCOLS.md §1.5). Field order matters to some
//! clients: the Java SDK detects failure by searching for
//! `,"IsSuccess":false,`, so `ErrorCode` precedes `IsSuccess`.
//!
//! Fields are declared in name order, the order replies built as `Value`s
//! write them in, so that writing these structs directly (Save's replies)
//! gives the same bytes.

use serde::Serialize;
use serde_json::Value;

/// One error of a failed operation.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct K3Error {
    #[serde(rename = "DIndex")]
    pub d_index: usize,
    pub field_name: Option<String>,
    pub message: String,
    /// The MsgCode this error implies; the reply carries the first one.
    #[serde(skip)]
    pub msg_code: i64,
}

impl K3Error {
    pub fn new(msg_code: i64, field: Option<&str>, message: impl Into<String>) -> K3Error {
        K3Error {
            field_name: field.map(str::to_string),
            message: message.into(),
            d_index: 0,
            msg_code,
        }
    }
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct SuccessEntity {
    #[serde(rename = "DIndex")]
    pub d_index: usize,
    pub id: i64,
    pub number: String,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ResponseStatus {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<i64>,
    pub errors: Vec<K3Error>,
    pub is_success: bool,
    pub msg_code: i64,
    pub success_entitys: Vec<SuccessEntity>,
    pub success_messages: Vec<Value>,
}

impl ResponseStatus {
    pub fn ok(entities: Vec<SuccessEntity>) -> ResponseStatus {
        ResponseStatus {
            error_code: None,
            is_success: true,
            errors: Vec::new(),
            success_entitys: entities,
            success_messages: Vec::new(),
            msg_code: 0,
        }
    }

    /// A failure; `MsgCode` is the first error's.
    pub fn failed(errors: Vec<K3Error>, entities: Vec<SuccessEntity>) -> ResponseStatus {
        ResponseStatus {
            error_code: Some(500),
            is_success: false,
            msg_code: errors.first().map(|e| e.msg_code).unwrap_or(4),
            errors,
            success_entitys: entities,
            success_messages: Vec::new(),
        }
    }
}

/// `{"Result":{"ResponseStatus":{…}}}`: an operation refused as a whole
/// (session lost, call limit, bad parameters).
pub(crate) fn call_failure(error: K3Error) -> Value {
    serde_json::json!({"Result": {"ResponseStatus": ResponseStatus::failed(vec![error], Vec::new())}})
}

/// The ExecuteBillQuery failure shape: `[[{"Result":{"ResponseStatus":…}}]]`.
pub(crate) fn query_failure(error: K3Error) -> Value {
    serde_json::json!([[call_failure(error)]])
}
