//! Runs of a scheme and their logs.

use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use crate::{SqliteStore, StoreError, now};

/// A run as users see it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunView {
    /// Run id.
    pub id: String,
    /// Tenant.
    pub tenant: String,
    /// Scheme.
    pub scheme: String,
    /// `manual`, `schedule`, `webhook`, `retry`.
    pub trigger: String,
    /// `running`, `succeeded`, `failed`, `paused`, `stopped`.
    pub status: String,
    /// Started.
    pub started_at: String,
    /// Finished, when it has.
    pub finished_at: Option<String>,
    /// Counts (pulled, new, duplicate, written, failed, ...).
    pub counts: serde_json::Value,
    /// Why it failed or paused.
    pub error: Option<String>,
}

fn run_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RunView> {
    let counts: String = r.get(7)?;
    Ok(RunView {
        id: r.get(0)?,
        tenant: r.get(1)?,
        scheme: r.get(2)?,
        trigger: r.get(3)?,
        status: r.get(4)?,
        started_at: r.get(5)?,
        finished_at: r.get(6)?,
        counts: serde_json::from_str(&counts).unwrap_or_default(),
        error: r.get(8)?,
    })
}

const COLUMNS: &str = "id, tenant, scheme, trigger, status, started_at, finished_at, counts, error";

/// A new run id: time-ordered, unique.
fn run_id() -> String {
    let mut nonce = [0u8; 3];
    let _ = getrandom::fill(&mut nonce);
    let ms = time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000;
    format!(
        "r{ms}{:06x}",
        u32::from_le_bytes([nonce[0], nonce[1], nonce[2], 0])
    )
}

impl SqliteStore {
    /// Records the start of a run; returns its id.
    ///
    /// # Errors
    /// Database errors.
    pub fn start_run(
        &self,
        tenant: &str,
        scheme: &str,
        trigger: &str,
    ) -> Result<String, StoreError> {
        let id = run_id();
        self.db().execute(
            "INSERT INTO runs (id, tenant, scheme, trigger, status, started_at) VALUES (?1, ?2, ?3, ?4, 'running', ?5)",
            params![id, tenant, scheme, trigger, now()],
        )?;
        Ok(id)
    }

    /// Saves a running run's counts (progress survives a crash).
    ///
    /// # Errors
    /// Database errors.
    pub fn update_run(&self, id: &str, counts: &serde_json::Value) -> Result<(), StoreError> {
        self.db().execute(
            "UPDATE runs SET counts = ?2 WHERE id = ?1",
            params![id, counts.to_string()],
        )?;
        Ok(())
    }

    /// Records the end of a run.
    ///
    /// # Errors
    /// Database errors.
    pub fn finish_run(
        &self,
        id: &str,
        status: &str,
        counts: &serde_json::Value,
        error: Option<&str>,
    ) -> Result<(), StoreError> {
        self.db().execute(
            "UPDATE runs SET status = ?2, counts = ?3, error = ?4, finished_at = ?5 WHERE id = ?1",
            params![id, status, counts.to_string(), error, now()],
        )?;
        Ok(())
    }

    /// Marks runs left `running` by a dead process as `stopped`.
    ///
    /// # Errors
    /// Database errors.
    pub fn stop_orphaned_runs(
        &self,
        tenant: &str,
        scheme: &str,
        except: &str,
    ) -> Result<usize, StoreError> {
        Ok(self.db().execute(
            "UPDATE runs SET status = 'stopped', error = 'the process running it ended before it finished',
                 finished_at = ?4
             WHERE tenant = ?1 AND scheme = ?2 AND status = 'running' AND id != ?3",
            params![tenant, scheme, except, now()],
        )?)
    }

    /// Appends entries (JSON) to a run's log.
    ///
    /// # Errors
    /// Database errors.
    pub fn append_run_log(
        &self,
        id: &str,
        entries: &[serde_json::Value],
    ) -> Result<(), StoreError> {
        if entries.is_empty() {
            return Ok(());
        }
        let mut db = self.db();
        let tx = db.transaction()?;
        let mut seq: i64 = tx.query_row(
            "SELECT COALESCE(MAX(seq), 0) FROM run_log WHERE run_id = ?1",
            [id],
            |r| r.get(0),
        )?;
        {
            let mut insert =
                tx.prepare_cached("INSERT INTO run_log (run_id, seq, entry) VALUES (?1, ?2, ?3)")?;
            for e in entries {
                seq += 1;
                insert.execute(params![id, seq, e.to_string()])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// A tenant's runs, newest first.
    ///
    /// # Errors
    /// Database errors.
    pub fn runs(
        &self,
        tenant: &str,
        scheme: Option<&str>,
        limit: usize,
    ) -> Result<Vec<RunView>, StoreError> {
        let db = self.db();
        let mut stmt = db.prepare(&format!(
            "SELECT {COLUMNS} FROM runs WHERE tenant = ?1 AND (?2 IS NULL OR scheme = ?2)
             ORDER BY started_at DESC, id DESC LIMIT ?3"
        ))?;
        let rows = stmt.query_map(
            params![tenant, scheme, i64::try_from(limit).unwrap_or(i64::MAX)],
            run_row,
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// When each scheme's latest run started (RFC 3339), by tenant and
    /// scheme: what a scheduler counts its next run from.
    ///
    /// # Errors
    /// Database errors.
    pub fn last_run_starts(
        &self,
    ) -> Result<std::collections::HashMap<(String, String), String>, StoreError> {
        let db = self.reader();
        let mut stmt = db.prepare_cached(
            "SELECT tenant, scheme, MAX(started_at) FROM runs GROUP BY tenant, scheme",
        )?;
        let rows = stmt.query_map([], |r| Ok(((r.get(0)?, r.get(1)?), r.get(2)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// One run of a tenant.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] (also for another tenant's run).
    pub fn run(&self, tenant: &str, id: &str) -> Result<RunView, StoreError> {
        self.db()
            .query_row(
                &format!("SELECT {COLUMNS} FROM runs WHERE tenant = ?1 AND id = ?2"),
                params![tenant, id],
                run_row,
            )
            .optional()?
            .ok_or_else(|| StoreError::NotFound(format!("run {id} of tenant '{tenant}'")))
    }

    /// A run's log entries, in order.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for another tenant's run.
    pub fn run_log(&self, tenant: &str, id: &str) -> Result<Vec<serde_json::Value>, StoreError> {
        self.run(tenant, id)?;
        let db = self.db();
        let mut stmt = db.prepare("SELECT entry FROM run_log WHERE run_id = ?1 ORDER BY seq")?;
        let rows = stmt.query_map([id], |r| r.get::<_, String>(0))?;
        rows.map(|r| {
            let text = r?;
            Ok(serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)))
        })
        .collect()
    }
}
