//! The settings of a 金蝶云星辰 connection.

use serde::Deserialize;
use weft_plugin_sdk::Field;

/// The Kingdee API gateway.
pub const DEFAULT_BASE_URL: &str = "https://api.kingdee.com";
/// Where a purchase return is saved. UNCONFIRMED: see
/// docs/protocol-choices.md (the record names `jdy/pur/pur_rtn_save`, no
/// stored source gives its v2 path).
pub const DEFAULT_PUR_RETURN_PATH: &str = "/jdy/v2/scm/pur_return";

/// A connection, as `Context::config` decodes it.
#[derive(Debug, Clone, Deserialize)]
pub struct JdyConfig {
    /// The gateway origin.
    #[serde(default = "default_base_url")]
    pub base_url: String,
    /// `X-Api-ClientID`.
    pub client_id: String,
    /// The client secret that signs every call.
    pub client_secret: String,
    /// The app key of the authorised 金蝶云星辰 account.
    pub app_key: String,
    /// The app secret that signs `app_signature`.
    pub app_secret: String,
    /// The IDC domain for `X-GW-Router-Addr`, when the token reply has none.
    #[serde(default)]
    pub router_addr: Option<String>,
    /// The purchase-return save path.
    #[serde(default = "default_pur_return_path")]
    pub pur_return_path: String,
}

fn default_base_url() -> String {
    DEFAULT_BASE_URL.to_owned()
}

fn default_pur_return_path() -> String {
    DEFAULT_PUR_RETURN_PATH.to_owned()
}

impl JdyConfig {
    /// The URL of `path`, without a query.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url.trim_end_matches('/'))
    }
}

/// The connection fields `describe()` declares.
pub fn fields() -> Vec<Field> {
    vec![
        Field::url("base_url", "Gateway URL")
            .description("The Kingdee API gateway origin.")
            .default_value(DEFAULT_BASE_URL),
        Field::text("client_id", "Client id")
            .description("X-Api-ClientID of your app on open.jdy.com.")
            .required(),
        Field::text("client_secret", "Client secret")
            .description("The client secret of your app; it signs every call (X-Api-Signature).")
            .required()
            .secret(),
        Field::text("app_key", "App key")
            .description("The app key of the authorised 金蝶云星辰 account.")
            .required(),
        Field::text("app_secret", "App secret")
            .description("The app secret of the authorised account; it signs the token request.")
            .required()
            .secret(),
        Field::text("router_addr", "IDC domain")
            .description(
                "X-GW-Router-Addr (e.g. https://tf.jdy.com) when the token reply does not name the domain.",
            ),
        Field::text("pur_return_path", "Purchase-return save path")
            .description("Path of the purchase-return save API under the gateway.")
            .default_value(DEFAULT_PUR_RETURN_PATH),
    ]
}
