//! Paging of 旺店通's list queries (PROTOCOLS.md §3.3): `page_no` is 0-based,
//! `page_size` 1..100, and `total_count` comes only with `page_no = 0`, so
//! the cursor carries it on. openapi2 and the 奇门 variant of its methods
//! page alike.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize, de};
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

/// A reply read in one pass: its members as JSON text, and the records of
/// its list found on the way. A page of 100 purchase orders is half a
/// megabyte; reading it once for the members and again for the list's
/// records was most of the guest's cost of a read.
#[derive(Debug, Default)]
pub struct RawReply<'a> {
    /// Every member but the list.
    pub members: RawMembers<'a>,
    /// The list.
    pub list: RawList<'a>,
}

/// The list member of a reply.
#[derive(Debug, Default)]
pub enum RawList<'a> {
    /// Missing or `null`.
    #[default]
    Absent,
    /// An array: each record as the JSON text 旺店通 sent.
    Records(Vec<&'a RawValue>),
    /// Something else, described.
    Other(&'static str),
}

impl<'a> RawReply<'a> {
    /// Reads `text`, a JSON object whose member `list_key` holds the
    /// records.
    ///
    /// # Errors
    /// The text is not a JSON object.
    pub fn parse(text: &'a str, list_key: &str) -> serde_json::Result<Self> {
        let mut de = serde_json::Deserializer::from_str(text);
        let reply = de::DeserializeSeed::deserialize(ReplySeed(list_key), &mut de)?;
        de.end()?;
        Ok(reply)
    }
}

struct ReplySeed<'k>(&'k str);

impl<'de> de::DeserializeSeed<'de> for ReplySeed<'_> {
    type Value = RawReply<'de>;

    fn deserialize<D: de::Deserializer<'de>>(
        self,
        d: D,
    ) -> std::result::Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> de::Visitor<'de> for ReplySeed<'_> {
    type Value = RawReply<'de>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: de::MapAccess<'de>>(
        self,
        mut map: A,
    ) -> std::result::Result<Self::Value, A::Error> {
        let mut reply = RawReply::default();
        // A repeated member keeps its last value, as a map would.
        while let Some(key) = map.next_key::<String>()? {
            if key == self.0 {
                reply.list = map.next_value_seed(ListSeed)?;
            } else {
                reply.members.insert(key, map.next_value()?);
            }
        }
        Ok(reply)
    }
}

struct ListSeed;

impl<'de> de::DeserializeSeed<'de> for ListSeed {
    type Value = RawList<'de>;

    fn deserialize<D: de::Deserializer<'de>>(
        self,
        d: D,
    ) -> std::result::Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> de::Visitor<'de> for ListSeed {
    type Value = RawList<'de>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a list of records")
    }

    fn visit_unit<E>(self) -> std::result::Result<Self::Value, E> {
        Ok(RawList::Absent)
    }

    fn visit_none<E>(self) -> std::result::Result<Self::Value, E> {
        Ok(RawList::Absent)
    }

    fn visit_seq<A: de::SeqAccess<'de>>(
        self,
        mut seq: A,
    ) -> std::result::Result<Self::Value, A::Error> {
        let mut records = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(record) = seq.next_element::<&'de RawValue>()? {
            records.push(record);
        }
        Ok(RawList::Records(records))
    }

    fn visit_map<A: de::MapAccess<'de>>(
        self,
        mut map: A,
    ) -> std::result::Result<Self::Value, A::Error> {
        while map
            .next_entry::<de::IgnoredAny, de::IgnoredAny>()?
            .is_some()
        {}
        Ok(RawList::Other("an object"))
    }

    fn visit_bool<E>(self, _: bool) -> std::result::Result<Self::Value, E> {
        Ok(RawList::Other("a boolean"))
    }

    fn visit_i64<E>(self, _: i64) -> std::result::Result<Self::Value, E> {
        Ok(RawList::Other("a number"))
    }

    fn visit_u64<E>(self, _: u64) -> std::result::Result<Self::Value, E> {
        Ok(RawList::Other("a number"))
    }

    fn visit_f64<E>(self, _: f64) -> std::result::Result<Self::Value, E> {
        Ok(RawList::Other("a number"))
    }

    fn visit_str<E>(self, _: &str) -> std::result::Result<Self::Value, E> {
        Ok(RawList::Other("a string"))
    }
}

/// [`page_from_reply`] over a reply read by [`RawReply::parse`]: the list's
/// records go to the host as the text 旺店通 sent, never parsed into a tree
/// and written out again.
///
/// # Errors
/// `fatal` when the list is not an array.
pub fn page_from_raw_reply(
    reply: &RawReply<'_>,
    list_key: &str,
    cursor: &Cursor,
    page_size: u32,
) -> Result<Page> {
    let items: &[&RawValue] = match &reply.list {
        RawList::Absent => &[],
        RawList::Records(items) => items,
        RawList::Other(what) => {
            return Err(Error::fatal(format!(
                "旺店通 answered '{list_key}' with {what} instead of a list"
            )));
        }
    };
    let total = if cursor.page_no == 0 {
        reply
            .members
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
        let mut text =
            String::with_capacity(items.iter().map(|r| r.get().len() + 1).sum::<usize>() + 1);
        text.push('[');
        for (i, record) in items.iter().enumerate() {
            if i > 0 {
                text.push(',');
            }
            text.push_str(record.get());
        }
        text.push(']');
        Page::from_raw_records(text)
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
        let reply = RawReply::parse(body, list_key).expect("reply");
        page_from_raw_reply(&reply, list_key, cursor, size)
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
        for (body, what) in [
            (r#"{"code":0,"purchase_list":{"a":[1]}}"#, "an object"),
            (r#"{"code":0,"purchase_list":"x"}"#, "a string"),
            (r#"{"code":0,"purchase_list":7}"#, "a number"),
        ] {
            let err =
                raw_page(body, "purchase_list", &Cursor::default(), 2).expect_err("not a list");
            assert!(
                err.to_string()
                    .contains(&format!("with {what} instead of a list")),
                "{err}"
            );
        }
        // The list may come anywhere among the members, and the last of a
        // repeated member counts.
        let body = r#"{"purchase_list":[{"a":1}],"code":0,"purchase_list":[{"b":2}, {"c":[3]}],"total_count":9}"#;
        let reply = RawReply::parse(body, "purchase_list").expect("reply");
        assert_eq!(
            reply.members.keys().collect::<Vec<_>>(),
            ["code", "total_count"]
        );
        let page =
            page_from_raw_reply(&reply, "purchase_list", &Cursor::default(), 2).expect("page");
        assert_eq!(page.raw_records(), Some(r#"[{"b":2},{"c":[3]}]"#));
        assert_eq!(page.known_total(), Some(9));
        assert!(RawReply::parse("[1]", "purchase_list").is_err());
        assert!(RawReply::parse(r#"{"purchase_list":[{"a":1}]} x"#, "purchase_list").is_err());
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
