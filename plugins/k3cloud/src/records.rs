//! The records of a write as the host sends them: a JSON array of `Model`
//! objects. A record is scanned for its bill number and otherwise kept as
//! the JSON text it came as, to be spliced into the Save / BatchSave body
//! ([`crate::save::SaveBody`]). Parsing every model into a tree only to
//! write it out again was most of the guest's cost of a batch; so was
//! reading the batch twice, once to cut it into models and once more for
//! their numbers, so [`parse`] does both in one reading ([`one_pass`]).

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
    /// The model, exactly as sent: the JSON text of one element of the
    /// batch.
    pub model: &'a str,
}

/// The records of `records` (a JSON array), each with the value of its
/// `number_field`.
///
/// # Errors
/// `fatal` when the text is not a JSON array, or a bill number is a number
/// JSON cannot hold (as parsing the batch into values would have failed).
pub fn parse<'a>(records: &'a str, number_field: &str) -> Result<Vec<Record<'a>>> {
    match one_pass(records, number_field) {
        Some(records) => Ok(records),
        None => two_passes(records, number_field),
    }
}

/// [`parse`] in two readings: the batch cut into models by serde_json,
/// then each model read again for its number. What it does is what
/// `parse` does; [`one_pass`] leaves it every batch it does not handle
/// itself, so that errors and unusual batches fare exactly as here.
fn two_passes<'a>(records: &'a str, number_field: &str) -> Result<Vec<Record<'a>>> {
    let fatal = |e: serde_json::Error| Error::fatal(format!("records: {e}"));
    let models: Vec<&RawValue> = serde_json::from_str(records).map_err(fatal)?;
    models
        .into_iter()
        .map(|model| {
            let model = model.get();
            // A value that is not an object has no fields, so no number; the
            // raw text never starts with whitespace, but trimming costs nothing.
            let number = if model.trim_start().starts_with('{') {
                let mut de = serde_json::Deserializer::from_str(model);
                de.deserialize_map(NumberOf(number_field)).map_err(fatal)?
            } else {
                None
            };
            Ok(Record { number, model })
        })
        .collect()
}

/// [`parse`] in one reading, for a batch whose every record is an object
/// and reads without error; `None` for any other, which
/// [`two_passes`] then reads.
///
/// Each model is visited as [`NumberOf`] visits it (keys compared, the
/// number read with [`BillNumber`]), its other values taken as
/// [`RawValue`]s, which serde_json checks as it checks a whole model. A
/// model's text runs from its `{` to the `}` after its last value; both
/// are found from where the values lie in `records`.
fn one_pass<'a>(records: &'a str, number_field: &str) -> Option<Vec<Record<'a>>> {
    let mut de = serde_json::Deserializer::from_str(records);
    let batch = de
        .deserialize_seq(Batch {
            text: records,
            field: number_field,
        })
        .ok()?;
    de.end().ok()?;
    Some(batch)
}

/// JSON's whitespace (serde_json's).
fn skip_space(bytes: &[u8], mut at: usize) -> usize {
    while let Some(b' ' | b'\n' | b'\r' | b'\t') = bytes.get(at) {
        at += 1;
    }
    at
}

/// Where `part`, a slice of `text`, ends in it.
fn end_in(text: &str, part: &str) -> Option<usize> {
    let start = (part.as_ptr() as usize).checked_sub(text.as_ptr() as usize)?;
    let end = start.checked_add(part.len())?;
    (end <= text.len()).then_some(end)
}

/// The error that sends a batch to [`two_passes`]; its text is never shown.
fn not_here<E: de::Error>() -> E {
    E::custom("left to the two-pass reading")
}

/// Visits the batch (`text`, a JSON array), model by model.
struct Batch<'t, 'f> {
    text: &'t str,
    field: &'f str,
}

impl<'de, 'f> Visitor<'de> for Batch<'de, 'f> {
    type Value = Vec<Record<'de>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON array of records")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let bytes = self.text.as_bytes();
        // Just past the `[` (the deserializer has found it after whitespace
        // only), then past each model.
        let mut at = skip_space(bytes, 0) + 1;
        let mut records = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        loop {
            let seed = Element {
                text: self.text,
                field: self.field,
                after: at,
                first: records.is_empty(),
            };
            let Some((record, end)) = seq.next_element_seed(seed)? else {
                return Ok(records);
            };
            records.push(record);
            at = end;
        }
    }
}

/// One model, whose text starts after `after` (past whitespace and, unless
/// it is the `first`, a comma).
struct Element<'t, 'f> {
    text: &'t str,
    field: &'f str,
    after: usize,
    first: bool,
}

impl<'de> DeserializeSeed<'de> for Element<'de, '_> {
    /// The record and where its text ends.
    type Value = (Record<'de>, usize);

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        let bytes = self.text.as_bytes();
        let mut start = skip_space(bytes, self.after);
        if !self.first {
            if bytes.get(start) != Some(&b',') {
                return Err(not_here());
            }
            start = skip_space(bytes, start + 1);
        }
        // A record that is not an object is the two-pass reading's to
        // handle (and to find no number in).
        if bytes.get(start) != Some(&b'{') {
            return Err(not_here());
        }
        let (number, last) = deserializer.deserialize_map(Members {
            text: self.text,
            field: self.field,
        })?;
        // The `}` closing the model follows its last value, or the `{` of
        // an empty one, after whitespace.
        let close = skip_space(bytes, last.unwrap_or(start + 1));
        if bytes.get(close) != Some(&b'}') {
            return Err(not_here());
        }
        let model = self.text.get(start..close + 1).ok_or_else(not_here)?;
        Ok((Record { number, model }, close + 1))
    }
}

/// A model's members: its number, as [`NumberOf`] reads it, and where its
/// last value ends in `text`.
struct Members<'t, 'f> {
    text: &'t str,
    field: &'f str,
}

impl<'de> Visitor<'de> for Members<'de, '_> {
    type Value = (Option<String>, Option<usize>);

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a record (a JSON object)")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut number = None;
        let mut last = None;
        while let Some(is_number) = map.next_key_seed(KeyIs(self.field))? {
            let value: &'de RawValue = map.next_value()?;
            if is_number {
                // Read as `NumberOf` reads it; a value it would refuse is
                // left to it, for its error. The last of a repeated key wins.
                let mut de = serde_json::Deserializer::from_str(value.get());
                number = BillNumber.deserialize(&mut de).map_err(|_| not_here())?;
            }
            last = Some(end_in(self.text, value.get()).ok_or_else(not_here)?);
        }
        Ok((number, last))
    }
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
        let models: Vec<&str> = records.iter().map(|r| r.model).collect();
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

    fn pairs<'a>(records: &[Record<'a>]) -> Vec<(Option<String>, &'a str)> {
        records
            .iter()
            .map(|r| (r.number.clone(), r.model))
            .collect()
    }

    /// The one reading finds the models and numbers the two readings find,
    /// whatever the spacing, nesting, escapes and strings that look like
    /// punctuation.
    #[test]
    fn one_pass_reads_as_two_passes_do() {
        let values = [
            r#""CG01""#,
            r#""  B  ""#,
            r#""é\"1\\""#,
            r#""a}b]c,d:e{f[""#,
            r#""\u0041\u00e9\ud83d\ude00""#,
            r#""""#,
            "7",
            "-0.5e+3",
            "18446744073709551616",
            "null",
            "true",
            r#"[1,"FBillNo",{"FBillNo":"x"}]"#,
            r#"{"FBillNo":"inner","a":[{"b":"}"}]}"#,
            "[]",
            "{}",
        ];
        let keys = [
            r#""FBillNo""#,
            r#""F\u0042illNo""#,
            r#""FDate""#,
            r#""F\"No""#,
            r#""收货""#,
        ];
        let mut checked = 0;
        for (n, value) in values.iter().enumerate() {
            for (k, key) in keys.iter().enumerate() {
                let other = values[(n + k + 1) % values.len()];
                let space = [" ", "", "\n\t", "\r "][(n + k) % 4];
                let models = [
                    format!("{{{key}:{value}}}"),
                    format!(
                        "{{{space}\"x\"{space}:{space}{other}{space},{space}{key}{space}:{space}{value}{space}}}"
                    ),
                    format!(r#"{{{key}:{other},"y":[{value},{{}}],{key}:{value},"z":{other}}}"#),
                    format!(r#"{{"FEntry":[{{{key}:{value}}}],"FNote":{value}}}"#),
                    format!("{{{space}}}"),
                ];
                let batch = format!(
                    "{space}[{space}{}{space}]{space}",
                    models.join(&format!("{space},{space}"))
                );
                for field in ["FBillNo", "F\"No", "收货"] {
                    let one = one_pass(&batch, field).expect(&batch);
                    let two = two_passes(&batch, field).expect(&batch);
                    assert_eq!(pairs(&one), pairs(&two), "{field} in {batch}");
                    assert_eq!(one.len(), models.len());
                    checked += 1;
                }
            }
        }
        assert_eq!(checked, values.len() * keys.len() * 3);
        for batch in ["[]", " [ ] ", "[{}]"] {
            assert_eq!(
                one_pass(batch, "FBillNo").map(|r| pairs(&r)),
                Some(pairs(&two_passes(batch, "FBillNo").expect(batch)))
            );
        }
    }

    /// A batch the one reading does not handle (a record that is not an
    /// object, anything serde_json refuses) is read in two, errors and all.
    #[test]
    fn one_pass_leaves_the_rest_to_two_passes() {
        for batch in [
            r#"[{"FBillNo":"A"},["FBillNo","Q"]]"#,
            r#"[{"FBillNo":"A"},7]"#,
            r#"[{"FBillNo":1e999}]"#,
            r#"[{"FBillNo":"\ud800"}]"#,
            r#"[{"F\ud800":"A","FBillNo":"B"}]"#,
            r#"[{"FBillNo":"A"},]"#,
            r#"[{"FBillNo":"A"}] x"#,
            r#"{"FBillNo":"A"}"#,
            "",
        ] {
            assert!(one_pass(batch, "FBillNo").is_none(), "{batch}");
            assert_eq!(
                parse(batch, "FBillNo").map(|r| pairs(&r)),
                two_passes(batch, "FBillNo").map(|r| pairs(&r)),
                "{batch}"
            );
        }
        // A number elsewhere is checked, not read.
        assert_eq!(
            one_pass(r#"[{"x":1e999,"FBillNo":"B"}]"#, "FBillNo").map(|r| pairs(&r)),
            Some(vec![(Some("B".to_owned()), r#"{"x":1e999,"FBillNo":"B"}"#)])
        );
        assert_eq!(
            two_passes(r#"[{"x":1e999,"FBillNo":"B"}]"#, "FBillNo").map(|r| pairs(&r)),
            Ok(vec![(Some("B".to_owned()), r#"{"x":1e999,"FBillNo":"B"}"#)])
        );
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
