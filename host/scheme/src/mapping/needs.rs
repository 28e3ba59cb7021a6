//! Which parts of a record a plan reads, so that only those are converted
//! to template values.
//!
//! A 旺店通 purchase order carries some 40 header fields and 45 per detail
//! line; a mapping reads a dozen and six. Converting the whole record for
//! every `map()` would cost more than all the templates together, so the
//! variables each compiled template reads (minijinja's
//! `undeclared_variables`) are resolved, through the `each` scopes, to
//! paths in the record, and the record is converted along those paths only.
//! A variable used as a whole (`{{ o }}`, `{{ xs | length }}`,
//! `{% for x in xs %}`) converts that value whole.

use std::collections::HashMap;

use super::compile::{Each, Plan};
use super::values::{JsonObject, to_value};
use minijinja::Value;

/// The part of a value some plan reads.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Need {
    /// Read as a whole: convert everything below.
    whole: bool,
    /// Fields read (of an object, or of each item of a list). Looked up
    /// for every field of every record read, so with a fast fixed hasher:
    /// the table holds only the scheme's names, so a record's keys that
    /// collide can cost no more than a scan of those few.
    fields: HashMap<Box<str>, Need, foldhash::fast::FixedState>,
}

impl Need {
    /// A need for everything.
    #[cfg(test)]
    pub fn whole() -> Self {
        Self {
            whole: true,
            fields: HashMap::default(),
        }
    }

    /// Marks `path` as read in whole.
    fn mark(&mut self, path: &[String]) {
        if self.whole {
            return;
        }
        match path.split_first() {
            None => {
                self.whole = true;
                self.fields.clear();
            }
            Some((first, rest)) => self
                .fields
                .entry(Box::from(first.as_str()))
                .or_default()
                .mark(rest),
        }
    }

    /// Marks `path` as present (a list walked by `each`), without reading
    /// its contents.
    fn mark_present(&mut self, path: &[String]) {
        if self.whole {
            return;
        }
        if let Some((first, rest)) = path.split_first() {
            self.fields
                .entry(Box::from(first.as_str()))
                .or_default()
                .mark_present(rest);
        }
    }

    /// Adds what `other` reads to what this need reads.
    pub fn merge(&mut self, other: &Need) {
        if self.whole {
            return;
        }
        if other.whole {
            self.whole = true;
            self.fields.clear();
            return;
        }
        for (name, need) in &other.fields {
            self.fields.entry(name.clone()).or_default().merge(need);
        }
    }

    /// `json` as a template value, converted where this need reads it.
    pub fn project(&self, json: &serde_json::Value) -> Value {
        if self.whole {
            return to_value(json);
        }
        match json {
            serde_json::Value::Object(map) => Value::from_object(JsonObject::new(
                self.fields
                    .iter()
                    .filter_map(|(k, need)| {
                        map.get(&**k).map(|v| (Value::from(&**k), need.project(v)))
                    })
                    .collect(),
            )),
            serde_json::Value::Array(items) => {
                Value::from(items.iter().map(|i| self.project(i)).collect::<Vec<_>>())
            }
            scalar => to_value(scalar),
        }
    }
}

impl Need {
    /// A record's JSON text as a template value, parsed where this need
    /// reads it: the fields nobody reads are skipped over, not built.
    /// Gives the same value as [`Need::project`] of the parsed record.
    ///
    /// # Errors
    /// The text is not JSON.
    pub fn project_text(&self, text: &str) -> Result<Value, serde_json::Error> {
        let mut de = serde_json::Deserializer::from_str(text);
        let value = serde::de::DeserializeSeed::deserialize(Projector(self), &mut de)?;
        de.end()?;
        Ok(value)
    }
}

/// Deserialises the part of a value a [`Need`] reads.
struct Projector<'n>(&'n Need);

impl<'de> serde::de::DeserializeSeed<'de> for Projector<'_> {
    type Value = Value;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        if self.0.whole {
            let json = <serde_json::Value as serde::Deserialize>::deserialize(d)?;
            return Ok(to_value(&json));
        }
        d.deserialize_any(self)
    }
}

/// A map key, looked up among the fields a need reads.
struct FieldOf<'n>(&'n Need);

impl<'de, 'n> serde::de::DeserializeSeed<'de> for FieldOf<'n> {
    type Value = Option<(&'n str, &'n Need)>;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'n> serde::de::Visitor<'_> for FieldOf<'n> {
    type Value = Option<(&'n str, &'n Need)>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a field name")
    }

    fn visit_str<E: serde::de::Error>(self, key: &str) -> Result<Self::Value, E> {
        Ok(self.0.fields.get_key_value(key).map(|(k, n)| (&**k, n)))
    }
}

impl<'de> serde::de::Visitor<'de> for Projector<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        Ok(Value::from(b))
    }

    fn visit_i64<E>(self, i: i64) -> Result<Value, E> {
        Ok(Value::from(i))
    }

    fn visit_u64<E>(self, u: u64) -> Result<Value, E> {
        // As serde_json's Number::as_i64 first, so both paths agree.
        Ok(i64::try_from(u).map_or_else(|_| Value::from(u), Value::from))
    }

    fn visit_f64<E>(self, f: f64) -> Result<Value, E> {
        Ok(Value::from(f))
    }

    fn visit_str<E>(self, s: &str) -> Result<Value, E> {
        Ok(Value::from(s))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::from(()))
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::from(()))
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(item) = seq.next_element_seed(Projector(self.0))? {
            items.push(item);
        }
        Ok(Value::from(items))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries: Vec<(Value, Value)> = Vec::with_capacity(self.0.fields.len());
        while let Some(field) = map.next_key_seed(FieldOf(self.0))? {
            let Some((name, need)) = field else {
                map.next_value::<serde::de::IgnoredAny>()?;
                continue;
            };
            let value = map.next_value_seed(Projector(need))?;
            // A repeated key keeps its last value, as serde_json's own map.
            match entries.iter_mut().find(|(k, _)| k.as_str() == Some(name)) {
                Some(entry) => entry.1 = value,
                None => entries.push((Value::from(name), value)),
            }
        }
        Ok(Value::from_object(JsonObject::new(entries)))
    }
}

/// Names visible in a plan's scope, resolved to record paths.
enum Scope<'a> {
    /// The record.
    Record,
    /// Inside an `each`: the row under its binding and `row`; other names
    /// in the enclosing scope, then in the row.
    Row {
        binding: Option<&'a str>,
        /// Where the rows are in the record; empty when the list is
        /// computed (then it is converted whole already).
        lists: Vec<Vec<String>>,
        parent: &'a Scope<'a>,
    },
}

impl Scope<'_> {
    fn resolve(&self, path: &[String]) -> Vec<Vec<String>> {
        let Some(first) = path.first() else {
            return Vec::new();
        };
        match self {
            Self::Record => vec![path.to_vec()],
            Self::Row {
                binding,
                lists,
                parent,
            } => {
                let joined = |list: &Vec<String>, rest: &[String]| {
                    list.iter().chain(rest).cloned().collect::<Vec<_>>()
                };
                if first == "row" || Some(first.as_str()) == *binding {
                    return lists.iter().map(|l| joined(l, &path[1..])).collect();
                }
                let mut out = parent.resolve(path);
                out.extend(lists.iter().map(|l| joined(l, path)));
                out
            }
        }
    }
}

/// What a plan reads of a record, given each slot's variables.
pub(crate) fn of_plan(plan: &Plan, vars: &[Vec<Vec<String>>]) -> Need {
    let mut need = Need::default();
    walk(plan, &Scope::Record, vars, &mut need);
    need
}

/// What one slot reads of a record.
pub(crate) fn of_slot(slot: usize, vars: &[Vec<Vec<String>>]) -> Need {
    let mut need = Need::default();
    mark_slot(slot, &Scope::Record, vars, &mut need);
    need
}

fn mark_slot(slot: usize, scope: &Scope<'_>, vars: &[Vec<Vec<String>>], need: &mut Need) {
    let Some(paths) = vars.get(slot) else {
        // Unknown: read everything rather than too little.
        need.mark(&[]);
        return;
    };
    for var in paths {
        for p in scope.resolve(var) {
            need.mark(&p);
        }
    }
}

fn walk(plan: &Plan, scope: &Scope<'_>, vars: &[Vec<Vec<String>>], need: &mut Need) {
    match plan {
        Plan::Constant(_) => {}
        Plan::Expression(slot) | Plan::Template(slot) => mark_slot(*slot, scope, vars, need),
        Plan::Object(fields) => fields.iter().for_each(|(_, p)| walk(p, scope, vars, need)),
        Plan::Array(items) => items.iter().for_each(|p| walk(p, scope, vars, need)),
        Plan::Each(each) => walk_each(each, scope, vars, need),
        // The batch's expression reads what its fields read.
        Plan::Batch { plan, .. } => walk(plan, scope, vars, need),
    }
}

fn walk_each(each: &Each, scope: &Scope<'_>, vars: &[Vec<Vec<String>>], need: &mut Need) {
    let lists = match &each.list_path {
        Some(path) => {
            let lists = scope.resolve(path);
            for l in &lists {
                need.mark_present(l);
            }
            lists
        }
        None => {
            mark_slot(each.list, scope, vars, need);
            Vec::new()
        }
    };
    let inner = Scope::Row {
        binding: each.binding.as_deref(),
        lists,
        parent: scope,
    };
    if let Some(f) = each.filter {
        mark_slot(f, &inner, vars, need);
    }
    if let Some(g) = &each.group_by {
        walk(g, &inner, vars, need);
    }
    walk(&each.item, &inner, vars, need);
}

/// The record paths a compiled template reads, from minijinja's
/// `undeclared_variables(true)` (`details_list.num`) and the template's
/// code: a method call (`row.items()`) reads the value it is called on in
/// whole. (minijinja has no methods on plain values unless a method
/// callback is installed; the rule keeps projection from reading too little
/// should one be.)
pub(crate) fn variables(names: impl IntoIterator<Item = String>, code: &str) -> Vec<Vec<String>> {
    names
        .into_iter()
        .map(|name| {
            let mut path: Vec<String> = name.split('.').map(str::to_owned).collect();
            if path.len() > 1 {
                let last = path.last().map(String::as_str).unwrap_or_default();
                let called = code
                    .match_indices(&format!(".{last}"))
                    .any(|(i, m)| code[i + m.len()..].trim_start().starts_with('('));
                if called {
                    path.pop();
                }
            }
            path
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::mapping::values::to_json;

    fn need(paths: &[&str]) -> Need {
        let mut n = Need::default();
        for p in paths {
            n.mark(&p.split('.').map(str::to_owned).collect::<Vec<_>>());
        }
        n
    }

    #[test]
    fn projects_only_what_is_read() {
        let rec = json!({"a": 1, "b": {"c": 2, "d": 3}, "xs": [{"n": 1, "m": 2}, {"n": 3}], "big": {"x": [1]}});
        let v = need(&["a", "b.c", "xs.n", "big"]).project(&rec);
        assert_eq!(
            to_json(&v),
            Ok(json!({"a": 1, "b": {"c": 2}, "xs": [{"n": 1}, {"n": 3}], "big": {"x": [1]}}))
        );
        assert_eq!(to_json(&Need::whole().project(&rec)), Ok(rec));
    }

    #[test]
    fn projecting_text_gives_what_projecting_the_tree_gives() {
        let text = r#"{"a": 1, "b": {"c": "\u00e9\"q", "d": [1, 2]}, "xs": [{"n": -1, "m": 2}, {"n": 1.5e3}, 7],
            "big": {"x": [true, null]}, "u": 18446744073709551615, "s": "x", "a": 2, "\u0061b": "escaped key"}"#;
        let tree: serde_json::Value = serde_json::from_str(text).unwrap_or_default();
        for paths in [
            &["a", "b.c", "xs.n", "big"][..],
            &["u", "ab", "b.d", "missing.deep"],
            &["xs", "s.length"],
            &[],
        ] {
            let n = need(paths);
            let from_text = n.project_text(text).map(|v| to_json(&v));
            assert_eq!(
                from_text.ok(),
                Some(to_json(&n.project(&tree))),
                "{paths:?}"
            );
        }
        let whole = Need::whole().project_text(text).map(|v| to_json(&v));
        assert_eq!(whole.ok(), Some(Ok(tree)));
        // A repeated key keeps its last value, as the tree does.
        let v = need(&["a"]).project_text(text).map(|v| to_json(&v));
        assert_eq!(v.ok(), Some(Ok(json!({"a": 2}))));
        assert!(need(&["a"]).project_text("{\"a\": 1").is_err());
        assert!(need(&["a"]).project_text("{\"a\": 1} trailing").is_err());
    }

    #[test]
    fn merged_needs_read_what_either_reads() {
        let rec = json!({"a": 1, "b": {"c": 2, "d": 3}, "xs": [{"n": 1, "m": 2}], "e": 5});
        let mut n = need(&["a", "b.c", "xs.n"]);
        n.merge(&need(&["b.d", "xs.m"]));
        assert_eq!(
            to_json(&n.project(&rec)),
            Ok(json!({"a": 1, "b": {"c": 2, "d": 3}, "xs": [{"n": 1, "m": 2}]}))
        );
        n.merge(&need(&["xs"]));
        n.merge(&need(&["b.c"]));
        assert_eq!(
            to_json(&n.project(&rec)),
            Ok(json!({"a": 1, "b": {"c": 2, "d": 3}, "xs": [{"n": 1, "m": 2}]}))
        );
        n.merge(&Need::whole());
        assert_eq!(to_json(&n.project(&rec)), Ok(rec.clone()));
        let mut whole = Need::whole();
        whole.merge(&need(&["a"]));
        assert_eq!(to_json(&whole.project(&rec)), Ok(rec));
    }

    #[test]
    fn method_calls_read_the_receiver() {
        let v = variables(
            [
                "row.items".to_owned(),
                "a.b".to_owned(),
                "name.upper".to_owned(),
            ],
            "row.items() ~ a.b ~ name.upper ( )",
        );
        assert_eq!(
            v,
            [
                vec!["row".to_owned()],
                vec!["a".to_owned(), "b".to_owned()],
                vec!["name".to_owned()]
            ]
        );
    }

    #[test]
    fn rows_resolve_to_the_list_and_the_header() {
        let parent = Scope::Record;
        let row = Scope::Row {
            binding: Some("details_list"),
            lists: vec![vec!["details_list".to_owned()]],
            parent: &parent,
        };
        let p = |s: &str| s.split('.').map(str::to_owned).collect::<Vec<_>>();
        assert_eq!(row.resolve(&p("details_list.num")), [p("details_list.num")]);
        assert_eq!(row.resolve(&p("row.num")), [p("details_list.num")]);
        assert_eq!(
            row.resolve(&p("spec_no")),
            [p("spec_no"), p("details_list.spec_no")]
        );
    }
}
