//! A scheme as weft runs it. `docs/scheme-reference.md` describes the YAML.

use std::collections::HashMap;
use std::time::Duration;

use marked_yaml::Node;
use time::{OffsetDateTime, UtcOffset};

use crate::mapping::LiveLookup;
use crate::schedule::Schedule;

/// An integration scheme (集成方案): where documents come from, how each is
/// mapped, where it goes, and when.
///
/// Built by [`Scheme::parse`]; the mapping, the lookup tables, `flatten`
/// and `filter` are compiled by [`Mapper::compile`](crate::Mapper::compile).
#[derive(Debug, Clone)]
pub struct Scheme {
    /// Identifier: lowercase letters, digits, `-` and `_`.
    pub name: String,
    /// Human title (defaults to the name).
    pub title: String,
    /// Where records are read.
    pub source: Source,
    /// Transform plugins run on each page, in order.
    pub transforms: Vec<TransformStep>,
    /// Where mapped documents are written.
    pub target: Target,
    /// When the scheme runs by itself; `None`: only when asked.
    pub schedule: Option<Schedule>,
    /// The scheme's zone: naive date-times (`incremental.start`, source data,
    /// `datetime`'s output) are in it, and cron patterns run in it.
    pub timezone: UtcOffset,
    pub(crate) flatten: Option<String>,
    pub(crate) filter: Option<String>,
    pub(crate) lookups: Vec<LookupDef>,
    /// The parsed file: templates are compiled from it, diagnostics point
    /// into it.
    pub(crate) root: Node,
    pub(crate) file: String,
    pub(crate) text: String,
}

/// Where a scheme's records come from: read through a connection (a
/// *pulled* source: `connection`, `operation`, `params`, `incremental`,
/// `page_size`), or posted to weft by the other system (a *webhook*
/// source: [`Source::webhook`]). Both have a `key`, `on_change`,
/// `flatten` and `filter`.
#[derive(Debug, Clone, PartialEq)]
pub struct Source {
    /// The tenant's connection; empty for a webhook source.
    pub connection: String,
    /// A source operation of that connection's connector; empty for a
    /// webhook source.
    pub operation: String,
    /// The operation's params as written (an object; values may be templates
    /// over `LAST_SYNC_TIME`, `CURRENT_TIME`, `PAGINATION_PAGE_SIZE`); see
    /// [`Mapper::source_params`](crate::Mapper::source_params) for them
    /// rendered.
    pub params: serde_json::Value,
    /// Time windows to walk; `None`: read everything each run.
    pub incremental: Option<Incremental>,
    /// Template of a record's business key, e.g. `{{ purchase_no }}`.
    pub key: String,
    /// What to do when a record seen before comes back changed.
    pub on_change: ChangePolicy,
    /// Records per page to ask for.
    pub page_size: Option<u32>,
    /// Set when the records are posted to weft (`POST
    /// /hooks/{tenant}/{scheme}`) instead of pulled; then `connection` and
    /// `operation` are empty, `params` is `{}`, and `incremental` and
    /// `page_size` are `None`.
    pub webhook: Option<Webhook>,
}

impl Source {
    /// Whether the records are posted to weft rather than pulled.
    pub fn is_webhook(&self) -> bool {
        self.webhook.is_some()
    }
}

/// A webhook source: how a callback proves where it comes from, and where
/// its records are in the body.
#[derive(Debug, Clone, PartialEq)]
pub struct Webhook {
    /// How each callback is authenticated.
    pub auth: WebhookAuth,
    /// JSON pointer (RFC 6901) to the records in the body: an array (one
    /// record per item) or an object (one record). Empty: the whole body.
    pub records: String,
}

/// How a webhook callback is authenticated. Secrets are named, never
/// written in the scheme; the engine resolves a name per tenant (see
/// `docs/scheme-reference.md`, "Webhook secrets").
#[derive(Debug, Clone, PartialEq)]
pub enum WebhookAuth {
    /// An HMAC-SHA256 of the raw body (or of `"{timestamp}.{body}"` with
    /// a signed timestamp) under the shared secret, sent in `header`.
    HmacSha256 {
        /// The secret's name.
        secret: String,
        /// The header carrying the signature (matched case-insensitively).
        header: String,
        /// How the signature is written.
        encoding: SignatureEncoding,
        /// A signed timestamp, which bounds how late a callback may be
        /// replayed.
        timestamp: Option<SignedTimestamp>,
    },
    /// `Authorization: Bearer <secret>`.
    Bearer {
        /// The secret's name.
        secret: String,
    },
}

impl WebhookAuth {
    /// The name of the secret the callback is checked against.
    pub fn secret(&self) -> &str {
        match self {
            Self::HmacSha256 { secret, .. } | Self::Bearer { secret } => secret,
        }
    }
}

/// How an HMAC signature is written in its header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SignatureEncoding {
    /// Lowercase or uppercase hexadecimal (default); a `sha256=` prefix is
    /// accepted.
    #[default]
    Hex,
    /// Standard base64.
    Base64,
}

/// A timestamp header covered by the signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedTimestamp {
    /// The header carrying Unix seconds.
    pub header: String,
    /// How far the timestamp may be from the host's clock.
    pub tolerance: Duration,
}

/// How a run walks time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Incremental {
    /// Where the first run starts.
    pub start: OffsetDateTime,
    /// Longest window per call (a connector's own limit may be shorter).
    pub max_span: Option<Duration>,
    /// How far each window reaches back before the previous end, to catch
    /// records edited late.
    pub overlap: Duration,
}

/// What to do with a record whose key was seen before with other content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ChangePolicy {
    /// Queue it again: the target gets the new content.
    #[default]
    Resend,
    /// Keep the first version; ignore changes.
    Skip,
}

/// A transform plugin run on each page.
#[derive(Debug, Clone, PartialEq)]
pub struct TransformStep {
    /// The installed transform plugin.
    pub plugin: String,
    /// Its config (checked against its config schema).
    pub config: serde_json::Value,
}

/// Where a scheme writes documents.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    /// The tenant's connection.
    pub connection: String,
    /// A target operation of that connection's connector.
    pub operation: String,
    /// The operation's params as written (an object).
    pub params: serde_json::Value,
    /// Documents per write call.
    pub batch_size: u32,
}

/// A lookup table the scheme defines.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum LookupDef {
    /// Written in the scheme: key → value.
    Static {
        name: String,
        rows: HashMap<String, serde_json::Value>,
    },
    /// Read through a connector before mapping.
    Live(LiveLookup),
}

impl LookupDef {
    pub fn name(&self) -> &str {
        match self {
            Self::Static { name, .. } => name,
            Self::Live(l) => &l.name,
        }
    }
}

impl Scheme {
    /// The file's text, as given to [`Scheme::parse`].
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The file's name, as given to [`Scheme::parse`].
    pub fn file(&self) -> &str {
        &self.file
    }

    /// `source.flatten`: the list each record is split on, if any.
    pub fn flatten(&self) -> Option<&str> {
        self.flatten.as_deref()
    }

    /// `source.filter`: the template deciding which records are kept.
    pub fn filter(&self) -> Option<&str> {
        self.filter.as_deref()
    }

    /// The names of the lookup tables the scheme defines (static and live).
    pub fn lookup_names(&self) -> impl Iterator<Item = &str> {
        self.lookups.iter().map(LookupDef::name)
    }

    /// The scheme's live lookups, which the engine reads before mapping.
    pub fn live_lookups(&self) -> impl Iterator<Item = &LiveLookup> {
        self.lookups.iter().filter_map(|l| match l {
            LookupDef::Live(l) => Some(l),
            LookupDef::Static { .. } => None,
        })
    }
}
