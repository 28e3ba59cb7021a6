//! The 奇门 custom-API gateway (PROTOCOLS.md §4, docs/protocol-choices.md):
//! `POST {router}?{system parameters}` with the business parameters as a
//! JSON object in the body. The TOP signature covers the sorted query
//! parameters followed by the raw body. TOP's own errors come back as
//! `{"error_response":{code,msg,sub_code,sub_msg}}`; the ERP's answer is
//! the object under `response`.

use serde_json::{Map, Value};
use weft_plugin_sdk::http::{Request, Response, classify_status, form_urlencoded};
use weft_plugin_sdk::{Error, Result};
use weft_signing::{china_time, top};

use crate::config::QimenConfig;

/// The request for `method` with `body`, signed at `timestamp` (China time).
///
/// # Errors
/// `auth` for an unknown sign method; `fatal` when the body cannot be
/// serialised.
pub fn request(
    config: &QimenConfig,
    method: &str,
    body: &Value,
    timestamp: &str,
) -> Result<Request> {
    let sign_method = config.sign_method()?;
    let body = serde_json::to_string(body)?;
    let mut query: Vec<(&str, &str)> = vec![
        ("method", method),
        ("app_key", &config.app_key),
        ("target_app_key", &config.target_app_key),
        ("sign_method", sign_method.as_str()),
        ("timestamp", timestamp),
        ("format", "json"),
        ("v", "2.0"),
    ];
    if let Some(customer_id) = config.customer_id.as_deref().filter(|c| !c.is_empty()) {
        query.push(("customerId", customer_id));
    }
    let sign = top::sign(&query, Some(&body), &config.app_secret, sign_method);
    query.push(("sign", &sign));
    let url = format!("{}?{}", config.router_url(), form_urlencoded(&query));
    Ok(Request::post(url)
        .header("content-type", "application/json")
        .body(body))
}

/// Reads an answer: the object under `response`, or the classified error.
///
/// # Errors
/// The HTTP class of a non-2xx status; TOP's `error_response` classified
/// by [`classify`]; `transient` for a body that is neither.
pub fn interpret(response: &Response) -> Result<Map<String, Value>> {
    if !(200..300).contains(&response.status) {
        return Err(classify_status(
            response.status,
            response.header("retry-after"),
            &response.body,
        ));
    }
    let mut reply: Map<String, Value> = response.json()?;
    if let Some(Value::Object(error)) = reply.get("error_response") {
        return Err(classify(error));
    }
    match reply.remove("response") {
        Some(Value::Object(inner)) => Ok(inner),
        _ => Err(Error::transient(format!(
            "奇门 answered with neither response nor error_response: {}",
            response.text()
        ))),
    }
}

/// The class of a TOP `error_response` (TOP's public error-code table):
///
/// | code | meaning | class |
/// |---|---|---|
/// | 7 (or a `sub_code` with `limited`) | App Call Limited | rate-limited, retry after the ban TOP names |
/// | 11–13 | insufficient permissions | auth |
/// | 24–31 | signature, session, app key, timestamp | auth |
/// | 10; 15 with `isp.*` | service unavailable, remote error | transient |
/// | 21–23, 32–34 | method, format, version | fatal |
/// | 40, 41, 43, other | arguments | invalid |
pub fn classify(error: &Map<String, Value>) -> Error {
    let code = error.get("code").and_then(integer).unwrap_or(0);
    let msg = text(error, "msg");
    let sub_code = text(error, "sub_code");
    let sub_msg = text(error, "sub_msg");
    let message = format!("奇门 error {code} {msg} ({sub_code}: {sub_msg})");
    if code == 7 || sub_code.contains("limited") {
        let retry_after_ms = ban_seconds(sub_msg)
            .or_else(|| ban_seconds(msg))
            .map(|s| s * 1000);
        return Error::rate_limited(retry_after_ms, message);
    }
    match code {
        11..=13 | 24..=31 => Error::auth(match credential_hint(code) {
            Some(hint) => format!("{message}; {hint}"),
            None => message,
        }),
        10 => Error::transient(message),
        15 if sub_code.starts_with("isp.") => Error::transient(message),
        21..=23 | 32..=34 => Error::fatal(message),
        _ => Error::invalid(message),
    }
}

fn credential_hint(code: i64) -> Option<&'static str> {
    match code {
        25 => Some("check app_secret and sign_method"),
        28 | 29 => Some("check app_key"),
        30 | 31 => Some("the host clock differs from China time by more than 10 minutes"),
        _ => None,
    }
}

/// TOP's ban text, `This ban will last for 12 more seconds`.
fn ban_seconds(text: &str) -> Option<u64> {
    let rest = &text[text.find("last for ")? + "last for ".len()..];
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

fn text<'a>(map: &'a Map<String, Value>, key: &str) -> &'a str {
    map.get(key).and_then(Value::as_str).unwrap_or("")
}

/// A number, or a numeric string.
pub fn integer(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Calls `method` with `body`, signed now.
///
/// # Errors
/// See [`interpret`]; network failures are `transient`.
pub fn call(config: &QimenConfig, method: &str, body: &Value) -> Result<Map<String, Value>> {
    let response = request(config, method, body, &china_time::now())?.send()?;
    interpret(&response).map_err(|e| e.context(method))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn config() -> QimenConfig {
        QimenConfig {
            base_url: "http://127.0.0.1:9".to_owned(),
            router_path: "/router/qm".to_owned(),
            app_key: "12345678".to_owned(),
            app_secret: "helloworld".to_owned(),
            target_app_key: "23456789".to_owned(),
            customer_id: Some("c1001".to_owned()),
            sign_method: "md5".to_owned(),
            wdt_sid: None,
            wdt_appkey: None,
        }
    }

    fn reply(body: &str) -> Response {
        Response {
            status: 200,
            headers: vec![],
            body: body.as_bytes().to_vec(),
        }
    }

    /// The published 奇门 vector, end to end through the request builder.
    #[test]
    fn requests_carry_the_published_signature() {
        let body = json!({"start_time":"2024-01-01 00:00:00","end_time":"2024-01-01 01:00:00","page_no":0,"page_size":40});
        let req = request(
            &config(),
            "wdt.stockout.order.query.return",
            &body,
            "2024-01-01 12:00:00",
        )
        .expect("request");
        assert_eq!(
            req.body_bytes(),
            Some(br#"{"end_time":"2024-01-01 01:00:00","page_no":0,"page_size":40,"start_time":"2024-01-01 00:00:00"}"#.as_slice())
        );
        // serde_json sorts keys, so the body differs from the vector's
        // order; the vector's own body gives the vector's sign.
        let vector_body = r#"{"start_time":"2024-01-01 00:00:00","end_time":"2024-01-01 01:00:00","page_no":0,"page_size":40}"#;
        let url = req.url();
        assert!(url.starts_with("http://127.0.0.1:9/router/qm?method=wdt.stockout.order.query.return&app_key=12345678&target_app_key=23456789&sign_method=md5&timestamp=2024-01-01+12%3A00%3A00&format=json&v=2.0&customerId=c1001&sign="), "{url}");
        let params = [
            ("method", "wdt.stockout.order.query.return"),
            ("app_key", "12345678"),
            ("target_app_key", "23456789"),
            ("customerId", "c1001"),
            ("format", "json"),
            ("sign_method", "md5"),
            ("timestamp", "2024-01-01 12:00:00"),
            ("v", "2.0"),
        ];
        assert_eq!(
            top::sign(
                &params,
                Some(vector_body),
                "helloworld",
                top::SignMethod::Md5
            ),
            "40FA976FCADF4FD3CA2B63F8A0297F61"
        );
        let sign = top::sign(
            &params,
            Some(&String::from_utf8_lossy(
                req.body_bytes().unwrap_or_default(),
            )),
            "helloworld",
            top::SignMethod::Md5,
        );
        assert!(url.ends_with(&format!("&sign={sign}")), "{url}");
    }

    #[test]
    fn the_router_url_joins_cleanly() {
        let mut c = config();
        c.base_url = "https://hu3cgwt0tc.api.taobao.com/".to_owned();
        c.router_path = "router/qmtest".to_owned();
        assert_eq!(
            c.router_url(),
            "https://hu3cgwt0tc.api.taobao.com/router/qmtest"
        );
    }

    #[test]
    fn the_inner_response_is_returned() {
        let inner = interpret(&reply(
            r#"{"response":{"code":0,"total_count":0,"stockout_list":[]}}"#,
        ));
        assert_eq!(inner.map(|m| m["total_count"].clone()), Ok(json!(0)));
    }

    #[test]
    fn top_errors_are_classified() {
        let class = |body: &str| interpret(&reply(body)).err();
        let e = class(
            r#"{"error_response":{"code":25,"msg":"Invalid signature","sub_code":"isv.invalid-signature","sub_msg":"bad","request_id":"r"}}"#,
        );
        assert_eq!(
            e.map(|e| e.to_string()),
            Some("auth: 奇门 error 25 Invalid signature (isv.invalid-signature: bad); check app_secret and sign_method".to_owned())
        );
        let e = class(
            r#"{"error_response":{"code":7,"msg":"App Call Limited","sub_code":"accesscontrol.limited-by-app-access-count","sub_msg":"This ban will last for 12 more seconds"}}"#,
        );
        assert!(
            matches!(
                e,
                Some(Error::RateLimited {
                    retry_after_ms: Some(12_000),
                    ..
                })
            ),
            "{e:?}"
        );
        assert_eq!(
            class(r#"{"error_response":{"code":29,"msg":"Invalid app Key"}}"#).map(|e| e.class()),
            Some("auth")
        );
        assert_eq!(
            class(r#"{"error_response":{"code":31,"msg":"Invalid timestamp"}}"#).map(|e| e.class()),
            Some("auth")
        );
        assert_eq!(
            class(r#"{"error_response":{"code":22,"msg":"Invalid method"}}"#).map(|e| e.class()),
            Some("fatal")
        );
        assert_eq!(
            class(r#"{"error_response":{"code":41,"msg":"Invalid arguments"}}"#).map(|e| e.class()),
            Some("invalid")
        );
        assert_eq!(class(r#"{"error_response":{"code":15,"msg":"Remote service error","sub_code":"isp.remote-service-timeout"}}"#).map(|e| e.class()), Some("transient"));
        assert_eq!(
            class(r#"{"other":1}"#).map(|e| e.class()),
            Some("transient")
        );
        let e = interpret(&Response {
            status: 503,
            headers: vec![],
            body: vec![],
        })
        .err();
        assert_eq!(e.map(|e| e.class()), Some("transient"));
    }
}
