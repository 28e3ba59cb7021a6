//! A run: claim the scheme, pull and push side by side, record the end.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use serde::Serialize;
use tokio::sync::{Notify, watch};
use weft_runtime::{CallError, CallIdentity, Direction, LogEntry};
use weft_scheme::{Mapper, Scheme};
use weft_store::SqliteStore;

use crate::endpoint::{Endpoint, GiveUp};
use crate::{Engine, EngineError, RunCounts, db};

/// What started a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Trigger {
    /// A user (`weft scheme run`, the API's run-now).
    Manual,
    /// The scheduler.
    Schedule,
    /// A pushed callback.
    Webhook,
}

impl Trigger {
    fn as_str(self) -> &'static str {
        match self {
            Self::Manual => "manual",
            Self::Schedule => "schedule",
            Self::Webhook => "webhook",
        }
    }
}

/// A request to run a scheme.
#[derive(Debug)]
pub struct RunRequest {
    /// Tenant.
    pub tenant: String,
    /// Scheme name.
    pub scheme: String,
    /// Why.
    pub trigger: Trigger,
    /// Becomes true when the run should stop at the next page or batch
    /// boundary (graceful shutdown).
    pub stop: Option<watch::Receiver<bool>>,
    /// Receives the counts as the run goes.
    pub progress: Option<watch::Sender<RunCounts>>,
    /// Only push what is queued (retries from the exception queue). Runs
    /// of a webhook scheme are always push-only: its records arrive
    /// through [`Engine::intake`], and a run writes what they queued.
    pub push_only: bool,
    /// Receives the run's id as soon as the run is recorded (an API
    /// answers "started" with it, long before the run ends).
    pub started: Option<tokio::sync::oneshot::Sender<String>>,
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    /// Everything pulled was pushed (failures are in the exception queue).
    Succeeded,
    /// Stopped by an error; the next run resumes where this one stopped.
    Failed,
    /// Stopped cleanly on a rate limit or quota; the next run resumes.
    Paused,
    /// Stopped on request (shutdown).
    Stopped,
}

impl RunStatus {
    /// `succeeded`, `failed`, `paused` or `stopped`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Paused => "paused",
            Self::Stopped => "stopped",
        }
    }
}

/// The end of a run.
#[derive(Debug, Clone, Serialize)]
pub struct RunOutcome {
    /// Run id.
    pub run_id: String,
    /// How it ended.
    pub status: RunStatus,
    /// Why, when it did not succeed.
    pub error: Option<String>,
    /// What it did.
    pub counts: RunCounts,
}

/// State shared by a run's pull and push tasks.
pub(crate) struct RunContext {
    pub(crate) engine: Engine,
    pub(crate) store: Arc<SqliteStore>,
    pub(crate) tenant: String,
    pub(crate) scheme_name: String,
    pub(crate) run_id: String,
    pub(crate) scheme: Arc<Scheme>,
    pub(crate) mapper: Arc<Mapper>,
    /// `None` for a webhook scheme: its records are posted, never read.
    pub(crate) source: Option<Endpoint>,
    pub(crate) target: Endpoint,
    pub(crate) transforms: Vec<(Arc<weft_runtime::LoadedPlugin>, serde_json::Value)>,
    pub(crate) counts: Mutex<RunCounts>,
    pub(crate) started: Instant,
    pub(crate) progress: Option<watch::Sender<RunCounts>>,
    pub(crate) stop: Option<watch::Receiver<bool>>,
    pub(crate) end: Mutex<Option<(RunStatus, String)>>,
    pub(crate) pulled_all: AtomicBool,
    /// Set when records behind the push's scan position became queued
    /// (a changed document re-queued, a failed write due again later).
    pub(crate) rescan: AtomicBool,
    pub(crate) queued: Notify,
    /// Queued documents on their way from the pull to the push.
    pub(crate) handoff: crate::handoff::Handoff,
    log: Mutex<Vec<serde_json::Value>>,
    logged_exchanges: Mutex<usize>,
}

/// The source side's view of the run.
pub(crate) struct SourceWatch<'a>(pub(crate) &'a RunContext);
/// The target side's view of the run.
pub(crate) struct TargetWatch<'a>(pub(crate) &'a RunContext);

impl crate::endpoint::CallWatcher for SourceWatch<'_> {
    fn stopping(&self) -> bool {
        self.0.stopping()
    }
    fn log(&self, entries: Vec<LogEntry>, error: Option<&CallError>) {
        self.0.keep_log("source", entries, error);
    }
}

impl crate::endpoint::CallWatcher for TargetWatch<'_> {
    fn stopping(&self) -> bool {
        self.0.stopping()
    }
    fn log(&self, entries: Vec<LogEntry>, error: Option<&CallError>) {
        self.0.keep_log("target", entries, error);
    }
}

impl RunContext {
    /// True once the run must stop: shutdown requested or a task ended it.
    pub(crate) fn stopping(&self) -> bool {
        self.stop.as_ref().is_some_and(|s| *s.borrow())
            || self
                .end
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .is_some()
    }

    /// Ends the run (the first reason wins).
    pub(crate) fn end_with(&self, status: RunStatus, reason: String) {
        let mut end = self
            .end
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if end.is_none() {
            tracing::warn!(tenant = %self.tenant, scheme = %self.scheme_name, status = status.as_str(), "{reason}");
            *end = Some((status, reason));
        }
        drop(end);
        self.queued.notify_waiters();
    }

    /// Ends the run for a call given up.
    pub(crate) fn give_up(&self, what: &str, g: GiveUp) {
        let (status, message) = match &g {
            GiveUp::Stopped => (RunStatus::Stopped, g.to_string()),
            GiveUp::Quota(_) => (RunStatus::Paused, format!("{what}: {g}")),
            GiveUp::Transient(_) | GiveUp::Auth(_) | GiveUp::Fatal(_) => {
                (RunStatus::Failed, format!("{what}: {g}"))
            }
        };
        self.end_with(status, message);
    }

    pub(crate) fn update(&self, f: impl FnOnce(&mut RunCounts)) {
        let mut counts = self
            .counts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut counts);
        if let Some(p) = &self.progress {
            p.send_replace(counts.clone().with_elapsed(self.started.elapsed()));
        }
    }

    pub(crate) fn counts(&self) -> RunCounts {
        self.counts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
            .with_elapsed(self.started.elapsed())
    }

    /// Keeps a call's log for the run: plugin lines and failures always,
    /// HTTP exchanges up to the run's cap.
    pub(crate) fn keep_log(&self, side: &str, entries: Vec<LogEntry>, error: Option<&CallError>) {
        let mut kept = Vec::new();
        let mut budget = self
            .logged_exchanges
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for e in entries {
            let keep = match &e {
                LogEntry::Http(x) => {
                    let failed = x.error.is_some() || x.status.is_none_or(|s| s >= 400);
                    if failed || *budget < self.engine.options.logged_exchanges {
                        *budget += 1;
                        true
                    } else {
                        false
                    }
                }
                LogEntry::Line(_) => true,
            };
            if keep {
                let mut v = serde_json::to_value(&e).unwrap_or_default();
                if let Some(m) = v.as_object_mut() {
                    m.insert("side".into(), side.into());
                }
                kept.push(v);
            }
        }
        drop(budget);
        if let Some(e) = error {
            kept.push(serde_json::json!({
                "type": "error", "side": side, "class": e.class().as_str(), "message": e.to_string(),
                "at_ms": time::OffsetDateTime::now_utc().unix_timestamp() * 1000,
            }));
        }
        if !kept.is_empty() {
            self.log
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .extend(kept);
        }
    }

    /// Writes the kept log entries to the store.
    pub(crate) async fn flush_log(&self) {
        let entries = std::mem::take(
            &mut *self
                .log
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        );
        if entries.is_empty() {
            return;
        }
        let id = self.run_id.clone();
        if let Err(e) = db(&self.store, move |s| s.append_run_log(&id, &entries)).await {
            tracing::warn!("cannot write the run log: {e}");
        }
    }
}

impl Engine {
    /// Parses and compiles an applied scheme of a tenant.
    pub(crate) async fn load_scheme(
        &self,
        tenant: &str,
        name: &str,
    ) -> Result<(Scheme, Mapper), EngineError> {
        let (t, n) = (tenant.to_owned(), name.to_owned());
        let stored = db(&self.store, move |s| s.scheme(&t, &n)).await?;
        let scheme = Scheme::parse(&stored.file, &stored.yaml)
            .map_err(|d| EngineError::Scheme(d.to_string()))?;
        let t = tenant.to_owned();
        let tables = db(&self.store, move |s| s.lookup_tables(&t)).await?;
        let mapper =
            Mapper::compile(&scheme, &tables).map_err(|d| EngineError::Scheme(d.to_string()))?;
        Ok((scheme, mapper))
    }

    /// Runs a scheme to the end: pulls every window up to now and pushes
    /// what is queued. Returns how it ended; an `Err` means it could not
    /// start.
    ///
    /// A webhook scheme has nothing to pull: its run only pushes what is
    /// queued (records a callback committed whose push was deferred or is
    /// due for a retry, and records retried from the exception queue), as
    /// if `push_only` were set. That keeps `weft scheme run`, a `schedule`
    /// and `weft records retry` meaningful for it.
    ///
    /// # Errors
    /// An unknown or invalid scheme, an unknown connection or plugin, a
    /// failed live lookup, or another run holding the scheme.
    pub async fn run(&self, request: RunRequest) -> Result<RunOutcome, EngineError> {
        let RunRequest {
            tenant,
            scheme: scheme_name,
            trigger,
            stop,
            progress,
            push_only,
            started,
        } = request;
        let owner = weft_store::lease_owner();
        let lease_secs = self.options.lease_secs;
        let (t, n, o) = (tenant.clone(), scheme_name.clone(), owner.clone());
        // The scheme must exist before it can be claimed.
        let (scheme, mapper) = self.load_scheme(&tenant, &scheme_name).await?;
        let push_only = push_only || scheme.source.is_webhook();
        if !db(&self.store, move |s| s.claim(&t, &n, &o, lease_secs)).await? {
            let (t, n) = (tenant.clone(), scheme_name.clone());
            let holder = db(&self.store, move |s| s.lease_holder(&t, &n))
                .await?
                .unwrap_or_else(|| "another process".into());
            return Err(EngineError::AlreadyRunning {
                tenant,
                scheme: scheme_name,
                holder,
            });
        }
        let heartbeat = self.heartbeat(&tenant, &scheme_name, &owner);
        let result = self
            .run_claimed(
                &tenant,
                &scheme_name,
                trigger,
                scheme,
                mapper,
                stop,
                progress,
                push_only,
                started,
            )
            .await;
        heartbeat.abort();
        let (t, n, o) = (tenant.clone(), scheme_name.clone(), owner.clone());
        if let Err(e) = db(&self.store, move |s| s.release(&t, &n, &o)).await {
            tracing::warn!("cannot release the lease of {tenant}/{scheme_name}: {e}");
        }
        result
    }

    fn heartbeat(&self, tenant: &str, scheme: &str, owner: &str) -> tokio::task::JoinHandle<()> {
        let store = Arc::clone(&self.store);
        let (t, n, o) = (tenant.to_owned(), scheme.to_owned(), owner.to_owned());
        let secs = self.options.lease_secs;
        tokio::spawn(async move {
            let every = std::time::Duration::from_secs(u64::try_from(secs / 3).unwrap_or(1).max(1));
            loop {
                tokio::time::sleep(every).await;
                let (t, n, o) = (t.clone(), n.clone(), o.clone());
                match db(&store, move |s| s.renew(&t, &n, &o, secs)).await {
                    Ok(true) => {}
                    Ok(false) => tracing::error!("the lease of a running scheme was lost"),
                    Err(e) => tracing::warn!("cannot renew a lease: {e}"),
                }
            }
        })
    }

    #[allow(clippy::too_many_arguments)]
    async fn run_claimed(
        &self,
        tenant: &str,
        scheme_name: &str,
        trigger: Trigger,
        scheme: Scheme,
        mut mapper: Mapper,
        stop: Option<watch::Receiver<bool>>,
        progress: Option<watch::Sender<RunCounts>>,
        push_only: bool,
        started: Option<tokio::sync::oneshot::Sender<String>>,
    ) -> Result<RunOutcome, EngineError> {
        let (t, n) = (tenant.to_owned(), scheme_name.to_owned());
        let run_id = db(&self.store, move |s| s.start_run(&t, &n, trigger.as_str())).await?;
        if let Some(started) = started {
            // Nobody waiting for the id is no reason to stop the run.
            let _ = started.send(run_id.clone());
        }
        let (t, n, r) = (tenant.to_owned(), scheme_name.to_owned(), run_id.clone());
        db(&self.store, move |s| s.stop_orphaned_runs(&t, &n, &r)).await?;
        let identity = CallIdentity {
            tenant: tenant.to_owned(),
            scheme: scheme_name.to_owned(),
            run_id: run_id.clone(),
        };
        let prepared = async {
            let source = if scheme.source.is_webhook() {
                None
            } else {
                Some(
                    self.endpoint(
                        &identity,
                        &scheme.source.connection,
                        &scheme.source.operation,
                        Direction::Source,
                    )
                    .await?,
                )
            };
            let target = self
                .endpoint(
                    &identity,
                    &scheme.target.connection,
                    &scheme.target.operation,
                    Direction::Target,
                )
                .await?;
            let transforms = self.transforms(&scheme).await?;
            self.fill_live_lookups(&identity, &mut mapper).await?;
            Ok::<_, EngineError>((source, target, transforms))
        }
        .await;
        let (source, target, transforms) = match prepared {
            Ok(p) => p,
            Err(e) => {
                let (r, msg) = (run_id.clone(), e.to_string());
                db(&self.store, move |s| {
                    s.finish_run(&r, "failed", &serde_json::json!({}), Some(&msg))
                })
                .await?;
                return Err(e);
            }
        };
        let ctx = Arc::new(RunContext {
            engine: self.clone(),
            store: Arc::clone(&self.store),
            tenant: tenant.to_owned(),
            scheme_name: scheme_name.to_owned(),
            run_id: run_id.clone(),
            scheme: Arc::new(scheme),
            mapper: Arc::new(mapper),
            source,
            target,
            transforms,
            counts: Mutex::new(RunCounts::default()),
            started: Instant::now(),
            progress,
            stop,
            end: Mutex::new(None),
            pulled_all: AtomicBool::new(push_only),
            rescan: AtomicBool::new(false),
            queued: Notify::new(),
            handoff: crate::handoff::Handoff::new(self.options.handoff_bytes),
            log: Mutex::new(Vec::new()),
            logged_exchanges: Mutex::new(0),
        });
        tracing::info!(tenant, scheme = scheme_name, run = %run_id, "run started");
        let pull = (!push_only).then(|| tokio::spawn(crate::pull::pull(Arc::clone(&ctx))));
        let push = tokio::spawn(crate::push::push(Arc::clone(&ctx)));
        if let Some(pull) = pull
            && let Err(e) = pull.await
        {
            ctx.end_with(RunStatus::Failed, format!("the pull task died: {e}"));
        }
        ctx.pulled_all.store(true, Ordering::SeqCst);
        ctx.queued.notify_waiters();
        if let Err(e) = push.await {
            ctx.end_with(RunStatus::Failed, format!("the push task died: {e}"));
        }
        // A stop request ends the pull and the push at their next boundary
        // without an error of their own: the run stopped, it did not
        // succeed (the next run resumes from what was committed).
        if ctx.stop.as_ref().is_some_and(|s| *s.borrow()) {
            ctx.end_with(RunStatus::Stopped, "stopped on request".into());
        }
        ctx.flush_log().await;
        let counts = ctx.counts();
        let (status, error) = ctx
            .end
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
            .map_or((RunStatus::Succeeded, None), |(s, e)| (s, Some(e)));
        let (r, st, c, er) = (
            run_id.clone(),
            status.as_str(),
            serde_json::to_value(&counts).unwrap_or_default(),
            error.clone(),
        );
        db(&self.store, move |s| {
            s.finish_run(&r, st, &c, er.as_deref())
        })
        .await?;
        tracing::info!(tenant, scheme = scheme_name, run = %run_id, status = status.as_str(), "run finished");
        Ok(RunOutcome {
            run_id,
            status,
            error,
            counts,
        })
    }

    /// The scheme's transform plugins, loaded, each with its config.
    pub(crate) async fn transforms(
        &self,
        scheme: &Scheme,
    ) -> Result<Vec<(Arc<weft_runtime::LoadedPlugin>, serde_json::Value)>, EngineError> {
        let mut transforms = Vec::with_capacity(scheme.transforms.len());
        for step in &scheme.transforms {
            let plugin = self
                .plugins
                .load(&weft_plugins::PluginSpec {
                    name: step.plugin.clone(),
                    version: None,
                })
                .await?;
            transforms.push((plugin, step.config.clone()));
        }
        Ok(transforms)
    }

    /// Reads every live lookup table through its connector.
    pub(crate) async fn fill_live_lookups(
        &self,
        identity: &CallIdentity,
        mapper: &mut Mapper,
    ) -> Result<(), EngineError> {
        let lookups = mapper.live_lookups().to_vec();
        for lookup in lookups {
            let endpoint = self
                .endpoint(
                    identity,
                    &lookup.connection,
                    &lookup.operation,
                    Direction::Source,
                )
                .await?;
            let mut sessions =
                crate::endpoint::Sessions::new(endpoint, self.options.calls_per_session);
            let mut rows: Vec<serde_json::Value> = Vec::new();
            let mut cursor: Option<String> = None;
            // Master data is small; the bound only guards against a
            // connector whose cursor never ends.
            for _ in 0..10_000 {
                let page = sessions
                    .read(
                        &self.options.retry,
                        &crate::endpoint::Unwatched,
                        &lookup.params,
                        cursor.as_deref(),
                    )
                    .await
                    .map_err(|g| {
                        EngineError::Call(format!("live lookup '{}': {g}", lookup.name))
                    })?;
                rows.extend(page.records.iter().map(weft_runtime::record_tree));
                match page.next {
                    Some(n) => cursor = Some(n),
                    None => break,
                }
            }
            let table = mapper
                .live_table(&lookup.name, &rows)
                .map_err(|e| EngineError::Scheme(format!("live lookup '{}': {e}", lookup.name)))?;
            tracing::info!(table = %lookup.name, rows = table.len(), "live lookup loaded");
            mapper.set_live_table(&lookup.name, table);
        }
        Ok(())
    }
}
