//! A document store kept in `modified` order, so that a time window is two
//! binary searches and a page is a slice: no per-request scan of the
//! dataset.

use std::collections::HashMap;

/// A source document: a unique key and a last-modified time.
pub(crate) trait Document {
    fn key(&self) -> &str;
    fn modified(&self) -> i64;
    /// Secondary lookup keys (e.g. `o:123` for a 聚水潭 `o_id`).
    fn alt_keys(&self) -> Vec<String> {
        Vec::new()
    }
}

/// Position of a document in `modified` order: `(modified, slot)`.
pub(crate) type Position = (i64, u32);

#[derive(Debug)]
pub(crate) struct DocStore<D> {
    docs: Vec<D>,
    order: Vec<Position>,
    by_key: HashMap<String, u32>,
    by_alt: HashMap<String, u32>,
}

impl<D: Document> DocStore<D> {
    pub fn new(docs: Vec<D>) -> DocStore<D> {
        let mut store = DocStore {
            order: Vec::with_capacity(docs.len()),
            by_key: HashMap::with_capacity(docs.len()),
            by_alt: HashMap::new(),
            docs: Vec::new(),
        };
        for (slot, doc) in docs.iter().enumerate() {
            store.order.push((doc.modified(), slot as u32));
            store.by_key.insert(doc.key().to_string(), slot as u32);
            for alt in doc.alt_keys() {
                store.by_alt.insert(alt, slot as u32);
            }
        }
        store.order.sort_unstable();
        store.docs = docs;
        store
    }

    pub fn len(&self) -> usize {
        self.docs.len()
    }

    pub fn slot_of(&self, key: &str) -> Option<u32> {
        self.by_key.get(key).copied()
    }

    pub fn get(&self, key: &str) -> Option<&D> {
        self.slot_of(key).map(|s| &self.docs[s as usize])
    }

    pub fn get_alt(&self, alt: &str) -> Option<&D> {
        self.by_alt.get(alt).map(|s| &self.docs[*s as usize])
    }

    pub fn doc(&self, slot: u32) -> &D {
        &self.docs[slot as usize]
    }

    /// All positions in `modified` order.
    pub fn ordered(&self) -> &[Position] {
        &self.order
    }

    /// Positions with `start <= modified <= end` (a closed interval, as the
    /// sources define their windows).
    pub fn window(&self, start: i64, end: i64) -> &[Position] {
        let lo = self.order.partition_point(|p| p.0 < start);
        let hi = self.order.partition_point(|p| p.0 <= end);
        if lo >= hi { &[] } else { &self.order[lo..hi] }
    }

    /// Positions after `cursor` up to `end` inclusive: keyset paging for
    /// scroll cursors, stable when documents change during a scroll.
    pub fn after(&self, cursor: Position, end: i64) -> &[Position] {
        let lo = self.order.partition_point(|p| *p <= cursor);
        let hi = self.order.partition_point(|p| p.0 <= end);
        if lo >= hi { &[] } else { &self.order[lo..hi] }
    }

    /// One page of `positions`: the documents at `offset..offset+limit` and
    /// the total. Without a filter this is a slice; a filter costs a pass
    /// over the window (only requests with extra conditions pay it).
    pub fn page<'a>(
        &'a self,
        positions: &'a [Position],
        filter: Option<&dyn Fn(&D) -> bool>,
        offset: usize,
        limit: usize,
    ) -> (Vec<&'a D>, usize) {
        match filter {
            None => {
                let start = offset.min(positions.len());
                let end = offset.saturating_add(limit).min(positions.len());
                let items = positions[start..end]
                    .iter()
                    .map(|p| self.doc(p.1))
                    .collect();
                (items, positions.len())
            }
            Some(keep) => {
                let mut total = 0;
                let mut items = Vec::new();
                for p in positions {
                    let doc = self.doc(p.1);
                    if keep(doc) {
                        if total >= offset && items.len() < limit {
                            items.push(doc);
                        }
                        total += 1;
                    }
                }
                (items, total)
            }
        }
    }

    pub fn insert(&mut self, doc: D) -> Result<u32, D> {
        if self.by_key.contains_key(doc.key()) {
            return Err(doc);
        }
        let slot = self.docs.len() as u32;
        let pos = (doc.modified(), slot);
        let at = self.order.partition_point(|p| *p < pos);
        self.order.insert(at, pos);
        self.by_key.insert(doc.key().to_string(), slot);
        for alt in doc.alt_keys() {
            self.by_alt.insert(alt, slot);
        }
        self.docs.push(doc);
        Ok(slot)
    }

    /// Changes a document in place and moves it to its new place in
    /// `modified` order. The key must not change.
    pub fn update(&mut self, slot: u32, change: impl FnOnce(&mut D)) {
        let old = (self.docs[slot as usize].modified(), slot);
        if let Ok(at) = self.order.binary_search(&old) {
            self.order.remove(at);
        }
        let doc = &mut self.docs[slot as usize];
        change(doc);
        let new = (doc.modified(), slot);
        let at = self.order.partition_point(|p| *p < new);
        self.order.insert(at, new);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct D(String, i64);
    impl Document for D {
        fn key(&self) -> &str {
            &self.0
        }
        fn modified(&self) -> i64 {
            self.1
        }
    }

    #[test]
    fn windows_pages_and_updates() {
        let mut s = DocStore::new((0..10).map(|i| D(format!("k{i}"), 100 - i * 10)).collect());
        assert_eq!(s.window(20, 40).len(), 3);
        assert_eq!(s.window(41, 49).len(), 0);
        assert_eq!(s.doc(s.window(10, 10)[0].1).0, "k9");
        let slot = s.slot_of("k9").expect("present");
        s.update(slot, |d| d.1 = 1000);
        assert_eq!(s.ordered().last().map(|p| p.1), Some(slot));
        assert_eq!(s.window(10, 10).len(), 0);
        assert!(s.insert(D("k1".into(), 5)).is_err());
        assert!(s.insert(D("new".into(), 5)).is_ok());
        assert_eq!(s.doc(s.ordered()[0].1).0, "new");
        let first = s.ordered()[0];
        assert_eq!(s.after(first, 1000).len(), 10);
    }
}
