//! The settings of a 旺店通·企业版 connection.

use serde::Deserialize;
use weft_plugin_sdk::Field;

/// Production openapi2 origin; the sandbox is `https://sandbox.wangdian.cn`.
pub const DEFAULT_BASE_URL: &str = "https://api.wangdian.cn";

/// A connection, as `Context::config` decodes it.
#[derive(Debug, Clone, Deserialize)]
pub struct WdtConfig {
    /// The origin the `/openapi2/{name}.php` paths hang under.
    #[serde(default = "default_base_url")]
    pub base_url: String,
    /// 卖家账号.
    pub sid: String,
    /// 接口账号.
    pub appkey: String,
    /// 接口秘钥.
    pub appsecret: String,
}

fn default_base_url() -> String {
    DEFAULT_BASE_URL.to_owned()
}

impl WdtConfig {
    /// The URL of the openapi2 endpoint `name`, e.g. `trade_push`.
    pub fn url(&self, name: &str) -> String {
        format!(
            "{}/openapi2/{name}.php",
            self.base_url.trim_end_matches('/')
        )
    }
}

/// The connection fields `describe()` declares.
pub fn fields() -> [Field; 4] {
    [
        Field::url("base_url", "API base URL")
            .description(
                "Origin of the openapi2 endpoints (requests go to {base_url}/openapi2/{name}.php): \
                 https://api.wangdian.cn in production, https://sandbox.wangdian.cn for the sandbox.",
            )
            .default_value(DEFAULT_BASE_URL),
        Field::text("sid", "卖家账号 (sid)")
            .description("The seller account 旺店通 issued with the API access.")
            .required(),
        Field::text("appkey", "接口账号 (appkey)")
            .description("The API account from 旺店通's open platform.")
            .required(),
        Field::text("appsecret", "接口秘钥 (appsecret)")
            .description("The API secret that signs every request.")
            .required()
            .secret(),
    ]
}
