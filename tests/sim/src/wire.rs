//! Request parameters and JSON replies, as the systems put them on the wire.

use std::sync::Mutex;

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use serde::Serialize;
use serde_json::Value;

use crate::state::lock;

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

/// Spare reply buffers. A page of a hundred purchase orders is half a
/// megabyte of JSON; written into fresh memory every time, the kernel had
/// to supply and zero new pages for each page served, which cost more than
/// writing the JSON. Buffers go back here once hyper has sent them.
static SPARE: Mutex<Vec<Vec<u8>>> = Mutex::new(Vec::new());
const SPARE_KEPT: usize = 8;
/// Smaller replies are cheap to allocate; bigger buffers are let go
/// rather than kept around.
const SPARE_SIZES: std::ops::RangeInclusive<usize> = (64 << 10)..=(16 << 20);

/// An empty buffer for a reply body, with room for `capacity` bytes.
pub(crate) fn buffer(capacity: usize) -> Vec<u8> {
    let spare = lock(&SPARE).pop();
    match spare {
        Some(mut buf) => {
            buf.clear();
            buf.reserve(capacity);
            buf
        }
        None => Vec::with_capacity(capacity),
    }
}

/// Gives a buffer back for reuse.
fn recycle(buf: Vec<u8>) {
    if SPARE_SIZES.contains(&buf.capacity()) {
        let mut spare = lock(&SPARE);
        if spare.len() < SPARE_KEPT {
            spare.push(buf);
        }
    }
}

/// A reply body that returns its buffer when hyper is done with it.
struct Recycled(Vec<u8>);

impl AsRef<[u8]> for Recycled {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl Drop for Recycled {
    fn drop(&mut self) {
        recycle(std::mem::take(&mut self.0));
    }
}

/// A reply with a given status, content type and body.
pub(crate) fn raw(status: StatusCode, content_type: &'static str, body: Vec<u8>) -> Response {
    let body = if SPARE_SIZES.contains(&body.capacity()) {
        Body::from(Bytes::from_owner(Recycled(body)))
    } else {
        Body::from(body)
    };
    let mut response = Response::new(body);
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
