use std::collections::HashMap;

use serde_json::json;
use weft_runtime::{ConnectorInfo, Direction, OperationInfo, TransformInfo};

use super::*;
use crate::Severity;

const SKETCH: &str = include_str!("../../testdata/sketch.yaml");

struct FakeCatalog {
    connections: HashMap<&'static str, &'static str>,
    connectors: Vec<ConnectorInfo>,
    transforms: Vec<TransformInfo>,
}

fn op(id: &str, direction: Direction, schema: serde_json::Value) -> OperationInfo {
    OperationInfo {
        id: id.into(),
        title: id.into(),
        description: String::new(),
        direction,
        params_schema: schema,
        key_pointer: None,
        max_window_secs: None,
        window_params: None,
        max_batch: (direction == Direction::Target).then_some(100),
    }
}

fn connector(name: &str, operations: Vec<OperationInfo>) -> ConnectorInfo {
    ConnectorInfo {
        name: name.into(),
        version: "1.0.0".into(),
        title: name.into(),
        description: String::new(),
        connection_fields: Vec::new(),
        egress: Vec::new(),
        operations,
    }
}

fn catalog() -> FakeCatalog {
    FakeCatalog {
        connections: HashMap::from([
            ("wdt", "wdt"),
            ("k3cloud", "k3cloud"),
            ("remap", "sku-remap"),
            ("broken", "gone"),
        ]),
        connectors: vec![
            connector(
                "wdt",
                vec![op(
                    "purchase_order_query",
                    Direction::Source,
                    json!({
                        "type": "object",
                        "properties": {
                            "start_time": {"type": "string"},
                            "end_time": {"type": "string"},
                            "page_size": {"type": "integer", "maximum": 100}
                        },
                        "required": ["start_time", "end_time"],
                        "additionalProperties": false
                    }),
                )],
            ),
            connector(
                "k3cloud",
                vec![
                    op(
                        "batch_save",
                        Direction::Target,
                        json!({
                            "type": "object",
                            "properties": {"formid": {"type": "string"}, "IsAutoSubmitAndAudit": {"type": "boolean"}},
                            "required": ["formid"]
                        }),
                    ),
                    op(
                        "execute_bill_query",
                        Direction::Source,
                        json!({"type": "object", "required": ["FormId"]}),
                    ),
                ],
            ),
        ],
        transforms: vec![TransformInfo {
            name: "sku-remap".into(),
            version: "1.0.0".into(),
            title: "SKU remap".into(),
            description: String::new(),
            config_schema: json!({
                "type": "object",
                "properties": {"prefix": {"type": "string"}},
                "required": ["prefix"]
            }),
        }],
    }
}

impl Catalog for FakeCatalog {
    fn connection_plugin(&self, name: &str) -> Option<String> {
        self.connections.get(name).map(|p| (*p).to_owned())
    }

    fn connector(&self, plugin: &str) -> Option<ConnectorInfo> {
        self.connectors.iter().find(|c| c.name == plugin).cloned()
    }

    fn transform(&self, plugin: &str) -> Option<TransformInfo> {
        self.transforms.iter().find(|t| t.name == plugin).cloned()
    }
}

/// Validates the sketch with `from` replaced by `to`; the diagnostics as
/// `line:column: message` lines.
fn validate_edited(from: &str, to: &str) -> Vec<String> {
    assert!(SKETCH.contains(from), "the sketch has no `{from}`");
    let text = SKETCH.replacen(from, to, 1);
    let scheme = Scheme::parse("sketch.yaml", &text).unwrap_or_else(|d| panic!("{d}"));
    scheme
        .validate(&catalog())
        .iter()
        .map(|d| {
            let warn = if d.severity == Severity::Warning {
                "warning: "
            } else {
                ""
            };
            format!("{}:{}: {warn}{}", d.line, d.column, d.message)
        })
        .collect()
}

#[test]
fn the_sketch_is_valid() {
    assert_eq!(validate_edited("", ""), Vec::<String>::new());
}

#[test]
fn unknown_connection_plugin_and_kind() {
    assert_eq!(
        validate_edited(
            "  connection: k3cloud\n  operation: batch_save",
            "  connection: erp\n  operation: batch_save"
        ),
        ["16:15: `target.connection`: the tenant has no connection `erp`"]
    );
    assert_eq!(
        validate_edited("  connection: wdt\n", "  connection: broken\n"),
        [
            "5:15: `source.connection`: connection `broken` uses plugin `gone`, which is not installed"
        ]
    );
    assert_eq!(
        validate_edited("  connection: wdt\n", "  connection: remap\n"),
        [
            "5:15: `source.connection`: connection `remap` uses plugin `sku-remap`, which is a transform, not a connector"
        ]
    );
}

#[test]
fn unknown_operation_and_wrong_direction() {
    assert_eq!(
        validate_edited(
            "operation: purchase_order_query",
            "operation: purchase_orders"
        ),
        [
            "6:14: `source.operation`: connector `wdt` has no operation `purchase_orders` (source operations: purchase_order_query)"
        ]
    );
    assert_eq!(
        validate_edited("operation: batch_save", "operation: execute_bill_query"),
        [
            "17:14: `target.operation`: `execute_bill_query` of connector `k3cloud` is a source operation, not a target operation"
        ]
    );
    assert_eq!(
        validate_edited("operation: execute_bill_query", "operation: batch_save"),
        [
            "24:16: `lookups.materials.operation`: `batch_save` of connector `k3cloud` is a target operation, not a source operation"
        ]
    );
}

#[test]
fn params_must_match_the_operation_schema() {
    let d = validate_edited("page_size: 100 }", "page_size: 500, shop: x }");
    assert_eq!(d.len(), 2, "{d:#?}");
    assert!(d[0].starts_with("7:11: `source.params` does not match `purchase_order_query`'s schema: Additional properties"), "{}", d[0]);
    assert!(d[1].starts_with("7:114: `source.params.page_size` does not match `purchase_order_query`'s schema: 500 is greater than"), "{}", d[1]);
    let d = validate_edited(
        "{ formid: PUR_PurchaseOrder, IsAutoSubmitAndAudit: true }",
        "{ IsAutoSubmitAndAudit: yes }",
    );
    assert_eq!(d.len(), 2, "{d:#?}");
    assert!(d[0].starts_with("18:11: `target.params` does not match `batch_save`'s schema: \"formid\" is a required property"), "{}", d[0]);
    assert!(
        d[1].starts_with("18:35: `target.params.IsAutoSubmitAndAudit` does not match"),
        "{}",
        d[1]
    );
    let d = validate_edited("params: { FormId: BD_MATERIAL, ", "params: { ");
    assert_eq!(d.len(), 1, "{d:#?}");
    assert!(
        d[0].starts_with(
            "25:13: `lookups.materials.params` does not match `execute_bill_query`'s schema"
        ),
        "{}",
        d[0]
    );
}

#[test]
fn transforms_must_be_installed_transforms_with_valid_config() {
    assert_eq!(
        validate_edited("plugin: sku-remap", "plugin: sku-map"),
        ["14:15: transform plugin `sku-map` is not installed"]
    );
    assert_eq!(
        validate_edited("plugin: sku-remap", "plugin: wdt"),
        ["14:15: plugin `wdt` is a connector, not a transform"]
    );
    let d = validate_edited("config: { prefix: \"SKU-\" }", "config: { prefix: 7 }");
    assert_eq!(d.len(), 1, "{d:#?}");
    assert!(d[0].starts_with("14:44: `config.prefix` does not match `sku-remap`'s schema: 7 is not of type \"string\""), "{}", d[0]);
}

#[test]
fn unknown_lookup_tables_are_warnings_offline() {
    let d = validate_edited(
        "lookup('suppliers', default='0003')",
        "lookup('vendors', default='0003')",
    );
    assert_eq!(
        d,
        [
            "33:27: warning: lookup table `vendors` is not defined in the scheme; it must be one of the tenant's tables (not checked offline)"
        ]
    );
}

#[test]
fn batch_size_beyond_the_operation_limit_is_a_warning() {
    let d = validate_edited("batch_size: 50", "batch_size: 500");
    assert_eq!(
        d,
        [
            "19:15: warning: `target.batch_size` 500 is larger than operation `batch_save`'s largest batch, 100"
        ]
    );
}

#[test]
fn a_webhook_source_has_no_connection_to_check() {
    let text = "name: hook\nsource:\n  webhook: { auth: { hmac_sha256: { secret: hook } }, records: /data }\n  key: \"{{ no }}\"\ntarget: { connection: k3cloud, operation: batch_save, params: { formid: X } }\nmapping: { FBillNo: \"{{ no }}\" }\n";
    let scheme = Scheme::parse("hook.yaml", text).unwrap_or_else(|d| panic!("{d}"));
    assert_eq!(scheme.validate(&catalog()), Vec::new());
    // The target is still checked.
    let scheme = Scheme::parse("hook.yaml", &text.replace("k3cloud", "erp"))
        .unwrap_or_else(|d| panic!("{d}"));
    let d: Vec<String> = scheme
        .validate(&catalog())
        .iter()
        .map(|d| format!("{}:{}: {}", d.line, d.column, d.message))
        .collect();
    assert_eq!(
        d,
        ["5:23: `target.connection`: the tenant has no connection `erp`"]
    );
}

#[test]
fn a_changed_key_is_a_warning_only_when_the_ledger_holds_records() {
    let applied = Scheme::parse("s.yaml", SKETCH).expect("the sketch parses");
    let changed = SKETCH.replace(
        r#"key: "{{ purchase_no }}""#,
        r#"key: "{{ purchase_no }}-{{ provider_no }}""#,
    );
    assert_ne!(changed, SKETCH);
    let scheme = Scheme::parse("s.yaml", &changed).expect("the change parses");
    assert_eq!(scheme.key_change(&applied, 0), None);
    assert_eq!(applied.key_change(&applied, 10), None);
    let warning = scheme.key_change(&applied, 10).expect("a warning");
    assert_eq!(warning.severity, Severity::Warning);
    assert_eq!((warning.line, warning.column), (9, 8), "{warning}");
    assert!(
        warning
            .message
            .contains("`{{ purchase_no }}` to `{{ purchase_no }}-{{ provider_no }}`")
            && warning.message.contains("10 record(s)"),
        "{warning}"
    );
}
