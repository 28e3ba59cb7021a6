//! The open API of one call: fetches the app-token on first use (unless an
//! earlier call of the batch left one, see [`crate::token_cache`]) and once
//! more when the gateway refuses it (`errcode 1010002`), then signs every
//! call.

use weft_plugin_sdk::http::Transport;
use weft_plugin_sdk::{Result, log};
use weft_signing::clock;

use crate::config::JdyConfig;
use crate::gateway::{self, Answer, Call, Token};
use crate::token;

/// The calls of one batch.
#[derive(Debug)]
pub struct OpenApi<T> {
    transport: T,
    config: JdyConfig,
    token: Option<Token>,
}

impl<T: Transport> OpenApi<T> {
    /// No token yet.
    pub fn new(transport: T, config: JdyConfig) -> Self {
        Self {
            transport,
            config,
            token: None,
        }
    }

    /// Reuses `token` from an earlier call; the gateway refusing it renews
    /// it like any token.
    #[must_use]
    pub fn resuming(mut self, token: Option<Token>) -> Self {
        self.token = token;
        self
    }

    /// The connection's settings.
    pub fn config(&self) -> &JdyConfig {
        &self.config
    }

    /// The app-token the client holds now, if any.
    pub fn token(&self) -> Option<&Token> {
        self.token.as_ref()
    }

    /// Fetches an app-token.
    ///
    /// # Errors
    /// `auth` naming the refused credential; `transient` when the gateway
    /// cannot be reached.
    pub fn fetch_token(&mut self) -> Result<Token> {
        let request = token::with_call(&self.config, |call| {
            gateway::request(
                &self.config,
                call,
                None,
                clock::now_unix_millis(),
                clock::nonce(),
            )
        })?;
        let response = self.transport.send(request)?;
        let token = token::token_from(gateway::interpret(&response)?)?;
        self.token = Some(token.clone());
        Ok(token)
    }

    /// Makes a business call with the app-token.
    ///
    /// # Errors
    /// Token and transport failures; 金蝶云星辰's own answer, failures
    /// included, is the `Ok` value.
    pub fn call(&mut self, call: Call<'_>) -> Result<Answer> {
        let token = match self.token.clone() {
            Some(token) => token,
            None => self.fetch_token()?,
        };
        let answer = self.send(call, &token)?;
        if !matches!(
            answer,
            Answer::Failed {
                errcode: gateway::TOKEN_REFUSED,
                ..
            }
        ) {
            return Ok(answer);
        }
        log::info(
            "金蝶云星辰 refused the app-token; fetching a new one",
            &[("path", call.path)],
        );
        self.token = None;
        let token = self.fetch_token()?;
        self.send(call, &token)
    }

    fn send(&mut self, call: Call<'_>, token: &Token) -> Result<Answer> {
        let request = gateway::request(
            &self.config,
            call,
            Some(token),
            clock::now_unix_millis(),
            clock::nonce(),
        )?;
        let response = self.transport.send(request)?;
        gateway::interpret(&response).map_err(|e| e.context(call.path))
    }
}

#[cfg(test)]
pub mod tests {
    //! A scripted transport shared by the crate's tests.

    use super::*;
    use serde_json::{Value, json};
    use weft_plugin_sdk::Error;
    use weft_plugin_sdk::http::{Request, Response};

    /// A request as sent: URL, headers, JSON body.
    pub type Sent = (String, Vec<(String, String)>, Value);

    /// Answers each request with the first script entry whose path the URL
    /// contains, consuming it; records what was sent.
    #[derive(Debug, Default)]
    pub struct Script {
        /// (path, status, body) in order.
        pub replies: Vec<(&'static str, u16, Value)>,
        /// What was sent: (url, headers, body).
        pub sent: Vec<Sent>,
    }

    impl Script {
        pub fn new(replies: Vec<(&'static str, u16, Value)>) -> Self {
            Self {
                replies,
                sent: Vec::new(),
            }
        }
    }

    impl Transport for &mut Script {
        fn send(&mut self, request: Request) -> Result<Response> {
            let body: Value = serde_json::from_slice(request.body_bytes().unwrap_or_default())
                .unwrap_or(Value::Null);
            self.sent
                .push((request.url().to_owned(), request.headers().to_vec(), body));
            let path_of = |url: &str| url.split('?').next().unwrap_or(url).to_owned();
            let url = path_of(request.url());
            let Some(position) = self
                .replies
                .iter()
                .position(|(path, _, _)| url.ends_with(path))
            else {
                return Err(Error::transient(format!("no scripted reply for {url}")));
            };
            let (_, status, reply) = self.replies.remove(position);
            Ok(Response {
                status,
                headers: vec![],
                body: serde_json::to_vec(&reply).unwrap_or_default(),
            })
        }
    }

    pub fn config() -> JdyConfig {
        serde_json::from_value(json!({
            "base_url": "http://127.0.0.1:9", "client_id": "weft-jdy-client",
            "client_secret": "f2adcfef73369bfc4e1384677d38a0ff", "app_key": "weftJdyKey",
            "app_secret": "weft-jdy-app-secret"
        }))
        .expect("config")
    }

    pub fn granted(token: &str) -> (&'static str, u16, Value) {
        (
            token::PATH,
            200,
            json!({"errcode":0,"description":"成功","data":{"access_token":"a","app-token":token,"domain":"http://127.0.0.1:9"}}),
        )
    }

    #[test]
    fn a_refused_token_is_fetched_again_once() {
        let refused =
            json!({"errcode":1010002,"description":"授权密钥校验失败，请获取最新密钥加密"});
        let mut script = Script::new(vec![
            granted("t1"),
            ("/jdy/v2/scm/pur_return", 200, refused),
            granted("t2"),
            (
                "/jdy/v2/scm/pur_return",
                200,
                json!({"errcode":0,"data":{"id":"9"}}),
            ),
        ]);
        let mut api = OpenApi::new(&mut script, config());
        let body = json!({"billno":"R1"});
        let call = Call {
            method: weft_plugin_sdk::http::Method::Post,
            path: "/jdy/v2/scm/pur_return",
            query: &[],
            body: Some(&body),
        };
        assert_eq!(api.call(call), Ok(Answer::Data(json!({"id":"9"}))));
        let tokens: Vec<Option<String>> = script
            .sent
            .iter()
            .map(|(_, h, _)| {
                h.iter()
                    .find(|(k, _)| k == "app-token")
                    .map(|(_, v)| v.clone())
            })
            .collect();
        assert_eq!(
            tokens,
            vec![None, Some("t1".to_owned()), None, Some("t2".to_owned())]
        );
        assert!(
            script.sent[0]
                .0
                .contains("app_key=weftJdyKey&app_signature=")
        );
    }
}
