//! What a plugin instance lives in: its store data, memory guard, CPU
//! clock, captured output and egress, and how a failed call is explained.

use std::sync::Arc;
use std::time::{Duration, Instant};

use wasmtime::component::ResourceTable;
use wasmtime::{ResourceLimiter, Trap, UpdateDeadline};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use crate::egress::{Egress, EgressPolicy, HttpError, InboundResponse, OutboundRequest, Redactor};
use crate::limits::Limits;
use crate::log::{CallLog, Level, Source};
use crate::types::{ErrorClass, PluginError};

/// Why the host stopped a call, or refused its result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Violation {
    /// Guest CPU time over the limit (an endless loop).
    CpuTime(Duration),
    /// Wall time over the limit.
    WallTime(Duration),
    /// Memory over the limit.
    Memory(usize),
    /// The WebAssembly stack overflowed (runaway recursion).
    StackOverflow,
    /// The plugin panicked; the message is its own.
    Panic(String),
    /// Another trap.
    Trap(String),
    /// More bytes passed in than allowed.
    InputTooLarge {
        /// Bytes given.
        size: usize,
        /// The cap.
        limit: usize,
    },
    /// More bytes returned than allowed.
    OutputTooLarge {
        /// Bytes returned.
        size: usize,
        /// The cap.
        limit: usize,
    },
    /// A result that breaks the contract (e.g. records that are not a JSON
    /// array of objects).
    Contract(String),
    /// The instance trapped or timed out earlier in this batch.
    Unusable(String),
    /// The instance could not be created.
    Instantiate(String),
}

/// A failed call: the plugin's own classified error, or the sandbox's.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CallError {
    /// The plugin returned this error.
    #[error("{0}")]
    Plugin(PluginError),
    /// The host stopped the call.
    #[error("plugin '{plugin}' {}", describe(.violation))]
    Sandbox {
        /// Which plugin.
        plugin: String,
        /// What happened.
        violation: Violation,
    },
}

fn describe(v: &Violation) -> String {
    match v {
        Violation::CpuTime(d) => format!(
            "exceeded its CPU time limit of {:.1} s and was stopped (an endless loop?)",
            d.as_secs_f64()
        ),
        Violation::WallTime(d) => format!(
            "did not finish within the call timeout of {:.1} s and was stopped",
            d.as_secs_f64()
        ),
        Violation::Memory(limit) => format!(
            "exceeded its memory limit of {} MiB and was stopped",
            limit >> 20
        ),
        Violation::StackOverflow => {
            "overflowed its stack (runaway recursion?) and was stopped".to_owned()
        }
        Violation::Panic(m) => format!("panicked: {m}"),
        Violation::Trap(m) => format!("trapped: {m}"),
        Violation::InputTooLarge { size, limit } => {
            format!("was not called: {size} bytes of input exceed the limit of {limit} bytes")
        }
        Violation::OutputTooLarge { size, limit } => {
            format!("returned {size} bytes, over the limit of {limit} bytes; return smaller pages")
        }
        Violation::Contract(m) => format!("broke the plugin contract: {m}"),
        Violation::Unusable(m) => {
            format!("instance is unusable after an earlier failure in this batch ({m})")
        }
        Violation::Instantiate(m) => format!("could not be instantiated: {m}"),
    }
}

impl CallError {
    /// The class the host acts on. Sandbox violations are `fatal`: the same
    /// call would break the same limit again.
    pub fn class(&self) -> ErrorClass {
        match self {
            Self::Plugin(e) => e.class,
            Self::Sandbox { .. } => ErrorClass::Fatal,
        }
    }

    /// The violation, when the sandbox stopped the call.
    pub fn violation(&self) -> Option<&Violation> {
        match self {
            Self::Sandbox { violation, .. } => Some(violation),
            Self::Plugin(_) => None,
        }
    }

    /// The plugin's error, when it returned one.
    pub fn plugin_error(&self) -> Option<&PluginError> {
        match self {
            Self::Plugin(e) => Some(e),
            Self::Sandbox { .. } => None,
        }
    }
}

/// Counts linear memory across every memory of the store, so a component
/// with several core instances cannot multiply its allowance.
#[derive(Debug)]
pub(crate) struct MemoryGuard {
    limit: usize,
    used: usize,
    pub(crate) exceeded: bool,
}

impl ResourceLimiter for MemoryGuard {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let after = self.used.saturating_sub(current).saturating_add(desired);
        if after > self.limit {
            self.exceeded = true;
            return Err(wasmtime::format_err!(
                "memory limit of {} bytes reached",
                self.limit
            ));
        }
        self.used = after;
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        // Tables hold function references; a million is far beyond any
        // real plugin and keeps a hostile one from exhausting host memory.
        Ok(desired <= 1_000_000)
    }
}

/// Guest CPU time of the current call: wall time minus time spent waiting
/// on the host (HTTP), so a slow remote system does not count as a loop.
#[derive(Debug)]
pub(crate) struct CallClock {
    started: Instant,
    host_time: Duration,
    pub(crate) budget: Duration,
    pub(crate) exceeded: bool,
}

impl CallClock {
    pub(crate) fn restart(&mut self) {
        self.started = Instant::now();
        self.host_time = Duration::ZERO;
        self.exceeded = false;
    }

    fn guest_time(&self) -> Duration {
        self.started.elapsed().saturating_sub(self.host_time)
    }
}

/// The egress a connector's instance may use.
#[derive(Debug)]
pub(crate) struct EgressGrant {
    pub(crate) egress: Arc<Egress>,
    pub(crate) policy: EgressPolicy,
    pub(crate) redactor: Redactor,
    pub(crate) rate_gate: Option<Arc<dyn crate::plugin::RateGate>>,
    /// Whose connection this is, for the egress metrics.
    pub(crate) tenant: String,
    /// The connection's name.
    pub(crate) connection: String,
}

/// The data of one plugin store: one tenant, one call batch.
pub(crate) struct PluginState {
    wasi: WasiCtx,
    table: ResourceTable,
    pub(crate) memory: MemoryGuard,
    pub(crate) clock: CallClock,
    pub(crate) log: CallLog,
    egress: Option<EgressGrant>,
    stdout: MemoryOutputPipe,
    stderr: MemoryOutputPipe,
    stdout_seen: usize,
    stderr_seen: usize,
}

impl WasiView for PluginState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl PluginState {
    /// Fresh state: WASI with no preopened directories, no environment, no
    /// arguments, no stdin and no sockets (the builder's defaults, kept
    /// explicit here because they are the sandbox), and stdout/stderr
    /// captured for the log.
    pub(crate) fn new(limits: &Limits, egress: Option<EgressGrant>) -> Self {
        let stdout = MemoryOutputPipe::new(limits.max_output_capture_bytes);
        let stderr = MemoryOutputPipe::new(limits.max_output_capture_bytes);
        let wasi = WasiCtx::builder()
            .stdout(stdout.clone())
            .stderr(stderr.clone())
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .build();
        let redactor = egress
            .as_ref()
            .map(|e| e.redactor.clone())
            .unwrap_or_default();
        Self {
            wasi,
            table: ResourceTable::new(),
            memory: MemoryGuard {
                limit: limits.max_memory_bytes,
                used: 0,
                exceeded: false,
            },
            clock: CallClock {
                started: Instant::now(),
                host_time: Duration::ZERO,
                budget: limits.cpu_time,
                exceeded: false,
            },
            log: CallLog::new(limits.max_log_entries, limits.max_log_line_bytes, redactor),
            egress,
            stdout,
            stderr,
            stdout_seen: 0,
            stderr_seen: 0,
        }
    }

    /// The host side of `http.send`.
    pub(crate) async fn send_http(
        &mut self,
        request: OutboundRequest,
    ) -> Result<InboundResponse, HttpError> {
        let waiting = Instant::now();
        let (result, exchange) = match &self.egress {
            Some(grant) => {
                if let Some(gate) = &grant.rate_gate {
                    gate.wait().await;
                }
                let sent = grant
                    .egress
                    .send(&grant.policy, &grant.redactor, request)
                    .await;
                let status = match (sent.1.status, sent.1.denied) {
                    (Some(status), _) => status.to_string(),
                    (None, true) => "denied".to_owned(),
                    (None, false) => "error".to_owned(),
                };
                metrics::counter!(
                    "weft_egress_requests_total",
                    "tenant" => grant.tenant.clone(),
                    "connection" => grant.connection.clone(),
                    "status" => status
                )
                .increment(1);
                sent
            }
            None => {
                self.log.host_line(
                    Level::Warn,
                    "refused an HTTP request: this plugin has no network access",
                );
                return Err(HttpError::Denied(
                    "this plugin has no network access".to_owned(),
                ));
            }
        };
        if exchange.denied {
            self.log.host_line(
                Level::Warn,
                &format!(
                    "refused {} {}: {}",
                    exchange.method,
                    exchange.url,
                    exchange.error.as_deref().unwrap_or("denied")
                ),
            );
        }
        self.log.http(exchange);
        self.clock.host_time += waiting.elapsed();
        result
    }

    /// Moves newly captured stdout/stderr into the log.
    pub(crate) fn collect_output(&mut self) {
        for (pipe, seen, source) in [
            (&self.stdout, &mut self.stdout_seen, Source::Stdout),
            (&self.stderr, &mut self.stderr_seen, Source::Stderr),
        ] {
            let bytes = pipe.contents();
            if bytes.len() > *seen {
                let text = String::from_utf8_lossy(&bytes[*seen..]).into_owned();
                *seen = bytes.len();
                self.log.output(source, &text);
            }
        }
    }
}

/// The epoch callback: each tick, stop a call over its CPU budget, else let
/// other tasks run (a busy plugin must not starve other tenants' calls on
/// the same worker thread).
pub(crate) fn on_epoch_tick(
    mut ctx: wasmtime::StoreContextMut<'_, PluginState>,
) -> wasmtime::Result<UpdateDeadline> {
    let clock = &mut ctx.data_mut().clock;
    if clock.guest_time() > clock.budget {
        clock.exceeded = true;
        return Ok(UpdateDeadline::Interrupt);
    }
    Ok(UpdateDeadline::Yield(1))
}

/// Explains a wasmtime error from a call in the user's terms.
pub(crate) fn explain_trap(
    state: &mut PluginState,
    limits: &Limits,
    error: &wasmtime::Error,
) -> Violation {
    state.collect_output();
    if state.memory.exceeded {
        return Violation::Memory(limits.max_memory_bytes);
    }
    match error.downcast_ref::<Trap>() {
        Some(Trap::Interrupt) if state.clock.exceeded => Violation::CpuTime(state.clock.budget),
        Some(Trap::StackOverflow) => Violation::StackOverflow,
        Some(Trap::MemoryOutOfBounds) if shadow_stack_overflow(error) => Violation::StackOverflow,
        Some(Trap::UnreachableCodeReached) => match panic_message(&state.log.stderr_text()) {
            Some(m) => Violation::Panic(m),
            None => Violation::Trap(
                "reached unreachable code (an abort without a panic message)".to_owned(),
            ),
        },
        Some(trap) => Violation::Trap(trap.to_string()),
        None => Violation::Trap(format!("{error:#}")),
    }
}

/// Compilers for wasm32 keep part of the stack in linear memory, below the
/// data, and do not check it: when it runs out the stack pointer wraps
/// below zero and the next store faults near the top of the 4 GiB address
/// space. wasmtime reports that as a memory fault at that address.
fn shadow_stack_overflow(error: &wasmtime::Error) -> bool {
    const PREFIX: &str = "memory fault at wasm address 0x";
    error.chain().any(|cause| {
        let text = cause.to_string();
        text.find(PREFIX)
            .and_then(|at| {
                let hex: String = text[at + PREFIX.len()..]
                    .chars()
                    .take_while(char::is_ascii_hexdigit)
                    .collect();
                u64::from_str_radix(&hex, 16).ok()
            })
            .is_some_and(|address| (0xffff_0000..=0xffff_ffff).contains(&address))
    })
}

/// The panic message from a Rust guest's stderr: the line after
/// "panicked at <file>:<line>:<col>:" (or on it, for older formats).
fn panic_message(stderr: &str) -> Option<String> {
    let mut lines = stderr.lines();
    while let Some(line) = lines.next() {
        if let Some(idx) = line.find("panicked at ") {
            let rest = &line[idx + "panicked at ".len()..];
            let location = rest.trim_end_matches(':');
            return Some(match lines.next() {
                Some(msg) if rest.ends_with(':') => format!("{} (at {location})", msg.trim()),
                _ => rest.to_owned(),
            });
        }
    }
    // Other languages: the last thing they printed is the best we have.
    stderr
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .map(|l| l.trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::panic_message;

    #[test]
    fn finds_rust_panic_messages() {
        let stderr = "\nthread '<unnamed>' panicked at src/lib.rs:10:5:\nboom: 42\nnote: run with `RUST_BACKTRACE=1`\n";
        assert_eq!(
            panic_message(stderr).as_deref(),
            Some("boom: 42 (at src/lib.rs:10:5)")
        );
        assert_eq!(panic_message(""), None);
        assert_eq!(
            panic_message("Traceback...\nValueError: bad sku\n").as_deref(),
            Some("ValueError: bad sku")
        );
    }
}
