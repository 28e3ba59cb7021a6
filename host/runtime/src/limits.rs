//! The sandbox's limits. Every one has a default an operator can change
//! (`weft.toml`, the CLI) and every one is enforced per call batch.

use std::time::Duration;

/// Limits applied to every plugin call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Linear memory one call batch may use, all memories together.
    pub max_memory_bytes: usize,
    /// Guest CPU time one call may use (wall time minus the time spent
    /// waiting on the host, e.g. on HTTP).
    pub cpu_time: Duration,
    /// Wall time one call may take, HTTP waits included.
    pub call_timeout: Duration,
    /// WebAssembly stack per call.
    pub max_stack_bytes: usize,
    /// Bytes of params, cursor and records passed into one call.
    pub max_input_bytes: usize,
    /// Bytes of records (or other JSON) one call may return.
    pub max_output_bytes: usize,
    /// Bytes of one HTTP request body.
    pub max_http_request_bytes: u64,
    /// Bytes of one HTTP response body.
    pub max_http_response_bytes: u64,
    /// Time allowed for one HTTP exchange.
    pub http_timeout: Duration,
    /// Time allowed to connect.
    pub http_connect_timeout: Duration,
    /// Log entries kept per call batch.
    pub max_log_entries: usize,
    /// Bytes of one log line.
    pub max_log_line_bytes: usize,
    /// Bytes of stdout and of stderr captured per call batch.
    pub max_output_capture_bytes: usize,
    /// Plugin instances alive at once in this process (the pool size).
    pub max_concurrent_instances: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_memory_bytes: 256 << 20,
            cpu_time: Duration::from_secs(10),
            call_timeout: Duration::from_secs(120),
            max_stack_bytes: 1 << 20,
            max_input_bytes: 64 << 20,
            max_output_bytes: 64 << 20,
            max_http_request_bytes: 32 << 20,
            max_http_response_bytes: 64 << 20,
            http_timeout: Duration::from_secs(30),
            http_connect_timeout: Duration::from_secs(10),
            max_log_entries: 2000,
            max_log_line_bytes: 8 << 10,
            max_output_capture_bytes: 64 << 10,
            max_concurrent_instances: 100,
        }
    }
}
