//! Reading a scheme file: every problem at once, each at its place.
//!
//! The YAML tree is walked by hand rather than deserialized with serde: a
//! deserializer stops at the first problem, while a person fixing a scheme
//! wants to see all of them.

use std::collections::HashMap;
use std::time::Duration;

use marked_yaml::Node;
use marked_yaml::types::MarkedMappingNode;
use time::UtcOffset;

use crate::clock;
use crate::diagnostic::{Diagnostics, Report};
use crate::mapping::{self, LiveLookup, Tables};
use crate::model::{
    ChangePolicy, Incremental, LookupDef, Scheme, SignatureEncoding, SignedTimestamp, Source,
    Target, TransformStep, Webhook, WebhookAuth,
};
use crate::schedule::{self, Schedule};
use crate::yaml;

pub(crate) const TOP_KEYS: &[&str] = &[
    "name",
    "title",
    "timezone",
    "source",
    "transforms",
    "target",
    "schedule",
    "lookups",
    "mapping",
];
pub(crate) const SOURCE_KEYS: &[&str] = &[
    "connection",
    "operation",
    "params",
    "incremental",
    "key",
    "on_change",
    "page_size",
    "flatten",
    "filter",
    "webhook",
];
/// Keys of a pulled source that a webhook source cannot have.
const PULLED_ONLY_KEYS: &[&str] = &[
    "connection",
    "operation",
    "params",
    "incremental",
    "page_size",
];
const WEBHOOK_KEYS: &[&str] = &["auth", "records"];
const AUTH_KEYS: &[&str] = &["hmac_sha256", "bearer"];
const HMAC_KEYS: &[&str] = &["secret", "header", "encoding", "timestamp"];
const BEARER_KEYS: &[&str] = &["secret"];
const TIMESTAMP_KEYS: &[&str] = &["header", "tolerance"];
/// The signature header when a scheme names none.
pub(crate) const DEFAULT_SIGNATURE_HEADER: &str = "X-Weft-Signature";
/// The timestamp header when a scheme names none.
pub(crate) const DEFAULT_TIMESTAMP_HEADER: &str = "X-Weft-Timestamp";
/// How far a signed timestamp may be off when a scheme says nothing.
const DEFAULT_TOLERANCE: Duration = Duration::from_secs(300);
const INCREMENTAL_KEYS: &[&str] = &["start", "max_span", "overlap"];
pub(crate) const TARGET_KEYS: &[&str] = &["connection", "operation", "params", "batch_size"];
const TRANSFORM_KEYS: &[&str] = &["plugin", "config"];
const SCHEDULE_KEYS: &[&str] = &["every", "cron"];
pub(crate) const LIVE_KEYS: &[&str] = &["connection", "operation", "params", "key", "value"];

/// `target.batch_size` when the scheme gives none.
pub const DEFAULT_BATCH_SIZE: u32 = 50;

impl Scheme {
    /// Reads a scheme file. `file` names it in diagnostics.
    ///
    /// # Errors
    ///
    /// Every problem found, each with file, line and column: YAML syntax
    /// (which stops reading), unknown keys, wrong types, missing required
    /// keys, bad values (names, durations, date-times, time zones, cron
    /// patterns) and templates that do not compile or use unknown filters.
    pub fn parse(file: &str, text: &str) -> Result<Scheme, Diagnostics> {
        let root = yaml::load(file, text).map_err(|d| Diagnostics(vec![d]))?;
        let mut rd = Reader {
            report: Report::new(file),
        };
        let parts = rd.scheme(&root);
        // Templates are compiled even when the structure has problems, so
        // one pass shows both.
        let tz = parts.timezone.unwrap_or(clock::CHINA);
        mapping::check(&root, tz, &parts.lookups, Tables::Skip, &mut rd.report);
        if rd.report.has_errors() {
            return Err(Diagnostics::from(rd.report.items));
        }
        match parts.finish(root, file, text) {
            Some(scheme) => Ok(scheme),
            // Every `None` above comes with an error; this is a safety net.
            None => Err(Diagnostics::from(vec![crate::Diagnostic::error(
                file,
                1,
                1,
                "the scheme is incomplete",
            )])),
        }
    }
}

/// What was read, each part `None` where it had a problem.
#[derive(Default)]
struct Parts {
    name: Option<String>,
    title: Option<String>,
    timezone: Option<UtcOffset>,
    source: Option<Source>,
    flatten: Option<String>,
    filter: Option<String>,
    transforms: Vec<TransformStep>,
    target: Option<Target>,
    schedule: Option<Schedule>,
    lookups: Vec<LookupDef>,
}

impl Parts {
    fn finish(self, root: Node, file: &str, text: &str) -> Option<Scheme> {
        let name = self.name?;
        Some(Scheme {
            title: self.title.unwrap_or_else(|| name.clone()),
            name,
            source: self.source?,
            transforms: self.transforms,
            target: self.target?,
            schedule: self.schedule,
            timezone: self.timezone.unwrap_or(clock::CHINA),
            flatten: self.flatten,
            filter: self.filter,
            lookups: self.lookups,
            root,
            file: file.to_owned(),
            text: text.to_owned(),
        })
    }
}

struct Reader<'f> {
    report: Report<'f>,
}

impl Reader<'_> {
    fn scheme(&mut self, root: &Node) -> Parts {
        let mut parts = Parts::default();
        let Some(top) = self.mapping(root, "the scheme", TOP_KEYS) else {
            return parts;
        };
        if let Some(n) = self.required(top, "name", "the scheme") {
            parts.name = self.text(n, "name").filter(|name| {
                let ok = is_scheme_name(name);
                if !ok {
                    self.report.error_at(
                        n,
                        format!("name `{name}` must be 1 to 64 lowercase letters, digits, '-' or '_', starting with a letter or digit"),
                    );
                }
                ok
            });
        }
        if let Some(n) = top.get_node("title") {
            parts.title = self.text(n, "title");
        }
        if let Some(n) = top.get_node("timezone") {
            parts.timezone = self.text(n, "timezone").and_then(|s| {
                let tz = clock::parse_timezone(&s);
                if tz.is_none() {
                    self.report.error_at(
                        n,
                        format!("timezone `{s}` is neither an offset like +08:00 nor a known zone name (e.g. Asia/Shanghai, UTC)"),
                    );
                }
                tz
            });
        }
        let tz = parts.timezone.unwrap_or(clock::CHINA);
        if let Some(n) = self.required(top, "source", "the scheme")
            && let Some((source, flatten, filter)) = self.source(n, tz)
        {
            parts.source = Some(source);
            parts.flatten = flatten;
            parts.filter = filter;
        }
        if let Some(n) = top.get_node("transforms") {
            parts.transforms = self.transforms(n);
            if yaml::at(root, &["source", "webhook"]).is_some()
                && let Some(key) = key_node(top, "transforms")
            {
                // Transforms run on pulled pages inside a run's sandbox
                // sessions; the intake does not run plugins before the
                // ledger commit, so refusing is honest until it does.
                self.report.error(
                    key.span(),
                    "`transforms` are not run on webhook records; map the callback's fields in `mapping` instead",
                );
            }
        }
        if let Some(n) = self.required(top, "target", "the scheme") {
            parts.target = self.target(n);
        }
        if let Some(n) = top.get_node("schedule") {
            parts.schedule = self.schedule(n);
        }
        if let Some(n) = top.get_node("lookups") {
            parts.lookups = self.lookups(n);
        }
        if let Some(n) = self.required(top, "mapping", "the scheme")
            && n.as_mapping().is_none()
        {
            self.report.error_at(
                n,
                format!(
                    "`mapping` must be a mapping of target fields, not {}",
                    yaml::describe(n)
                ),
            );
        }
        parts
    }

    fn source(
        &mut self,
        node: &Node,
        tz: UtcOffset,
    ) -> Option<(Source, Option<String>, Option<String>)> {
        let map = self.mapping(node, "source", SOURCE_KEYS)?;
        let (connection, operation, params, incremental, page_size, webhook) = match map
            .get_node("webhook")
        {
            Some(n) => {
                for key in PULLED_ONLY_KEYS {
                    if let Some(k) = key_node(map, key) {
                        self.report.error(
                                k.span(),
                                format!("`source.{key}` cannot be combined with `source.webhook`: a webhook source is posted to weft, not read through a connection (remove `{key}`, or remove `webhook` to pull)"),
                            );
                    }
                }
                (
                    Some(String::new()),
                    Some(String::new()),
                    Some(serde_json::json!({})),
                    Some(None),
                    Some(None),
                    self.webhook(n).map(Some),
                )
            }
            None => (
                self.required_text(map, "connection", "source"),
                self.required_text(map, "operation", "source"),
                self.params(map, "source.params"),
                match map.get_node("incremental") {
                    Some(n) => self.incremental(n, tz).map(Some),
                    None => Some(None),
                },
                match map.get_node("page_size") {
                    Some(n) => self.positive(n, "source.page_size").map(Some),
                    None => Some(None),
                },
                Some(None),
            ),
        };
        let key = self.required_text(map, "key", "source").filter(|k| {
            let n = map.get_node("key");
            let constant = matches!(mapping::classify(k), mapping::Text::Constant(_));
            if constant
                && let Some(n) = n {
                    self.report.error_at(
                        n,
                        format!("`source.key` must be a template over the record, e.g. \"{{{{ purchase_no }}}}\", not the constant `{k}`"),
                    );
                }
            !constant
        });
        let on_change = match map.get_node("on_change") {
            None => Some(ChangePolicy::Resend),
            Some(n) => match self.text(n, "source.on_change").as_deref() {
                Some("resend") => Some(ChangePolicy::Resend),
                Some("skip") => Some(ChangePolicy::Skip),
                Some(other) => {
                    self.report.error_at(
                        n,
                        format!("`source.on_change` must be `resend` or `skip`, not `{other}`"),
                    );
                    None
                }
                None => None,
            },
        };
        let flatten = match map.get_node("flatten") {
            Some(n) => self.text(n, "source.flatten").and_then(|f| {
                let ok = f.split('.').all(|s| !s.is_empty() && !s.contains(char::is_whitespace));
                if !ok {
                    self.report.error_at(
                        n,
                        format!("`source.flatten` must name a list field (e.g. details_list or data.items), not `{f}`"),
                    );
                }
                ok.then_some(f)
            }),
            None => None,
        };
        // Its form (one expression) is checked where it is compiled.
        let filter = map
            .get_node("filter")
            .and_then(|n| self.text(n, "source.filter"));
        let source = Source {
            connection: connection?,
            operation: operation?,
            params: params?,
            incremental: incremental?,
            key: key?,
            on_change: on_change?,
            page_size: page_size?,
            webhook: webhook?,
        };
        Some((source, flatten, filter))
    }

    fn webhook(&mut self, node: &Node) -> Option<Webhook> {
        let what = "source.webhook";
        let map = self.mapping(node, what, WEBHOOK_KEYS)?;
        let auth = match map.get_node("auth") {
            Some(n) => self.webhook_auth(n),
            None => {
                self.report.error(
                    yaml::mapping_start(map),
                    "`source.webhook` is missing the required key `auth`: say how callbacks prove who sent them, e.g. auth: { hmac_sha256: { secret: my_hook } } or auth: { bearer: { secret: my_hook } }",
                );
                None
            }
        };
        let records = match map.get_node("records") {
            None => Some(String::new()),
            Some(n) => match n.as_scalar() {
                Some(s) if is_json_pointer(s.as_str()) => Some(s.as_str().to_owned()),
                _ => {
                    self.report.error_at(
                        n,
                        format!("`source.webhook.records` must be a JSON pointer to the records in the body: empty for the whole body, or starting with `/` (e.g. /data/trades), not {}", yaml::describe(n)),
                    );
                    None
                }
            },
        };
        Some(Webhook {
            auth: auth?,
            records: records?,
        })
    }

    fn webhook_auth(&mut self, node: &Node) -> Option<WebhookAuth> {
        let what = "source.webhook.auth";
        let map = self.mapping(node, what, AUTH_KEYS)?;
        match (map.get_node("hmac_sha256"), map.get_node("bearer")) {
            (Some(n), None) => {
                let what = "source.webhook.auth.hmac_sha256";
                let m = self.mapping(n, what, HMAC_KEYS)?;
                let secret = self.secret_name(m, what);
                let header = self.header_name(m, "header", what, DEFAULT_SIGNATURE_HEADER);
                let encoding = match m.get_node("encoding") {
                    None => Some(SignatureEncoding::Hex),
                    Some(e) => match self.text(e, &format!("{what}.encoding")).as_deref() {
                        Some("hex") => Some(SignatureEncoding::Hex),
                        Some("base64") => Some(SignatureEncoding::Base64),
                        Some(other) => {
                            self.report.error_at(
                                e,
                                format!(
                                    "`{what}.encoding` must be `hex` or `base64`, not `{other}`"
                                ),
                            );
                            None
                        }
                        None => None,
                    },
                };
                let timestamp = match m.get_node("timestamp") {
                    None => Some(None),
                    Some(t) => self.signed_timestamp(t).map(Some),
                };
                Some(WebhookAuth::HmacSha256 {
                    secret: secret?,
                    header: header?,
                    encoding: encoding?,
                    timestamp: timestamp?,
                })
            }
            (None, Some(n)) => {
                let what = "source.webhook.auth.bearer";
                let m = self.mapping(n, what, BEARER_KEYS)?;
                Some(WebhookAuth::Bearer {
                    secret: self.secret_name(m, what)?,
                })
            }
            (Some(_), Some(_)) => {
                self.report.error(
                    yaml::mapping_start(map),
                    "`source.webhook.auth` takes `hmac_sha256` or `bearer`, not both",
                );
                None
            }
            // Keys that are there were reported as unknown, with the
            // expected ones listed; say more only about an empty mapping.
            (None, None) if !map.is_empty() => None,
            (None, None) => {
                self.report.error(
                    yaml::mapping_start(map),
                    "`source.webhook.auth` needs `hmac_sha256` (e.g. hmac_sha256: { secret: my_hook }) or `bearer` (e.g. bearer: { secret: my_hook })",
                );
                None
            }
        }
    }

    fn signed_timestamp(&mut self, node: &Node) -> Option<SignedTimestamp> {
        let what = "source.webhook.auth.hmac_sha256.timestamp";
        let map = self.mapping(node, what, TIMESTAMP_KEYS)?;
        let header = self.header_name(map, "header", what, DEFAULT_TIMESTAMP_HEADER);
        let tolerance = match map.get_node("tolerance") {
            Some(n) => self.duration(n, &format!("{what}.tolerance"), false),
            None => Some(DEFAULT_TOLERANCE),
        };
        Some(SignedTimestamp {
            header: header?,
            tolerance: tolerance?,
        })
    }

    /// `secret`: the name of a secret, which the engine resolves per
    /// tenant. A name (not a value) keeps secrets out of scheme files,
    /// which are shared, versioned and shown.
    fn secret_name(&mut self, map: &MarkedMappingNode, what: &str) -> Option<String> {
        let node = self.required(map, "secret", what)?;
        let name = self.text(node, &format!("{what}.secret"))?;
        if is_secret_name(&name) {
            Some(name)
        } else {
            self.report.error_at(
                node,
                format!("`{what}.secret` names a secret (1 to 64 letters, digits or '_', starting with a letter, e.g. opencallback); the value itself never goes in a scheme. `{name}` is not such a name"),
            );
            None
        }
    }

    /// An HTTP header name, `default` when absent.
    fn header_name(
        &mut self,
        map: &MarkedMappingNode,
        key: &str,
        what: &str,
        default: &str,
    ) -> Option<String> {
        let Some(node) = map.get_node(key) else {
            return Some(default.to_owned());
        };
        let name = self.text(node, &format!("{what}.{key}"))?;
        let ok = name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !ok {
            self.report.error_at(
                node,
                format!("`{what}.{key}` must be an HTTP header name (letters, digits, '-'), not `{name}`"),
            );
        }
        ok.then_some(name)
    }

    fn incremental(&mut self, node: &Node, tz: UtcOffset) -> Option<Incremental> {
        let map = self.mapping(node, "source.incremental", INCREMENTAL_KEYS)?;
        let start = self.required(map, "start", "source.incremental").and_then(|n| {
            let s = self.text(n, "source.incremental.start")?;
            let t = clock::parse_start(&s, tz);
            if t.is_none() {
                self.report.error_at(
                    n,
                    format!("`source.incremental.start` `{s}` is not a date-time (write 2024-01-01 00:00:00, in the scheme's timezone, or RFC 3339)"),
                );
            }
            t
        });
        let max_span = match map.get_node("max_span") {
            Some(n) => self
                .duration(n, "source.incremental.max_span", false)
                .map(Some),
            None => Some(None),
        };
        let overlap = match map.get_node("overlap") {
            Some(n) => self.duration(n, "source.incremental.overlap", true),
            None => Some(Duration::ZERO),
        };
        Some(Incremental {
            start: start?,
            max_span: max_span?,
            overlap: overlap?,
        })
    }

    fn transforms(&mut self, node: &Node) -> Vec<TransformStep> {
        let Some(items) = node.as_sequence() else {
            self.report.error_at(
                node,
                format!("`transforms` must be a list, not {}", yaml::describe(node)),
            );
            return Vec::new();
        };
        let mut out = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let what = format!("transforms[{i}]");
            let Some(map) = self.mapping(item, &what, TRANSFORM_KEYS) else {
                continue;
            };
            let plugin = self.required_text(map, "plugin", &what);
            let config = match map.get_node("config") {
                Some(n) => yaml::to_json(n),
                None => serde_json::json!({}),
            };
            if let Some(plugin) = plugin {
                out.push(TransformStep { plugin, config });
            }
        }
        out
    }

    fn target(&mut self, node: &Node) -> Option<Target> {
        let map = self.mapping(node, "target", TARGET_KEYS)?;
        let connection = self.required_text(map, "connection", "target");
        let operation = self.required_text(map, "operation", "target");
        let params = self.params(map, "target.params");
        let batch_size = match map.get_node("batch_size") {
            Some(n) => self.positive(n, "target.batch_size"),
            None => Some(DEFAULT_BATCH_SIZE),
        };
        Some(Target {
            connection: connection?,
            operation: operation?,
            params: params?,
            batch_size: batch_size?,
        })
    }

    fn schedule(&mut self, node: &Node) -> Option<Schedule> {
        let map = self.mapping(node, "schedule", SCHEDULE_KEYS)?;
        match (map.get_node("every"), map.get_node("cron")) {
            (Some(n), None) => self
                .duration(n, "schedule.every", false)
                .map(Schedule::Every),
            (None, Some(n)) => {
                let pattern = self.text(n, "schedule.cron")?;
                match schedule::parse_cron(&pattern) {
                    Ok(_) => Some(Schedule::Cron(pattern)),
                    Err(e) => {
                        self.report.error_at(n, format!("`schedule.cron`: {e}"));
                        None
                    }
                }
            }
            (Some(_), Some(_)) => {
                self.report.error(
                    yaml::mapping_start(map),
                    "`schedule` takes `every` or `cron`, not both",
                );
                None
            }
            (None, None) => {
                self.report.error(
                    yaml::mapping_start(map),
                    "`schedule` needs `every` (e.g. every: 10m) or `cron` (e.g. cron: \"0 */5 * * * *\")",
                );
                None
            }
        }
    }

    fn lookups(&mut self, node: &Node) -> Vec<LookupDef> {
        let Some(map) = node.as_mapping() else {
            self.report.error_at(
                node,
                format!(
                    "`lookups` must be a mapping of tables, not {}",
                    yaml::describe(node)
                ),
            );
            return Vec::new();
        };
        let mut out = Vec::new();
        for (name, table) in map.iter() {
            let name = name.as_str().to_owned();
            let what = format!("lookups.{name}");
            let Some(rows) = table.as_mapping() else {
                self.report.error_at(
                    table,
                    format!(
                        "`{what}` must be a mapping (key: value, or a live table), not {}",
                        yaml::describe(table)
                    ),
                );
                continue;
            };
            let live =
                rows.get_node("connection").is_some() && rows.get_node("operation").is_some();
            if live {
                if let Some(l) = self.live_lookup(&name, table, &what) {
                    out.push(LookupDef::Live(l));
                }
            } else {
                let rows: HashMap<String, serde_json::Value> = rows
                    .iter()
                    .map(|(k, v)| (k.as_str().to_owned(), yaml::to_json(v)))
                    .collect();
                out.push(LookupDef::Static { name, rows });
            }
        }
        out
    }

    fn live_lookup(&mut self, name: &str, node: &Node, what: &str) -> Option<LiveLookup> {
        let map = self.mapping(node, what, LIVE_KEYS)?;
        let connection = self.required_text(map, "connection", what);
        let operation = self.required_text(map, "operation", what);
        let params = self.params(map, &format!("{what}.params"));
        if let Some(p) = map.get_node("params")
            && has_markup(p)
        {
            self.report.error_at(
                    p,
                    format!("`{what}.params` must be constants: a live table is read once per run, before any record"),
                );
        }
        let key = self.required_text(map, "key", what);
        let value = self.required_text(map, "value", what);
        Some(LiveLookup {
            name: name.to_owned(),
            connection: connection?,
            operation: operation?,
            params: params?,
            key: key?,
            value: value?,
        })
    }

    // --- typed readers ------------------------------------------------

    /// `node` as a mapping, with unknown keys reported.
    fn mapping<'n>(
        &mut self,
        node: &'n Node,
        what: &str,
        known: &[&str],
    ) -> Option<&'n MarkedMappingNode> {
        let Some(map) = node.as_mapping() else {
            self.report.error_at(
                node,
                format!("`{what}` must be a mapping, not {}", yaml::describe(node)),
            );
            return None;
        };
        for (key, _) in map.iter() {
            if !known.contains(&key.as_str()) {
                let place = if what == "the scheme" {
                    "the scheme".to_owned()
                } else {
                    format!("`{what}`")
                };
                let hint = match suggest(key.as_str(), known) {
                    Some(s) => format!("; did you mean `{s}`?"),
                    None => format!(" (expected one of: {})", known.join(", ")),
                };
                self.report.error(
                    key.span(),
                    format!("unknown key `{}` in {place}{hint}", key.as_str()),
                );
            }
        }
        Some(map)
    }

    fn required<'n>(
        &mut self,
        map: &'n MarkedMappingNode,
        key: &str,
        what: &str,
    ) -> Option<&'n Node> {
        let node = map.get_node(key);
        if node.is_none() {
            let place = if what == "the scheme" {
                "the scheme".to_owned()
            } else {
                format!("`{what}`")
            };
            self.report.error(
                yaml::mapping_start(map),
                format!("{place} is missing the required key `{key}`"),
            );
        }
        node
    }

    fn required_text(&mut self, map: &MarkedMappingNode, key: &str, what: &str) -> Option<String> {
        let node = self.required(map, key, what)?;
        self.text(node, &format!("{what}.{key}"))
    }

    /// A non-empty string (any scalar's text).
    fn text(&mut self, node: &Node, what: &str) -> Option<String> {
        match node.as_scalar() {
            Some(s) if !s.as_str().is_empty() => Some(s.as_str().to_owned()),
            _ => {
                self.report.error_at(
                    node,
                    format!("`{what}` must be a string, not {}", yaml::describe(node)),
                );
                None
            }
        }
    }

    fn positive(&mut self, node: &Node, what: &str) -> Option<u32> {
        let n = node
            .as_scalar()
            .filter(|s| s.may_coerce())
            .and_then(|s| s.as_str().parse::<u32>().ok())
            .filter(|n| *n > 0);
        if n.is_none() {
            self.report.error_at(
                node,
                format!(
                    "`{what}` must be a positive whole number, not {}",
                    yaml::describe(node)
                ),
            );
        }
        n
    }

    fn duration(&mut self, node: &Node, what: &str, zero_ok: bool) -> Option<Duration> {
        let s = self.text(node, what)?;
        match clock::parse_duration(&s) {
            Ok(d) if d.is_zero() && !zero_ok => {
                self.report
                    .error_at(node, format!("`{what}` must be longer than zero"));
                None
            }
            Ok(d) => Some(d),
            Err(e) => {
                self.report.error_at(node, format!("`{what}`: {e}"));
                None
            }
        }
    }

    /// Optional operation params: a mapping, `{}` when absent.
    fn params(&mut self, map: &MarkedMappingNode, what: &str) -> Option<serde_json::Value> {
        match map.get_node("params") {
            None => Some(serde_json::json!({})),
            Some(n) if n.as_mapping().is_some() => Some(yaml::to_json(n)),
            Some(n) => {
                self.report.error_at(
                    n,
                    format!("`{what}` must be a mapping, not {}", yaml::describe(n)),
                );
                None
            }
        }
    }
}

fn is_scheme_name(name: &str) -> bool {
    name.len() <= 64
        && name
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

fn is_secret_name(name: &str) -> bool {
    name.len() <= 64
        && name.bytes().next().is_some_and(|b| b.is_ascii_alphabetic())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// An RFC 6901 pointer: empty, or `/`-separated tokens where `~` is only
/// written as `~0` or `~1`.
fn is_json_pointer(text: &str) -> bool {
    if text.is_empty() {
        return true;
    }
    let Some(rest) = text.strip_prefix('/') else {
        return false;
    };
    rest.split('/').all(|token| {
        let mut chars = token.chars();
        while let Some(c) = chars.next() {
            if c == '~' && !matches!(chars.next(), Some('0' | '1')) {
                return false;
            }
        }
        true
    })
}

/// The key node `key` of a mapping, for reporting at the key itself.
fn key_node<'n>(
    map: &'n MarkedMappingNode,
    key: &str,
) -> Option<&'n marked_yaml::types::MarkedScalarNode> {
    map.keys().find(|k| k.as_str() == key)
}

fn has_markup(node: &Node) -> bool {
    match node {
        Node::Scalar(s) => !matches!(mapping::classify(s.as_str()), mapping::Text::Constant(_)),
        Node::Sequence(items) => items.iter().any(has_markup),
        Node::Mapping(m) => m.values().any(has_markup),
    }
}

/// The known key closest to a misspelt one, if it is close.
fn suggest<'k>(key: &str, known: &[&'k str]) -> Option<&'k str> {
    known
        .iter()
        .map(|k| (edit_distance(key, k), *k))
        .filter(|(d, k)| *d <= 2.max(k.len() / 4))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = if ca == *cb {
                prev
            } else {
                1 + prev.min(row[j]).min(row[j + 1])
            };
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests;
