//! # weft-engine: running schemes
//!
//! A run walks time windows from the scheme's last sync to now (split to
//! the connector's largest span), reads each window page by page, and
//! commits every page's records to the ledger together with the page
//! cursor (pull). Beside it, queued records are mapped, batched and written
//! to the target, and every outcome is committed (push). See ARCHITECTURE
//! §3.3: every source document reaches the target exactly once, across
//! crashes, restarts, retries and overlapping windows.

mod counts;
mod endpoint;
mod gates;
mod preview;
mod pull;
mod push;
mod retry;
mod run;
mod window;

use std::path::PathBuf;
use std::sync::Arc;

pub use counts::RunCounts;
pub use gates::{ConnectionGate, Gates};
pub use preview::{Preview, PreviewRecord};
pub use retry::RetryPolicy;
pub use run::{RunOutcome, RunRequest, RunStatus, Trigger};
pub use window::{Window, plan as plan_windows};

use weft_plugins::PluginStore;
use weft_store::SqliteStore;

/// Why a run could not start or was refused.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// A store error.
    #[error(transparent)]
    Store(#[from] weft_store::StoreError),
    /// A plugin-store error.
    #[error(transparent)]
    Plugins(#[from] weft_plugins::StoreError),
    /// The scheme does not parse, compile or validate.
    #[error("{0}")]
    Scheme(String),
    /// Another run of the scheme holds its lease.
    #[error("scheme '{scheme}' of tenant '{tenant}' is already running ({holder})")]
    AlreadyRunning {
        /// Tenant.
        tenant: String,
        /// Scheme.
        scheme: String,
        /// Who runs it.
        holder: String,
    },
    /// A plugin call failed before the run could begin (lookups, preview).
    #[error("{0}")]
    Call(String),
    /// A blocking task died.
    #[error("internal error: {0}")]
    Internal(String),
}

/// Engine settings.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// Retries and backoff.
    pub retry: RetryPolicy,
    /// How long a run's lease lasts without a heartbeat, in seconds.
    pub lease_secs: i64,
    /// Plugin calls one session serves before a fresh instance replaces it
    /// (bounds what a long run accumulates in one sandbox).
    pub calls_per_session: usize,
    /// Most HTTP exchanges kept in a run's log (failures are always kept).
    pub logged_exchanges: usize,
}

impl Default for EngineOptions {
    fn default() -> Self {
        Self {
            retry: RetryPolicy::default(),
            lease_secs: 30,
            calls_per_session: 200,
            logged_exchanges: 200,
        }
    }
}

/// Runs schemes of any tenant. Cheap to clone and share.
#[derive(Debug, Clone)]
pub struct Engine {
    pub(crate) store: Arc<SqliteStore>,
    pub(crate) plugins: PluginStore,
    pub(crate) gates: Arc<Gates>,
    pub(crate) options: EngineOptions,
    pub(crate) home: PathBuf,
}

impl Engine {
    /// An engine over a store and a plugin store.
    pub fn new(
        home: PathBuf,
        store: Arc<SqliteStore>,
        plugins: PluginStore,
        options: EngineOptions,
    ) -> Self {
        Self {
            store,
            plugins,
            gates: Arc::new(Gates::default()),
            options,
            home,
        }
    }

    /// The store.
    pub fn store(&self) -> &Arc<SqliteStore> {
        &self.store
    }

    /// The plugin store.
    pub fn plugins(&self) -> &PluginStore {
        &self.plugins
    }

    /// The data directory.
    pub fn home(&self) -> &std::path::Path {
        &self.home
    }
}

/// Runs a store call on the blocking pool: SQLite calls block, and a run's
/// pull and push tasks must not stall the async workers serving plugins.
pub(crate) async fn db<T, F>(store: &Arc<SqliteStore>, f: F) -> Result<T, EngineError>
where
    T: Send + 'static,
    F: FnOnce(&SqliteStore) -> Result<T, weft_store::StoreError> + Send + 'static,
{
    let store = Arc::clone(store);
    tokio::task::spawn_blocking(move || f(&store))
        .await
        .map_err(|e| EngineError::Internal(e.to_string()))?
        .map_err(EngineError::Store)
}
