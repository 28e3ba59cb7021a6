//! # weft-server: `weft serve`
//!
//! One process keeps every tenant's schemes running and takes work from
//! outside:
//! - the **scheduler** ([`scheduler`]) starts applied schemes on their
//!   `schedule`, never two runs of one scheme at once;
//! - **webhooks** (`POST /hooks/{tenant}/{scheme}`) commit callbacks to the
//!   ledger before answering, then push them;
//! - the **REST API** under `/api/v1` (tenants, connections, plugins,
//!   schemes, runs, records, logs), bearer tokens, an OpenAPI document at
//!   `/api/v1/openapi.json`;
//! - **metrics** for Prometheus at `/metrics`.
//!
//! Shutdown (SIGTERM/SIGINT, or the future given to [`Server::serve`])
//! stops the scheduler, lets in-flight requests finish, tells every run to
//! stop at its next page or batch boundary and waits for them to commit.

mod api;
mod auth;
mod error;
mod hooks;
mod metrics;
mod running;
mod scheduler;
mod state;

use std::future::Future;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use weft_engine::Engine;

pub use api::ApiDoc;
pub use auth::Caller;
pub use error::{ApiError, ErrorBody};
pub use running::{Running, StartError};

use crate::auth::AdminToken;
use crate::state::{AppState, Inner};

/// How `weft serve` runs.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// The admin's bearer token; without one, only tenant tokens work
    /// (and nothing admin-only can be done over HTTP).
    pub admin_token: Option<String>,
    /// Largest request body (JSON, webhooks), in bytes.
    pub body_limit: usize,
    /// Largest plugin upload, in bytes.
    pub plugin_limit: usize,
    /// Whether to run schemes on their schedules.
    pub schedule: bool,
    /// How often the scheduler looks for due schemes.
    pub tick: Duration,
}

impl Default for ServeOptions {
    fn default() -> Self {
        Self {
            admin_token: None,
            body_limit: 4 << 20,
            plugin_limit: 128 << 20,
            schedule: true,
            tick: Duration::from_secs(1),
        }
    }
}

/// Why the service stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// Serving HTTP failed.
    #[error("the HTTP server failed: {0}")]
    Http(#[from] std::io::Error),
}

/// The service.
#[derive(Debug, Clone)]
pub struct Server {
    state: AppState,
    options: ServeOptions,
}

/// Liveness: answers while the process serves.
#[utoipa::path(get, path = "/healthz", tag = "service", security(()),
    responses((status = 200, description = "ok")))]
pub(crate) async fn health() -> &'static str {
    "ok"
}

async fn not_found() -> ApiError {
    ApiError::not_found("no such route; the API is described at /api/v1/openapi.json")
}

/// Counts every answer by route and status, and turns any error answer
/// that is not already ours (axum's own plain-text ones: a method a route
/// does not take, a body cut off) into our JSON error shape.
async fn observe(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = request.method().to_string();
    let response = next.run(request).await;
    let status = response.status();
    ::metrics::counter!(
        "weft_http_requests_total",
        "method" => method,
        "route" => route,
        "status" => status.as_str().to_owned()
    )
    .increment(1);
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let allow = response.headers().get(header::ALLOW).cloned();
    // These bodies are axum's one-line explanations.
    let text = axum::body::to_bytes(response.into_body(), 8 << 10)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_owned())
        .unwrap_or_default();
    let (code, fallback) = match status {
        StatusCode::BAD_REQUEST => ("bad_request", "the request is malformed"),
        StatusCode::UNAUTHORIZED => ("unauthorized", "send a valid bearer token"),
        StatusCode::FORBIDDEN => ("forbidden", "not allowed"),
        StatusCode::NOT_FOUND => ("not_found", "not found"),
        StatusCode::METHOD_NOT_ALLOWED => (
            "method_not_allowed",
            "this route does not take that method; see /api/v1/openapi.json",
        ),
        StatusCode::PAYLOAD_TOO_LARGE => (
            "payload_too_large",
            "the request body is larger than this service accepts",
        ),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            ("unsupported_media_type", "unsupported content type")
        }
        StatusCode::UNPROCESSABLE_ENTITY => ("invalid", "the request does not fit"),
        s if s.is_server_error() => ("internal", "the service hit an internal error"),
        _ => ("bad_request", "the request was refused"),
    };
    let message = if text.is_empty() || status == StatusCode::METHOD_NOT_ALLOWED {
        fallback.to_owned()
    } else {
        text
    };
    let mut ours = ApiError::new(status, code, message).into_response();
    if let Some(allow) = allow {
        ours.headers_mut().insert(header::ALLOW, allow);
    }
    ours
}

impl Server {
    /// A service over `engine`.
    pub fn new(engine: Engine, options: ServeOptions) -> Self {
        let state = AppState::new(Inner {
            running: Running::new(engine.clone()),
            engine,
            admin: options.admin_token.as_deref().map(AdminToken::new),
            metrics: Some(metrics::recorder()),
        });
        Self { state, options }
    }

    /// The runs this service has started.
    pub fn running(&self) -> &Running {
        &self.state.running
    }

    /// Every route.
    pub fn router(&self) -> Router {
        let api = api::routes(self.options.plugin_limit);
        Router::new()
            .nest("/api/v1", api)
            .route("/hooks/{tenant}/{scheme}", post(hooks::hook))
            .route("/metrics", get(metrics::scrape))
            .route("/healthz", get(health))
            .fallback(not_found)
            .layer(DefaultBodyLimit::max(self.options.body_limit))
            .layer(axum::middleware::from_fn(observe))
            .with_state(self.state.clone())
    }

    /// Serves on `listener` until `shutdown` completes, then stops
    /// gracefully: no new runs, in-flight requests finish, every run
    /// stops at its next boundary with what it did committed.
    ///
    /// # Errors
    /// The HTTP server failed.
    pub async fn serve(
        self,
        listener: tokio::net::TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServeError> {
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let scheduler = self.options.schedule.then(|| {
            tokio::spawn(scheduler::run(
                self.state.clone(),
                self.options.tick,
                stop_rx.clone(),
            ))
        });
        let mut http_stop = stop_rx.clone();
        let state = self.state.clone();
        let signal = tokio::spawn(async move {
            shutdown.await;
            tracing::info!("shutting down: no new runs; current runs stop after their page");
            state.running.stop();
            let _ = stop_tx.send(true);
        });
        let router = self.router();
        let served = axum::serve(listener, router)
            .with_graceful_shutdown(async move {
                let _ = http_stop.wait_for(|stop| *stop).await;
            })
            .await;
        signal.abort();
        self.state.running.stop();
        if let Some(s) = scheduler {
            let _ = s.await;
        }
        self.state.running.stop_all().await;
        tracing::info!("stopped");
        served.map_err(ServeError::from)
    }
}
