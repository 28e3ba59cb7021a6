//! `GET /metrics`: Prometheus text.
//!
//! Counters and histograms (runs by outcome, plugin call latency, egress
//! requests by connection and status, webhooks) are recorded where they
//! happen, through the `metrics` facade, into this process's recorder.
//! What the ledger holds (records by status, queue depth) is counted from
//! the store at each scrape, so it is right after a restart and covers
//! runs of other processes sharing the store.

use std::fmt::Write as _;
use std::sync::OnceLock;

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

use crate::auth::Caller;
use crate::error::ApiError;
use crate::state::AppState;

/// Seconds: plugin calls take milliseconds to minutes.
const BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
    120.0, 300.0, 900.0,
];

/// The process's recorder: installed once, shared by every server in the
/// process (tests start several).
pub(crate) fn recorder() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new();
            let recorder = match builder.set_buckets(BUCKETS) {
                Ok(b) => b.build_recorder(),
                Err(e) => {
                    tracing::warn!("histogram buckets refused ({e}); using summaries");
                    PrometheusBuilder::new().build_recorder()
                }
            };
            let handle = recorder.handle();
            if metrics::set_global_recorder(recorder).is_err() {
                tracing::warn!(
                    "another metrics recorder is installed; /metrics shows only the ledger"
                );
            }
            describe();
            handle
        })
        .clone()
}

fn describe() {
    metrics::describe_counter!(
        "weft_runs_total",
        "Runs this process ran, by trigger and outcome."
    );
    metrics::describe_histogram!(
        "weft_run_duration_seconds",
        metrics::Unit::Seconds,
        "How long runs took."
    );
    metrics::describe_histogram!(
        "weft_plugin_call_seconds",
        metrics::Unit::Seconds,
        "Plugin call latency, by plugin, call and outcome."
    );
    metrics::describe_counter!(
        "weft_egress_requests_total",
        "HTTP requests plugins made, by tenant, connection and status (or denied/error)."
    );
    metrics::describe_counter!(
        "weft_webhooks_total",
        "Webhook callbacks, by tenant and outcome."
    );
    metrics::describe_counter!(
        "weft_http_requests_total",
        "API requests, by route and status."
    );
}

/// Prometheus label value escaping.
fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// The scrape: the recorder's series and the ledger's counts. Needs the
/// admin token (the series name every tenant and connection).
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "service",
    responses(
        (status = 200, description = "Prometheus text format", body = String, content_type = "text/plain"),
        (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn scrape(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<impl IntoResponse, ApiError> {
    caller.admin()?;
    let totals = state.blocking(|s| s.ledger_totals()).await?;
    let mut text = state
        .metrics
        .as_ref()
        .map(PrometheusHandle::render)
        .unwrap_or_default();
    let _ = writeln!(
        text,
        "# HELP weft_records Ledger records by tenant, scheme and status.\n# TYPE weft_records gauge"
    );
    for (tenant, scheme, status, n) in &totals {
        let _ = writeln!(
            text,
            "weft_records{{tenant=\"{}\",scheme=\"{}\",status=\"{}\"}} {n}",
            label(tenant),
            label(scheme),
            label(status)
        );
    }
    let _ = writeln!(
        text,
        "# HELP weft_queue_depth Records waiting to be written to the target, by tenant and scheme.\n# TYPE weft_queue_depth gauge"
    );
    for (tenant, scheme, _, n) in totals.iter().filter(|(_, _, s, _)| s == "queued") {
        let _ = writeln!(
            text,
            "weft_queue_depth{{tenant=\"{}\",scheme=\"{}\"}} {n}",
            label(tenant),
            label(scheme)
        );
    }
    let _ = writeln!(
        text,
        "# HELP weft_runs_active Runs in progress in this process.\n# TYPE weft_runs_active gauge\nweft_runs_active {}",
        state.running.len()
    );
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    ))
}

#[cfg(test)]
mod tests {
    #[test]
    fn labels_are_escaped() {
        assert_eq!(super::label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
