//! 旺店通's answer codes and what they mean to weft (PROTOCOLS.md §3.4,
//! docs/protocol-choices.md). openapi2 and the 奇门 variant of its methods
//! answer with the same codes.

use weft_plugin_sdk::Error;

/// The class of a non-zero `code`.
///
/// - `100`: authentication (`签名错误`, `appkey不存在`, `sid不存在`,
///   `无效timestamp`) → `auth`, naming the setting to check.
/// - `1090` or a message with `频率超限` → `rate-limited`.
///   UNCONFIRMED: see docs/protocol-choices.md (the code 1090).
/// - anything else (`2900` window, `2910` page size, validation) →
///   `invalid` with 旺店通's message.
pub fn classify(code: i64, message: &str) -> Error {
    let text = format!("旺店通 code {code}: {message}");
    if code == 100 {
        return Error::auth(match credential_hint(message) {
            Some(hint) => format!("{text} ({hint})"),
            None => text,
        });
    }
    if code == 1090 || message.contains("频率超限") {
        return Error::rate_limited(None, text);
    }
    Error::invalid(text)
}

/// Which setting an authentication message points at.
fn credential_hint(message: &str) -> Option<&'static str> {
    if message.contains("签名") {
        Some("check the connection's appsecret")
    } else if message.contains("appkey") {
        Some("check the connection's appkey")
    } else if message.contains("sid") {
        Some("check the connection's sid")
    } else if message.contains("timestamp") {
        Some("the host clock differs from 旺店通's by more than 5 minutes")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_classified() {
        assert_eq!(
            classify(100, "appkey不存在").to_string(),
            "auth: 旺店通 code 100: appkey不存在 (check the connection's appkey)"
        );
        assert_eq!(classify(100, "无效timestamp").class(), "auth");
        assert_eq!(classify(1090, "").class(), "rate-limited");
        assert_eq!(classify(5, "接口调用频率超限").class(), "rate-limited");
        assert_eq!(classify(2910, "page_size超出范围").class(), "invalid");
    }
}
