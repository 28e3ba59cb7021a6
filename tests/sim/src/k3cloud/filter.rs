//! The `FilterString` of ExecuteBillQuery: the SQL-like text most clients
//! send (`FBillNo='X'`, `FBillNo in ('A','B')`, `and`/`or`/`not`,
//! comparisons, `like`, `is null`, `between`), and the documented array form
//! `[{"Left","FieldName","Compare","Value","Right","Logic"}]`, which is
//! turned into the same text.

use serde_json::Value;

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Lit {
    Text(String),
    Num(f64),
    Null,
}

impl Lit {
    pub fn text(&self) -> String {
        match self {
            Lit::Text(t) => t.clone(),
            Lit::Num(n) => {
                if n.fract() == 0.0 && n.abs() < 1e15 {
                    format!("{}", *n as i64)
                } else {
                    n.to_string()
                }
            }
            Lit::Null => String::new(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Expr {
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Cmp(String, Op, Lit),
    In(String, Vec<Lit>, bool),
    Like(String, String, bool),
    IsNull(String, bool),
    Between(String, Lit, Lit, bool),
}

impl Expr {
    /// Every field key the expression reads.
    pub fn fields(&self, out: &mut Vec<String>) {
        match self {
            Expr::And(a, b) | Expr::Or(a, b) => {
                a.fields(out);
                b.fields(out);
            }
            Expr::Not(a) => a.fields(out),
            Expr::Cmp(f, ..)
            | Expr::In(f, ..)
            | Expr::Like(f, ..)
            | Expr::IsNull(f, _)
            | Expr::Between(f, ..) => out.push(f.clone()),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Num(f64),
    Op(Op),
    LParen,
    RParen,
    Comma,
}

fn tokenize(text: &str) -> Result<Vec<Tok>, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '\'' || ((c == 'N' || c == 'n') && chars.get(i + 1) == Some(&'\'')) {
            i += if c == '\'' { 1 } else { 2 };
            let mut s = String::new();
            loop {
                match chars.get(i) {
                    None => return Err("字符串缺少结束引号".into()),
                    Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                        s.push('\'');
                        i += 2;
                    }
                    Some('\'') => {
                        i += 1;
                        break;
                    }
                    Some(ch) => {
                        s.push(*ch);
                        i += 1;
                    }
                }
            }
            out.push(Tok::Str(s));
        } else if c.is_ascii_digit()
            || (c == '-' && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit()))
        {
            let start = i;
            i += 1;
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            let t: String = chars[start..i].iter().collect();
            out.push(Tok::Num(t.parse().map_err(|_| format!("无效的数值: {t}"))?));
        } else if c.is_alphanumeric() || c == '_' || c == '[' {
            let start = i;
            while i < chars.len()
                && (chars[i].is_alphanumeric() || matches!(chars[i], '_' | '.' | '[' | ']'))
            {
                i += 1;
            }
            let t: String = chars[start..i]
                .iter()
                .filter(|c| **c != '[' && **c != ']')
                .collect();
            out.push(Tok::Ident(t));
        } else {
            let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
            let (tok, len) = match (two.as_str(), c) {
                ("<>", _) | ("!=", _) => (Tok::Op(Op::Ne), 2),
                (">=", _) => (Tok::Op(Op::Ge), 2),
                ("<=", _) => (Tok::Op(Op::Le), 2),
                ("==", _) => (Tok::Op(Op::Eq), 2),
                (_, '=') => (Tok::Op(Op::Eq), 1),
                (_, '<') => (Tok::Op(Op::Lt), 1),
                (_, '>') => (Tok::Op(Op::Gt), 1),
                (_, '(') => (Tok::LParen, 1),
                (_, ')') => (Tok::RParen, 1),
                (_, ',') => (Tok::Comma, 1),
                _ => return Err(format!("无法识别的字符“{c}”")),
            };
            out.push(tok);
            i += len;
        }
    }
    Ok(out)
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn keyword(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Tok::Ident(w)) if w.eq_ignore_ascii_case(word))
    }

    fn eat_keyword(&mut self, word: &str) -> bool {
        if self.keyword(word) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn or(&mut self) -> Result<Expr, String> {
        let mut left = self.and()?;
        while self.eat_keyword("or") {
            left = Expr::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, String> {
        let mut left = self.unary()?;
        while self.eat_keyword("and") {
            left = Expr::And(Box::new(left), Box::new(self.unary()?));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, String> {
        if self.eat_keyword("not") {
            return Ok(Expr::Not(Box::new(self.unary()?)));
        }
        if self.peek() == Some(&Tok::LParen) {
            self.pos += 1;
            let inner = self.or()?;
            return match self.next() {
                Some(Tok::RParen) => Ok(inner),
                _ => Err("缺少右括号".into()),
            };
        }
        self.predicate()
    }

    fn literal(&mut self) -> Result<Lit, String> {
        match self.next() {
            Some(Tok::Str(s)) => Ok(Lit::Text(s)),
            Some(Tok::Num(n)) => Ok(Lit::Num(n)),
            Some(Tok::Ident(w)) if w.eq_ignore_ascii_case("null") => Ok(Lit::Null),
            other => Err(format!("应为常量，实际为{other:?}")),
        }
    }

    fn predicate(&mut self) -> Result<Expr, String> {
        let field = match self.next() {
            Some(Tok::Ident(f)) => f,
            other => return Err(format!("应为字段标识，实际为{other:?}")),
        };
        let negated = self.eat_keyword("not");
        if self.eat_keyword("in") {
            if self.next() != Some(Tok::LParen) {
                return Err("in 之后应为左括号".into());
            }
            let mut values = vec![self.literal()?];
            loop {
                match self.next() {
                    Some(Tok::Comma) => values.push(self.literal()?),
                    Some(Tok::RParen) => break,
                    _ => return Err("in 列表缺少右括号".into()),
                }
            }
            return Ok(Expr::In(field, values, negated));
        }
        if self.eat_keyword("like") {
            return match self.literal()? {
                Lit::Text(p) => Ok(Expr::Like(field, p, negated)),
                other => Ok(Expr::Like(field, other.text(), negated)),
            };
        }
        if self.eat_keyword("between") {
            let lo = self.literal()?;
            if !self.eat_keyword("and") {
                return Err("between 缺少 and".into());
            }
            let hi = self.literal()?;
            return Ok(Expr::Between(field, lo, hi, negated));
        }
        if negated {
            return Err("not 之后应为 in、like 或 between".into());
        }
        if self.eat_keyword("is") {
            let not = self.eat_keyword("not");
            if !self.eat_keyword("null") {
                return Err("is 之后应为 null".into());
            }
            return Ok(Expr::IsNull(field, not));
        }
        match self.next() {
            Some(Tok::Op(op)) => {
                let lit = self.literal()?;
                if lit == Lit::Null {
                    return Ok(Expr::IsNull(field, op == Op::Ne));
                }
                Ok(Expr::Cmp(field, op, lit))
            }
            other => Err(format!("字段{field}之后应为比较符，实际为{other:?}")),
        }
    }
}

/// Parses the text form; an empty filter is `None`.
pub(crate) fn parse(text: &str) -> Result<Option<Expr>, String> {
    let toks = tokenize(text)?;
    if toks.is_empty() {
        return Ok(None);
    }
    let mut p = Parser { toks, pos: 0 };
    let expr = p.or()?;
    if p.pos < p.toks.len() {
        return Err(format!("过滤条件在“{:?}”处无法解析", p.toks[p.pos]));
    }
    Ok(Some(expr))
}

fn quote(v: &str) -> String {
    format!("'{}'", v.replace('\'', "''"))
}

fn item_text(item: &Value, key: &str) -> String {
    match item.get(key) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

/// Turns the array form into text. `Compare` 67 and 105 are "equals" in
/// Kingdee's published examples; symbolic operators are accepted too; any
/// other code is refused (UNCONFIRMED: see docs/protocol-choices.md).
/// `Logic` joins an item to the next: 0 and, 1 or.
pub(crate) fn from_array(items: &[Value]) -> Result<String, String> {
    let mut out = String::new();
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            let logic = item_text(&items[i - 1], "Logic");
            out.push_str(match logic.trim().to_ascii_lowercase().as_str() {
                "1" | "or" => " or ",
                _ => " and ",
            });
        }
        let field = item_text(item, "FieldName");
        let value = item_text(item, "Value");
        let compare = item_text(item, "Compare");
        let predicate = match compare.trim().to_ascii_lowercase().as_str() {
            "67" | "105" | "=" | "==" => format!("{field} = {}", quote(&value)),
            "<>" | "!=" => format!("{field} <> {}", quote(&value)),
            ">" => format!("{field} > {}", quote(&value)),
            ">=" => format!("{field} >= {}", quote(&value)),
            "<" => format!("{field} < {}", quote(&value)),
            "<=" => format!("{field} <= {}", quote(&value)),
            "like" => format!("{field} like {}", quote(&value)),
            "in" => format!(
                "{field} in ({})",
                value
                    .split(',')
                    .map(|v| quote(v.trim()))
                    .collect::<Vec<_>>()
                    .join(",")
            ),
            other => return Err(format!("不支持的比较符Compare“{other}”")),
        };
        out.push_str(&item_text(item, "Left"));
        out.push_str(&predicate);
        out.push_str(&item_text(item, "Right"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> Expr {
        parse(text).expect("parses").expect("not empty")
    }

    #[test]
    fn parses_the_common_shapes() {
        assert_eq!(
            p("FBillNo='X'"),
            Expr::Cmp("FBillNo".into(), Op::Eq, Lit::Text("X".into()))
        );
        assert_eq!(
            p("FBillNo in ('A','B')"),
            Expr::In(
                "FBillNo".into(),
                vec![Lit::Text("A".into()), Lit::Text("B".into())],
                false
            )
        );
        assert!(matches!(
            p("FDocumentStatus='C' AND (FNumber like 'SKU%' or FID >= 3)"),
            Expr::And(..)
        ));
        assert_eq!(
            p("FName = N'张''三'"),
            Expr::Cmp("FName".into(), Op::Eq, Lit::Text("张'三".into()))
        );
        assert!(matches!(
            p("FMaterialId.FNumber is not null"),
            Expr::IsNull(_, true)
        ));
        assert!(matches!(
            p("FDate between '2024-01-01' and '2024-02-01'"),
            Expr::Between(..)
        ));
        assert_eq!(parse("  ").expect("empty is fine"), None);
        assert!(parse("FBillNo = ").is_err());
        assert!(parse("FBillNo = 'X").is_err());
        assert!(parse("(FBillNo = 'X'").is_err());
    }

    #[test]
    fn array_form_becomes_text() {
        let items = serde_json::json!([
            {"Left":"(","FieldName":"FNumber","Compare":"67","Value":"SKU00001","Right":"","Logic":"1"},
            {"Left":"","FieldName":"FNumber","Compare":"67","Value":"O'K","Right":")","Logic":0},
        ]);
        let text = from_array(items.as_array().expect("array")).expect("known compares");
        assert_eq!(text, "(FNumber = 'SKU00001' or FNumber = 'O''K')");
        assert!(p(&text) != Expr::IsNull(String::new(), false));
        let bad = serde_json::json!([{"FieldName":"F","Compare":"999","Value":"1"}]);
        assert!(from_array(bad.as_array().expect("array")).is_err());
    }
}
