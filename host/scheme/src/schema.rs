//! The scheme format's JSON Schema, for editors (`# yaml-language-server:
//! $schema=…`) and other tools.
//!
//! The parser walks the YAML tree by hand (to report every problem at
//! once), so the schema is described by these mirror types; a test checks
//! that the sketch scheme and the test schemes validate against it, and
//! another that `docs/scheme.schema.json` is up to date.

#![allow(dead_code)] // The types exist only to be described.

use std::collections::BTreeMap;

use schemars::JsonSchema;

/// The JSON Schema of the scheme format (`docs/scheme.schema.json`).
pub fn json_schema() -> serde_json::Value {
    let schema = schemars::schema_for!(SchemeDoc);
    serde_json::to_value(&schema).unwrap_or_default()
}

/// A weft scheme (集成方案): where documents come from, how each is
/// mapped, where it goes, and when.
#[derive(JsonSchema)]
#[schemars(title = "weft scheme", deny_unknown_fields)]
struct SchemeDoc {
    /// The scheme's identifier: lowercase letters, digits, `-` and `_`.
    #[schemars(pattern(r"^[a-z0-9][a-z0-9_-]{0,63}$"))]
    name: String,
    /// A human title; defaults to the name.
    title: Option<String>,
    /// The scheme's time zone: an offset (`+08:00`) or one of the zone
    /// names weft knows (`Asia/Shanghai`, `UTC`, …). Default `+08:00`.
    #[schemars(pattern(r"^([+-]\d{1,2}(:?\d{2})?|[A-Za-z_]+(/[A-Za-z_]+)?)$"))]
    timezone: Option<String>,
    source: SourceDoc,
    /// Transform plugins run on each page, in order.
    transforms: Option<Vec<TransformDoc>>,
    target: TargetDoc,
    schedule: Option<ScheduleDoc>,
    /// Lookup tables `lookup('name')` reads: a mapping of key to value, or
    /// a live table read through a connector.
    lookups: Option<BTreeMap<String, LookupDoc>>,
    /// The target document: field → value. A string that is exactly one
    /// `{{ expression }}` keeps the expression's type; other strings with
    /// `{{ }}` or `{% %}` render to strings; everything else is a constant.
    mapping: BTreeMap<String, MappingValue>,
}

/// Where records come from: read through a connection (a pulled source)
/// or posted to weft by the other system (a webhook source).
#[derive(JsonSchema)]
#[schemars(untagged)]
enum SourceDoc {
    Pulled(PulledSourceDoc),
    Webhook(WebhookSourceDoc),
}

/// Records read through a tenant's connection, window by window.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
struct PulledSourceDoc {
    /// The tenant's connection.
    connection: String,
    /// A source operation of the connection's connector.
    operation: String,
    /// The operation's params; values may be templates over
    /// `LAST_SYNC_TIME`, `CURRENT_TIME`, `PAGINATION_PAGE_SIZE`.
    params: Option<BTreeMap<String, MappingValue>>,
    incremental: Option<IncrementalDoc>,
    /// Template of a record's business key, e.g. `{{ purchase_no }}`.
    key: String,
    /// What to do when a record seen before comes back changed.
    on_change: Option<ChangePolicyDoc>,
    /// Records per page to ask for.
    #[schemars(range(min = 1))]
    page_size: Option<u32>,
    /// A list field to split each record on: one record per row, the row
    /// replacing the list.
    #[schemars(pattern(r"^[^.\s]+(\.[^.\s]+)*$"))]
    flatten: Option<String>,
    /// One `{{ expression }}`: records for which it is false are skipped.
    filter: Option<String>,
}

/// Records posted to weft (`POST /hooks/{tenant}/{scheme}`).
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
struct WebhookSourceDoc {
    webhook: WebhookDoc,
    /// Template of a record's business key, e.g. `{{ tid }}`.
    key: String,
    /// What to do when a record seen before comes back changed.
    on_change: Option<ChangePolicyDoc>,
    /// A list field to split each record on: one record per row, the row
    /// replacing the list.
    #[schemars(pattern(r"^[^.\s]+(\.[^.\s]+)*$"))]
    flatten: Option<String>,
    /// One `{{ expression }}`: records for which it is false are skipped.
    filter: Option<String>,
}

/// How callbacks are authenticated and where their records are.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
struct WebhookDoc {
    auth: WebhookAuthDoc,
    /// JSON pointer to the records in the body: an array (one record per
    /// item) or an object (one record). Empty or absent: the whole body.
    #[schemars(pattern(r"^(/([^~/]|~[01])*)*$"))]
    records: Option<String>,
}

/// `{ hmac_sha256: { secret: NAME } }` or `{ bearer: { secret: NAME } }`.
#[derive(JsonSchema)]
#[schemars(untagged)]
enum WebhookAuthDoc {
    Hmac(HmacAuthDoc),
    Bearer(BearerAuthDoc),
}

#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
struct HmacAuthDoc {
    hmac_sha256: HmacDoc,
}

/// An HMAC-SHA256 signature of the raw body under a shared secret.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
struct HmacDoc {
    secret: SecretNameDoc,
    /// The header carrying the signature. Default `X-Weft-Signature`.
    #[schemars(pattern(r"^[A-Za-z0-9_-]+$"))]
    header: Option<String>,
    /// How the signature is written. Default `hex`.
    encoding: Option<EncodingDoc>,
    timestamp: Option<TimestampDoc>,
}

/// A timestamp header (Unix seconds) covered by the signature, which is
/// then taken over `"{timestamp}.{body}"`.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
struct TimestampDoc {
    /// Default `X-Weft-Timestamp`.
    #[schemars(pattern(r"^[A-Za-z0-9_-]+$"))]
    header: Option<String>,
    /// How far the timestamp may be from the host's clock. Default `5m`.
    tolerance: Option<DurationDoc>,
}

#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
struct BearerAuthDoc {
    bearer: BearerDoc,
}

/// `Authorization: Bearer <secret>`.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
struct BearerDoc {
    secret: SecretNameDoc,
}

/// The name of a secret (never its value), resolved per tenant by the
/// host: `WEFT_HOOK_SECRET_<TENANT>__<NAME>`, else `WEFT_HOOK_SECRET_<NAME>`.
#[derive(JsonSchema)]
#[schemars(transparent)]
struct SecretNameDoc(#[schemars(pattern(r"^[A-Za-z][A-Za-z0-9_]{0,63}$"))] String);

/// `hex` (default; a `sha256=` prefix is accepted) or `base64`.
#[derive(JsonSchema)]
#[schemars(rename_all = "lowercase")]
enum EncodingDoc {
    Hex,
    Base64,
}

/// How a run walks time windows.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
struct IncrementalDoc {
    /// Where the first run starts: `2024-01-01 00:00:00` in the scheme's
    /// time zone, a date, or RFC 3339.
    start: String,
    /// Longest window per call.
    max_span: Option<DurationDoc>,
    /// How far each window reaches back before the previous one's end.
    overlap: Option<DurationDoc>,
}

/// A duration: `30d`, `12h`, `5m`, `90s`, `1h30m`.
#[derive(JsonSchema)]
#[schemars(transparent)]
struct DurationDoc(#[schemars(pattern(r"^(0|(\d+[dhms])+)$"))] String);

/// `resend` (default): queue a changed record again; `skip`: keep the
/// first version.
#[derive(JsonSchema)]
#[schemars(rename_all = "lowercase")]
enum ChangePolicyDoc {
    Resend,
    Skip,
}

/// A transform plugin run on each page.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
struct TransformDoc {
    /// The installed transform plugin.
    plugin: String,
    /// Its config, checked against the plugin's config schema.
    config: Option<serde_json::Value>,
}

/// Where documents are written.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
struct TargetDoc {
    /// The tenant's connection.
    connection: String,
    /// A target operation of the connection's connector.
    operation: String,
    /// The operation's params.
    params: Option<BTreeMap<String, MappingValue>>,
    /// Documents per write call (default 50).
    #[schemars(range(min = 1))]
    batch_size: Option<u32>,
}

/// When the scheme runs by itself: `{ every: 10m }` or
/// `{ cron: "0 */5 * * * *" }`.
#[derive(JsonSchema)]
#[schemars(untagged)]
enum ScheduleDoc {
    Every(EveryDoc),
    Cron(CronDoc),
}

#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
struct EveryDoc {
    /// Interval between run starts.
    every: DurationDoc,
}

#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
struct CronDoc {
    /// A cron pattern: 5 fields, or 6 with seconds first; in the scheme's
    /// time zone.
    cron: String,
}

/// A lookup table.
#[derive(JsonSchema)]
#[schemars(untagged)]
enum LookupDoc {
    Live(LiveLookupDoc),
    Static(BTreeMap<String, serde_json::Value>),
}

/// A table read through a connector before mapping.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
struct LiveLookupDoc {
    /// The tenant's connection.
    connection: String,
    /// A source operation of its connector.
    operation: String,
    /// The operation's params (constants).
    params: Option<BTreeMap<String, serde_json::Value>>,
    /// Template over one returned row giving its key.
    key: String,
    /// Template over one returned row giving its value.
    value: String,
}

/// A value of the mapping: a constant, a template, an object or list of
/// values, or an `each` block.
#[derive(JsonSchema)]
#[schemars(untagged)]
enum MappingValue {
    Each(Box<EachDoc>),
    Scalar(ScalarDoc),
    List(Vec<MappingValue>),
    Object(BTreeMap<String, MappingValue>),
}

/// A constant or a template.
#[derive(JsonSchema)]
#[schemars(untagged)]
enum ScalarDoc {
    Text(String),
    Number(f64),
    Bool(bool),
    Null(()),
}

/// One output item per row of a list.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
struct EachDoc {
    /// The list: a field name (`details_list`, `data.items`) or one
    /// `{{ expression }}`.
    each: String,
    /// The row's name besides `row` (default: the list field's last name).
    #[schemars(rename = "as")]
    as_: Option<String>,
    /// What each row becomes.
    map: MappingValue,
    /// One `{{ expression }}`: rows for which it is false are left out.
    filter: Option<String>,
    /// Rows with the same key are merged into one item.
    group_by: Option<String>,
    /// Output fields added up when rows merge.
    sum: Option<Vec<String>>,
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::yaml;

    fn committed() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/scheme.schema.json")
    }

    /// Fails when `docs/scheme.schema.json` differs from [`json_schema`].
    /// `WEFT_BLESS=1 cargo test --release -p weft-scheme schema` rewrites it.
    #[test]
    fn committed_schema_is_current() {
        let mut text = serde_json::to_string_pretty(&json_schema()).unwrap_or_default();
        text.push('\n');
        if std::env::var_os("WEFT_BLESS").is_some() {
            if let Err(e) = std::fs::write(committed(), &text) {
                panic!("cannot write {}: {e}", committed().display());
            }
            return;
        }
        let on_disk = std::fs::read_to_string(committed()).unwrap_or_default();
        assert!(
            on_disk == text,
            "docs/scheme.schema.json is out of date with weft_scheme::json_schema(); regenerate it with\n    WEFT_BLESS=1 cargo test --release -p weft-scheme schema"
        );
    }

    #[test]
    fn the_sketch_validates_against_the_schema() {
        let schema = json_schema();
        let validator = match jsonschema::validator_for(&schema) {
            Ok(v) => v,
            Err(e) => panic!("the schema is not a JSON Schema: {e}"),
        };
        for (name, text) in [
            ("sketch.yaml", include_str!("../testdata/sketch.yaml")),
            (
                "opencallback-to-wdt-trade-push.yaml",
                include_str!("../../../schemes/opencallback-to-wdt-trade-push.yaml"),
            ),
            (
                "cron.yaml",
                "name: c\nsource: { connection: a, operation: b, key: \"{{ k }}\" }\ntarget: { connection: a, operation: b }\nschedule: { cron: \"0 2 * * *\" }\nmapping: { A: [1, \"x\", { B: null }], E: { each: \"{{ xs }}\", as: x, map: \"{{ x }}\" } }\n",
            ),
        ] {
            let node = yaml::load(name, text).unwrap_or_else(|d| panic!("{d}"));
            let json = yaml::to_json(&node);
            let errors: Vec<String> = validator
                .iter_errors(&json)
                .map(|e| format!("{}: {e}", e.instance_path()))
                .collect();
            assert!(errors.is_empty(), "{name}: {errors:#?}");
        }
        let bad = serde_json::json!({"name": "Bad Name", "source": {}, "mapping": {}});
        assert!(!validator.is_valid(&bad));
    }
}
