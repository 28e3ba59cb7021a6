//! The targets `save` (`DynamicFormService.Save`, one model per call) and
//! `batch_save` (`DynamicFormService.BatchSave`, every model of the batch in
//! one call, each saved on its own). Records are the `Model` objects.
//!
//! Writes are idempotent on the bill number (`FBillNo`, or `number_field`):
//! 1. ExecuteBillQuery `FBillNo in (...)` finds the numbers that already
//!    exist; those records come back `existed` with their id, unsaved.
//! 2. The rest are saved. BatchSave's `SuccessEntitys[].DIndex` and
//!    `Errors[].DIndex` give each model its outcome.
//! 3. A model refused because its number is taken (`MsgCode 11` on
//!    `FBillNo`, `…已经被使用`: an earlier attempt got there between the
//!    query and the save) is `existed` too, its id looked up afterwards.
//!
//! Base-data and validation errors (`MsgCode 9`, `11`) are `invalid` with
//! K3's message; `MsgCode 14` is `rate-limited`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use weft_plugin_sdk::http::Transport;
use weft_plugin_sdk::{Error, Operation, Outcomes, Result, WriteOutcome};

use crate::bill_query;
use crate::records::{self, Record};
use crate::response_status::{K3Error, ResponseStatus};
use crate::service;
use crate::webapi::Client;

/// Operation id of Save.
pub const SAVE: &str = "save";
/// Operation id of BatchSave.
pub const BATCH_SAVE: &str = "batch_save";

/// The params of `save` and `batch_save`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
pub struct SaveParams {
    /// 业务对象表单Id, e.g. `PUR_PurchaseOrder`, `SAL_RETURNSTOCK`, `SAL_OUTSTOCK`.
    pub formid: String,
    /// The model field holding the bill number writes are idempotent on (`FNumber` for base data).
    #[serde(default = "default_number_field")]
    pub number_field: String,
    /// The form's primary key field, returned as the id of an existing bill (`FMATERIALID` for materials).
    #[serde(default = "default_id_field")]
    pub id_field: String,
    /// K3's save options, passed on as they are.
    #[serde(flatten)]
    pub options: SaveOptions,
}

fn default_number_field() -> String {
    "FBillNo".to_owned()
}

fn default_id_field() -> String {
    "FID".to_owned()
}

/// The `data` fields of Save / BatchSave besides `Model` (PROTOCOLS.md
/// §1.3); absent ones are not sent, so K3's defaults apply.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "PascalCase")]
pub struct SaveOptions {
    /// Save, submit and audit in one call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_auto_submit_and_audit: Option<bool>,
    /// Check every base-data reference (K3's default: false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_verify_base_data_field: Option<bool>,
    /// Fields to update on an existing bill.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub need_up_date_fields: Option<Vec<String>>,
    /// Fields to return.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub need_return_fields: Option<Vec<String>>,
    /// Delete entries absent from the model (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_delete_entry: Option<bool>,
    /// 系统模块.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_system_id: Option<String>,
    /// Fill entries in batch (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_entry_batch_fill: Option<bool>,
    /// Validate (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validate_flag: Option<bool>,
    /// Resolve base data by number (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number_search: Option<bool>,
    /// Adjust field order automatically (default false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_auto_adjust_field: Option<bool>,
    /// Interaction flags, `a;b` (e.g. `STK_InvCheckResult`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interation_flags: Option<String>,
    /// Ignore interaction prompts (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore_interation_flag: Option<bool>,
    /// Control precision (default false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_control_precision: Option<bool>,
    /// Validate repeated JSON (default false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validate_repeat_json: Option<bool>,
    /// Save a draft when the save fails.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_draft_when_save_fail: Option<bool>,
    /// BatchSave: how many models K3 saves in parallel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_count: Option<u32>,
}

/// What `describe()` says about the two operations.
pub fn operations() -> [Operation; 2] {
    [
        Operation::target::<SaveParams>(SAVE, "保存 (Save)")
            .description(
                "Saves each record (a Model) with DynamicFormService.Save, one call per record. Idempotent on \
                 FBillNo: bills that already exist are reported as existed with their id.",
            )
            .max_batch(20),
        Operation::target::<SaveParams>(BATCH_SAVE, "批量保存 (BatchSave)")
            .description(
                "Saves the records (Models) with one DynamicFormService.BatchSave call, each model on its own, \
                 with per-record outcomes. Idempotent on FBillNo: bills that already exist are reported as \
                 existed with their id.",
            )
            .max_batch(50),
    ]
}

/// How a model of a call fared.
#[derive(Debug, Clone, PartialEq)]
pub enum Saved {
    /// Saved: its id and number.
    Created {
        /// `Id`.
        id: Option<String>,
        /// `Number`.
        number: Option<String>,
    },
    /// Refused because the bill number is taken.
    Duplicate,
    /// Refused.
    Failed(Error),
    /// K3 said nothing about it.
    Unknown,
}

/// Reads a Save / BatchSave answer for the `count` models of the call.
pub fn saved(reply: &Value, count: usize, number_field: &str) -> Vec<Saved> {
    let Some(status) = ResponseStatus::of(reply) else {
        let error = Error::transient(format!(
            "金蝶云星空 answered the save without a ResponseStatus: {reply}"
        ));
        return vec![Saved::Failed(error); count];
    };
    let position = |index: Option<usize>| match index {
        Some(i) if i < count => Some(i),
        // A single Save may leave DIndex out.
        None if count == 1 => Some(0),
        _ => None,
    };
    let mut outcomes = vec![Saved::Unknown; count];
    for entity in &status.saved {
        if let Some(p) = position(entity.index) {
            outcomes[p] = Saved::Created {
                id: entity.id.clone(),
                number: entity.number.clone(),
            };
        }
    }
    let mut errors: Vec<Vec<&K3Error>> = vec![Vec::new(); count];
    let mut unplaced: Vec<&K3Error> = Vec::new();
    for error in &status.errors {
        match position(error.index) {
            Some(p) => errors[p].push(error),
            None => unplaced.push(error),
        }
    }
    for (p, outcome) in outcomes.iter_mut().enumerate() {
        if matches!(outcome, Saved::Created { .. }) {
            continue;
        }
        // Errors for no model in particular concern every model not saved.
        let mine = if errors[p].is_empty() {
            &unplaced
        } else {
            &errors[p]
        };
        if mine.iter().any(|e| e.is_duplicate_number(number_field)) {
            *outcome = Saved::Duplicate;
        } else if !mine.is_empty() {
            let message: Vec<String> = mine.iter().map(|e| e.describe()).collect();
            *outcome = Saved::Failed(status.classify(&message.join("; ")));
        } else if status.is_success && count == 1 {
            *outcome = Saved::Created {
                id: reply.pointer("/Result/Id").and_then(bill_query::text),
                number: reply.pointer("/Result/Number").and_then(bill_query::text),
            };
        } else if !status.is_success && status.saved.is_empty() {
            *outcome = Saved::Failed(status.classify("no message"));
        }
    }
    outcomes
}

/// The models of one call: Save takes one object, BatchSave a list. Each
/// is the JSON text of a record, as the host sent it.
#[derive(Debug, Clone)]
pub enum Models<'a> {
    /// Save's `Model`.
    One(&'a str),
    /// BatchSave's `Model`.
    Many(Vec<&'a str>),
}

impl Models<'_> {
    /// Writes the models as serde_json writes JSON values: `[a,b]` for a
    /// list.
    fn write(&self, out: &mut Vec<u8>) {
        match self {
            Self::One(model) => out.extend_from_slice(model.as_bytes()),
            Self::Many(models) => {
                out.push(b'[');
                for (i, model) in models.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    out.extend_from_slice(model.as_bytes());
                }
                out.push(b']');
            }
        }
    }
}

/// The body of a Save / BatchSave call: `{"formid":…,"data":{options…,
/// "Model":…}}`, the models written out as the host sent them.
///
/// The two maps are built as a parsed body would be, with a placeholder
/// for `Model`, and written out in their own order, so the keys come out
/// in the order serialising a parsed body gives them (sorted, with
/// serde_json's default map).
#[derive(Debug, Clone)]
pub struct SaveBody<'a> {
    envelope: Map<String, Value>,
    data: Map<String, Value>,
    models: Models<'a>,
}

/// The body of a call saving `models`.
///
/// # Errors
/// `fatal` when the options cannot be serialised.
pub fn body<'a>(params: &SaveParams, models: Models<'a>) -> Result<SaveBody<'a>> {
    let Value::Object(mut data) = serde_json::to_value(&params.options)? else {
        return Err(Error::fatal("the save options are not a JSON object"));
    };
    data.insert("Model".to_owned(), Value::Null);
    let mut envelope = Map::new();
    envelope.insert("formid".to_owned(), Value::from(params.formid.as_str()));
    envelope.insert("data".to_owned(), Value::Null);
    Ok(SaveBody {
        envelope,
        data,
        models,
    })
}

impl SaveBody<'_> {
    /// The body as JSON, written as serde_json writes a parsed body
    /// (compact), with the models' text spliced in: serde_json can only
    /// write text as it is through its `RawValue`, and making one of a
    /// model's text would mean reading the model again.
    ///
    /// # Errors
    /// `fatal` when a value cannot be serialised.
    pub fn to_json(&self) -> Result<Vec<u8>> {
        let mut out = Vec::with_capacity(self.models_len() + 512);
        write_map(&mut out, &self.envelope, |key, out| {
            if key != "data" {
                return Ok(false);
            }
            write_map(out, &self.data, |key, out| {
                if key != "Model" {
                    return Ok(false);
                }
                self.models.write(out);
                Ok(true)
            })?;
            Ok(true)
        })?;
        Ok(out)
    }

    fn models_len(&self) -> usize {
        match &self.models {
            Models::One(model) => model.len(),
            Models::Many(models) => models.iter().map(|m| m.len() + 1).sum(),
        }
    }
}

/// Writes `map` as serde_json's compact writer does (`{"k":v,…}`), except
/// the values that `splice` writes itself (it returns whether it did).
fn write_map(
    out: &mut Vec<u8>,
    map: &Map<String, Value>,
    mut splice: impl FnMut(&str, &mut Vec<u8>) -> Result<bool>,
) -> Result<()> {
    out.push(b'{');
    for (i, (key, value)) in map.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        serde_json::to_writer(&mut *out, key)?;
        out.push(b':');
        if !splice(key, out)? {
            serde_json::to_writer(&mut *out, value)?;
        }
    }
    out.push(b'}');
    Ok(())
}

/// Writes a batch given as the JSON array the host sent; see the module
/// doc.
///
/// # Errors
/// An error for the whole batch: the records are not a JSON array, the
/// existence query failed, or an `auth` or `fatal` error, or nothing got
/// anywhere.
pub fn write_json<T: Transport>(
    client: &mut Client<T>,
    batch: bool,
    params: &SaveParams,
    records: &str,
) -> Result<Vec<WriteOutcome>> {
    let records = records::parse(records, &params.number_field)?;
    write_records(client, batch, params, &records)
}

fn write_records<T: Transport>(
    client: &mut Client<T>,
    batch: bool,
    params: &SaveParams,
    records: &[Record<'_>],
) -> Result<Vec<WriteOutcome>> {
    let mut outcomes = Outcomes::new(records.len());
    // The first record with each number is written; later ones with the
    // same number in the same batch are the same bill and follow it.
    let mut firsts: Vec<(usize, String)> = Vec::new();
    let mut repeats: Vec<(usize, usize)> = Vec::new();
    for (i, record) in records.iter().enumerate() {
        match &record.number {
            Some(number) => match firsts.iter().find(|(_, n)| n == number) {
                Some(&(first, _)) => repeats.push((i, first)),
                None => firsts.push((i, number.clone())),
            },
            None => outcomes.fail(
                [i],
                Error::invalid(format!(
                    "the record has no {}: writes to 金蝶云星空 are idempotent on the bill number",
                    params.number_field
                )),
            ),
        }
    }

    let numbers: Vec<String> = firsts.iter().map(|(_, n)| n.clone()).collect();
    let existing = bill_query::existing(
        client,
        &params.formid,
        &params.id_field,
        &params.number_field,
        &numbers,
    )?;
    let mut to_save = Vec::new();
    for (i, number) in firsts {
        match existing.get(&number) {
            Some(id) => outcomes.set(i, WriteOutcome::existed(id.clone(), Some(number))),
            None => to_save.push((i, number)),
        }
    }

    let mut duplicates = Vec::new();
    if batch {
        if !to_save.is_empty() {
            save(
                client,
                service::BATCH_SAVE,
                params,
                records,
                &to_save,
                &mut outcomes,
                &mut duplicates,
            )?;
        }
    } else {
        for one in to_save.chunks(1) {
            if outcomes.halted() {
                break;
            }
            save(
                client,
                service::SAVE,
                params,
                records,
                one,
                &mut outcomes,
                &mut duplicates,
            )?;
        }
    }

    if !duplicates.is_empty() && !outcomes.halted() {
        let numbers: Vec<String> = duplicates.iter().map(|(_, n)| n.clone()).collect();
        match bill_query::existing(
            client,
            &params.formid,
            &params.id_field,
            &params.number_field,
            &numbers,
        ) {
            Ok(found) => {
                for (i, number) in duplicates {
                    let id = found.get(&number).cloned().flatten();
                    outcomes.set(i, WriteOutcome::existed(id, Some(number)));
                }
            }
            Err(e) => outcomes.fail(duplicates.iter().map(|(i, _)| *i), e),
        }
    }

    for (i, first) in repeats {
        match outcomes.get(first).cloned() {
            Some(WriteOutcome::Written { id, number, .. }) => {
                outcomes.set(i, WriteOutcome::existed(id, number))
            }
            Some(failed) => outcomes.set(i, failed),
            None => {}
        }
    }
    outcomes.finish()
}

/// One Save or BatchSave call for the records `chosen` (batch index,
/// number), its outcomes recorded.
fn save<T: Transport>(
    client: &mut Client<T>,
    service: &str,
    params: &SaveParams,
    records: &[Record<'_>],
    chosen: &[(usize, String)],
    outcomes: &mut Outcomes,
    duplicates: &mut Vec<(usize, String)>,
) -> Result<()> {
    let models: Vec<&str> = chosen.iter().map(|(i, _)| records[*i].model).collect();
    let models = match (service == service::SAVE, models.as_slice()) {
        (true, [one]) => Models::One(one),
        _ => Models::Many(models),
    };
    let reply = match client.call_json(service, &body(params, models)?.to_json()?) {
        Ok(reply) => reply,
        Err(e) => {
            outcomes.fail(chosen.iter().map(|(i, _)| *i), e);
            return Ok(());
        }
    };
    for ((i, number), saved) in chosen
        .iter()
        .zip(saved(&reply, chosen.len(), &params.number_field))
    {
        match saved {
            Saved::Created {
                id,
                number: saved_number,
            } => {
                outcomes.set(
                    *i,
                    WriteOutcome::created(id, saved_number.or_else(|| Some(number.clone()))),
                );
            }
            Saved::Duplicate => duplicates.push((*i, number.clone())),
            Saved::Failed(e) => outcomes.fail([*i], e.context(format!("bill {number}"))),
            Saved::Unknown => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::webapi::tests::{Script, logged_in, session_config};
    use serde_json::json;
    use serde_json::value::RawValue;

    fn params() -> SaveParams {
        serde_json::from_value(json!({"formid":"PUR_PurchaseOrder","IsAutoSubmitAndAudit":true,"IsVerifyBaseDataField":false}))
            .expect("params")
    }

    fn model(number: &str) -> Value {
        json!({"FBillNo": number, "FDate": "2024-01-01", "FPOOrderEntry": [{"FMaterialId": {"FNumber": "A01"}, "FQty": 1}]})
    }

    /// Parsed records the way `Connector::write` hands them on: written
    /// out once, then the one path the host's JSON takes.
    fn write<T: Transport>(
        client: &mut Client<T>,
        batch: bool,
        params: &SaveParams,
        records: &[Value],
    ) -> Result<Vec<WriteOutcome>> {
        let records = serde_json::to_string(records).expect("records");
        write_json(client, batch, params, &records)
    }

    fn none_exist() -> (&'static str, Vec<&'static str>, Value) {
        ("ExecuteBillQuery", vec![], json!([]))
    }

    /// The body as it was built before models stayed JSON text: the
    /// oracle the spliced body is held to.
    fn parsed_body(params: &SaveParams, models: Value) -> Value {
        let mut data = serde_json::to_value(&params.options).expect("options");
        if let Value::Object(map) = &mut data {
            map.insert("Model".to_owned(), models);
        }
        json!({ "formid": params.formid, "data": data })
    }

    /// Each model as the host sends it, as raw JSON.
    fn raw(models: &[Value]) -> Vec<Box<RawValue>> {
        let text = serde_json::to_string(models).expect("records");
        serde_json::from_str(&text).expect("items")
    }

    fn spliced(params: &SaveParams, models: Models<'_>) -> String {
        let json = body(params, models).expect("body").to_json().expect("json");
        String::from_utf8(json).expect("body text")
    }

    #[test]
    fn the_body_carries_the_options_and_the_models() {
        let items = raw(&[model("A")]);
        let text = spliced(
            &params(),
            Models::Many(items.iter().map(|m| m.get()).collect()),
        );
        assert_eq!(
            serde_json::from_str::<Value>(&text).expect("body"),
            json!({"formid":"PUR_PurchaseOrder","data":{"IsAutoSubmitAndAudit":true,"IsVerifyBaseDataField":false,"Model":[model("A")]}})
        );
    }

    /// Every option set, models with escapes, unicode, nesting and numbers
    /// of each kind: the spliced body is the parsed body, and, models
    /// written as the host writes them (serde_json, compact, keys sorted),
    /// the same bytes.
    #[test]
    fn the_spliced_body_is_the_parsed_body() {
        let params: SaveParams = serde_json::from_value(json!({
            "formid": "SAL_OUTSTOCK", "number_field": "FBillNo", "id_field": "FID",
            "IsAutoSubmitAndAudit": true, "IsVerifyBaseDataField": false,
            "NeedUpDateFields": ["FNote", "FDate"], "NeedReturnFields": [],
            "IsDeleteEntry": true, "SubSystemId": "21", "IsEntryBatchFill": false,
            "ValidateFlag": true, "NumberSearch": true, "IsAutoAdjustField": false,
            "InterationFlags": "STK_InvCheckResult;x", "IgnoreInterationFlag": true,
            "IsControlPrecision": false, "ValidateRepeatJson": false,
            "IsDraftWhenSaveFail": false, "BatchCount": 4
        }))
        .expect("params");
        let models = vec![
            model("A"),
            json!({"FBillNo": "收货单-“甲”\n\"引号\"\\\t\u{0001}\u{1F600}", "FNote": "</script>\u{2028}",
                   "FQty": -0.5, "FBig": 18_446_744_073_709_551_615_u64, "FNeg": -9_007_199_254_740_993_i64,
                   "FSmall": 1.0e-7, "FHuge": 1.5e300, "FNull": null, "FFlag": false,
                   "FEntity": [{"FMaterialId": {"FNumber": "物料/01"}, "FQty": 3.25}, [], {}]}),
            json!({"FBillNo": 123_456, "Z": {"y": {"x": [1, [2, [3]]]}}}),
        ];
        let items = raw(&models);
        let many: Vec<&str> = items.iter().map(|m| m.get()).collect();
        for (spliced_models, parsed_models) in [
            (Models::Many(many.clone()), Value::Array(models.clone())),
            (
                Models::Many(vec![many[2], many[0]]),
                json!([models[2], models[0]]),
            ),
            (Models::Many(Vec::new()), json!([])),
            (Models::One(many[1]), models[1].clone()),
        ] {
            let text = spliced(&params, spliced_models);
            let parsed = parsed_body(&params, parsed_models);
            assert_eq!(serde_json::from_str::<Value>(&text).expect("body"), parsed);
            assert_eq!(text, serde_json::to_string(&parsed).expect("text"));
        }
        let bare: SaveParams =
            serde_json::from_value(json!({"formid": "BD_MATERIAL"})).expect("params");
        assert_eq!(
            spliced(&bare, Models::One(many[0])),
            serde_json::to_string(&parsed_body(&bare, models[0].clone())).expect("text")
        );
    }

    /// Models the host did not write (spaces, keys unsorted) are sent as
    /// they came, which parses to the same body.
    #[test]
    fn models_are_sent_as_they_came() {
        let text = r#"[ {"FDate" : "2024-01-01", "FBillNo":"A"} ]"#;
        let records = records::parse(text, "FBillNo").expect("records");
        let body = spliced(&params(), Models::Many(vec![records[0].model]));
        assert!(
            body.contains(r#""Model":[{"FDate" : "2024-01-01", "FBillNo":"A"}]"#),
            "{body}"
        );
        let models: Value = serde_json::from_str(text).expect("models");
        assert_eq!(
            serde_json::from_str::<Value>(&body).expect("body"),
            parsed_body(&params(), models)
        );
    }

    /// The raw path end to end: the query and the models on the wire, and
    /// the numbers read as the parsed path reads them (escaped key, a number,
    /// padding, null, missing, a record that is not an object, a repeat).
    #[test]
    fn write_json_sends_the_models_and_reads_numbers_like_the_parsed_path() {
        let mut script = Script::new(vec![
            logged_in(),
            ("ExecuteBillQuery", vec![], json!([[100001, "7"]])),
            (
                "BatchSave",
                vec![],
                json!({"Result":{"ResponseStatus":{"IsSuccess":true,
                "SuccessEntitys":[{"Id":5,"Number":"é\"1","DIndex":0},{"Id":6,"Number":"B","DIndex":1}]}}}),
            ),
        ]);
        let records = concat!(
            r#"[{"FDate":"x","F\u0042illNo":"\u00e9\"1"},"#,
            r#"{"FBillNo":7},"#,
            r#"{"FBillNo":null},"#,
            r#"["FBillNo","Q"],"#,
            r#"{"FNote":"无单号"},"#,
            r#"{"FNote":"第二","FBillNo":"  B  "},"#,
            r#"{"FBillNo":"é\"1"}]"#
        );
        let mut client = Client::new(&mut script, session_config());
        let out = write_json(&mut client, true, &params(), records).expect("outcomes");
        let no_number = WriteOutcome::Failed(Error::invalid(
            "the record has no FBillNo: writes to 金蝶云星空 are idempotent on the bill number",
        ));
        assert_eq!(
            out,
            vec![
                WriteOutcome::created(Some("5".to_owned()), Some("é\"1".to_owned())),
                WriteOutcome::existed(Some("100001".to_owned()), Some("7".to_owned())),
                no_number.clone(),
                no_number.clone(),
                no_number,
                WriteOutcome::created(Some("6".to_owned()), Some("B".to_owned())),
                WriteOutcome::existed(Some("5".to_owned()), Some("é\"1".to_owned())),
            ]
        );
        assert_eq!(
            script.bodies("ExecuteBillQuery")[0]["data"]["FilterString"],
            json!("FBillNo in ('é\"1','7','B')")
        );
        let parsed: Vec<Value> = serde_json::from_str(records).expect("records");
        assert_eq!(
            script.bodies("BatchSave"),
            vec![parsed_body(&params(), json!([parsed[0], parsed[5]]))]
        );
        // The same records parsed and written out again (escapes gone,
        // keys sorted) fare the same.
        let mut script = Script::new(vec![
            logged_in(),
            ("ExecuteBillQuery", vec![], json!([[100001, "7"]])),
            (
                "BatchSave",
                vec![],
                json!({"Result":{"ResponseStatus":{"IsSuccess":true,
                "SuccessEntitys":[{"Id":5,"Number":"é\"1","DIndex":0},{"Id":6,"Number":"B","DIndex":1}]}}}),
            ),
        ]);
        let mut client = Client::new(&mut script, session_config());
        assert_eq!(write(&mut client, true, &params(), &parsed), Ok(out));
    }

    #[test]
    fn records_that_are_not_an_array_fail_the_batch() {
        let mut script = Script::new(vec![]);
        let mut client = Client::new(&mut script, session_config());
        assert_eq!(
            write_json(&mut client, true, &params(), r#"{"FBillNo":"A"}"#)
                .err()
                .map(|e| e.class()),
            Some("fatal")
        );
        assert!(script.sent.is_empty());
    }

    /// A BatchSave answer with one base-data error, one duplicate number
    /// and one success, in the shape docs/protocol-choices.md pins.
    #[test]
    fn batch_save_outcomes_follow_dindex() {
        let reply = json!({"Result":{"ResponseStatus":{"ErrorCode":500,"IsSuccess":false,"MsgCode":11,
            "Errors":[
                {"FieldName":"FMaterialId","Message":"第1行分录，物料编码“X”不存在","DIndex":0},
                {"FieldName":"FBillNo","Message":"违反字段唯一性要求：单据编号唯一。[B]已经被使用。","DIndex":2}],
            "SuccessEntitys":[{"Id":100029,"Number":"C","DIndex":1}],"SuccessMessages":[]}}});
        let out = saved(&reply, 3, "FBillNo");
        assert_eq!(
            out[0],
            Saved::Failed(Error::invalid(
                "金蝶云星空 MsgCode 11: FMaterialId: 第1行分录，物料编码“X”不存在"
            ))
        );
        assert_eq!(
            out[1],
            Saved::Created {
                id: Some("100029".to_owned()),
                number: Some("C".to_owned())
            }
        );
        assert_eq!(out[2], Saved::Duplicate);
    }

    #[test]
    fn a_single_save_may_answer_at_the_top() {
        let reply = json!({"Result":{"ResponseStatus":{"IsSuccess":true,"Errors":[],"SuccessEntitys":[]},"Id":7,"Number":"A"}});
        assert_eq!(
            saved(&reply, 1, "FBillNo"),
            vec![Saved::Created {
                id: Some("7".to_owned()),
                number: Some("A".to_owned())
            }]
        );
        let limited = json!({"Result":{"ResponseStatus":{"IsSuccess":false,"MsgCode":14,"Errors":[{"Message":"调用频率超过限制，请稍后再试"}]}}});
        assert!(matches!(
            saved(&limited, 2, "FBillNo")[1],
            Saved::Failed(Error::RateLimited { .. })
        ));
    }

    #[test]
    fn existing_bills_are_not_saved_again() {
        let mut script = Script::new(vec![
            logged_in(),
            ("ExecuteBillQuery", vec![], json!([[100001, "A"]])),
            (
                "BatchSave",
                vec![],
                json!({"Result":{"ResponseStatus":{"IsSuccess":true,"Errors":[],
                "SuccessEntitys":[{"Id":100002,"Number":"B","DIndex":0}]}}}),
            ),
        ]);
        let mut client = Client::new(&mut script, session_config());
        let out = write(&mut client, true, &params(), &[model("A"), model("B")]).expect("outcomes");
        assert_eq!(
            out,
            vec![
                WriteOutcome::existed(Some("100001".to_owned()), Some("A".to_owned())),
                WriteOutcome::created(Some("100002".to_owned()), Some("B".to_owned())),
            ]
        );
        let saved_models = &script.bodies("BatchSave")[0]["data"]["Model"];
        assert_eq!(saved_models, &json!([model("B")]));
    }

    #[test]
    fn a_duplicate_answer_is_an_existing_bill() {
        let mut script = Script::new(vec![
            logged_in(),
            none_exist(),
            (
                "BatchSave",
                vec![],
                json!({"Result":{"ResponseStatus":{"IsSuccess":false,"MsgCode":11,
                "Errors":[{"FieldName":"FBillNo","Message":"违反字段唯一性要求：单据编号唯一。[A]已经被使用。","DIndex":0}],
                "SuccessEntitys":[]}}}),
            ),
            ("ExecuteBillQuery", vec![], json!([[100001, "A"]])),
        ]);
        let mut client = Client::new(&mut script, session_config());
        let out = write(&mut client, true, &params(), &[model("A")]).expect("outcomes");
        assert_eq!(
            out,
            vec![WriteOutcome::existed(
                Some("100001".to_owned()),
                Some("A".to_owned())
            )]
        );
    }

    #[test]
    fn save_calls_once_per_record_and_stops_on_a_rate_limit() {
        let limited = json!({"Result":{"ResponseStatus":{"IsSuccess":false,"MsgCode":14,
            "Errors":[{"FieldName":null,"Message":"调用频率超过限制，请稍后再试","DIndex":0}]}}});
        let mut script = Script::new(vec![
            logged_in(),
            none_exist(),
            (
                "Save",
                vec![],
                json!({"Result":{"ResponseStatus":{"IsSuccess":true,"SuccessEntitys":[{"Id":1,"Number":"A","DIndex":0}]},"Id":1,"Number":"A"}}),
            ),
            ("Save", vec![], limited),
        ]);
        let mut client = Client::new(&mut script, session_config());
        let out = write(
            &mut client,
            false,
            &params(),
            &[model("A"), model("B"), model("C")],
        )
        .expect("outcomes");
        assert_eq!(
            out[0],
            WriteOutcome::created(Some("1".to_owned()), Some("A".to_owned()))
        );
        assert!(matches!(
            &out[1],
            WriteOutcome::Failed(Error::RateLimited { .. })
        ));
        assert!(matches!(
            &out[2],
            WriteOutcome::Failed(Error::RateLimited { .. })
        ));
        // Save sends one model as an object, not a list.
        assert_eq!(script.bodies("Save")[0]["data"]["Model"], model("A"));
        assert_eq!(script.bodies("Save").len(), 2);
    }

    #[test]
    fn records_without_a_number_and_repeats_are_handled() {
        let mut script = Script::new(vec![
            logged_in(),
            none_exist(),
            (
                "BatchSave",
                vec![],
                json!({"Result":{"ResponseStatus":{"IsSuccess":true,
                "SuccessEntitys":[{"Id":5,"Number":"A","DIndex":0}]}}}),
            ),
        ]);
        let mut client = Client::new(&mut script, session_config());
        let out = write(
            &mut client,
            true,
            &params(),
            &[model("A"), json!({"FDate":"x"}), model("A")],
        )
        .expect("outcomes");
        assert_eq!(
            out[0],
            WriteOutcome::created(Some("5".to_owned()), Some("A".to_owned()))
        );
        assert_eq!(
            out[1].clone(),
            WriteOutcome::Failed(Error::invalid(
                "the record has no FBillNo: writes to 金蝶云星空 are idempotent on the bill number"
            ))
        );
        assert_eq!(
            out[2],
            WriteOutcome::existed(Some("5".to_owned()), Some("A".to_owned()))
        );
    }

    #[test]
    fn a_failing_existence_query_fails_the_batch() {
        let mut script = Script::new(vec![
            logged_in(),
            (
                "ExecuteBillQuery",
                vec![],
                json!({"Result":{"ResponseStatus":{"IsSuccess":false,"MsgCode":2,
                "Errors":[{"Message":"没有权限"}]}}}),
            ),
        ]);
        let mut client = Client::new(&mut script, session_config());
        assert_eq!(
            write(&mut client, true, &params(), &[model("A")])
                .err()
                .map(|e| e.class()),
            Some("auth")
        );
    }

    /// A purchase order mapped as the seed scheme maps it (5 entries).
    fn mapped_order(i: usize) -> Value {
        let entries: Vec<Value> = (0..5)
            .map(|l| {
                json!({
                    "FMaterialId": {"FNumber": format!("A{:04}", l + 1)}, "FQty": 10.0,
                    "FPrice": 12.5, "FTaxPrice": 14.125, "FEntryTaxRate": 13.0, "FAllAmount": 141.25,
                    "FEntryNote": format!("{}", 50_000 + i * 5 + l), "FReceiveOrgId": {"FNumber": "100"},
                    "FRequireOrgId": {"FNumber": "100"}, "FEntryPayOrgId": {"FNumber": "100"},
                    "FEntrySettleOrgId": {"FNumber": "100"}
                })
            })
            .collect();
        json!({
            "FBillNo": format!("CG{i:08}"), "FDate": "2024-01-05 09:30:00",
            "FBillTypeID": {"FNUMBER": "CGDD01_SYS"}, "FBusinessType": "CG",
            "FPurchaseOrgId": {"FNumber": "100"}, "FSupplierId": {"FNumber": "GYS0003"},
            "FNote": "补货", "FPOOrderEntry": entries
        })
    }

    /// Answers every call with a canned reply and keeps nothing, so that
    /// only the connector's own work is measured.
    struct Canned {
        query: Vec<u8>,
        batch_save: Vec<u8>,
    }

    impl Transport for &Canned {
        fn send(
            &mut self,
            request: weft_plugin_sdk::http::Request,
        ) -> Result<weft_plugin_sdk::http::Response> {
            let body = if request.url().contains("ExecuteBillQuery") {
                self.query.clone()
            } else {
                self.batch_save.clone()
            };
            std::hint::black_box(request.body_bytes().map(<[u8]>::len));
            Ok(weft_plugin_sdk::http::Response {
                status: 200,
                headers: vec![],
                body,
            })
        }
    }

    /// Guest-side cost of one 50-model BatchSave from the records' JSON
    /// text, as `write_raw` gets it: `cargo test --release --target
    /// x86_64-unknown-linux-gnu -p k3cloud -- --ignored --nocapture bench`.
    #[test]
    #[ignore = "a measurement, not a test"]
    fn bench_write_a_50_model_batch() {
        let models: Vec<Value> = (0..50).map(mapped_order).collect();
        let text = serde_json::to_string(&models).expect("records");
        let entities: Vec<Value> = (0..50)
            .map(|i| json!({"Id": 100_000 + i, "Number": format!("CG{i:08}"), "DIndex": i}))
            .collect();
        let canned = Canned {
            query: b"[]".to_vec(),
            batch_save: serde_json::to_vec(&json!({"Result":{"ResponseStatus":{"IsSuccess":true,
                "Errors":[],"SuccessEntitys":entities,"SuccessMessages":[],"MsgCode":0},
                "NeedReturnData":vec![json!({}); 50]}}))
            .expect("reply"),
        };
        let session = crate::login::Session {
            cookie: "kdservice-sessionid=sid-1".to_owned(),
            session_id: "sid-1".to_owned(),
        };
        let params = params();
        let round = || {
            let mut client = Client::new(&canned, session_config()).resuming(Some(session.clone()));
            let out = write_json(&mut client, true, &params, &text).expect("outcomes");
            assert_eq!(out.len(), 50);
        };
        // Warm the allocator and caches so the figure is the steady state.
        (0..50).for_each(|_| round());
        let rounds = 1000;
        let start = std::time::Instant::now();
        (0..rounds).for_each(|_| round());
        let per = start.elapsed() / rounds;
        println!(
            "write of a 50-model batch ({} KB): {per:?} per batch",
            text.len() / 1024
        );
    }
}
