//! The app-token (PROTOCOLS.md §2.1): `GET
//! /jdyconnector/app_management/kingdee_auth_token?app_key=..&app_signature=..`
//! with the gateway headers, where `app_signature =
//! base64(hex(HMAC_SHA256(app_secret, app_key)))`. The reply's `data`
//! carries `app-token` (valid 24 h) and, per docs/protocol-choices.md, the
//! IDC `domain`. A fresh plugin instance serves each call batch, so a token
//! lives for one batch.

use serde_json::Value;
use weft_plugin_sdk::http::Method;
use weft_plugin_sdk::{Error, Result};
use weft_signing::jdy;

use crate::config::JdyConfig;
use crate::gateway::{self, Answer, Call, Token};

/// The token path.
pub const PATH: &str = "/jdyconnector/app_management/kingdee_auth_token";

/// The query of the token request.
pub fn query(config: &JdyConfig) -> [(&'static str, String); 2] {
    [
        ("app_key", config.app_key.clone()),
        (
            "app_signature",
            jdy::app_signature(&config.app_key, &config.app_secret),
        ),
    ]
}

/// Runs a call with the token request's query.
pub fn with_call<R>(config: &JdyConfig, run: impl FnOnce(Call<'_>) -> R) -> R {
    let query = query(config);
    let pairs: Vec<(&str, &str)> = query.iter().map(|(k, v)| (*k, v.as_str())).collect();
    run(Call {
        method: Method::Get,
        path: PATH,
        query: &pairs,
        body: None,
    })
}

/// The token out of the answer (`data.app-token`, or `data.app_token`).
///
/// # Errors
/// `auth` when the gateway refused the app or sent no token.
pub fn token_from(answer: Answer) -> Result<Token> {
    match answer {
        Answer::Data(data) => {
            let app_token = ["app-token", "app_token"]
                .iter()
                .find_map(|k| {
                    data.get(*k)
                        .and_then(Value::as_str)
                        .filter(|t| !t.is_empty())
                })
                .ok_or_else(|| Error::auth("金蝶云星辰 granted the token but sent no app-token"))?;
            Ok(Token {
                app_token: app_token.to_owned(),
                domain: data
                    .get("domain")
                    .and_then(Value::as_str)
                    .filter(|d| !d.is_empty())
                    .map(str::to_owned),
            })
        }
        Answer::Failed {
            errcode,
            description,
        } => match gateway::classify(errcode, &description) {
            e @ (Error::Auth(_) | Error::RateLimited { .. } | Error::Transient(_)) => Err(e),
            _ => Err(Error::auth(format!(
                "金蝶云星辰 refused the app-token: errcode {errcode}: {description}; check app_key and app_secret"
            ))),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_query_carries_the_app_signature() {
        let config: JdyConfig = serde_json::from_value(json!({
            "client_id": "c", "client_secret": "s", "app_key": "abc", "app_secret": "abc123"
        }))
        .expect("config");
        assert_eq!(
            query(&config)[1].1,
            "ZDljMTI3NGIyNTE1MTRkYzlkNjc1MDNhYjUzMzgzNWMyY2M4YTdjMzdmNmM3YTVlNDkxMTkzNjdiOTFjNzUyZQ=="
        );
    }

    #[test]
    fn the_token_and_domain_are_read() {
        let answer = Answer::Data(
            json!({"access_token":"a","app-token":"eyJ","expires":1_767_470_851_000_i64,"domain":"http://127.0.0.1:9"}),
        );
        assert_eq!(
            token_from(answer),
            Ok(Token {
                app_token: "eyJ".to_owned(),
                domain: Some("http://127.0.0.1:9".to_owned())
            })
        );
        let answer = Answer::Data(json!({"app_token":"t"}));
        assert_eq!(token_from(answer).map(|t| t.domain), Ok(None));
        assert_eq!(
            token_from(Answer::Data(json!({}))).err().map(|e| e.class()),
            Some("auth")
        );
        let refused = Answer::Failed {
            errcode: 1_010_001,
            description: "签名错误".to_owned(),
        };
        assert_eq!(token_from(refused).err().map(|e| e.class()), Some("auth"));
    }
}
