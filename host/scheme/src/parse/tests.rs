use std::time::Duration;

use super::*;
use crate::{ChangePolicy, Schedule, Severity};

const SKETCH: &str = include_str!("../../testdata/sketch.yaml");

/// The diagnostics of `text` as `line:column: message` lines.
fn problems(text: &str) -> Vec<String> {
    match Scheme::parse("s.yaml", text) {
        Ok(_) => Vec::new(),
        Err(d) => {
            d.0.iter()
                .map(|d| format!("{}:{}: {}", d.line, d.column, d.message))
                .collect()
        }
    }
}

const MINIMAL: &str = "name: po\nsource:\n  connection: wdt\n  operation: q\n  key: \"{{ no }}\"\ntarget:\n  connection: k3\n  operation: w\nmapping:\n  A: 1\n";

#[test]
fn reads_the_sketch() {
    let s = Scheme::parse("sketch.yaml", SKETCH).unwrap_or_else(|d| panic!("{d}"));
    assert_eq!(s.name, "wdt-purchase-order-to-k3cloud");
    assert_eq!(
        s.title,
        "旺店通·企业版 查询采购单 → 金蝶云星空 采购订单新增"
    );
    assert_eq!(s.timezone, clock::CHINA);
    assert_eq!(s.source.connection, "wdt");
    assert_eq!(s.source.operation, "purchase_order_query");
    assert_eq!(
        s.source.params,
        serde_json::json!({"start_time": "{{ LAST_SYNC_TIME | datetime }}", "end_time": "{{ CURRENT_TIME | datetime }}", "page_size": 100})
    );
    let inc = s.source.incremental.expect("incremental");
    assert_eq!(inc.start.unix_timestamp(), 1_704_038_400);
    assert_eq!(inc.max_span, Some(Duration::from_secs(30 * 86_400)));
    assert_eq!(inc.overlap, Duration::from_secs(300));
    assert_eq!(s.source.key, "{{ purchase_no }}");
    assert_eq!(s.source.on_change, ChangePolicy::Resend);
    assert_eq!(s.source.page_size, None);
    assert_eq!(s.flatten(), Some("details_list"));
    assert_eq!(s.filter(), Some("{{ status != '10' }}"));
    assert_eq!(s.transforms.len(), 1);
    assert_eq!(s.transforms[0].plugin, "sku-remap");
    assert_eq!(s.target.connection, "k3cloud");
    assert_eq!(s.target.batch_size, 50);
    assert_eq!(s.schedule, Some(Schedule::Every(Duration::from_secs(600))));
    let mut names: Vec<&str> = s.lookup_names().collect();
    names.sort_unstable();
    assert_eq!(names, ["materials", "suppliers"]);
    assert_eq!(s.text(), SKETCH);
    assert_eq!(s.file(), "sketch.yaml");
}

#[test]
fn defaults() {
    let s = Scheme::parse("s.yaml", MINIMAL).unwrap_or_else(|d| panic!("{d}"));
    assert_eq!(s.title, "po");
    assert_eq!(s.timezone, clock::CHINA);
    assert_eq!(s.source.params, serde_json::json!({}));
    assert_eq!(s.source.incremental, None);
    assert_eq!(s.source.on_change, ChangePolicy::Resend);
    assert_eq!(s.target.params, serde_json::json!({}));
    assert_eq!(s.target.batch_size, DEFAULT_BATCH_SIZE);
    assert!(s.transforms.is_empty());
    assert_eq!(s.schedule, None);
    let s = Scheme::parse(
        "s.yaml",
        &MINIMAL.replace("name: po\n", "name: po\ntimezone: Asia/Shanghai\nschedule: { cron: \"0 */5 * * * *\" }\n")
            .replace("  key:", "  on_change: skip\n  page_size: 50\n  incremental: { start: \"2024-01-01T00:00:00Z\" }\n  key:"),
    )
    .unwrap_or_else(|d| panic!("{d}"));
    assert_eq!(s.schedule, Some(Schedule::Cron("0 */5 * * * *".into())));
    assert_eq!(s.source.on_change, ChangePolicy::Skip);
    assert_eq!(s.source.page_size, Some(50));
    let inc = s.source.incremental.expect("incremental");
    assert_eq!(inc.start.unix_timestamp(), 1_704_067_200);
    assert_eq!((inc.max_span, inc.overlap), (None, Duration::ZERO));
}

#[test]
fn a_bad_template_is_reported_at_its_value() {
    let text = MINIMAL.replace(
        "  A: 1\n",
        "  A: 1\n  FDate: \"{{ check_time | date('%Y' }}\"\n",
    );
    assert_eq!(
        problems(&text),
        [
            "11:10: template does not compile: syntax error: unexpected end of input, expected `,` (template line 1, column 22)"
        ]
    );
}

#[test]
fn an_unknown_key_is_reported_at_the_key() {
    let text = MINIMAL
        .replace("  operation: w\n", "  operation: w\n  batchsize: 10\n")
        .replace("name: po\n", "name: po\nschedul: { every: 5m }\n");
    assert_eq!(
        problems(&text),
        [
            "2:1: unknown key `schedul` in the scheme; did you mean `schedule`?",
            "10:3: unknown key `batchsize` in `target`; did you mean `batch_size`?"
        ]
    );
    let text = MINIMAL.replace("  A: 1\n", "  A: { each: xs, map: 1, grup_by: x }\n");
    assert_eq!(
        problems(&text),
        [
            "10:26: unknown key `grup_by` in an `each` block (expected one of: each, as, map, filter, group_by, sum)"
        ]
    );
}

#[test]
fn a_wrong_type_is_reported_at_the_value() {
    let text = MINIMAL
        .replace("  operation: w\n", "  operation: w\n  batch_size: lots\n")
        .replace("  connection: wdt\n", "  connection: [wdt]\n");
    assert_eq!(
        problems(&text),
        [
            "3:15: `source.connection` must be a string, not a list",
            "9:15: `target.batch_size` must be a positive whole number, not `lots`"
        ]
    );
    assert_eq!(
        problems(&MINIMAL.replace("mapping:\n  A: 1\n", "mapping: [1]\n")),
        ["9:10: `mapping` must be a mapping of target fields, not a list"]
    );
}

#[test]
fn a_missing_key_is_reported_at_its_mapping() {
    let text = MINIMAL.replace("  key: \"{{ no }}\"\n", "");
    assert_eq!(
        problems(&text),
        ["3:3: `source` is missing the required key `key`"]
    );
    let text = MINIMAL.replace("name: po\n", "");
    assert_eq!(
        problems(&text),
        ["1:1: the scheme is missing the required key `name`"]
    );
}

#[test]
fn every_problem_at_once() {
    let text = "name: Bad Name\ntimezone: Mars\nsource:\n  connection: wdt\n  operation: q\n  key: constant\n  on_change: maybe\n  incremental: { start: soon, max_span: 3x, overlap: 0 }\ntarget: { connection: k3, operation: w, batch_size: 0 }\nschedule: { every: 0s }\nmapping:\n  A: \"{{ a | nosuchfilter }}\"\n";
    assert_eq!(
        problems(text),
        [
            "1:7: name `Bad Name` must be 1 to 64 lowercase letters, digits, '-' or '_', starting with a letter or digit",
            "2:11: timezone `Mars` is neither an offset like +08:00 nor a known zone name (e.g. Asia/Shanghai, UTC)",
            "6:8: `source.key` must be a template over the record, e.g. \"{{ purchase_no }}\", not the constant `constant`",
            "7:14: `source.on_change` must be `resend` or `skip`, not `maybe`",
            "8:25: `source.incremental.start` `soon` is not a date-time (write 2024-01-01 00:00:00, in the scheme's timezone, or RFC 3339)",
            "8:41: `source.incremental.max_span`: '3x' is not a duration (write e.g. 30d, 12h, 5m, 90s or 1h30m)",
            "9:53: `target.batch_size` must be a positive whole number, not `0`",
            "10:20: `schedule.every` must be longer than zero",
            "12:6: unknown filter `nosuchfilter` (template line 1, column 8)",
        ]
    );
}

#[test]
fn filters_and_each_lists_must_be_expressions() {
    let text = MINIMAL.replace(
        "  key: \"{{ no }}\"\n",
        "  key: \"{{ no }}\"\n  filter: \"status {{ s }}\"\n",
    );
    assert_eq!(
        problems(&text),
        ["6:11: `source.filter` must be one expression in {{ }}, e.g. \"{{ status != '10' }}\""]
    );
    let text = MINIMAL.replace("  A: 1\n", "  A: { each: \"rows of {{ x }}\", map: 1 }\n");
    assert_eq!(
        problems(&text),
        [
            "10:14: `each` must name a list field (e.g. details_list) or be one {{ expression }}, not `rows of {{ x }}`"
        ]
    );
}

#[test]
fn yaml_syntax_errors_stop_reading() {
    let d = Scheme::parse("s.yaml", "name: po\nsource: {\n").expect_err("bad yaml");
    assert_eq!(d.0.len(), 1);
    assert_eq!(d.0[0].severity, Severity::Error);
    assert!(
        d.to_string().starts_with("s.yaml:3:1: YAML syntax error"),
        "{d}"
    );
}

#[test]
fn diagnostics_display_as_file_line_column() {
    let d = Scheme::parse(
        "dir/s.yaml",
        &MINIMAL.replace("name: po\n", "name: po\nfoo: 1\nbar: 2\n"),
    )
    .expect_err("unknown keys");
    assert_eq!(
        d.to_string(),
        "dir/s.yaml:2:1: unknown key `foo` in the scheme (expected one of: name, title, timezone, source, transforms, target, schedule, lookups, mapping)\ndir/s.yaml:3:1: unknown key `bar` in the scheme (expected one of: name, title, timezone, source, transforms, target, schedule, lookups, mapping)"
    );
}

// --- webhook sources ---------------------------------------------------

const SEED_001: &str = include_str!("../../../../schemes/opencallback-to-wdt-trade-push.yaml");

const WEBHOOK: &str = "name: hook\nsource:\n  webhook:\n    auth: { bearer: { secret: my_hook } }\n  key: \"{{ tid }}\"\ntarget:\n  connection: wdt\n  operation: trade_push\nmapping:\n  tid: \"{{ tid }}\"\n";

#[test]
fn reads_the_seed_webhook_scheme() {
    let s = Scheme::parse("seed.yaml", SEED_001).unwrap_or_else(|d| panic!("{d}"));
    assert_eq!(s.name, "opencallback-to-wdt-trade-push");
    assert!(s.source.is_webhook());
    let hook = s.source.webhook.as_ref().expect("a webhook source");
    assert_eq!(
        hook.auth,
        WebhookAuth::HmacSha256 {
            secret: "opencallback".into(),
            header: "X-Weft-Signature".into(),
            encoding: SignatureEncoding::Hex,
            timestamp: Some(SignedTimestamp {
                header: "X-Weft-Timestamp".into(),
                tolerance: Duration::from_secs(300),
            }),
        }
    );
    assert_eq!(hook.records, "");
    assert_eq!(s.source.key, "{{ shop_no }}/{{ tid }}");
    assert_eq!(s.source.on_change, ChangePolicy::Resend);
    assert_eq!(
        (s.source.connection.as_str(), s.source.operation.as_str()),
        ("", "")
    );
    assert_eq!(s.source.params, serde_json::json!({}));
    assert_eq!((s.source.incremental, s.source.page_size), (None, None));
    assert_eq!(s.target.connection, "wdt");
    assert_eq!(s.target.operation, "trade_push");
    assert_eq!(s.target.params, serde_json::json!({"switch": 0}));
}

#[test]
fn webhook_defaults() {
    let s = Scheme::parse("s.yaml", WEBHOOK).unwrap_or_else(|d| panic!("{d}"));
    let hook = s.source.webhook.expect("a webhook source");
    assert_eq!(
        hook.auth,
        WebhookAuth::Bearer {
            secret: "my_hook".into()
        }
    );
    assert_eq!(hook.records, "");
    let text = WEBHOOK.replace(
        "    auth: { bearer: { secret: my_hook } }\n",
        "    auth: { hmac_sha256: { secret: my_hook, encoding: base64, timestamp: {} } }\n    records: /data/trades\n",
    );
    let s = Scheme::parse("s.yaml", &text).unwrap_or_else(|d| panic!("{d}"));
    let hook = s.source.webhook.expect("a webhook source");
    assert_eq!(hook.records, "/data/trades");
    assert_eq!(
        hook.auth,
        WebhookAuth::HmacSha256 {
            secret: "my_hook".into(),
            header: "X-Weft-Signature".into(),
            encoding: SignatureEncoding::Base64,
            timestamp: Some(SignedTimestamp {
                header: "X-Weft-Timestamp".into(),
                tolerance: Duration::from_secs(300),
            }),
        }
    );
}

#[test]
fn pulled_keys_are_refused_beside_a_webhook() {
    let text = WEBHOOK.replace(
        "  key: \"{{ tid }}\"\n",
        "  key: \"{{ tid }}\"\n  connection: wdt\n  operation: q\n  params: { a: 1 }\n  incremental: { start: \"2024-01-01\" }\n  page_size: 10\n",
    );
    assert_eq!(
        problems(&text),
        [
            "6:3: `source.connection` cannot be combined with `source.webhook`: a webhook source is posted to weft, not read through a connection (remove `connection`, or remove `webhook` to pull)",
            "7:3: `source.operation` cannot be combined with `source.webhook`: a webhook source is posted to weft, not read through a connection (remove `operation`, or remove `webhook` to pull)",
            "8:3: `source.params` cannot be combined with `source.webhook`: a webhook source is posted to weft, not read through a connection (remove `params`, or remove `webhook` to pull)",
            "9:3: `source.incremental` cannot be combined with `source.webhook`: a webhook source is posted to weft, not read through a connection (remove `incremental`, or remove `webhook` to pull)",
            "10:3: `source.page_size` cannot be combined with `source.webhook`: a webhook source is posted to weft, not read through a connection (remove `page_size`, or remove `webhook` to pull)",
        ]
    );
}

#[test]
fn a_webhook_added_to_a_pulled_source_is_refused_at_the_pulled_keys() {
    // The other direction: a pulled source given a `webhook` block.
    let text = MINIMAL.replace(
        "  key:",
        "  webhook: { auth: { bearer: { secret: h } } }\n  key:",
    );
    assert_eq!(
        problems(&text),
        [
            "3:3: `source.connection` cannot be combined with `source.webhook`: a webhook source is posted to weft, not read through a connection (remove `connection`, or remove `webhook` to pull)",
            "4:3: `source.operation` cannot be combined with `source.webhook`: a webhook source is posted to weft, not read through a connection (remove `operation`, or remove `webhook` to pull)",
        ]
    );
    // Webhook keys written straight under `source` are unknown there.
    let text = MINIMAL.replace("  key:", "  records: /data\n  key:");
    assert_eq!(problems(&text).len(), 1);
    assert!(problems(&text)[0].starts_with("5:3: unknown key `records` in `source`"));
}

#[test]
fn webhook_auth_problems_are_reported_where_they_are() {
    let auth = "    auth: { bearer: { secret: my_hook } }\n";
    let cases: &[(&str, &str)] = &[
        (
            "    records: /data\n",
            "4:5: `source.webhook` is missing the required key `auth`: say how callbacks prove who sent them, e.g. auth: { hmac_sha256: { secret: my_hook } } or auth: { bearer: { secret: my_hook } }",
        ),
        (
            "    auth: {}\n",
            "4:11: `source.webhook.auth` needs `hmac_sha256` (e.g. hmac_sha256: { secret: my_hook }) or `bearer` (e.g. bearer: { secret: my_hook })",
        ),
        (
            "    auth: { bearer: { secret: a }, hmac_sha256: { secret: b } }\n",
            "4:13: `source.webhook.auth` takes `hmac_sha256` or `bearer`, not both",
        ),
        (
            "    auth: { bearer: { secret: \"s3cr3t-v@lue\" } }\n",
            "4:31: `source.webhook.auth.bearer.secret` names a secret (1 to 64 letters, digits or '_', starting with a letter, e.g. opencallback); the value itself never goes in a scheme. `s3cr3t-v@lue` is not such a name",
        ),
        (
            "    auth: { bearer: {} }\n",
            "4:21: `source.webhook.auth.bearer` is missing the required key `secret`",
        ),
        (
            "    auth: { hmac_sha256: { secret: k, encoding: hexa } }\n",
            "4:49: `source.webhook.auth.hmac_sha256.encoding` must be `hex` or `base64`, not `hexa`",
        ),
        (
            "    auth: { hmac_sha256: { secret: k, header: \"X Sig\" } }\n",
            "4:47: `source.webhook.auth.hmac_sha256.header` must be an HTTP header name (letters, digits, '-'), not `X Sig`",
        ),
        (
            "    auth: { hmac_sha256: { secret: k, timestamp: { tolerance: soon } } }\n",
            "4:63: `source.webhook.auth.hmac_sha256.timestamp.tolerance`: 'soon' is not a duration (write e.g. 30d, 12h, 5m, 90s or 1h30m)",
        ),
        (
            "    auth: { token: { secret: k } }\n",
            "4:13: unknown key `token` in `source.webhook.auth` (expected one of: hmac_sha256, bearer)",
        ),
    ];
    for (replacement, expected) in cases {
        let text = WEBHOOK.replace(auth, replacement);
        assert_eq!(problems(&text), [*expected], "{replacement}");
    }
}

#[test]
fn webhook_records_must_be_a_json_pointer() {
    let auth = "    auth: { bearer: { secret: my_hook } }\n";
    for records in ["data", "/a~2b", "[x]"] {
        let text = WEBHOOK.replace(auth, &format!("{auth}    records: \"{records}\"\n"));
        assert_eq!(
            problems(&text),
            [format!(
                "5:14: `source.webhook.records` must be a JSON pointer to the records in the body: empty for the whole body, or starting with `/` (e.g. /data/trades), not `{records}`"
            )],
        );
    }
    for records in ["\"\"", "/", "/data/0", "/a~0b~1c"] {
        let text = WEBHOOK.replace(auth, &format!("{auth}    records: {records}\n"));
        assert_eq!(problems(&text), Vec::<String>::new(), "{records}");
    }
}

#[test]
fn transforms_are_refused_with_a_webhook_source() {
    let text = WEBHOOK.replace("target:", "transforms:\n  - plugin: sku-remap\ntarget:");
    assert_eq!(
        problems(&text),
        [
            "6:1: `transforms` are not run on webhook records; map the callback's fields in `mapping` instead"
        ]
    );
}
