//! What a string value of a scheme is: a constant, one typed expression,
//! or a string template; and what can be read off its text before
//! compiling (Qeasy's spelling, the tables and filters it names).

/// A string value of a scheme, classified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Text {
    /// No template markup: the string itself.
    Constant(String),
    /// Exactly one `{{ expression }}`: evaluated keeping its type.
    /// `offset` is where `source` starts in the (rewritten) value.
    Expression { source: String, offset: usize },
    /// Anything else with markup: rendered to a string.
    Template(String),
}

/// Classifies `value`, after rewriting Qeasy's `{{NAME filter}}`.
pub(crate) fn classify(value: &str) -> Text {
    let value = rewrite_qeasy(value);
    if !value.contains("{{") && !value.contains("{%") && !value.contains("{#") {
        return Text::Constant(value);
    }
    if let Some((source, offset)) = single_expression(&value) {
        return Text::Expression {
            source: source.to_owned(),
            offset,
        };
    }
    Text::Template(value)
}

/// The inside of a value that is exactly one `{{ … }}` (whitespace control
/// `{{- … -}}` allowed), with its byte offset.
fn single_expression(value: &str) -> Option<(&str, usize)> {
    let inner = value.strip_prefix("{{")?.strip_suffix("}}")?;
    let mut offset = 2;
    let inner = match inner.strip_prefix(['-', '+']) {
        Some(rest) => {
            offset += 1;
            rest
        }
        None => inner,
    };
    let inner = inner.strip_suffix(['-', '+']).unwrap_or(inner);
    let markup = ["{{", "}}", "{%", "%}", "{#", "#}"];
    if inner.trim().is_empty() || markup.iter().any(|m| inner.contains(m)) {
        return None;
    }
    Some((inner, offset))
}

const KEYWORDS: &[&str] = &[
    "and", "or", "not", "is", "in", "if", "else", "true", "false", "none",
];

pub(crate) fn is_ident(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Qeasy writes a filter with a space: `{{LAST_SYNC_TIME datetime}}`.
/// Exactly that form — two names and nothing else between the braces — is
/// rewritten to `{{LAST_SYNC_TIME|datetime}}`; anything else is left to the
/// template compiler.
pub(crate) fn rewrite_qeasy(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(open) = rest.find("{{") {
        let after = &rest[open + 2..];
        let Some(close) = after.find("}}") else {
            break;
        };
        out.push_str(&rest[..open + 2]);
        let inner = &after[..close];
        let words: Vec<&str> = inner.split_whitespace().collect();
        let qeasy = words.len() == 2
            && words.iter().all(|w| is_ident(w))
            && !KEYWORDS.contains(&words[1])
            && !KEYWORDS.contains(&words[0]);
        if qeasy {
            out.push_str(words[0]);
            out.push('|');
            out.push_str(words[1]);
        } else {
            out.push_str(inner);
        }
        out.push_str("}}");
        rest = &after[close + 2..];
    }
    out.push_str(rest);
    out
}

/// The code inside the `{{ }}` and `{% %}` tags of a template, with each
/// piece's byte offset (string literals kept).
fn code_pieces(template: &str) -> Vec<(&str, usize)> {
    let mut out = Vec::new();
    let mut at = 0;
    loop {
        let rest = &template[at..];
        let next = [("{{", "}}"), ("{%", "%}")]
            .into_iter()
            .filter_map(|(open, close)| rest.find(open).map(|i| (i, close)))
            .min_by_key(|(i, _)| *i);
        let Some((i, close)) = next else {
            break;
        };
        let start = at + i + 2;
        match template[start..].find(close) {
            Some(len) => {
                out.push((&template[start..start + len], start));
                at = start + len + 2;
            }
            None => {
                out.push((&template[start..], start));
                break;
            }
        }
    }
    out
}

/// Iterates over `code` outside string literals: calls `f` with each byte
/// index of code that is not inside quotes.
fn outside_strings(code: &str, mut f: impl FnMut(usize)) {
    let bytes = code.as_bytes();
    let mut quote: Option<u8> = None;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match quote {
            Some(q) => {
                if b == b'\\' {
                    i += 1;
                } else if b == q {
                    quote = None;
                }
            }
            None => {
                if b == b'"' || b == b'\'' {
                    quote = Some(b);
                } else {
                    f(i);
                }
            }
        }
        i += 1;
    }
}

fn ident_at(code: &str, from: usize) -> Option<(&str, usize)> {
    let rest = &code[from..];
    let skipped = rest.len() - rest.trim_start().len();
    let rest = rest.trim_start();
    let len = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(rest.len());
    let ident = &rest[..len];
    is_ident(ident).then_some((ident, from + skipped))
}

/// The filters a piece of code applies (`x | name`), with byte offsets in
/// `code`.
fn filters_in(code: &str) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    outside_strings(code, |i| {
        if code.as_bytes()[i] == b'|'
            && let Some((name, at)) = ident_at(code, i + 1)
        {
            out.push((name.to_owned(), at));
        }
    });
    out
}

/// The filters a template (or an expression, when `expression`) applies,
/// with byte offsets in `text`.
pub(crate) fn filters(text: &str, expression: bool) -> Vec<(String, usize)> {
    if expression {
        return filters_in(text);
    }
    code_pieces(text)
        .into_iter()
        .flat_map(|(code, at)| filters_in(code).into_iter().map(move |(n, i)| (n, i + at)))
        .collect()
}

/// The table names given as string literals to `lookup(…)`:
/// `x | lookup('suppliers')` gives `suppliers`.
pub(crate) fn lookup_tables(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("lookup") {
        let after = rest[i + "lookup".len()..].trim_start();
        let preceded = rest[..i]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
        if !preceded && let Some(args) = after.strip_prefix('(') {
            let args = args.trim_start();
            if let Some(q) = args.chars().next().filter(|c| *c == '\'' || *c == '"')
                && let Some(end) = args[1..].find(q)
            {
                out.push(args[1..1 + end].to_owned());
            }
        }
        rest = &rest[i + "lookup".len()..];
    }
    out
}

/// Line and column (1-based, in characters) of byte `offset` in `text`.
pub(crate) fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_values() {
        assert_eq!(classify("CGDD01_SYS"), Text::Constant("CGDD01_SYS".into()));
        assert_eq!(
            classify("{{ purchase_no }}"),
            Text::Expression {
                source: " purchase_no ".into(),
                offset: 2
            }
        );
        assert_eq!(
            classify("{{- x -}}"),
            Text::Expression {
                source: " x ".into(),
                offset: 3
            }
        );
        assert_eq!(
            classify("{{ a }}-{{ b }}"),
            Text::Template("{{ a }}-{{ b }}".into())
        );
        assert_eq!(classify(" {{ a }}"), Text::Template(" {{ a }}".into()));
        assert_eq!(
            classify("{% if a %}x{% endif %}"),
            Text::Template("{% if a %}x{% endif %}".into())
        );
    }

    #[test]
    fn rewrites_qeasy_filters() {
        assert_eq!(
            rewrite_qeasy("{{LAST_SYNC_TIME datetime}}"),
            "{{LAST_SYNC_TIME|datetime}}"
        );
        assert_eq!(
            rewrite_qeasy("{{ CURRENT_TIME  datetime }}"),
            "{{CURRENT_TIME|datetime}}"
        );
        assert_eq!(rewrite_qeasy("a {{x y}} b {{z}}"), "a {{x|y}} b {{z}}");
        assert_eq!(rewrite_qeasy("{{ not x }}"), "{{ not x }}");
        assert_eq!(rewrite_qeasy("{{ x is defined }}"), "{{ x is defined }}");
        assert_eq!(rewrite_qeasy("{{ a.b c }}"), "{{ a.b c }}");
        assert_eq!(rewrite_qeasy("{{ x"), "{{ x");
    }

    #[test]
    fn finds_filters_and_tables() {
        let f = filters(" a | number | lookup('t', default='x|y') ", true);
        let names: Vec<&str> = f.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["number", "lookup"]);
        assert_eq!(f[0].1, 5);
        let f = filters("x|y {{ a|upper }} {% if b|length %}{% endif %}", false);
        let names: Vec<&str> = f.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["upper", "length"]);
        assert_eq!(
            lookup_tables(
                "{{ a | lookup('suppliers') }}{{ b|lookup( \"m\" ) }}{{ mylookup('z') }}"
            ),
            ["suppliers", "m"]
        );
    }

    #[test]
    fn positions() {
        assert_eq!(line_column("abc", 0), (1, 1));
        assert_eq!(line_column("ab\ncd", 4), (2, 2));
        assert_eq!(line_column("供应商x", "供应商".len()), (1, 4));
    }
}
