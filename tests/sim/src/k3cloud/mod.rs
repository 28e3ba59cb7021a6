//! 金蝶云星空 WebAPI: `POST {origin}/k3cloud/{ServiceName}.common.kdsvc`,
//! service names matched case-insensitively. Session login (ValidateUser,
//! LoginByAppSecret, LoginBySign) and the signed X-Api/X-Kd headers both
//! authenticate; DynamicFormService Save, BatchSave, ExecuteBillQuery,
//! BillQuery and View. Both body styles: `{"formid":…,"data":…}` and the Java
//! SDK's `{"parameters":[formid, data]}`, `data` possibly a JSON string.
//! Business errors are HTTP 200 (PROTOCOLS.md §1).

pub(crate) mod basedata;
pub(crate) mod bills;
pub(crate) mod envelope;
pub(crate) mod filter;
pub(crate) mod forms;
pub(crate) mod node;
pub(crate) mod query;
pub(crate) mod save;
pub(crate) mod session;
pub(crate) mod signed;
pub(crate) mod view;

use std::sync::Arc;

use axum::body::Bytes;
use axum::http::{HeaderMap, Uri};
use axum::response::Response;
use serde_json::{Value, json};

pub(crate) use bills::K3Store;
use envelope::{K3Error, call_failure, query_failure};
use node::{Doc, Shape, Val};
use session::Login;

use crate::faults;
use crate::state::{SimState, lock};
use crate::system::System;
use crate::wire;

const SESSION_LOST: &str = "会话信息已丢失，请重新登录";

#[derive(Clone, Debug, PartialEq, Eq)]
enum Operation {
    Login(Login),
    DataCenters,
    Save,
    BatchSave,
    ExecuteBillQuery,
    BillQuery,
    View,
    Unsupported(String),
}

impl Operation {
    fn parse(service: &str) -> Operation {
        const FORM: &str = "kingdee.bos.webapi.servicesstub.dynamicformservice.";
        const AUTH: &str = "kingdee.bos.webapi.servicesstub.authservice.";
        if let Some(op) = service.strip_prefix(FORM) {
            return match op {
                "save" => Operation::Save,
                "batchsave" => Operation::BatchSave,
                "executebillquery" => Operation::ExecuteBillQuery,
                "billquery" => Operation::BillQuery,
                "view" => Operation::View,
                other => Operation::Unsupported(other.to_string()),
            };
        }
        match service.strip_prefix(AUTH) {
            Some("validateuser") => Operation::Login(Login::ValidateUser),
            Some("loginbyappsecret") => Operation::Login(Login::AppSecret),
            Some("loginbysign") => Operation::Login(Login::Sign),
            _ if service
                == "kingdee.bos.servicefacade.servicesstub.account.accountservice.getdatacenterlist" =>
            {
                Operation::DataCenters
            }
            _ => Operation::Unsupported(service.to_string()),
        }
    }

    /// A refusal in the shape this operation's clients parse.
    fn refusal(&self, error: K3Error) -> Value {
        match self {
            Operation::ExecuteBillQuery | Operation::BillQuery => query_failure(error),
            Operation::Login(_) => json!({
                "Message": error.message, "MessageCode": null, "LoginResultType": -1, "Context": null,
                "KDSVCSessionId": null, "IsSuccessByAPI": false
            }),
            _ => call_failure(error),
        }
    }

    /// The call limit is enforced before any service runs, so a throttled
    /// login gets the `ResponseStatus` envelope with MsgCode 14 like every
    /// other call: a login-shaped refusal (`LoginResultType` -1) would carry
    /// no code and read as wrong credentials. UNCONFIRMED: see
    /// docs/protocol-choices.md.
    fn limited(&self) -> Value {
        match self {
            Operation::Login(_) => call_failure(call_limit()),
            other => other.refusal(call_limit()),
        }
    }
}

/// UNCONFIRMED text: see docs/protocol-choices.md.
fn call_limit() -> K3Error {
    K3Error::new(14, None, "调用频率超过限制，请稍后再试")
}

pub(crate) async fn service(
    state: Arc<SimState>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_string();
    let lower = path.to_ascii_lowercase();
    let Some(name) = lower
        .strip_prefix("/k3cloud/")
        .and_then(|rest| rest.strip_suffix(".common.kdsvc"))
    else {
        return wire::not_found(&path);
    };
    let op = Operation::parse(name);
    let limited_op = op.clone();
    let st = state.clone();
    let body = standalone(body);
    faults::guarded(
        &state.faults,
        System::K3cloud,
        move || wire::json(&limited_op.limited()),
        async move { serve(&st, op, &path, &headers, &body) },
    )
    .await
}

/// The body in a buffer of its own. Saved models keep their call's body
/// (see `bills::SavedBatch`): a body that already is a buffer of its own
/// is taken over as it is, and one that shares a larger read buffer is
/// copied out, so that keeping it does not keep all of that.
fn standalone(body: Bytes) -> Bytes {
    let buf = Vec::from(body);
    if buf.capacity() > buf.len().saturating_mul(2).max(4096) {
        Bytes::copy_from_slice(&buf)
    } else {
        Bytes::from(buf)
    }
}

fn serve(
    state: &SimState,
    op: Operation,
    path: &str,
    headers: &HeaderMap,
    raw: &Bytes,
) -> Response {
    let body = if raw.iter().all(u8::is_ascii_whitespace) {
        Doc::empty_object()
    } else {
        match node::parse(raw) {
            Ok(v) => v,
            Err(e) => {
                return wire::json(&op.refusal(K3Error::new(
                    8,
                    None,
                    format!("请求体不是有效的JSON: {e}"),
                )));
            }
        }
    };
    match &op {
        Operation::Login(kind) => return session::login(state, *kind, &body.root().to_value()),
        Operation::DataCenters => {
            return wire::json(&json!([{
                "Id": state.config.credentials.k3cloud.acct_id, "Number": "weft", "Name": "weft 模拟账套",
                "DatabaseType": 3, "Version": "8.2.0", "CreateTime": "2024-01-01T00:00:00"
            }]));
        }
        _ => {}
    }
    if let Err(e) = authorize(state, headers, path) {
        return wire::json(&op.refusal(e));
    }
    let mut data_doc = None;
    let call = match parse_call(&body, &mut data_doc) {
        Ok(call) => call,
        Err(e) => return wire::json(&op.refusal(e)),
    };
    let reply = match &op {
        Operation::Save | Operation::BatchSave => {
            let batch = op == Operation::BatchSave;
            let reply = save::save(state, call.form_id.as_deref(), call.data, batch, raw);
            if !call.query_mode {
                return wire::json(&reply);
            }
            serde_json::to_value(&reply).unwrap_or(Value::Null)
        }
        Operation::ExecuteBillQuery => query::execute(state, &call.data.to_value(), false),
        Operation::BillQuery => query::execute(state, &call.data.to_value(), true),
        Operation::View => view::view(state, call.form_id.as_deref(), &call.data.to_value()),
        Operation::Unsupported(name) => {
            call_failure(K3Error::new(4, None, format!("weft-sim未实现服务“{name}”")))
        }
        Operation::Login(_) | Operation::DataCenters => Value::Null,
    };
    if call.query_mode {
        // The SDK's polling mode: the simulator finishes at once (Status 2).
        return wire::json(&json!({"Status": 2, "TaskId": state.opaque_id(""), "Result": reply}));
    }
    wire::json(&reply)
}

fn authorize(state: &SimState, headers: &HeaderMap, path: &str) -> Result<(), K3Error> {
    // A bad signature reads as a lost session, with the reason appended.
    // UNCONFIRMED: see docs/protocol-choices.md.
    if signed::is_signed(headers) {
        return signed::verify(state, headers, path)
            .map_err(|detail| K3Error::new(1, None, format!("{SESSION_LOST}（{detail}）")));
    }
    let lost = || K3Error::new(1, None, SESSION_LOST);
    let sid = session::session_id(headers).ok_or_else(lost)?;
    if state.faults.session_tick() {
        lock(&state.k3_sessions).expire_all();
        return Err(lost());
    }
    if lock(&state.k3_sessions).contains(&sid) {
        Ok(())
    } else {
        Err(lost())
    }
}

struct Call<'s> {
    form_id: Option<String>,
    data: Val<'s, 's>,
    query_mode: bool,
}

/// Splits a call into its FormId and `data`. `data` sent as a JSON string
/// (the Java SDK) is parsed into `data_doc`, which the caller keeps.
fn parse_call<'s>(
    body: &'s Doc<'s>,
    data_doc: &'s mut Option<Doc<'s>>,
) -> Result<Call<'s>, K3Error> {
    let root = body.root();
    let obj = root.as_object();
    let member = |key: &str| obj.and_then(|o| o.member(key));
    let query_mode = member("beginmethod").and_then(Val::as_str) == Some("BeginQueryImpl");
    let (form_id, data) = match member("parameters").map(Val::shape) {
        Some(Shape::Array(params)) => match (params.get(0), params.get(1)) {
            (None, _) => (None, body.null()),
            (Some(data), None) => (None, data),
            (Some(form), Some(data)) => (form.as_str().map(str::to_string), data),
        },
        _ => (
            member("formid").and_then(Val::as_str).map(str::to_string),
            member("data").unwrap_or_else(|| body.null()),
        ),
    };
    let data = match data.as_str() {
        Some(text) => {
            let parsed = node::parse(text.as_bytes())
                .map_err(|e| K3Error::new(8, Some("data"), format!("data不是有效的JSON: {e}")))?;
            data_doc.insert(parsed).root()
        }
        None => data,
    };
    Ok(Call {
        form_id,
        data,
        query_mode,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_names_match_case_insensitively() {
        assert_eq!(
            Operation::parse("kingdee.bos.webapi.servicesstub.dynamicformservice.save"),
            Operation::Save
        );
        assert_eq!(
            Operation::parse("kingdee.bos.webapi.servicesstub.authservice.loginbysign"),
            Operation::Login(Login::Sign)
        );
        assert!(matches!(
            Operation::parse("kingdee.bos.webapi.servicesstub.dynamicformservice.audit"),
            Operation::Unsupported(_)
        ));
    }

    fn call(body: &Value) -> Result<(Option<String>, Value), K3Error> {
        let text = body.to_string();
        let doc = node::parse(text.as_bytes()).map_err(|e| K3Error::new(8, None, e))?;
        let mut data_doc = None;
        parse_call(&doc, &mut data_doc).map(|c| (c.form_id, c.data.to_value()))
    }

    #[test]
    fn both_body_styles_parse() {
        let python =
            call(&json!({"formid": "PUR_PurchaseOrder", "data": {"Model": {}}})).expect("named");
        assert_eq!(python.0.as_deref(), Some("PUR_PurchaseOrder"));
        let java = call(&json!({"parameters": ["PUR_PurchaseOrder", "{\"Model\":{}}"]}))
            .expect("positional");
        assert_eq!(java.0.as_deref(), Some("PUR_PurchaseOrder"));
        assert_eq!(java.1, json!({"Model": {}}));
        let query =
            call(&json!({"parameters": ["{\"FormId\":\"BD_MATERIAL\"}"]})).expect("one parameter");
        assert_eq!(query.1["FormId"], "BD_MATERIAL");
        assert!(call(&json!({"data": "{not json"})).is_err());
    }
}
