//! Running plans straight to JSON text.
//!
//! A run writes every mapped document to the target as text, and keeps
//! that text in the ledger. Building a `serde_json::Value` first (a sorted
//! map per object, an owned key per field, a copy of every constant) and
//! then writing it out cost more than the templates themselves. This
//! writes the same document directly, fields in the scheme's order; what
//! it writes parses to exactly what [`super::eval::eval`] returns (tested
//! in `super::tests`).

use minijinja::Value;
use minijinja::value::ValueKind;

use super::MapError;
use super::compile::{Each, Plan};
use super::eval::{Path, eval_each, is_field_path, row_scope, rows, runtime_message, slot_value};
use super::program::Slot;
use super::values::to_json;

/// Appends the JSON of `plan` for the scope `ctx` to `out`. On an error,
/// `out` holds a partial document; the caller drops it.
pub(crate) fn write<'p>(
    plan: &'p Plan,
    slots: &[Slot<'_>],
    ctx: &Value,
    path: &mut Path<'p>,
    out: &mut Vec<u8>,
) -> Result<(), MapError> {
    match plan {
        Plan::Constant(v) => write_json(v, out, path),
        Plan::Expression(slot) => {
            let v = slot_value(slots, *slot, ctx).map_err(|m| path.error(m))?;
            write_value(&v, out, path)
        }
        Plan::Template(slot) => match slots.get(*slot) {
            Some(Slot::Template(t)) => {
                let text = t
                    .render(ctx.clone())
                    .map_err(|e| path.error(runtime_message(&e)))?;
                write_json(&text, out, path)
            }
            _ => {
                let v = slot_value(slots, *slot, ctx).map_err(|m| path.error(m))?;
                write_value(&v, out, path)
            }
        },
        // Without a batch's values, `fill` evaluates each field itself.
        Plan::Object(_) | Plan::Array(_) => {
            fill(plan, slots, ctx, path, &mut std::iter::empty(), out)
        }
        Plan::Each(each) if each.group_by.is_none() => write_each(each, slots, ctx, path, out),
        // Merged rows add up fields of items already made: they are built
        // as values.
        Plan::Each(each) => {
            let v = eval_each(each, slots, ctx, path)?;
            write_json(&v, out, path)
        }
        Plan::Batch { slot, plan } => {
            // As `eval`: on any failure, field by field, which finds the
            // failing field and names it.
            let Ok(values) = slot_value(slots, *slot, ctx) else {
                return write(plan, slots, ctx, path, out);
            };
            let Ok(mut values) = values.try_iter() else {
                return write(plan, slots, ctx, path, out);
            };
            fill(plan, slots, ctx, path, &mut values, out)
        }
    }
}

/// Like [`write`], with the typed expressions' values taken in order from
/// `values` (a batch's results).
fn fill<'p>(
    plan: &'p Plan,
    slots: &[Slot<'_>],
    ctx: &Value,
    path: &mut Path<'p>,
    values: &mut impl Iterator<Item = Value>,
    out: &mut Vec<u8>,
) -> Result<(), MapError> {
    match plan {
        Plan::Expression(slot) if is_field_path(slots, *slot) => write(plan, slots, ctx, path, out),
        Plan::Expression(_) => match values.next() {
            Some(v) => write_value(&v, out, path),
            None => write(plan, slots, ctx, path, out),
        },
        Plan::Object(fields) => {
            out.push(b'{');
            for (i, (k, p)) in fields.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_json(&**k, out, path)?;
                out.push(b':');
                path.push_key(k);
                fill(p, slots, ctx, path, values, out)?;
                path.pop();
            }
            out.push(b'}');
            Ok(())
        }
        Plan::Array(items) => {
            out.push(b'[');
            for (i, p) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                path.push_index(i);
                fill(p, slots, ctx, path, values, out)?;
                path.pop();
            }
            out.push(b']');
            Ok(())
        }
        other => write(other, slots, ctx, path, out),
    }
}

fn write_each<'p>(
    each: &'p Each,
    slots: &[Slot<'_>],
    ctx: &Value,
    path: &mut Path<'p>,
    out: &mut Vec<u8>,
) -> Result<(), MapError> {
    let list = slot_value(slots, each.list, ctx).map_err(|m| path.error(m))?;
    let rows = rows(&list, &each.list_name).map_err(|m| path.error(m))?;
    out.push(b'[');
    let mut first = true;
    for (i, row) in rows.into_iter().enumerate() {
        path.push_index(i);
        let Some(scope) = row_scope(each, slots, ctx, row, path)? else {
            path.pop();
            continue;
        };
        if !first {
            out.push(b',');
        }
        first = false;
        write(&each.item, slots, &scope, path, out)?;
        path.pop();
    }
    out.push(b']');
    Ok(())
}

/// A template value as JSON text: scalars directly, anything else through
/// [`to_json`], so that both agree on what a value is.
fn write_value(v: &Value, out: &mut Vec<u8>, path: &Path<'_>) -> Result<(), MapError> {
    match v.kind() {
        ValueKind::Undefined | ValueKind::None => {
            out.extend_from_slice(b"null");
            Ok(())
        }
        ValueKind::String => write_json(v.as_str().unwrap_or_default(), out, path),
        _ => {
            let json = to_json(v).map_err(|m| path.error(m))?;
            write_json(&json, out, path)
        }
    }
}

fn write_json<T: serde::Serialize + ?Sized>(
    v: &T,
    out: &mut Vec<u8>,
    path: &Path<'_>,
) -> Result<(), MapError> {
    serde_json::to_writer(out, v).map_err(|e| path.error(e.to_string()))
}
