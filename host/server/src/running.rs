//! The runs this service has started: at most one per scheme (the store's
//! lease enforces it across processes; this map avoids even asking), each
//! told to stop at its next page or batch boundary when the service shuts
//! down.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::{oneshot, watch};
use tokio_util::task::TaskTracker;
use weft_engine::{Engine, EngineError, RunRequest, RunStatus, Trigger};

/// Why a run was not started.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// This service is already running the scheme.
    #[error("scheme '{scheme}' of tenant '{tenant}' is already running{}", run_hint(.run))]
    Busy {
        /// Tenant.
        tenant: String,
        /// Scheme.
        scheme: String,
        /// The run in progress (empty until it has an id).
        run: String,
    },
    /// The service is shutting down.
    #[error("the service is shutting down; no new runs start")]
    Closing,
    /// The engine refused before the run began (unknown scheme, a lease
    /// held by another process, ...).
    #[error(transparent)]
    Engine(#[from] EngineError),
}

fn run_hint(run: &str) -> String {
    if run.is_empty() {
        String::new()
    } else {
        format!(" (run {run})")
    }
}

/// A scheme this service is running.
#[derive(Debug, Default)]
struct Slot {
    /// Its run's id (empty until the run is recorded).
    run: String,
    /// Records were queued while it ran (a callback): push once more when
    /// it ends, so they are not left for the next scheduled run.
    follow: bool,
}

type Slots = Arc<Mutex<HashMap<(String, String), Slot>>>;

/// The runs in progress.
#[derive(Debug)]
pub struct Running {
    engine: Engine,
    slots: Slots,
    tasks: TaskTracker,
    stop: watch::Sender<bool>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Running {
    pub(crate) fn new(engine: Engine) -> Self {
        Self {
            engine,
            slots: Arc::default(),
            tasks: TaskTracker::new(),
            stop: watch::Sender::new(false),
        }
    }

    /// Whether this service is running `tenant`'s `scheme`.
    pub fn is_running(&self, tenant: &str, scheme: &str) -> bool {
        lock(&self.slots).contains_key(&(tenant.to_owned(), scheme.to_owned()))
    }

    /// How many runs are in progress.
    pub fn len(&self) -> usize {
        lock(&self.slots).len()
    }

    /// Whether no run is in progress.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Starts a run of `tenant`'s `scheme` in the background and returns
    /// its id once it is recorded.
    ///
    /// # Errors
    /// [`StartError`]: already running here, shutting down, or what the
    /// engine refused before the run began.
    pub async fn start(
        &self,
        tenant: &str,
        scheme: &str,
        trigger: Trigger,
        push_only: bool,
    ) -> Result<String, StartError> {
        self.start_or_follow(tenant, scheme, trigger, push_only, false)
            .await
            .map(Option::unwrap_or_default)
    }

    /// Pushes what is queued for `tenant`'s `scheme` soon: now if it is
    /// not running, else once more when its run ends. `Ok(Some(id))` when
    /// a run started now.
    ///
    /// # Errors
    /// As [`Running::start`], except `Busy`.
    pub async fn push_soon(
        &self,
        tenant: &str,
        scheme: &str,
    ) -> Result<Option<String>, StartError> {
        self.start_or_follow(tenant, scheme, Trigger::Webhook, true, true)
            .await
    }

    async fn start_or_follow(
        &self,
        tenant: &str,
        scheme: &str,
        trigger: Trigger,
        push_only: bool,
        follow: bool,
    ) -> Result<Option<String>, StartError> {
        if *self.stop.borrow() || self.tasks.is_closed() {
            return Err(StartError::Closing);
        }
        let key = (tenant.to_owned(), scheme.to_owned());
        {
            let mut slots = lock(&self.slots);
            if let Some(slot) = slots.get_mut(&key) {
                if follow {
                    slot.follow = true;
                    return Ok(None);
                }
                return Err(StartError::Busy {
                    tenant: key.0,
                    scheme: key.1,
                    run: slot.run.clone(),
                });
            }
            slots.insert(key.clone(), Slot::default());
        }
        let (started_tx, started_rx) = oneshot::channel();
        let request = RunRequest {
            tenant: tenant.to_owned(),
            scheme: scheme.to_owned(),
            trigger,
            stop: Some(self.stop.subscribe()),
            progress: None,
            push_only,
            started: Some(started_tx),
        };
        let task = self.tasks.spawn(run_then_follow(
            self.engine.clone(),
            Arc::clone(&self.slots),
            self.stop.clone(),
            key.clone(),
            request,
        ));
        match started_rx.await {
            Ok(id) => {
                if let Some(slot) = lock(&self.slots).get_mut(&key) {
                    slot.run.clone_from(&id);
                }
                Ok(Some(id))
            }
            // The engine dropped the sender without an id: the run never
            // began, and the task's result says why.
            Err(_) => match task.await {
                Ok(Err(e)) => Err(StartError::Engine(e)),
                Ok(Ok(id)) => Ok(Some(id)),
                Err(e) => Err(StartError::Engine(EngineError::Internal(e.to_string()))),
            },
        }
    }

    /// Tells every run to stop at its next boundary and refuses new ones.
    pub fn stop(&self) {
        self.stop.send_replace(true);
        self.tasks.close();
    }

    /// [`Running::stop`], then waits until every run has committed and
    /// ended.
    pub async fn stop_all(&self) {
        self.stop();
        self.tasks.wait().await;
    }
}

/// Runs `request`, then a push-only run for as long as callbacks queued
/// records meanwhile. Returns the first run's id, or why it never began.
async fn run_then_follow(
    engine: Engine,
    slots: Slots,
    stop: watch::Sender<bool>,
    key: (String, String),
    mut request: RunRequest,
) -> Result<String, EngineError> {
    let mut first = None;
    loop {
        let trigger = request.trigger;
        let t0 = std::time::Instant::now();
        let result = engine.run(request).await;
        let outcome = match &result {
            Ok(o) => o.status.as_str(),
            Err(EngineError::AlreadyRunning { .. }) => "busy",
            Err(_) => "refused",
        };
        metrics::counter!("weft_runs_total", "trigger" => trigger_label(trigger), "outcome" => outcome)
            .increment(1);
        metrics::histogram!("weft_run_duration_seconds").record(t0.elapsed().as_secs_f64());
        match &result {
            Ok(o) if o.status == RunStatus::Failed => tracing::warn!(
                tenant = %key.0, scheme = %key.1, run = %o.run_id,
                "run failed: {}",
                o.error.as_deref().unwrap_or("no reason given")
            ),
            Ok(o) => tracing::info!(
                tenant = %key.0, scheme = %key.1, run = %o.run_id,
                status = o.status.as_str(),
                "run ended"
            ),
            Err(e) => tracing::warn!(tenant = %key.0, scheme = %key.1, "run not started: {e}"),
        }
        match result {
            Ok(o) => {
                first.get_or_insert(o.run_id);
            }
            Err(e) if first.is_none() => {
                lock(&slots).remove(&key);
                return Err(e);
            }
            Err(_) => {}
        }
        let again = {
            let mut slots = lock(&slots);
            let again = !*stop.borrow() && slots.get(&key).is_some_and(|s| s.follow);
            if again {
                if let Some(slot) = slots.get_mut(&key) {
                    slot.follow = false;
                }
            } else {
                slots.remove(&key);
            }
            again
        };
        if !again {
            return Ok(first.unwrap_or_default());
        }
        request = RunRequest {
            tenant: key.0.clone(),
            scheme: key.1.clone(),
            trigger: Trigger::Webhook,
            stop: Some(stop.subscribe()),
            progress: None,
            push_only: true,
            started: None,
        };
    }
}

fn trigger_label(t: Trigger) -> &'static str {
    match t {
        Trigger::Manual => "manual",
        Trigger::Schedule => "schedule",
        Trigger::Webhook => "webhook",
    }
}
