//! The ledger: one row per business key per scheme, the record of what was
//! pulled and what became of it. It is both the dedupe index and the queue
//! between pulling and pushing, and its failed rows are the exception
//! queue.
//!
//! Statuses: `queued` (to be written), `done` (written, target id kept),
//! `failed` (rejected or given up; waits for a user's retry).

use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use crate::documents::{Kind, Packer, Stored};
use crate::position::{Position, write_position};
use crate::{SqliteStore, StoreError, now};

/// What the pull saw of one record.
#[derive(Debug, Clone)]
pub struct Pulled {
    /// Its business key.
    pub key: String,
    /// A hash of its content.
    pub hash: String,
    /// The record as JSON.
    pub source: String,
    /// Why the record cannot be queued (e.g. its key cannot be computed):
    /// it goes straight to the exception queue with this message.
    pub rejected: Option<String>,
}

/// What to do with a record whose content changed since it was pulled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnChange {
    /// Queue it again: the target gets the new version.
    Resend,
    /// Keep what was delivered; note the change.
    Skip,
}

/// Counts of one committed page.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct PageCounts {
    /// Keys never seen before.
    pub new: u64,
    /// Same key, same content.
    pub duplicate: u64,
    /// Same key, new content, queued again.
    pub changed: u64,
    /// Same key, new content, not sent (scheme says skip).
    pub changed_skipped: u64,
    /// Records that went straight to the exception queue: their key could
    /// not be computed, or a transform refused them.
    pub refused: u64,
}

/// A record waiting to be written.
#[derive(Debug, Clone)]
pub struct Queued {
    /// Ledger id.
    pub id: i64,
    /// Business key.
    pub key: String,
    /// The record as JSON; `None` when the caller said it holds it
    /// already (see [`SqliteStore::queued_unless_held`]).
    pub source: Option<String>,
    /// Attempts so far.
    pub attempts: i64,
}

/// What became of one queued record.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// Written (or found written).
    Done {
        /// Ledger id.
        id: i64,
        /// What was sent.
        mapped: String,
        /// Target id.
        target_id: Option<String>,
        /// Target document number.
        target_number: Option<String>,
        /// The target's answer, as JSON.
        reply: String,
    },
    /// Rejected or given up: into the exception queue.
    Failed {
        /// Ledger id.
        id: i64,
        /// What was (or would have been) sent.
        mapped: Option<String>,
        /// The error class.
        class: String,
        /// The message.
        message: String,
    },
    /// A passing failure: stays queued until `retry_at_ms`.
    Retry {
        /// Ledger id.
        id: i64,
        /// The error class.
        class: String,
        /// The message.
        message: String,
        /// Unix milliseconds.
        retry_at_ms: i64,
    },
}

/// A ledger row as users see it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecordView {
    /// Ledger id.
    pub id: i64,
    /// The scheme.
    pub scheme: String,
    /// Business key.
    pub key: String,
    /// queued, done or failed.
    pub status: String,
    /// Attempts so far.
    pub attempts: i64,
    /// Versions of the content seen.
    pub versions: i64,
    /// Error class of the last failure.
    pub error_class: Option<String>,
    /// Its message.
    pub error: Option<String>,
    /// Target id.
    pub target_id: Option<String>,
    /// Target document number.
    pub target_number: Option<String>,
    /// The record as pulled.
    pub source: serde_json::Value,
    /// What was sent.
    pub mapped: Option<serde_json::Value>,
    /// The target's answer.
    pub reply: Option<serde_json::Value>,
    /// First pulled.
    pub first_seen: String,
    /// Last changed.
    pub updated_at: String,
}

fn json(text: Option<String>) -> Option<serde_json::Value> {
    text.map(|t| serde_json::from_str(&t).unwrap_or(serde_json::Value::String(t)))
}

/// A row of [`VIEW`] and its documents, still packed (see
/// [`SqliteStore::unpacked`]).
fn view(r: &rusqlite::Row<'_>) -> rusqlite::Result<(RecordView, Stored, Option<Stored>)> {
    let row = RecordView {
        id: r.get(0)?,
        scheme: r.get(1)?,
        key: r.get(2)?,
        status: r.get(3)?,
        attempts: r.get(4)?,
        versions: r.get(5)?,
        error_class: r.get(6)?,
        error: r.get(7)?,
        target_id: r.get(8)?,
        target_number: r.get(9)?,
        source: serde_json::Value::Null,
        mapped: None,
        reply: json(r.get(12)?),
        first_seen: r.get(13)?,
        updated_at: r.get(14)?,
    };
    Ok((row, r.get(10)?, r.get(11)?))
}

const VIEW: &str = "l.id, l.scheme, l.key, l.status, l.attempts, l.versions, l.error_class, l.error, l.target_id, l.target_number, s.source, d.mapped, d.reply, l.first_seen, l.updated_at
     FROM ledger l JOIN ledger_source s ON s.id = l.id LEFT JOIN ledger_sent d ON d.id = l.id";

fn now_ms() -> i64 {
    i64::try_from(time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000)
        .unwrap_or(i64::MAX)
}

/// Upserts pulled records by key and hash (see
/// [`SqliteStore::commit_page_with`]), telling `queued` of each record it
/// queues.
fn upsert(
    tx: &rusqlite::Transaction<'_>,
    packer: &mut Packer<'_>,
    tenant: &str,
    scheme: &str,
    on_change: OnChange,
    records: &[Pulled],
    queued: &mut dyn FnMut(usize, i64),
) -> Result<PageCounts, StoreError> {
    let mut counts = PageCounts::default();
    let at = now();
    let mut find = tx.prepare_cached(
        "SELECT id, hash FROM ledger WHERE tenant = ?1 AND scheme = ?2 AND key = ?3",
    )?;
    // A record is inserted first and looked up only when its key is
    // taken: most records a pull sees are new, and the insert finds
    // a taken key with the same index search the lookup would make.
    let mut insert = tx.prepare_cached(
            "INSERT INTO ledger (tenant, scheme, key, hash, status, error_class, error, first_seen, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)
             ON CONFLICT (tenant, scheme, key) DO NOTHING",
        )?;
    let mut keep_source = tx.prepare_cached(
        "INSERT INTO ledger_source (id, source) VALUES (?1, ?2)
             ON CONFLICT (id) DO UPDATE SET source = excluded.source",
    )?;
    let mut requeue = tx.prepare_cached(
        "UPDATE ledger SET hash = ?2, status = 'queued', attempts = 0, next_attempt_at = 0,
                 error_class = NULL, error = NULL, versions = versions + 1, updated_at = ?3
             WHERE id = ?1",
    )?;
    let mut note = tx.prepare_cached(
        "UPDATE ledger SET hash = ?2, versions = versions + 1, updated_at = ?3 WHERE id = ?1",
    )?;
    for (i, r) in records.iter().enumerate() {
        let (status, class) = match &r.rejected {
            Some(_) => ("failed", Some("invalid")),
            None => ("queued", None),
        };
        let inserted = insert.execute(params![
            tenant, scheme, r.key, r.hash, status, class, r.rejected, at
        ])?;
        if inserted == 1 {
            let id = tx.last_insert_rowid();
            keep_source.execute(params![id, packer.pack(&r.source)?])?;
            if r.rejected.is_none() {
                queued(i, id);
                counts.new += 1;
            } else {
                counts.refused += 1;
            }
            continue;
        }
        let existing: Option<(i64, String)> = find
            .query_row(params![tenant, scheme, r.key], |row| {
                Ok((row.get(0)?, row.get(1)?))
            })
            .optional()?;
        match existing {
            // The insert found the key taken, so the row is there.
            None => {
                return Err(StoreError::Damaged(format!(
                    "ledger key '{}' of scheme '{scheme}' is taken but not found",
                    r.key
                )));
            }
            Some((_, hash)) if hash == r.hash => counts.duplicate += 1,
            Some((id, _)) => match on_change {
                OnChange::Resend => {
                    requeue.execute(params![id, r.hash, at])?;
                    keep_source.execute(params![id, packer.pack(&r.source)?])?;
                    queued(i, id);
                    counts.changed += 1;
                }
                OnChange::Skip => {
                    note.execute(params![id, r.hash, at])?;
                    counts.changed_skipped += 1;
                }
            },
        }
    }
    Ok(counts)
}

impl SqliteStore {
    /// The packer of `scheme`'s sources, `records` about to be written.
    fn source_packer(
        &self,
        db: &rusqlite::Connection,
        tenant: &str,
        scheme: &str,
        records: &[Pulled],
    ) -> Result<Packer<'_>, StoreError> {
        self.documents.packer(
            db,
            tenant,
            scheme,
            Kind::Source,
            records.iter().map(|r| r.source.as_str()),
        )
    }

    /// A row of [`VIEW`] with its documents unpacked.
    fn unpacked(
        &self,
        db: &rusqlite::Connection,
        (mut row, source, mapped): (RecordView, Stored, Option<Stored>),
    ) -> Result<RecordView, StoreError> {
        row.source = json(Some(self.documents.unpack(db, source)?)).unwrap_or_default();
        row.mapped = json(mapped.map(|m| self.documents.unpack(db, m)).transpose()?);
        Ok(row)
    }

    /// Commits one pulled page: every record upserted by key and hash, and
    /// the pull position after the page, in one transaction. After a crash
    /// the pull resumes from the last committed page, and a record already
    /// in the ledger with the same content is never queued twice.
    ///
    /// # Errors
    /// Database errors (nothing of the page is committed then).
    pub fn commit_page(
        &self,
        tenant: &str,
        scheme: &str,
        on_change: OnChange,
        records: &[Pulled],
        position: &Position,
    ) -> Result<PageCounts, StoreError> {
        self.commit_page_with(tenant, scheme, on_change, records, position, &mut |_, _| {})
    }

    /// [`SqliteStore::commit_page`], telling `queued` of every record it
    /// queues (new, or changed and sent again): its index in `records` and
    /// its ledger id, before
    /// the transaction commits: whatever the caller keeps of it is in
    /// place by the time anyone can read the row.
    ///
    /// # Errors
    /// Database errors (nothing of the page is committed then).
    pub fn commit_page_with(
        &self,
        tenant: &str,
        scheme: &str,
        on_change: OnChange,
        records: &[Pulled],
        position: &Position,
        queued: &mut dyn FnMut(usize, i64),
    ) -> Result<PageCounts, StoreError> {
        let mut db = self.db();
        let mut packer = self.source_packer(&db, tenant, scheme, records)?;
        let tx = db.transaction()?;
        let counts = upsert(&tx, &mut packer, tenant, scheme, on_change, records, queued)?;
        write_position(&tx, tenant, scheme, position)?;
        tx.commit()?;
        Ok(counts)
    }

    /// Settles a record that went straight to the exception queue (see
    /// [`PageCounts::refused`]) and that a user put back in the queue: the
    /// pull stage was run on it again and gave `records`. They take its
    /// place, upserted as a page's records are (with no position): the
    /// ones that now have a key are queued, or found duplicate or changed;
    /// the ones still refused wait in the exception queue. One record under
    /// a key the ledger does not have yet takes over the row (and its id).
    /// Refused again for the same reason (its key says the reason and the
    /// content), the row stays as it is with the new message and one more
    /// attempt.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when the scheme has no such record;
    /// database errors (nothing changes then).
    pub fn settle_refusal(
        &self,
        tenant: &str,
        scheme: &str,
        id: i64,
        on_change: OnChange,
        records: &[Pulled],
        queued: &mut dyn FnMut(usize, i64),
    ) -> Result<PageCounts, StoreError> {
        let mut db = self.db();
        let mut packer = self.source_packer(&db, tenant, scheme, records)?;
        let tx = db.transaction()?;
        let key: String = tx
            .query_row(
                "SELECT key FROM ledger WHERE id = ?1 AND tenant = ?2 AND scheme = ?3",
                params![id, tenant, scheme],
                |r| r.get(0),
            )
            .optional()?
            .ok_or_else(|| {
                StoreError::NotFound(format!(
                    "record {id} of scheme '{scheme}' of tenant '{tenant}'"
                ))
            })?;
        let counts = match records {
            [again] if again.key == key && again.rejected.is_some() => {
                tx.execute(
                    "UPDATE ledger SET status = 'failed', error_class = 'invalid', error = ?2,
                         attempts = attempts + 1, updated_at = ?3
                     WHERE id = ?1",
                    params![id, again.rejected, now()],
                )?;
                PageCounts {
                    refused: 1,
                    ..PageCounts::default()
                }
            }
            // One record under a key not yet taken: the row becomes it, so
            // the id the user retried is the one that gets delivered.
            [one]
                if one.rejected.is_none()
                    && tx
                        .query_row(
                            "SELECT 1 FROM ledger WHERE tenant = ?1 AND scheme = ?2 AND key = ?3",
                            params![tenant, scheme, one.key],
                            |_| Ok(()),
                        )
                        .optional()?
                        .is_none() =>
            {
                tx.execute(
                    "UPDATE ledger SET key = ?2, hash = ?3, status = 'queued', error_class = NULL,
                         error = NULL, attempts = 0, next_attempt_at = 0, updated_at = ?4
                     WHERE id = ?1",
                    params![id, one.key, one.hash, now()],
                )?;
                tx.execute(
                    "UPDATE ledger_source SET source = ?2 WHERE id = ?1",
                    params![id, packer.pack(&one.source)?],
                )?;
                queued(0, id);
                PageCounts {
                    new: 1,
                    ..PageCounts::default()
                }
            }
            _ => {
                // Its source and anything sent go with it (ON DELETE CASCADE).
                tx.execute("DELETE FROM ledger WHERE id = ?1", params![id])?;
                upsert(&tx, &mut packer, tenant, scheme, on_change, records, queued)?
            }
        };
        tx.commit()?;
        Ok(counts)
    }

    /// Up to `limit` queued records due now with ids above `after_id`,
    /// oldest first.
    ///
    /// # Errors
    /// Database errors.
    pub fn queued(
        &self,
        tenant: &str,
        scheme: &str,
        limit: usize,
        after_id: i64,
    ) -> Result<Vec<Queued>, StoreError> {
        self.queued_unless_held(tenant, scheme, limit, after_id, &|_| false)
    }

    /// [`SqliteStore::queued`], leaving out the source of the records
    /// `held` says the caller has in memory: reading a document back and
    /// unpacking it costs more than the rest of the row.
    ///
    /// # Errors
    /// Database errors.
    pub fn queued_unless_held(
        &self,
        tenant: &str,
        scheme: &str,
        limit: usize,
        after_id: i64,
        held: &dyn Fn(i64) -> bool,
    ) -> Result<Vec<Queued>, StoreError> {
        let db = self.reader();
        // The documents are read in a second step, only for the rows the
        // caller does not hold: joining them here would read their pages
        // for every row.
        let mut rows = db.prepare_cached(
            "SELECT id, key, attempts FROM ledger
             WHERE tenant = ?1 AND scheme = ?2 AND status = 'queued' AND next_attempt_at <= ?3 AND id > ?4
             ORDER BY id LIMIT ?5",
        )?;
        let mut document = db.prepare_cached("SELECT source FROM ledger_source WHERE id = ?1")?;
        let found = rows.query_map(
            params![
                tenant,
                scheme,
                now_ms(),
                after_id,
                i64::try_from(limit).unwrap_or(i64::MAX)
            ],
            |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get(2)?)),
        )?;
        let mut queued = Vec::new();
        for row in found {
            let (id, key, attempts) = row?;
            let source = if held(id) {
                None
            } else {
                // A row without its document is left out rather than sent
                // empty; the ledger writes both in one transaction.
                match document
                    .query_row(params![id], |r| r.get::<_, Stored>(0))
                    .optional()?
                {
                    Some(p) => Some(self.documents.unpack(&db, p)?),
                    None => continue,
                }
            };
            queued.push(Queued {
                id,
                key,
                source,
                attempts,
            });
        }
        Ok(queued)
    }

    /// The kept sources of ledger rows, by id (rows that are gone are left
    /// out).
    ///
    /// # Errors
    /// Database errors.
    pub fn sources(
        &self,
        ids: &[i64],
    ) -> Result<std::collections::HashMap<i64, String>, StoreError> {
        let db = self.reader();
        let mut stmt = db.prepare_cached("SELECT source FROM ledger_source WHERE id = ?1")?;
        let mut out = std::collections::HashMap::with_capacity(ids.len());
        for &id in ids {
            if let Some(p) = stmt
                .query_row(params![id], |r| r.get::<_, Stored>(0))
                .optional()?
            {
                out.insert(id, self.documents.unpack(&db, p)?);
            }
        }
        Ok(out)
    }

    /// The earliest time (Unix ms) a queued record of the scheme is due,
    /// if any is queued.
    ///
    /// # Errors
    /// Database errors.
    pub fn next_due_ms(&self, tenant: &str, scheme: &str) -> Result<Option<i64>, StoreError> {
        Ok(self.reader().query_row(
            "SELECT MIN(next_attempt_at) FROM ledger WHERE tenant = ?1 AND scheme = ?2 AND status = 'queued'",
            params![tenant, scheme],
            |r| r.get(0),
        )?)
    }

    /// Commits the outcomes of one written batch in one transaction.
    ///
    /// # Errors
    /// Database errors.
    pub fn record_outcomes(
        &self,
        tenant: &str,
        scheme: &str,
        outcomes: &[Outcome],
    ) -> Result<(), StoreError> {
        let mut db = self.db();
        let sent_documents = outcomes.iter().filter_map(|o| match o {
            Outcome::Done { mapped, .. } => Some(mapped.as_str()),
            Outcome::Failed { mapped, .. } => mapped.as_deref(),
            Outcome::Retry { .. } => None,
        });
        let mut packer = self
            .documents
            .packer(&db, tenant, scheme, Kind::Sent, sent_documents)?;
        let tx = db.transaction()?;
        let at = now();
        {
            let mut done = tx.prepare_cached(
                "UPDATE ledger SET status = 'done', target_id = ?2, target_number = ?3,
                     error_class = NULL, error = NULL, attempts = attempts + 1, updated_at = ?4
                 WHERE id = ?1",
            )?;
            let mut sent = tx.prepare_cached(
                "INSERT INTO ledger_sent (id, mapped, reply) VALUES (?1, ?2, ?3)
                 ON CONFLICT (id) DO UPDATE SET mapped = excluded.mapped, reply = excluded.reply",
            )?;
            let mut sent_mapped = tx.prepare_cached(
                "INSERT INTO ledger_sent (id, mapped) VALUES (?1, ?2)
                 ON CONFLICT (id) DO UPDATE SET mapped = excluded.mapped",
            )?;
            let mut failed = tx.prepare_cached(
                "UPDATE ledger SET status = 'failed', error_class = ?2, error = ?3,
                     attempts = attempts + 1, updated_at = ?4
                 WHERE id = ?1",
            )?;
            let mut retry = tx.prepare_cached(
                "UPDATE ledger SET error_class = ?2, error = ?3, attempts = attempts + 1, next_attempt_at = ?4,
                     updated_at = ?5
                 WHERE id = ?1",
            )?;
            for o in outcomes {
                match o {
                    Outcome::Done {
                        id,
                        mapped,
                        target_id,
                        target_number,
                        reply,
                    } => {
                        done.execute(params![id, target_id, target_number, at])?;
                        sent.execute(params![id, packer.pack(mapped)?, reply])?;
                    }
                    Outcome::Failed {
                        id,
                        mapped,
                        class,
                        message,
                    } => {
                        failed.execute(params![id, class, message, at])?;
                        if let Some(mapped) = mapped {
                            sent_mapped.execute(params![id, packer.pack(mapped)?])?;
                        }
                    }
                    Outcome::Retry {
                        id,
                        class,
                        message,
                        retry_at_ms,
                    } => {
                        retry.execute(params![id, class, message, retry_at_ms, at])?;
                    }
                }
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Ledger rows of a tenant, newest first, filtered by scheme and status.
    ///
    /// # Errors
    /// Database errors.
    pub fn records(
        &self,
        tenant: &str,
        scheme: Option<&str>,
        status: Option<&str>,
        limit: usize,
    ) -> Result<Vec<RecordView>, StoreError> {
        let db = self.db();
        let mut stmt = db.prepare(&format!(
            "SELECT {VIEW} WHERE l.tenant = ?1 AND (?2 IS NULL OR l.scheme = ?2)
             AND (?3 IS NULL OR l.status = ?3) ORDER BY l.id DESC LIMIT ?4"
        ))?;
        let rows = stmt.query_map(
            params![
                tenant,
                scheme,
                status,
                i64::try_from(limit).unwrap_or(i64::MAX)
            ],
            view,
        )?;
        rows.map(|row| self.unpacked(&db, row?)).collect()
    }

    /// One ledger row of a tenant.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] (also for another tenant's row).
    pub fn record(&self, tenant: &str, id: i64) -> Result<RecordView, StoreError> {
        let db = self.db();
        let row = db
            .query_row(
                &format!("SELECT {VIEW} WHERE l.tenant = ?1 AND l.id = ?2"),
                params![tenant, id],
                view,
            )
            .optional()?
            .ok_or_else(|| StoreError::NotFound(format!("record {id} of tenant '{tenant}'")))?;
        self.unpacked(&db, row)
    }

    /// Puts failed records back in the queue: one by id, or every failed
    /// record of a scheme. Returns how many.
    ///
    /// # Errors
    /// Database errors.
    pub fn retry(
        &self,
        tenant: &str,
        scheme: Option<&str>,
        id: Option<i64>,
    ) -> Result<usize, StoreError> {
        Ok(self.db().execute(
            "UPDATE ledger SET status = 'queued', attempts = 0, next_attempt_at = 0, updated_at = ?4
             WHERE tenant = ?1 AND status = 'failed' AND (?2 IS NULL OR scheme = ?2) AND (?3 IS NULL OR id = ?3)",
            params![tenant, scheme, id, now()],
        )?)
    }

    /// How many records every scheme of every tenant has in each status:
    /// (tenant, scheme, status, count), for metrics.
    ///
    /// # Errors
    /// Database errors.
    pub fn ledger_totals(&self) -> Result<Vec<(String, String, String, i64)>, StoreError> {
        let db = self.reader();
        let mut stmt = db.prepare_cached(
            "SELECT tenant, scheme, status, COUNT(*) FROM ledger GROUP BY tenant, scheme, status",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// How many records of a scheme are in each status.
    ///
    /// # Errors
    /// Database errors.
    pub fn ledger_counts(
        &self,
        tenant: &str,
        scheme: &str,
    ) -> Result<std::collections::BTreeMap<String, i64>, StoreError> {
        let db = self.db();
        let mut stmt = db.prepare_cached(
            "SELECT status, COUNT(*) FROM ledger WHERE tenant = ?1 AND scheme = ?2 GROUP BY status",
        )?;
        let rows = stmt.query_map(params![tenant, scheme], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SecretKey;

    fn open(path: &std::path::Path) -> SqliteStore {
        SqliteStore::open_with_key(path, SecretKey::from_bytes([7; 32]))
            .unwrap_or_else(|e| panic!("open: {e}"))
    }

    fn pulled(key: &str, source: &str) -> Pulled {
        Pulled {
            key: key.into(),
            hash: format!("h-{source}"),
            source: source.into(),
            rejected: None,
        }
    }

    fn count(store: &SqliteStore, sql: &str) -> i64 {
        store
            .db()
            .query_row(sql, [], |r| r.get(0))
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    fn setup(dir: &tempfile::TempDir) -> SqliteStore {
        let store = open(&dir.path().join("weft.db"));
        store.add_tenant("t", "T").unwrap_or_else(|e| panic!("{e}"));
        store
            .apply_scheme("t", "s", "s.yaml", "name: s")
            .unwrap_or_else(|e| panic!("{e}"));
        store
    }

    #[test]
    fn documents_round_trip_through_the_ledger() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let store = setup(&dir);
        let big = format!(
            r#"{{"no":"A","lines":[{}]}}"#,
            r#"{"sku":"甲","n":1},"#.repeat(200) + "{}"
        );
        let page = [pulled("A", &big), pulled("B", r#"{"no":"B"}"#)];
        let counts = store
            .commit_page("t", "s", OnChange::Resend, &page, &Position::default())
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(counts.new, 2);
        let queued = store
            .queued("t", "s", 10, 0)
            .unwrap_or_else(|e| panic!("{e}"));
        let sources: Vec<Option<&str>> = queued.iter().map(|q| q.source.as_deref()).collect();
        assert_eq!(sources, [Some(big.as_str()), Some(r#"{"no":"B"}"#)]);
        let (a, b) = (queued[0].id, queued[1].id);
        store
            .record_outcomes(
                "t",
                "s",
                &[
                    Outcome::Done {
                        id: a,
                        mapped: r#"{"FBillNo":"A"}"#.into(),
                        target_id: Some("100".into()),
                        target_number: Some("A".into()),
                        reply: r#"{"existed":false}"#.into(),
                    },
                    Outcome::Failed {
                        id: b,
                        mapped: Some(r#"{"FBillNo":"B"}"#.into()),
                        class: "invalid".into(),
                        message: "物料不存在".into(),
                    },
                ],
            )
            .unwrap_or_else(|e| panic!("{e}"));
        let done = store.record("t", a).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(done.status, "done");
        assert_eq!(
            done.source,
            serde_json::from_str::<serde_json::Value>(&big).unwrap_or_default()
        );
        assert_eq!(done.mapped, Some(serde_json::json!({"FBillNo": "A"})));
        assert_eq!(done.reply, Some(serde_json::json!({"existed": false})));
        let failed = store.record("t", b).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (failed.status.as_str(), failed.error.as_deref()),
            ("failed", Some("物料不存在"))
        );
        assert_eq!(failed.mapped, Some(serde_json::json!({"FBillNo": "B"})));

        // A changed document replaces the kept source and is queued again.
        let changed = store
            .commit_page(
                "t",
                "s",
                OnChange::Resend,
                &[pulled("A", r#"{"no":"A","v":2}"#)],
                &Position::default(),
            )
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(changed.changed, 1);
        let again = store
            .queued("t", "s", 10, 0)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(again.len(), 1);
        assert_eq!(
            (again[0].id, again[0].source.as_deref()),
            (a, Some(r#"{"no":"A","v":2}"#))
        );

        // Documents go with their scheme.
        store
            .remove_scheme("t", "s")
            .unwrap_or_else(|e| panic!("{e}"));
        let left = count(
            &store,
            "SELECT (SELECT COUNT(*) FROM ledger_source) + (SELECT COUNT(*) FROM ledger_sent)",
        );
        assert_eq!(left, 0);
    }

    #[test]
    fn a_retried_refusal_is_replaced_by_what_the_pull_gives_now() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let store = setup(&dir);
        let refusal = |key: &str, source: &str, message: &str| Pulled {
            rejected: Some(message.into()),
            ..pulled(key, source)
        };
        let page = [
            refusal("!nokey:1", r#"{"no":""}"#, "the key is empty"),
            refusal("!nokey:2", r#"{"no":"D"}"#, "the key is empty"),
            pulled("D", r#"{"no":"D"}"#),
        ];
        let counts = store
            .commit_page("t", "s", OnChange::Resend, &page, &Position::default())
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((counts.new, counts.refused), (1, 2), "{counts:?}");
        let failed = store
            .records("t", Some("s"), Some("failed"), 10)
            .unwrap_or_else(|e| panic!("{e}"));
        let id_of = |key: &str| {
            failed
                .iter()
                .find(|r| r.key == key)
                .map_or_else(|| panic!("no {key} in {failed:?}"), |r| r.id)
        };
        let (first, second) = (id_of("!nokey:1"), id_of("!nokey:2"));
        assert_eq!(
            store
                .retry("t", Some("s"), None)
                .unwrap_or_else(|e| panic!("{e}")),
            2
        );

        // Refused again the same way: the row stays, with the new message.
        let counts = store
            .settle_refusal(
                "t",
                "s",
                first,
                OnChange::Resend,
                &[refusal("!nokey:1", r#"{"no":""}"#, "still empty")],
                &mut |_, _| panic!("nothing is queued"),
            )
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(counts.refused, 1);
        let kept = store.record("t", first).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (kept.status.as_str(), kept.error.as_deref(), kept.attempts),
            ("failed", Some("still empty"), 1)
        );

        // Keyed now: the refusal gives way to the keyed records, queued
        // when new and duplicates when the ledger has them already.
        let mut queued = Vec::new();
        let counts = store
            .settle_refusal(
                "t",
                "s",
                second,
                OnChange::Resend,
                &[pulled("D", r#"{"no":"D"}"#), pulled("E", r#"{"no":"E"}"#)],
                &mut |i, id| queued.push((i, id)),
            )
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((counts.new, counts.duplicate, counts.refused), (1, 1, 0));
        assert!(matches!(
            store.record("t", second),
            Err(StoreError::NotFound(_))
        ));
        let waiting = store
            .queued("t", "s", 10, 0)
            .unwrap_or_else(|e| panic!("{e}"));
        let keys: Vec<&str> = waiting.iter().map(|q| q.key.as_str()).collect();
        assert_eq!(keys, ["D", "E"]);
        assert_eq!(queued, [(1, waiting[1].id)]);
        let orphans = count(
            &store,
            "SELECT COUNT(*) FROM ledger_source WHERE id NOT IN (SELECT id FROM ledger)",
        );
        assert_eq!(orphans, 0, "the refusal's document went with it");

        // One record under a new key takes over the row, id and all.
        let mut queued = Vec::new();
        let counts = store
            .settle_refusal(
                "t",
                "s",
                first,
                OnChange::Resend,
                &[pulled("F", r#"{"no":"F"}"#)],
                &mut |i, id| queued.push((i, id)),
            )
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((counts.new, counts.refused), (1, 0));
        assert_eq!(queued, [(0, first)]);
        let row = store.record("t", first).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (row.key.as_str(), row.status.as_str(), row.error.as_deref()),
            ("F", "queued", None)
        );
        assert_eq!(row.source, serde_json::json!({"no": "F"}));

        // Another scheme's record is not found.
        assert!(matches!(
            store.settle_refusal("t", "other", first, OnChange::Resend, &[], &mut |_, _| {}),
            Err(StoreError::NotFound(_))
        ));
    }

    #[test]
    fn whoever_holds_queued_documents_is_told_of_them_and_not_given_them_back() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let store = setup(&dir);
        let mut refused = pulled("C", r#"{"no":"C"}"#);
        refused.rejected = Some("no key".into());
        let page = [
            pulled("A", r#"{"no":"A"}"#),
            pulled("B", r#"{"no":"B"}"#),
            refused,
        ];
        let mut told: Vec<(usize, i64)> = Vec::new();
        store
            .commit_page_with(
                "t",
                "s",
                OnChange::Resend,
                &page,
                &Position::default(),
                &mut |i, id| told.push((i, id)),
            )
            .unwrap_or_else(|e| panic!("{e}"));
        let indexes: Vec<usize> = told.iter().map(|(i, _)| *i).collect();
        assert_eq!(indexes, [0, 1]);
        let (a, b) = (told[0].1, told[1].1);
        let queued = store
            .queued_unless_held("t", "s", 10, 0, &|id| id == a)
            .unwrap_or_else(|e| panic!("{e}"));
        let rows: Vec<(i64, Option<&str>)> =
            queued.iter().map(|q| (q.id, q.source.as_deref())).collect();
        assert_eq!(rows, [(a, None), (b, Some(r#"{"no":"B"}"#))]);
        let kept = store
            .sources(&[a, b + 1000])
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(kept.len(), 1);
        assert_eq!(kept.get(&a).map(String::as_str), Some(r#"{"no":"A"}"#));

        // A duplicate is not queued; a changed document is, under its id.
        told.clear();
        store
            .commit_page_with(
                "t",
                "s",
                OnChange::Resend,
                &[
                    pulled("A", r#"{"no":"A"}"#),
                    pulled("B", r#"{"no":"B","v":2}"#),
                ],
                &Position::default(),
                &mut |i, id| told.push((i, id)),
            )
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(told, [(1, b)]);
    }

    /// The pull commits several pages in one call (records one after the
    /// other, the last page's position): a key repeated across them must
    /// count and queue as it would in separate commits.
    #[test]
    fn pages_committed_together_leave_what_one_by_one_would() {
        let pages = [
            vec![pulled("A", "a1"), pulled("B", "b1")],
            vec![pulled("A", "a1"), pulled("C", "c1")],
            vec![pulled("B", "b2"), pulled("D", "d1")],
        ];
        let position = |n: i64| Position {
            watermark: Some(n),
            window: None,
            cursor: None,
        };
        let state = |store: &SqliteStore| {
            let rows: Vec<(String, String, String, i64)> = store
                .db()
                .prepare("SELECT key, hash, status, versions FROM ledger ORDER BY key")
                .and_then(|mut s| {
                    s.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
                        .collect()
                })
                .unwrap_or_else(|e| panic!("{e}"));
            let queued: Vec<(String, Option<String>)> = store
                .queued("t", "s", 10, 0)
                .unwrap_or_else(|e| panic!("{e}"))
                .into_iter()
                .map(|q| (q.key, q.source))
                .collect();
            let position = store.position("t", "s").unwrap_or_else(|e| panic!("{e}"));
            (rows, queued, position)
        };

        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let one_by_one = setup(&dir);
        let mut separate = PageCounts::default();
        for (n, page) in (1..).zip(&pages) {
            let c = one_by_one
                .commit_page("t", "s", OnChange::Resend, page, &position(n))
                .unwrap_or_else(|e| panic!("{e}"));
            separate.new += c.new;
            separate.duplicate += c.duplicate;
            separate.changed += c.changed;
        }

        let dir2 = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let together = setup(&dir2);
        let all: Vec<Pulled> = pages.concat();
        let mut told = Vec::new();
        let joined = together
            .commit_page_with(
                "t",
                "s",
                OnChange::Resend,
                &all,
                &position(3),
                &mut |i, _| {
                    told.push(i);
                },
            )
            .unwrap_or_else(|e| panic!("{e}"));

        assert_eq!(joined, separate);
        assert_eq!((joined.new, joined.duplicate, joined.changed), (4, 1, 1));
        // Both versions of B were queued, the later under the same row.
        assert_eq!(told, [0, 1, 3, 4, 5]);
        assert_eq!(state(&together), state(&one_by_one));
    }

    #[test]
    fn a_ledger_written_before_documents_moved_reads_the_same() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("weft.db");
        {
            // The schema as version 2 left it, with one delivered record.
            let mut db = rusqlite::Connection::open(&path).unwrap_or_else(|e| panic!("{e}"));
            crate::migrations::apply_up_to(&mut db, 2).unwrap_or_else(|e| panic!("{e}"));
            db.execute_batch(
                r#"INSERT INTO tenants VALUES ('t', 'T', '2026-01-01T00:00:00Z');
                INSERT INTO schemes VALUES ('t', 's', 's.yaml', 'name: s', 1, '2026-01-01T00:00:00Z');
                INSERT INTO ledger (id, tenant, scheme, key, hash, status, source, mapped, reply, first_seen, updated_at)
                VALUES (5, 't', 's', 'A', 'h', 'done', '{"no":"A"}', '{"FBillNo":"A"}', '{"existed":false}', 'x', 'x'),
                       (6, 't', 's', 'B', 'h', 'queued', '{"no":"B"}', NULL, NULL, 'x', 'x');"#,
            )
            .unwrap_or_else(|e| panic!("{e}"));
        }
        let store = open(&path);
        let done = store.record("t", 5).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(done.source, serde_json::json!({"no": "A"}));
        assert_eq!(done.mapped, Some(serde_json::json!({"FBillNo": "A"})));
        assert_eq!(done.reply, Some(serde_json::json!({"existed": false})));
        let queued = store
            .queued("t", "s", 10, 0)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(queued.len(), 1);
        assert_eq!(
            (queued[0].id, queued[0].source.as_deref()),
            (6, Some(r#"{"no":"B"}"#))
        );
    }
}
