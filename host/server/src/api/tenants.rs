//! Tenants and their API tokens.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use weft_store::{ApiToken, IssuedToken, Tenant};

use super::{Body, tenant_scope};
use crate::api::ApiPath;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::state::AppState;

/// A new tenant.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTenant {
    /// Its id: 1-64 lowercase letters, digits, `-` and `_`.
    pub id: String,
    /// A human title (the id when empty).
    #[serde(default)]
    pub title: String,
}

/// A token to issue.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    /// What it is for (shown in lists).
    #[serde(default)]
    pub label: String,
}

/// Tenants: every one for the admin, its own for a tenant's token.
#[utoipa::path(get, path = "/api/v1/tenants", tag = "tenants",
    responses((status = 200, body = Vec<Tenant>), (status = 401, body = crate::error::ErrorBody)))]
pub(crate) async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<Tenant>>, ApiError> {
    let tenants = state.blocking(|s| s.tenants()).await?;
    Ok(Json(
        tenants
            .into_iter()
            .filter(|t| caller.may_act_for(&t.id))
            .collect(),
    ))
}

/// Adds a tenant (admin).
#[utoipa::path(post, path = "/api/v1/tenants", tag = "tenants", request_body = NewTenant,
    responses((status = 201, body = Tenant), (status = 403, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub(crate) async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Body(new): Body<NewTenant>,
) -> Result<(StatusCode, Json<Tenant>), ApiError> {
    caller.admin()?;
    let tenant = state
        .blocking(move |s| s.add_tenant(&new.id, &new.title))
        .await?;
    Ok((StatusCode::CREATED, Json(tenant)))
}

/// One tenant.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}", tag = "tenants",
    params(("tenant" = String, Path)),
    responses((status = 200, body = Tenant), (status = 404, body = crate::error::ErrorBody)))]
pub(crate) async fn get_one(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(tenant): ApiPath<String>,
) -> Result<Json<Tenant>, ApiError> {
    tenant_scope(&state, &caller, &tenant).await?;
    Ok(Json(state.blocking(move |s| s.tenant(&tenant)).await?))
}

/// A tenant's tokens (never their values).
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/tokens", tag = "tenants",
    params(("tenant" = String, Path)),
    responses((status = 200, body = Vec<ApiToken>), (status = 404, body = crate::error::ErrorBody)))]
pub(crate) async fn tokens(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(tenant): ApiPath<String>,
) -> Result<Json<Vec<ApiToken>>, ApiError> {
    tenant_scope(&state, &caller, &tenant).await?;
    Ok(Json(state.blocking(move |s| s.tokens(&tenant)).await?))
}

/// Issues a token for the tenant. Its value is in this answer only.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/tokens", tag = "tenants",
    params(("tenant" = String, Path)), request_body = NewToken,
    responses((status = 201, body = IssuedToken), (status = 404, body = crate::error::ErrorBody)))]
pub(crate) async fn issue_token(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(tenant): ApiPath<String>,
    Body(new): Body<NewToken>,
) -> Result<(StatusCode, Json<IssuedToken>), ApiError> {
    tenant_scope(&state, &caller, &tenant).await?;
    let issued = state
        .blocking(move |s| s.issue_token(&tenant, &new.label))
        .await?;
    Ok((StatusCode::CREATED, Json(issued)))
}

/// Revokes one of the tenant's tokens.
#[utoipa::path(delete, path = "/api/v1/tenants/{tenant}/tokens/{id}", tag = "tenants",
    params(("tenant" = String, Path), ("id" = String, Path)),
    responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
pub(crate) async fn revoke_token(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((tenant, id)): ApiPath<(String, String)>,
) -> Result<StatusCode, ApiError> {
    tenant_scope(&state, &caller, &tenant).await?;
    state
        .blocking(move |s| s.revoke_token(&tenant, &id))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
