//! Starting and stopping the simulator: one loopback port, routed by path,
//! served by its own thread and tokio runtime so that synchronous tests and
//! async ones alike can use it.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, Method, Uri};
use axum::response::Response;
use axum::routing::{get, post};
use serde_json::Value;
use tokio::sync::watch;

use crate::config::SimConfig;
use crate::control;
use crate::dataset::SourceKind;
use crate::dataset::master::MasterData;
use crate::error::SimError;
use crate::faults::Faults;
use crate::inspect::ReceivedLog;
use crate::state::{SimState, lock};
use crate::system::System;
use crate::{clock, jackyun, jdy, jst, k3cloud, qimen, shop, wdt, wire};

const FIXED_PATHS: [&str; 7] = [
    "/router/qm",
    "/open/refund/single/query",
    "/openWeb/auth/getInitToken",
    "/openWeb/auth/refreshToken",
    "/open/openapi/do",
    "/jdyconnector/app_management/kingdee_auth_token",
    "/_sim/health",
];

fn check_jdy_path(path: &str) -> Result<(), SimError> {
    let valid = path.starts_with('/')
        && path.len() > 1
        && path
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '_' | '-' | '.'))
        && !FIXED_PATHS.contains(&path)
        && !path.starts_with("/_sim/")
        && !path.starts_with("/shop/")
        && !path.starts_with("/openapi2/")
        && !path.to_ascii_lowercase().starts_with("/k3cloud/");
    if valid {
        Ok(())
    } else {
        Err(SimError::Unsupported {
            system: System::Jdy,
            what: format!(
                "the purchase-return path '{path}' (expected /a/b/c, not clashing with other routes)"
            ),
        })
    }
}

fn routes(state: Arc<SimState>) -> Router {
    let save_path = state.config.jdy_pur_return_path.clone();
    let detail_path = format!("{save_path}_detail");
    Router::new()
        .route("/openapi2/{file}", post(wdt::openapi2))
        .route("/router/qm", post(qimen::router))
        .route("/open/refund/single/query", post(jst::refund_query))
        .route("/openWeb/auth/getInitToken", post(jst::init_token))
        .route("/openWeb/auth/refreshToken", post(jst::refresh_token))
        .route("/open/openapi/do", post(jackyun::open_api))
        .route("/shop/v1/orders", get(shop::orders))
        .route(
            "/jdyconnector/app_management/kingdee_auth_token",
            get(
                |State(s): State<Arc<SimState>>, m: Method, u: Uri, h: HeaderMap| {
                    jdy::auth_token(s, m, u, h)
                },
            ),
        )
        .route(
            &save_path,
            post(
                |State(s): State<Arc<SimState>>, u: Uri, h: HeaderMap, b: Bytes| {
                    jdy::save_pur_return(s, u, h, b)
                },
            ),
        )
        .route(
            &detail_path,
            get(|State(s): State<Arc<SimState>>, u: Uri, h: HeaderMap| {
                jdy::pur_return_detail(s, u, h)
            }),
        )
        .merge(control::routes())
        .fallback(fallback)
        .layer(DefaultBodyLimit::max(256 << 20))
        .with_state(state)
}

/// K3Cloud paths are matched case-insensitively (`/K3Cloud/…save…`), which
/// a router cannot express; everything else unknown is a 404.
async fn fallback(
    State(state): State<Arc<SimState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if method == Method::POST && uri.path().to_ascii_lowercase().starts_with("/k3cloud/") {
        return k3cloud::service(state, uri, headers, body).await;
    }
    wire::not_found(uri.path())
}

/// Starts simulators.
#[derive(Debug)]
pub struct Simulator;

impl Simulator {
    /// Generates the datasets, binds `127.0.0.1:{config.port}` (0 picks a
    /// free port) and serves on a thread of its own until the handle is shut
    /// down or dropped.
    ///
    /// # Errors
    /// The port cannot be bound, the JDY path is unusable, or the runtime
    /// cannot start.
    pub fn start(config: SimConfig) -> Result<SimHandle, SimError> {
        check_jdy_path(&config.jdy_pur_return_path)?;
        let port = config.port;
        let listener = std::net::TcpListener::bind(("127.0.0.1", port))
            .map_err(|source| SimError::Bind { port, source })?;
        listener
            .set_nonblocking(true)
            .map_err(|source| SimError::Bind { port, source })?;
        let addr = listener
            .local_addr()
            .map_err(|source| SimError::Bind { port, source })?;
        let origin = format!("http://{addr}");
        let state = Arc::new(SimState::new(config, origin.clone()));
        let router = routes(state.clone());
        let (stop_tx, stop_rx) = watch::channel(false);
        let (ready_tx, ready_rx) = mpsc::channel::<Result<(), SimError>>();
        let thread = std::thread::Builder::new()
            .name("weft-sim".into())
            .spawn(move || serve(listener, router, stop_rx, ready_tx))
            .map_err(SimError::Runtime)?;
        match ready_rx.recv() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(e),
            Err(_) => return Err(SimError::StartAborted),
        }
        tracing::info!(%origin, "weft-sim listening");
        Ok(SimHandle {
            state,
            addr,
            origin,
            stop: stop_tx,
            thread: Some(thread),
        })
    }
}

fn serve(
    listener: std::net::TcpListener,
    router: Router,
    stop: watch::Receiver<bool>,
    ready: mpsc::Sender<Result<(), SimError>>,
) {
    // One thread serves everything. Handlers run briefly and never block,
    // and the simulator shares its machine with the weft it is serving: a
    // pool of workers bought no throughput, only wake-ups and context
    // switches (a sixth of the simulator's CPU in the throughput bench).
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            let _ = ready.send(Err(SimError::Runtime(e)));
            return;
        }
    };
    runtime.block_on(async move {
        let listener = match tokio::net::TcpListener::from_std(listener) {
            Ok(l) => l,
            Err(e) => {
                let _ = ready.send(Err(SimError::Runtime(e)));
                return;
            }
        };
        let _ = ready.send(Ok(()));
        let mut graceful = stop.clone();
        let server = axum::serve(listener, router).with_graceful_shutdown(async move {
            let _ = graceful.wait_for(|s| *s).await;
        });
        // Held requests (timeout faults) would keep a graceful shutdown
        // waiting; give in-flight work a moment, then stop regardless.
        let mut deadline = stop;
        let hard_stop = async move {
            let _ = deadline.wait_for(|s| *s).await;
            tokio::time::sleep(Duration::from_millis(500)).await;
        };
        tokio::select! {
            result = server => {
                if let Err(e) = result {
                    tracing::error!(error = %e, "weft-sim server stopped");
                }
            }
            () = hard_stop => {}
        }
    });
    runtime.shutdown_timeout(Duration::from_millis(200));
}

/// A running simulator. Dropping it stops the server.
#[derive(Debug)]
pub struct SimHandle {
    state: Arc<SimState>,
    addr: SocketAddr,
    origin: String,
    stop: watch::Sender<bool>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for SimState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimState")
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

impl SimHandle {
    /// `http://127.0.0.1:PORT`: the `base_url` of every system but K3Cloud.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// `http://127.0.0.1:PORT/k3cloud/`: the K3Cloud server URL.
    pub fn k3cloud_url(&self) -> String {
        format!("{}/k3cloud/", self.origin)
    }

    /// The JDY purchase-return save URL.
    pub fn jdy_pur_return_url(&self) -> String {
        format!("{}{}", self.origin, self.state.config.jdy_pur_return_path)
    }

    /// The configuration it runs with (credentials included).
    pub fn config(&self) -> &SimConfig {
        &self.state.config
    }

    pub fn master(&self) -> &MasterData {
        &self.state.master
    }

    /// What a target form received, in order, bodies included: K3Cloud per
    /// FormId (`PUR_PurchaseOrder`, `SAL_RETURNSTOCK`, `SAL_OUTSTOCK`), JDY
    /// `pur_return`, 旺店通 `trade_push`.
    pub fn received(&self, system: System, form: &str) -> ReceivedLog {
        lock(&self.state.inbox).log(system, form, true)
    }

    /// The forms of a system that received anything, with entry counts.
    pub fn received_forms(&self, system: System) -> Vec<(String, usize)> {
        lock(&self.state.inbox).forms(system)
    }

    /// Replaces a system's faults; the fault dice restart from the seed.
    pub fn set_faults(&self, system: System, faults: Faults) {
        self.state.faults.set(system, faults);
    }

    pub fn faults(&self, system: System) -> Faults {
        self.state.faults.get(system)
    }

    /// No faults anywhere.
    pub fn clear_faults(&self) {
        for s in System::ALL {
            self.state.faults.set(s, Faults::default());
        }
    }

    /// Every K3Cloud session ends now ("会话信息已丢失，请重新登录").
    pub fn expire_k3_sessions(&self) {
        lock(&self.state.k3_sessions).expire_all();
    }

    /// Every 聚水潭 access token stops working now.
    pub fn expire_jst_tokens(&self) {
        lock(&self.state.jst_tokens).expire_all();
    }

    /// Every JDY app-token stops working now.
    pub fn expire_jdy_tokens(&self) {
        lock(&self.state.jdy).expire_tokens();
    }

    /// A source document as its API renders it.
    pub fn document(&self, kind: SourceKind, key: &str) -> Option<Value> {
        self.state.sources().render(kind, key, &self.state.master)
    }

    /// Every source document of a kind, in `modified` order.
    pub fn documents(&self, kind: SourceKind) -> Vec<Value> {
        self.state
            .sources()
            .render_range(kind, 0, usize::MAX, &self.state.master)
    }

    /// Keys of a kind, in `modified` order.
    pub fn keys(&self, kind: SourceKind) -> Vec<String> {
        self.state.sources().keys(kind)
    }

    pub fn dataset_len(&self, kind: SourceKind) -> usize {
        self.state.sources().len(kind)
    }

    /// Re-sync edits: each document gets `modified` = now and some changed
    /// values (a remark, a quantity). Returns the new documents.
    ///
    /// # Errors
    /// A key that does not exist (nothing is modified then).
    pub fn modify(&self, kind: SourceKind, keys: &[&str]) -> Result<Vec<Value>, SimError> {
        let keys: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
        self.state
            .sources_mut()
            .modify(kind, &keys, clock::now_unix(), &self.state.master)
    }

    /// Adds a generated document with some fields overridden, e.g.
    /// `json!({"details_list": [{"spec_no": "NO-SUCH-SKU"}]})`; `modified`
    /// is now unless the overrides give `"modified": "yyyy-MM-dd HH:mm:ss"`.
    ///
    /// # Errors
    /// Overrides that are not an object, or a key that already exists.
    pub fn add(&self, kind: SourceKind, overrides: Value) -> Result<Value, SimError> {
        self.state
            .sources_mut()
            .add(kind, overrides, clock::now_unix(), &self.state.master)
    }

    /// The model K3Cloud holds for a bill number (with its `FID`).
    pub fn k3_bill(&self, form: &str, number: &str) -> Option<Value> {
        control::target_json(&self.state, System::K3cloud, form, number)
    }

    /// How many bills of a form K3Cloud holds.
    pub fn k3_bill_count(&self, form: &str) -> usize {
        k3cloud::forms::bill_form(form)
            .map(|f| lock(&self.state.k3).count(f))
            .unwrap_or(0)
    }

    /// The purchase return JDY holds for a bill number, with the `id` and
    /// `number` it assigned.
    pub fn jdy_pur_return(&self, number: &str) -> Option<Value> {
        control::target_json(&self.state, System::Jdy, "pur_return", number)
    }

    /// The trade 旺店通 holds for a `tid`.
    pub fn wdt_trade(&self, tid: &str) -> Option<Value> {
        control::target_json(&self.state, System::Wdt, "trade_push", tid)
    }

    /// `/_sim/health`'s report: dataset sizes and target counts.
    pub fn health(&self) -> Value {
        control::health_report(&self.state)
    }

    /// Empties the targets and the inspection log, ends sessions and tokens,
    /// restores the start-up faults; with `dataset`, regenerates the sources.
    pub fn reset(&self, dataset: bool) {
        self.state.reset(dataset);
    }

    /// Stops the server and waits for its thread.
    pub fn shutdown(mut self) {
        self.stop_now();
    }

    fn stop_now(&mut self) {
        let _ = self.stop.send(true);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        self.stop_now();
    }
}
