//! Session login (PROTOCOLS.md §1.2 A): `AuthService.ValidateUser`,
//! `LoginByAppSecret` or `LoginBySign`, answered with
//! `{"LoginResultType":1,"KDSVCSessionId":"..",..}` (1 success, 0 wrong
//! password, -1 failure) and the session cookie `kdservice-sessionid`.

use serde_json::{Value, json};
use weft_plugin_sdk::http::Response;
use weft_plugin_sdk::{Error, Result};
use weft_signing::k3cloud;

use crate::config::{K3Config, Login};
use crate::response_status::ResponseStatus;
use crate::service;

/// The service and JSON body of a login at `timestamp` (Unix seconds,
/// used by LoginBySign only).
///
/// # Errors
/// `auth` naming a credential the login needs and the connection lacks.
pub fn request(config: &K3Config, timestamp: i64) -> Result<(&'static str, Value)> {
    match config.login()? {
        // UNCONFIRMED: see docs/protocol-choices.md: named fields (the Go and
        // PHP clients) for ValidateUser and LoginByAppSecret; K3 also takes
        // the Java SDK's positional `parameters`.
        Login::ValidateUser => {
            let password = config
                .password()
                .ok_or_else(|| Error::auth("ValidateUser needs the connection's password"))?;
            Ok((
                service::VALIDATE_USER,
                json!({"acctid": config.acctid, "username": config.username, "password": password, "lcid": config.lcid}),
            ))
        }
        Login::AppSecret => {
            let (app_id, app_secret) = config.app()?;
            Ok((
                service::LOGIN_BY_APP_SECRET,
                json!({"acctid": config.acctid, "username": config.username, "appid": app_id, "appsecret": app_secret, "lcid": config.lcid}),
            ))
        }
        Login::Sign => {
            let (app_id, app_secret) = config.app()?;
            let sign = k3cloud::login_by_sign(
                &config.acctid,
                &config.username,
                app_id,
                app_secret,
                timestamp,
            );
            // The only documented form is positional.
            Ok((
                service::LOGIN_BY_SIGN,
                json!({"parameters": [config.acctid, config.username, app_id, timestamp, sign, config.lcid]}),
            ))
        }
    }
}

/// What a successful login gives the calls after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The `Cookie` header to send back.
    pub cookie: String,
    /// The `kdservice-sessionid` header to send back.
    pub session_id: String,
}

/// Reads a login answer.
///
/// # Errors
/// `auth` with K3's message when the login was refused; the class of the
/// `MsgCode` when K3 refused the call before any login (MsgCode 14: the
/// call limit, `rate-limited`); `transient` for an answer that is neither.
pub fn session_from(response: &Response, reply: &Value) -> Result<Session> {
    let result_type = reply.get("LoginResultType").and_then(Value::as_i64);
    if result_type.is_none()
        && let Some(status) = ResponseStatus::of(reply).filter(|s| !s.is_success)
    {
        // UNCONFIRMED: see docs/protocol-choices.md: a throttled login is
        // answered with the envelope of every other call.
        return Err(status.classify(&status.messages()));
    }
    if result_type != Some(1) {
        let message = reply
            .get("Message")
            .and_then(Value::as_str)
            .filter(|m| !m.is_empty())
            .unwrap_or("no message");
        return Err(match result_type {
            Some(0) => Error::auth(format!(
                "金蝶云星空 refused the login (LoginResultType 0, wrong user name or password): {message}"
            )),
            Some(code) => Error::auth(format!(
                "金蝶云星空 refused the login (LoginResultType {code}): {message}; check acctid, username \
                 and the password or appid/appsecret"
            )),
            None => Error::transient(format!(
                "金蝶云星空 answered the login without LoginResultType: {}",
                response.text()
            )),
        });
    }
    let cookies: Vec<&str> = response
        .header_values("set-cookie")
        .filter_map(|line| line.split(';').next())
        .map(str::trim)
        .filter(|pair| pair.contains('='))
        .collect();
    let from_cookie = cookies
        .iter()
        .find_map(|pair| pair.strip_prefix("kdservice-sessionid="));
    let from_body = reply.get("KDSVCSessionId").and_then(Value::as_str);
    let Some(session_id) = from_cookie.or(from_body).filter(|id| !id.is_empty()) else {
        return Err(Error::transient(
            "金蝶云星空 accepted the login but sent no session (no kdservice-sessionid cookie, no KDSVCSessionId)",
        ));
    };
    let cookie = if from_cookie.is_some() {
        cookies.join("; ")
    } else {
        format!("kdservice-sessionid={session_id}")
    };
    Ok(Session {
        cookie,
        session_id: session_id.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(v: Value) -> K3Config {
        serde_json::from_value(v).expect("config")
    }

    fn response(cookies: &[&str]) -> Response {
        Response {
            status: 200,
            headers: cookies
                .iter()
                .map(|c| ("set-cookie".to_owned(), (*c).to_owned()))
                .collect(),
            body: Vec::new(),
        }
    }

    #[test]
    fn validate_user_sends_named_fields() {
        let c = config(json!({"acctid":"weft-dc","username":"administrator","password":"888888"}));
        let (service, body) = request(&c, 0).expect("request");
        assert_eq!(service, service::VALIDATE_USER);
        assert_eq!(
            body,
            json!({"acctid":"weft-dc","username":"administrator","password":"888888","lcid":2052})
        );
    }

    /// The published LoginBySign vector, through the request builder.
    #[test]
    fn login_by_sign_is_positional_and_signed() {
        let c = config(
            json!({"acctid":"5dde42aa8b86d7","username":"yz","login":"sign",
            "appid":"203502_5f6p2avOzuDXX5XE617sywzt7Nw7Roru","appsecret":"2825766ee71f4002b24d78b6b9a9bc53"}),
        );
        let (service, body) = request(&c, 1_700_000_000).expect("request");
        assert_eq!(service, service::LOGIN_BY_SIGN);
        assert_eq!(
            body,
            json!({"parameters":["5dde42aa8b86d7","yz","203502_5f6p2avOzuDXX5XE617sywzt7Nw7Roru",1_700_000_000,
                "b7c57c90e0b8768e03bf4533a04595a54b4e390126cc14e91a3de43575a76f12",2052]})
        );
    }

    #[test]
    fn the_session_comes_from_the_cookie_or_the_body() {
        let ok = json!({"LoginResultType":1,"KDSVCSessionId":"body-sid","IsSuccessByAPI":true});
        let s = session_from(
            &response(&[
                "kdservice-sessionid=sid1; path=/",
                "ASP.NET_SessionId=asp; path=/; HttpOnly",
            ]),
            &ok,
        )
        .expect("session");
        assert_eq!(
            s,
            Session {
                cookie: "kdservice-sessionid=sid1; ASP.NET_SessionId=asp".to_owned(),
                session_id: "sid1".to_owned()
            }
        );
        let s = session_from(&response(&[]), &ok).expect("session");
        assert_eq!(s.cookie, "kdservice-sessionid=body-sid");
    }

    #[test]
    fn refused_logins_are_auth_errors() {
        let wrong = json!({"LoginResultType":0,"Message":"用户名或密码错误！"});
        assert_eq!(
            session_from(&response(&[]), &wrong).err().map(|e| e.to_string()),
            Some("auth: 金蝶云星空 refused the login (LoginResultType 0, wrong user name or password): 用户名或密码错误！".to_owned())
        );
        let failed = json!({"LoginResultType":-1,"Message":"数据中心不存在"});
        assert_eq!(
            session_from(&response(&[]), &failed)
                .err()
                .map(|e| e.class()),
            Some("auth")
        );
        assert_eq!(
            session_from(&response(&[]), &json!({}))
                .err()
                .map(|e| e.class()),
            Some("transient")
        );
        let limited = json!({"Result":{"ResponseStatus":{"ErrorCode":500,"IsSuccess":false,"MsgCode":14,
            "Errors":[{"FieldName":null,"Message":"调用频率超过限制，请稍后再试","DIndex":0}]}}});
        assert_eq!(
            session_from(&response(&[]), &limited)
                .err()
                .map(|e| e.to_string()),
            Some("rate-limited: 金蝶云星空 MsgCode 14: 调用频率超过限制，请稍后再试".to_owned())
        );
    }
}
