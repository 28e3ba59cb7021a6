//! The settings of a 金蝶云星空 connection, and which of the two ways to
//! authenticate it uses (PROTOCOLS.md §1.2).

use std::fmt::Display;
use std::str::FromStr;

use serde::{Deserialize, Deserializer};
use weft_plugin_sdk::{Error, Field, Result};

/// The old public gateway the Java SDK defaulted to. Private deployments
/// and 金蝶云星空 public cloud tenants use `https://{host}/k3cloud/`.
pub const DEFAULT_BASE_URL: &str = "https://api.kingdee.com/galaxyapi/";

/// How calls are authenticated.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthMode {
    /// Log in once per call batch (`AuthService.*`) and send the session
    /// cookie `kdservice-sessionid`.
    #[default]
    Session,
    /// Sign every call with the X-Api / X-Kd headers of the official SDK;
    /// no login.
    Signed,
}

/// The login service of session mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Login {
    /// `AuthService.ValidateUser`: user name and password.
    ValidateUser,
    /// `AuthService.LoginByAppSecret`: user name, appid and appsecret.
    AppSecret,
    /// `AuthService.LoginBySign`: user name, appid and a sha256 sign.
    Sign,
}

/// A connection, as `Context::config` decodes it.
#[derive(Debug, Clone, Deserialize)]
pub struct K3Config {
    /// The server URL, e.g. `https://erp.example.com/k3cloud/`.
    #[serde(default = "default_base_url")]
    pub base_url: String,
    /// `session` or `signed`.
    #[serde(default)]
    pub auth_mode: AuthMode,
    /// The login service in session mode; chosen from the fields given when
    /// absent.
    #[serde(default)]
    pub login: Option<Login>,
    /// The data center id (账套 ID, `acctId`).
    pub acctid: String,
    /// The user the calls run as.
    pub username: String,
    /// The user's password (ValidateUser).
    #[serde(default)]
    pub password: Option<String>,
    /// The third-party app id, `{clientId}_{secret}`.
    #[serde(default)]
    pub appid: Option<String>,
    /// The app secret.
    #[serde(default)]
    pub appsecret: Option<String>,
    /// The locale id.
    #[serde(default = "default_lcid", deserialize_with = "number_or_text")]
    pub lcid: u32,
    /// The organisation number signed into `X-Kd-Appdata`.
    #[serde(default, deserialize_with = "number_or_text")]
    pub org_num: i64,
}

fn default_base_url() -> String {
    DEFAULT_BASE_URL.to_owned()
}

fn default_lcid() -> u32 {
    2052
}

/// Integer fields arrive as JSON numbers or as text.
fn number_or_text<'de, D, T>(deserializer: D) -> std::result::Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: FromStr + Deserialize<'de>,
    T::Err: Display,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw<T> {
        Number(T),
        Text(String),
    }
    match Raw::<T>::deserialize(deserializer)? {
        Raw::Number(n) => Ok(n),
        Raw::Text(s) => s.trim().parse().map_err(serde::de::Error::custom),
    }
}

impl K3Config {
    /// The URL of a service, e.g.
    /// `…/k3cloud/Kingdee.BOS.WebApi.ServicesStub.DynamicFormService.Save.common.kdsvc`.
    pub fn url(&self, service: &str) -> String {
        format!(
            "{}/{service}.common.kdsvc",
            self.base_url.trim_end_matches('/')
        )
    }

    /// A non-empty optional setting.
    fn given(value: Option<&String>) -> Option<&str> {
        value.map(String::as_str).filter(|v| !v.is_empty())
    }

    /// The password, if set.
    pub fn password(&self) -> Option<&str> {
        Self::given(self.password.as_ref())
    }

    /// The app id and secret.
    ///
    /// # Errors
    /// `auth` naming the missing field.
    pub fn app(&self) -> Result<(&str, &str)> {
        let app_id = Self::given(self.appid.as_ref())
            .ok_or_else(|| Error::auth("the connection has no appid"))?;
        let app_secret = Self::given(self.appsecret.as_ref())
            .ok_or_else(|| Error::auth("the connection has no appsecret"))?;
        Ok((app_id, app_secret))
    }

    /// The login service session mode uses: the configured one, else
    /// ValidateUser with a password, else LoginByAppSecret.
    ///
    /// # Errors
    /// `auth` when the connection has neither a password nor an app.
    pub fn login(&self) -> Result<Login> {
        if let Some(login) = self.login {
            return Ok(login);
        }
        if self.password().is_some() {
            return Ok(Login::ValidateUser);
        }
        if self.app().is_ok() {
            return Ok(Login::AppSecret);
        }
        Err(Error::auth(
            "session login needs a password, or an appid and appsecret",
        ))
    }
}

/// The connection fields `describe()` declares.
pub fn fields() -> Vec<Field> {
    vec![
        Field::url("base_url", "Server URL")
            .description(
                "The K3Cloud server URL ending in /k3cloud/ (e.g. https://erp.example.com/k3cloud/ or \
                 https://tenant.ik3cloud.com/k3cloud/); services are {base_url}Kingdee.BOS.WebApi.….common.kdsvc.",
            )
            .default_value(DEFAULT_BASE_URL),
        Field::text("auth_mode", "Authentication")
            .description(
                "session: log in (ValidateUser with username/password, or LoginByAppSecret / LoginBySign \
                 with appid/appsecret) and send the session cookie; signed: sign every call with the \
                 X-Api/X-Kd headers of the official SDK (appid/appsecret), no login.",
            )
            .default_value("session"),
        Field::text("login", "Session login")
            .description(
                "validate_user, app_secret or sign; by default validate_user when a password is set, \
                 else app_secret.",
            ),
        Field::text("acctid", "Data center id (acctId)")
            .description("The 账套 (data center) id, from the login page or the management center.")
            .required(),
        Field::text("username", "User name")
            .description("The user the calls run as.")
            .required(),
        Field::text("password", "Password")
            .description("The user's password, for ValidateUser.")
            .secret(),
        Field::text("appid", "App id")
            .description("The third-party system's AppId ({clientId}_{secret}), from 第三方系统登录授权.")
            .secret(),
        Field::text("appsecret", "App secret")
            .description("The third-party system's AppSecret.")
            .secret(),
        Field::integer("lcid", "Locale id")
            .description("2052 simplified Chinese, 1033 English, 3076 traditional Chinese.")
            .default_value("2052"),
        Field::integer("org_num", "Organisation number")
            .description("The organisation signed into X-Kd-Appdata in signed mode; 0 for the default.")
            .default_value("0"),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn config(v: serde_json::Value) -> K3Config {
        serde_json::from_value(v).expect("config")
    }

    #[test]
    fn defaults_and_numbers_as_text() {
        let c = config(
            json!({"acctid":"weft-dc","username":"administrator","password":"888888","lcid":"1033"}),
        );
        assert_eq!(c.auth_mode, AuthMode::Session);
        assert_eq!(c.lcid, 1033);
        assert_eq!(c.org_num, 0);
        assert_eq!(c.login(), Ok(Login::ValidateUser));
        assert_eq!(
            c.url("Kingdee.BOS.WebApi.ServicesStub.AuthService.ValidateUser"),
            "https://api.kingdee.com/galaxyapi/Kingdee.BOS.WebApi.ServicesStub.AuthService.ValidateUser.common.kdsvc"
        );
    }

    #[test]
    fn the_login_follows_the_credentials() {
        let c = config(
            json!({"acctid":"a","username":"u","appid":"1_x","appsecret":"s","auth_mode":"signed"}),
        );
        assert_eq!(c.auth_mode, AuthMode::Signed);
        assert_eq!(c.login(), Ok(Login::AppSecret));
        let c = config(json!({"acctid":"a","username":"u"}));
        assert_eq!(c.login().err().map(|e| e.class()), Some("auth"));
        let c = config(json!({"acctid":"a","username":"u","login":"sign"}));
        assert_eq!(c.login(), Ok(Login::Sign));
    }
}
