//! 吉客云's answer, `{"code":..,"msg":"..","subCode":"..","result":{"data":{..}}}`
//! (PROTOCOLS.md §6.3, docs/protocol-choices.md), and what its failures mean
//! to weft. Methods called through 奇门 answer alike under `response`.

use serde_json::{Map, Value};
use weft_plugin_sdk::{Error, Result};

/// `result.data` of a successful answer (`None` when absent).
///
/// # Errors
/// A failure `code` classified by [`classify`].
pub fn data(reply: &Map<String, Value>) -> Result<Option<&Map<String, Value>>> {
    let code = reply.get("code").and_then(integer);
    // Success is 200 (the simulator, most clients) or 0 (one runbook).
    if !matches!(code, Some(0 | 200)) {
        let sub_code = reply.get("subCode").and_then(Value::as_str).unwrap_or("");
        let msg = reply.get("msg").and_then(Value::as_str).unwrap_or("");
        return Err(classify(code.unwrap_or(0), sub_code, msg));
    }
    Ok(reply
        .get("result")
        .and_then(|r| r.get("data"))
        .and_then(Value::as_object))
}

/// The class of a failure, by `subCode`:
///
/// | subCode | meaning | class |
/// |---|---|---|
/// | 0858030801 | sign error | auth (check the secret) |
/// | 0858030802 | appkey not found | auth (check the appkey) |
/// | 0858030803, 0130020310 | token invalid, API not subscribed | auth |
/// | 0859999999, or a message about frequency | throttled | rate-limited |
/// | 0050030002, anything else | parameters | invalid |
pub fn classify(code: i64, sub_code: &str, msg: &str) -> Error {
    let message = format!("吉客云 code {code} subCode {sub_code}: {msg}");
    match sub_code {
        "0858030801" => Error::auth(format!("{message}; check the secret")),
        "0858030802" => Error::auth(format!("{message}; check the appkey")),
        "0858030803" | "0130020310" => Error::auth(message),
        "0859999999" => Error::rate_limited(None, message),
        _ if msg.contains("频繁") || msg.contains("限流") => Error::rate_limited(None, message),
        _ => Error::invalid(message),
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

    fn reply(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn success_is_200_or_0() {
        let r =
            reply(json!({"code":200,"msg":"成功","subCode":null,"result":{"data":{"trades":[]}}}));
        assert_eq!(data(&r).map(|d| d.is_some()), Ok(true));
        let r = reply(json!({"code":"0","result":{}}));
        assert_eq!(data(&r).map(|d| d.is_some()), Ok(false));
    }

    #[test]
    fn failures_are_classified_by_sub_code() {
        let fail = |sub: &str, msg: &str| {
            data(&reply(json!({"code":500,"msg":msg,"subCode":sub})))
                .err()
                .map(|e| e.to_string())
        };
        assert_eq!(
            fail("0858030801", "签名错误"),
            Some("auth: 吉客云 code 500 subCode 0858030801: 签名错误; check the secret".to_owned())
        );
        assert_eq!(
            fail("0858030802", "appkey不存在").map(|m| m.starts_with("auth")),
            Some(true)
        );
        assert_eq!(
            fail("0859999999", "调用过于频繁").map(|m| m.starts_with("rate-limited")),
            Some(true)
        );
        assert_eq!(
            fail("0050030002", "修改时间起止时间差不能超过7天").map(|m| m.starts_with("invalid")),
            Some(true)
        );
        assert!(data(&reply(json!({"msg":"?"}))).is_err());
    }
}
