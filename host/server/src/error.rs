//! Every error the service answers with has one shape:
//!
//! ```json
//! {"error": {"status": 404, "code": "not_found", "message": "tenant 'acme' not found"}}
//! ```
//!
//! `code` is stable (clients branch on it); `message` says what to do;
//! `problems` lists, for a scheme that does not validate, every problem
//! with its line and column.

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use weft_engine::{EngineError, SchemeProblems};
use weft_store::StoreError;

/// An error answer.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    problems: Vec<Problem>,
}

/// One problem of a scheme file.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// `error` or `warning`.
    pub severity: &'static str,
    /// What is wrong.
    pub message: String,
}

/// The body of every error answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// What went wrong.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// The HTTP status, repeated for clients that only keep the body.
    pub status: u16,
    /// A stable machine-readable code: `unauthorized`, `forbidden`,
    /// `not_found`, `conflict`, `bad_request`, `invalid`,
    /// `unsupported_media_type`, `payload_too_large`, `busy`,
    /// `upstream`, `not_configured`, `internal`.
    pub code: &'static str,
    /// What is wrong and what to do about it.
    pub message: String,
    /// For a scheme that does not validate: every problem found.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<Problem>,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            problems: Vec::new(),
        }
    }

    pub(crate) fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    pub(crate) fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    pub(crate) fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", message)
    }

    pub(crate) fn internal(message: impl std::fmt::Display) -> Self {
        // The detail may name files or SQL: it goes to the log, not to a
        // client that may belong to any tenant.
        tracing::error!("internal error: {message}");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "the service hit an internal error; it is in the service's log",
        )
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }
}

impl From<SchemeProblems> for ApiError {
    fn from(p: SchemeProblems) -> Self {
        let mut e = Self::invalid(p.to_string());
        e.problems = p
            .diagnostics
            .iter()
            .map(|d| Problem {
                line: d.line,
                column: d.column,
                severity: if d.is_error() { "error" } else { "warning" },
                message: d.message.clone(),
            })
            .collect();
        e
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status;
        let body = ErrorBody {
            error: ErrorDetail {
                status: status.as_u16(),
                code: self.code,
                message: self.message,
                problems: self.problems,
            },
        };
        let mut response = (status, Json(body)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(_) => Self::not_found(e.to_string()),
            StoreError::Exists(_) => Self::new(StatusCode::CONFLICT, "conflict", e.to_string()),
            StoreError::Invalid(_) => Self::invalid(e.to_string()),
            StoreError::Db(_)
            | StoreError::Migration(_)
            | StoreError::Secret(_)
            | StoreError::Damaged(_)
            | StoreError::Internal(_) => Self::internal(e),
        }
    }
}

impl From<weft_plugins::StoreError> for ApiError {
    fn from(e: weft_plugins::StoreError) -> Self {
        use weft_plugins::StoreError as P;
        match e {
            P::NotInstalled { .. } => Self::not_found(e.to_string()),
            P::Invalid { .. } => Self::invalid(e.to_string()),
            P::Conflict { .. } | P::Ambiguous { .. } => {
                Self::new(StatusCode::CONFLICT, "conflict", e.to_string())
            }
            P::Io { .. } | P::Damaged { .. } => Self::internal(e),
        }
    }
}

impl From<EngineError> for ApiError {
    fn from(e: EngineError) -> Self {
        match e {
            EngineError::Store(e) => e.into(),
            EngineError::Plugins(e) => e.into(),
            EngineError::Scheme(_) | EngineError::Invalid(_) => Self::invalid(e.to_string()),
            EngineError::AlreadyRunning { .. } => {
                Self::new(StatusCode::CONFLICT, "busy", e.to_string())
            }
            EngineError::Call(_) => Self::new(StatusCode::BAD_GATEWAY, "upstream", e.to_string()),
            EngineError::UnknownScheme { .. } => Self::not_found(e.to_string()),
            EngineError::NotWebhook { .. } => Self::bad_request(e.to_string()),
            EngineError::HookSecretMissing { .. } => {
                // The operator's to fix; the caller learns only that the
                // scheme cannot take callbacks now.
                tracing::error!("{e}");
                Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "not_configured",
                    "this scheme's webhook secret is not configured on the service",
                )
            }
            EngineError::Unauthorized { .. } => Self::unauthorized(e.to_string()),
            EngineError::BadPayload { .. } => Self::bad_request(e.to_string()),
            EngineError::Internal(_) => Self::internal(e),
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        match &r {
            JsonRejection::MissingJsonContentType(_) => Self::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the body as JSON with `Content-Type: application/json`",
            ),
            JsonRejection::JsonDataError(_) => Self::invalid(r.body_text()),
            JsonRejection::JsonSyntaxError(_) => Self::bad_request(r.body_text()),
            JsonRejection::BytesRejection(_) => bytes_rejection(r.status(), r.body_text()),
            _ => Self::bad_request(r.body_text()),
        }
    }
}

/// A body that could not be read: too large, or cut off.
pub(crate) fn bytes_rejection(status: StatusCode, text: String) -> ApiError {
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(
            status,
            "payload_too_large",
            "the request body is larger than this service accepts",
        )
    } else {
        ApiError::bad_request(text)
    }
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> Self {
        Self::bad_request(r.body_text())
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        Self::bad_request(r.body_text())
    }
}
