//! One side of a scheme: a tenant's connection, its connector plugin and
//! the operation; the sessions that call it, and retrying those calls.

use std::sync::Arc;
use std::time::Duration;

use weft_plugins::PluginSpec;
use weft_runtime::{
    CallError, CallIdentity, Connection, ConnectorInfo, ConnectorSession, Direction, ErrorClass,
    LoadedPlugin, LogEntry, OperationInfo, Page, WriteOutcome,
};

use crate::gates::ConnectionGate;
use crate::{Engine, EngineError, db};

/// A connection ready to call.
#[derive(Debug, Clone)]
pub(crate) struct Endpoint {
    pub(crate) plugin: Arc<LoadedPlugin>,
    pub(crate) connection: Connection,
    pub(crate) gate: Arc<ConnectionGate>,
    pub(crate) identity: CallIdentity,
    pub(crate) operation: OperationInfo,
}

/// Why a call was given up.
#[derive(Debug)]
pub(crate) enum GiveUp {
    /// Transient failures outlasted the retries.
    Transient(CallError),
    /// The rate limit or quota outlasted what a run waits.
    Quota(String),
    /// Credentials.
    Auth(CallError),
    /// A plugin bug, a sandbox violation or an invalid whole call.
    Fatal(CallError),
    /// The run is stopping.
    Stopped,
}

impl std::fmt::Display for GiveUp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Transient(e) => write!(f, "gave up after retries: {e}"),
            Self::Quota(m) => f.write_str(m),
            Self::Auth(e) | Self::Fatal(e) => write!(f, "{e}"),
            Self::Stopped => f.write_str("stopped on request"),
        }
    }
}

impl Engine {
    /// Resolves `tenant`'s connection `name` for `operation` of the given
    /// direction.
    pub(crate) async fn endpoint(
        &self,
        identity: &CallIdentity,
        name: &str,
        operation: &str,
        direction: Direction,
    ) -> Result<Endpoint, EngineError> {
        let tenant = identity.tenant.clone();
        let conn_name = name.to_owned();
        let stored = db(&self.store, move |s| s.connection(&tenant, &conn_name)).await?;
        let plugin = self
            .plugins
            .load(&PluginSpec {
                name: stored.plugin.clone(),
                version: None,
            })
            .await?;
        let info: ConnectorInfo = plugin.connector_info().cloned().ok_or_else(|| {
            EngineError::Scheme(format!(
                "plugin '{}' of connection '{name}' is not a connector",
                stored.plugin
            ))
        })?;
        let op = info.operation(operation).cloned().ok_or_else(|| {
            EngineError::Scheme(format!(
                "connector '{}' has no operation '{operation}'",
                info.name
            ))
        })?;
        if op.direction != direction {
            return Err(EngineError::Scheme(format!(
                "operation '{operation}' of '{}' is a {}, not a {direction}",
                info.name, op.direction
            )));
        }
        let tenant = identity.tenant.clone();
        let conn_name = name.to_owned();
        let info_for_config = info.clone();
        let (config, allowed) = db(&self.store, move |s| {
            s.connection_config(&tenant, &conn_name, &info_for_config)
        })
        .await?;
        let limit = stored.rate_limit.as_deref().and_then(|r| r.parse().ok());
        let gate = self.gates.gate(&identity.tenant, name, limit);
        let rate_gate: Arc<dyn weft_runtime::RateGate> = gate.clone();
        Ok(Endpoint {
            plugin,
            connection: Connection {
                name: name.to_owned(),
                config,
                allowed_addresses: allowed,
                rate_gate: Some(rate_gate),
            },
            gate,
            identity: identity.clone(),
            operation: op,
        })
    }
}

/// A session of an endpoint that is replaced after a sandbox violation or
/// after serving its share of calls.
pub(crate) struct Sessions {
    endpoint: Endpoint,
    current: Option<ConnectorSession>,
    calls: usize,
    calls_per_session: usize,
}

impl std::fmt::Debug for Sessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sessions")
            .field("calls", &self.calls)
            .finish_non_exhaustive()
    }
}

impl Sessions {
    pub(crate) fn new(endpoint: Endpoint, calls_per_session: usize) -> Self {
        Self {
            endpoint,
            current: None,
            calls: 0,
            calls_per_session: calls_per_session.max(1),
        }
    }

    async fn session(&mut self) -> Result<&mut ConnectorSession, CallError> {
        if self.calls >= self.calls_per_session {
            self.current = None;
        }
        if self.current.is_none() {
            self.calls = 0;
            let s = self
                .endpoint
                .plugin
                .connector(
                    self.endpoint.identity.clone(),
                    self.endpoint.connection.clone(),
                )
                .await?;
            self.current = Some(s);
        }
        self.calls += 1;
        self.current.as_mut().ok_or_else(|| CallError::Sandbox {
            plugin: self.endpoint.plugin.info().name().to_owned(),
            violation: weft_runtime::Violation::Instantiate("no session".into()),
        })
    }

    /// The log of the current session so far.
    pub(crate) fn take_log(&mut self) -> Vec<LogEntry> {
        self.current
            .as_mut()
            .map(ConnectorSession::take_log)
            .unwrap_or_default()
    }

    /// Reads a page, retrying as [`Sessions::call`] does.
    pub(crate) async fn read(
        &mut self,
        policy: &crate::RetryPolicy,
        watcher: &dyn CallWatcher,
        params: &serde_json::Value,
        cursor: Option<&str>,
    ) -> Result<Page, GiveUp> {
        match self
            .call(policy, watcher, Call::Read { params, cursor })
            .await?
        {
            Reply::Page(p) => Ok(p),
            Reply::Outcomes(_) => Err(GiveUp::Stopped),
        }
    }

    /// Writes a batch (a JSON array of `count` records), retrying as
    /// [`Sessions::call`] does.
    #[allow(clippy::ptr_arg)] // passed on to `ConnectorSession::write_json`
    pub(crate) async fn write(
        &mut self,
        policy: &crate::RetryPolicy,
        watcher: &dyn CallWatcher,
        params: &serde_json::Value,
        records: &String,
        count: usize,
    ) -> Result<Vec<WriteOutcome>, GiveUp> {
        let call = Call::Write {
            params,
            records,
            count,
        };
        match self.call(policy, watcher, call).await? {
            Reply::Outcomes(o) => Ok(o),
            Reply::Page(_) => Err(GiveUp::Stopped),
        }
    }

    /// Makes a call on a session, retrying as the error's class says:
    /// transient with backoff, rate-limited after pausing the connection's
    /// gate for the remote retry-after, others not at all. The watcher
    /// receives each attempt's session log and says when to stop.
    async fn call(
        &mut self,
        policy: &crate::RetryPolicy,
        watcher: &dyn CallWatcher,
        call: Call<'_>,
    ) -> Result<Reply, GiveUp> {
        let mut delays = policy.delays();
        let mut rate_waited = Duration::ZERO;
        let operation = self.endpoint.operation.id.clone();
        loop {
            if watcher.stopping() {
                return Err(GiveUp::Stopped);
            }
            let outcome = match self.session().await {
                Ok(s) => match &call {
                    Call::Read { params, cursor } => {
                        s.read(&operation, params, *cursor).await.map(Reply::Page)
                    }
                    Call::Write {
                        params,
                        records,
                        count,
                    } => s
                        .write_json(&operation, params, records, *count)
                        .await
                        .map(Reply::Outcomes),
                },
                Err(e) => Err(e),
            };
            let log = self.take_log();
            match outcome {
                Ok(v) => {
                    watcher.log(log, None);
                    return Ok(v);
                }
                Err(e) => {
                    watcher.log(log, Some(&e));
                    if e.violation().is_some() {
                        // A trapped or timed-out instance is poisoned.
                        self.current = None;
                    }
                    match e.class() {
                        ErrorClass::Transient => match delays.next() {
                            Some(d) => tokio::time::sleep(d).await,
                            None => return Err(GiveUp::Transient(e)),
                        },
                        ErrorClass::RateLimited => {
                            let asked = e.plugin_error().and_then(|p| p.retry_after);
                            let wait = match asked.or_else(|| delays.next()) {
                                Some(w) => w,
                                None => {
                                    return Err(GiveUp::Quota(format!(
                                        "still rate-limited after every retry: {e}"
                                    )));
                                }
                            };
                            if wait > policy.max_retry_after {
                                return Err(GiveUp::Quota(format!(
                                    "the remote system asks to wait {} s, more than a run waits ({} s): {e}",
                                    wait.as_secs(),
                                    policy.max_retry_after.as_secs()
                                )));
                            }
                            rate_waited += wait;
                            if rate_waited > policy.max_rate_wait {
                                return Err(GiveUp::Quota(format!(
                                    "rate-limited for {} s in this run: {e}",
                                    rate_waited.as_secs()
                                )));
                            }
                            // Every session of this connection waits with us.
                            self.endpoint.gate.pause(wait);
                        }
                        ErrorClass::Auth => return Err(GiveUp::Auth(e)),
                        ErrorClass::Invalid | ErrorClass::Fatal => return Err(GiveUp::Fatal(e)),
                    }
                }
            }
        }
    }
}

enum Call<'a> {
    Read {
        params: &'a serde_json::Value,
        cursor: Option<&'a str>,
    },
    Write {
        params: &'a serde_json::Value,
        records: &'a String,
        count: usize,
    },
}

enum Reply {
    Page(Page),
    Outcomes(Vec<WriteOutcome>),
}

/// Who makes calls through [`Sessions`]: says when to stop and keeps the
/// calls' logs.
pub(crate) trait CallWatcher: Send + Sync {
    /// True when the caller is stopping.
    fn stopping(&self) -> bool {
        false
    }
    /// One attempt's session log, and its error if it failed.
    fn log(&self, entries: Vec<LogEntry>, error: Option<&CallError>) {
        let _ = (entries, error);
    }
}

/// A watcher that never stops and keeps no log (lookups, previews).
pub(crate) struct Unwatched;

impl CallWatcher for Unwatched {}
