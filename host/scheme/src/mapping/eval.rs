//! Running plans against one record.

use std::collections::HashMap;
use std::fmt::Write as _;

use minijinja::Value;
use minijinja::value::ValueKind;

use super::MapError;
use super::compile::{Each, Plan};
use super::filters::round_decimal;
use super::program::Slot;
use super::values::{RowScope, to_json};

/// Where in the output a value is being produced, for error messages:
/// `mapping.FPOOrderEntry[2].FQty`.
#[derive(Debug)]
pub(crate) struct Path<'p>(Vec<Seg<'p>>);

#[derive(Debug, Clone, Copy)]
enum Seg<'p> {
    Key(&'p str),
    Index(usize),
}

impl<'p> Path<'p> {
    pub fn new(root: &'p str) -> Self {
        Self(vec![Seg::Key(root)])
    }

    pub(crate) fn push_key(&mut self, key: &'p str) {
        self.0.push(Seg::Key(key));
    }

    pub(crate) fn push_index(&mut self, i: usize) {
        self.0.push(Seg::Index(i));
    }

    pub(crate) fn pop(&mut self) {
        self.0.pop();
    }

    pub fn error(&self, message: impl Into<String>) -> MapError {
        let mut path = String::new();
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                Seg::Key(k) if i == 0 => path.push_str(k),
                Seg::Key(k) => {
                    path.push('.');
                    path.push_str(k);
                }
                Seg::Index(n) => {
                    let _ = write!(path, "[{n}]");
                }
            }
        }
        MapError {
            path,
            message: message.into(),
        }
    }
}

/// A template error as a user reads it: the filter's own message, or the
/// kind and detail of anything else.
pub(crate) fn runtime_message(e: &minijinja::Error) -> String {
    match (e.kind(), e.detail()) {
        (minijinja::ErrorKind::InvalidOperation, Some(d)) => d.to_owned(),
        (kind, Some(d)) => format!("{kind}: {d}"),
        (kind, None) => kind.to_string(),
    }
}

/// Evaluates one slot to a template value.
pub(crate) fn slot_value(slots: &[Slot<'_>], slot: usize, ctx: &Value) -> Result<Value, String> {
    let result = match slots.get(slot) {
        Some(Slot::Expression(e, path)) => match path.as_ref().and_then(|p| p.eval(ctx)) {
            Some(v) => return Ok(v),
            None => e.eval(ctx.clone()),
        },
        Some(Slot::Template(t)) => t.render(ctx.clone()).map(Value::from),
        None => return Err(format!("internal error: no compiled template {slot}")),
    };
    result.map_err(|e| runtime_message(&e))
}

/// Whether `slot` is read as a field path, and so is left out of batches
/// (see `compile::Compiler::batch`).
pub(crate) fn is_field_path(slots: &[Slot<'_>], slot: usize) -> bool {
    matches!(slots.get(slot), Some(Slot::Expression(_, Some(_))))
}

/// Produces the JSON of `plan` for the scope `ctx`.
pub(crate) fn eval<'p>(
    plan: &'p Plan,
    slots: &[Slot<'_>],
    ctx: &Value,
    path: &mut Path<'p>,
) -> Result<serde_json::Value, MapError> {
    match plan {
        Plan::Constant(v) => Ok(v.clone()),
        Plan::Expression(slot) => {
            let v = slot_value(slots, *slot, ctx).map_err(|m| path.error(m))?;
            to_json(&v).map_err(|m| path.error(m))
        }
        Plan::Template(slot) => match slots.get(*slot) {
            Some(Slot::Template(t)) => t
                .render(ctx.clone())
                .map(serde_json::Value::String)
                .map_err(|e| path.error(runtime_message(&e))),
            _ => {
                let v = slot_value(slots, *slot, ctx).map_err(|m| path.error(m))?;
                to_json(&v).map_err(|m| path.error(m))
            }
        },
        Plan::Object(fields) => {
            let mut out = serde_json::Map::new();
            for (k, p) in fields {
                path.push_key(k);
                let v = eval(p, slots, ctx, path)?;
                path.pop();
                out.insert(k.to_string(), v);
            }
            Ok(serde_json::Value::Object(out))
        }
        Plan::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            for (i, p) in items.iter().enumerate() {
                path.push_index(i);
                out.push(eval(p, slots, ctx, path)?);
                path.pop();
            }
            Ok(serde_json::Value::Array(out))
        }
        Plan::Each(each) => eval_each(each, slots, ctx, path),
        Plan::Batch { slot, plan } => {
            // On any failure, evaluate field by field: that finds the
            // failing field and reports it with its path.
            let Ok(values) = slot_value(slots, *slot, ctx) else {
                return eval(plan, slots, ctx, path);
            };
            let Ok(mut values) = values.try_iter() else {
                return eval(plan, slots, ctx, path);
            };
            fill(plan, slots, ctx, path, &mut values)
        }
    }
}

/// Like [`eval`], with the typed expressions' values taken in order from
/// `values` (a batch's results).
fn fill<'p>(
    plan: &'p Plan,
    slots: &[Slot<'_>],
    ctx: &Value,
    path: &mut Path<'p>,
    values: &mut impl Iterator<Item = Value>,
) -> Result<serde_json::Value, MapError> {
    match plan {
        Plan::Expression(slot) if is_field_path(slots, *slot) => eval(plan, slots, ctx, path),
        Plan::Expression(_) => match values.next() {
            Some(v) => to_json(&v).map_err(|m| path.error(m)),
            None => eval(plan, slots, ctx, path),
        },
        Plan::Object(fields) => {
            let mut out = serde_json::Map::new();
            for (k, p) in fields {
                path.push_key(k);
                let v = fill(p, slots, ctx, path, values)?;
                path.pop();
                out.insert(k.to_string(), v);
            }
            Ok(serde_json::Value::Object(out))
        }
        Plan::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            for (i, p) in items.iter().enumerate() {
                path.push_index(i);
                out.push(fill(p, slots, ctx, path, values)?);
                path.pop();
            }
            Ok(serde_json::Value::Array(out))
        }
        other => eval(other, slots, ctx, path),
    }
}

/// The rows of a list value: a list's items, one object as one row (APIs
/// that send a single detail row without its list), nothing for a missing
/// list.
pub(crate) fn rows(list: &Value, name: &str) -> Result<Vec<Value>, String> {
    match list.kind() {
        ValueKind::Undefined | ValueKind::None => Ok(Vec::new()),
        ValueKind::Seq | ValueKind::Iterable => list
            .try_iter()
            .map(Iterator::collect)
            .map_err(|e| runtime_message(&e)),
        ValueKind::Map => Ok(vec![list.clone()]),
        kind => Err(format!("each: `{name}` is a {kind}, not a list")),
    }
}

/// What the templates of an `each` see for one row (see [`RowScope`]), or
/// `None` when the block's filter leaves the row out.
pub(crate) fn row_scope(
    each: &Each,
    slots: &[Slot<'_>],
    ctx: &Value,
    row: Value,
    path: &Path<'_>,
) -> Result<Option<Value>, MapError> {
    let scope = Value::from_object(RowScope {
        binding: each.binding.clone(),
        row,
        parent: ctx.clone(),
    });
    if let Some(filter) = each.filter {
        let keep =
            slot_value(slots, filter, &scope).map_err(|m| path.error(format!("filter: {m}")))?;
        if !keep.is_true() {
            return Ok(None);
        }
    }
    Ok(Some(scope))
}

pub(crate) fn eval_each<'p>(
    each: &'p Each,
    slots: &[Slot<'_>],
    ctx: &Value,
    path: &mut Path<'p>,
) -> Result<serde_json::Value, MapError> {
    let list = slot_value(slots, each.list, ctx).map_err(|m| path.error(m))?;
    let rows = rows(&list, &each.list_name).map_err(|m| path.error(m))?;
    let mut out: Vec<serde_json::Value> = Vec::with_capacity(rows.len());
    let mut groups: HashMap<String, usize> = HashMap::new();
    for (i, row) in rows.into_iter().enumerate() {
        path.push_index(i);
        let Some(scope) = row_scope(each, slots, ctx, row, path)? else {
            path.pop();
            continue;
        };
        let item = eval(&each.item, slots, &scope, path)?;
        match &each.group_by {
            None => out.push(item),
            Some(group_by) => {
                let key = eval(group_by, slots, &scope, path)?;
                let key = match &key {
                    serde_json::Value::String(s) => s.clone(),
                    serde_json::Value::Null => String::new(),
                    other => other.to_string(),
                };
                match groups.get(&key) {
                    Some(&at) => {
                        for field in &each.sum {
                            add_field(&mut out[at], &item, field).map_err(|m| {
                                path.error(format!("sum of `{}`: {m}", field.join(".")))
                            })?;
                        }
                    }
                    None => {
                        groups.insert(key, out.len());
                        out.push(item);
                    }
                }
            }
        }
        path.pop();
    }
    Ok(serde_json::Value::Array(out))
}

fn field_mut<'v>(
    v: &'v mut serde_json::Value,
    path: &[String],
) -> Option<&'v mut serde_json::Value> {
    path.iter()
        .try_fold(v, |v, k| v.as_object_mut()?.get_mut(k))
}

fn field<'v>(v: &'v serde_json::Value, path: &[String]) -> Option<&'v serde_json::Value> {
    path.iter().try_fold(v, |v, k| v.as_object()?.get(k))
}

/// Adds `item`'s value of `path` into `into`'s, as decimals: the sum has as
/// many decimals as the most precise addend (0.1 + 0.2 is 0.3).
fn add_field(
    into: &mut serde_json::Value,
    item: &serde_json::Value,
    path: &[String],
) -> Result<(), String> {
    let add = field(item, path)
        .cloned()
        .unwrap_or(serde_json::Value::Null);
    let Some(total) = field_mut(into, path) else {
        return Ok(());
    };
    let a = numeric(total)?;
    let b = numeric(&add)?;
    let sum = match (a, b) {
        (Number::Int(x), Number::Int(y)) => x.checked_add(y).map(serde_json::Value::from),
        _ => None,
    };
    *total = match sum {
        Some(v) => v,
        None => {
            let places = a.decimals().max(b.decimals());
            let s = round_decimal(a.as_f64() + b.as_f64(), places);
            serde_json::Number::from_f64(s)
                .map(serde_json::Value::Number)
                .ok_or_else(|| format!("{s} is not a finite number"))?
        }
    };
    Ok(())
}

#[derive(Debug, Clone, Copy)]
enum Number {
    Int(i64),
    Float(f64),
}

impl Number {
    fn as_f64(self) -> f64 {
        match self {
            #[allow(clippy::cast_precision_loss)]
            Self::Int(i) => i as f64,
            Self::Float(f) => f,
        }
    }

    fn decimals(self) -> u32 {
        match self {
            Self::Int(_) => 0,
            Self::Float(f) => {
                let s = format!("{f}");
                s.split_once('.').map_or(0, |(_, frac)| {
                    u32::try_from(frac.len()).unwrap_or(12).min(12)
                })
            }
        }
    }
}

/// A summed field's number: numbers, numeric strings, and `null` as 0.
fn numeric(v: &serde_json::Value) -> Result<Number, String> {
    match v {
        serde_json::Value::Null => Ok(Number::Int(0)),
        serde_json::Value::Number(n) => Ok(match n.as_i64() {
            Some(i) => Number::Int(i),
            None => Number::Float(n.as_f64().unwrap_or(0.0)),
        }),
        serde_json::Value::String(s) => {
            let t = s.trim();
            t.parse::<i64>()
                .map(Number::Int)
                .or_else(|_| t.parse::<f64>().map(Number::Float))
                .ok()
                .filter(|n| n.as_f64().is_finite())
                .ok_or_else(|| format!("'{s}' is not a number"))
        }
        other => Err(format!("{other} is not a number")),
    }
}

/// The key string of a record's rendered key.
pub(crate) fn key_text(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::Null => None,
        serde_json::Value::String(s) if s.trim().is_empty() => None,
        serde_json::Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}
