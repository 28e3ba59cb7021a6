//! Who is calling: the admin (one token, given to `weft serve`) or a
//! tenant (tokens issued per tenant, stored hashed). A tenant's token acts
//! for that tenant only; anything of another tenant does not exist for it
//! (404, never 403: a tenant cannot probe which tenants exist).

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use sha2::{Digest, Sha256};

use crate::error::ApiError;
use crate::state::AppState;

/// The caller of an API route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// The admin: every tenant, plugin installs, new tenants.
    Admin,
    /// One tenant.
    Tenant(String),
}

/// The SHA-256 of the admin token, which is all the service keeps of it.
#[derive(Clone)]
pub(crate) struct AdminToken([u8; 32]);

impl std::fmt::Debug for AdminToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AdminToken(***)")
    }
}

impl AdminToken {
    pub(crate) fn new(token: &str) -> Self {
        Self(Sha256::digest(token.as_bytes()).into())
    }

    /// Compares digests, not the token: the time taken says nothing about
    /// how much of a guess was right.
    fn matches(&self, presented: &str) -> bool {
        let digest: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        digest
            .iter()
            .zip(self.0.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
    }
}

impl Caller {
    /// Requires the admin.
    ///
    /// # Errors
    /// 403 for a tenant's token.
    pub fn admin(&self) -> Result<(), ApiError> {
        match self {
            Self::Admin => Ok(()),
            Self::Tenant(_) => Err(ApiError::forbidden(
                "this needs the admin token; a tenant's token cannot do it",
            )),
        }
    }

    /// Whether the caller may act for `tenant` (without checking that the
    /// tenant exists).
    pub fn may_act_for(&self, tenant: &str) -> bool {
        match self {
            Self::Admin => true,
            Self::Tenant(own) => own == tenant,
        }
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Some(value) = parts.headers.get(header::AUTHORIZATION) else {
            return Err(ApiError::unauthorized(
                "send a token: `Authorization: Bearer <token>`",
            ));
        };
        let token = value
            .to_str()
            .ok()
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                ApiError::unauthorized("the Authorization header must be `Bearer <token>`")
            })?;
        if state.admin.as_ref().is_some_and(|a| a.matches(token)) {
            return Ok(Self::Admin);
        }
        let presented = token.to_owned();
        let tenant = state
            .blocking(move |store| store.token_tenant(&presented))
            .await?;
        tenant.map(Self::Tenant).ok_or_else(|| {
            ApiError::unauthorized("the token is not valid (revoked, or never issued)")
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_admin_token_matches_only_itself() {
        let admin = AdminToken::new("s3cret-admin");
        assert!(admin.matches("s3cret-admin"));
        assert!(!admin.matches("s3cret-admin "));
        assert!(!admin.matches(""));
        assert_eq!(format!("{admin:?}"), "AdminToken(***)");
    }

    #[test]
    fn a_tenant_acts_for_itself_only() {
        let acme = Caller::Tenant("acme".into());
        assert!(acme.may_act_for("acme"));
        assert!(!acme.may_act_for("globex"));
        assert!(acme.admin().is_err());
        assert!(Caller::Admin.may_act_for("globex"));
        assert!(Caller::Admin.admin().is_ok());
    }
}
