//! The access token of a call batch: the connection's own, or one
//! exchanged for its authorization code (`getInitToken`,
//! `grant_type=authorization_code`, PROTOCOLS.md §5.1). A fresh plugin
//! instance serves each batch, so an exchanged token lives for one batch.

use serde_json::Value;
use weft_plugin_sdk::http::Request;
use weft_plugin_sdk::{Error, Result};
use weft_signing::clock;

use crate::config::JstConfig;
use crate::openapi::{self, Answer};

/// The signed token request for `code`.
pub fn exchange_request(config: &JstConfig, code: &str, timestamp: i64) -> Request {
    let form = openapi::sign(
        vec![
            ("app_key".to_owned(), config.app_key.clone()),
            ("timestamp".to_owned(), timestamp.to_string()),
            ("grant_type".to_owned(), "authorization_code".to_owned()),
            ("charset".to_owned(), "utf-8".to_owned()),
            ("code".to_owned(), code.to_owned()),
        ],
        &config.app_secret,
    );
    openapi::request(config, &config.token_path, &form)
}

/// The token out of the exchange's answer.
/// UNCONFIRMED: see docs/protocol-choices.md (the reply's shape;
/// `data.access_token` as 3P clients read it).
///
/// # Errors
/// `auth` when 聚水潭 refused the code or answered without a token.
pub fn token_from(answer: Answer) -> Result<String> {
    match answer {
        Answer::Data(data) => data
            .get("access_token")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
            .ok_or_else(|| Error::auth("聚水潭 exchanged the code but sent no data.access_token")),
        Answer::Failed { code, msg } => match openapi::classify(code, &msg) {
            e @ (Error::RateLimited { .. } | Error::Transient(_)) => Err(e),
            _ => Err(Error::auth(format!(
                "聚水潭 refused the authorization code: code {code}: {msg}; check the connection's code"
            ))),
        },
    }
}

/// Exchanges the connection's code for a token.
///
/// # Errors
/// `auth` without a code or when the exchange is refused; network
/// failures are `transient`.
pub fn exchange(config: &JstConfig) -> Result<String> {
    let code = config.code().ok_or_else(|| {
        Error::auth("the connection has neither an access_token nor an authorization code")
    })?;
    let response = exchange_request(config, code, clock::now_unix_secs()).send()?;
    token_from(openapi::interpret(&response)?)
}

/// Calls `path` with the business parameters `biz`, with the connection's
/// token or one exchanged for its code; a rejected token is exchanged again
/// once, when there is a code to exchange.
///
/// # Errors
/// The classified failure; see [`openapi::classify`].
pub fn call(config: &JstConfig, path: &str, biz: &str) -> Result<Value> {
    let (mut token, mut exchanged) = match config.access_token() {
        Some(token) => (token.to_owned(), false),
        None => (exchange(config)?, true),
    };
    loop {
        let form = openapi::signed_form(config, &token, biz, clock::now_unix_secs());
        let response = openapi::request(config, path, &form).send()?;
        match openapi::interpret(&response)? {
            Answer::Data(data) => return Ok(data),
            Answer::Failed { code, .. }
                if code == openapi::TOKEN_REJECTED && !exchanged && config.code().is_some() =>
            {
                token = exchange(config)?;
                exchanged = true;
            }
            Answer::Failed { code, msg } => return Err(openapi::classify(code, &msg).context(path)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn config() -> JstConfig {
        serde_json::from_value(json!({
            "app_key": "5b53060f23d84ddf9703056e84fa5a2d",
            "app_secret": "e9c5ca33fecb404b8e6cdbd0ef4a6d25",
            "code": "123456",
        }))
        .expect("config")
    }

    /// The official token vector, through the request builder.
    #[test]
    fn the_exchange_carries_the_published_signature() {
        let req = exchange_request(&config(), "123456", 1_639_128_407);
        assert_eq!(
            req.url(),
            "https://openapi.jushuitan.com/openWeb/auth/getInitToken"
        );
        let body = String::from_utf8_lossy(req.body_bytes().unwrap_or_default()).into_owned();
        assert!(
            body.ends_with("&sign=05e3a51e19e0883afd1882ccd309e0b9"),
            "{body}"
        );
    }

    #[test]
    fn the_token_is_read_from_data() {
        let answer = Answer::Data(json!({"access_token":"weft-jst-token","expires_in":2_592_000}));
        assert_eq!(token_from(answer), Ok("weft-jst-token".to_owned()));
        assert_eq!(
            token_from(Answer::Data(json!({}))).err().map(|e| e.class()),
            Some("auth")
        );
        let refused = Answer::Failed {
            code: 10,
            msg: "签名错误".to_owned(),
        };
        assert_eq!(token_from(refused).err().map(|e| e.class()), Some("auth"));
    }
}
