//! `pur_return_save` 采购退货单保存新增 (seed 000, `jdy/pur/pur_rtn_save`):
//! `POST {pur_return_path}` with one bill (`billno`, `billdate`,
//! `supplierid_number`, `material_entity[..]`) per call.
//!
//! Idempotent on the bill number: 金蝶云星辰 refuses a second bill with a
//! number already taken (`errcode 1020002`, `单据编号[X]已存在`); that
//! record is an earlier attempt's bill, looked up with
//! `GET {pur_return_path}_detail?number=X` and reported `existed`.

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;
use weft_plugin_sdk::http::{Method, Transport};
use weft_plugin_sdk::{Error, Operation, Outcomes, Result, WriteOutcome};

use crate::gateway::{self, Answer, Call};
use crate::open_api::OpenApi;

/// Operation id.
pub const NAME: &str = "pur_return_save";

/// The params of the operation; the records are the bills.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
pub struct PurReturnSave {
    /// The bill field holding the number writes are idempotent on.
    #[serde(default = "default_number_field")]
    pub number_field: String,
}

fn default_number_field() -> String {
    "billno".to_owned()
}

/// What `describe()` says about the operation.
pub fn operation() -> Operation {
    Operation::target::<PurReturnSave>(NAME, "采购退货单保存新增")
        .description(
            "Saves purchase returns (billno, billdate, supplierid_number, material_entity[materialid_number, \
             stockid_number, qty, price, ...]), one call per bill, to the connection's pur_return_path. \
             Idempotent on billno: a bill whose number exists is reported as existed with its id.",
        )
        .max_batch(20)
}

/// Writes a batch; see the module doc.
///
/// # Errors
/// An error for the whole batch: `auth`, `fatal`, or nothing got anywhere.
pub fn write<T: Transport>(
    api: &mut OpenApi<T>,
    params: &PurReturnSave,
    records: &[Value],
) -> Result<Vec<WriteOutcome>> {
    let path = api.config().pur_return_path.clone();
    let mut outcomes = Outcomes::new(records.len());
    for (i, record) in records.iter().enumerate() {
        if outcomes.halted() {
            break;
        }
        let Some(number) = record.get(&params.number_field).and_then(text) else {
            outcomes.fail(
                [i],
                Error::invalid(format!(
                    "the bill has no {}: writes to 金蝶云星辰 are idempotent on the bill number",
                    params.number_field
                )),
            );
            continue;
        };
        let call = Call {
            method: Method::Post,
            path: &path,
            query: &[],
            body: Some(record),
        };
        match api.call(call) {
            Ok(Answer::Data(data)) => {
                let (id, saved_number) = identity(&data);
                outcomes.set(i, WriteOutcome::created(id, saved_number.or(Some(number))));
            }
            Ok(Answer::Failed {
                errcode,
                description,
            }) if is_duplicate(errcode, &description) => match existing(api, &path, &number) {
                Ok(id) => outcomes.set(i, WriteOutcome::existed(id, Some(number))),
                Err(e) => outcomes.fail([i], e.context(format!("bill {number}"))),
            },
            Ok(Answer::Failed {
                errcode,
                description,
            }) => outcomes.fail(
                [i],
                gateway::classify(errcode, &description).context(format!("bill {number}")),
            ),
            Err(e) => outcomes.fail([i], e.context(format!("bill {number}"))),
        }
    }
    outcomes.finish()
}

/// `errcode 1020002`, or a message saying the number exists.
fn is_duplicate(errcode: i64, description: &str) -> bool {
    errcode == gateway::DUPLICATE_NUMBER
        || (description.contains("单据编号") && description.contains("已存在"))
}

/// The id of the bill numbered `number`, from the detail API.
fn existing<T: Transport>(
    api: &mut OpenApi<T>,
    path: &str,
    number: &str,
) -> Result<Option<String>> {
    // UNCONFIRMED: see docs/protocol-choices.md: the v2 convention
    // `{bill}_detail`, which gives the pinned `/jdy/v2/scm/pur_return_detail`.
    let detail_path = format!("{}_detail", path.trim_end_matches('/'));
    let query = [("number", number)];
    let call = Call {
        method: Method::Get,
        path: &detail_path,
        query: &query,
        body: None,
    };
    match api.call(call)? {
        Answer::Data(data) => Ok(identity(&data).0),
        Answer::Failed {
            errcode,
            description,
        } => Err(gateway::classify(errcode, &description)),
    }
}

/// `id` and `number` of a saved or fetched bill (`data.id`, or the first of
/// `data.ids`; `data.number` or `data.billno`). UNCONFIRMED: see
/// docs/protocol-choices.md (the save reply's fields).
fn identity(data: &Value) -> (Option<String>, Option<String>) {
    let id = data.get("id").and_then(text).or_else(|| {
        data.get("ids")
            .and_then(Value::as_array)
            .and_then(|ids| ids.first())
            .and_then(text)
    });
    let number = data
        .get("number")
        .or_else(|| data.get("billno"))
        .and_then(text);
    (id, number)
}

fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::open_api::tests::{Script, config, granted};
    use serde_json::json;

    fn params() -> PurReturnSave {
        serde_json::from_value(json!({})).expect("params")
    }

    fn bill(number: &str) -> Value {
        json!({"billno": number, "billdate": "2024-01-01", "supplierid_number": "S01",
            "material_entity": [{"materialid_number": "A01", "stockid_number": "CK01", "qty": "1", "price": "10"}]})
    }

    #[test]
    fn new_bills_are_created_and_taken_numbers_existed() {
        let mut script = Script::new(vec![
            granted("t1"),
            (
                "/jdy/v2/scm/pur_return",
                200,
                json!({"errcode":0,"description":"成功","data":{"id":"1001","number":"R1"}}),
            ),
            (
                "/jdy/v2/scm/pur_return",
                200,
                json!({"errcode":1020002,"description":"单据编号[R2]已存在"}),
            ),
            (
                "/jdy/v2/scm/pur_return_detail",
                200,
                json!({"errcode":0,"data":{"id":"1002","number":"R2"}}),
            ),
        ]);
        let mut api = OpenApi::new(&mut script, config());
        let out = write(&mut api, &params(), &[bill("R1"), bill("R2")]).expect("outcomes");
        assert_eq!(
            out,
            vec![
                WriteOutcome::created(Some("1001".to_owned()), Some("R1".to_owned())),
                WriteOutcome::existed(Some("1002".to_owned()), Some("R2".to_owned())),
            ]
        );
        assert!(
            script.sent[3]
                .0
                .ends_with("/jdy/v2/scm/pur_return_detail?number=R2")
        );
        assert_eq!(script.sent[1].2, bill("R1"));
    }

    #[test]
    fn validation_errors_are_per_bill_and_rate_limits_stop() {
        let mut script = Script::new(vec![
            granted("t1"),
            (
                "/jdy/v2/scm/pur_return",
                200,
                json!({"errcode":1020001,"description":"供应商[S9]不存在"}),
            ),
            (
                "/jdy/v2/scm/pur_return",
                200,
                json!({"errcode":0,"data":{"id":"1"}}),
            ),
            (
                "/jdy/v2/scm/pur_return",
                200,
                json!({"errcode":1030001,"description":"请求过于频繁"}),
            ),
        ]);
        let mut api = OpenApi::new(&mut script, config());
        let out = write(
            &mut api,
            &params(),
            &[bill("R1"), bill("R2"), bill("R3"), bill("R4")],
        )
        .expect("outcomes");
        assert_eq!(
            out[0],
            WriteOutcome::Failed(Error::invalid(
                "bill R1: 金蝶云星辰 errcode 1020001: 供应商[S9]不存在"
            ))
        );
        assert_eq!(
            out[1],
            WriteOutcome::created(Some("1".to_owned()), Some("R2".to_owned()))
        );
        assert!(matches!(
            out[2],
            WriteOutcome::Failed(Error::RateLimited { .. })
        ));
        assert!(matches!(
            out[3],
            WriteOutcome::Failed(Error::RateLimited { .. })
        ));
        assert_eq!(script.sent.len(), 4);
    }

    #[test]
    fn a_refused_gateway_signature_fails_the_batch() {
        let mut script = Script::new(vec![(
            "/jdyconnector/app_management/kingdee_auth_token",
            519,
            json!({"errcode":1010001,"description":"签名校验失败"}),
        )]);
        let mut api = OpenApi::new(&mut script, config());
        let e = write(&mut api, &params(), &[bill("R1")]).err();
        assert_eq!(e.map(|e| e.class()), Some("auth"));
    }

    #[test]
    fn a_bill_without_a_number_is_invalid() {
        let mut script = Script::new(vec![]);
        let mut api = OpenApi::new(&mut script, config());
        let out =
            write(&mut api, &params(), &[json!({"billdate":"2024-01-01"})]).expect("outcomes");
        assert!(matches!(&out[0], WriteOutcome::Failed(Error::Invalid(_))));
    }
}
