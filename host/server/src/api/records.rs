//! The ledger and its exception queue: a record's journey (source JSON →
//! mapped JSON → the target's reply, attempts), and retries.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use weft_store::RecordView;

use super::{Body, tenant_scope};
use crate::api::{ApiPath, ApiQuery};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::state::AppState;

/// Which records.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RecordsQuery {
    /// Only this scheme's.
    #[serde(default)]
    pub scheme: Option<String>,
    /// `queued`, `done` or `failed`.
    #[serde(default)]
    pub status: Option<String>,
    /// At most this many, newest first (default 100, at most 1000).
    #[serde(default)]
    pub limit: Option<usize>,
}

/// Every failed record of a scheme, queued again.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RetryScheme {
    /// The scheme.
    pub scheme: String,
}

/// What a retry did.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Retried {
    /// Records queued again.
    pub queued: usize,
    /// The push-only run that writes them, when one started now.
    pub run: Option<String>,
}

const STATUSES: &[&str] = &["queued", "done", "failed"];

/// A tenant's ledger records, newest first.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/records", tag = "records",
    params(("tenant" = String, Path), RecordsQuery),
    responses((status = 200, body = Vec<RecordView>), (status = 400, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody)))]
pub(crate) async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(tenant): ApiPath<String>,
    ApiQuery(q): ApiQuery<RecordsQuery>,
) -> Result<Json<Vec<RecordView>>, ApiError> {
    tenant_scope(&state, &caller, &tenant).await?;
    if let Some(status) = &q.status
        && !STATUSES.contains(&status.as_str())
    {
        return Err(ApiError::bad_request(format!(
            "status '{status}' is not one of {}",
            STATUSES.join(", ")
        )));
    }
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    Ok(Json(
        state
            .blocking(move |s| s.records(&tenant, q.scheme.as_deref(), q.status.as_deref(), limit))
            .await?,
    ))
}

/// One record's journey: its source, what it was mapped to, the target's
/// reply, attempts and the last error.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/records/{id}", tag = "records",
    params(("tenant" = String, Path), ("id" = i64, Path)),
    responses((status = 200, body = RecordView), (status = 404, body = crate::error::ErrorBody)))]
pub(crate) async fn get_one(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((tenant, id)): ApiPath<(String, i64)>,
) -> Result<Json<RecordView>, ApiError> {
    tenant_scope(&state, &caller, &tenant).await?;
    Ok(Json(state.blocking(move |s| s.record(&tenant, id)).await?))
}

async fn requeue(
    state: &AppState,
    tenant: String,
    scheme: String,
    id: Option<i64>,
) -> Result<Retried, ApiError> {
    let (t, n) = (tenant.clone(), scheme.clone());
    let queued = state.blocking(move |s| s.retry(&t, Some(&n), id)).await?;
    let run = if queued > 0 {
        state
            .running
            .push_soon(&tenant, &scheme)
            .await
            .map_err(super::schemes::start_error)?
    } else {
        None
    };
    Ok(Retried { queued, run })
}

/// Queues one failed record again and pushes it (after the cause, e.g. a
/// lookup table, was fixed).
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/records/{id}/retry", tag = "records",
    params(("tenant" = String, Path), ("id" = i64, Path)),
    responses((status = 202, body = Retried), (status = 404, body = crate::error::ErrorBody)))]
pub(crate) async fn retry_one(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((tenant, id)): ApiPath<(String, i64)>,
) -> Result<(StatusCode, Json<Retried>), ApiError> {
    tenant_scope(&state, &caller, &tenant).await?;
    let t = tenant.clone();
    let record = state.blocking(move |s| s.record(&t, id)).await?;
    let retried = requeue(&state, tenant, record.scheme, Some(id)).await?;
    Ok((StatusCode::ACCEPTED, Json(retried)))
}

/// Queues every failed record of a scheme again and pushes them.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/records/retry", tag = "records",
    params(("tenant" = String, Path)), request_body = RetryScheme,
    responses((status = 202, body = Retried), (status = 404, body = crate::error::ErrorBody)))]
pub(crate) async fn retry_many(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(tenant): ApiPath<String>,
    Body(req): Body<RetryScheme>,
) -> Result<(StatusCode, Json<Retried>), ApiError> {
    tenant_scope(&state, &caller, &tenant).await?;
    let (t, n) = (tenant.clone(), req.scheme.clone());
    state.blocking(move |s| s.scheme(&t, &n)).await?;
    let retried = requeue(&state, tenant, req.scheme, None).await?;
    Ok((StatusCode::ACCEPTED, Json(retried)))
}
