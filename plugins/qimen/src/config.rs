//! The settings of a 奇门 connection.

use serde::Deserialize;
use weft_plugin_sdk::{Error, Field, Result};
use weft_signing::top::SignMethod;

/// The 旺店通·企业版 custom-API router; 吉客云's is
/// `https://zci2vl4joy.api.taobao.com`.
pub const DEFAULT_BASE_URL: &str = "https://hu3cgwt0tc.api.taobao.com";
/// The custom-API path (`/router/qmtest` is the test gateway).
pub const DEFAULT_ROUTER_PATH: &str = "/router/qm";

/// A connection, as `Context::config` decodes it.
#[derive(Debug, Clone, Deserialize)]
pub struct QimenConfig {
    /// The router's origin.
    #[serde(default = "default_base_url")]
    pub base_url: String,
    /// The path of the router under `base_url`.
    #[serde(default = "default_router_path")]
    pub router_path: String,
    /// The caller's 奇门/TOP app key.
    pub app_key: String,
    /// The caller's app secret.
    pub app_secret: String,
    /// The ERP's app key on 奇门 (`target_app_key`).
    pub target_app_key: String,
    /// The routing id of the ERP tenant (`customerId`).
    #[serde(default)]
    pub customer_id: Option<String>,
    /// `md5`, `hmac` or `hmac-sha256`.
    #[serde(default = "default_sign_method")]
    pub sign_method: String,
    /// 旺店通 seller account (`sid`) sent with 旺店通 methods, when 旺店通 asks for it.
    #[serde(default)]
    pub wdt_sid: Option<String>,
    /// 旺店通 appkey sent with 旺店通 methods, when 旺店通 asks for it.
    #[serde(default)]
    pub wdt_appkey: Option<String>,
}

fn default_base_url() -> String {
    DEFAULT_BASE_URL.to_owned()
}

fn default_router_path() -> String {
    DEFAULT_ROUTER_PATH.to_owned()
}

fn default_sign_method() -> String {
    "md5".to_owned()
}

impl QimenConfig {
    /// The router URL, without the query.
    pub fn router_url(&self) -> String {
        let path = self.router_path.trim();
        let path = path.strip_prefix('/').unwrap_or(path);
        format!("{}/{path}", self.base_url.trim_end_matches('/'))
    }

    /// The configured signature method.
    ///
    /// # Errors
    /// `auth` naming the field when it is not one TOP knows.
    pub fn sign_method(&self) -> Result<SignMethod> {
        self.sign_method
            .parse()
            .map_err(|e: String| Error::auth(format!("connection field sign_method: {e}")))
    }
}

/// The connection fields `describe()` declares.
pub fn fields() -> Vec<Field> {
    vec![
        Field::url("base_url", "Router origin")
            .description(
                "Origin of the 奇门 custom-API router: https://hu3cgwt0tc.api.taobao.com for \
                 旺店通·企业版, https://zci2vl4joy.api.taobao.com for 吉客云.",
            )
            .default_value(DEFAULT_BASE_URL),
        Field::text("router_path", "Router path")
            .description("/router/qm in production, /router/qmtest for the test gateway.")
            .default_value(DEFAULT_ROUTER_PATH),
        Field::text("app_key", "App key")
            .description("Your 奇门/TOP application's app_key.")
            .required(),
        Field::text("app_secret", "App secret")
            .description("Your application's secret; it signs every call.")
            .required()
            .secret(),
        Field::text("target_app_key", "Target app key")
            .description("The ERP's app key on 奇门 (target_app_key), given by 旺店通 or 吉客云.")
            .required(),
        Field::text("customer_id", "Customer id")
            .description("The ERP tenant's routing id on 奇门 (customerId), sent when set."),
        Field::text("sign_method", "Sign method")
            .description("md5, hmac or hmac-sha256.")
            .default_value("md5"),
        Field::text("wdt_sid", "旺店通 sid")
            .description("旺店通 seller account, sent as sid with 旺店通 methods when your 旺店通 setup needs it."),
        Field::text("wdt_appkey", "旺店通 appkey")
            .description("旺店通 appkey, sent as appkey with 旺店通 methods when your 旺店通 setup needs it."),
    ]
}
