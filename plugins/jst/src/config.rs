//! The settings of a 聚水潭 connection.

use serde::Deserialize;
use weft_plugin_sdk::Field;

/// Production origin; the test environment is `https://dev-api.jushuitan.com`.
pub const DEFAULT_BASE_URL: &str = "https://openapi.jushuitan.com";
/// Where a self-built (自研) app exchanges its authorization code.
/// UNCONFIRMED: see docs/protocol-choices.md (ISV apps may use
/// `/openWeb/auth/accessToken`).
pub const DEFAULT_TOKEN_PATH: &str = "/openWeb/auth/getInitToken";

/// A connection, as `Context::config` decodes it.
#[derive(Debug, Clone, Deserialize)]
pub struct JstConfig {
    /// The origin the `/open/...` paths hang under.
    #[serde(default = "default_base_url")]
    pub base_url: String,
    /// The app key.
    pub app_key: String,
    /// The app secret.
    pub app_secret: String,
    /// An access token, when the tenant has one.
    #[serde(default)]
    pub access_token: Option<String>,
    /// An authorization code to exchange for a token.
    #[serde(default)]
    pub code: Option<String>,
    /// The token endpoint's path.
    #[serde(default = "default_token_path")]
    pub token_path: String,
}

fn default_base_url() -> String {
    DEFAULT_BASE_URL.to_owned()
}

fn default_token_path() -> String {
    DEFAULT_TOKEN_PATH.to_owned()
}

impl JstConfig {
    /// The URL of `path` (e.g. `/open/refund/single/query`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url.trim_end_matches('/'))
    }

    /// The access token set on the connection, if any.
    pub fn access_token(&self) -> Option<&str> {
        self.access_token.as_deref().filter(|t| !t.is_empty())
    }

    /// The authorization code set on the connection, if any.
    pub fn code(&self) -> Option<&str> {
        self.code.as_deref().filter(|c| !c.is_empty())
    }
}

/// The connection fields `describe()` declares.
pub fn fields() -> Vec<Field> {
    vec![
        Field::url("base_url", "API base URL")
            .description(
                "https://openapi.jushuitan.com in production, https://dev-api.jushuitan.com for the test \
                 environment.",
            )
            .default_value(DEFAULT_BASE_URL),
        Field::text("app_key", "App key")
            .description("The app key from 聚水潭's open platform.")
            .required(),
        Field::text("app_secret", "App secret")
            .description("The app secret; it signs every request.")
            .required()
            .secret(),
        Field::text("access_token", "Access token")
            .description(
                "The tenant's access token. Leave empty to exchange the authorization code below for one.",
            )
            .secret(),
        Field::text("code", "Authorization code")
            .description(
                "An authorization code (grant_type=authorization_code) exchanged for an access token when \
                 no token is set, or when the token has expired.",
            )
            .secret(),
        Field::text("token_path", "Token endpoint path")
            .description("Path of the code exchange under base_url.")
            .default_value(DEFAULT_TOKEN_PATH),
    ]
}
