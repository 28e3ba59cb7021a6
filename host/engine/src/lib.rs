//! # weft-engine: running schemes
//!
//! A run walks time windows from the scheme's last sync to now (split to
//! the connector's largest span), reads each window page by page, and
//! commits every page's records to the ledger together with the page
//! cursor (pull). Beside it, queued records are mapped, batched and written
//! to the target, and every outcome is committed (push). See ARCHITECTURE
//! §3.3: every source document reaches the target exactly once, across
//! crashes, restarts, retries and overlapping windows.
//!
//! A scheme whose source is a `webhook` is fed by callbacks instead:
//! [`Engine::intake`] authenticates one, commits its records to the ledger
//! as a pulled page would be, and pushes them.

mod catalog;
mod connections;
mod counts;
mod endpoint;
mod gates;
mod handoff;
mod intake;
mod preview;
mod pull;
mod push;
mod retry;
mod run;
mod window;

use std::path::PathBuf;
use std::sync::Arc;

pub use catalog::{Checked, SchemeProblems};
pub use connections::CheckReport;
pub use counts::RunCounts;
pub use gates::{ConnectionGate, Gates};
pub use intake::{Accepted, EnvHookSecrets, HookSecrets, IntakeOutcome, IntakePush};
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
    /// Input that does not fit what it is for (a connection's settings,
    /// a transform named as a connector); every problem named.
    #[error("{0}")]
    Invalid(String),
    /// A blocking task died.
    #[error("internal error: {0}")]
    Internal(String),
    /// A webhook for a scheme the tenant does not have.
    #[error("tenant '{tenant}' has no scheme '{scheme}'")]
    UnknownScheme {
        /// Tenant.
        tenant: String,
        /// Scheme.
        scheme: String,
    },
    /// A webhook for a scheme whose source is pulled.
    #[error(
        "scheme '{scheme}' of tenant '{tenant}' reads its records through connection '{connection}'; it takes no webhooks"
    )]
    NotWebhook {
        /// Tenant.
        tenant: String,
        /// Scheme.
        scheme: String,
        /// Its source connection.
        connection: String,
    },
    /// The host has no value for the secret a webhook scheme names: the
    /// operator's to fix, not the caller's.
    #[error(
        "webhook secret '{secret}' of scheme '{scheme}' is not set for tenant '{tenant}': {hint}"
    )]
    HookSecretMissing {
        /// Tenant.
        tenant: String,
        /// Scheme.
        scheme: String,
        /// The secret's name.
        secret: String,
        /// Where to set it.
        hint: String,
    },
    /// A callback that failed authentication; nothing of it was stored.
    #[error("webhook for scheme '{scheme}' refused: {reason}")]
    Unauthorized {
        /// Scheme.
        scheme: String,
        /// Why (never the expected signature or token).
        reason: String,
    },
    /// An authenticated callback whose body holds no records where the
    /// scheme says; nothing of it was stored.
    #[error("webhook for scheme '{scheme}': {reason}")]
    BadPayload {
        /// Scheme.
        scheme: String,
        /// What is wrong, naming `source.webhook.records`' pointer.
        reason: String,
    },
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
    /// Batches a run writes to its target at once, each through its own
    /// session: plugin calls and the target's answers overlap with the
    /// mapping and ledger work of the others.
    pub writers: usize,
    /// Most bytes of pulled documents a run keeps in memory for its push
    /// (beyond that the push reads them back from the ledger, and the pull
    /// waits a moment for the push to catch up).
    pub handoff_bytes: usize,
    /// Most HTTP exchanges kept in a run's log (failures are always kept).
    pub logged_exchanges: usize,
}

impl Default for EngineOptions {
    fn default() -> Self {
        Self {
            retry: RetryPolicy::default(),
            lease_secs: 30,
            calls_per_session: 200,
            writers: 3,
            handoff_bytes: 32 << 20,
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
    pub(crate) hook_secrets: Arc<dyn HookSecrets>,
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
            hook_secrets: Arc::new(EnvHookSecrets),
        }
    }

    /// Resolves webhook secrets through `secrets` instead of the
    /// environment ([`EnvHookSecrets`]).
    #[must_use]
    pub fn with_hook_secrets(mut self, secrets: Arc<dyn HookSecrets>) -> Self {
        self.hook_secrets = secrets;
        self
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
