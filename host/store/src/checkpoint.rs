//! WAL checkpoints on a thread of their own.
//!
//! A checkpoint copies the write-ahead log into the database file and
//! syncs both: under `synchronous = NORMAL` those are the only fsyncs
//! SQLite makes. Left to SQLite, the writer runs a checkpoint inside the
//! commit that fills the log, holding the store's write lock through both
//! fsyncs, so every pull and push waits on the disk. Here a commit only
//! nudges this thread, which checkpoints through its own connection
//! without taking the lock (a passive checkpoint never blocks a writer).
//! The writer still checkpoints by itself once the log reaches
//! [`BACKSTOP_PAGES`], should this thread fall that far behind.

use std::path::Path;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rusqlite::Connection as Db;

use crate::StoreError;

/// Log pages after which the writer checkpoints by itself.
pub(crate) const BACKSTOP_PAGES: i64 = 10_000;

/// How long commits may pile up before a checkpoint: a page that several
/// of them rewrote is then copied once, and the two fsyncs are shared. At
/// 500 ms a 100,000-order run stays far below the backstop; 100 ms gained
/// less and 2 s reached the backstop (`just bench`).
const GATHER: Duration = Duration::from_millis(500);

/// Starts checkpointing the database at `path`, nudged by each commit of
/// `writer`. The thread ends when `writer`'s commit hook is removed (see
/// [`stop`]) or `writer` is closed.
pub(crate) fn start(path: &Path, writer: &Db) -> Result<JoinHandle<()>, StoreError> {
    let db = Db::open(path)?;
    db.busy_timeout(Duration::from_secs(10))?;
    let (nudge, nudges) = std::sync::mpsc::sync_channel::<()>(1);
    writer.commit_hook(Some(move || {
        // Full means a nudge is already waiting.
        let _ = nudge.try_send(());
        false
    }))?;
    std::thread::Builder::new()
        .name("weft-checkpoint".into())
        .spawn(move || checkpoint_when_nudged(&db, &nudges))
        .map_err(|e| StoreError::Internal(format!("cannot start the checkpoint thread: {e}")))
}

/// Ends the thread [`start`] began for `writer` and waits for it, so that
/// the writer, closed after it, is the database's last connection: SQLite
/// then checkpoints what is left and removes the log.
pub(crate) fn stop(writer: &Db, thread: JoinHandle<()>) {
    // Dropping the hook drops the thread's only sender.
    if let Err(e) = writer.commit_hook(None::<fn() -> bool>) {
        tracing::warn!("cannot stop the checkpoint thread: {e}");
        return;
    }
    if thread.join().is_err() {
        tracing::warn!("the checkpoint thread panicked");
    }
}

fn checkpoint_when_nudged(db: &Db, nudges: &Receiver<()>) {
    while nudges.recv().is_ok() {
        let until = Instant::now() + GATHER;
        loop {
            match nudges.recv_timeout(until.saturating_duration_since(Instant::now())) {
                Ok(()) => {}
                Err(RecvTimeoutError::Timeout) => break,
                Err(RecvTimeoutError::Disconnected) => return,
            }
        }
        if let Err(e) = db.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
            tracing::warn!(
                "background checkpoint failed (the writer will checkpoint instead): {e}"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use crate::{SecretKey, SqliteStore};

    /// Tenants as the database file itself holds them, ignoring the log:
    /// what a checkpoint has copied there.
    fn tenants_in_file(path: &std::path::Path) -> Vec<String> {
        let uri = format!("file:{}?immutable=1", path.display());
        let db = rusqlite::Connection::open_with_flags(
            uri,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_URI,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        // Until the first checkpoint the file has no tables at all.
        let Ok(mut stmt) = db.prepare("SELECT id FROM tenants ORDER BY id") else {
            return Vec::new();
        };
        stmt.query_map([], |r| r.get(0))
            .and_then(Iterator::collect)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn commits_reach_the_database_file_without_the_writer_checkpointing() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("weft.db");
        let store = SqliteStore::open_with_key(&path, SecretKey::from_bytes([7; 32]))
            .unwrap_or_else(|e| panic!("{e}"));
        store
            .add_tenant("acme", "Acme")
            .unwrap_or_else(|e| panic!("{e}"));
        // Far below the writer's backstop: only the checkpoint thread can
        // copy this commit into the file while the store stays open.
        let deadline = Instant::now() + Duration::from_secs(30);
        while !tenants_in_file(&path).contains(&"acme".to_owned()) {
            assert!(
                Instant::now() < deadline,
                "the commit never reached the database file"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        store
            .add_tenant("globex", "Globex")
            .unwrap_or_else(|e| panic!("{e}"));
        // Closing stops the thread at once and leaves everything in the
        // file and no log behind.
        drop(store);
        assert!(
            !path.with_extension("db-wal").exists(),
            "the log was left behind"
        );
        assert_eq!(tenants_in_file(&path), ["acme", "globex"]);
        let store = SqliteStore::open_with_key(&path, SecretKey::from_bytes([7; 32]))
            .unwrap_or_else(|e| panic!("{e}"));
        let ids: Vec<String> = store
            .tenants()
            .unwrap_or_else(|e| panic!("{e}"))
            .into_iter()
            .map(|t| t.id)
            .collect();
        assert_eq!(ids, ["acme", "globex"]);
    }
}
