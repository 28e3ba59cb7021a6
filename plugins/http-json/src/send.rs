//! The `send` target: records as one JSON batch or one request each.

use weft_plugin_sdk::http::classify_status;
use weft_plugin_sdk::prelude::*;

use crate::Settings;

/// Params of `send`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SendParams {
    /// Path under the base URL, e.g. `/orders`.
    path: String,
    /// `POST` (default), `PUT` or `PATCH`.
    #[serde(default)]
    method: SendMethod,
    /// `batch` (default): one request with a JSON array; `each`: one request
    /// per record.
    #[serde(default)]
    mode: Mode,
    /// For `batch`: wrap the array in an object under this key, e.g.
    /// `items` sends `{"items": [...]}`.
    #[serde(default)]
    wrap: Option<String>,
    /// For `batch`: JSON pointer to an array of per-record results in the
    /// response, in the order sent.
    #[serde(default)]
    results_pointer: Option<String>,
    /// JSON pointer to the id in a record's result (`each`: in the
    /// response; `batch`: in its element of `results_pointer`).
    #[serde(default)]
    id_pointer: Option<String>,
    /// For `each`: JSON pointer to a field of the record sent as the
    /// `Idempotency-Key` header, so a retried request is not applied twice
    /// by APIs that honour it.
    #[serde(default)]
    idempotency_key: Option<String>,
}

#[derive(Debug, Default, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
enum SendMethod {
    #[default]
    Post,
    Put,
    Patch,
}

#[derive(Debug, Default, Clone, Copy, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
enum Mode {
    #[default]
    Batch,
    Each,
}

impl SendMethod {
    fn http(self) -> http::Method {
        match self {
            Self::Post => http::Method::Post,
            Self::Put => http::Method::Put,
            Self::Patch => http::Method::Patch,
        }
    }
}

fn id_of(result: &Value, pointer: Option<&str>) -> Option<String> {
    let v = result.pointer(pointer?)?;
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

/// A failure that belongs to the records, not to the batch: the remote
/// system refused their content. Everything else (auth, rate limits, 5xx)
/// is the batch's error, retried or stopped as a whole.
fn per_record(error: &Error) -> bool {
    matches!(error, Error::Invalid(_))
}

/// Writes a batch.
pub(crate) fn write(
    settings: &Settings,
    p: &SendParams,
    records: Vec<Value>,
) -> Result<Vec<WriteOutcome>> {
    let url = settings.url(&p.path);
    match p.mode {
        Mode::Batch => {
            let count = records.len();
            let body = match &p.wrap {
                Some(key) => json!({ key.as_str(): records }),
                None => Value::Array(records),
            };
            let reply = settings.request(p.method.http(), url).json(&body)?.send()?;
            if !(200..300).contains(&reply.status) {
                let error = classify_status(reply.status, reply.header("retry-after"), &reply.body);
                if per_record(&error) {
                    return Ok((0..count)
                        .map(|_| WriteOutcome::Failed(error.clone()))
                        .collect());
                }
                return Err(error);
            }
            let results: Vec<Value> = match p.results_pointer.as_deref() {
                Some(ptr) => {
                    let reply: Value = reply.json()?;
                    match reply.pointer(ptr) {
                        Some(Value::Array(items)) => items.clone(),
                        _ => Vec::new(),
                    }
                }
                None => Vec::new(),
            };
            Ok((0..count)
                .map(|i| {
                    WriteOutcome::created(
                        results
                            .get(i)
                            .and_then(|r| id_of(r, p.id_pointer.as_deref())),
                        None,
                    )
                })
                .collect())
        }
        Mode::Each => {
            let mut outcomes = Vec::with_capacity(records.len());
            for record in records {
                let mut request = settings.request(p.method.http(), url.clone());
                if let Some(ptr) = &p.idempotency_key
                    && let Some(key) = record.pointer(ptr)
                {
                    let key = match key {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    request = request.header("Idempotency-Key", key);
                }
                let reply = request.json(&record)?.send()?;
                if (200..300).contains(&reply.status) {
                    let id = if reply.body.is_empty() {
                        None
                    } else {
                        reply
                            .json::<Value>()
                            .ok()
                            .and_then(|v| id_of(&v, p.id_pointer.as_deref()))
                    };
                    outcomes.push(WriteOutcome::created(id, None));
                    continue;
                }
                let error = classify_status(reply.status, reply.header("retry-after"), &reply.body);
                if !per_record(&error) {
                    // Records already written stay written: the host keeps
                    // their outcomes only if the whole call succeeds, so a
                    // retry resends them, which is why `idempotency_key`
                    // exists.
                    return Err(error);
                }
                outcomes.push(WriteOutcome::Failed(error));
            }
            Ok(outcomes)
        }
    }
}
