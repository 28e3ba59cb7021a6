//! `POST /hooks/{tenant}/{scheme}`: records another system pushes.
//!
//! The callback is authenticated by the scheme's own `auth` (an HMAC of
//! the body or a token; not the API's bearer tokens), and its records are
//! committed to the ledger before the answer: a 2xx means they are stored
//! and will be written, whatever happens to this process next. The push
//! runs after the answer.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode};
use serde::Serialize;
use weft_engine::Accepted;

use crate::api::ApiPath;
use crate::error::{ApiError, bytes_rejection};
use crate::running::StartError;
use crate::state::AppState;

/// The answer to an accepted callback.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct HookReply {
    /// Records found in the body.
    pub received: u64,
    /// Records committed to the ledger.
    pub committed: u64,
    /// Records the scheme's filter dropped.
    pub filtered: u64,
    /// Records without a business key (sent to the exception queue).
    pub rejected: u64,
    /// New records (queued for the target).
    pub new: u64,
    /// Records seen before with the same content.
    pub duplicate: u64,
    /// Records seen before with changed content.
    pub changed: u64,
    /// The push-only run started for them, if one started now (else they
    /// are written by the scheme's current run or right after it).
    pub run: Option<String>,
}

/// Takes a callback.
#[utoipa::path(
    post,
    path = "/hooks/{tenant}/{scheme}",
    tag = "webhooks",
    params(("tenant" = String, Path), ("scheme" = String, Path)),
    request_body(content = String, description = "the callback as the sender sends it (JSON)", content_type = "application/json"),
    responses(
        (status = 202, description = "records committed; the push follows", body = HookReply),
        (status = 400, description = "not JSON, or no records where the scheme says", body = crate::error::ErrorBody),
        (status = 401, description = "bad signature or token", body = crate::error::ErrorBody),
        (status = 404, description = "no such tenant or scheme", body = crate::error::ErrorBody),
        (status = 413, description = "body too large", body = crate::error::ErrorBody),
    )
)]
pub(crate) async fn hook(
    State(state): State<AppState>,
    ApiPath((tenant, scheme)): ApiPath<(String, String)>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<HookReply>), ApiError> {
    let body = body.map_err(|r| bytes_rejection(r.status(), r.body_text()))?;
    let headers: Vec<(&str, &str)> = headers
        .iter()
        .filter_map(|(k, v)| v.to_str().ok().map(|v| (k.as_str(), v)))
        .collect();
    let result = state
        .engine
        .accept_webhook(&tenant, &scheme, &body, &headers)
        .await;
    let status = match &result {
        Ok(_) => "accepted",
        Err(weft_engine::EngineError::Unauthorized { .. }) => "unauthorized",
        Err(_) => "refused",
    };
    metrics::counter!("weft_webhooks_total", "tenant" => tenant.clone(), "outcome" => status)
        .increment(1);
    let accepted: Accepted = result.map_err(|e| match e {
        // A tenant that does not exist and one without this scheme look
        // alike: callers learn nothing about other tenants.
        weft_engine::EngineError::Store(weft_store::StoreError::NotFound(_)) => {
            ApiError::not_found(format!("tenant '{tenant}' has no scheme '{scheme}'"))
        }
        e => e.into(),
    })?;
    let run = if accepted.counts.new + accepted.counts.changed > 0 {
        match state.running.push_soon(&tenant, &scheme).await {
            Ok(run) => run,
            Err(StartError::Closing) => None,
            // Committed is committed: the schedule or the next callback
            // pushes them. The sender needs no retry.
            Err(e) => {
                tracing::warn!(%tenant, %scheme, "push after a callback not started: {e}");
                None
            }
        }
    } else {
        None
    };
    Ok((
        StatusCode::ACCEPTED,
        Json(HookReply {
            received: accepted.received,
            committed: accepted.committed,
            filtered: accepted.filtered,
            rejected: accepted.rejected,
            new: accepted.counts.new,
            duplicate: accepted.counts.duplicate,
            changed: accepted.counts.changed,
            run,
        }),
    ))
}
