//! The app-token of a call batch, kept from one call to the next. The host
//! runs every call of a batch in one plugin instance, so the token is
//! fetched once per batch instead of once per call; a token the gateway
//! refuses in the meantime is renewed by [`crate::open_api::OpenApi::call`].
//! The contract calls such state a cache: a fresh instance simply fetches
//! a token again.

use std::sync::Mutex;

use crate::config::JdyConfig;
use crate::gateway::Token;

/// The token and the connection it was granted to.
static TOKEN: Mutex<Option<(String, Token)>> = Mutex::new(None);

/// What a token belongs to: the gateway, the client and the app.
fn owner(config: &JdyConfig) -> String {
    format!(
        "{}\n{}\n{}\n{}",
        config.base_url, config.client_id, config.app_key, config.app_secret
    )
}

/// The kept token of this connection, if any.
pub fn take(config: &JdyConfig) -> Option<Token> {
    let mut kept = TOKEN.lock().unwrap_or_else(|p| p.into_inner());
    match kept.take() {
        Some((key, token)) if key == owner(config) => Some(token),
        _ => None,
    }
}

/// Keeps `token` (or forgets the kept one) for the next call.
pub fn keep(config: &JdyConfig, token: Option<&Token>) {
    let mut kept = TOKEN.lock().unwrap_or_else(|p| p.into_inner());
    *kept = token.map(|t| (owner(config), t.clone()));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::open_api::tests::config;

    #[test]
    fn a_token_is_kept_for_its_own_connection_only() {
        let token = Token {
            app_token: "t1".to_owned(),
            domain: None,
        };
        keep(&config(), Some(&token));
        let mut other = config();
        other.app_key = "another-app".to_owned();
        assert_eq!(take(&other), None);
        keep(&config(), Some(&token));
        assert_eq!(take(&config()), Some(token));
        assert_eq!(take(&config()), None, "taken once");
    }
}
