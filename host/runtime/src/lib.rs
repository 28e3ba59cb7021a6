//! # weft-runtime: the plugin sandbox
//!
//! Loads weft plugins (WebAssembly components built against the
//! `weft:plugin` WIT contract) and runs them without trusting them:
//!
//! - one wasmtime [`Engine`](wasmtime::Engine) per process, with the
//!   component model, the pooling allocator, copy-on-write memory images and
//!   epoch interruption driven by a ticker thread;
//! - the contract version is read before compiling ([`contract`]);
//! - a fresh `Store` per call batch ([`ConnectorSession`],
//!   [`TransformSession`]), never shared between tenants, with a memory cap,
//!   a CPU deadline, a wall-clock timeout and caps on the bytes passed in
//!   and out ([`Limits`]);
//! - WASI with no filesystem, environment, sockets or stdin; stdout and
//!   stderr captured into the call's log;
//! - outbound HTTP only through the host ([`egress`]): declared hosts, no
//!   internal addresses unless the operator allows them, size caps,
//!   timeouts, and a redacted record of every exchange.

pub mod contract;
pub mod egress;
mod limits;
pub mod log;
mod plugin;
mod sandbox;
pub mod types;
pub mod validate;

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;
use wasmtime::component::{Component, Linker};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

pub use contract::{ComponentContract, ContractError, PluginKind, read_contract};
pub use egress::{Egress, EgressPolicy, HttpExchange};
pub use limits::Limits;
pub use log::{Level, LogEntry, LogLine, Source};
pub use plugin::{Connection, ConnectorSession, LoadedPlugin, RateGate, TransformSession};
pub use sandbox::{CallError, Violation};
pub use types::*;

use contract::since_v0_1_0;
use plugin::PluginPre;
use sandbox::PluginState;

/// How often the epoch ticks: the granularity of CPU deadlines and of the
/// yields that keep one busy plugin from starving other tasks.
const EPOCH_TICK: Duration = Duration::from_millis(5);

/// Settings of a runtime.
#[derive(Debug, Clone, Default)]
pub struct RuntimeConfig {
    /// Sandbox limits.
    pub limits: Limits,
    /// Host names pinned to addresses for plugin egress (checked against
    /// the address policy like any resolved address).
    pub dns_overrides: HashMap<String, Vec<IpAddr>>,
}

/// Why a plugin could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// Not a component this host can run.
    #[error(transparent)]
    Contract(#[from] ContractError),
    /// wasmtime refused it.
    #[error("cannot compile the component: {0}")]
    Compile(String),
    /// It does not link against the host's imports.
    #[error("the component does not fit the {kind} world: {message}")]
    Link {
        /// The world.
        kind: PluginKind,
        /// wasmtime's explanation.
        message: String,
    },
    /// `describe()` failed.
    #[error("describe() failed: {0}")]
    Describe(CallError),
    /// `describe()` returned something invalid.
    #[error("the plugin describes itself invalidly:\n  - {}", .0.join("\n  - "))]
    Invalid(Vec<String>),
    /// A precompiled artifact does not match this engine.
    #[error("the precompiled artifact cannot be used by this weft build: {0}")]
    Artifact(String),
}

/// Why a runtime could not start.
#[derive(Debug, thiserror::Error)]
#[error("cannot start the plugin runtime: {0}")]
pub struct RuntimeError(String);

pub(crate) struct RuntimeInner {
    pub(crate) engine: Engine,
    pub(crate) limits: Limits,
    pub(crate) egress: Arc<Egress>,
    pub(crate) instances: Arc<Semaphore>,
    connector_linker: Linker<PluginState>,
    transform_linker: Linker<PluginState>,
    loaded: Mutex<HashMap<String, Arc<LoadedPlugin>>>,
    ticker_stop: Arc<AtomicBool>,
}

impl Drop for RuntimeInner {
    fn drop(&mut self) {
        self.ticker_stop.store(true, Ordering::Relaxed);
    }
}

/// The plugin runtime: one per process. Cheap to clone.
#[derive(Clone)]
pub struct Runtime {
    inner: Arc<RuntimeInner>,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("limits", &self.inner.limits)
            .finish_non_exhaustive()
    }
}

fn engine_config(limits: &Limits) -> Config {
    let mut config = Config::new();
    config.wasm_component_model(true);
    config.epoch_interruption(true);
    config.max_wasm_stack(limits.max_stack_bytes);
    // The async stack holds the wasm stack plus host frames of imports.
    config.async_stack_size(limits.max_stack_bytes + (2 << 20));
    config.memory_init_cow(true);
    let slots = limits.max_concurrent_instances.max(1);
    let mut pool = PoolingAllocationConfig::default();
    pool.total_component_instances(slots)
        // Components from componentize-py/-js hold several core instances,
        // memories and tables (the interpreter, libc, WASI adapters).
        .total_core_instances(slots.saturating_mul(16))
        .total_memories(slots.saturating_mul(4))
        .total_tables(slots.saturating_mul(8))
        .total_stacks(slots)
        .max_core_instances_per_component(64)
        .max_memories_per_component(8)
        .max_tables_per_component(32)
        .max_memory_size(limits.max_memory_bytes)
        .max_component_instance_size(1 << 20)
        .max_core_instance_size(4 << 20)
        .table_elements(200_000)
        // Every call touches the bottom of linear memory (the stack, the
        // data, the first heap pages). Keeping those pages mapped and
        // zeroing them on reuse costs less than a page fault per page on
        // every fresh instance; plugins built with a 128 KiB stack (see
        // plugins/.cargo/config.toml) fit their hot pages in this window.
        .linear_memory_keep_resident(256 << 10)
        .table_keep_resident(16 << 10)
        .async_stack_keep_resident(16 << 10);
    config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    config
}

impl Runtime {
    /// Starts a runtime: builds the engine, the linkers and the epoch
    /// ticker.
    ///
    /// # Errors
    /// When wasmtime rejects the configuration (e.g. the pool cannot be
    /// reserved).
    pub fn new(config: RuntimeConfig) -> Result<Self, RuntimeError> {
        let limits = config.limits;
        let engine =
            Engine::new(&engine_config(&limits)).map_err(|e| RuntimeError(format!("{e:#}")))?;
        let mut connector_linker = Linker::new(&engine);
        let mut transform_linker = Linker::new(&engine);
        for linker in [&mut connector_linker, &mut transform_linker] {
            wasmtime_wasi::p2::add_to_linker_async(linker)
                .map_err(|e| RuntimeError(format!("WASI: {e:#}")))?;
        }
        since_v0_1_0::add_connector_imports(&mut connector_linker)
            .map_err(|e| RuntimeError(format!("weft imports: {e:#}")))?;
        since_v0_1_0::add_transform_imports(&mut transform_linker)
            .map_err(|e| RuntimeError(format!("weft imports: {e:#}")))?;
        let ticker_stop = Arc::new(AtomicBool::new(false));
        spawn_ticker(engine.clone(), Arc::clone(&ticker_stop))?;
        let egress = Arc::new(Egress::new(limits.clone(), config.dns_overrides));
        let instances = Arc::new(Semaphore::new(limits.max_concurrent_instances as usize));
        Ok(Self {
            inner: Arc::new(RuntimeInner {
                engine,
                limits,
                egress,
                instances,
                connector_linker,
                transform_linker,
                loaded: Mutex::new(HashMap::new()),
                ticker_stop,
            }),
        })
    }

    /// The limits every call runs under.
    pub fn limits(&self) -> &Limits {
        &self.inner.limits
    }

    /// A key for precompiled artifacts: two runtimes with the same key can
    /// share them (same wasmtime version, same compiler settings).
    pub fn engine_key(&self) -> String {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        self.inner
            .engine
            .precompile_compatibility_hash()
            .hash(&mut hasher);
        format!("{:016x}", hasher.finish())
    }

    /// The sha256 of a component's bytes, lowercase hex: its identity in
    /// the plugin store and the artifact cache.
    pub fn sha256(bytes: &[u8]) -> String {
        hex::encode(Sha256::digest(bytes))
    }

    /// Checks a component's contract and compiles it to a native artifact
    /// for [`Runtime::load_precompiled`].
    ///
    /// # Errors
    /// [`LoadError::Contract`] before any compiling when the component is
    /// not a compatible plugin; [`LoadError::Compile`] when wasmtime
    /// refuses it.
    pub fn precompile(&self, wasm: &[u8]) -> Result<Vec<u8>, LoadError> {
        read_contract(wasm)?;
        self.inner
            .engine
            .precompile_component(wasm)
            .map_err(|e| LoadError::Compile(format!("{e:#}")))
    }

    /// Loads a component from its WebAssembly bytes (compiling it now).
    ///
    /// # Errors
    /// See [`LoadError`]; the contract is checked before compiling.
    pub async fn load_wasm(&self, wasm: &[u8]) -> Result<Arc<LoadedPlugin>, LoadError> {
        let sha256 = Self::sha256(wasm);
        if let Some(p) = self.cached(&sha256) {
            return Ok(p);
        }
        let contract = read_contract(wasm)?;
        let component = Component::new(&self.inner.engine, wasm)
            .map_err(|e| LoadError::Compile(format!("{e:#}")))?;
        self.finish_load(sha256, contract, &component).await
    }

    /// Loads a component from an artifact made by [`Runtime::precompile`].
    /// `sha256` is the original component's and `contract` what
    /// [`read_contract`] said of it when the artifact was made; the plugin
    /// store records both at install time, so loading never recompiles.
    ///
    /// # Errors
    /// [`LoadError::Artifact`] when the artifact was made by another
    /// engine; other [`LoadError`]s as for [`Runtime::load_wasm`].
    pub async fn load_precompiled(
        &self,
        sha256: &str,
        contract: ComponentContract,
        artifact: &[u8],
    ) -> Result<Arc<LoadedPlugin>, LoadError> {
        if let Some(p) = self.cached(sha256) {
            return Ok(p);
        }
        let component = deserialize(&self.inner.engine, artifact)?;
        self.finish_load(sha256.to_owned(), contract, &component)
            .await
    }

    fn cached(&self, sha256: &str) -> Option<Arc<LoadedPlugin>> {
        self.inner
            .loaded
            .lock()
            .ok()
            .and_then(|m| m.get(sha256).cloned())
    }

    async fn finish_load(
        &self,
        sha256: String,
        contract: ComponentContract,
        component: &Component,
    ) -> Result<Arc<LoadedPlugin>, LoadError> {
        let link_error = |e: wasmtime::Error| LoadError::Link {
            kind: contract.kind,
            message: format!("{e:#}"),
        };
        let pre = match contract.kind {
            PluginKind::Connector => {
                let pre = self
                    .inner
                    .connector_linker
                    .instantiate_pre(component)
                    .map_err(link_error)?;
                PluginPre::ConnectorV0_1(
                    since_v0_1_0::connector::ConnectorPre::new(pre).map_err(link_error)?,
                )
            }
            PluginKind::Transform => {
                let pre = self
                    .inner
                    .transform_linker
                    .instantiate_pre(component)
                    .map_err(link_error)?;
                PluginPre::TransformV0_1(
                    since_v0_1_0::transform::TransformPre::new(pre).map_err(link_error)?,
                )
            }
        };
        let hint = format!("{} {}", contract.kind, &sha256[..12.min(sha256.len())]);
        let info = plugin::describe(&self.inner, &hint, &pre)
            .await
            .map_err(LoadError::Describe)?;
        let problems = validate::check_info(&info);
        if !problems.is_empty() {
            return Err(LoadError::Invalid(problems));
        }
        let loaded = Arc::new(LoadedPlugin {
            sha256: sha256.clone(),
            contract,
            info,
            pre,
            runtime: Arc::clone(&self.inner),
        });
        if let Ok(mut map) = self.inner.loaded.lock() {
            map.insert(sha256, Arc::clone(&loaded));
        }
        Ok(loaded)
    }
}

#[allow(unsafe_code)]
fn deserialize(engine: &Engine, artifact: &[u8]) -> Result<Component, LoadError> {
    // SAFETY: `Component::deserialize` trusts its input to be an artifact
    // this engine produced. Callers pass only artifacts from weft's own
    // cache, whose sha256 the plugin store verified against the one it
    // recorded when it wrote them; wasmtime itself checks the engine
    // version and settings in the artifact's header.
    unsafe { Component::deserialize(engine, artifact) }
        .map_err(|e| LoadError::Artifact(format!("{e:#}")))
}

fn spawn_ticker(engine: Engine, stop: Arc<AtomicBool>) -> Result<(), RuntimeError> {
    std::thread::Builder::new()
        .name("weft-epoch".into())
        .spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                std::thread::sleep(EPOCH_TICK);
                engine.increment_epoch();
            }
        })
        .map(drop)
        .map_err(|e| RuntimeError(format!("cannot start the epoch ticker: {e}")))
}
