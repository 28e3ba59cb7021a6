//! 奇门 (TOP) gateway: `POST /router/qm`. System parameters travel in the
//! query string and the business parameters as a JSON body; the sign covers
//! both (PROTOCOLS.md §4.2, docs/protocol-choices.md). A request with no
//! `method` in the query string is read the classic TOP way, every
//! parameter in a form body, nothing else signed.
//!
//! Methods: `wdt.stockout.order.query.return` (旺店通, `target_app_key`
//! of 旺店通) and `jackyun.tradenotsensitiveinfos.list.get` (吉客云).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use serde_json::{Value, json};

use crate::clock;
use crate::faults;
use crate::jackyun::{self, TRADES_METHOD};
use crate::signing;
use crate::signing::top::SignMethod;
use crate::state::SimState;
use crate::system::System;
use crate::wdt;
use crate::wire::{self, Params};

const WDT_STOCKOUT_METHOD: &str = "wdt.stockout.order.query.return";
/// The router prefix some SDKs put in front of the method name; whether it
/// belongs on the wire is UNCONFIRMED, so both spellings are accepted.
const WDT_ROUTER_PREFIX: &str = "hu3cgwt0tc.";

struct TopError {
    code: i64,
    msg: &'static str,
    sub_code: String,
    sub_msg: String,
}

impl TopError {
    fn new(
        code: i64,
        msg: &'static str,
        sub_code: impl Into<String>,
        sub_msg: impl Into<String>,
    ) -> TopError {
        TopError {
            code,
            msg,
            sub_code: sub_code.into(),
            sub_msg: sub_msg.into(),
        }
    }

    fn missing(name: &str) -> TopError {
        TopError::new(
            40,
            "Missing required arguments",
            format!("isv.missing-parameter:{name}"),
            format!("缺少必选参数: {name}"),
        )
    }

    fn invalid(name: &str, detail: impl Into<String>) -> TopError {
        TopError::new(
            41,
            "Invalid arguments",
            format!("isv.invalid-parameter:{name}"),
            detail,
        )
    }

    fn reply(&self, state: &SimState) -> Response {
        wire::json(&json!({"error_response": {
            "code": self.code,
            "msg": self.msg,
            "sub_code": self.sub_code,
            "sub_msg": self.sub_msg,
            "request_id": state.opaque_id(""),
        }}))
    }
}

fn rate_limited(state: &SimState) -> Response {
    TopError::new(
        7,
        "App Call Limited",
        "accesscontrol.limited-by-app-access-count",
        "This ban will last for 1 more seconds",
    )
    .reply(state)
}

pub(crate) async fn router(State(state): State<Arc<SimState>>, uri: Uri, body: Bytes) -> Response {
    let st = state.clone();
    let limited = state.clone();
    faults::guarded(
        &state.faults,
        System::Qimen,
        move || rate_limited(&limited),
        async move {
            match handle(&st, &uri, &body) {
                Ok(response) => response,
                Err(e) => e.reply(&st),
            }
        },
    )
    .await
}

fn handle(state: &SimState, uri: &Uri, body: &[u8]) -> Result<Response, TopError> {
    let query = Params::from_form(uri.query().unwrap_or_default().as_bytes());
    // Query-string style: the body is the business JSON and is signed raw.
    let (system, raw_body) = if query.get("method").is_some() {
        let text =
            std::str::from_utf8(body).map_err(|_| TopError::invalid("body", "请求体不是UTF-8"))?;
        (query, Some(text))
    } else {
        (Params::from_form(body), None)
    };
    let creds = &state.config.credentials.qimen;
    for name in ["method", "app_key", "sign", "sign_method", "timestamp"] {
        if system.value(name).is_none() {
            return Err(TopError::missing(name));
        }
    }
    if system.get("app_key") != Some(creds.app_key.as_str()) {
        return Err(TopError::new(
            29,
            "Invalid app Key",
            "isv.appkey-not-exists",
            "app_key不存在",
        ));
    }
    let tolerance = state.config.limits.qimen_timestamp_tolerance_secs;
    match system.get("timestamp").and_then(clock::parse_china) {
        Some(ts) if (clock::now_unix() - ts).abs() <= tolerance => {}
        _ => {
            return Err(TopError::new(
                31,
                "Invalid timestamp",
                "isv.invalid-timestamp",
                "时间戳错误或与服务器时间相差超过10分钟",
            ));
        }
    }
    let method =
        SignMethod::parse(system.get("sign_method").unwrap_or_default()).ok_or_else(|| {
            TopError::invalid("sign_method", "sign_method只支持md5、hmac、hmac-sha256")
        })?;
    let expected = signing::top::sign(system.pairs(), raw_body, &creds.secret, method);
    if !signing::same_digest(&expected, system.get("sign").unwrap_or_default(), true) {
        return Err(TopError::new(
            25,
            "Invalid signature",
            "isv.invalid-signature",
            "签名无效",
        ));
    }
    if let Some(format) = system.value("format")
        && format != "json"
    {
        return Err(TopError::invalid("format", "模拟器只支持format=json"));
    }
    // Checked only when sent. UNCONFIRMED: see docs/protocol-choices.md.
    if let Some(customer) = system.value("customerId")
        && customer != creds.customer_id
    {
        return Err(TopError::invalid(
            "customerId",
            format!("customerId不存在: {customer}"),
        ));
    }
    let method_name = system.get("method").unwrap_or_default();
    let method_name = method_name
        .strip_prefix(WDT_ROUTER_PREFIX)
        .unwrap_or(method_name);
    let target = system
        .value("target_app_key")
        .ok_or_else(|| TopError::missing("target_app_key"))?;
    let business = match raw_body {
        Some(text) if !text.trim().is_empty() => match serde_json::from_str::<Value>(text) {
            Ok(v @ Value::Object(_)) => Params::from_json_object(&v),
            _ => return Err(TopError::invalid("body", "请求体必须是JSON对象")),
        },
        Some(_) => Params::default(),
        None => system.clone(),
    };
    match method_name {
        WDT_STOCKOUT_METHOD => {
            if target != creds.wdt_target_app_key {
                return Err(TopError::invalid(
                    "target_app_key",
                    format!("target_app_key不匹配: {target}"),
                ));
            }
            let reply = wdt::ListReply {
                list_key: "stockout_list",
                in_response: true,
            };
            let bytes = match wdt::query_stockout_returns(state, &business, 30, reply) {
                Ok(page) => page,
                Err(e) => wrap(
                    json!({"code": e.code, "message": e.message})
                        .to_string()
                        .as_bytes(),
                ),
            };
            Ok(wire::raw(StatusCode::OK, wire::JSON, bytes))
        }
        TRADES_METHOD => {
            if target != creds.jackyun_target_app_key {
                return Err(TopError::invalid(
                    "target_app_key",
                    format!("target_app_key不匹配: {target}"),
                ));
            }
            let bytes = match jackyun::query_trades(state, &business) {
                Ok(data) => wrap(&jackyun::success_bytes(&data)),
                Err(e) => wrap(e.body().to_string().as_bytes()),
            };
            Ok(wire::raw(StatusCode::OK, wire::JSON, bytes))
        }
        other => Err(TopError::new(
            22,
            "Invalid method",
            "isv.invalid-method",
            format!("不存在的方法名: {other}"),
        )),
    }
}

/// `{"response": …}`, the Qimen envelope of a custom API's reply.
fn wrap(inner: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(inner.len() + 13);
    out.extend_from_slice(b"{\"response\":");
    out.extend_from_slice(inner);
    out.push(b'}');
    out
}
