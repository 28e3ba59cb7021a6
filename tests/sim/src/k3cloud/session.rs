//! Session login (PROTOCOLS.md §1.2A): `ValidateUser`, `LoginByAppSecret`
//! and `LoginBySign`, named-field or positional (`parameters`) bodies. A
//! successful login sets the `kdservice-sessionid` cookie (and
//! `ASP.NET_SessionId`), which later calls echo back.

use std::collections::HashMap;

use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;
use serde_json::{Map, Value, json};

use super::save::member;
use crate::clock;
use crate::signing::kingdee;
use crate::state::{SimState, lock};
use crate::wire;

#[derive(Debug, Default)]
pub(crate) struct K3Sessions {
    sessions: HashMap<String, String>,
}

impl K3Sessions {
    pub fn contains(&self, id: &str) -> bool {
        self.sessions.contains_key(id)
    }

    pub fn expire_all(&mut self) {
        self.sessions.clear();
    }

    pub fn len(&self) -> usize {
        self.sessions.len()
    }
}

/// The session id a request carries: the `kdservice-sessionid` header, or
/// that cookie, or `ASP.NET_SessionId`.
pub(crate) fn session_id(headers: &HeaderMap) -> Option<String> {
    if let Some(v) = headers
        .get("kdservice-sessionid")
        .and_then(|v| v.to_str().ok())
        && !v.trim().is_empty()
    {
        return Some(v.trim().to_string());
    }
    let cookies = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect::<Vec<_>>();
    ["kdservice-sessionid", "ASP.NET_SessionId"]
        .iter()
        .find_map(|name| {
            cookies
                .iter()
                .find(|(k, v)| k.eq_ignore_ascii_case(name) && !v.is_empty())
                .map(|(_, v)| v.clone())
        })
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Login {
    ValidateUser,
    AppSecret,
    Sign,
}

/// Positional or named arguments of a login call.
fn arguments(body: &Value, names: &[&str]) -> Vec<String> {
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    };
    if let Some(Value::Array(items)) = body.get("parameters") {
        return names
            .iter()
            .enumerate()
            .map(|(i, _)| items.get(i).map(text).unwrap_or_default())
            .collect();
    }
    let empty = Map::new();
    let obj = body.as_object().unwrap_or(&empty);
    names
        .iter()
        .map(|n| {
            n.split('|')
                .find_map(|alias| member(obj, alias))
                .map(text)
                .unwrap_or_default()
        })
        .collect()
}

fn failure(state: &SimState, result_type: i64, message: &str) -> Response {
    let _ = state;
    wire::json(&json!({
        "Message": message, "MessageCode": "LoginFailed", "LoginResultType": result_type,
        "Context": null, "KDSVCSessionId": null, "FormId": null, "RedirectFormParam": null,
        "FormInputObject": null, "ErrorStackTrace": null, "Lcid": 0, "AccessToken": null,
        "KdAccessResult": null, "IsSuccessByAPI": false
    }))
}

pub(crate) fn login(state: &SimState, kind: Login, body: &Value) -> Response {
    let creds = &state.config.credentials.k3cloud;
    let args = match kind {
        Login::ValidateUser => arguments(
            body,
            &["acctid|acctID", "username|userName", "password", "lcid"],
        ),
        Login::AppSecret => arguments(
            body,
            &[
                "acctid|acctID",
                "username|userName",
                "appid",
                "appsecret|appsec",
                "lcid",
            ],
        ),
        Login::Sign => arguments(
            body,
            &[
                "acctid|acctID",
                "username|userName",
                "appid",
                "timestamp",
                "sign|signeddata",
                "lcid",
            ],
        ),
    };
    if args[0] != creds.acct_id {
        return failure(state, -1, &format!("数据中心“{}”不存在", args[0]));
    }
    if !args[1].eq_ignore_ascii_case(&creds.username) {
        return failure(state, 0, "用户名或密码错误！");
    }
    let ok = match kind {
        Login::ValidateUser => args[2] == creds.password,
        Login::AppSecret => args[2] == creds.app_id && args[3] == creds.app_secret,
        Login::Sign => {
            let ts_ok = args[3].parse::<i64>().is_ok_and(|ts| {
                (clock::now_unix() - ts).abs() <= state.config.limits.k3_timestamp_tolerance_secs
            });
            if !ts_ok {
                return failure(state, -1, "时间戳无效或已过期");
            }
            let expected =
                kingdee::k3_login_sign(&args[0], &args[1], &args[2], &creds.app_secret, &args[3]);
            args[2] == creds.app_id && crate::signing::same_digest(&expected, &args[4], true)
        }
    };
    if !ok {
        return match kind {
            Login::ValidateUser => failure(state, 0, "用户名或密码错误！"),
            Login::AppSecret => failure(
                state,
                -1,
                "第三方系统登录授权验证失败：appid或appsecret不正确",
            ),
            Login::Sign => failure(state, -1, "签名验证失败"),
        };
    }
    let session = state.opaque_id("");
    let asp_session = state.opaque_id("asp");
    lock(&state.k3_sessions)
        .sessions
        .insert(session.clone(), args[1].clone());
    let org = state.master.orgs.first();
    let mut response = wire::json(&json!({
        "Message": null,
        "MessageCode": "CheckPasswordPolicy",
        "LoginResultType": 1,
        "Context": {
            "UserLocale": "zh-CN", "LogLocale": "zh-CN", "DBid": creds.acct_id, "DatabaseType": 3,
            "SessionId": session, "UseLanguages": [{"LocaleId": 2052, "LocaleName": "中文(简体/中国)", "Alias": "CN"}],
            "UserId": 16394, "UserName": creds.username, "CustomName": "weft 模拟账套",
            "DisplayVersion": "8.2.0", "DataCenterName": "weft 模拟账套", "UserToken": state.opaque_id("tk"),
            "CurrentOrganizationInfo": {"ID": org.map(|o| o.k3_id).unwrap_or(1), "AcctOrgType": "1",
                "Name": org.map(|o| o.name.clone()).unwrap_or_default(), "FunctionIds": [101, 102, 103, 104, 107, 108, 109, 110, 111, 112, 113, 114]},
            "IsCH_ZH_AutoTrans": false, "ClientType": 32, "GDCID": state.opaque_id("gdc"), "Gsid": null,
            "TRLevel": 0, "ProductEdition": 0, "DataCenterNumber": "weft", "ContextResultType": 0
        },
        "KDSVCSessionId": session,
        "FormId": null, "RedirectFormParam": null, "FormInputObject": null, "ErrorStackTrace": null,
        "Lcid": 0, "AccessToken": null, "KdAccessResult": null, "IsSuccessByAPI": true
    }));
    for cookie in [
        format!("kdservice-sessionid={session}; path=/"),
        format!("ASP.NET_SessionId={asp_session}; path=/; HttpOnly"),
    ] {
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            response.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    response
}
