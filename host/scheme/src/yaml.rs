//! The YAML tree of a scheme file: typed scalars, JSON, and finding nodes.
//!
//! marked-yaml keeps every scalar as text with its position; the types are
//! decided here. Plain scalars follow the YAML 1.2 core schema (`true`,
//! `null`, `12`, `1.5`), with one exception for business data: a number
//! with leading zeros (`0003`, a supplier code) stays a string. Quoted and
//! block scalars are always strings.

use marked_yaml::types::{MarkedMappingNode, MarkedScalarNode};
use marked_yaml::{LoaderOptions, Node, Span};

use crate::diagnostic::Diagnostic;

/// Parses `text` into a tree, or the one diagnostic YAML syntax allows.
pub(crate) fn load(file: &str, text: &str) -> Result<Node, Diagnostic> {
    // `prevent_coercion` marks quoted and block scalars as strings, so that
    // `"100"` stays the string it was written as.
    let options = LoaderOptions::default()
        .error_on_duplicate_keys(true)
        .prevent_coercion(true);
    marked_yaml::parse_yaml_with_options(0, text, options).map_err(|e| {
        use marked_yaml::LoadError as E;
        let (marker, message) = match &e {
            E::TopLevelMustBeMapping(m) => (Some(*m), "a scheme must be a YAML mapping".to_owned()),
            E::TopLevelMustBeSequence(m) => (Some(*m), "expected a YAML sequence".to_owned()),
            E::UnexpectedAnchor(m) => (
                Some(*m),
                "YAML anchors and aliases are not supported in schemes".to_owned(),
            ),
            E::MappingKeyMustBeScalar(m) => {
                (Some(*m), "a mapping key must be a plain value".to_owned())
            }
            E::UnexpectedTag(m) => (
                Some(*m),
                "YAML tags are not supported in schemes".to_owned(),
            ),
            E::ScanError(m, err) => (Some(*m), format!("YAML syntax error: {}", err.info())),
            E::DuplicateKey(d) => (
                d.key.span().start().copied(),
                format!("duplicate key `{}`", d.key.as_str()),
            ),
        };
        let (line, column) = marker.map_or((1, 1), |m| (m.line(), m.column()));
        Diagnostic::error(file, line, column, message)
    })
}

/// The JSON value of a scalar (see the module docs for the typing rules).
pub(crate) fn scalar_json(s: &MarkedScalarNode) -> serde_json::Value {
    let text = s.as_str();
    if !s.may_coerce() {
        return serde_json::Value::String(text.to_owned());
    }
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return serde_json::Value::Null,
        "true" | "True" | "TRUE" => return serde_json::Value::Bool(true),
        "false" | "False" | "FALSE" => return serde_json::Value::Bool(false),
        _ => {}
    }
    if let Some(n) = number(text) {
        return n;
    }
    serde_json::Value::String(text.to_owned())
}

fn number(text: &str) -> Option<serde_json::Value> {
    let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
    let first = unsigned.bytes().next()?;
    if !first.is_ascii_digit() {
        return None;
    }
    // `0003` is a code, not the number 3.
    if unsigned.len() > 1 && first == b'0' && unsigned.as_bytes()[1].is_ascii_digit() {
        return None;
    }
    if unsigned.bytes().all(|b| b.is_ascii_digit())
        && let Ok(i) = text.parse::<i64>()
    {
        return Some(i.into());
    }
    let float_chars = unsigned
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'-' | b'+'));
    if float_chars && let Ok(f) = text.parse::<f64>() {
        return serde_json::Number::from_f64(f).map(serde_json::Value::Number);
    }
    None
}

/// The JSON value of a subtree.
pub(crate) fn to_json(node: &Node) -> serde_json::Value {
    match node {
        Node::Scalar(s) => scalar_json(s),
        Node::Sequence(items) => serde_json::Value::Array(items.iter().map(to_json).collect()),
        Node::Mapping(map) => serde_json::Value::Object(
            map.iter()
                .map(|(k, v)| (k.as_str().to_owned(), to_json(v)))
                .collect(),
        ),
    }
}

/// Where a mapping is reported: its first key. (A block mapping's own span
/// starts at its first value, not where a reader sees it begin.)
pub(crate) fn mapping_start(map: &MarkedMappingNode) -> &Span {
    map.keys().next().map_or(map.span(), |k| k.span())
}

/// The node at `path` of mapping keys under `node`.
pub(crate) fn at<'n>(node: &'n Node, path: &[&str]) -> Option<&'n Node> {
    path.iter()
        .try_fold(node, |n, key| n.as_mapping()?.get_node(key))
}

/// The deepest node along a JSON pointer's segments (`/params/0/x`): where
/// a schema error about that instance location is best reported.
pub(crate) fn deepest<'n>(node: &'n Node, segments: &[String]) -> &'n Node {
    let mut n = node;
    for seg in segments {
        let next = match n {
            Node::Mapping(m) => m.get_node(seg),
            Node::Sequence(s) => seg.parse::<usize>().ok().and_then(|i| s.get(i)),
            Node::Scalar(_) => None,
        };
        match next {
            Some(next) => n = next,
            None => break,
        }
    }
    n
}

/// The node a dotted path names (`source.params.start_time`,
/// `lookups.t.key`, `a[2].b`), or the deepest node along it.
pub(crate) fn at_path<'n>(root: &'n Node, path: &str) -> Option<&'n Node> {
    let segments: Vec<String> = path
        .split('.')
        .flat_map(|part| {
            let mut out = Vec::new();
            let mut rest = part;
            if let Some(i) = rest.find('[') {
                out.push(rest[..i].to_owned());
                rest = &rest[i..];
                while let Some(end) = rest.find(']') {
                    out.push(rest[1..end].to_owned());
                    rest = &rest[end + 1..];
                }
            } else {
                out.push(rest.to_owned());
            }
            out
        })
        .filter(|s| !s.is_empty())
        .collect();
    Some(deepest(root, &segments))
}

/// How a node reads in a message: `a mapping`, `a list`, or the scalar.
pub(crate) fn describe(node: &Node) -> String {
    match node {
        Node::Mapping(_) => "a mapping".to_owned(),
        Node::Sequence(_) => "a list".to_owned(),
        Node::Scalar(s) if s.as_str().is_empty() => "nothing".to_owned(),
        Node::Scalar(s) => format!("`{}`", s.as_str()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn types_scalars() {
        let node = load(
            "t.yaml",
            "a: 12\nb: '12'\nc: 0003\nd: true\ne:\nf: 1.50\ng: CG\nh: -3\ni: |\n  x\n",
        )
        .expect("parses");
        assert_eq!(
            to_json(&node),
            json!({"a": 12, "b": "12", "c": "0003", "d": true, "e": null, "f": 1.5, "g": "CG", "h": -3, "i": "x\n"})
        );
    }

    #[test]
    fn reports_syntax_and_duplicates() {
        let d = load("t.yaml", "a: [1, 2\n").expect_err("bad");
        assert!(d.message.starts_with("YAML syntax error"), "{d}");
        let d = load("t.yaml", "a: 1\nb: 2\na: 3\n").expect_err("duplicate");
        assert_eq!(
            (d.line, d.column, d.message.as_str()),
            (3, 1, "duplicate key `a`")
        );
    }
}
