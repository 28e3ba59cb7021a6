//! The `fetch` source: one request per page, records picked by a JSON
//! pointer, paging by page number, offset or cursor.

use std::collections::BTreeMap;

use weft_plugin_sdk::prelude::*;

use crate::Settings;

/// Params of `fetch`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct FetchParams {
    /// Path under the base URL, e.g. `/orders`.
    path: String,
    /// `GET` (default) or `POST`.
    #[serde(default)]
    method: FetchMethod,
    /// Query parameters sent with every page.
    #[serde(default)]
    query: BTreeMap<String, Value>,
    /// JSON body for `POST` (paging fields are merged into it).
    #[serde(default)]
    body: Option<Value>,
    /// JSON pointer to the array of records in the response, e.g.
    /// `/data/items`; empty when the response is the array itself.
    #[serde(default)]
    records: String,
    /// JSON pointer to the total count, when the API gives one.
    #[serde(default)]
    total: Option<String>,
    /// How to ask for the next page.
    #[serde(default)]
    pagination: Pagination,
}

#[derive(Debug, Default, Clone, Copy, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "UPPERCASE")]
enum FetchMethod {
    #[default]
    Get,
    Post,
}

/// Paging styles.
#[derive(Debug, Default, Clone, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
enum Pagination {
    /// One request returns everything.
    #[default]
    None,
    /// `?page=1&per_page=100`; stops at a short page.
    PageNumber {
        /// Name of the page parameter.
        #[serde(default = "page_param")]
        param: String,
        /// The first page's number (0 or 1).
        #[serde(default = "one")]
        start: u64,
        /// Name of the page-size parameter.
        #[serde(default)]
        size_param: Option<String>,
        /// Records per page.
        size: u64,
    },
    /// `?offset=0&limit=100`; stops at a short page.
    Offset {
        /// Name of the offset parameter.
        #[serde(default = "offset_param")]
        param: String,
        /// Name of the limit parameter.
        #[serde(default = "limit_param")]
        size_param: String,
        /// Records per page.
        size: u64,
    },
    /// `?cursor=<token>` where the token comes from the previous response;
    /// stops when the token is missing, null or empty.
    Cursor {
        /// Name of the cursor parameter.
        #[serde(default = "cursor_param")]
        param: String,
        /// JSON pointer to the next token in the response.
        next_pointer: String,
        /// Name of the page-size parameter.
        #[serde(default)]
        size_param: Option<String>,
        /// Records per page.
        #[serde(default)]
        size: Option<u64>,
    },
}

fn page_param() -> String {
    "page".into()
}
fn offset_param() -> String {
    "offset".into()
}
fn limit_param() -> String {
    "limit".into()
}
fn cursor_param() -> String {
    "cursor".into()
}
fn one() -> u64 {
    1
}

/// Where the next page starts.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
enum Cursor {
    Page(u64),
    Offset(u64),
    Token(String),
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The paging parameters for the page at `cursor`.
fn paging(p: &Pagination, cursor: Option<&Cursor>) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    match p {
        Pagination::None => {}
        Pagination::PageNumber {
            param,
            start,
            size_param,
            size,
        } => {
            let page = match cursor {
                Some(Cursor::Page(n)) => *n,
                _ => *start,
            };
            out.push((param.clone(), json!(page)));
            if let Some(sp) = size_param {
                out.push((sp.clone(), json!(size)));
            }
        }
        Pagination::Offset {
            param,
            size_param,
            size,
        } => {
            let offset = match cursor {
                Some(Cursor::Offset(n)) => *n,
                _ => 0,
            };
            out.push((param.clone(), json!(offset)));
            out.push((size_param.clone(), json!(size)));
        }
        Pagination::Cursor {
            param,
            size_param,
            size,
            ..
        } => {
            if let Some(Cursor::Token(t)) = cursor {
                out.push((param.clone(), json!(t)));
            }
            if let (Some(sp), Some(n)) = (size_param, size) {
                out.push((sp.clone(), json!(n)));
            }
        }
    }
    out
}

/// The cursor after a page of `count` records.
fn next_cursor(
    p: &Pagination,
    cursor: Option<&Cursor>,
    count: usize,
    reply: &Value,
) -> Option<Cursor> {
    let count = count as u64;
    match p {
        Pagination::None => None,
        Pagination::PageNumber { start, size, .. } => {
            let page = match cursor {
                Some(Cursor::Page(n)) => *n,
                _ => *start,
            };
            (count >= *size && count > 0).then_some(Cursor::Page(page + 1))
        }
        Pagination::Offset { size, .. } => {
            let offset = match cursor {
                Some(Cursor::Offset(n)) => *n,
                _ => 0,
            };
            (count >= *size && count > 0).then_some(Cursor::Offset(offset + count))
        }
        Pagination::Cursor { next_pointer, .. } => {
            if count == 0 {
                return None;
            }
            match reply.pointer(next_pointer) {
                None | Some(Value::Null) => None,
                Some(v) => {
                    let token = text(v);
                    (!token.is_empty()).then_some(Cursor::Token(token))
                }
            }
        }
    }
}

/// Reads one page.
pub(crate) fn read(settings: &Settings, p: &FetchParams, cursor: Option<&str>) -> Result<Page> {
    let cursor: Option<Cursor> = decode_cursor(cursor)?;
    let paging = paging(&p.pagination, cursor.as_ref());
    let mut url = settings.url(&p.path);
    let mut query: Vec<(String, String)> =
        p.query.iter().map(|(k, v)| (k.clone(), text(v))).collect();
    let request = match p.method {
        FetchMethod::Get => {
            query.extend(paging.iter().map(|(k, v)| (k.clone(), text(v))));
            append_query(&mut url, &query);
            settings.request(http::Method::Get, url)
        }
        FetchMethod::Post => {
            append_query(&mut url, &query);
            let mut body = match &p.body {
                Some(Value::Object(m)) => m.clone(),
                Some(other) => {
                    return Err(Error::fatal(format!(
                        "params.body must be a JSON object to merge paging into, got {other}"
                    )));
                }
                None => serde_json::Map::new(),
            };
            body.extend(paging);
            settings.request(http::Method::Post, url).json(&body)?
        }
    };
    let reply: Value = request.send()?.error_for_status()?.json()?;
    let records = match reply.pointer(&p.records) {
        Some(Value::Array(items)) => items.clone(),
        Some(Value::Null) | None if !p.records.is_empty() => Vec::new(),
        Some(other) => {
            return Err(Error::fatal(format!(
                "records pointer '{}' points at {} instead of an array",
                p.records,
                kind(other)
            )));
        }
        None => {
            return Err(Error::fatal(
                "the response is not an array; set params.records",
            ));
        }
    };
    let next = next_cursor(&p.pagination, cursor.as_ref(), records.len(), &reply);
    let total = p
        .total
        .as_deref()
        .and_then(|ptr| reply.pointer(ptr))
        .and_then(|v| {
            v.as_u64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        });
    let mut page = Page::from_values(records);
    if let Some(next) = next {
        page = page.next(&next)?;
    }
    if let Some(total) = total {
        page = page.total(total);
    }
    Ok(page)
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn append_query(url: &mut String, pairs: &[(String, String)]) {
    if pairs.is_empty() {
        return;
    }
    url.push(if url.contains('?') { '&' } else { '?' });
    url.push_str(&http::form_urlencoded(pairs));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_numbers_advance_until_a_short_page() {
        let p = Pagination::PageNumber {
            param: "page".into(),
            start: 1,
            size_param: Some("per_page".into()),
            size: 2,
        };
        assert_eq!(
            paging(&p, None),
            vec![("page".into(), json!(1)), ("per_page".into(), json!(2))]
        );
        assert_eq!(
            next_cursor(&p, None, 2, &Value::Null),
            Some(Cursor::Page(2))
        );
        assert_eq!(
            next_cursor(&p, Some(&Cursor::Page(2)), 1, &Value::Null),
            None
        );
    }

    #[test]
    fn offsets_advance_by_records_seen() {
        let p = Pagination::Offset {
            param: "offset".into(),
            size_param: "limit".into(),
            size: 3,
        };
        assert_eq!(
            next_cursor(&p, Some(&Cursor::Offset(3)), 3, &Value::Null),
            Some(Cursor::Offset(6))
        );
        assert_eq!(
            next_cursor(&p, Some(&Cursor::Offset(6)), 0, &Value::Null),
            None
        );
    }

    #[test]
    fn cursors_come_from_the_response() {
        let p = Pagination::Cursor {
            param: "cursor".into(),
            next_pointer: "/meta/next".into(),
            size_param: None,
            size: None,
        };
        let reply = json!({"meta": {"next": "abc"}});
        assert_eq!(
            next_cursor(&p, None, 5, &reply),
            Some(Cursor::Token("abc".into()))
        );
        assert_eq!(
            next_cursor(&p, None, 5, &json!({"meta": {"next": ""}})),
            None
        );
        assert_eq!(
            paging(&p, Some(&Cursor::Token("abc".into()))),
            vec![("cursor".into(), json!("abc"))]
        );
    }
}
