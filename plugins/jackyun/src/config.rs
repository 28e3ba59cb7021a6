//! The settings of a 吉客云 connection.

use serde::Deserialize;
use weft_plugin_sdk::Field;

/// Production origin of the open API.
pub const DEFAULT_BASE_URL: &str = "https://open.jackyun.com";
/// The one gateway path every method is posted to.
pub const GATEWAY_PATH: &str = "/open/openapi/do";

/// A connection, as `Context::config` decodes it.
#[derive(Debug, Clone, Deserialize)]
pub struct JackyunConfig {
    /// The origin `/open/openapi/do` hangs under.
    #[serde(default = "default_base_url")]
    pub base_url: String,
    /// The app key.
    pub appkey: String,
    /// The app secret.
    pub secret: String,
    /// The API version sent as `version`.
    #[serde(default = "default_version")]
    pub version: String,
}

fn default_base_url() -> String {
    DEFAULT_BASE_URL.to_owned()
}

fn default_version() -> String {
    "v1.0".to_owned()
}

impl JackyunConfig {
    /// The gateway URL.
    pub fn url(&self) -> String {
        format!("{}{GATEWAY_PATH}", self.base_url.trim_end_matches('/'))
    }
}

/// The connection fields `describe()` declares.
pub fn fields() -> Vec<Field> {
    vec![
        Field::url("base_url", "API base URL")
            .description("Origin of the open API; calls go to {base_url}/open/openapi/do.")
            .default_value(DEFAULT_BASE_URL),
        Field::text("appkey", "App key")
            .description("The appkey from 吉客云's open platform.")
            .required(),
        Field::text("secret", "App secret")
            .description("The app secret; it signs every request.")
            .required()
            .secret(),
        Field::text("version", "API version")
            .description("Sent as version: v1.0 (some tenants use 1.0).")
            .default_value("v1.0"),
    ]
}
