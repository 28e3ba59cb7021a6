//! The openapi2 protocol (PROTOCOLS.md §3, docs/protocol-choices.md): a
//! `POST` of flat form fields with `sid`, `appkey`, `timestamp` (Unix
//! seconds) and `sign`; nested data is a JSON string in one field. Every
//! answer is HTTP 200 with `{"code":0,...}` or `{"code":N,"message":".."}`.

use serde_json::{Map, Value};
use weft_plugin_sdk::http::{Request, Response, classify_status};
use weft_plugin_sdk::{Error, Result};
use weft_signing::{clock, wdt};
use weft_wdt_api::codes::classify;
use weft_wdt_api::paging::RawReply;

use crate::config::WdtConfig;

/// The signed form of a call: the business fields plus the system fields.
pub fn signed_form(
    config: &WdtConfig,
    business: Vec<(String, String)>,
    timestamp: i64,
) -> Vec<(String, String)> {
    let mut form = business;
    form.push(("sid".to_owned(), config.sid.clone()));
    form.push(("appkey".to_owned(), config.appkey.clone()));
    form.push(("timestamp".to_owned(), timestamp.to_string()));
    let sign = wdt::sign(&form, &config.appsecret);
    form.push(("sign".to_owned(), sign));
    form
}

/// The request for endpoint `name`.
pub fn request(
    config: &WdtConfig,
    name: &str,
    business: Vec<(String, String)>,
    timestamp: i64,
) -> Request {
    Request::post(config.url(name)).form(&signed_form(config, business, timestamp))
}

/// Flattens a JSON object of business parameters into form fields: text as
/// it is, numbers and booleans as their JSON text, arrays and objects as JSON
/// strings (how openapi2 carries nested data); nulls are left out.
pub fn form_fields(params: &Value) -> Vec<(String, String)> {
    let Some(object) = params.as_object() else {
        return Vec::new();
    };
    object
        .iter()
        .filter_map(|(k, v)| {
            let text = match v {
                Value::Null => return None,
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            Some((k.clone(), text))
        })
        .collect()
}

/// Reads an answer: the JSON object on `code = 0`, else the classified
/// error. 旺店通 labels its replies with a wrong content type, so the body
/// is decoded whatever the header says.
///
/// # Errors
/// The HTTP class of a non-2xx status; `transient` for a body that is not
/// a JSON object; the class of a non-zero `code` (see [`classify`]).
pub fn interpret(response: &Response) -> Result<Map<String, Value>> {
    if !(200..300).contains(&response.status) {
        return Err(classify_status(
            response.status,
            response.header("retry-after"),
            &response.body,
        ));
    }
    let reply: Map<String, Value> = response.json()?;
    match code_of(&reply) {
        Some(0) => Ok(reply),
        Some(code) => Err(classify(code, message_of(&reply))),
        None => Err(Error::transient(format!(
            "旺店通 answered without a code: {}",
            response.text()
        ))),
    }
}

/// [`interpret`] that leaves the reply's members as JSON text and finds
/// the records of `list_key` in the same pass, so that they can go to the
/// host as 旺店通 sent them.
///
/// # Errors
/// As [`interpret`].
pub fn interpret_raw<'r>(response: &'r Response, list_key: &str) -> Result<RawReply<'r>> {
    if !(200..300).contains(&response.status) {
        return Err(classify_status(
            response.status,
            response.header("retry-after"),
            &response.body,
        ));
    }
    let reply = std::str::from_utf8(&response.body)
        .map_err(|e| e.to_string())
        .and_then(|text| RawReply::parse(text, list_key).map_err(|e| e.to_string()))
        .map_err(|e| {
            Error::transient(format!(
                "HTTP {}: 旺店通's reply is not the JSON object expected ({e})",
                response.status
            ))
        })?;
    let member = |name: &str| {
        reply
            .members
            .get(name)
            .and_then(|raw| serde_json::from_str::<Value>(raw.get()).ok())
    };
    let code = match member("code") {
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    };
    match code {
        Some(0) => Ok(reply),
        Some(code) => {
            let message = member("message");
            Err(classify(
                code,
                message.as_ref().and_then(Value::as_str).unwrap_or(""),
            ))
        }
        None => Err(Error::transient(format!(
            "旺店通 answered without a code: {}",
            response.text()
        ))),
    }
}

/// `code`, as a number or a numeric string.
fn code_of(reply: &Map<String, Value>) -> Option<i64> {
    match reply.get("code")? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn message_of(reply: &Map<String, Value>) -> &str {
    reply.get("message").and_then(Value::as_str).unwrap_or("")
}

/// Calls endpoint `name` with the business fields, signed now.
///
/// # Errors
/// See [`interpret`]; network failures are `transient`.
pub fn call(
    config: &WdtConfig,
    name: &str,
    business: Vec<(String, String)>,
) -> Result<Map<String, Value>> {
    let response = request(config, name, business, clock::now_unix_secs()).send()?;
    interpret(&response).map_err(|e| e.context(format!("{name}.php")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn config() -> WdtConfig {
        WdtConfig {
            base_url: "http://127.0.0.1:9/".to_owned(),
            sid: "test2".to_owned(),
            appkey: "test2-xx".to_owned(),
            appsecret: "12345".to_owned(),
        }
    }

    fn reply(status: u16, body: &str) -> Response {
        Response {
            status,
            headers: vec![("content-type".to_owned(), "text/html".to_owned())],
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn the_official_example_is_signed_as_documented() {
        let business = vec![
            ("start_time".to_owned(), "2016-08-01 12:00:00".to_owned()),
            ("end_time".to_owned(), "2016-08-01 13:00:00".to_owned()),
            ("page_size".to_owned(), "40".to_owned()),
            ("page_no".to_owned(), "0".to_owned()),
        ];
        let form = signed_form(&config(), business, 1_470_042_310);
        assert_eq!(
            form.last(),
            Some(&(
                "sign".to_owned(),
                "ad4e6fe037ea6e3ba4768317be9d1309".to_owned()
            ))
        );
    }

    #[test]
    fn requests_post_a_form_to_the_endpoint() {
        let req = request(&config(), "trade_push", vec![], 1);
        assert_eq!(req.url(), "http://127.0.0.1:9/openapi2/trade_push.php");
        assert!(
            req.header_value("content-type")
                .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"))
        );
        let body = String::from_utf8_lossy(req.body_bytes().unwrap_or_default()).into_owned();
        assert!(
            body.starts_with("sid=test2&appkey=test2-xx&timestamp=1&sign="),
            "{body}"
        );
    }

    #[test]
    fn form_fields_flatten_json() {
        let fields = form_fields(&json!({"a": "x", "n": 3, "skip": null, "list": [{"t": 1}]}));
        assert_eq!(
            fields,
            vec![
                ("a".to_owned(), "x".to_owned()),
                ("list".to_owned(), r#"[{"t":1}]"#.to_owned()),
                ("n".to_owned(), "3".to_owned()),
            ]
        );
    }

    #[test]
    fn success_needs_code_zero() {
        let ok = interpret(&reply(200, r#"{"code":0,"message":"","total_count":1}"#));
        assert_eq!(ok.map(|m| m["total_count"].clone()), Ok(json!(1)));
        assert!(interpret(&reply(200, r#"{"code":"0"}"#)).is_ok());
    }

    #[test]
    fn errors_are_classified() {
        let err = |body: &str| interpret(&reply(200, body)).err().map(|e| e.to_string());
        assert_eq!(
            err(r#"{"code":100,"message":"签名错误"}"#),
            Some("auth: 旺店通 code 100: 签名错误 (check the connection's appsecret)".to_owned())
        );
        assert_eq!(
            err(r#"{"code":100,"message":"sid不存在"}"#),
            Some("auth: 旺店通 code 100: sid不存在 (check the connection's sid)".to_owned())
        );
        assert_eq!(
            err(r#"{"code":1090,"message":"接口调用频率超限，请稍后再试"}"#),
            Some("rate-limited: 旺店通 code 1090: 接口调用频率超限，请稍后再试".to_owned())
        );
        assert_eq!(
            err(r#"{"code":2900,"message":"时间跨度不能超过30天"}"#),
            Some("invalid: 旺店通 code 2900: 时间跨度不能超过30天".to_owned())
        );
        assert_eq!(
            interpret(&reply(502, "bad gateway"))
                .err()
                .map(|e| e.class()),
            Some("transient")
        );
        assert_eq!(
            interpret(&reply(200, "<html>")).err().map(|e| e.class()),
            Some("transient")
        );
        assert_eq!(
            interpret(&reply(200, "{}")).err().map(|e| e.class()),
            Some("transient")
        );
    }
}
