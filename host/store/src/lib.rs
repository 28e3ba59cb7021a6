//! # weft-store: weft's persistent state
//!
//! Tenants, their connections (secrets sealed, see [`secrets`]), and — as
//! the scheme engine grows — schemes, runs and the ledger. The embedded
//! default is SQLite in WAL mode under `$WEFT_HOME`; nothing to install.
//! The schema is versioned ([`migrations`]) and migrated on open.

mod checkpoint;
pub mod connections;
mod documents;
pub mod ledger;
pub mod lookups;
mod migrations;
pub mod position;
pub mod runs;
pub mod schemes;
pub mod secrets;
pub mod tenants;
pub mod tokens;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use rusqlite::Connection as Db;

pub use connections::{Connection, ConnectionInput, NewConnection, RateLimit};
pub use ledger::{OnChange, Outcome, PageCounts, Pulled, Queued, RecordView};
pub use lookups::Tables;
pub use position::{Position, lease_owner};
pub use runs::RunView;
pub use schemes::StoredScheme;
pub use secrets::SecretKey;
pub use tenants::Tenant;
pub use tokens::{ApiToken, IssuedToken};

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite said no.
    #[error("database: {0}")]
    Db(#[from] rusqlite::Error),
    /// The schema could not be migrated.
    #[error("cannot migrate the database schema: {0}")]
    Migration(String),
    /// Sealing or opening secrets failed.
    #[error("{0}")]
    Secret(String),
    /// No such thing.
    #[error("{0} not found")]
    NotFound(String),
    /// It already exists.
    #[error("{0} already exists")]
    Exists(String),
    /// The input is invalid; every problem is listed.
    #[error("{}", .0.join("; "))]
    Invalid(Vec<String>),
    /// Stored data cannot be read back.
    #[error("damaged record {0}")]
    Damaged(String),
    /// The store could not start what it runs beside the database.
    #[error("{0}")]
    Internal(String),
}

/// The time now, RFC 3339 UTC.
pub(crate) fn now() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// The SQLite store.
#[derive(Debug)]
pub struct SqliteStore {
    /// A second connection for the queries a run repeats while it writes
    /// (the push queue): under WAL it reads the last commit without
    /// waiting for the writer's lock. Declared (so closed) before `db`:
    /// the writer, closing last, checkpoints and removes the log.
    reader: Mutex<Db>,
    db: Mutex<Db>,
    /// The thread checkpointing `db`'s commits (checkpoint.rs).
    checkpointer: Option<std::thread::JoinHandle<()>>,
    key: SecretKey,
    path: PathBuf,
    /// The ledger's compression dictionaries in use.
    documents: documents::Documents,
}

/// Keeps each cached statement's query plan across new bindings. Without
/// it SQLite compiles a statement again whenever a bound value its planner
/// looked at changes (the push queue's `LIMIT`, say), which it did on
/// nearly every call; the ledger's plans never depend on those values.
fn stable_plans(db: &Db) -> Result<(), StoreError> {
    db.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
        true,
    )?;
    Ok(())
}

impl Drop for SqliteStore {
    fn drop(&mut self) {
        if let Some(thread) = self.checkpointer.take() {
            let db = self
                .db
                .get_mut()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            checkpoint::stop(db, thread);
        }
    }
}

impl SqliteStore {
    /// Opens (creating and migrating) `$home/weft.db`, with the secret key
    /// from the environment or `$home/secret.key`.
    ///
    /// # Errors
    /// When the file cannot be opened, the schema cannot be migrated, or
    /// the secret key cannot be loaded.
    pub fn open(home: &Path) -> Result<Self, StoreError> {
        let key = SecretKey::load(home)?;
        Self::open_with_key(&home.join("weft.db"), key)
    }

    /// Opens a database file with an explicit key.
    ///
    /// # Errors
    /// As [`SqliteStore::open`].
    pub fn open_with_key(path: &Path, key: SecretKey) -> Result<Self, StoreError> {
        let mut db = Db::open(path)?;
        // WAL: readers never block the writer; NORMAL sync is durable at
        // every checkpoint and safe against application crashes (kill -9),
        // which is the failure weft must survive without losing a commit.
        db.pragma_update(None, "page_size", 16384)?;
        db.pragma_update(None, "journal_mode", "WAL")?;
        db.pragma_update(None, "synchronous", "NORMAL")?;
        db.pragma_update(None, "foreign_keys", "ON")?;
        // A run commits a page of records at a time; a larger page cache
        // keeps those commits from reading the same b-tree pages over and
        // over. Checkpoints run on their own thread (checkpoint.rs); the
        // writer's own are a backstop, and the log is cut back after one.
        db.pragma_update(None, "cache_size", -16_384)?;
        db.pragma_update(None, "wal_autocheckpoint", checkpoint::BACKSTOP_PAGES)?;
        db.pragma_update(None, "journal_size_limit", 64 << 20)?;
        db.pragma_update(None, "temp_store", "MEMORY")?;
        db.busy_timeout(std::time::Duration::from_secs(10))?;
        stable_plans(&db)?;
        migrations::apply(&mut db)?;
        let checkpointer = checkpoint::start(path, &db)?;
        let reader = Db::open_with_flags(
            path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        reader.pragma_update(None, "cache_size", -8_192)?;
        reader.busy_timeout(std::time::Duration::from_secs(10))?;
        stable_plans(&reader)?;
        Ok(Self {
            db: Mutex::new(db),
            reader: Mutex::new(reader),
            checkpointer: Some(checkpointer),
            key,
            path: path.to_owned(),
            documents: documents::Documents::default(),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn db(&self) -> MutexGuard<'_, Db> {
        // A panic while holding the lock cannot leave SQLite inconsistent
        // (every write is a transaction), so a poisoned lock is still usable.
        self.db
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The read-only connection, for queries repeated during a run.
    pub(crate) fn reader(&self) -> MutexGuard<'_, Db> {
        self.reader
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(crate) fn key(&self) -> &SecretKey {
        &self.key
    }
}
