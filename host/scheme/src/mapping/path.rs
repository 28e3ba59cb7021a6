//! Field paths read without the template engine.
//!
//! Most values of a scheme are a field and at most a conversion:
//! `{{ purchase_no }}`, `{{ details_list.num | number }}`,
//! `{{ remark | default('') }}`. Running each through minijinja's VM (a
//! frame, a stack, filter arguments boxed and checked) cost more than the
//! rest of mapping a record. A value of exactly that shape is also read
//! here directly, from the same template values; anything this does not
//! settle on its own (a name the record does not have, which may be one of
//! the environment's globals; a field of something that is not an object;
//! a conversion that fails and needs the filter's own message) is left to
//! the compiled expression, so both give the same result — tested against
//! minijinja in `super::tests`.

use minijinja::Value;
use minijinja::value::ValueKind;

use super::filters;
use super::template::is_ident;

/// `name(.name)*` followed by filters this module knows.
#[derive(Debug, Clone)]
pub(crate) struct FieldPath {
    segments: Vec<Box<str>>,
    filters: Vec<Filter>,
}

#[derive(Debug, Clone)]
enum Filter {
    /// `number`, without keywords.
    Number,
    /// `default('text')` (or `d`), with a string or integer literal.
    Default(Value),
}

/// Names the expression grammar gives a meaning of its own.
const RESERVED: &[&str] = &[
    "and", "or", "not", "is", "in", "if", "else", "true", "false", "none", "True", "False", "None",
    "loop", "self",
];

impl FieldPath {
    /// The path an expression's source is, when it is one.
    pub fn parse(source: &str) -> Option<Self> {
        let mut parts = source.split('|');
        let path = parts.next()?.trim();
        let segments: Vec<Box<str>> = path.split('.').map(Box::from).collect();
        if !segments.iter().all(|s| is_ident(s)) || RESERVED.contains(&&*segments[0]) {
            return None;
        }
        let filters = parts.map(filter).collect::<Option<Vec<_>>>()?;
        Some(Self { segments, filters })
    }

    /// The expression's value on `ctx`, or `None` when the template engine
    /// must decide.
    pub fn eval(&self, ctx: &Value) -> Option<Value> {
        let (first, rest) = self.segments.split_first()?;
        let mut value = ctx.get_attr(first).ok()?;
        if value.is_undefined() {
            return None;
        }
        for segment in rest {
            if value.kind() != ValueKind::Map {
                return None;
            }
            value = value.get_attr(segment).ok()?;
        }
        for f in &self.filters {
            value = match f {
                Filter::Number => filters::number_of(&value)?,
                Filter::Default(d) if value.is_undefined() || value.is_none() => d.clone(),
                Filter::Default(_) => value,
            };
        }
        Some(value)
    }
}

/// One filter of the pipeline, when it is one this module runs. The split
/// on `|` above cannot cut a literal: a literal holding `|` makes its
/// pieces fail to parse here, and the expression goes to minijinja.
fn filter(text: &str) -> Option<Filter> {
    let text = text.trim();
    if text == "number" {
        return Some(Filter::Number);
    }
    let args = text
        .strip_prefix("default")
        .or_else(|| text.strip_prefix('d'))?
        .trim_start()
        .strip_prefix('(')?
        .strip_suffix(')')?
        .trim();
    literal(args).map(Filter::Default)
}

fn literal(text: &str) -> Option<Value> {
    for quote in ['\'', '"'] {
        if let Some(inner) = text.strip_prefix(quote).and_then(|t| t.strip_suffix(quote)) {
            // Escapes and embedded quotes are minijinja's to read.
            if inner.contains(['\\', '\'', '"']) {
                return None;
            }
            return Some(Value::from(inner));
        }
    }
    let digits = text.strip_prefix('-').unwrap_or(text);
    if !digits.is_empty() && digits.len() <= 18 && digits.bytes().all(|b| b.is_ascii_digit()) {
        return text.parse::<i64>().ok().map(Value::from);
    }
    None
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::values::to_value;
    use super::*;

    #[test]
    fn settles_what_it_can_and_leaves_the_rest() {
        let ctx = to_value(&json!({"a": {"b": "2.50"}, "s": "x", "n": null}));
        let eval = |src: &str| FieldPath::parse(src).and_then(|p| p.eval(&ctx));
        assert_eq!(eval("a.b | number"), Some(Value::from(2.5)));
        assert_eq!(eval("a.c | default('z')"), Some(Value::from("z")));
        assert_eq!(eval("n | default(3)"), Some(Value::from(3)));
        assert_eq!(eval("n | number"), Some(Value::from(())));
        assert!(eval("a.c").is_some_and(|v| v.is_undefined()));
        // A name the record lacks may be a global; a field of a string, and
        // a failing conversion, are the engine's.
        assert_eq!(eval("missing"), None);
        assert_eq!(eval("s.b"), None);
        assert_eq!(eval("s | number"), None);
    }

    #[test]
    fn reads_only_the_shapes_it_runs() {
        for ok in [
            "purchase_no",
            " details_list.num | number ",
            "remark|default('')",
            "a.b.c | d(\"x\") | number",
            "n | default(-3)",
        ] {
            assert!(FieldPath::parse(ok).is_some(), "{ok}");
        }
        for other in [
            "a + b",
            "a[0]",
            "none",
            "not a",
            "a | number(default=0)",
            "a | default('x|y')",
            "a | default('it\\'s')",
            "a | upper",
            "a | default(b)",
            "a.",
            "1a",
            "a | default('a', true)",
            "",
        ] {
            assert!(FieldPath::parse(other).is_none(), "{other}");
        }
    }
}
