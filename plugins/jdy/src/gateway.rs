//! The 金蝶云星辰 open API behind the Kingdee gateway (PROTOCOLS.md §2,
//! docs/protocol-choices.md): every call carries the signed `X-Api-*`
//! headers, business calls also the `app-token` and `X-GW-Router-Addr`.
//! Answers are `{"errcode":0,"description":"..","data":{..}}`; a refused
//! gateway signature is HTTP 519 with `errcode 1010001`.

use serde_json::{Map, Value};
use weft_plugin_sdk::http::{Method, Request, Response, classify_status, form_urlencoded};
use weft_plugin_sdk::{Error, Result};
use weft_signing::jdy;

use crate::config::JdyConfig;

/// The app-token was refused: fetch a new one.
pub const TOKEN_REFUSED: i64 = 1_010_002;
/// The bill number is taken.
pub const DUPLICATE_NUMBER: i64 = 1_020_002;

/// What a business call is authorised with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// `app-token`.
    pub app_token: String,
    /// The IDC domain for `X-GW-Router-Addr`, if known.
    pub domain: Option<String>,
}

/// One call to the gateway.
#[derive(Debug, Clone, Copy)]
pub struct Call<'a> {
    /// `GET` or `POST`.
    pub method: Method,
    /// The URL path.
    pub path: &'a str,
    /// Query parameters, unencoded.
    pub query: &'a [(&'a str, &'a str)],
    /// The JSON body, if any.
    pub body: Option<&'a Value>,
}

/// The signed request of a call at `timestamp_ms` with `nonce`.
///
/// # Errors
/// `fatal` when the body cannot be serialised.
pub fn request(
    config: &JdyConfig,
    call: Call<'_>,
    token: Option<&Token>,
    timestamp_ms: i64,
    nonce: u64,
) -> Result<Request> {
    let url = if call.query.is_empty() {
        config.url(call.path)
    } else {
        format!("{}?{}", config.url(call.path), form_urlencoded(call.query))
    };
    let method = match call.method {
        Method::Get => "GET",
        _ => "POST",
    };
    let client = jdy::Client {
        client_id: &config.client_id,
        client_secret: &config.client_secret,
    };
    let mut request = Request::new(call.method, url);
    for (name, value) in client.headers(method, call.path, call.query, timestamp_ms, nonce) {
        request = request.header(name, value);
    }
    if let Some(token) = token {
        request = request.header("app-token", token.app_token.as_str());
        // Calls still go to the gateway; the domain only routes them.
        let domain = token.domain.as_deref().or(config.router_addr.as_deref());
        if let Some(domain) = domain.filter(|d| !d.is_empty()) {
            request = request.header("X-GW-Router-Addr", domain);
        }
    }
    Ok(match call.body {
        Some(body) => request.json(body)?,
        None => request.header("content-type", "application/json"),
    })
}

/// What 金蝶云星辰 answered.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// `errcode = 0`: the `data`.
    Data(Value),
    /// A non-zero `errcode` and its description.
    Failed {
        /// `errcode`.
        errcode: i64,
        /// `description` (or `description_cn`).
        description: String,
    },
}

/// Reads an answer. Any status with an `errcode` body is an answer (the
/// gateway refuses signatures with HTTP 519 and an errcode).
///
/// # Errors
/// The HTTP class of a non-2xx status without an errcode body;
/// `transient` for a 2xx body that is not the envelope.
pub fn interpret(response: &Response) -> Result<Answer> {
    let reply: Option<Map<String, Value>> = serde_json::from_slice(&response.body).ok();
    let errcode = reply
        .as_ref()
        .and_then(|r| r.get("errcode"))
        .and_then(integer);
    match (reply, errcode) {
        (Some(mut reply), Some(0)) if (200..300).contains(&response.status) => {
            Ok(Answer::Data(reply.remove("data").unwrap_or(Value::Null)))
        }
        (Some(reply), Some(errcode)) if errcode != 0 => {
            let description = ["description", "description_cn", "message", "msg"]
                .iter()
                .find_map(|k| {
                    reply
                        .get(*k)
                        .and_then(Value::as_str)
                        .filter(|d| !d.is_empty())
                })
                .unwrap_or("no description")
                .to_owned();
            Ok(Answer::Failed {
                errcode,
                description,
            })
        }
        _ if !(200..300).contains(&response.status) => Err(classify_status(
            response.status,
            response.header("retry-after"),
            &response.body,
        )),
        _ => Err(Error::transient(format!(
            "金蝶云星辰 answered without errcode: {}",
            response.text()
        ))),
    }
}

/// The class of a failure (docs/protocol-choices.md; all codes
/// UNCONFIRMED: see docs/protocol-choices.md):
///
/// | errcode | meaning | class |
/// |---|---|---|
/// | 1010001 | gateway signature refused | auth (client_id / client_secret) |
/// | 1010002 | app-token refused | auth |
/// | 1030001 | 请求过于频繁 | rate-limited |
/// | 2000002000 | 系统错误 | transient |
/// | 1020001, 1020002, other | validation, duplicate number | invalid |
pub fn classify(errcode: i64, description: &str) -> Error {
    let text = format!("金蝶云星辰 errcode {errcode}: {description}");
    match errcode {
        1_010_001 => Error::auth(format!("{text}; check client_id and client_secret")),
        TOKEN_REFUSED => Error::auth(format!("{text}; check app_key and app_secret")),
        1_030_001 => Error::rate_limited(None, text),
        2_000_002_000 => Error::transient(text),
        _ if description.contains("频繁") => Error::rate_limited(None, text),
        _ => Error::invalid(text),
    }
}

/// A number, or a numeric string.
pub fn integer(value: &Value) -> Option<i64> {
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

    fn config() -> JdyConfig {
        serde_json::from_value(json!({
            "base_url": "http://127.0.0.1:9", "client_id": "weft-jdy-client",
            "client_secret": "f2adcfef73369bfc4e1384677d38a0ff", "app_key": "k", "app_secret": "s"
        }))
        .expect("config")
    }

    fn response(status: u16, body: &str) -> Response {
        Response {
            status,
            headers: vec![],
            body: body.as_bytes().to_vec(),
        }
    }

    /// The official gateway vector, through the request builder.
    #[test]
    fn requests_carry_the_published_signature() {
        let app_signature = "MzZlYTk0ODk4MWZlNjdiODNmNWU4YzViNzYxNGM5MTFlOGJkN2NjMzk0MTJkZGNhZGM0NzZhN2YxZDJmOTlkZA==";
        let query = [("app_key", "bVZgAZOv1"), ("app_signature", app_signature)];
        let call = Call {
            method: Method::Get,
            path: "/jdyconnector/app_management/kingdee_auth_token",
            query: &query,
            body: None,
        };
        let req =
            request(&config(), call, None, 1_670_305_063_559, 4_427_456_950).expect("request");
        assert_eq!(
            req.header_value("X-Api-Signature"),
            Some(
                "OTFiZTliNDFiMjNkYTI3YzVhNzg4MDI4ZGU3MWY1ZTA5ZTk1NjVlNGM1YTI1ZjIxY2Y5YTA3ZGY2OGI1MGQ1MQ=="
            )
        );
        assert_eq!(
            req.url(),
            format!(
                "http://127.0.0.1:9/jdyconnector/app_management/kingdee_auth_token?app_key=bVZgAZOv1&app_signature={}",
                app_signature.replace('=', "%3D")
            )
        );
        assert_eq!(req.header_value("app-token"), None);
    }

    #[test]
    fn business_calls_carry_the_token_and_the_domain() {
        let token = Token {
            app_token: "eyJ".to_owned(),
            domain: Some("https://tf.jdy.com".to_owned()),
        };
        let body = json!({"billno": "R1"});
        let call = Call {
            method: Method::Post,
            path: "/jdy/v2/scm/pur_return",
            query: &[],
            body: Some(&body),
        };
        let req = request(&config(), call, Some(&token), 1, 2).expect("request");
        assert_eq!(req.header_value("app-token"), Some("eyJ"));
        assert_eq!(
            req.header_value("X-GW-Router-Addr"),
            Some("https://tf.jdy.com")
        );
        assert_eq!(req.body_bytes(), Some(br#"{"billno":"R1"}"#.as_slice()));
    }

    #[test]
    fn answers_are_read() {
        assert_eq!(
            interpret(&response(
                200,
                r#"{"errcode":0,"description":"成功","data":{"id":"1"}}"#
            )),
            Ok(Answer::Data(json!({"id":"1"})))
        );
        assert_eq!(
            interpret(&response(
                519,
                r#"{"errcode":1010001,"description":"签名错误"}"#
            )),
            Ok(Answer::Failed {
                errcode: 1_010_001,
                description: "签名错误".to_owned()
            })
        );
        assert_eq!(
            interpret(&response(502, "bad gateway"))
                .err()
                .map(|e| e.class()),
            Some("transient")
        );
        assert_eq!(
            interpret(&response(200, "{}")).err().map(|e| e.class()),
            Some("transient")
        );
    }

    #[test]
    fn failures_are_classified() {
        assert_eq!(classify(1_010_001, "x").class(), "auth");
        assert_eq!(
            classify(TOKEN_REFUSED, "授权密钥校验失败，请获取最新密钥加密").class(),
            "auth"
        );
        assert_eq!(classify(1_030_001, "请求过于频繁").class(), "rate-limited");
        assert_eq!(classify(2_000_002_000, "系统错误").class(), "transient");
        assert_eq!(classify(1_020_001, "供应商不存在").class(), "invalid");
    }
}
