//! The host's own view of what crosses the plugin boundary.
//!
//! Each frozen contract version (`contract::since_v0_1_0`, later
//! `since_v0_2_0`, …) converts its generated types into these, so the rest
//! of weft is written once against one set of types whatever version a
//! plugin was built against.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// What the host does with a failure. See `plugin-error` in `wit/types.wit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorClass {
    /// Retry with backoff.
    Transient,
    /// Wait, then retry; stop the run cleanly when the quota is gone.
    RateLimited,
    /// Stop and alert: credentials.
    Auth,
    /// Record-level rejection: the exception queue.
    Invalid,
    /// A plugin bug, a broken contract or a sandbox violation.
    Fatal,
}

impl ErrorClass {
    /// The name used in logs, the CLI and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Transient => "transient",
            Self::RateLimited => "rate-limited",
            Self::Auth => "auth",
            Self::Invalid => "invalid",
            Self::Fatal => "fatal",
        }
    }

    /// Whether trying the same call again later can succeed.
    pub fn is_retryable(self) -> bool {
        matches!(self, Self::Transient | Self::RateLimited)
    }
}

impl fmt::Display for ErrorClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error a plugin returned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{class}: {message}")]
pub struct PluginError {
    /// The class the plugin gave it.
    pub class: ErrorClass,
    /// The plugin's message.
    pub message: String,
    /// For `rate-limited`: how long the remote system asked us to wait.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_millis")]
    pub retry_after: Option<Duration>,
}

impl PluginError {
    /// An error of `class` with `message`.
    pub fn new(class: ErrorClass, message: impl Into<String>) -> Self {
        Self {
            class,
            message: message.into(),
            retry_after: None,
        }
    }
}

mod opt_millis {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_some(&u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        Ok(Option::<u64>::deserialize(d)?.map(Duration::from_millis))
    }
}

/// The kind of value a connection field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FieldKind {
    /// Free text.
    Text,
    /// An absolute http(s) URL.
    Url,
    /// A whole number.
    Integer,
    /// `true` / `false`.
    Boolean,
}

/// One setting a connection needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionField {
    /// The key in the connection's config.
    pub name: String,
    /// A short label.
    pub title: String,
    /// Where the user finds the value.
    pub description: String,
    /// The kind of value.
    pub kind: FieldKind,
    /// Refused when missing.
    pub required: bool,
    /// Encrypted, never shown, redacted.
    pub secret: bool,
    /// Used when the user gives none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_value: Option<String>,
}

/// Where a connector may send requests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "rule", content = "pattern")]
pub enum EgressRule {
    /// A host pattern: `api.example.com` or `*.example.com`.
    Host(String),
    /// Anything under the connection's `base_url`.
    BaseUrl,
}

impl fmt::Display for EgressRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Host(p) => f.write_str(p),
            Self::BaseUrl => f.write_str("<connection base_url>"),
        }
    }
}

/// What an operation does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Read pages.
    Source,
    /// Write batches.
    Target,
    /// Parse pushed callbacks.
    Webhook,
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Source => "source",
            Self::Target => "target",
            Self::Webhook => "webhook",
        })
    }
}

/// One operation of a connector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OperationInfo {
    /// The id a scheme names.
    pub id: String,
    /// A short label.
    pub title: String,
    /// What it does.
    pub description: String,
    /// Read, write or webhook.
    pub direction: Direction,
    /// JSON Schema of the params.
    pub params_schema: serde_json::Value,
    /// JSON pointer to the natural key of a record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_pointer: Option<String>,
    /// Largest time window per call, in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_window_secs: Option<u64>,
    /// Params carrying the window's start and end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_params: Option<(String, String)>,
    /// Largest batch for `write`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_batch: Option<u32>,
}

/// What a connector says about itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConnectorInfo {
    /// Plugin name.
    pub name: String,
    /// Plugin version (semver).
    pub version: String,
    /// Human title.
    pub title: String,
    /// Description.
    pub description: String,
    /// Connection settings.
    pub connection_fields: Vec<ConnectionField>,
    /// Egress rules.
    pub egress: Vec<EgressRule>,
    /// Operations.
    pub operations: Vec<OperationInfo>,
}

impl ConnectorInfo {
    /// The operation with this id.
    pub fn operation(&self, id: &str) -> Option<&OperationInfo> {
        self.operations.iter().find(|o| o.id == id)
    }
}

/// What a transform says about itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TransformInfo {
    /// Plugin name.
    pub name: String,
    /// Plugin version (semver).
    pub version: String,
    /// Human title.
    pub title: String,
    /// Description.
    pub description: String,
    /// JSON Schema of the config.
    pub config_schema: serde_json::Value,
}

/// What a plugin says about itself, whichever world it implements.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase", tag = "kind")]
pub enum PluginInfo {
    /// A connector.
    Connector(ConnectorInfo),
    /// A transform.
    Transform(TransformInfo),
}

impl PluginInfo {
    /// Plugin name.
    pub fn name(&self) -> &str {
        match self {
            Self::Connector(c) => &c.name,
            Self::Transform(t) => &t.name,
        }
    }

    /// Plugin version.
    pub fn version(&self) -> &str {
        match self {
            Self::Connector(c) => &c.version,
            Self::Transform(t) => &t.version,
        }
    }

    /// Human title.
    pub fn title(&self) -> &str {
        match self {
            Self::Connector(c) => &c.title,
            Self::Transform(t) => &t.title,
        }
    }
}

/// One record as a plugin wrote it: the text of a JSON object, checked to
/// be one but not parsed into a tree. Most records go to the ledger as
/// text and are read field by field later, so a tree per record would be
/// built only to be thrown away.
pub type RawRecord = Box<serde_json::value::RawValue>;

/// `records` as one JSON array.
pub fn records_text(records: &[RawRecord]) -> String {
    let mut text =
        String::with_capacity(records.iter().map(|r| r.get().len() + 1).sum::<usize>() + 2);
    text.push('[');
    for (i, r) in records.iter().enumerate() {
        if i > 0 {
            text.push(',');
        }
        text.push_str(r.get());
    }
    text.push(']');
    text
}

/// A record's tree, for the few places that need the whole of it.
pub fn record_tree(record: &RawRecord) -> serde_json::Value {
    // A RawRecord holds valid JSON by construction, so this cannot fail.
    serde_json::from_str(record.get()).unwrap_or(serde_json::Value::Null)
}

/// A tree as a record.
///
/// # Errors
/// Never for a tree built by serde_json; the signature follows
/// `to_raw_value`.
pub fn raw_record(value: &serde_json::Value) -> Result<RawRecord, serde_json::Error> {
    serde_json::value::to_raw_value(value)
}

/// One page of a source.
#[derive(Debug, Clone)]
pub struct Page {
    /// The records, each a JSON object.
    pub records: Vec<RawRecord>,
    /// Cursor of the next page; `None` on the last page.
    pub next: Option<String>,
    /// Total records, when the remote API tells.
    pub total: Option<u64>,
}

/// The result of writing one record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase", tag = "outcome")]
pub enum WriteOutcome {
    /// Written, or found already written.
    Written {
        /// Target id.
        id: Option<String>,
        /// Target document number.
        number: Option<String>,
        /// An idempotent replay of an earlier write.
        existed: bool,
    },
    /// Not written.
    Failed(PluginError),
}

/// A pushed callback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookRequest {
    /// The request path.
    pub path: String,
    /// The raw query string.
    pub query: String,
    /// Headers, names lowercase.
    pub headers: Vec<(String, String)>,
    /// The raw body.
    pub body: Vec<u8>,
}

/// What a connector made of a callback.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookReply {
    /// The records it carried.
    pub records: Vec<serde_json::Value>,
    /// Status to answer with.
    pub status: u16,
    /// Body to answer with.
    pub body: String,
    /// Its content type.
    pub content_type: String,
}

/// Who a call is for. Every call names its tenant; a store is never shared
/// between tenants.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallIdentity {
    /// The tenant.
    pub tenant: String,
    /// The scheme, empty outside a scheme.
    pub scheme: String,
    /// The run, empty outside a run.
    pub run_id: String,
}
