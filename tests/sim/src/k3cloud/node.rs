//! Request bodies read into a JSON tree that borrows its strings from the
//! body. A BatchSave of fifty purchase orders is some 80 KB of JSON, and
//! building a `serde_json::Value` of it (a `String` per key and value, a
//! B-tree per object) cost more than everything else the simulator does
//! with it. serde_json still does all the parsing; this is only a cheaper
//! place to put what it reads: every object's members in one vector and
//! every array's items in another, rather than an allocation per object.
//!
//! Objects behave exactly like `serde_json::Map` (a `BTreeMap` here: the
//! `preserve_order` feature is off): members in key order, and a repeated
//! key keeps its last value. Lookups, error texts and the stored models
//! therefore come out as they did when the body was a `Value`.

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;

use serde::de::{Deserialize, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::{Map, Number, Value};

/// A parsed body.
#[derive(Debug)]
pub(crate) struct Doc<'a> {
    root: Node<'a>,
    members: Vec<Member<'a>>,
    items: Vec<Node<'a>>,
}

type Member<'a> = (Cow<'a, str>, Node<'a>);

#[derive(Debug)]
enum Node<'a> {
    Null,
    Bool(bool),
    Number(Number),
    String(Cow<'a, str>),
    /// `Doc::items[start..end]`.
    Array(Span),
    /// `Doc::members[start..end]`, sorted by key, one per key.
    Object(Span),
}

#[derive(Clone, Copy, Debug)]
struct Span {
    start: u32,
    end: u32,
}

impl Span {
    fn range(self) -> Range<usize> {
        self.start as usize..self.end as usize
    }
}

static NULL: Node<'static> = Node::Null;

/// A value of a [`Doc`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct Val<'d, 'a> {
    doc: &'d Doc<'a>,
    node: &'d Node<'a>,
}

/// An object of a [`Doc`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct Obj<'d, 'a> {
    doc: &'d Doc<'a>,
    members: &'d [Member<'a>],
}

/// An array of a [`Doc`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct Arr<'d, 'a> {
    doc: &'d Doc<'a>,
    items: &'d [Node<'a>],
}

/// What a value is, to match on.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Shape<'d, 'a> {
    Null,
    Bool(bool),
    Number(&'d Number),
    String(&'d str),
    Array(Arr<'d, 'a>),
    Object(Obj<'d, 'a>),
}

/// Parses a body. The error is the text `serde_json` gives when parsing
/// the same bytes into a `Value`, which is what clients have always been
/// shown.
pub(crate) fn parse(bytes: &[u8]) -> Result<Doc<'_>, String> {
    // Checking UTF-8 once up front lets serde_json skip it string by string.
    let parsed = match std::str::from_utf8(bytes) {
        Ok(text) => read(serde_json::Deserializer::from_str(text), bytes.len()),
        Err(_) => read(serde_json::Deserializer::from_slice(bytes), bytes.len()),
    };
    parsed.map_err(|e| match serde_json::from_slice::<Value>(bytes) {
        Err(as_value) => as_value.to_string(),
        Ok(_) => e.to_string(),
    })
}

/// What `serde_json::from_str` does, with a seed in place of `Deserialize`.
fn read<'a, R: serde_json::de::Read<'a>>(
    mut de: serde_json::Deserializer<R>,
    len: usize,
) -> serde_json::Result<Doc<'a>> {
    // Model JSON runs at some 18 bytes a member; reserving for that saves
    // growing the vectors step by step.
    let mut builder = Builder {
        members: Vec::with_capacity(len / 16),
        items: Vec::with_capacity(len / 200),
        open_members: Vec::new(),
        open_items: Vec::new(),
    };
    let root = Seed(&mut builder).deserialize(&mut de)?;
    de.end()?;
    Ok(Doc {
        root,
        members: builder.members,
        items: builder.items,
    })
}

impl<'a> Doc<'a> {
    /// `{}`, what an empty body reads as.
    pub fn empty_object() -> Doc<'a> {
        Doc {
            root: Node::Object(Span { start: 0, end: 0 }),
            members: Vec::new(),
            items: Vec::new(),
        }
    }

    pub fn root(&self) -> Val<'_, 'a> {
        self.val(&self.root)
    }

    /// A null, for a value that is absent.
    pub fn null(&self) -> Val<'_, 'a> {
        self.val(&NULL)
    }

    fn val<'d>(&'d self, node: &'d Node<'a>) -> Val<'d, 'a> {
        Val { doc: self, node }
    }
}

impl<'d, 'a> Val<'d, 'a> {
    pub fn shape(self) -> Shape<'d, 'a> {
        match self.node {
            Node::Null => Shape::Null,
            Node::Bool(b) => Shape::Bool(*b),
            Node::Number(n) => Shape::Number(n),
            Node::String(s) => Shape::String(s),
            Node::Array(span) => Shape::Array(Arr {
                doc: self.doc,
                items: &self.doc.items[span.range()],
            }),
            Node::Object(span) => Shape::Object(Obj {
                doc: self.doc,
                members: &self.doc.members[span.range()],
            }),
        }
    }

    pub fn as_object(self) -> Option<Obj<'d, 'a>> {
        match self.shape() {
            Shape::Object(o) => Some(o),
            _ => None,
        }
    }

    pub fn as_str(self) -> Option<&'d str> {
        match self.node {
            Node::String(s) => Some(s),
            _ => None,
        }
    }

    /// The same JSON as an owned `Value`.
    pub fn to_value(self) -> Value {
        match self.shape() {
            Shape::Null => Value::Null,
            Shape::Bool(b) => Value::Bool(b),
            Shape::Number(n) => Value::Number(n.clone()),
            Shape::String(s) => Value::String(s.to_string()),
            Shape::Array(a) => Value::Array(a.iter().map(Val::to_value).collect()),
            Shape::Object(o) => Value::Object(o.to_map()),
        }
    }

    /// Compact JSON, as `Value`'s `to_string` writes it.
    pub fn to_json(self) -> String {
        serde_json::to_string(&self).unwrap_or_default()
    }
}

impl<'d, 'a> Obj<'d, 'a> {
    fn position(self, key: &str) -> Option<usize> {
        // Keys are unique, so any exact match is the one a search would
        // find; in the small objects of a model, comparing lengths first
        // beats the string comparisons of a binary search.
        let exact = if self.members.len() <= 16 {
            self.members.iter().position(|(k, _)| k.as_ref() == key)
        } else {
            self.members
                .binary_search_by(|(k, _)| k.as_ref().cmp(key))
                .ok()
        };
        exact.or_else(|| {
            self.members
                .iter()
                .position(|(k, _)| k.eq_ignore_ascii_case(key))
        })
    }

    /// The member named `key`, or else the first whose name matches it
    /// case-insensitively: `save::member` on a `Map`.
    pub fn member(self, key: &str) -> Option<Val<'d, 'a>> {
        self.position(key).map(|i| self.doc.val(&self.members[i].1))
    }

    /// Where [`Obj::member`] finds `key`, for [`Obj::at`].
    pub fn slot(self, key: &str) -> Option<usize> {
        self.position(key)
    }

    pub fn at(self, slot: usize) -> Option<Val<'d, 'a>> {
        self.members.get(slot).map(|(_, v)| self.doc.val(v))
    }

    /// Whether the member names are `names`, in order.
    pub fn has_names(self, names: &[&str]) -> bool {
        self.members.len() == names.len()
            && self
                .members
                .iter()
                .zip(names)
                .all(|((k, _), name)| k.as_ref() == *name)
    }

    pub fn names(self) -> impl Iterator<Item = &'d str> {
        self.members.iter().map(|(k, _)| k.as_ref())
    }

    /// The first member whose name matches case-insensitively, in key
    /// order: a `Map` iterated with `find`.
    pub fn find_ignore_case(self, key: &str) -> Option<Val<'d, 'a>> {
        self.members
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| self.doc.val(v))
    }

    pub fn iter(self) -> impl Iterator<Item = (&'d str, Val<'d, 'a>)> {
        let doc = self.doc;
        self.members
            .iter()
            .map(move |(k, v)| (k.as_ref(), doc.val(v)))
    }

    pub fn to_map(self) -> Map<String, Value> {
        self.iter()
            .map(|(k, v)| (k.to_string(), v.to_value()))
            .collect()
    }
}

impl<'d, 'a> Arr<'d, 'a> {
    pub fn iter(self) -> impl Iterator<Item = Val<'d, 'a>> {
        let doc = self.doc;
        self.items.iter().map(move |v| doc.val(v))
    }

    pub fn len(self) -> usize {
        self.items.len()
    }

    pub fn is_empty(self) -> bool {
        self.items.is_empty()
    }

    pub fn get(self, i: usize) -> Option<Val<'d, 'a>> {
        self.items.get(i).map(|v| self.doc.val(v))
    }
}

/// A member name, borrowed unless it had escapes.
struct Key<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string key")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_string())))
            }
            fn visit_string<E>(self, v: String) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v)))
            }
        }
        d.deserialize_str(KeyVisitor)
    }
}

/// The finished objects and arrays, and the members and items of those
/// still open, which move over when their closing bracket is read.
struct Builder<'a> {
    members: Vec<Member<'a>>,
    items: Vec<Node<'a>>,
    open_members: Vec<Member<'a>>,
    open_items: Vec<Node<'a>>,
}

/// Past 4 GiB of body; the body limit stops such a request well before.
fn span_error<E: serde::de::Error>() -> E {
    E::custom("JSON too large")
}

fn span<E: serde::de::Error>(start: usize, end: usize) -> Result<Span, E> {
    Ok(Span {
        start: u32::try_from(start).map_err(|_| span_error())?,
        end: u32::try_from(end).map_err(|_| span_error())?,
    })
}

/// Reads one value; mirrors `Value`'s visitor, so every JSON text reads
/// the same way.
struct Seed<'b, 'a>(&'b mut Builder<'a>);

impl<'de> DeserializeSeed<'de> for Seed<'_, 'de> {
    type Value = Node<'de>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Node<'de>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Seed<'_, 'de> {
    type Value = Node<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any valid JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Node<'de>, E> {
        Ok(Node::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Node<'de>, E> {
        Ok(Node::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Node<'de>, E> {
        Ok(Node::Number(v.into()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Node<'de>, E> {
        Ok(Number::from_f64(v).map_or(Node::Null, Node::Number))
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Node<'de>, E> {
        Ok(Node::String(Cow::Borrowed(v)))
    }

    fn visit_str<E>(self, v: &str) -> Result<Node<'de>, E> {
        Ok(Node::String(Cow::Owned(v.to_string())))
    }

    fn visit_string<E>(self, v: String) -> Result<Node<'de>, E> {
        Ok(Node::String(Cow::Owned(v)))
    }

    fn visit_none<E>(self) -> Result<Node<'de>, E> {
        Ok(Node::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Node<'de>, D::Error> {
        self.deserialize(d)
    }

    fn visit_unit<E>(self) -> Result<Node<'de>, E> {
        Ok(Node::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node<'de>, A::Error> {
        let b = self.0;
        let base = b.open_items.len();
        while let Some(item) = seq.next_element_seed(Seed(&mut *b))? {
            b.open_items.push(item);
        }
        let start = b.items.len();
        b.items.extend(b.open_items.drain(base..));
        Ok(Node::Array(span(start, b.items.len())?))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node<'de>, A::Error> {
        let b = self.0;
        let base = b.open_members.len();
        while let Some(Key(key)) = map.next_key()? {
            let value = map.next_value_seed(Seed(&mut *b))?;
            b.open_members.push((key, value));
        }
        let open = &mut b.open_members[base..];
        let start = b.members.len();
        // Serializers that write maps in key order (serde_json's own, for
        // one) send members sorted and unique, which needs no more work.
        if open.windows(2).all(|pair| pair[0].0 < pair[1].0) {
            b.members.extend(b.open_members.drain(base..));
        } else {
            // A stable sort keeps repeated keys in arrival order; of each
            // run the last value is kept, as a map's insert leaves it.
            open.sort_by(|x, y| x.0.cmp(&y.0));
            for member in b.open_members.drain(base..) {
                match b.members[start..].last_mut() {
                    Some(last) if last.0 == member.0 => *last = member,
                    _ => b.members.push(member),
                }
            }
        }
        Ok(Node::Object(span(start, b.members.len())?))
    }
}

impl Serialize for Val<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.shape() {
            Shape::Null => s.serialize_unit(),
            Shape::Bool(b) => s.serialize_bool(b),
            Shape::Number(n) => n.serialize(s),
            Shape::String(t) => s.serialize_str(t),
            Shape::Array(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for item in items.iter() {
                    seq.serialize_element(&item)?;
                }
                seq.end()
            }
            Shape::Object(o) => {
                let mut map = s.serialize_map(Some(o.members.len()))?;
                for (k, v) in o.iter() {
                    map.serialize_entry(k, &v)?;
                }
                map.end()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::k3cloud::save::member;

    const TRICKY: &str = r#"{"b":1,"A":[1,-2,3.5,1e3,18446744073709551615,-9223372036854775808,[],{}],
        "a":{"x":"\u4e2d\"q\"","y":null,"x":true,"x":[{"z":1,"z":2}]},"FNumber":"1","FNUMBER":"2",
        "fnumber":"3","b":"last","esc\u0041pe":{},"Model":[{"FQty":0.1},{"FQty":"2"}],
        "n":12345678901234567890123}"#;

    #[test]
    fn reads_like_a_value() {
        let value: Value = serde_json::from_str(TRICKY).expect("value");
        let doc = parse(TRICKY.as_bytes()).expect("doc");
        assert_eq!(doc.root().to_value(), value);
        assert_eq!(doc.root().to_json(), value.to_string());
        let (Some(obj), Some(map)) = (doc.root().as_object(), value.as_object()) else {
            panic!("objects");
        };
        for key in [
            "b", "B", "a", "fNumber", "FNumber", "FNUMBER", "escape", "model", "zz",
        ] {
            assert_eq!(
                obj.member(key).map(Val::to_value).as_ref(),
                member(map, key),
                "{key}"
            );
            assert_eq!(
                obj.find_ignore_case(key).map(Val::to_value).as_ref(),
                map.iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(key))
                    .map(|(_, v)| v),
                "{key}"
            );
        }
    }

    #[test]
    fn errors_read_like_a_value_s() {
        for bad in [
            &b"{\"a\":"[..],
            b"{\"a\" 1}",
            b"[1,2",
            b"{\"a\":\"\xff\"}",
            b"\xff",
            b"{} x",
            b"{\"a\":1e400}",
        ] {
            let expected = serde_json::from_slice::<Value>(bad)
                .err()
                .map(|e| e.to_string());
            assert_eq!(parse(bad).err(), expected);
        }
    }
}
