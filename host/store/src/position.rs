//! Where a scheme's pull stands, and who is running it.
//!
//! The position (watermark, window in progress, page cursor) is committed
//! in the same transaction as the ledger rows of each page (see
//! [`crate::ledger`]), so a crash resumes exactly after the last committed
//! page. The lease keeps two processes from running one scheme at once.

use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use crate::{SqliteStore, StoreError, now};

/// A scheme's pull position. Times are Unix seconds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Position {
    /// Every window ending at or before this is fully pulled.
    pub watermark: Option<i64>,
    /// The window being pulled, when one is in progress.
    pub window: Option<(i64, i64)>,
    /// The cursor of the next page of that window (`None`: its first page).
    pub cursor: Option<String>,
}

fn now_secs() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// Whether a lease owner written as `host:pid:nonce` is a dead process of
/// this host: its lease can be taken at once instead of waiting for it to
/// expire (a process killed with -9 never releases it).
fn owner_is_dead(owner: &str) -> bool {
    let mut parts = owner.splitn(3, ':');
    let (Some(host), Some(pid)) = (parts.next(), parts.next()) else {
        return false;
    };
    if host != this_host() {
        return false;
    }
    let Ok(pid) = pid.parse::<u32>() else {
        return false;
    };
    pid != std::process::id()
        && !std::path::Path::new(&format!("/proc/{pid}")).exists()
        && std::path::Path::new("/proc/self").exists()
}

fn this_host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_else(|_| "localhost".to_owned())
}

/// A lease owner id for this process.
pub fn lease_owner() -> String {
    let mut nonce = [0u8; 4];
    let _ = getrandom::fill(&mut nonce);
    format!(
        "{}:{}:{:08x}",
        this_host(),
        std::process::id(),
        u32::from_le_bytes(nonce)
    )
}

impl SqliteStore {
    /// The scheme's pull position.
    ///
    /// # Errors
    /// Database errors.
    pub fn position(&self, tenant: &str, scheme: &str) -> Result<Position, StoreError> {
        Ok(self
            .db()
            .query_row(
                "SELECT watermark, window_start, window_end, cursor FROM scheme_state WHERE tenant = ?1 AND scheme = ?2",
                params![tenant, scheme],
                |r| {
                    let start: Option<i64> = r.get(1)?;
                    let end: Option<i64> = r.get(2)?;
                    Ok(Position {
                        watermark: r.get(0)?,
                        window: start.zip(end),
                        cursor: r.get(3)?,
                    })
                },
            )
            .optional()?
            .unwrap_or_default())
    }

    /// Sets the position outside a page commit (starting or finishing a
    /// window with no records).
    ///
    /// # Errors
    /// Database errors.
    pub fn set_position(&self, tenant: &str, scheme: &str, p: &Position) -> Result<(), StoreError> {
        write_position(&self.db(), tenant, scheme, p)
    }

    /// Takes the scheme's lease for `ttl_secs` if it is free, expired, or
    /// held by a dead process of this host. Returns whether it was taken.
    ///
    /// # Errors
    /// Database errors.
    pub fn claim(
        &self,
        tenant: &str,
        scheme: &str,
        owner: &str,
        ttl_secs: i64,
    ) -> Result<bool, StoreError> {
        let mut db = self.db();
        let tx = db.transaction()?;
        ensure_state(&tx, tenant, scheme)?;
        let current: (Option<String>, Option<i64>) = tx.query_row(
            "SELECT lease_owner, lease_until FROM scheme_state WHERE tenant = ?1 AND scheme = ?2",
            params![tenant, scheme],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let free = match current {
            (None, _) => true,
            (Some(o), _) if o == owner => true,
            (Some(o), until) => until.is_none_or(|u| u < now_secs()) || owner_is_dead(&o),
        };
        if free {
            tx.execute(
                "UPDATE scheme_state SET lease_owner = ?3, lease_until = ?4, updated_at = ?5 WHERE tenant = ?1 AND scheme = ?2",
                params![tenant, scheme, owner, now_secs() + ttl_secs, now()],
            )?;
        }
        tx.commit()?;
        Ok(free)
    }

    /// Who holds the lease, if anyone holds a live one.
    ///
    /// # Errors
    /// Database errors.
    pub fn lease_holder(&self, tenant: &str, scheme: &str) -> Result<Option<String>, StoreError> {
        let row: Option<(Option<String>, Option<i64>)> = self
            .db()
            .query_row(
                "SELECT lease_owner, lease_until FROM scheme_state WHERE tenant = ?1 AND scheme = ?2",
                params![tenant, scheme],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        Ok(match row {
            Some((Some(o), Some(until))) if until >= now_secs() && !owner_is_dead(&o) => Some(o),
            _ => None,
        })
    }

    /// Extends a lease this owner holds. Returns false if it was lost.
    ///
    /// # Errors
    /// Database errors.
    pub fn renew(
        &self,
        tenant: &str,
        scheme: &str,
        owner: &str,
        ttl_secs: i64,
    ) -> Result<bool, StoreError> {
        let n = self.db().execute(
            "UPDATE scheme_state SET lease_until = ?4 WHERE tenant = ?1 AND scheme = ?2 AND lease_owner = ?3",
            params![tenant, scheme, owner, now_secs() + ttl_secs],
        )?;
        Ok(n == 1)
    }

    /// Gives a lease back.
    ///
    /// # Errors
    /// Database errors.
    pub fn release(&self, tenant: &str, scheme: &str, owner: &str) -> Result<(), StoreError> {
        self.db().execute(
            "UPDATE scheme_state SET lease_owner = NULL, lease_until = NULL WHERE tenant = ?1 AND scheme = ?2 AND lease_owner = ?3",
            params![tenant, scheme, owner],
        )?;
        Ok(())
    }
}

pub(crate) fn ensure_state(
    db: &rusqlite::Connection,
    tenant: &str,
    scheme: &str,
) -> Result<(), StoreError> {
    // Cached: a run writes the position with every page it commits.
    db.prepare_cached(
        "INSERT INTO scheme_state (tenant, scheme, updated_at) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
    )?
    .execute(params![tenant, scheme, now()])?;
    Ok(())
}

pub(crate) fn write_position(
    db: &rusqlite::Connection,
    tenant: &str,
    scheme: &str,
    p: &Position,
) -> Result<(), StoreError> {
    ensure_state(db, tenant, scheme)?;
    db.prepare_cached(
        "UPDATE scheme_state SET watermark = ?3, window_start = ?4, window_end = ?5, cursor = ?6, updated_at = ?7
         WHERE tenant = ?1 AND scheme = ?2",
    )?
    .execute(params![
            tenant,
            scheme,
            p.watermark,
            p.window.map(|w| w.0),
            p.window.map(|w| w.1),
            p.cursor,
            now()
        ],
    )?;
    Ok(())
}
