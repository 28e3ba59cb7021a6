//! The K3Cloud WebAPI client of one call batch: JSON `POST`s to the
//! services, authenticated by session (log in once, send the cookie, log in
//! again once when K3 says the session is lost) or by the signed X-Api /
//! X-Kd headers.

use serde::Serialize;
use serde_json::Value;
use weft_plugin_sdk::http::{Request, Response, Transport, classify_status};
use weft_plugin_sdk::{Error, Result, log};
use weft_signing::clock;
use weft_signing::k3cloud::AppCredentials;

use crate::config::{AuthMode, K3Config};
use crate::login::{self, Session};
use crate::response_status::ResponseStatus;
use crate::service;

/// A client for one call: its session may come from an earlier call of the
/// same batch (see [`crate::session_cache`]) and is handed back after.
#[derive(Debug)]
pub struct Client<T> {
    transport: T,
    config: K3Config,
    session: Option<Session>,
}

impl<T: Transport> Client<T> {
    /// A client that has not logged in yet.
    pub fn new(transport: T, config: K3Config) -> Self {
        Self {
            transport,
            config,
            session: None,
        }
    }

    /// Reuses `session` from an earlier call; K3 telling it is lost
    /// renews it like any session.
    #[must_use]
    pub fn resuming(mut self, session: Option<Session>) -> Self {
        self.session = session;
        self
    }

    /// The connection's settings.
    pub fn config(&self) -> &K3Config {
        &self.config
    }

    /// The session the client holds now, if any.
    pub fn session(&self) -> Option<&Session> {
        self.session.as_ref()
    }

    /// Logs in (session mode; signed mode has no login).
    ///
    /// # Errors
    /// `auth` with K3's message for refused credentials; `transient` when
    /// K3 cannot be reached.
    pub fn log_in(&mut self) -> Result<()> {
        if self.config.auth_mode == AuthMode::Signed {
            return Ok(());
        }
        let (service, body) = login::request(&self.config, clock::now_unix_secs())?;
        let request = Request::post(self.config.url(service)).json(&body)?;
        let response = self.transport.send(request)?;
        let reply = read_reply(&response)?;
        self.session = Some(login::session_from(&response, &reply)?);
        Ok(())
    }

    /// Calls `service` with `body` and returns K3's answer (its business
    /// errors included: the caller reads `ResponseStatus`). A lost session
    /// is renewed once.
    ///
    /// # Errors
    /// `auth` when the session cannot be had or is lost again; transport
    /// failures classified by [`read_reply`].
    pub fn call<B: Serialize + ?Sized>(&mut self, service: &str, body: &B) -> Result<Value> {
        self.call_json(service, &serde_json::to_vec(body)?)
    }

    /// [`call`](Self::call) with the body already written as JSON (a save
    /// splices its models into the body as the text they came as).
    ///
    /// # Errors
    /// As [`call`](Self::call).
    pub fn call_json(&mut self, service: &str, body: &[u8]) -> Result<Value> {
        if self.config.auth_mode == AuthMode::Signed {
            let reply = self.send(service, body)?;
            return match ResponseStatus::lost_session(&reply) {
                Some(status) => Err(Error::auth(format!(
                    "金蝶云星空 refused the signed call ({}); check appid, appsecret, acctid and username",
                    status.messages()
                ))),
                None => Ok(reply),
            };
        }
        if self.session.is_none() {
            self.log_in()?;
        }
        let reply = self.send(service, body)?;
        if ResponseStatus::lost_session(&reply).is_none() {
            return Ok(reply);
        }
        log::info(
            "金蝶云星空 lost the session; logging in again",
            &[("service", service)],
        );
        self.session = None;
        self.log_in()?;
        let reply = self.send(service, body)?;
        match ResponseStatus::lost_session(&reply) {
            Some(status) => Err(Error::auth(format!(
                "金蝶云星空 lost the session again right after a login: {}",
                status.messages()
            ))),
            None => Ok(reply),
        }
    }

    fn send(&mut self, service: &str, body: &[u8]) -> Result<Value> {
        let url = self.config.url(service);
        let mut request = Request::post(&url)
            .json_text(body)
            .header("accept-charset", "utf-8");
        match (&self.session, self.config.auth_mode) {
            (_, AuthMode::Signed) => {
                let (app_id, app_secret) = self.config.app()?;
                let credentials = AppCredentials {
                    app_id,
                    app_secret,
                    acct_id: &self.config.acctid,
                    user_name: &self.config.username,
                    lcid: self.config.lcid,
                    org_num: self.config.org_num,
                };
                // Unix seconds, as the Python SDK sends them.
                let timestamp = clock::now_unix_secs().to_string();
                for (name, value) in credentials.headers(service::url_path(&url), &timestamp) {
                    request = request.header(name, value);
                }
            }
            (Some(session), AuthMode::Session) => {
                request = request
                    .header("cookie", session.cookie.as_str())
                    .header("kdservice-sessionid", session.session_id.as_str());
            }
            (None, AuthMode::Session) => {}
        }
        let response = self.transport.send(request)?;
        read_reply(&response).map_err(|e| e.context(service_name(service)))
    }
}

/// The short name of a service for messages (`Save`, `BatchSave`).
fn service_name(service: &str) -> &str {
    service.rsplit('.').next().unwrap_or(service)
}

/// The JSON of an answer.
///
/// # Errors
/// The HTTP class of a non-2xx status; `transient` for the SDKs'
/// transport failure (`response_error:`) and for a body that is not JSON.
pub fn read_reply(response: &Response) -> Result<Value> {
    if !(200..300).contains(&response.status) {
        return Err(classify_status(
            response.status,
            response.header("retry-after"),
            &response.body,
        ));
    }
    if response
        .body
        .trim_ascii_start()
        .starts_with(b"response_error:")
    {
        return Err(Error::transient(format!("金蝶云星空: {}", response.text())));
    }
    response.json()
}

#[cfg(test)]
pub mod tests {
    //! A scripted transport shared by the crate's tests.

    use super::*;
    use serde_json::json;

    /// A request as sent: URL, headers, JSON body.
    pub type Sent = (String, Vec<(String, String)>, Value);

    /// Answers each request with the first script entry whose service
    /// name the URL contains, consuming it; records what was sent.
    #[derive(Debug, Default)]
    pub struct Script {
        /// (service suffix, status, set-cookie lines, body) in order.
        pub replies: Vec<(&'static str, Vec<&'static str>, Value)>,
        /// What was sent: (url, headers, body).
        pub sent: Vec<Sent>,
    }

    impl Script {
        pub fn new(replies: Vec<(&'static str, Vec<&'static str>, Value)>) -> Self {
            Self {
                replies,
                sent: Vec::new(),
            }
        }

        /// The bodies sent to a service, in order.
        pub fn bodies(&self, service: &str) -> Vec<Value> {
            let suffix = format!(".{service}.common.kdsvc");
            self.sent
                .iter()
                .filter(|(u, _, _)| u.ends_with(&suffix))
                .map(|(_, _, b)| b.clone())
                .collect()
        }
    }

    impl Transport for &mut Script {
        fn send(&mut self, request: Request) -> Result<Response> {
            let body: Value = serde_json::from_slice(request.body_bytes().unwrap_or_default())
                .unwrap_or(Value::Null);
            self.sent
                .push((request.url().to_owned(), request.headers().to_vec(), body));
            let position = self.replies.iter().position(|(service, _, _)| {
                request.url().ends_with(&format!(".{service}.common.kdsvc"))
            });
            let Some(position) = position else {
                return Err(Error::transient(format!(
                    "no scripted reply for {}",
                    request.url()
                )));
            };
            let (_, cookies, reply) = self.replies.remove(position);
            Ok(Response {
                status: 200,
                headers: cookies
                    .into_iter()
                    .map(|c| ("set-cookie".to_owned(), c.to_owned()))
                    .collect(),
                body: serde_json::to_vec(&reply).unwrap_or_default(),
            })
        }
    }

    pub fn session_config() -> K3Config {
        serde_json::from_value(json!({
            "base_url": "http://127.0.0.1:9/k3cloud/", "acctid": "weft-dc",
            "username": "administrator", "password": "888888"
        }))
        .expect("config")
    }

    pub fn logged_in() -> (&'static str, Vec<&'static str>, Value) {
        (
            "ValidateUser",
            vec!["kdservice-sessionid=sid-1; path=/"],
            json!({"LoginResultType":1,"KDSVCSessionId":"sid-1","IsSuccessByAPI":true}),
        )
    }

    pub fn lost() -> Value {
        json!({"Result":{"ResponseStatus":{"ErrorCode":500,"IsSuccess":false,"MsgCode":1,
            "Errors":[{"FieldName":null,"Message":"会话信息已丢失，请重新登录","DIndex":0}]}}})
    }

    #[test]
    fn calls_carry_the_session_cookie() {
        let mut script = Script::new(vec![logged_in(), ("ExecuteBillQuery", vec![], json!([]))]);
        let mut client = Client::new(&mut script, session_config());
        assert_eq!(
            client.call(service::EXECUTE_BILL_QUERY, &json!({"data":{}})),
            Ok(json!([]))
        );
        let (url, headers, _) = &script.sent[1];
        assert!(url.ends_with("/k3cloud/Kingdee.BOS.WebApi.ServicesStub.DynamicFormService.ExecuteBillQuery.common.kdsvc"));
        assert!(headers.contains(&("cookie".to_owned(), "kdservice-sessionid=sid-1".to_owned())));
        assert!(headers.contains(&("kdservice-sessionid".to_owned(), "sid-1".to_owned())));
    }

    #[test]
    fn a_lost_session_is_renewed_once() {
        let mut script = Script::new(vec![
            logged_in(),
            ("ExecuteBillQuery", vec![], lost()),
            logged_in(),
            ("ExecuteBillQuery", vec![], json!([["1"]])),
        ]);
        let mut client = Client::new(&mut script, session_config());
        assert_eq!(
            client.call(service::EXECUTE_BILL_QUERY, &json!({})),
            Ok(json!([["1"]]))
        );
        assert_eq!(script.bodies("ValidateUser").len(), 2);
    }

    #[test]
    fn a_session_lost_twice_is_an_auth_error() {
        let mut script = Script::new(vec![
            logged_in(),
            ("ExecuteBillQuery", vec![], lost()),
            logged_in(),
            ("ExecuteBillQuery", vec![], lost()),
        ]);
        let mut client = Client::new(&mut script, session_config());
        assert_eq!(
            client
                .call(service::EXECUTE_BILL_QUERY, &json!({}))
                .err()
                .map(|e| e.class()),
            Some("auth")
        );
    }

    #[test]
    fn signed_calls_carry_the_sdk_headers_and_no_login() {
        let config: K3Config = serde_json::from_value(json!({
            "base_url": "http://127.0.0.1:9/k3cloud/", "auth_mode": "signed", "acctid": "weft-dc",
            "username": "administrator", "appid": "203502_5f6p2avOzuDXX5XE617sywzt7Nw7Roru",
            "appsecret": "2825766ee71f4002b24d78b6b9a9bc53"
        }))
        .expect("config");
        let mut script = Script::new(vec![(
            "Save",
            vec![],
            json!({"Result":{"ResponseStatus":{"IsSuccess":true}}}),
        )]);
        let mut client = Client::new(&mut script, config);
        assert!(client.call(service::SAVE, &json!({})).is_ok());
        assert_eq!(script.sent.len(), 1);
        let headers = &script.sent[0].1;
        let get = |n: &str| {
            headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(n))
                .map(|(_, v)| v.clone())
        };
        assert_eq!(get("X-Api-ClientID").as_deref(), Some("203502"));
        assert_eq!(
            get("X-Kd-Appdata").as_deref(),
            Some("d2VmdC1kYyxhZG1pbmlzdHJhdG9yLDIwNTIsMA==")
        );
        assert!(get("X-Api-Signature").is_some());
        assert_eq!(get("x-api-nonce"), get("x-api-timestamp"));
    }

    #[test]
    fn a_refused_signed_call_is_an_auth_error() {
        let config: K3Config = serde_json::from_value(json!({
            "auth_mode": "signed", "acctid": "a", "username": "u", "appid": "1_x", "appsecret": "s"
        }))
        .expect("config");
        let mut script = Script::new(vec![("Save", vec![], lost())]);
        let mut client = Client::new(&mut script, config);
        assert_eq!(
            client
                .call(service::SAVE, &json!({}))
                .err()
                .map(|e| e.class()),
            Some("auth")
        );
    }

    #[test]
    fn transport_failures_are_transient() {
        let r = Response {
            status: 200,
            headers: vec![],
            body: b"response_error: timeout".to_vec(),
        };
        assert_eq!(read_reply(&r).err().map(|e| e.class()), Some("transient"));
        let r = Response {
            status: 500,
            headers: vec![],
            body: vec![],
        };
        assert_eq!(read_reply(&r).err().map(|e| e.class()), Some("transient"));
    }
}
