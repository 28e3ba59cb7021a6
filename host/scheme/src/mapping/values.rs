//! Records as template values, and template values back as JSON.
//!
//! A record is converted to a template [`Value`] once per call, not once per
//! field; objects become [`JsonObject`]s (a flat list of entries, cheap to
//! build, searched by key) instead of minijinja's own sorted maps.

use std::sync::Arc;

use minijinja::Value;
use minijinja::value::{Enumerator, Object, ObjectExt as _, ObjectRepr, ValueKind};

/// A JSON value as a template value.
pub(crate) fn to_value(json: &serde_json::Value) -> Value {
    match json {
        serde_json::Value::Null => Value::from(()),
        serde_json::Value::Bool(b) => Value::from(*b),
        serde_json::Value::Number(n) => number_value(n),
        serde_json::Value::String(s) => Value::from(s.as_str()),
        serde_json::Value::Array(items) => {
            Value::from(items.iter().map(to_value).collect::<Vec<_>>())
        }
        serde_json::Value::Object(map) => Value::from_object(JsonObject(
            map.iter()
                .map(|(k, v)| (Value::from(k.as_str()), to_value(v)))
                .collect(),
        )),
    }
}

fn number_value(n: &serde_json::Number) -> Value {
    if let Some(i) = n.as_i64() {
        Value::from(i)
    } else if let Some(u) = n.as_u64() {
        Value::from(u)
    } else {
        Value::from(n.as_f64().unwrap_or(f64::NAN))
    }
}

/// A template value as JSON. Undefined and `none` are `null`.
///
/// # Errors
///
/// A value JSON cannot hold (a function, a non-finite number, bytes), named
/// in the message.
pub(crate) fn to_json(value: &Value) -> Result<serde_json::Value, String> {
    Ok(match value.kind() {
        ValueKind::Undefined | ValueKind::None => serde_json::Value::Null,
        ValueKind::Bool => serde_json::Value::Bool(value.is_true()),
        ValueKind::Number => number_json(value)?,
        ValueKind::String => {
            serde_json::Value::String(value.as_str().unwrap_or_default().to_owned())
        }
        ValueKind::Seq | ValueKind::Iterable => serde_json::Value::Array(
            value
                .try_iter()
                .map_err(|e| e.to_string())?
                .map(|v| to_json(&v))
                .collect::<Result<_, _>>()?,
        ),
        ValueKind::Map => {
            if let Some(obj) = value.downcast_object_ref::<JsonObject>() {
                return obj.to_json();
            }
            let mut out = serde_json::Map::new();
            for key in value.try_iter().map_err(|e| e.to_string())? {
                let item = value.get_item(&key).map_err(|e| e.to_string())?;
                let key = match key.as_str() {
                    Some(s) => s.to_owned(),
                    None => key.to_string(),
                };
                out.insert(key, to_json(&item)?);
            }
            serde_json::Value::Object(out)
        }
        ValueKind::Invalid => return Err(invalid_message(value)),
        ValueKind::Bytes | ValueKind::Plain => {
            return Err(format!(
                "{value} ({}) cannot be written as JSON",
                value.kind()
            ));
        }
        // ValueKind is non-exhaustive.
        _ => {
            return Err(format!(
                "{value} ({}) cannot be written as JSON",
                value.kind()
            ));
        }
    })
}

fn invalid_message(value: &Value) -> String {
    value.to_string()
}

fn number_json(value: &Value) -> Result<serde_json::Value, String> {
    if value.is_integer() {
        if let Ok(i) = i64::try_from(value.clone()) {
            return Ok(i.into());
        }
        if let Ok(u) = u64::try_from(value.clone()) {
            return Ok(u.into());
        }
    }
    let f = f64::try_from(value.clone()).map_err(|e| e.to_string())?;
    serde_json::Number::from_f64(f)
        .map(serde_json::Value::Number)
        .ok_or_else(|| format!("{f} is not a number JSON can hold"))
}

/// A JSON object as a template value: its entries in source order.
#[derive(Debug)]
pub(crate) struct JsonObject(Vec<(Value, Value)>);

impl JsonObject {
    /// An object of these entries (keys are strings).
    pub fn new(entries: Vec<(Value, Value)>) -> Self {
        Self(entries)
    }

    fn get(&self, key: &str) -> Option<&Value> {
        self.0
            .iter()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(_, v)| v)
    }

    fn to_json(&self) -> Result<serde_json::Value, String> {
        let mut out = serde_json::Map::new();
        for (k, v) in &self.0 {
            out.insert(k.as_str().unwrap_or_default().to_owned(), to_json(v)?);
        }
        Ok(serde_json::Value::Object(out))
    }
}

impl Object for JsonObject {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        self.get(key.as_str()?).cloned()
    }

    fn get_value_by_str(self: &Arc<Self>, key: &str) -> Option<Value> {
        self.get(key).cloned()
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        self.mapped_enumerator(|this| Box::new(this.0.iter().map(|(k, _)| k.clone())))
    }

    fn enumerator_len(self: &Arc<Self>) -> Option<usize> {
        Some(self.0.len())
    }
}

/// The names seen inside an `each` block: the current row under the list's
/// name (or its `as:` name) and under `row`, then everything the enclosing
/// scope sees, then — for the architecture's short spelling `{{ spec_no }}`
/// — the row's own fields. Header fields win over row fields of the same
/// name, as in Qeasy where `{{remark}}` is always the header's remark.
#[derive(Debug)]
pub(crate) struct RowScope {
    pub binding: Option<Arc<str>>,
    pub row: Value,
    pub parent: Value,
}

impl Object for RowScope {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        self.get_value_by_str(key.as_str()?)
    }

    fn get_value_by_str(self: &Arc<Self>, key: &str) -> Option<Value> {
        if key == "row" || self.binding.as_deref() == Some(key) {
            return Some(self.row.clone());
        }
        let v = self.parent.get_attr(key).ok().filter(|v| !v.is_undefined());
        v.or_else(|| self.row.get_attr(key).ok().filter(|v| !v.is_undefined()))
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::NonEnumerable
    }
}

/// The string a value stands for as a key (lookup keys, group keys,
/// business keys): strings as they are, numbers and booleans written out,
/// `none` and undefined as `None`.
pub(crate) fn key_string(value: &Value) -> Option<String> {
    match value.kind() {
        ValueKind::Undefined | ValueKind::None => None,
        ValueKind::String => value.as_str().map(str::to_owned),
        _ => Some(value.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn json_round_trips() {
        let j = json!({"a": 1, "b": [true, null, 1.5, "x"], "c": {"d": -3, "e": 18446744073709551615u64}});
        let v = to_value(&j);
        assert_eq!(to_json(&v), Ok(j));
        assert_eq!(
            v.get_attr("c").and_then(|c| c.get_attr("d")).ok(),
            Some(Value::from(-3))
        );
    }

    #[test]
    fn row_scope_prefers_bindings_then_header_then_row() {
        let header = to_value(&json!({"remark": "header", "details_list": [1]}));
        let row = to_value(&json!({"remark": "row", "num": "2"}));
        let scope = Value::from_object(RowScope {
            binding: Some(Arc::from("details_list")),
            row: row.clone(),
            parent: header,
        });
        let get = |k: &str| scope.get_attr(k).ok().and_then(|v| to_json(&v).ok());
        assert_eq!(get("remark"), Some(json!("header")));
        assert_eq!(get("num"), Some(json!("2")));
        assert_eq!(
            get("details_list"),
            Some(json!({"remark": "row", "num": "2"}))
        );
        assert_eq!(get("row"), get("details_list"));
        assert_eq!(get("missing"), Some(serde_json::Value::Null));
    }
}
