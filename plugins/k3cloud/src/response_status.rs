//! `Result.ResponseStatus`, the envelope of every K3Cloud WebAPI answer
//! (PROTOCOLS.md §1.5, docs/protocol-choices.md):
//!
//! ```json
//! {"Result":{"ResponseStatus":{"ErrorCode":500,"IsSuccess":false,
//!   "Errors":[{"FieldName":"FMaterialId","Message":"..","DIndex":0}],
//!   "SuccessEntitys":[{"Id":100029,"Number":"CGDD000123","DIndex":1}],
//!   "MsgCode":9},"Id":..,"Number":..}}
//! ```
//!
//! ExecuteBillQuery wraps a failure as `[[{"Result":{"ResponseStatus":..}}]]`.
//! Business errors are HTTP 200; `MsgCode` says which kind.

use serde_json::Value;
use weft_plugin_sdk::Error;

/// One entry of `Errors`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct K3Error {
    /// `FieldName`, e.g. `FMaterialId`; empty when K3 gave none.
    pub field: String,
    /// `Message`.
    pub message: String,
    /// `DIndex`: which model of the call (0-based).
    pub index: Option<usize>,
}

impl K3Error {
    /// `FieldName: Message`, or the message alone.
    pub fn describe(&self) -> String {
        if self.field.is_empty() {
            self.message.clone()
        } else {
            format!("{}: {}", self.field, self.message)
        }
    }

    /// K3's "this bill number is taken" (`MsgCode 11` on `FBillNo`:
    /// `违反字段唯一性要求：单据编号唯一。[X]已经被使用。`), for the field that
    /// holds the number.
    ///
    /// UNCONFIRMED: see docs/protocol-choices.md: besides the pinned message,
    /// `已存在` / `重复` on the number field count too.
    pub fn is_duplicate_number(&self, number_field: &str) -> bool {
        let m = &self.message;
        m.contains("已经被使用")
            || m.contains("唯一性")
            || (self.field.eq_ignore_ascii_case(number_field)
                && (m.contains("已存在") || m.contains("重复")))
    }
}

/// One entry of `SuccessEntitys`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Saved {
    /// `Id`, the internal id.
    pub id: Option<String>,
    /// `Number`, the bill number.
    pub number: Option<String>,
    /// `DIndex`.
    pub index: Option<usize>,
}

/// A parsed `ResponseStatus`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResponseStatus {
    /// `IsSuccess`.
    pub is_success: bool,
    /// `MsgCode`.
    pub msg_code: i64,
    /// `Errors`.
    pub errors: Vec<K3Error>,
    /// `SuccessEntitys`.
    pub saved: Vec<Saved>,
}

impl ResponseStatus {
    /// Finds and parses the status of an answer, in either wrapping.
    pub fn of(reply: &Value) -> Option<Self> {
        Some(Self::parse(find(reply)?))
    }

    /// The status of an answer that says the session is lost (see
    /// [`ResponseStatus::session_lost`]), else `None`. Every call asks this
    /// of its answer, so the status is only copied out when it says so.
    pub fn lost_session(reply: &Value) -> Option<Self> {
        let status = find(reply)?;
        let lost = !is_success(status)
            && (msg_code(status) == 1
                || list(status, "Errors").iter().any(|e| {
                    e.get("Message")
                        .and_then(Value::as_str)
                        .is_some_and(|m| m.contains(SESSION_LOST))
                }));
        lost.then(|| Self::parse(status))
    }

    fn parse(status: &Value) -> Self {
        Self {
            is_success: is_success(status),
            msg_code: msg_code(status),
            errors: list(status, "Errors")
                .iter()
                .map(|e| K3Error {
                    field: text(e.get("FieldName")).unwrap_or_default(),
                    message: text(e.get("Message")).unwrap_or_default(),
                    index: index(e.get("DIndex")),
                })
                .collect(),
            saved: list(status, "SuccessEntitys")
                .iter()
                .map(|s| Saved {
                    id: text(s.get("Id")),
                    number: text(s.get("Number")),
                    index: index(s.get("DIndex")),
                })
                .collect(),
        }
    }

    /// Whether K3 lost (or never had) the session: `MsgCode 1` or
    /// `会话信息已丢失，请重新登录`.
    pub fn session_lost(&self) -> bool {
        !self.is_success
            && (self.msg_code == 1 || self.errors.iter().any(|e| e.message.contains(SESSION_LOST)))
    }

    /// Every error message, joined.
    pub fn messages(&self) -> String {
        let all: Vec<String> = self.errors.iter().map(K3Error::describe).collect();
        if all.is_empty() {
            "no message".to_owned()
        } else {
            all.join("; ")
        }
    }

    /// The class of a failure with `message`, by `MsgCode`:
    ///
    /// | MsgCode | meaning | class |
    /// |---|---|---|
    /// | 14 | 调用限制 | rate-limited |
    /// | 1, 2, 7, 15 | context lost, no permission, licence, admin login forbidden | auth |
    /// | 6, 13 | database failure, network-control conflict | transient |
    /// | 9, 11 and the rest | field or value missing, validation | invalid |
    pub fn classify(&self, message: &str) -> Error {
        let text = format!("金蝶云星空 MsgCode {}: {message}", self.msg_code);
        match self.msg_code {
            14 => Error::rate_limited(None, text),
            1 | 2 | 7 | 15 => Error::auth(text),
            6 | 13 => Error::transient(text),
            _ if self.session_lost() => Error::auth(text),
            _ => Error::invalid(text),
        }
    }
}

/// A reply that is a failure status, as an error (ExecuteBillQuery and
/// other calls without per-model outcomes).
pub fn failure(reply: &Value) -> Option<Error> {
    let status = ResponseStatus::of(reply)?;
    (!status.is_success).then(|| status.classify(&status.messages()))
}

/// K3's message for a lost session.
const SESSION_LOST: &str = "会话信息已丢失";

/// The `ResponseStatus` of an answer, in either wrapping.
fn find(reply: &Value) -> Option<&Value> {
    let result = match reply {
        Value::Array(rows) => rows.first()?.as_array()?.first()?.get("Result")?,
        other => other.get("Result")?,
    };
    result.get("ResponseStatus")
}

fn is_success(status: &Value) -> bool {
    matches!(status.get("IsSuccess"), Some(Value::Bool(true)))
        || status.get("IsSuccess").and_then(Value::as_str) == Some("true")
}

fn msg_code(status: &Value) -> i64 {
    status.get("MsgCode").and_then(integer).unwrap_or(0)
}

fn list<'a>(status: &'a Value, key: &str) -> &'a [Value] {
    status
        .get(key)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

fn text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn index(value: Option<&Value>) -> Option<usize> {
    integer(value?).and_then(|i| usize::try_from(i).ok())
}

fn integer(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_batch_save_answer_is_parsed() {
        let reply = json!({"Result":{"ResponseStatus":{"ErrorCode":500,"IsSuccess":false,
            "Errors":[{"FieldName":"FMaterialId","Message":"第1行分录，物料编码“X”不存在","DIndex":0}],
            "SuccessEntitys":[{"Id":100029,"Number":"CGDD000123","DIndex":1}],
            "SuccessMessages":[],"MsgCode":9}}});
        let status = ResponseStatus::of(&reply).expect("status");
        assert!(!status.is_success);
        assert_eq!(status.msg_code, 9);
        assert_eq!(status.errors[0].index, Some(0));
        assert_eq!(
            status.errors[0].describe(),
            "FMaterialId: 第1行分录，物料编码“X”不存在"
        );
        assert_eq!(
            status.saved,
            vec![Saved {
                id: Some("100029".to_owned()),
                number: Some("CGDD000123".to_owned()),
                index: Some(1)
            }]
        );
        assert_eq!(status.classify("x").class(), "invalid");
    }

    /// [3P test fixture] the ExecuteBillQuery failure wrapping.
    #[test]
    fn an_execute_bill_query_failure_is_found() {
        let reply = json!([[{"Result":{"ResponseStatus":{"ErrorCode":500,"IsSuccess":false,"Errors":[{"FieldName":null,"Message":"元数据中标识为FIssueType的字段不存在","DIndex":0}],"SuccessEntitys":[],"SuccessMessages":[],"MsgCode":9}}}]]);
        assert_eq!(
            failure(&reply).map(|e| e.to_string()),
            Some("invalid: 金蝶云星空 MsgCode 9: 元数据中标识为FIssueType的字段不存在".to_owned())
        );
        assert_eq!(failure(&json!([["100001", "CGDD01"]])), None);
        assert_eq!(failure(&json!([])), None);
    }

    #[test]
    fn session_loss_and_limits_are_recognised() {
        let lost = json!({"Result":{"ResponseStatus":{"IsSuccess":false,"MsgCode":1,"Errors":[{"Message":"会话信息已丢失，请重新登录"}]}}});
        assert!(ResponseStatus::of(&lost).is_some_and(|s| s.session_lost()));
        assert_eq!(
            ResponseStatus::lost_session(&lost),
            ResponseStatus::of(&lost)
        );
        assert_eq!(failure(&lost).map(|e| e.class()), Some("auth"));
        let lost_by_text = json!({"Result":{"ResponseStatus":{"IsSuccess":false,"MsgCode":0,"Errors":[{"Message":"会话信息已丢失，请重新登录"}]}}});
        assert!(ResponseStatus::of(&lost_by_text).is_some_and(|s| s.session_lost()));
        assert!(ResponseStatus::lost_session(&lost_by_text).is_some());
        let limited = json!({"Result":{"ResponseStatus":{"IsSuccess":false,"MsgCode":14,"Errors":[{"Message":"调用频率超过限制，请稍后再试"}]}}});
        assert_eq!(failure(&limited).map(|e| e.class()), Some("rate-limited"));
    }

    #[test]
    fn duplicate_numbers_are_recognised() {
        let dup = K3Error {
            field: "FBillNo".to_owned(),
            message: "违反字段唯一性要求：单据编号唯一。[CGDD000123]已经被使用。".to_owned(),
            index: Some(0),
        };
        assert!(dup.is_duplicate_number("FBillNo"));
        let required = K3Error {
            field: "FDate".to_owned(),
            message: "字段“日期”是必填项".to_owned(),
            index: Some(0),
        };
        assert!(!required.is_duplicate_number("FBillNo"));
    }
}
