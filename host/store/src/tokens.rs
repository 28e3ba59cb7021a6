//! API tokens of tenants: what a client of `weft serve` shows to act for
//! one tenant. A token is shown once, when it is issued; the store keeps
//! only its SHA-256, so neither a copy of the database nor a log of it
//! lets anyone in.

use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::{SqliteStore, StoreError, now};

/// Every tenant token starts with this, so a leaked one is recognisable
/// (secret scanners, logs) and never mistaken for another credential.
pub const TOKEN_PREFIX: &str = "weft_t_";

/// A token as listed: never the token itself.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiToken {
    /// Its id, to revoke it by.
    pub id: String,
    /// The tenant it acts for.
    pub tenant: String,
    /// What the user called it.
    pub label: String,
    /// When it was issued.
    pub created_at: String,
}

/// A token just issued: the only time its value exists outside the client.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct IssuedToken {
    /// What was stored.
    #[serde(flatten)]
    pub token: ApiToken,
    /// The bearer value.
    pub secret: String,
}

/// The hex SHA-256 a token is stored and found by.
pub fn token_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

fn random_hex(bytes: usize) -> Result<String, StoreError> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(|e| StoreError::Secret(format!("no randomness: {e}")))?;
    Ok(hex::encode(buf))
}

impl SqliteStore {
    /// Issues a token for `tenant`.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown tenant; database errors.
    pub fn issue_token(&self, tenant: &str, label: &str) -> Result<IssuedToken, StoreError> {
        self.tenant(tenant)?;
        let token = ApiToken {
            id: format!("tok_{}", random_hex(6)?),
            tenant: tenant.to_owned(),
            label: label.to_owned(),
            created_at: now(),
        };
        // 256 random bits: guessing is out of the question, so a plain hash
        // (not a slow password hash) is the right way to keep it.
        let secret = format!("{TOKEN_PREFIX}{}", random_hex(32)?);
        self.db().execute(
            "INSERT INTO api_tokens (id, tenant, hash, label, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![token.id, token.tenant, token_hash(&secret), token.label, token.created_at],
        )?;
        Ok(IssuedToken { token, secret })
    }

    /// The tenant a token acts for, if it is one of ours.
    ///
    /// # Errors
    /// Database errors.
    pub fn token_tenant(&self, secret: &str) -> Result<Option<String>, StoreError> {
        if !secret.starts_with(TOKEN_PREFIX) {
            return Ok(None);
        }
        Ok(self
            .reader()
            .query_row(
                "SELECT tenant FROM api_tokens WHERE hash = ?1",
                [token_hash(secret)],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// A tenant's tokens, oldest first.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown tenant; database errors.
    pub fn tokens(&self, tenant: &str) -> Result<Vec<ApiToken>, StoreError> {
        self.tenant(tenant)?;
        let db = self.db();
        let mut stmt = db.prepare(
            "SELECT id, tenant, label, created_at FROM api_tokens WHERE tenant = ?1 ORDER BY created_at, id",
        )?;
        let rows = stmt.query_map([tenant], |r| {
            Ok(ApiToken {
                id: r.get(0)?,
                tenant: r.get(1)?,
                label: r.get(2)?,
                created_at: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Revokes one of a tenant's tokens.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when the tenant has no such token.
    pub fn revoke_token(&self, tenant: &str, id: &str) -> Result<(), StoreError> {
        let n = self.db().execute(
            "DELETE FROM api_tokens WHERE tenant = ?1 AND id = ?2",
            params![tenant, id],
        )?;
        if n == 0 {
            return Err(StoreError::NotFound(format!(
                "token '{id}' of tenant '{tenant}'"
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (tempfile::TempDir, SqliteStore) {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = SqliteStore::open(dir.path()).expect("store opens");
        store.add_tenant("acme", "").expect("tenant");
        store.add_tenant("globex", "").expect("tenant");
        (dir, store)
    }

    #[test]
    fn a_token_acts_for_its_tenant_only_until_revoked() {
        let (_dir, store) = store();
        let issued = store.issue_token("acme", "ci").expect("issued");
        assert!(issued.secret.starts_with(TOKEN_PREFIX));
        assert_eq!(
            store.token_tenant(&issued.secret).expect("lookup"),
            Some("acme".into())
        );
        // Neither a near miss nor the stored hash is a token.
        let mut wrong = issued.secret.clone();
        wrong.pop();
        wrong.push('x');
        assert_eq!(store.token_tenant(&wrong).expect("lookup"), None);
        assert_eq!(
            store
                .token_tenant(&token_hash(&issued.secret))
                .expect("lookup"),
            None
        );
        assert_eq!(
            store.tokens("acme").expect("list"),
            vec![issued.token.clone()]
        );
        assert!(store.tokens("globex").expect("list").is_empty());
        assert!(matches!(
            store.revoke_token("globex", &issued.token.id),
            Err(StoreError::NotFound(_))
        ));
        store
            .revoke_token("acme", &issued.token.id)
            .expect("revoked");
        assert_eq!(store.token_tenant(&issued.secret).expect("lookup"), None);
    }

    #[test]
    fn the_secret_is_not_stored() {
        let (dir, store) = store();
        let issued = store.issue_token("acme", "").expect("issued");
        drop(store);
        let bytes = std::fs::read(dir.path().join("weft.db")).expect("db file");
        let wal = std::fs::read(dir.path().join("weft.db-wal")).unwrap_or_default();
        let needle = issued.secret.as_bytes();
        for file in [&bytes, &wal] {
            assert!(!file.windows(needle.len()).any(|w| w == needle));
        }
        assert!(matches!(
            store_issue_unknown(&dir),
            Err(StoreError::NotFound(_))
        ));
    }

    fn store_issue_unknown(dir: &tempfile::TempDir) -> Result<IssuedToken, StoreError> {
        SqliteStore::open(dir.path())
            .expect("reopens")
            .issue_token("nobody", "")
    }
}
