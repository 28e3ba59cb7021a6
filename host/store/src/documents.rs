//! How the ledger keeps documents: a record's source, and what was sent
//! for it.
//!
//! A run writes every document once and reads it back only after a crash,
//! on a retry or for `weft records show`, so what a document costs is the
//! bytes its commit writes (twice: to the log, then to the database at a
//! checkpoint), and those bound a run's rate. One scheme's documents share
//! most of their text: field names, codes, shapes. A zstd dictionary
//! trained from a scheme's first documents makes a 5.5 KB 旺店通 purchase
//! order some 570 bytes, where lz4 alone made 1,900; its 1.7 KB K3Cloud
//! bill, 190 bytes where lz4 made 590.
//!
//! A stored document is one of:
//! - text: written before documents were compressed (schema version 2);
//! - a zstd frame (it starts with zstd's magic number), whose dictionary ID
//!   is the id of its dictionary's `ledger_dicts` row;
//! - otherwise an lz4 block with its length prepended: documents written
//!   before their scheme had a dictionary. Its first four bytes are its
//!   length, which would have to be over 4 GB to read as zstd's magic.
//!
//! A scheme has one dictionary per kind of document, trained once and
//! never changed: a scheme whose documents change shape later compresses
//! them less well, never wrongly. Its row goes only with the scheme, and
//! with it every document that names it; the ids of the table are never
//! reused, so a dictionary cached by id is always the one a frame names.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use rusqlite::{OptionalExtension, params};

use crate::{StoreError, now};

/// zstd's frame magic number, as its first four bytes.
const FRAME_MAGIC: [u8; 4] = 0xFD2F_B528_u32.to_le_bytes();
/// A zstd dictionary's magic number; its dictionary ID follows.
const DICT_MAGIC: [u8; 4] = 0xEC30_A437_u32.to_le_bytes();
/// How many documents a dictionary is trained from, or fewer that add
/// up to `TRAIN_BYTES`. A hundred 旺店通 orders or K3Cloud bills train one
/// as good as five hundred do.
const TRAIN_DOCUMENTS: usize = 100;
const TRAIN_BYTES: usize = 1 << 20;
/// Fewer samples than this make a dictionary that is all noise.
const MIN_SAMPLES: usize = 16;
/// 16 KB: larger ones compressed sample orders no better, and each is
/// loaded once per scheme.
const DICT_BYTES: usize = 16 << 10;
/// With the dictionary, level 1 packs a 旺店通 order in 7 µs (lz4: 4 µs,
/// three times as large); zstd's default, 3, saves 2% more for 15% more
/// time.
const LEVEL: i32 = 1;
/// The largest document a frame may unpack to: a frame that claims more
/// is damaged, not a document.
const MAX_DOCUMENT: usize = 256 << 20;

/// Which documents of a scheme: they differ in shape, so each kind has its
/// own dictionary.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Kind {
    /// Records as the source gave them.
    Source,
    /// Documents as they were sent to the target.
    Sent,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Source => "source",
            Kind::Sent => "sent",
        }
    }
}

/// A document as a column holds it, before [`Documents::unpack`].
pub(crate) enum Stored {
    Text(String),
    Bytes(Vec<u8>),
}

impl rusqlite::types::FromSql for Stored {
    fn column_result(value: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
        use rusqlite::types::{FromSqlError, ValueRef};
        match value {
            ValueRef::Text(t) => String::from_utf8(t.to_vec())
                .map(Stored::Text)
                .map_err(|e| FromSqlError::Other(Box::new(e))),
            ValueRef::Blob(b) => Ok(Stored::Bytes(b.to_vec())),
            _ => Err(FromSqlError::InvalidType),
        }
    }
}

type SchemeKind = (String, String, Kind);

/// How a scheme's documents of one kind are packed in this process.
enum Packing {
    /// No dictionary yet: the documents seen so far, to train one from.
    Learning { samples: Vec<Vec<u8>>, bytes: usize },
    /// Training failed; lz4 for as long as this process runs.
    Plain,
    /// With the dictionary `id`.
    Trained {
        id: i64,
        compressor: zstd::bulk::Compressor<'static>,
    },
}

/// The dictionaries in use, loaded from `ledger_dicts` or trained.
#[derive(Default)]
pub(crate) struct Documents {
    packing: Mutex<HashMap<SchemeKind, Packing>>,
    unpacking: Mutex<HashMap<u32, zstd::bulk::Decompressor<'static>>>,
}

impl std::fmt::Debug for Documents {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Documents").finish_non_exhaustive()
    }
}

/// Packs the documents of one scheme and kind; holds the packing state
/// while a transaction writes them.
pub(crate) struct Packer<'a> {
    packing: MutexGuard<'a, HashMap<SchemeKind, Packing>>,
    key: SchemeKind,
}

fn damaged(what: impl std::fmt::Display) -> StoreError {
    StoreError::Damaged(format!("document: {what}"))
}

/// `dict` with its dictionary ID set to `id`: a trainer picks a random
/// one, and frames must name the row they can be read with.
fn with_id(mut dict: Vec<u8>, id: i64) -> Option<Vec<u8>> {
    let id = u32::try_from(id).ok()?;
    if dict.len() < 8 || dict[..4] != DICT_MAGIC {
        return None;
    }
    dict[4..8].copy_from_slice(&id.to_le_bytes());
    Some(dict)
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every change under these locks is a whole insert or replace.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The id of the dictionary of `scheme`'s documents of kind `kind`.
fn dictionary_of(
    db: &rusqlite::Connection,
    tenant: &str,
    scheme: &str,
    kind: Kind,
) -> Result<Option<i64>, StoreError> {
    Ok(db
        .prepare_cached(
            "SELECT id FROM ledger_dicts WHERE tenant = ?1 AND scheme = ?2 AND kind = ?3",
        )?
        .query_row(params![tenant, scheme, kind.as_str()], |r| r.get(0))
        .optional()?)
}

/// Dictionary `id`, ready for zstd.
///
/// # Errors
/// [`StoreError::Damaged`] when there is no such dictionary or it is not
/// one; database errors.
fn dictionary(db: &rusqlite::Connection, id: i64) -> Result<Vec<u8>, StoreError> {
    let dict: Vec<u8> = db
        .prepare_cached("SELECT dict FROM ledger_dicts WHERE id = ?1")?
        .query_row(params![id], |r| r.get(0))
        .optional()?
        .ok_or_else(|| damaged(format_args!("its dictionary {id} is gone")))?;
    with_id(dict, id).ok_or_else(|| damaged(format_args!("dictionary {id} is not one")))
}

impl Documents {
    /// A packer for the documents of `scheme` of kind `kind`, about to be
    /// written with `coming` among them. Call it on the writer connection
    /// outside any transaction: a dictionary trained here is committed on
    /// its own, before any document names it.
    ///
    /// # Errors
    /// Database errors.
    pub(crate) fn packer<'t>(
        &self,
        db: &rusqlite::Connection,
        tenant: &str,
        scheme: &str,
        kind: Kind,
        coming: impl IntoIterator<Item = &'t str>,
    ) -> Result<Packer<'_>, StoreError> {
        let mut packing = lock(&self.packing);
        let key = (tenant.to_owned(), scheme.to_owned(), kind);
        // The row may have gone with its scheme, or another process may
        // have trained one first: the table says which dictionary is the
        // scheme's, the cache only saves loading it.
        let stored = dictionary_of(db, tenant, scheme, kind)?;
        let current = match (packing.get(&key), stored) {
            (Some(Packing::Trained { id, .. }), Some(s)) => *id == s,
            (Some(Packing::Learning { .. } | Packing::Plain), None) => true,
            _ => false,
        };
        if !current {
            let fresh = match stored {
                Some(id) => Self::load_packing(db, id)?,
                None => Packing::Learning {
                    samples: Vec::new(),
                    bytes: 0,
                },
            };
            packing.insert(key.clone(), fresh);
        }
        if let Some(Packing::Learning { samples, bytes }) = packing.get_mut(&key) {
            for text in coming {
                if samples.len() >= TRAIN_DOCUMENTS || *bytes >= TRAIN_BYTES {
                    break;
                }
                *bytes += text.len();
                samples.push(text.as_bytes().to_vec());
            }
            if samples.len() >= TRAIN_DOCUMENTS
                || (*bytes >= TRAIN_BYTES && samples.len() >= MIN_SAMPLES)
            {
                let trained = Self::train(db, tenant, scheme, kind, samples)?;
                packing.insert(key.clone(), trained);
            }
        }
        Ok(Packer { packing, key })
    }

    fn load_packing(db: &rusqlite::Connection, id: i64) -> Result<Packing, StoreError> {
        let dict = dictionary(db, id)?;
        let compressor = zstd::bulk::Compressor::with_dictionary(LEVEL, &dict)
            .map_err(|e| damaged(format_args!("dictionary {id}: {e}")))?;
        Ok(Packing::Trained { id, compressor })
    }

    /// Trains the scheme's dictionary from `samples` and stores it, unless
    /// another process stored one first: then that one is used.
    fn train(
        db: &rusqlite::Connection,
        tenant: &str,
        scheme: &str,
        kind: Kind,
        samples: &[Vec<u8>],
    ) -> Result<Packing, StoreError> {
        let dict = match zstd::dict::from_samples(samples, DICT_BYTES) {
            Ok(d) if d.starts_with(&DICT_MAGIC) => d,
            outcome => {
                // Too few or too alike documents; lz4 does without.
                tracing::debug!(
                    tenant,
                    scheme,
                    kind = kind.as_str(),
                    ?outcome,
                    "no dictionary"
                );
                return Ok(Packing::Plain);
            }
        };
        db.prepare_cached(
            "INSERT INTO ledger_dicts (tenant, scheme, kind, dict, created_at) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (tenant, scheme, kind) DO NOTHING",
        )?
        .execute(params![tenant, scheme, kind.as_str(), dict, now()])?;
        // The scheme was there when the page was read; if it has gone
        // since, the insert failed on its foreign key.
        let id = dictionary_of(db, tenant, scheme, kind)?.ok_or_else(|| {
            StoreError::NotFound(format!("scheme '{scheme}' of tenant '{tenant}'"))
        })?;
        tracing::debug!(
            tenant,
            scheme,
            kind = kind.as_str(),
            id,
            "trained a dictionary"
        );
        Self::load_packing(db, id)
    }

    /// A stored document as text.
    ///
    /// # Errors
    /// [`StoreError::Damaged`] when it cannot be unpacked; database errors
    /// loading its dictionary.
    pub(crate) fn unpack(
        &self,
        db: &rusqlite::Connection,
        stored: Stored,
    ) -> Result<String, StoreError> {
        let bytes = match stored {
            Stored::Text(text) => return Ok(text),
            Stored::Bytes(b) if b.starts_with(&FRAME_MAGIC) => self.unpack_frame(db, &b)?,
            Stored::Bytes(b) => {
                // lz4 allocates what the block claims before reading it.
                let claimed = b.first_chunk::<4>().map_or(0, |n| {
                    usize::try_from(u32::from_le_bytes(*n)).unwrap_or(usize::MAX)
                });
                if claimed > MAX_DOCUMENT {
                    return Err(damaged(format_args!("it claims {claimed} bytes")));
                }
                lz4_flex::decompress_size_prepended(&b).map_err(damaged)?
            }
        };
        String::from_utf8(bytes).map_err(damaged)
    }

    fn unpack_frame(&self, db: &rusqlite::Connection, frame: &[u8]) -> Result<Vec<u8>, StoreError> {
        let Some(id) = zstd::zstd_safe::get_dict_id_from_frame(frame).map(u32::from) else {
            return zstd::bulk::decompress(frame, MAX_DOCUMENT).map_err(damaged);
        };
        let mut unpacking = lock(&self.unpacking);
        let decompressor = match unpacking.entry(id) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => {
                let dict = dictionary(db, i64::from(id))?;
                e.insert(
                    zstd::bulk::Decompressor::with_dictionary(&dict)
                        .map_err(|e| damaged(format_args!("dictionary {id}: {e}")))?,
                )
            }
        };
        decompressor
            .decompress(frame, MAX_DOCUMENT)
            .map_err(damaged)
    }
}

impl Packer<'_> {
    /// `text` as the ledger stores it.
    ///
    /// # Errors
    /// [`StoreError::Internal`] if zstd fails (it does not on any input
    /// it was given memory for).
    pub(crate) fn pack(&mut self, text: &str) -> Result<Vec<u8>, StoreError> {
        match self.packing.get_mut(&self.key) {
            Some(Packing::Trained { compressor, .. }) => compressor
                .compress(text.as_bytes())
                .map_err(|e| StoreError::Internal(format!("compressing a document: {e}"))),
            _ => Ok(lz4_flex::compress_prepend_size(text.as_bytes())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{OnChange, Outcome, Position, Pulled, SecretKey, SqliteStore};

    fn open(path: &std::path::Path) -> SqliteStore {
        SqliteStore::open_with_key(path, SecretKey::from_bytes([7; 32]))
            .unwrap_or_else(|e| panic!("open: {e}"))
    }

    /// An order as a source gives it: the same fields, different values.
    fn order(n: usize) -> String {
        let lines: Vec<serde_json::Value> = (0..5)
            .map(|l| {
                serde_json::json!({
                    "spec_no": format!("SKU{:05}", (n * 7 + l * 13) % 997),
                    "num": (n * 31 + l) % 200,
                    "price": format!("{}.{:02}", 10 + (n * 17 + l) % 900, (n + l) % 100),
                    "remark": if (n + l).is_multiple_of(3) { "加急" } else { "" },
                })
            })
            .collect();
        serde_json::json!({
            "purchase_no": format!("CG{n:08}"),
            "provider_no": format!("GYS{:04}", n % 61),
            "created": format!("2026-11-{:02} {:02}:{:02}:00", 1 + n % 28, n % 24, n % 60),
            "warehouse_no": format!("WH{:02}", n % 5),
            "details_list": lines,
        })
        .to_string()
    }

    fn page(from: usize, to: usize) -> Vec<Pulled> {
        (from..to)
            .map(|n| {
                let source = order(n);
                Pulled {
                    key: format!("CG{n:08}"),
                    hash: format!("h{n}"),
                    source,
                    rejected: None,
                }
            })
            .collect()
    }

    fn commit(store: &SqliteStore, records: &[Pulled]) {
        store
            .commit_page("t", "s", OnChange::Resend, records, &Position::default())
            .unwrap_or_else(|e| panic!("commit: {e}"));
    }

    fn stored(store: &SqliteStore, sql: &str, id: i64) -> Vec<u8> {
        store
            .db()
            .query_row(sql, [id], |r| r.get(0))
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    fn ids(store: &SqliteStore) -> Vec<i64> {
        let db = store.db();
        let mut stmt = db
            .prepare("SELECT id FROM ledger ORDER BY id")
            .unwrap_or_else(|e| panic!("{e}"));
        stmt.query_map([], |r| r.get(0))
            .and_then(Iterator::collect)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    fn dictionaries(store: &SqliteStore) -> Vec<(i64, String)> {
        let db = store.db();
        let mut stmt = db
            .prepare("SELECT id, kind FROM ledger_dicts ORDER BY id")
            .unwrap_or_else(|e| panic!("{e}"));
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .and_then(Iterator::collect)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    fn frame_dictionary(bytes: &[u8]) -> Option<u32> {
        assert!(bytes.starts_with(&FRAME_MAGIC), "not a zstd frame");
        zstd::zstd_safe::get_dict_id_from_frame(bytes).map(u32::from)
    }

    #[test]
    fn a_scheme_documents_are_packed_with_its_dictionary_once_it_has_one() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("weft.db");
        let store = open(&path);
        store.add_tenant("t", "T").unwrap_or_else(|e| panic!("{e}"));
        store
            .apply_scheme("t", "s", "s.yaml", "name: s")
            .unwrap_or_else(|e| panic!("{e}"));
        let source = "SELECT source FROM ledger_source WHERE id = ?1";

        // Too few documents to train from: lz4, and no dictionary.
        commit(&store, &page(0, 60));
        assert!(dictionaries(&store).is_empty());
        let first = ids(&store);
        assert!(!stored(&store, source, first[0]).starts_with(&FRAME_MAGIC));

        // The next page brings the samples to a hundred: the dictionary is
        // trained and committed, and this page is already packed with it.
        commit(&store, &page(60, 120));
        let dicts = dictionaries(&store);
        assert_eq!(dicts.len(), 1, "{dicts:?}");
        let (dict, kind) = dicts[0].clone();
        assert_eq!(kind, "source");
        let all = ids(&store);
        let later = stored(&store, source, all[70]);
        assert_eq!(frame_dictionary(&later), u32::try_from(dict).ok());
        let plain = order(70).len();
        assert!(
            later.len() * 3 < plain,
            "{} bytes packed of {plain}",
            later.len()
        );

        // Every document reads back as written, whichever way it was packed.
        let sources = store.sources(&all).unwrap_or_else(|e| panic!("{e}"));
        for (n, id) in all.iter().enumerate() {
            assert_eq!(sources.get(id), Some(&order(n)), "record {id}");
        }

        // What was sent gets its own dictionary, and reads back too.
        let outcomes: Vec<Outcome> = all
            .iter()
            .enumerate()
            .map(|(n, &id)| Outcome::Done {
                id,
                mapped:
                    serde_json::json!({"FBillNo": format!("CG{n:08}"), "FEntity": [{"FQty": n}]})
                        .to_string(),
                target_id: Some(n.to_string()),
                target_number: None,
                reply: "{}".into(),
            })
            .collect();
        store
            .record_outcomes("t", "s", &outcomes)
            .unwrap_or_else(|e| panic!("{e}"));
        let kinds: Vec<String> = dictionaries(&store).into_iter().map(|(_, k)| k).collect();
        assert_eq!(kinds, ["source", "sent"]);
        let shown = store
            .record("t", all[119])
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            shown.mapped,
            Some(serde_json::json!({"FBillNo": "CG00000119", "FEntity": [{"FQty": 119}]}))
        );
        assert_eq!(shown.source.to_string(), order(119));
        drop(store);

        // Another process finds the dictionary in the database and packs
        // with it; it trains no second one.
        let store = open(&path);
        commit(&store, &page(120, 130));
        assert_eq!(dictionaries(&store).len(), 2);
        let all = ids(&store);
        let newest = stored(&store, source, all[125]);
        assert_eq!(frame_dictionary(&newest), u32::try_from(dict).ok());
        let sources = store.sources(&all).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(sources.len(), 130);
        assert_eq!(sources.get(&all[125]), Some(&order(125)));
    }

    #[test]
    fn a_scheme_removed_and_applied_again_gets_a_dictionary_of_its_own() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let store = open(&dir.path().join("weft.db"));
        store.add_tenant("t", "T").unwrap_or_else(|e| panic!("{e}"));
        let apply = || {
            store
                .apply_scheme("t", "s", "s.yaml", "name: s")
                .unwrap_or_else(|e| panic!("{e}"))
        };
        apply();
        commit(&store, &page(0, 100));
        let before = dictionaries(&store);
        assert_eq!(before.len(), 1);

        // The dictionary goes with the scheme; this process still has it
        // loaded, and must not pack the new scheme's documents with it.
        store
            .remove_scheme("t", "s")
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(dictionaries(&store).is_empty());
        apply();
        commit(&store, &page(200, 250));
        commit(&store, &page(250, 300));
        let after = dictionaries(&store);
        assert_eq!(after.len(), 1);
        assert!(after[0].0 > before[0].0, "ids are not reused: {after:?}");
        let all = ids(&store);
        let sources = store.sources(&all).unwrap_or_else(|e| panic!("{e}"));
        for (n, id) in (200..300).zip(&all) {
            assert_eq!(sources.get(id), Some(&order(n)), "record {id}");
        }
        let last = stored(
            &store,
            "SELECT source FROM ledger_source WHERE id = ?1",
            all[99],
        );
        assert_eq!(frame_dictionary(&last), u32::try_from(after[0].0).ok());
    }

    #[test]
    fn a_damaged_document_is_an_error_that_says_so() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let store = open(&dir.path().join("weft.db"));
        store.add_tenant("t", "T").unwrap_or_else(|e| panic!("{e}"));
        store
            .apply_scheme("t", "s", "s.yaml", "name: s")
            .unwrap_or_else(|e| panic!("{e}"));
        commit(&store, &page(0, 120));
        let all = ids(&store);
        let frame = stored(
            &store,
            "SELECT source FROM ledger_source WHERE id = ?1",
            all[110],
        );
        let damage = |id: i64, bytes: &[u8]| {
            store
                .db()
                .execute(
                    "UPDATE ledger_source SET source = ?2 WHERE id = ?1",
                    rusqlite::params![id, bytes],
                )
                .unwrap_or_else(|e| panic!("{e}"));
        };
        // A frame cut short, an lz4 block claiming more than it holds, and
        // one claiming more than any document is.
        damage(all[110], &frame[..frame.len() / 2]);
        damage(all[10], &[0xe8, 0x03, 0, 0, 1, 2, 3]);
        damage(all[11], &[0xff, 0xff, 0xff, 0x7f, 1, 2, 3]);
        let expect_damaged = |store: &SqliteStore, id: i64, says: &str| {
            match store.sources(&[id]) {
                Err(StoreError::Damaged(m)) => assert!(m.contains(says), "{m}"),
                other => panic!("record {id}: {other:?}"),
            }
            match store.record("t", id) {
                Err(StoreError::Damaged(m)) => assert!(m.contains(says), "{m}"),
                other => panic!("record {id}: {other:?}"),
            }
        };
        expect_damaged(&store, all[110], "document: ");
        expect_damaged(&store, all[10], "document: ");
        expect_damaged(&store, all[11], "claims 2147483647 bytes");
        // The others still read.
        let sources = store.sources(&all[..10]).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(sources.len(), 10);
        assert_eq!(sources.get(&all[9]), Some(&order(9)));

        // A frame whose dictionary is not in the database.
        let dict: i64 = store
            .db()
            .query_row("DELETE FROM ledger_dicts RETURNING id", [], |r| r.get(0))
            .unwrap_or_else(|e| panic!("{e}"));
        drop(store);
        let store = open(&dir.path().join("weft.db"));
        expect_damaged(&store, all[111], &format!("dictionary {dict} is gone"));
    }
}
