//! Checks what a plugin says about itself before the host trusts it: names,
//! versions, schemas and egress rules. Every problem is reported, each
//! naming the item it is about.

use crate::types::{ConnectorInfo, EgressRule, PluginInfo, TransformInfo};

fn is_plugin_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some('a'..='z'))
        && s.len() <= 64
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

fn is_field_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some('a'..='z'))
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

fn is_operation_id(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some('a'..='z'))
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_.-".contains(c))
}

fn is_host_pattern(p: &str) -> bool {
    let host = p.strip_prefix("*.").unwrap_or(p);
    !host.is_empty()
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == ':')
        })
}

fn check_schema(problems: &mut Vec<String>, what: &str, schema: &serde_json::Value) {
    if !schema.is_object() && !schema.is_boolean() {
        problems.push(format!("{what} must be a JSON Schema object"));
        return;
    }
    if let Err(e) = jsonschema::validator_for(schema) {
        problems.push(format!("{what} is not a valid JSON Schema: {e}"));
    }
}

fn check_identity(problems: &mut Vec<String>, name: &str, version: &str, title: &str) {
    if !is_plugin_name(name) {
        problems.push(format!(
            "name '{name}' must start with a lowercase letter and hold only lowercase letters, digits and '-' (at most 64)"
        ));
    }
    if semver::Version::parse(version).is_err() {
        problems.push(format!(
            "version '{version}' is not a semantic version (e.g. 1.2.0)"
        ));
    }
    if title.trim().is_empty() {
        problems.push("title is empty".to_owned());
    }
}

fn check_connector(info: &ConnectorInfo) -> Vec<String> {
    let mut problems = Vec::new();
    check_identity(&mut problems, &info.name, &info.version, &info.title);
    let mut seen = std::collections::HashSet::new();
    for f in &info.connection_fields {
        if !is_field_name(&f.name) {
            problems.push(format!(
                "connection field '{}' must be lowercase letters, digits and '_'",
                f.name
            ));
        }
        if !seen.insert(f.name.as_str()) {
            problems.push(format!("connection field '{}' is declared twice", f.name));
        }
    }
    for rule in &info.egress {
        match rule {
            EgressRule::Host(p) if !is_host_pattern(p) => problems.push(format!(
                "egress pattern '{p}' is not a host name or '*.domain' pattern"
            )),
            EgressRule::BaseUrl if !info.connection_fields.iter().any(|f| f.name == "base_url") => {
                problems.push(
                    "egress rule base-url needs a connection field named 'base_url'".to_owned(),
                );
            }
            _ => {}
        }
    }
    let mut ids = std::collections::HashSet::new();
    for op in &info.operations {
        let what = format!("operation '{}'", op.id);
        if !is_operation_id(&op.id) {
            problems.push(format!(
                "{what}: id must start with a lowercase letter and hold lowercase letters, digits, '_', '.' or '-'"
            ));
        }
        if !ids.insert(op.id.as_str()) {
            problems.push(format!("{what} is declared twice"));
        }
        check_schema(
            &mut problems,
            &format!("{what}: params schema"),
            &op.params_schema,
        );
        if let Some(p) = &op.key_pointer
            && !p.is_empty()
            && !p.starts_with('/')
        {
            problems.push(format!("{what}: key pointer '{p}' must start with '/'"));
        }
        if op.max_window_secs == Some(0) {
            problems.push(format!("{what}: maximum window must be positive"));
        }
        if op.max_batch == Some(0) {
            problems.push(format!("{what}: maximum batch must be positive"));
        }
        if let Some((start, end)) = &op.window_params
            && (start.is_empty() || end.is_empty() || start == end)
        {
            problems.push(format!(
                "{what}: window params must be two distinct param names"
            ));
        }
    }
    if info.operations.is_empty() {
        problems.push("the connector declares no operations".to_owned());
    }
    problems
}

fn check_transform(info: &TransformInfo) -> Vec<String> {
    let mut problems = Vec::new();
    check_identity(&mut problems, &info.name, &info.version, &info.title);
    check_schema(&mut problems, "config schema", &info.config_schema);
    problems
}

/// Every problem with a plugin's self-description; empty when it is valid.
pub fn check_info(info: &PluginInfo) -> Vec<String> {
    match info {
        PluginInfo::Connector(c) => check_connector(c),
        PluginInfo::Transform(t) => check_transform(t),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{ConnectionField, Direction, FieldKind, OperationInfo};

    fn connector() -> ConnectorInfo {
        ConnectorInfo {
            name: "wdt".into(),
            version: "0.1.0".into(),
            title: "旺店通".into(),
            description: String::new(),
            connection_fields: vec![ConnectionField {
                name: "base_url".into(),
                title: "Base URL".into(),
                description: String::new(),
                kind: FieldKind::Url,
                required: true,
                secret: false,
                default_value: None,
            }],
            egress: vec![
                EgressRule::BaseUrl,
                EgressRule::Host("*.wangdian.cn".into()),
            ],
            operations: vec![OperationInfo {
                id: "purchase_order_query".into(),
                title: "查询采购单".into(),
                description: String::new(),
                direction: Direction::Source,
                params_schema: serde_json::json!({"type": "object"}),
                key_pointer: Some("/purchase_no".into()),
                max_window_secs: Some(86400),
                window_params: Some(("start_time".into(), "end_time".into())),
                max_batch: None,
            }],
        }
    }

    #[test]
    fn a_good_connector_passes() {
        assert!(check_info(&PluginInfo::Connector(connector())).is_empty());
    }

    #[test]
    fn every_problem_is_named() {
        let mut c = connector();
        c.name = "Bad Name".into();
        c.version = "one".into();
        c.egress.push(EgressRule::Host("*".into()));
        c.operations[0].params_schema = serde_json::json!({"type": 12});
        c.operations.push(c.operations[0].clone());
        let problems = check_info(&PluginInfo::Connector(c));
        let text = problems.join("\n");
        assert!(text.contains("name 'Bad Name'"), "{text}");
        assert!(text.contains("version 'one'"), "{text}");
        assert!(text.contains("egress pattern '*'"), "{text}");
        assert!(
            text.contains("params schema is not a valid JSON Schema"),
            "{text}"
        );
        assert!(text.contains("declared twice"), "{text}");
    }
}
