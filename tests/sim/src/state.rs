//! The simulator's shared state: configuration, datasets, what the targets
//! hold, faults, sessions and tokens.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};

use crate::config::SimConfig;
use crate::dataset::Sources;
use crate::dataset::master::MasterData;
use crate::faults::FaultBoard;
use crate::inspect::Inbox;
use crate::jdy::JdyBook;
use crate::jst::JstTokens;
use crate::k3cloud::K3Store;
use crate::k3cloud::session::K3Sessions;
use crate::wdt::TradeBook;

pub(crate) struct SimState {
    pub config: SimConfig,
    pub origin: String,
    pub master: Arc<MasterData>,
    pub sources: RwLock<Sources>,
    pub k3: Mutex<K3Store>,
    pub k3_sessions: Mutex<K3Sessions>,
    pub jdy: Mutex<JdyBook>,
    pub wdt_trades: Mutex<TradeBook>,
    pub jst_tokens: Mutex<JstTokens>,
    pub inbox: Mutex<Inbox>,
    pub faults: FaultBoard,
    counter: AtomicU64,
}

/// Locks a mutex; a panic in another request must not wedge the simulator,
/// so a poisoned lock is simply taken over.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl SimState {
    pub fn new(config: SimConfig, origin: String) -> SimState {
        let master = Arc::new(MasterData::generate(&config.dataset.master));
        let sources = Sources::generate(config.seed, &config.dataset, &master);
        SimState {
            faults: FaultBoard::new(config.seed, &config.faults),
            k3: Mutex::new(K3Store::default()),
            k3_sessions: Mutex::new(K3Sessions::default()),
            jdy: Mutex::new(JdyBook::default()),
            wdt_trades: Mutex::new(TradeBook::default()),
            jst_tokens: Mutex::new(JstTokens::new(&config.credentials.jst)),
            inbox: Mutex::new(Inbox::default()),
            sources: RwLock::new(sources),
            master,
            origin,
            config,
            counter: AtomicU64::new(0),
        }
    }

    pub fn sources(&self) -> RwLockReadGuard<'_, Sources> {
        self.sources.read().unwrap_or_else(|p| p.into_inner())
    }

    pub fn sources_mut(&self) -> RwLockWriteGuard<'_, Sources> {
        self.sources.write().unwrap_or_else(|p| p.into_inner())
    }

    /// A fresh number, unique within this simulator: session ids, tokens,
    /// request ids.
    pub fn next_number(&self) -> u64 {
        self.counter.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// An opaque id such as a session id or request id, deterministic for a
    /// given seed and call order.
    pub fn opaque_id(&self, prefix: &str) -> String {
        let n = self.next_number();
        let mut rng = crate::seeded::SeededRng::for_item(self.config.seed, 0x1D, n);
        format!("{prefix}{:016x}{:08x}", rng.next_u64(), n)
    }

    /// Empties the targets, the inbox, sessions and tokens and restores the
    /// start-up faults; with `dataset`, also regenerates the sources
    /// (dropping modifications and additions).
    pub fn reset(&self, dataset: bool) {
        *lock(&self.k3) = K3Store::default();
        *lock(&self.k3_sessions) = K3Sessions::default();
        *lock(&self.jdy) = JdyBook::default();
        *lock(&self.wdt_trades) = TradeBook::default();
        *lock(&self.jst_tokens) = JstTokens::new(&self.config.credentials.jst);
        lock(&self.inbox).clear();
        self.faults.reset(&self.config.faults);
        if dataset {
            *self.sources_mut() =
                Sources::generate(self.config.seed, &self.config.dataset, &self.master);
        }
    }
}
