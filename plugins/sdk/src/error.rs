//! Classified errors: the class tells the host what to do, the message tells
//! the user what went wrong.

use std::fmt;

use crate::wit::{PluginError, RateLimit};

/// A failure the host can act on. See the `plugin-error` variant in
/// `wit/types.wit` for what the host does with each class.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// A passing fault; the host retries with backoff.
    Transient(String),
    /// The remote system asked us to slow down.
    RateLimited {
        /// How long to wait, when the remote system said so.
        retry_after_ms: Option<u64>,
        /// The remote system's message.
        message: String,
    },
    /// Credentials are missing, wrong or expired.
    Auth(String),
    /// The remote system rejected this input; the record goes to the
    /// exception queue.
    Invalid(String),
    /// A bug or a broken contract; not retried.
    Fatal(String),
}

/// `Result` with the SDK's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A passing fault worth retrying.
    pub fn transient(message: impl Into<String>) -> Self {
        Self::Transient(message.into())
    }

    /// A rate-limited answer, with the wait the remote system asked for.
    pub fn rate_limited(retry_after_ms: Option<u64>, message: impl Into<String>) -> Self {
        Self::RateLimited {
            retry_after_ms,
            message: message.into(),
        }
    }

    /// Wrong, missing or expired credentials.
    pub fn auth(message: impl Into<String>) -> Self {
        Self::Auth(message.into())
    }

    /// Input the remote system rejected.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::Invalid(message.into())
    }

    /// A bug or a broken contract.
    pub fn fatal(message: impl Into<String>) -> Self {
        Self::Fatal(message.into())
    }

    /// The class name the host and the docs use: `transient`,
    /// `rate-limited`, `auth`, `invalid` or `fatal`.
    pub fn class(&self) -> &'static str {
        match self {
            Self::Transient(_) => "transient",
            Self::RateLimited { .. } => "rate-limited",
            Self::Auth(_) => "auth",
            Self::Invalid(_) => "invalid",
            Self::Fatal(_) => "fatal",
        }
    }

    /// The message without the class.
    pub fn message(&self) -> &str {
        match self {
            Self::Transient(m) | Self::Auth(m) | Self::Invalid(m) | Self::Fatal(m) => m,
            Self::RateLimited { message, .. } => message,
        }
    }

    /// Prefixes the message with where the error happened, keeping the class.
    #[must_use]
    pub fn context(self, context: impl fmt::Display) -> Self {
        let prefix = |m: String| format!("{context}: {m}");
        match self {
            Self::Transient(m) => Self::Transient(prefix(m)),
            Self::RateLimited {
                retry_after_ms,
                message,
            } => Self::RateLimited {
                retry_after_ms,
                message: prefix(message),
            },
            Self::Auth(m) => Self::Auth(prefix(m)),
            Self::Invalid(m) => Self::Invalid(prefix(m)),
            Self::Fatal(m) => Self::Fatal(prefix(m)),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::RateLimited {
                retry_after_ms: Some(ms),
                message,
            } => write!(f, "rate-limited (retry after {ms} ms): {message}"),
            other => write!(f, "{}: {}", other.class(), other.message()),
        }
    }
}

impl std::error::Error for Error {}

impl From<serde_json::Error> for Error {
    /// JSON the plugin cannot decode is a broken contract, not a passing
    /// fault: retrying would decode the same bytes again.
    fn from(e: serde_json::Error) -> Self {
        Self::Fatal(format!("JSON: {e}"))
    }
}

impl From<Error> for PluginError {
    fn from(e: Error) -> Self {
        match e {
            Error::Transient(m) => Self::Transient(m),
            Error::RateLimited {
                retry_after_ms,
                message,
            } => Self::RateLimited(RateLimit {
                retry_after_ms,
                message,
            }),
            Error::Auth(m) => Self::Auth(m),
            Error::Invalid(m) => Self::Invalid(m),
            Error::Fatal(m) => Self::Fatal(m),
        }
    }
}
