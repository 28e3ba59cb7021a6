//! `Save` and `BatchSave` for the bill forms: required fields, dates and
//! quantities, base data that must exist, and unique bill numbers, refused
//! with K3Cloud's own messages and MsgCodes (docs/protocol-choices.md).
//! BatchSave saves each model on its own: a bad model does not stop the
//! others.

use std::borrow::Cow;
use std::sync::Arc;

use axum::body::Bytes;
use serde::Serialize;
use serde_json::{Map, Value, json};

use super::basedata::{self, RefSpec};
use super::bills::{K3Store, ModelJson, SavedBatch, SavedBill};
use super::envelope::{K3Error, ResponseStatus, SuccessEntity, call_failure};
use super::forms::{BaseKind, FieldDef, FieldKind, FormDef, bill_form};
use super::node::{self, Obj, Shape, Val};
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
fn flag(v: Option<Val<'_, '_>>) -> bool {
    match v.map(Val::shape) {
        Some(Shape::Bool(b)) => b,
        Some(Shape::String(s)) => s.eq_ignore_ascii_case("true") || s == "1",
        Some(Shape::Number(n)) => n.as_i64() == Some(1),
        _ => false,
    }
}

/// A value as text, trimmed; blank is none.
fn text<'d>(v: Option<Val<'d, '_>>) -> Option<Cow<'d, str>> {
    match v?.shape() {
        Shape::String(s) if !s.trim().is_empty() => Some(Cow::Borrowed(s.trim())),
        Shape::Number(n) => Some(Cow::Owned(n.to_string())),
        _ => None,
    }
}

fn decimal(v: Val<'_, '_>) -> Option<f64> {
    match v.shape() {
        Shape::Number(n) => n.as_f64(),
        Shape::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn integer(v: Val<'_, '_>) -> Option<i64> {
    match v.shape() {
        Shape::Number(n) => n.as_i64(),
        Shape::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// The kind of a `F…OwnerId…` field follows its owner-type sibling.
fn owner_kind(obj: Obj<'_, '_>, def: &FieldDef) -> BaseKind {
    const OWNER_ID: &str = "ownerid";
    let key = def.key;
    // Keys are ASCII, so a byte window is a char boundary.
    let Some(pos) = key
        .as_bytes()
        .windows(OWNER_ID.len())
        .position(|w| w.eq_ignore_ascii_case(OWNER_ID.as_bytes()))
    else {
        return match def.kind {
            FieldKind::Base(k) => k,
            _ => BaseKind::Unchecked,
        };
    };
    let lower = key.to_ascii_lowercase();
    let type_key = format!(
        "{}ownertypeid{}",
        &lower[..pos],
        &lower[pos + OWNER_ID.len()..]
    );
    match text(obj.member(&type_key)).as_deref() {
        Some("BD_Supplier") => BaseKind::Supplier,
        Some("BD_Customer") => BaseKind::Customer,
        _ => BaseKind::Org,
    }
}

/// A list of field definitions (a form's header or its entries), and
/// which member of an object holds each, for objects with one set of
/// member names. The models of a BatchSave, and the entries of each,
/// mostly share theirs: comparing an object's names with the last ones
/// is cheaper than looking every field up in every object.
struct Layout<'d> {
    defs: &'static [FieldDef],
    required: &'static [&'static str],
    names: Vec<&'d str>,
    slots: Vec<Option<usize>>,
}

impl<'d> Layout<'d> {
    fn new(defs: &'static [FieldDef], required: &'static [&'static str]) -> Layout<'d> {
        Layout {
            defs,
            required,
            names: Vec::new(),
            slots: Vec::new(),
        }
    }

    /// Each definition with its value in `obj`, as `obj.member(def.key)`
    /// finds it.
    fn fields<'a>(
        &mut self,
        obj: Obj<'d, 'a>,
    ) -> impl Iterator<Item = (&'static FieldDef, Option<Val<'d, 'a>>)> {
        if self.slots.len() != self.defs.len() || !obj.has_names(&self.names) {
            self.names.clear();
            self.names.extend(obj.names());
            self.slots.clear();
            self.slots.extend(self.defs.iter().map(|d| obj.slot(d.key)));
        }
        self.defs
            .iter()
            .zip(&self.slots)
            .map(move |(def, slot)| (def, slot.and_then(|i| obj.at(i))))
    }
}

/// The layouts of a form's header and entries.
struct Layouts<'d> {
    header: Layout<'d>,
    entry: Layout<'d>,
}

impl Layouts<'_> {
    fn new(form: &'static FormDef) -> Self {
        Layouts {
            header: Layout::new(form.header, form.required),
            entry: Layout::new(form.entity.fields, form.entity.required),
        }
    }
}

/// Checks one object (the header or entry `row`) against field definitions.
fn check_fields<'d>(
    obj: Obj<'d, '_>,
    layout: &mut Layout<'d>,
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
    let required = layout.required;
    for (def, value) in layout.fields(obj) {
        let present = match def.kind {
            FieldKind::Base(_) => {
                let kind = owner_kind(obj, def);
                match value.map(basedata::node_ref_spec) {
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
            FieldKind::Decimal => match value.map(|v| (v, v.shape())) {
                None | Some((_, Shape::Null)) => false,
                Some((_, Shape::String(s))) if s.trim().is_empty() => false,
                Some((v, _)) => {
                    if decimal(v).is_none() {
                        errors.push(K3Error::new(
                            11,
                            Some(def.key),
                            format!(
                                "{}字段“{}”的值“{}”不是有效的数值",
                                prefix(),
                                def.label,
                                v.to_json()
                            ),
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
fn validate<'d>(
    form: &FormDef,
    obj: Obj<'d, '_>,
    layouts: &mut Layouts<'d>,
    master: &MasterData,
) -> Result<(String, usize), Vec<K3Error>> {
    let mut errors = Vec::new();
    check_fields(obj, &mut layouts.header, None, form, master, &mut errors);
    let entity = &form.entity;
    let entries = match obj.member(entity.key).map(Val::shape) {
        Some(Shape::Array(rows)) if !rows.is_empty() => Some(rows),
        _ => {
            errors.push(K3Error::new(
                11,
                Some(entity.key),
                format!("单据体“{}”至少需要录入一行分录", entity.label),
            ));
            None
        }
    };
    let entry_count = entries.map_or(0, |rows| rows.len());
    for (i, row) in entries.into_iter().flat_map(|rows| rows.iter()).enumerate() {
        let prefix = || format!("第{}行分录，", i + 1);
        let Some(row) = row.as_object() else {
            errors.push(K3Error::new(
                8,
                Some(entity.key),
                format!("{}分录必须是对象", prefix()),
            ));
            continue;
        };
        check_fields(row, &mut layouts.entry, Some(i), form, master, &mut errors);
        if let Some(qty) = row.member(entity.qty).and_then(decimal)
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
    let number = text(obj.member("FBillNo")).unwrap_or_default();
    if errors.is_empty() {
        Ok((number.into_owned(), entry_count))
    } else {
        Err(errors)
    }
}

pub(crate) struct SaveOptions {
    pub auto_audit: bool,
    pub need_return: Vec<String>,
}

impl SaveOptions {
    fn from_data(data: Obj<'_, '_>) -> SaveOptions {
        let need_return = match data.member("NeedReturnFields").map(Val::shape) {
            Some(Shape::Array(items)) => items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect(),
            Some(Shape::String(s)) => s
                .split(',')
                .map(|x| x.trim().to_string())
                .filter(|x| !x.is_empty())
                .collect(),
            _ => Vec::new(),
        };
        SaveOptions {
            auto_audit: flag(data.member("IsAutoSubmitAndAudit")),
            need_return,
        }
    }
}

/// The `FID` a model names; 0 or none is a new bill.
fn model_fid(obj: Obj<'_, '_>) -> Option<i64> {
    obj.member("FID").and_then(integer)
}

/// How a saved model's JSON is kept.
enum Keep {
    /// Written at once: the inbox records it.
    Written,
    /// Written from the call's body when asked for; `usize` is the
    /// model's place in `Model`.
    Deferred(Arc<SavedBatch>, usize),
}

/// Saves one model. An `FID` other than 0 updates that bill.
fn save_model<'d>(
    store: &mut K3Store,
    form: &'static FormDef,
    model: Val<'d, '_>,
    layouts: &mut Layouts<'d>,
    options: &SaveOptions,
    master: &MasterData,
    keep: Keep,
) -> Result<Saved, Vec<K3Error>> {
    let Some(obj) = model.as_object() else {
        return Err(vec![K3Error::new(8, Some("Model"), "Model必须是JSON对象")]);
    };
    let existing = match model_fid(obj) {
        Some(id) if id != 0 => match store.by_id(form, id) {
            Some(bill) => Some((bill.id, bill.entry_count, bill.first_entry_id, bill.created)),
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
    let (number, entry_count) = validate(form, obj, layouts, master)?;
    if let Some(other) = store.by_number(form, &number)
        && existing.is_none_or(|(id, ..)| id != other.id)
    {
        return Err(vec![K3Error::new(
            11,
            Some("FBillNo"),
            format!("违反字段唯一性要求：单据编号唯一。[{number}]已经被使用。"),
        )]);
    }
    let now = clock::now_unix();
    let (id, first_entry_id, created) = match existing {
        Some((id, old_entries, first, created)) if old_entries >= entry_count => {
            (id, first, created)
        }
        Some((id, _, _, created)) => (id, store.allocate(entry_count).1, created),
        None => {
            let (id, entry) = store.allocate(entry_count);
            (id, entry, now)
        }
    };
    let need_return = need_return_data(&options.need_return, id, &number, obj);
    let (model, json) = match keep {
        Keep::Written => {
            let json: Arc<str> = Arc::from(with_id(obj, id));
            (ModelJson::Written(json.clone()), Some(json))
        }
        Keep::Deferred(batch, index) => (ModelJson::Deferred { batch, index }, None),
    };
    store.put(SavedBill {
        id,
        number: number.clone(),
        form,
        status: if options.auto_audit { "C" } else { "A" },
        created,
        modified: now,
        model,
        first_entry_id,
        entry_count,
    });
    Ok(Saved {
        id,
        number,
        json,
        need_return,
    })
}

/// What the reply and the inbox need of a saved model.
struct Saved {
    id: i64,
    number: String,
    /// The model's JSON, when it was written at once.
    json: Option<Arc<str>>,
    need_return: Value,
}

/// The model as stored: its members with `FID` set to the assigned id.
/// Members come in key order, as they did when models were `Value`s.
struct WithId<'d, 'a> {
    obj: Obj<'d, 'a>,
    id: i64,
}

impl Serialize for WithId<'_, '_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("FID", &self.id)?;
        for (k, v) in self.obj.iter() {
            if !k.eq_ignore_ascii_case("FID") {
                m.serialize_entry(k, &v)?;
            }
        }
        m.end()
    }
}

fn with_id(obj: Obj<'_, '_>, id: i64) -> String {
    serde_json::to_string(&WithId { obj, id }).unwrap_or_default()
}

/// For each model of a Save or BatchSave body, as [`SavedBatch`] asks:
/// its JSON after the `FID` member. Only bodies that were saved from come
/// here, so they parse as they did then.
pub(crate) fn model_tails(body: &[u8]) -> Vec<Option<String>> {
    let Ok(parsed) = node::parse(body) else {
        return Vec::new();
    };
    let mut data_doc = None;
    let Ok(call) = super::parse_call(&parsed, &mut data_doc) else {
        return Vec::new();
    };
    const HEAD: &str = "{\"FID\":0";
    let tail = |m: Val<'_, '_>| {
        let text = with_id(m.as_object()?, 0);
        text.strip_prefix(HEAD).map(str::to_string)
    };
    match call.data.as_object().and_then(|d| d.member("Model")) {
        Some(model) => match model.shape() {
            Shape::Array(models) => models.iter().map(tail).collect(),
            _ => vec![tail(model)],
        },
        None => Vec::new(),
    }
}

fn need_return_data(fields: &[String], id: i64, number: &str, obj: Obj<'_, '_>) -> Value {
    let mut out = Map::new();
    for f in fields {
        let value = if f.eq_ignore_ascii_case("FID") {
            json!(id)
        } else if f.eq_ignore_ascii_case("FBillNo") {
            json!(number)
        } else {
            obj.member(f).map(Val::to_value).unwrap_or(Value::Null)
        };
        out.insert(f.clone(), value);
    }
    Value::Object(out)
}

/// `Save` (one model) or `BatchSave` (`Model` is an array). `body` is the
/// call's body, which `data` was read from.
pub(crate) fn save(
    state: &SimState,
    form_id: Option<&str>,
    data: Val<'_, '_>,
    batch: bool,
    body: &Bytes,
) -> Reply {
    let Some(form_id) = form_id.filter(|f| !f.trim().is_empty()) else {
        return refuse(K3Error::new(5, Some("formid"), "单据标识为空（formid）"));
    };
    let Some(form) = bill_form(form_id) else {
        return refuse(K3Error::new(
            9,
            Some("formid"),
            format!("业务对象“{form_id}”不存在或模拟器未实现"),
        ));
    };
    let Some(data) = data.as_object() else {
        return refuse(K3Error::new(8, Some("data"), "data必须是JSON对象"));
    };
    let options = SaveOptions::from_data(data);
    let models: Vec<Val<'_, '_>> = match (data.member("Model").map(|m| (m, m.shape())), batch) {
        (Some((_, Shape::Array(models))), true) if !models.is_empty() => models.iter().collect(),
        (Some((_, Shape::Array(_))), true) => {
            return refuse(K3Error::new(8, Some("Model"), "Model不能为空"));
        }
        (Some((model, Shape::Object(_))), false) => vec![model],
        (Some((_, Shape::Array(_))), false) => {
            return refuse(K3Error::new(
                8,
                Some("Model"),
                "Save的Model必须是对象，批量保存请使用BatchSave",
            ));
        }
        (Some(_), true) => {
            return refuse(K3Error::new(8, Some("Model"), "BatchSave的Model必须是数组"));
        }
        _ => return refuse(K3Error::new(8, Some("Model"), "缺少Model参数")),
    };
    let record_bodies = state.config.record_bodies;
    let mut store = lock(&state.k3);
    let mut inbox = lock(&state.inbox);
    let mut entities = Vec::with_capacity(models.len());
    let mut errors = Vec::new();
    let mut returned = Vec::with_capacity(models.len());
    let mut saved_batch: Option<Arc<SavedBatch>> = None;
    let mut layouts = Layouts::new(form);
    for (d_index, model) in models.into_iter().enumerate() {
        let key = model
            .as_object()
            .and_then(|o| text(o.member("FBillNo")))
            .map_or_else(|| format!("#{d_index}"), Cow::into_owned);
        let keep = if record_bodies {
            Keep::Written
        } else {
            let batch = saved_batch.get_or_insert_with(|| Arc::new(SavedBatch::new(body.clone())));
            Keep::Deferred(batch.clone(), d_index)
        };
        match save_model(
            &mut store,
            form,
            model,
            &mut layouts,
            &options,
            &state.master,
            keep,
        ) {
            Ok(saved) => {
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
                        target_id: Some(saved.id.to_string()),
                        body: saved.json,
                    },
                );
                entities.push(SuccessEntity {
                    id: saved.id,
                    number: saved.number,
                    d_index,
                });
                returned.push(saved.need_return);
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
                        body: record_bodies.then(|| Arc::from(model.to_json())),
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
    let result = if batch {
        Saves::Batch {
            need_return_data: returned,
            response_status: status,
        }
    } else {
        match entities.first() {
            Some(e) => Saves::One {
                id: e.id,
                need_return_data: returned,
                number: e.number.clone(),
                response_status: status,
            },
            None => Saves::None {
                id: "",
                need_return_data: [Map::new()],
                number: "",
                response_status: status,
            },
        }
    };
    Reply::Saved(SaveReply { result })
}

fn refuse(error: K3Error) -> Reply {
    Reply::Refused(call_failure(error))
}

/// A Save or BatchSave reply, written directly rather than built as a
/// `Value` first. Fields are in name order, as a `Value` writes them.
#[derive(Serialize)]
#[serde(untagged)]
pub(crate) enum Reply {
    Refused(Value),
    Saved(SaveReply),
}

#[derive(Serialize)]
pub(crate) struct SaveReply {
    #[serde(rename = "Result")]
    result: Saves,
}

#[derive(Serialize)]
#[serde(untagged, rename_all_fields = "PascalCase")]
enum Saves {
    Batch {
        need_return_data: Vec<Value>,
        response_status: ResponseStatus,
    },
    /// Save, with what it saved.
    One {
        id: i64,
        need_return_data: Vec<Value>,
        number: String,
        response_status: ResponseStatus,
    },
    /// Save, refused.
    None {
        id: &'static str,
        need_return_data: [Map<String, Value>; 1],
        number: &'static str,
        response_status: ResponseStatus,
    },
}

fn was_update(model: Val<'_, '_>) -> bool {
    model
        .as_object()
        .and_then(model_fid)
        .is_some_and(|id| id != 0)
}
