//! The session of a call batch, kept from one call to the next. The host
//! runs every call of a batch in one plugin instance, so a login is made
//! once per batch instead of once per call; a session K3 has dropped in
//! the meantime is renewed by [`crate::webapi::Client::call`]. The contract
//! calls such state a cache: a fresh instance simply logs in again.

use std::sync::Mutex;

use crate::config::K3Config;
use crate::login::Session;

/// The session and the connection it was made for.
static SESSION: Mutex<Option<(String, Session)>> = Mutex::new(None);

/// What a session belongs to: the server, the data center and the user,
/// and how they logged in.
fn owner(config: &K3Config) -> String {
    format!(
        "{}\n{}\n{}\n{:?}\n{:?}",
        config.base_url,
        config.acctid,
        config.username,
        config.login(),
        config.password()
    )
}

/// The kept session of this connection, if any.
pub fn take(config: &K3Config) -> Option<Session> {
    let mut kept = SESSION.lock().unwrap_or_else(|p| p.into_inner());
    match kept.take() {
        Some((key, session)) if key == owner(config) => Some(session),
        _ => None,
    }
}

/// Keeps `session` (or forgets the kept one) for the next call.
pub fn keep(config: &K3Config, session: Option<&Session>) {
    let mut kept = SESSION.lock().unwrap_or_else(|p| p.into_inner());
    *kept = session.map(|s| (owner(config), s.clone()));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::webapi::tests::session_config;

    #[test]
    fn a_session_is_kept_for_its_own_connection_only() {
        let config = session_config();
        let session = Session {
            cookie: "kdservice-sessionid=s1".to_owned(),
            session_id: "s1".to_owned(),
        };
        keep(&config, Some(&session));
        let mut other = config.clone();
        other.username = "someone-else".to_owned();
        assert_eq!(take(&other), None);
        keep(&config, Some(&session));
        assert_eq!(take(&config), Some(session));
        assert_eq!(take(&config), None, "taken once");
    }
}
