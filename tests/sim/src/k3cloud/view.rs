//! `View`: one bill (or master record) by `Number` or `Id`, in K3Cloud's
//! object shape: property names without the `F` prefix, base data as
//! `{"Id","Number","Name":[{"Key":2052,"Value":…}]}`, entries with their
//! own `Id` and `Seq`.

use serde_json::{Map, Value, json};

use super::basedata::{self, K3Ref};
use super::bills::SavedBill;
use super::envelope::{K3Error, ResponseStatus, call_failure};
use super::forms::{BaseKind, FieldKind, FormDef, bill_form};
use super::save::member;
use crate::clock;
use crate::dataset::master::MasterData;
use crate::state::{SimState, lock};

fn property_name(key: &str) -> String {
    let mut chars = key.chars();
    match (chars.next(), chars.clone().next()) {
        (Some('F'), Some(c)) if c.is_ascii_uppercase() || c.is_ascii_digit() => chars.collect(),
        _ => key.to_string(),
    }
}

fn base_object(r: &K3Ref) -> Value {
    json!({"Id": r.id, "Number": r.number, "Name": [{"Key": 2052, "Value": r.name}]})
}

fn convert(
    obj: &Map<String, Value>,
    kind_of: &dyn Fn(&str) -> Option<FieldKind>,
    form: &FormDef,
    master: &MasterData,
) -> Map<String, Value> {
    let mut out = Map::new();
    for (key, value) in obj {
        if key.eq_ignore_ascii_case("FID") {
            continue;
        }
        let converted = match kind_of(key) {
            Some(FieldKind::Base(kind)) => basedata::ref_spec(value)
                .ok()
                .flatten()
                .and_then(|spec| basedata::resolve(master, kind, form.bill_types, &spec))
                .filter(|_| kind != BaseKind::Unchecked)
                .map(|r| base_object(&r))
                .unwrap_or_else(|| value.clone()),
            _ => value.clone(),
        };
        out.insert(property_name(key), converted);
    }
    out
}

fn bill_object(bill: &SavedBill, master: &MasterData) -> Value {
    let form = bill.form;
    let model = match serde_json::from_str::<Value>(&bill.model_json()) {
        Ok(Value::Object(o)) => o,
        _ => Map::new(),
    };
    let header_kind = |k: &str| form.header_field(k).map(|d| d.kind);
    let entry_kind = |k: &str| form.entry_field(k).map(|d| d.kind);
    let mut out = convert(&model, &header_kind, form, master);
    if let Some(Value::Array(rows)) = member(&model, form.entity.key) {
        let entries: Vec<Value> = rows
            .iter()
            .enumerate()
            .map(|(i, row)| {
                let mut e = row
                    .as_object()
                    .map(|r| convert(r, &entry_kind, form, master))
                    .unwrap_or_default();
                e.insert("Id".into(), json!(bill.first_entry_id + i as i64));
                e.insert("Seq".into(), json!(i + 1));
                Value::Object(e)
            })
            .collect();
        out.insert(property_name(form.entity.key), Value::Array(entries));
    }
    out.insert("Id".into(), json!(bill.id));
    out.insert("BillNo".into(), json!(bill.number));
    out.insert("DocumentStatus".into(), json!(bill.status));
    out.insert("CreateDate".into(), json!(clock::format_k3(bill.created)));
    out.insert("ModifyDate".into(), json!(clock::format_k3(bill.modified)));
    out.insert("FFormId".into(), json!(form.id));
    Value::Object(out)
}

fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) if n.as_i64() != Some(0) => Some(n.to_string()),
        _ => None,
    }
}

pub(crate) fn view(state: &SimState, form_id: Option<&str>, data: &Value) -> Value {
    let Some(form_id) = form_id.filter(|f| !f.trim().is_empty()) else {
        return call_failure(K3Error::new(5, Some("formid"), "单据标识为空（formid）"));
    };
    let Some(data) = data.as_object() else {
        return call_failure(K3Error::new(8, Some("data"), "data必须是JSON对象"));
    };
    let number = text(member(data, "Number"));
    let id = text(member(data, "Id")).and_then(|s| s.parse::<i64>().ok());
    if number.is_none() && id.is_none() {
        return call_failure(K3Error::new(8, Some("Number"), "Number和Id不能同时为空"));
    }
    let master = &state.master;
    let found = match bill_form(form_id) {
        Some(form) => {
            let store = lock(&state.k3);
            let bill = match (&number, id) {
                (Some(n), _) => store.by_number(form, n),
                (None, Some(id)) => store.by_id(form, id),
                _ => None,
            };
            bill.map(|b| bill_object(b, master))
        }
        None => {
            let kind = match form_id.to_ascii_uppercase().as_str() {
                "BD_MATERIAL" => BaseKind::Material,
                "BD_SUPPLIER" => BaseKind::Supplier,
                "BD_CUSTOMER" => BaseKind::Customer,
                "BD_STOCK" => BaseKind::Stock,
                "ORG_ORGANIZATIONS" => BaseKind::Org,
                _ => {
                    return call_failure(K3Error::new(
                        9,
                        Some("formid"),
                        format!("业务对象“{form_id}”不存在或模拟器未实现"),
                    ));
                }
            };
            basedata::records(master, kind, &[])
                .into_iter()
                .find(|r| number.as_ref().is_some_and(|n| r.number == *n) || id == Some(r.id))
                .map(|r| {
                    json!({"Id": r.id, "Number": r.number, "Name": [{"Key": 2052, "Value": r.name}],
                           "DocumentStatus": "C", "ForbidStatus": "A"})
                })
        }
    };
    match found {
        Some(result) => {
            json!({"Result": {"ResponseStatus": ResponseStatus::ok(Vec::new()), "Result": result}})
        }
        None => call_failure(K3Error::new(
            10,
            None,
            format!(
                "编码为“{}”的数据不存在或已被删除",
                number.unwrap_or_else(|| id.unwrap_or(0).to_string())
            ),
        )),
    }
}
