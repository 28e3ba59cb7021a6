//! The 聚水潭 open API protocol (PROTOCOLS.md §5, docs/protocol-choices.md):
//! `POST` `application/x-www-form-urlencoded` with `app_key`,
//! `access_token`, `timestamp` (Unix seconds), `charset=utf-8`,
//! `version=2`, `biz` (the business parameters as a JSON string) and
//! `sign`. Answers are HTTP 200 with `{"code":0,"msg":"..","data":{..}}` or
//! `{"code":N,"msg":".."}`.

use serde_json::{Map, Value};
use weft_plugin_sdk::http::{Request, Response, classify_status};
use weft_plugin_sdk::{Error, Result};
use weft_signing::jst;

use crate::config::JstConfig;

/// `code` of an expired or unknown access token.
pub const TOKEN_REJECTED: i64 = 100;

/// The signed form of a business call.
pub fn signed_form(
    config: &JstConfig,
    access_token: &str,
    biz: &str,
    timestamp: i64,
) -> Vec<(String, String)> {
    sign(
        vec![
            ("app_key".to_owned(), config.app_key.clone()),
            ("access_token".to_owned(), access_token.to_owned()),
            ("timestamp".to_owned(), timestamp.to_string()),
            // Signed exactly as sent: `UTF-8` or `2.0` change the sign.
            ("charset".to_owned(), "utf-8".to_owned()),
            ("version".to_owned(), "2".to_owned()),
            ("biz".to_owned(), biz.to_owned()),
        ],
        &config.app_secret,
    )
}

/// Appends `sign` to a form.
pub fn sign(mut form: Vec<(String, String)>, app_secret: &str) -> Vec<(String, String)> {
    let sign = jst::sign(&form, app_secret);
    form.push(("sign".to_owned(), sign));
    form
}

/// The request posting `form` to `path`.
pub fn request(config: &JstConfig, path: &str, form: &[(String, String)]) -> Request {
    Request::post(config.url(path)).form(form)
}

/// What 聚水潭 answered.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// `code = 0`: the `data`.
    Data(Value),
    /// A non-zero `code` and its `msg`.
    Failed {
        /// 聚水潭's code.
        code: i64,
        /// 聚水潭's message.
        msg: String,
    },
}

/// Reads an answer.
///
/// # Errors
/// The HTTP class of a non-2xx status; `transient` for a body that is not
/// a JSON object with a code.
pub fn interpret(response: &Response) -> Result<Answer> {
    if !(200..300).contains(&response.status) {
        return Err(classify_status(
            response.status,
            response.header("retry-after"),
            &response.body,
        ));
    }
    let mut reply: Map<String, Value> = response.json()?;
    let code = match reply.get("code") {
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    };
    match code {
        Some(0) => Ok(Answer::Data(reply.remove("data").unwrap_or(Value::Null))),
        Some(code) => Ok(Answer::Failed {
            code,
            msg: reply
                .get("msg")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned(),
        }),
        None => Err(Error::transient(format!(
            "聚水潭 answered without a code: {}",
            response.text()
        ))),
    }
}

/// The class of a non-zero `code` (docs/protocol-choices.md):
///
/// - `10` bad sign, `11` unknown app key, `12` timestamp, `100` token →
///   `auth`, naming the setting to check;
/// - `199` or a message about frequency → `rate-limited`
///   (UNCONFIRMED: see docs/protocol-choices.md);
/// - anything else (`130` window over 7 days, validation) → `invalid`.
pub fn classify(code: i64, msg: &str) -> Error {
    let text = format!("聚水潭 code {code}: {msg}");
    let hint = match code {
        10 => Some("check app_secret"),
        11 => Some("check app_key"),
        12 => Some("the host clock differs from 聚水潭's by more than 10 minutes"),
        TOKEN_REJECTED => Some("set a fresh access_token, or an authorization code to exchange"),
        _ => None,
    };
    if let Some(hint) = hint {
        return Error::auth(format!("{text}; {hint}"));
    }
    if code == 199 || msg.contains("频率") || msg.contains("频繁") {
        return Error::rate_limited(None, text);
    }
    Error::invalid(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> JstConfig {
        serde_json::from_value(serde_json::json!({
            "app_key": "5b53060f23d84ddf9703056e84fa5a2d",
            "app_secret": "e9c5ca33fecb404b8e6cdbd0ef4a6d25",
        }))
        .expect("config")
    }

    fn reply(body: &str) -> Response {
        Response {
            status: 200,
            headers: vec![],
            body: body.as_bytes().to_vec(),
        }
    }

    /// The official business vector, through the form builder.
    #[test]
    fn forms_carry_the_published_signature() {
        let form = signed_form(
            &config(),
            "d7b01bf0842a4742a9450e21ffd95f60",
            r#"{"page_index":"1","page_size":"100","nicks":["老板"]}"#,
            1_639_128_407,
        );
        assert_eq!(
            form.last(),
            Some(&(
                "sign".to_owned(),
                "395f5a78b446be465ac03a02491296c7".to_owned()
            ))
        );
        let req = request(&config(), "/open/refund/single/query", &form);
        assert_eq!(
            req.url(),
            "https://openapi.jushuitan.com/open/refund/single/query"
        );
    }

    #[test]
    fn answers_are_read() {
        assert_eq!(
            interpret(&reply(r#"{"code":0,"msg":"执行成功","data":{"datas":[]}}"#)),
            Ok(Answer::Data(serde_json::json!({"datas":[]})))
        );
        assert_eq!(
            interpret(&reply(r#"{"code":100,"msg":"access_token已过期或无效"}"#)),
            Ok(Answer::Failed {
                code: 100,
                msg: "access_token已过期或无效".to_owned()
            })
        );
        assert_eq!(
            interpret(&reply("oops")).err().map(|e| e.class()),
            Some("transient")
        );
    }

    #[test]
    fn failures_are_classified() {
        assert_eq!(
            classify(10, "签名错误").to_string(),
            "auth: 聚水潭 code 10: 签名错误; check app_secret"
        );
        assert_eq!(classify(11, "").class(), "auth");
        assert_eq!(classify(100, "access_token已过期或无效").class(), "auth");
        assert_eq!(classify(199, "接口调用频率超限").class(), "rate-limited");
        assert_eq!(classify(130, "修改时间间隔不能超过7天").class(), "invalid");
    }
}
