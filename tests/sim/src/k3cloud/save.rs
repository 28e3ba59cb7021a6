//! `Save` and `BatchSave` for the bill forms: required fields, dates and
//! quantities, base data that must exist, and unique bill numbers, refused
//! with K3Cloud's own messages and MsgCodes (docs/protocol-choices.md).
//! BatchSave saves each model on its own: a bad model does not stop the
//! others.

use std::sync::Arc;

use serde_json::{Map, Value, json};

use super::basedata::{self, RefSpec};
use super::bills::{K3Store, SavedBill};
use super::envelope::{K3Error, ResponseStatus, SuccessEntity, call_failure};
use super::forms::{BaseKind, FieldDef, FieldKind, FormDef, bill_form};
use crate::clock;
use crate::dataset::master::MasterData;
use crate::inspect::{Arrival, Outcome};
use crate::state::{SimState, lock};
use crate::system::System;

/// Case-insensitive member lookup, as K3Cloud reads model keys.
pub(crate) fn member<'a>(obj: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    obj.get(key).or_else(|| {
        obj.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    })
}

/// `true`, `"true"`, `1`…
pub(crate) fn flag(v: Option<&Value>) -> bool {
    match v {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true") || s == "1",
        Some(Value::Number(n)) => n.as_i64() == Some(1),
        _ => false,
    }
}

fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn decimal(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// The kind of a `F…OwnerId…` field follows its owner-type sibling.
fn owner_kind(obj: &Map<String, Value>, def: &FieldDef) -> BaseKind {
    let lower = def.key.to_ascii_lowercase();
    let Some(pos) = lower.find("ownerid") else {
        return match def.kind {
            FieldKind::Base(k) => k,
            _ => BaseKind::Unchecked,
        };
    };
    let type_key = format!("{}ownertypeid{}", &lower[..pos], &lower[pos + 7..]);
    match text(member(obj, &type_key)).as_deref() {
        Some("BD_Supplier") => BaseKind::Supplier,
        Some("BD_Customer") => BaseKind::Customer,
        _ => BaseKind::Org,
    }
}

/// Checks one object (the header or entry `row`) against field definitions.
fn check_fields(
    obj: &Map<String, Value>,
    defs: &[FieldDef],
    required: &[&str],
    row: Option<usize>,
    form: &FormDef,
    master: &MasterData,
    errors: &mut Vec<K3Error>,
) {
    // Built only when an error needs it: this runs for every entry saved.
    let prefix = || {
        row.map(|i| format!("第{}行分录，", i + 1))
            .unwrap_or_default()
    };
    for def in defs {
        let value = member(obj, def.key);
        let present = match def.kind {
            FieldKind::Base(_) => {
                let kind = owner_kind(obj, def);
                match value.map(basedata::ref_spec) {
                    None | Some(Ok(None)) | Some(Err(())) => false,
                    Some(Ok(Some(spec))) => {
                        if !basedata::exists(master, kind, form.bill_types, &spec) {
                            let what = match spec {
                                RefSpec::Name(_) => kind.label().replace("编码", "名称"),
                                RefSpec::Id(_) => kind.label().replace("编码", "内码"),
                                RefSpec::Number(_) => kind.label().to_string(),
                            };
                            errors.push(K3Error::new(
                                9,
                                Some(def.key),
                                format!("{}{what}“{}”不存在", prefix(), spec.text()),
                            ));
                        }
                        true
                    }
                }
            }
            FieldKind::Date => match text(value) {
                None => false,
                Some(t) => {
                    if clock::parse_china(&t).is_none() {
                        errors.push(K3Error::new(
                            11,
                            Some(def.key),
                            format!("{}字段“{}”的值“{t}”不是有效的日期", prefix(), def.label),
                        ));
                    }
                    true
                }
            },
            FieldKind::Decimal => match value {
                None | Some(Value::Null) => false,
                Some(Value::String(s)) if s.trim().is_empty() => false,
                Some(v) => {
                    if decimal(v).is_none() {
                        errors.push(K3Error::new(
                            11,
                            Some(def.key),
                            format!("{}字段“{}”的值“{v}”不是有效的数值", prefix(), def.label),
                        ));
                    }
                    true
                }
            },
            FieldKind::Text => text(value).is_some(),
        };
        if !present && required.iter().any(|r| r.eq_ignore_ascii_case(def.key)) {
            errors.push(K3Error::new(
                11,
                Some(def.key),
                format!("{}字段“{}”是必填项", prefix(), def.label),
            ));
        }
    }
}

/// Validates a model; on success gives the bill number and entry count.
fn validate(
    form: &FormDef,
    obj: &Map<String, Value>,
    master: &MasterData,
) -> Result<(String, usize), Vec<K3Error>> {
    let mut errors = Vec::new();
    check_fields(
        obj,
        form.header,
        form.required,
        None,
        form,
        master,
        &mut errors,
    );
    let entity = &form.entity;
    let entries = match member(obj, entity.key) {
        Some(Value::Array(rows)) if !rows.is_empty() => rows.as_slice(),
        _ => {
            errors.push(K3Error::new(
                11,
                Some(entity.key),
                format!("单据体“{}”至少需要录入一行分录", entity.label),
            ));
            &[]
        }
    };
    for (i, row) in entries.iter().enumerate() {
        let prefix = || format!("第{}行分录，", i + 1);
        let Some(row) = row.as_object() else {
            errors.push(K3Error::new(
                8,
                Some(entity.key),
                format!("{}分录必须是对象", prefix()),
            ));
            continue;
        };
        check_fields(
            row,
            entity.fields,
            entity.required,
            Some(i),
            form,
            master,
            &mut errors,
        );
        if let Some(qty) = member(row, entity.qty).and_then(decimal)
            && qty <= 0.0
        {
            let label = form
                .entry_field(entity.qty)
                .map(|d| d.label)
                .unwrap_or(entity.qty);
            errors.push(K3Error::new(
                11,
                Some(entity.qty),
                format!("{}“{label}”必须大于0", prefix()),
            ));
        }
    }
    let number = text(member(obj, "FBillNo")).unwrap_or_default();
    if errors.is_empty() {
        Ok((number, entries.len()))
    } else {
        Err(errors)
    }
}

pub(crate) struct SaveOptions {
    pub auto_audit: bool,
    pub need_return: Vec<String>,
}

impl SaveOptions {
    pub fn from_data(data: &Map<String, Value>) -> SaveOptions {
        let need_return = match member(data, "NeedReturnFields") {
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect(),
            Some(Value::String(s)) => s
                .split(',')
                .map(|x| x.trim().to_string())
                .filter(|x| !x.is_empty())
                .collect(),
            _ => Vec::new(),
        };
        SaveOptions {
            auto_audit: flag(member(data, "IsAutoSubmitAndAudit")),
            need_return,
        }
    }
}

/// Saves one model. An `FID` other than 0 updates that bill.
fn save_model(
    store: &mut K3Store,
    form: &'static FormDef,
    model: &Value,
    options: &SaveOptions,
    master: &MasterData,
) -> Result<(SavedBill, Value), Vec<K3Error>> {
    let Some(obj) = model.as_object() else {
        return Err(vec![K3Error::new(8, Some("Model"), "Model必须是JSON对象")]);
    };
    let fid = member(obj, "FID").and_then(|v| match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    });
    let existing = match fid {
        Some(id) if id != 0 => match store.by_id(form, id) {
            Some(bill) => Some(bill.clone()),
            None => {
                return Err(vec![K3Error::new(
                    10,
                    Some("FID"),
                    format!("内码为{id}的{}不存在或已被删除", form.name),
                )]);
            }
        },
        _ => None,
    };
    let (number, entry_count) = validate(form, obj, master)?;
    if let Some(other) = store.by_number(form, &number)
        && existing.as_ref().is_none_or(|e| e.id != other.id)
    {
        return Err(vec![K3Error::new(
            11,
            Some("FBillNo"),
            format!("违反字段唯一性要求：单据编号唯一。[{number}]已经被使用。"),
        )]);
    }
    let now = clock::now_unix();
    let (id, first_entry_id, created) = match &existing {
        Some(old) if old.entry_count >= entry_count => (old.id, old.first_entry_id, old.created),
        Some(old) => (old.id, store.allocate(entry_count).1, old.created),
        None => {
            let (id, entry) = store.allocate(entry_count);
            (id, entry, now)
        }
    };
    let need_return = need_return_data(&options.need_return, id, &number, obj);
    let bill = SavedBill {
        id,
        number,
        form,
        status: if options.auto_audit { "C" } else { "A" },
        created,
        modified: now,
        model: Arc::from(serde_json::to_string(&WithId { obj, id }).unwrap_or_default()),
        first_entry_id,
        entry_count,
    };
    store.put(bill.clone());
    Ok((bill, need_return))
}

/// The model as stored: its members with `FID` set to the assigned id,
/// written without cloning the model.
struct WithId<'a> {
    obj: &'a Map<String, Value>,
    id: i64,
}

impl serde::Serialize for WithId<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("FID", &self.id)?;
        for (k, v) in self.obj {
            if !k.eq_ignore_ascii_case("FID") {
                m.serialize_entry(k, v)?;
            }
        }
        m.end()
    }
}

fn need_return_data(fields: &[String], id: i64, number: &str, obj: &Map<String, Value>) -> Value {
    let mut out = Map::new();
    for f in fields {
        let value = if f.eq_ignore_ascii_case("FID") {
            json!(id)
        } else if f.eq_ignore_ascii_case("FBillNo") {
            json!(number)
        } else {
            member(obj, f).cloned().unwrap_or(Value::Null)
        };
        out.insert(f.clone(), value);
    }
    Value::Object(out)
}

/// `Save` (one model) or `BatchSave` (`Model` is an array).
pub(crate) fn save(state: &SimState, form_id: Option<&str>, data: &Value, batch: bool) -> Value {
    let Some(form_id) = form_id.filter(|f| !f.trim().is_empty()) else {
        return call_failure(K3Error::new(5, Some("formid"), "单据标识为空（formid）"));
    };
    let Some(form) = bill_form(form_id) else {
        return call_failure(K3Error::new(
            9,
            Some("formid"),
            format!("业务对象“{form_id}”不存在或模拟器未实现"),
        ));
    };
    let Some(data) = data.as_object() else {
        return call_failure(K3Error::new(8, Some("data"), "data必须是JSON对象"));
    };
    let options = SaveOptions::from_data(data);
    let models: Vec<&Value> = match (member(data, "Model"), batch) {
        (Some(Value::Array(models)), true) if !models.is_empty() => models.iter().collect(),
        (Some(Value::Array(_)), true) => {
            return call_failure(K3Error::new(8, Some("Model"), "Model不能为空"));
        }
        (Some(model @ Value::Object(_)), false) => vec![model],
        (Some(Value::Array(_)), false) => {
            return call_failure(K3Error::new(
                8,
                Some("Model"),
                "Save的Model必须是对象，批量保存请使用BatchSave",
            ));
        }
        (Some(_), true) => {
            return call_failure(K3Error::new(8, Some("Model"), "BatchSave的Model必须是数组"));
        }
        _ => return call_failure(K3Error::new(8, Some("Model"), "缺少Model参数")),
    };
    let record_bodies = state.config.record_bodies;
    let mut store = lock(&state.k3);
    let mut inbox = lock(&state.inbox);
    let mut entities = Vec::new();
    let mut errors = Vec::new();
    let mut returned = Vec::new();
    for (d_index, model) in models.iter().enumerate() {
        let key = model
            .as_object()
            .and_then(|o| text(member(o, "FBillNo")))
            .unwrap_or_else(|| format!("#{d_index}"));
        match save_model(&mut store, form, model, &options, &state.master) {
            Ok((bill, need)) => {
                inbox.record(
                    System::K3cloud,
                    form.id,
                    Arrival {
                        key,
                        outcome: if was_update(model) {
                            Outcome::Updated
                        } else {
                            Outcome::Created
                        },
                        message: None,
                        target_id: Some(bill.id.to_string()),
                        body: record_bodies.then(|| bill.model.clone()),
                    },
                );
                entities.push(SuccessEntity {
                    id: bill.id,
                    number: bill.number,
                    d_index,
                });
                returned.push(need);
            }
            Err(mut errs) => {
                inbox.record(
                    System::K3cloud,
                    form.id,
                    Arrival {
                        key,
                        outcome: Outcome::Rejected,
                        message: Some(
                            errs.iter()
                                .map(|e| e.message.as_str())
                                .collect::<Vec<_>>()
                                .join("；"),
                        ),
                        target_id: None,
                        body: record_bodies.then(|| Arc::from(model.to_string())),
                    },
                );
                for e in &mut errs {
                    e.d_index = d_index;
                }
                errors.extend(errs);
            }
        }
    }
    let status = if errors.is_empty() {
        ResponseStatus::ok(entities.clone())
    } else {
        ResponseStatus::failed(errors, entities.clone())
    };
    if batch {
        json!({"Result": {"ResponseStatus": status, "NeedReturnData": returned}})
    } else {
        match entities.first() {
            Some(e) => {
                json!({"Result": {"ResponseStatus": status, "Id": e.id, "Number": e.number, "NeedReturnData": returned}})
            }
            None => {
                json!({"Result": {"ResponseStatus": status, "Id": "", "Number": "", "NeedReturnData": [{}]}})
            }
        }
    }
}

fn was_update(model: &Value) -> bool {
    model
        .as_object()
        .and_then(|o| member(o, "FID"))
        .and_then(|v| match v {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        })
        .is_some_and(|id| id != 0)
}
