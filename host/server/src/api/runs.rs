//! A tenant's runs and their logs.

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use serde_json::Value;
use weft_store::RunView;

use super::tenant_scope;
use crate::api::{ApiPath, ApiQuery};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::state::AppState;

/// Which runs.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RunsQuery {
    /// Only this scheme's.
    #[serde(default)]
    pub scheme: Option<String>,
    /// At most this many, newest first (default 50, at most 1000).
    #[serde(default)]
    pub limit: Option<usize>,
}

/// A tenant's runs, newest first, with their counts.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/runs", tag = "runs",
    params(("tenant" = String, Path), RunsQuery),
    responses((status = 200, body = Vec<RunView>), (status = 404, body = crate::error::ErrorBody)))]
pub(crate) async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(tenant): ApiPath<String>,
    ApiQuery(q): ApiQuery<RunsQuery>,
) -> Result<Json<Vec<RunView>>, ApiError> {
    tenant_scope(&state, &caller, &tenant).await?;
    let limit = q.limit.unwrap_or(50).clamp(1, 1000);
    Ok(Json(
        state
            .blocking(move |s| s.runs(&tenant, q.scheme.as_deref(), limit))
            .await?,
    ))
}

/// One run with its counts.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/runs/{id}", tag = "runs",
    params(("tenant" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = RunView), (status = 404, body = crate::error::ErrorBody)))]
pub(crate) async fn get_one(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((tenant, id)): ApiPath<(String, String)>,
) -> Result<Json<RunView>, ApiError> {
    tenant_scope(&state, &caller, &tenant).await?;
    Ok(Json(state.blocking(move |s| s.run(&tenant, &id)).await?))
}

/// A run's log: plugin lines and HTTP exchanges (secrets redacted), in
/// order.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/runs/{id}/logs", tag = "runs",
    params(("tenant" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = Vec<Object>), (status = 404, body = crate::error::ErrorBody)))]
pub(crate) async fn logs(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((tenant, id)): ApiPath<(String, String)>,
) -> Result<Json<Vec<Value>>, ApiError> {
    tenant_scope(&state, &caller, &tenant).await?;
    Ok(Json(
        state
            .blocking(move |s| {
                // The log of another tenant's run is "not found" too.
                s.run(&tenant, &id)?;
                s.run_log(&tenant, &id)
            })
            .await?,
    ))
}
