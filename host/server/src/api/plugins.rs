//! Installed plugins: every tenant may list and inspect them (schemes name
//! them); only the admin installs, since a plugin runs for every tenant.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode, header};
use serde::{Deserialize, Serialize};
use weft_plugins::{InstallOutcome, Manifest, PluginSpec};

use crate::api::{ApiPath, ApiQuery};
use crate::auth::Caller;
use crate::error::{ApiError, bytes_rejection};
use crate::state::AppState;

/// Every installed plugin version.
#[utoipa::path(get, path = "/api/v1/plugins", tag = "plugins",
    responses((status = 200, description = "manifests: name, version, kind, contract, sha256, size, info", body = Vec<Object>)))]
pub(crate) async fn list(
    State(state): State<AppState>,
    _caller: Caller,
) -> Result<Json<Vec<Manifest>>, ApiError> {
    Ok(Json(state.engine.plugins().list()?))
}

/// One plugin: `name` (its newest version) or `name@version`, with its
/// operations, connection fields, egress and config schema.
#[utoipa::path(get, path = "/api/v1/plugins/{name}", tag = "plugins",
    params(("name" = String, Path, description = "name or name@version")),
    responses((status = 200, body = Object), (status = 404, body = crate::error::ErrorBody)))]
pub(crate) async fn inspect(
    State(state): State<AppState>,
    _caller: Caller,
    ApiPath(name): ApiPath<String>,
) -> Result<Json<Manifest>, ApiError> {
    let spec: PluginSpec = name.parse().map_err(ApiError::bad_request)?;
    Ok(Json(state.engine.plugins().find(&spec)?))
}

/// How an upload is installed.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct InstallQuery {
    /// The file's name, for messages.
    #[serde(default)]
    pub file: Option<String>,
    /// Replace a different binary installed under the same name and
    /// version.
    #[serde(default)]
    pub force: bool,
}

/// What an install did.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Installed {
    /// `installed`, `unchanged` or `replaced`.
    pub outcome: &'static str,
    /// The plugin now installed.
    #[schema(value_type = Object)]
    pub plugin: Manifest,
}

/// Installs a component uploaded as the body (admin):
/// `Content-Type: application/wasm`.
#[utoipa::path(post, path = "/api/v1/plugins", tag = "plugins",
    params(InstallQuery),
    request_body(content = Vec<u8>, content_type = "application/wasm"),
    responses((status = 201, body = Installed), (status = 200, body = Installed),
        (status = 403, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody),
        (status = 415, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub(crate) async fn install(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<InstallQuery>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<Installed>), ApiError> {
    caller.admin()?;
    let body = body.map_err(|r| bytes_rejection(r.status(), r.body_text()))?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !matches!(
        content_type,
        "application/wasm" | "application/octet-stream"
    ) {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "upload the component as the body with `Content-Type: application/wasm`",
        ));
    }
    let file = query
        .file
        .unwrap_or_else(|| "uploaded component".to_owned());
    let outcome = state
        .engine
        .plugins()
        .install(&file, &body, query.force)
        .await?;
    let (status, word) = match &outcome {
        InstallOutcome::Installed(_) => (StatusCode::CREATED, "installed"),
        InstallOutcome::Replaced(_) => (StatusCode::CREATED, "replaced"),
        InstallOutcome::Unchanged(_) => (StatusCode::OK, "unchanged"),
    };
    Ok((
        status,
        Json(Installed {
            outcome: word,
            plugin: outcome.manifest().clone(),
        }),
    ))
}
