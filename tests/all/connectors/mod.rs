//! Every seed connector against the simulator of its system, in process:
//! the real plugin in the real sandbox, the simulator on a free loopback
//! port, one simulator per test. Sources are paged through whole windows
//! and compared with the simulator's own documents; targets are written,
//! written again (idempotency) and inspected on the simulator's side;
//! faults are injected and the errors' classes checked.

mod jackyun;
mod jdy;
mod jst;
mod k3cloud;
mod qimen;
mod wdt;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use weft_runtime::{
    CallError, ConnectorSession, ErrorClass, LoadedPlugin, Page, PluginError, Runtime,
    RuntimeConfig, WriteOutcome,
};
use weft_sim::{
    Faults, RateLimit, SimConfig, SimHandle, Simulator, SourceKind, TimeoutMode, clock,
};

use crate::support::{load, runtime, session, test_limits};

/// More pages than any test's window holds: a connector that never ends
/// its paging fails instead of looping.
const MAX_PAGES: usize = 50;

/// A simulator and one connector loaded into a sandbox runtime.
pub struct Rig {
    pub sim: SimHandle,
    plugin: Arc<LoadedPlugin>,
    /// Kept alive for the plugin's sake.
    _runtime: Runtime,
}

impl Rig {
    /// A simulator with `adjust`ed defaults and the built `plugin`.
    pub async fn start(plugin: &str, adjust: impl FnOnce(&mut SimConfig)) -> Rig {
        let runtime = runtime();
        Rig::with_runtime(runtime, plugin, adjust).await
    }

    /// As [`Rig::start`], with a host HTTP timeout of `http_timeout`: what
    /// makes a held request a timeout on the plugin's side.
    pub async fn with_http_timeout(plugin: &str, http_timeout: Duration) -> Rig {
        let runtime = Runtime::new(RuntimeConfig {
            limits: weft_runtime::Limits {
                http_timeout,
                ..test_limits()
            },
            dns_overrides: HashMap::new(),
        })
        .expect("the runtime starts");
        Rig::with_runtime(runtime, plugin, |_| {}).await
    }

    async fn with_runtime(
        runtime: Runtime,
        plugin: &str,
        adjust: impl FnOnce(&mut SimConfig),
    ) -> Rig {
        let mut config = SimConfig::default();
        adjust(&mut config);
        let sim = Simulator::start(config).expect("the simulator starts on a free loopback port");
        let plugin = load(&runtime, plugin).await;
        Rig {
            sim,
            plugin,
            _runtime: runtime,
        }
    }

    /// A call batch with a connection of `config`, allowed to reach
    /// loopback.
    pub async fn session(&self, config: Value) -> ConnectorSession {
        session(&self.plugin, config).await
    }

    /// The connector's declared longest window of `operation`, in seconds.
    pub fn max_window_secs(&self, operation: &str) -> u64 {
        self.plugin
            .connector_info()
            .and_then(|info| info.operation(operation))
            .and_then(|op| op.max_window_secs)
            .unwrap_or_else(|| panic!("{operation} declares no max_window_secs"))
    }

    /// The window `[base + from_day, base + to_day]` of the dataset, China
    /// time, as the APIs take it.
    pub fn window(&self, from_day: i64, to_day: i64) -> (String, String) {
        let base = self.sim.config().dataset.base_time;
        (
            clock::format_china(base + from_day * 86_400),
            clock::format_china(base + to_day * 86_400),
        )
    }

    /// The simulator's documents of `kind` whose `modified_field` lies in
    /// the closed window, in `modified` order.
    pub fn documents_in(
        &self,
        kind: SourceKind,
        modified_field: &str,
        (from, to): &(String, String),
    ) -> Vec<Value> {
        let from = clock::parse_china(from).expect("window start parses");
        let to = clock::parse_china(to).expect("window end parses");
        self.sim
            .documents(kind)
            .into_iter()
            .filter(|d| {
                d[modified_field]
                    .as_str()
                    .and_then(clock::parse_china)
                    .is_some_and(|m| (from..=to).contains(&m))
            })
            .collect()
    }
}

/// Reads every page of `operation`, following the cursors.
pub async fn read_pages(
    session: &mut ConnectorSession,
    operation: &str,
    params: &Value,
) -> Vec<Page> {
    let mut pages = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let page = session
            .read(operation, params, cursor.as_deref())
            .await
            .unwrap_or_else(|e| panic!("{operation} page {} reads: {e}", pages.len()));
        cursor = page.next.clone();
        pages.push(page);
        if cursor.is_none() {
            return pages;
        }
    }
    panic!("{operation} did not end its paging within {MAX_PAGES} pages");
}

/// The records of all pages, in order.
pub fn records(pages: &[Page]) -> Vec<Value> {
    pages
        .iter()
        .flat_map(|p| p.records.iter().map(weft_runtime::record_tree))
        .collect()
}

/// Each record's `field` as text (keys are numbers in some systems).
pub fn keys(records: &[Value], field: &str) -> Vec<String> {
    records
        .iter()
        .map(|r| match &r[field] {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .collect()
}

/// The error of a call that must fail.
pub fn failure<T: std::fmt::Debug>(result: Result<T, CallError>) -> PluginError {
    match result {
        Ok(v) => panic!("the call should fail, got {v:?}"),
        Err(CallError::Plugin(e)) => e,
        Err(e) => panic!("the plugin should answer with an error, the sandbox said: {e}"),
    }
}

/// Asserts the class of `error` and that its message names each of
/// `names`.
pub fn assert_error(error: &PluginError, class: ErrorClass, names: &[&str]) {
    assert_eq!(error.class, class, "{error}");
    for name in names {
        assert!(error.message.contains(name), "'{name}' in: {error}");
    }
}

/// `(id, number, existed)` of a written record.
pub fn written(outcome: &WriteOutcome) -> (Option<&str>, Option<&str>, bool) {
    match outcome {
        WriteOutcome::Written {
            id,
            number,
            existed,
        } => (id.as_deref(), number.as_deref(), *existed),
        WriteOutcome::Failed(e) => panic!("the record should be written: {e}"),
    }
}

/// The error of a record that must fail.
pub fn refused(outcome: &WriteOutcome) -> &PluginError {
    match outcome {
        WriteOutcome::Failed(e) => e,
        WriteOutcome::Written { .. } => panic!("the record should fail, got {outcome:?}"),
    }
}

/// Every request answered with HTTP 503.
pub fn server_errors() -> Faults {
    Faults {
        error_rate: 1.0,
        ..Faults::default()
    }
}

/// Every request refused by the system's rate limit: a bucket with no
/// tokens that never refills, so no timing is involved.
pub fn throttled() -> Faults {
    Faults {
        rate_limit: Some(RateLimit {
            per_second: 0.0,
            burst: 0,
        }),
        ..Faults::default()
    }
}

/// Every request held far longer than [`SHORT_HTTP_TIMEOUT`], then cut.
pub fn held() -> Faults {
    Faults {
        timeout_rate: 1.0,
        timeout_hold_ms: 3_000,
        ..Faults::default()
    }
}

/// Every request processed at once but answered only after
/// [`SHORT_HTTP_TIMEOUT`]: a write that lands while its caller gives up.
pub fn answered_late() -> Faults {
    Faults {
        timeout_mode: TimeoutMode::Late,
        ..held()
    }
}

/// Every request held a moment, then its connection cut.
pub fn cut() -> Faults {
    Faults {
        timeout_rate: 1.0,
        timeout_hold_ms: 50,
        ..Faults::default()
    }
}

/// The host HTTP timeout of the timeout tests.
pub const SHORT_HTTP_TIMEOUT: Duration = Duration::from_millis(300);

/// Whether the session's log says the plugin logged `text`.
pub fn logged(session: &mut ConnectorSession, text: &str) -> bool {
    session
        .take_log()
        .iter()
        .any(|entry| format!("{entry:?}").contains(text))
}
