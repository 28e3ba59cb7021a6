//! A tenant's schemes: apply (validated exactly like `weft scheme apply`),
//! list, get, delete, run now, preview.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use weft_engine::Trigger;
use weft_scheme::Scheme;
use weft_store::{RunView, StoredScheme};

use super::{Body, tenant_scope};
use crate::api::ApiPath;
use crate::auth::Caller;
use crate::error::{ApiError, Problem};
use crate::running::StartError;
use crate::state::AppState;

/// A scheme to apply.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplyScheme {
    /// The scheme's YAML.
    pub yaml: String,
    /// A file name for diagnostics (`scheme.yaml` when absent).
    #[serde(default)]
    pub file: Option<String>,
}

/// An applied scheme with its state.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SchemeView {
    /// The stored scheme (YAML included).
    #[serde(flatten)]
    pub scheme: StoredScheme,
    /// Ledger records by status.
    pub ledger: BTreeMap<String, i64>,
    /// Its latest run.
    pub last_run: Option<RunView>,
    /// Whether this service is running it now.
    pub running: bool,
}

/// The answer to an apply.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Applied {
    /// The scheme's name (from its YAML).
    pub name: String,
    /// Warnings found while validating.
    pub warnings: Vec<Problem>,
}

/// A run just started.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Started {
    /// The run's id: `GET /api/v1/tenants/{tenant}/runs/{id}`.
    pub run_id: String,
}

/// How much to preview.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreviewRequest {
    /// Records to show (default 3, at most 100).
    #[serde(default)]
    pub limit: Option<usize>,
}

/// One previewed record.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PreviewRecord {
    /// Its business key.
    pub key: Option<String>,
    /// Why it has none.
    pub key_error: Option<String>,
    /// The record as the source gave it.
    pub source: Value,
    /// The target document.
    pub mapped: Option<Value>,
    /// Why it could not be mapped.
    pub mapping_error: Option<String>,
}

/// A preview: the first page read and mapped, nothing written.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PreviewView {
    /// The params the page was read with.
    pub params: Value,
    /// Its records.
    pub records: Vec<PreviewRecord>,
    /// Whether the source has more pages.
    pub more: bool,
}

async fn view(state: &AppState, stored: StoredScheme) -> Result<SchemeView, ApiError> {
    let (t, n) = (stored.tenant.clone(), stored.name.clone());
    let (ledger, last_run) = state
        .blocking(move |s| {
            Ok((
                s.ledger_counts(&t, &n)?,
                s.runs(&t, Some(&n), 1)?.into_iter().next(),
            ))
        })
        .await?;
    let running = state.running.is_running(&stored.tenant, &stored.name);
    Ok(SchemeView {
        scheme: stored,
        ledger,
        last_run,
        running,
    })
}

/// A tenant's schemes.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/schemes", tag = "schemes",
    params(("tenant" = String, Path)),
    responses((status = 200, body = Vec<SchemeView>), (status = 404, body = crate::error::ErrorBody)))]
pub(crate) async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(tenant): ApiPath<String>,
) -> Result<Json<Vec<SchemeView>>, ApiError> {
    tenant_scope(&state, &caller, &tenant).await?;
    let stored = state.blocking(move |s| s.schemes(Some(&tenant))).await?;
    let mut views = Vec::with_capacity(stored.len());
    for s in stored {
        views.push(view(&state, s).await?);
    }
    Ok(Json(views))
}

/// Validates a scheme and applies it (replacing one of the same name; its
/// ledger and position are kept). A scheme with problems is refused with
/// every problem's line and column.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/schemes", tag = "schemes",
    params(("tenant" = String, Path)), request_body = ApplyScheme,
    responses((status = 201, body = Applied), (status = 404, body = crate::error::ErrorBody),
        (status = 422, description = "the scheme's problems, each with line and column", body = crate::error::ErrorBody)))]
pub(crate) async fn apply(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(tenant): ApiPath<String>,
    Body(req): Body<ApplyScheme>,
) -> Result<(StatusCode, Json<Applied>), ApiError> {
    tenant_scope(&state, &caller, &tenant).await?;
    let file = req.file.unwrap_or_else(|| "scheme.yaml".to_owned());
    let checked = state
        .engine
        .check_scheme(&tenant, &file, &req.yaml)
        .await??;
    let name = checked.scheme.name.clone();
    let (n, text) = (name.clone(), checked.scheme.text().to_owned());
    state
        .blocking(move |s| s.apply_scheme(&tenant, &n, &file, &text))
        .await?;
    let warnings = checked
        .warnings
        .iter()
        .map(|d| Problem {
            line: d.line,
            column: d.column,
            severity: "warning",
            message: d.message.clone(),
        })
        .collect();
    Ok((StatusCode::CREATED, Json(Applied { name, warnings })))
}

/// One scheme with its ledger counts and latest run.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/schemes/{name}", tag = "schemes",
    params(("tenant" = String, Path), ("name" = String, Path)),
    responses((status = 200, body = SchemeView), (status = 404, body = crate::error::ErrorBody)))]
pub(crate) async fn get_one(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((tenant, name)): ApiPath<(String, String)>,
) -> Result<Json<SchemeView>, ApiError> {
    tenant_scope(&state, &caller, &tenant).await?;
    let stored = state.blocking(move |s| s.scheme(&tenant, &name)).await?;
    Ok(Json(view(&state, stored).await?))
}

/// Removes a scheme with its ledger and runs (refused while it runs).
#[utoipa::path(delete, path = "/api/v1/tenants/{tenant}/schemes/{name}", tag = "schemes",
    params(("tenant" = String, Path), ("name" = String, Path)),
    responses((status = 204), (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody)))]
pub(crate) async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((tenant, name)): ApiPath<(String, String)>,
) -> Result<StatusCode, ApiError> {
    tenant_scope(&state, &caller, &tenant).await?;
    if state.running.is_running(&tenant, &name) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "busy",
            format!("scheme '{name}' is running; remove it when the run has ended"),
        ));
    }
    state
        .blocking(move |s| s.remove_scheme(&tenant, &name))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Starts a run now; answers with its id at once (the run goes on).
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/schemes/{name}/run", tag = "schemes",
    params(("tenant" = String, Path), ("name" = String, Path)),
    responses((status = 202, body = Started), (status = 404, body = crate::error::ErrorBody),
        (status = 409, description = "already running", body = crate::error::ErrorBody),
        (status = 503, description = "shutting down", body = crate::error::ErrorBody)))]
pub(crate) async fn run_now(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((tenant, name)): ApiPath<(String, String)>,
) -> Result<(StatusCode, Json<Started>), ApiError> {
    tenant_scope(&state, &caller, &tenant).await?;
    let run_id = state
        .running
        .start(&tenant, &name, Trigger::Manual, false)
        .await
        .map_err(start_error)?;
    Ok((StatusCode::ACCEPTED, Json(Started { run_id })))
}

pub(crate) fn start_error(e: StartError) -> ApiError {
    match e {
        StartError::Busy { .. } => ApiError::new(StatusCode::CONFLICT, "busy", e.to_string()),
        StartError::Closing => {
            ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "closing", e.to_string())
        }
        StartError::Engine(e) => e.into(),
    }
}

/// Reads the first page of the source and maps it, writing nothing and
/// leaving the ledger as it is.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/schemes/{name}/preview", tag = "schemes",
    params(("tenant" = String, Path), ("name" = String, Path)), request_body = PreviewRequest,
    responses((status = 200, body = PreviewView), (status = 404, body = crate::error::ErrorBody),
        (status = 502, description = "the source could not be read", body = crate::error::ErrorBody)))]
pub(crate) async fn preview(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((tenant, name)): ApiPath<(String, String)>,
    Body(req): Body<PreviewRequest>,
) -> Result<Json<PreviewView>, ApiError> {
    tenant_scope(&state, &caller, &tenant).await?;
    let limit = req.limit.unwrap_or(3).clamp(1, 100);
    let (t, n) = (tenant.clone(), name.clone());
    let stored = state.blocking(move |s| s.scheme(&t, &n)).await?;
    let scheme = Scheme::parse(&stored.file, &stored.yaml)
        .map_err(|d| ApiError::invalid(format!("the applied scheme no longer parses: {d}")))?;
    let preview = state.engine.preview(&tenant, &scheme, None, limit).await?;
    Ok(Json(PreviewView {
        params: preview.params,
        more: preview.more,
        records: preview
            .records
            .into_iter()
            .map(|r| {
                let (key, key_error) = split(r.key);
                let (mapped, mapping_error) = split(r.mapped);
                PreviewRecord {
                    key,
                    key_error,
                    source: r.source,
                    mapped,
                    mapping_error,
                }
            })
            .collect(),
    }))
}

fn split<T>(r: Result<T, String>) -> (Option<T>, Option<String>) {
    match r {
        Ok(v) => (Some(v), None),
        Err(e) => (None, Some(e)),
    }
}
