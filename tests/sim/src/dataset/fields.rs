//! A document's fields listed once and written two ways: through serde
//! (for `Value`s, and for documents whose overrides must be merged in), or
//! straight into a page's JSON buffer.
//!
//! Serving list pages is most of what the sources do, and serde's map
//! machinery spent more time escaping the same field names over and over
//! than writing the values. The direct writer emits exactly the bytes
//! serde_json's compact serializer would: names are plain ASCII
//! identifiers that need no escaping (checked in debug builds), and string
//! values are still escaped by serde_json itself.

use std::sync::OnceLock;

use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};

use super::Dec4;

/// How many runs of fields per record a [`FragmentCache`] holds.
pub(crate) const GROUPS: usize = 4;

/// Runs of fields that depend on one master record only (a material's
/// names and codes in a purchase line, say), kept as the JSON the direct
/// writer wrote the first time, to be copied rather than written again.
#[derive(Clone, Debug, Default)]
pub(crate) struct FragmentCache {
    cells: Vec<OnceLock<Box<[u8]>>>,
}

impl FragmentCache {
    pub fn new(records: usize) -> FragmentCache {
        FragmentCache {
            cells: (0..records.saturating_mul(GROUPS))
                .map(|_| OnceLock::new())
                .collect(),
        }
    }

    fn cell(&self, group: usize, record: usize) -> Option<&OnceLock<Box<[u8]>>> {
        if group >= GROUPS {
            return None;
        }
        self.cells
            .get(record.checked_mul(GROUPS)?.checked_add(group)?)
    }
}

/// Receives a document's fields in order.
pub(crate) trait FieldSink {
    type Error;
    fn str(&mut self, key: &'static str, value: &str) -> Result<(), Self::Error>;
    fn int(&mut self, key: &'static str, value: i64) -> Result<(), Self::Error>;
    fn dec4(&mut self, key: &'static str, value: Dec4) -> Result<(), Self::Error>;
    /// An array of objects.
    fn list<T: Fields>(&mut self, key: &'static str, items: &[T]) -> Result<(), Self::Error>;
    /// `fields`' fields, in place; they must depend on nothing but
    /// `record`, as their JSON may be taken from `cache`.
    fn group<T: Fields>(
        &mut self,
        cache: &FragmentCache,
        group: usize,
        record: usize,
        fields: &T,
    ) -> Result<(), Self::Error>;
}

/// Something written as a JSON object, field by field.
pub(crate) trait Fields {
    fn fields<K: FieldSink>(&self, out: &mut K) -> Result<(), K::Error>;
}

/// Serialises `T` as a map through any serde serializer.
pub(crate) struct AsMap<'a, T>(pub &'a T);

impl<T: Fields> Serialize for AsMap<'_, T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        self.0.fields(&mut MapSink(&mut map))?;
        map.end()
    }
}

struct MapSink<'m, M>(&'m mut M);

struct Items<'a, T>(&'a [T]);

impl<T: Fields> Serialize for Items<'_, T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(AsMap))
    }
}

impl<M: SerializeMap> FieldSink for MapSink<'_, M> {
    type Error = M::Error;

    fn str(&mut self, key: &'static str, value: &str) -> Result<(), M::Error> {
        self.0.serialize_entry(key, value)
    }

    fn int(&mut self, key: &'static str, value: i64) -> Result<(), M::Error> {
        self.0.serialize_entry(key, &value)
    }

    fn dec4(&mut self, key: &'static str, value: Dec4) -> Result<(), M::Error> {
        self.0.serialize_entry(key, &value)
    }

    fn list<T: Fields>(&mut self, key: &'static str, items: &[T]) -> Result<(), M::Error> {
        self.0.serialize_entry(key, &Items(items))
    }

    fn group<T: Fields>(
        &mut self,
        _cache: &FragmentCache,
        _group: usize,
        _record: usize,
        fields: &T,
    ) -> Result<(), M::Error> {
        fields.fields(self)
    }
}

/// Writes `T` as compact JSON, byte for byte what
/// `serde_json::to_writer(out, &AsMap(value))` writes.
pub(crate) fn write_json<T: Fields>(value: &T, out: &mut Vec<u8>) {
    out.push(b'{');
    let mut sink = JsonSink { out, first: true };
    // Writing to a Vec cannot fail, and neither can any field.
    let _ = value.fields(&mut sink);
    sink.out.push(b'}');
}

struct JsonSink<'o> {
    out: &'o mut Vec<u8>,
    first: bool,
}

impl JsonSink<'_> {
    fn key(&mut self, key: &'static str) {
        debug_assert!(
            key.bytes()
                .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\'),
            "field name {key:?} would need escaping"
        );
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
        self.out.push(b'"');
        self.out.extend_from_slice(key.as_bytes());
        self.out.extend_from_slice(b"\":");
    }
}

impl FieldSink for JsonSink<'_> {
    type Error = serde_json::Error;

    fn str(&mut self, key: &'static str, value: &str) -> Result<(), serde_json::Error> {
        self.key(key);
        serde_json::Serializer::new(&mut *self.out).serialize_str(value)
    }

    fn int(&mut self, key: &'static str, value: i64) -> Result<(), serde_json::Error> {
        self.key(key);
        serde_json::Serializer::new(&mut *self.out).serialize_i64(value)
    }

    fn dec4(&mut self, key: &'static str, value: Dec4) -> Result<(), serde_json::Error> {
        self.key(key);
        value.write_json(self.out);
        Ok(())
    }

    fn list<T: Fields>(&mut self, key: &'static str, items: &[T]) -> Result<(), serde_json::Error> {
        self.key(key);
        self.out.push(b'[');
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                self.out.push(b',');
            }
            write_json(item, self.out);
        }
        self.out.push(b']');
        Ok(())
    }

    fn group<T: Fields>(
        &mut self,
        cache: &FragmentCache,
        group: usize,
        record: usize,
        fields: &T,
    ) -> Result<(), serde_json::Error> {
        let Some(cell) = cache.cell(group, record) else {
            return fields.fields(self);
        };
        let json = cell.get_or_init(|| {
            let mut out = Vec::new();
            let mut sink = JsonSink {
                out: &mut out,
                first: false,
            };
            let _ = fields.fields(&mut sink);
            out.into_boxed_slice()
        });
        // Written as if fields came before; without any, the comma goes.
        let json = if self.first {
            json.strip_prefix(b",").unwrap_or(json)
        } else {
            json
        };
        if !json.is_empty() {
            self.first = false;
            self.out.extend_from_slice(json);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Row(i64);

    impl Fields for Row {
        fn fields<K: FieldSink>(&self, out: &mut K) -> Result<(), K::Error> {
            out.int("n", self.0)?;
            out.dec4("d", Dec4(-self.0))
        }
    }

    struct Doc(FragmentCache);

    impl Fields for Doc {
        fn fields<K: FieldSink>(&self, out: &mut K) -> Result<(), K::Error> {
            out.group(&self.0, 0, 1, &Row(7))?;
            out.group(&self.0, 1, 1, &Nothing)?;
            out.str("text", "引号\"反斜杠\\换行\n\u{1}")?;
            out.group(&self.0, 0, 1, &Row(7))?;
            out.group(&self.0, GROUPS, 0, &Row(8))?;
            out.int("min", i64::MIN)?;
            out.list("none", &[] as &[Row])?;
            out.list("rows", &[Row(0), Row(123_456_789)])?;
            out.dec4("zero", Dec4(0))
        }
    }

    struct Nothing;

    impl Fields for Nothing {
        fn fields<K: FieldSink>(&self, _out: &mut K) -> Result<(), K::Error> {
            Ok(())
        }
    }

    #[test]
    fn writes_what_serde_json_writes() {
        let doc = Doc(FragmentCache::new(2));
        let via_serde = serde_json::to_vec(&AsMap(&doc)).expect("serialises");
        // Twice: the second time, groups come from the cache.
        for _ in 0..2 {
            let mut direct = Vec::new();
            write_json(&doc, &mut direct);
            assert_eq!(
                String::from_utf8_lossy(&direct),
                String::from_utf8_lossy(&via_serde)
            );
        }
    }
}
