//! The records of a write as the host sends them: a JSON array of `Model`
//! objects. A record is scanned for its bill number and otherwise kept as
//! the JSON text it came as, to be spliced into the Save / BatchSave body
//! ([`crate::save::SaveBody`]). Parsing every model into a tree only to
//! write it out again was most of the guest's cost of a batch.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Number;
use serde_json::value::RawValue;
use weft_plugin_sdk::{Error, Result};

use crate::bill_query;

/// One record of a batch.
#[derive(Debug, Clone)]
pub struct Record<'a> {
    /// Its bill number, read as [`bill_query::text`] reads a value; `None`
    /// when the field is missing, null, blank or neither text nor a number,
    /// or when the record is not an object.
    pub number: Option<String>,
    /// The model, exactly as sent.
    pub model: &'a RawValue,
}

/// The records of `records` (a JSON array), each with the value of its
/// `number_field`.
///
/// # Errors
/// `fatal` when the text is not a JSON array, or a bill number is a number
/// JSON cannot hold (as parsing the batch into values would have failed).
pub fn parse<'a>(records: &'a str, number_field: &str) -> Result<Vec<Record<'a>>> {
    let fatal = |e: serde_json::Error| Error::fatal(format!("records: {e}"));
    let models: Vec<&RawValue> = serde_json::from_str(records).map_err(fatal)?;
    models
        .into_iter()
        .map(|model| {
            // A value that is not an object has no fields, so no number; the
            // raw text never starts with whitespace, but trimming costs nothing.
            let number = if model.get().trim_start().starts_with('{') {
                let mut de = serde_json::Deserializer::from_str(model.get());
                de.deserialize_map(NumberOf(number_field)).map_err(fatal)?
            } else {
                None
            };
            Ok(Record { number, model })
        })
        .collect()
}

/// Visits a record's members, skipping every value but the number's.
struct NumberOf<'f>(&'f str);

impl<'de> Visitor<'de> for NumberOf<'_> {
    type Value = Option<String>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a record (a JSON object)")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut number = None;
        while let Some(is_number) = map.next_key_seed(KeyIs(self.0))? {
            if is_number {
                // No early return: with a repeated key the last one wins, as
                // it does when the record is parsed into a map.
                number = map.next_value_seed(BillNumber)?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(number)
    }
}

/// Whether a member's key is the number field. Keys with escapes arrive
/// unescaped through `visit_str`, the others borrowed; neither allocates.
struct KeyIs<'f>(&'f str);

impl<'de> DeserializeSeed<'de> for KeyIs<'_> {
    type Value = bool;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<bool, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl Visitor<'_> for KeyIs<'_> {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a key")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<bool, E> {
        Ok(key == self.0)
    }
}

/// The number field's value as [`bill_query::text`] reads a parsed one:
/// text trimmed and not blank, or a number as JSON writes it.
struct BillNumber;

impl<'de> DeserializeSeed<'de> for BillNumber {
    type Value = Option<String>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for BillNumber {
    type Value = Option<String>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a bill number")
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
        Ok(bill_query::trimmed(s))
    }

    // Numbers go through `Number` so that they print exactly as a parsed
    // `Value::Number` does.
    fn visit_u64<E: de::Error>(self, n: u64) -> Result<Self::Value, E> {
        Ok(Some(Number::from(n).to_string()))
    }

    fn visit_i64<E: de::Error>(self, n: i64) -> Result<Self::Value, E> {
        Ok(Some(Number::from(n).to_string()))
    }

    fn visit_f64<E: de::Error>(self, n: f64) -> Result<Self::Value, E> {
        Ok(Number::from_f64(n).map(|n| n.to_string()))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(None)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    /// The number the raw path reads, and the one the parsed path reads.
    fn both(record: &str, field: &str) -> (Option<String>, Option<String>) {
        let text = format!("[{record}]");
        let raw = parse(&text, field).expect("records");
        let value: Value = serde_json::from_str(record).expect("record");
        let parsed = value.get(field).and_then(bill_query::text);
        (raw[0].number.clone(), parsed)
    }

    fn number(record: &str, field: &str) -> Option<String> {
        let (raw, parsed) = both(record, field);
        assert_eq!(raw, parsed, "{record}");
        raw
    }

    #[test]
    fn the_number_is_found_anywhere_in_the_record() {
        let record = r#"{"FDate":"2024-01-01","FEntry":[{"FBillNo":"inner"}],"FBillNo":"CG01","FNote":{"FBillNo":"x"}}"#;
        assert_eq!(number(record, "FBillNo").as_deref(), Some("CG01"));
    }

    #[test]
    fn escaped_keys_and_values_are_unescaped() {
        assert_eq!(
            number(r#"{"F\u0042illNo":"A\u00e9\"1\\"}"#, "FBillNo").as_deref(),
            Some("Aé\"1\\")
        );
        assert_eq!(
            number(r#"{"单据编号":"  收-01\t"}"#, "单据编号").as_deref(),
            Some("收-01")
        );
        assert_eq!(number(r#"{"F\"No":"Q"}"#, "F\"No").as_deref(), Some("Q"));
    }

    #[test]
    fn numbers_are_numbers_as_json_writes_them() {
        assert_eq!(
            number(r#"{"FNumber":10086}"#, "FNumber").as_deref(),
            Some("10086")
        );
        assert_eq!(
            number(r#"{"FNumber":-7}"#, "FNumber").as_deref(),
            Some("-7")
        );
        assert_eq!(
            number(r#"{"FNumber":1.50}"#, "FNumber").as_deref(),
            Some("1.5")
        );
        assert_eq!(
            number(r#"{"FNumber":1e3}"#, "FNumber").as_deref(),
            Some("1000.0")
        );
        assert_eq!(
            number(r#"{"FNumber":18446744073709551616}"#, "FNumber").as_deref(),
            Some("1.8446744073709552e+19")
        );
    }

    #[test]
    fn no_usable_number_is_none() {
        for record in [
            r#"{"FDate":"x"}"#,
            r#"{"FBillNo":null}"#,
            r#"{"FBillNo":"  "}"#,
            r#"{"FBillNo":""}"#,
            r#"{"FBillNo":true}"#,
            r#"{"FBillNo":["A"]}"#,
            r#"{"FBillNo":{"FNumber":"A"}}"#,
            r#"{"fbillno":"A"}"#,
            r#"{}"#,
        ] {
            assert_eq!(number(record, "FBillNo"), None, "{record}");
        }
    }

    #[test]
    fn a_repeated_key_counts_once_the_last() {
        assert_eq!(
            number(r#"{"FBillNo":"A","FBillNo":"B"}"#, "FBillNo").as_deref(),
            Some("B")
        );
        assert_eq!(number(r#"{"FBillNo":"A","FBillNo":null}"#, "FBillNo"), None);
    }

    #[test]
    fn a_record_that_is_not_an_object_has_no_number() {
        for record in [r#"["FBillNo","A"]"#, r#""A""#, "7", "null", "true"] {
            assert_eq!(number(record, "FBillNo"), None, "{record}");
        }
    }

    #[test]
    fn models_are_kept_as_sent_and_in_order() {
        let text = " [ {\"FBillNo\" : \"A\" , \"x\":1.0} ,\n[1] , {\"FBillNo\":\"B\"} ] ";
        let records = parse(text, "FBillNo").expect("records");
        let models: Vec<&str> = records.iter().map(|r| r.model.get()).collect();
        assert_eq!(
            models,
            [
                "{\"FBillNo\" : \"A\" , \"x\":1.0}",
                "[1]",
                "{\"FBillNo\":\"B\"}"
            ]
        );
        let numbers: Vec<Option<&str>> = records.iter().map(|r| r.number.as_deref()).collect();
        assert_eq!(numbers, [Some("A"), None, Some("B")]);
    }

    #[test]
    fn a_batch_that_is_not_an_array_is_fatal() {
        for text in ["{\"FBillNo\":\"A\"}", "[{\"FBillNo\":\"A\"}", "", "[{]"] {
            assert_eq!(
                parse(text, "FBillNo").err().map(|e| e.class()),
                Some("fatal"),
                "{text}"
            );
        }
        assert_eq!(
            parse(r#"[{"FBillNo":1e999}]"#, "FBillNo")
                .err()
                .map(|e| e.class()),
            Some("fatal")
        );
        assert!(parse("[]", "FBillNo").expect("records").is_empty());
    }
}
