//! The context of a call, params, cursors, pages and write outcomes: the
//! typed side of the JSON that crosses the boundary.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::wit;

/// Who is calling, and with which connection.
#[derive(Debug, Clone)]
pub struct Context {
    /// The tenant the call runs for.
    pub tenant: String,
    /// The scheme that made the call; empty outside a scheme.
    pub scheme: String,
    /// The run this call belongs to; empty outside a run.
    pub run_id: String,
    /// The connection's name.
    pub connection: String,
    config: Map<String, Value>,
}

impl Context {
    pub(crate) fn from_wit(ctx: wit::CallContext) -> Result<Self> {
        let config = match serde_json::from_str::<Value>(&ctx.config) {
            Ok(Value::Object(map)) => map,
            Ok(other) => {
                return Err(Error::fatal(format!(
                    "connection config must be a JSON object, got {other}"
                )));
            }
            Err(e) => return Err(Error::fatal(format!("connection config: {e}"))),
        };
        Ok(Self {
            tenant: ctx.tenant,
            scheme: ctx.scheme,
            run_id: ctx.run_id,
            connection: ctx.connection,
            config,
        })
    }

    /// Decodes the connection's settings into a typed struct (field names
    /// as declared in `connection-fields`).
    ///
    /// # Errors
    /// `auth` naming the field when a setting is missing or has the wrong
    /// type: the connection, not the plugin, needs fixing.
    pub fn config<T: DeserializeOwned>(&self) -> Result<T> {
        serde_json::from_value(Value::Object(self.config.clone())).map_err(|e| {
            Error::auth(format!(
                "connection '{}' is misconfigured: {e}",
                self.connection
            ))
        })
    }

    /// One setting, if present.
    pub fn get(&self, field: &str) -> Option<&Value> {
        self.config.get(field)
    }

    /// A required text setting.
    ///
    /// # Errors
    /// `auth` naming the field when it is missing or empty.
    pub fn require_str(&self, field: &str) -> Result<&str> {
        match self.config.get(field).and_then(Value::as_str) {
            Some(s) if !s.is_empty() => Ok(s),
            _ => Err(Error::auth(format!(
                "connection '{}' has no value for '{field}'",
                self.connection
            ))),
        }
    }
}

/// An operation's params: a JSON object valid against its schema.
#[derive(Debug, Clone)]
pub struct Params(Value);

impl Params {
    pub(crate) fn from_json(text: &str) -> Result<Self> {
        serde_json::from_str(text)
            .map(Self)
            .map_err(|e| Error::fatal(format!("params are not JSON: {e}")))
    }

    /// Decodes the params into the operation's params type.
    ///
    /// # Errors
    /// `fatal` with the field and the problem: the host validated the
    /// params against the schema, so a mismatch is a plugin bug.
    pub fn parse<T: DeserializeOwned>(&self) -> Result<T> {
        T::deserialize(&self.0).map_err(|e| Error::fatal(format!("params: {e}")))
    }

    /// The raw JSON value.
    pub fn as_value(&self) -> &Value {
        &self.0
    }
}

/// Decodes a cursor made by [`Page::next`].
///
/// # Errors
/// `fatal` when the cursor is not one this plugin made.
pub fn decode_cursor<T: DeserializeOwned>(cursor: Option<&str>) -> Result<Option<T>> {
    cursor
        .map(|c| {
            serde_json::from_str(c)
                .map_err(|e| Error::fatal(format!("cursor '{c}' is not one of ours: {e}")))
        })
        .transpose()
}

/// One page of a source.
#[derive(Debug, Clone, Default)]
pub struct Page {
    records: Vec<Value>,
    raw: Option<String>,
    next: Option<String>,
    total: Option<u64>,
}

impl Page {
    /// A page of records (each serialises to a JSON object).
    ///
    /// # Errors
    /// `fatal` when a record cannot be serialised.
    pub fn new<R: Serialize>(records: &[R]) -> Result<Self> {
        let records = records
            .iter()
            .map(serde_json::to_value)
            .collect::<std::result::Result<Vec<_>, _>>()?;
        Ok(Self::from_values(records))
    }

    /// A page of JSON records.
    pub fn from_values(records: Vec<Value>) -> Self {
        Self {
            records,
            raw: None,
            next: None,
            total: None,
        }
    }

    /// A page whose records are already JSON text: an array of objects,
    /// e.g. the list a remote API returned, taken as a slice of its reply
    /// with [`serde_json::value::RawValue`]. Records pass through without
    /// being parsed and written again inside the plugin, which is most of
    /// the cost of a large page; the host still checks the array.
    pub fn from_raw_records(json_array: String) -> Self {
        Self {
            records: Vec::new(),
            raw: Some(json_array),
            next: None,
            total: None,
        }
    }

    /// The records of a page made with [`Page::from_raw_records`].
    pub fn raw_records(&self) -> Option<&str> {
        self.raw.as_deref()
    }

    /// The cursor for the next page; without it this is the last page.
    ///
    /// # Errors
    /// `fatal` when the cursor cannot be serialised.
    pub fn next<C: Serialize>(mut self, cursor: &C) -> Result<Self> {
        self.next = Some(serde_json::to_string(cursor)?);
        Ok(self)
    }

    /// The total number of records, when the remote API tells it.
    #[must_use]
    pub fn total(mut self, total: u64) -> Self {
        self.total = Some(total);
        self
    }

    /// The records on this page.
    pub fn records(&self) -> &[Value] {
        &self.records
    }

    /// The cursor of the next page, as [`Page::next`] serialised it.
    pub fn next_cursor(&self) -> Option<&str> {
        self.next.as_deref()
    }

    /// The total set with [`Page::total`].
    pub fn known_total(&self) -> Option<u64> {
        self.total
    }

    pub(crate) fn into_wit(self) -> Result<wit::Page> {
        let records = match self.raw {
            Some(raw) => raw,
            None => serde_json::to_string(&self.records)?,
        };
        Ok(wit::Page {
            records,
            next: self.next,
            total: self.total,
        })
    }
}

/// The records of a `write` call as the host sent them: a JSON array of
/// objects. [`Connector::write`](crate::Connector::write) gets them parsed;
/// a connector that only forwards them (or needs a field or two) can
/// override [`Connector::write_raw`](crate::Connector::write_raw) and skip
/// building a tree per record.
#[derive(Debug, Clone)]
pub struct RawRecords(pub(crate) String);

impl RawRecords {
    /// The JSON array text.
    pub fn text(&self) -> &str {
        &self.0
    }

    /// Each record as its own JSON text, without parsing its content.
    ///
    /// # Errors
    /// `fatal` when the text is not a JSON array.
    pub fn items(&self) -> Result<Vec<Box<serde_json::value::RawValue>>> {
        serde_json::from_str(&self.0).map_err(|e| Error::fatal(format!("records: {e}")))
    }

    /// Every record parsed.
    ///
    /// # Errors
    /// `fatal` when the text is not a JSON array.
    pub fn parse(&self) -> Result<Vec<Value>> {
        serde_json::from_str(&self.0).map_err(|e| Error::fatal(format!("records: {e}")))
    }
}

/// The result of writing one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteOutcome {
    /// Written or found already written.
    Written {
        /// The target's internal id.
        id: Option<String>,
        /// The target's document number.
        number: Option<String>,
        /// True for an idempotent replay of an earlier write.
        existed: bool,
    },
    /// Not written.
    Failed(Error),
}

impl WriteOutcome {
    /// Newly written.
    pub fn created(id: Option<String>, number: Option<String>) -> Self {
        Self::Written {
            id,
            number,
            existed: false,
        }
    }

    /// Already in the target from an earlier attempt.
    pub fn existed(id: Option<String>, number: Option<String>) -> Self {
        Self::Written {
            id,
            number,
            existed: true,
        }
    }

    pub(crate) fn into_wit(self) -> wit::WriteOutcome {
        match self {
            Self::Written {
                id,
                number,
                existed,
            } => wit::WriteOutcome::Written(wit::Written {
                id,
                number,
                existed,
            }),
            Self::Failed(e) => wit::WriteOutcome::Failed(e.into()),
        }
    }
}

/// A pushed callback.
#[derive(Debug, Clone)]
pub struct WebhookRequest {
    /// The request path.
    pub path: String,
    /// The raw query string.
    pub query: String,
    /// Headers, names in lowercase.
    pub headers: Vec<(String, String)>,
    /// The raw body.
    pub body: Vec<u8>,
}

impl WebhookRequest {
    /// The first value of a header.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// What a connector made of a callback.
#[derive(Debug, Clone)]
pub struct WebhookReply {
    /// The records the callback carried.
    pub records: Vec<Value>,
    /// The status to answer with once they are committed.
    pub status: u16,
    /// The body the pushing system expects.
    pub body: String,
    /// Its content type.
    pub content_type: String,
}

impl WebhookReply {
    /// A JSON success reply carrying `records`.
    ///
    /// # Errors
    /// `fatal` when `body` cannot be serialised.
    pub fn json<B: Serialize>(records: Vec<Value>, body: &B) -> Result<Self> {
        Ok(Self {
            records,
            status: 200,
            body: serde_json::to_string(body)?,
            content_type: "application/json".to_owned(),
        })
    }

    pub(crate) fn into_wit(self) -> Result<wit::WebhookReply> {
        Ok(wit::WebhookReply {
            records: serde_json::to_string(&self.records)?,
            status: self.status,
            body: self.body,
            content_type: self.content_type,
        })
    }
}
