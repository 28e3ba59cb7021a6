//! Request parameters and JSON replies, as the systems put them on the wire.

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use serde::Serialize;
use serde_json::Value;

/// Decoded `key=value` parameters in arrival order (form bodies, query
/// strings, or a JSON object's scalar members turned into text).
#[derive(Clone, Debug, Default)]
pub(crate) struct Params {
    pairs: Vec<(String, String)>,
}

impl Params {
    pub fn from_form(bytes: &[u8]) -> Params {
        Params {
            pairs: form_urlencoded::parse(bytes).into_owned().collect(),
        }
    }

    /// A JSON object's members; strings as they are, other scalars in their
    /// JSON text, arrays and objects as compact JSON.
    pub fn from_json_object(value: &Value) -> Params {
        let pairs = value
            .as_object()
            .map(|obj| {
                obj.iter()
                    .filter(|(_, v)| !v.is_null())
                    .map(|(k, v)| {
                        let text = match v {
                            Value::String(s) => s.clone(),
                            other => other.to_string(),
                        };
                        (k.clone(), text)
                    })
                    .collect()
            })
            .unwrap_or_default();
        Params { pairs }
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// A parameter that is present and not blank.
    pub fn value(&self, key: &str) -> Option<&str> {
        self.get(key).map(str::trim).filter(|v| !v.is_empty())
    }

    pub fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

pub(crate) const JSON: &str = "application/json; charset=utf-8";

/// A reply with a given status, content type and body.
pub(crate) fn raw(status: StatusCode, content_type: &'static str, body: Vec<u8>) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// HTTP 200 with a JSON body.
pub(crate) fn json(value: &impl Serialize) -> Response {
    json_as(StatusCode::OK, JSON, value)
}

pub(crate) fn json_as(
    status: StatusCode,
    content_type: &'static str,
    value: &impl Serialize,
) -> Response {
    match serde_json::to_vec(value) {
        Ok(body) => raw(status, content_type, body),
        Err(e) => raw(
            StatusCode::INTERNAL_SERVER_ERROR,
            "text/plain; charset=utf-8",
            format!("weft-sim could not encode its reply: {e}").into_bytes(),
        ),
    }
}

/// Plain-text 404 for paths no simulated system serves.
pub(crate) fn not_found(path: &str) -> Response {
    raw(
        StatusCode::NOT_FOUND,
        "text/plain; charset=utf-8",
        format!("weft-sim: no route for {path}").into_bytes(),
    )
}

/// Reads an integer parameter that clients send as a number or a string.
pub(crate) fn int_param(text: Option<&str>) -> Result<Option<i64>, String> {
    match text {
        None => Ok(None),
        Some(t) => t
            .trim()
            .trim_matches('"')
            .parse::<i64>()
            .map(Some)
            .map_err(|_| t.to_string()),
    }
}
