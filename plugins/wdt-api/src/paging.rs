//! Paging of 旺店通's list queries (PROTOCOLS.md §3.3): `page_no` is 0-based,
//! `page_size` 1..100, and `total_count` comes only with `page_no = 0`, so
//! the cursor carries it on. openapi2 and the 奇门 variant of its methods
//! page alike.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use weft_plugin_sdk::{Error, Page, Result};

/// Where the next page starts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    /// 0-based page number.
    pub page_no: u32,
    /// `total_count` from page 0, when 旺店通 gave it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
}

/// Reads page `cursor.page_no` out of a reply: the records under
/// `list_key`, the total, and the cursor of the next page.
///
/// # Errors
/// `fatal` when the list is not an array.
pub fn page_from_reply(
    reply: &Map<String, Value>,
    list_key: &str,
    cursor: &Cursor,
    page_size: u32,
) -> Result<Page> {
    let records = match reply.get(list_key) {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items.clone(),
        Some(other) => {
            return Err(Error::fatal(format!(
                "旺店通 answered '{list_key}' with {other} instead of a list"
            )));
        }
    };
    let total = if cursor.page_no == 0 {
        reply.get("total_count").and_then(count)
    } else {
        cursor.total
    };
    let got = records.len();
    let mut page = Page::from_values(records);
    if let Some(total) = total {
        page = page.total(total);
    }
    match next_page_no(cursor.page_no, page_size, got, total) {
        Some(page_no) => page.next(&Cursor { page_no, total }),
        None => Ok(page),
    }
}

/// A reply's top-level members, each kept as its JSON text.
pub type RawMembers<'a> = BTreeMap<String, &'a RawValue>;

/// [`page_from_reply`] over a reply whose members were left as JSON text:
/// the list's records go to the host as the text 旺店通 sent, never parsed
/// into a tree and written out again (most of a read's cost for pages of
/// large documents).
///
/// # Errors
/// `fatal` when the list is not an array.
pub fn page_from_raw_reply(
    reply: &RawMembers<'_>,
    list_key: &str,
    cursor: &Cursor,
    page_size: u32,
) -> Result<Page> {
    let list = reply.get(list_key).map(|raw| raw.get()).unwrap_or("null");
    // Only the array's element boundaries are scanned, not their content.
    let items: Vec<&RawValue> = match serde_json::from_str::<Option<Vec<&RawValue>>>(list) {
        Ok(items) => items.unwrap_or_default(),
        Err(_) => {
            return Err(Error::fatal(format!(
                "旺店通 answered '{list_key}' with {list} instead of a list"
            )));
        }
    };
    let total = if cursor.page_no == 0 {
        reply
            .get("total_count")
            .and_then(|raw| serde_json::from_str::<Value>(raw.get()).ok())
            .as_ref()
            .and_then(count)
    } else {
        cursor.total
    };
    let got = items.len();
    let mut page = if got == 0 {
        Page::from_values(Vec::new())
    } else {
        Page::from_raw_records(list.to_owned())
    };
    if let Some(total) = total {
        page = page.total(total);
    }
    match next_page_no(cursor.page_no, page_size, got, total) {
        Some(page_no) => page.next(&Cursor { page_no, total }),
        None => Ok(page),
    }
}

/// The next page number, or `None` after the last page: a short page ends
/// the list, and so does reaching `total`.
fn next_page_no(page_no: u32, page_size: u32, got: usize, total: Option<u64>) -> Option<u32> {
    if got == 0 || got < page_size as usize {
        return None;
    }
    let read = (u64::from(page_no) + 1) * u64::from(page_size);
    if total.is_some_and(|total| read >= total) {
        return None;
    }
    page_no.checked_add(1)
}

/// A count, as a number or a numeric string (旺店通 sends both).
pub fn count(value: &Value) -> Option<u64> {
    match value {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use weft_plugin_sdk::decode_cursor;

    fn reply(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    fn raw_page(body: &str, list_key: &str, cursor: &Cursor, size: u32) -> Result<Page> {
        let members: RawMembers<'_> = serde_json::from_str(body).expect("reply");
        page_from_raw_reply(&members, list_key, cursor, size)
    }

    #[test]
    fn a_raw_page_passes_its_records_through_and_pages_like_a_parsed_one() {
        let body = r#"{"code":0,"total_count":"5","purchase_list":[{"purchase_no":"A","n":1.50},{"purchase_no":"B"}]}"#;
        let page = raw_page(body, "purchase_list", &Cursor::default(), 2).expect("page");
        assert_eq!(
            page.raw_records(),
            Some(r#"[{"purchase_no":"A","n":1.50},{"purchase_no":"B"}]"#)
        );
        assert_eq!(page.known_total(), Some(5));
        let next: Option<Cursor> = decode_cursor(page.next_cursor()).expect("cursor");
        assert_eq!(
            next,
            Some(Cursor {
                page_no: 1,
                total: Some(5)
            })
        );

        // The last page (total reached) has no next cursor.
        let cursor = Cursor {
            page_no: 2,
            total: Some(5),
        };
        let body = r#"{"code":0,"purchase_list":[{"purchase_no":"E"}]}"#;
        let page = raw_page(body, "purchase_list", &cursor, 2).expect("page");
        assert_eq!(page.next_cursor(), None);

        // No list, or null, is an empty last page; anything else is refused.
        for body in [
            r#"{"code":0}"#,
            r#"{"code":0,"purchase_list":null}"#,
            r#"{"code":0,"purchase_list":[]}"#,
        ] {
            let page = raw_page(body, "purchase_list", &Cursor::default(), 2).expect("page");
            assert!(page.records().is_empty() && page.raw_records().is_none());
            assert_eq!(page.next_cursor(), None);
        }
        let err = raw_page(
            r#"{"code":0,"purchase_list":{"a":1}}"#,
            "purchase_list",
            &Cursor::default(),
            2,
        )
        .expect_err("not a list");
        assert!(err.to_string().contains("instead of a list"), "{err}");
    }

    #[test]
    fn the_first_page_carries_the_total_on() {
        let r = reply(
            json!({"code":0,"total_count":5,"purchase_list":[{"purchase_no":"A"},{"purchase_no":"B"}]}),
        );
        let page = page_from_reply(&r, "purchase_list", &Cursor::default(), 2).expect("page");
        assert_eq!(page.records().len(), 2);
        assert_eq!(page.known_total(), Some(5));
        let next: Option<Cursor> = decode_cursor(page.next_cursor()).expect("cursor");
        assert_eq!(
            next,
            Some(Cursor {
                page_no: 1,
                total: Some(5)
            })
        );
    }

    #[test]
    fn the_total_ends_the_list() {
        let r = reply(json!({"code":0,"purchase_list":[{"purchase_no":"E"}, {"purchase_no":"F"}]}));
        let cursor = Cursor {
            page_no: 2,
            total: Some(6),
        };
        let page = page_from_reply(&r, "purchase_list", &cursor, 2).expect("page");
        assert_eq!(page.next_cursor(), None);
        assert_eq!(page.known_total(), Some(6));
    }

    #[test]
    fn a_short_or_empty_page_ends_the_list() {
        let r = reply(json!({"code":0,"stockout_list":[{"order_no":"CK1"}]}));
        let page = page_from_reply(&r, "stockout_list", &Cursor::default(), 40).expect("page");
        assert_eq!(page.next_cursor(), None);
        let r = reply(json!({"code":0,"total_count":"0"}));
        let page = page_from_reply(&r, "stockout_list", &Cursor::default(), 40).expect("page");
        assert!(page.records().is_empty());
        assert_eq!(page.next_cursor(), None);
    }

    #[test]
    fn without_a_total_a_full_page_asks_for_more() {
        assert_eq!(next_page_no(3, 2, 2, None), Some(4));
        assert_eq!(next_page_no(0, 2, 2, Some(4)), Some(1));
        assert_eq!(next_page_no(1, 2, 2, Some(4)), None);
    }

    #[test]
    fn a_list_that_is_not_an_array_is_a_broken_contract() {
        let r = reply(json!({"code":0,"purchase_list":"x"}));
        assert_eq!(
            page_from_reply(&r, "purchase_list", &Cursor::default(), 2)
                .err()
                .map(|e| e.class()),
            Some("fatal")
        );
    }
}
