//! `just bench`: what a plugin call costs the host.
//!
//! - instantiate + trivial call: a fresh store and instance from the cached
//!   `InstancePre` (pooling allocator, copy-on-write images), then `check()`,
//!   which returns at once. This is the fixed cost of every call batch.
//! - a 100-record page out (`read`) and in (`write`), each minus the same
//!   call with no records: the cost of crossing the boundary with data
//!   (JSON text both ways, parsed on both sides).
//!
//! Medians over many iterations, after a warm-up; run on an idle machine
//! for figures worth comparing. Targets (issue 2): instantiate + trivial
//! call ≤ 20 µs median.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use weft_runtime::{CallIdentity, Connection, LoadedPlugin, Runtime, RuntimeConfig};

const ITERATIONS: usize = 3000;
const WARMUP: usize = 300;

fn fixture() -> Vec<u8> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../plugins/target/wasm32-wasip2/release/bench_connector.wasm"
    );
    std::fs::read(path).unwrap_or_else(|e| {
        eprintln!("cannot read {path}: {e}; run `just build-plugins` first");
        std::process::exit(2);
    })
}

struct Stats {
    median: Duration,
    p90: Duration,
}

fn stats(mut samples: Vec<Duration>) -> Stats {
    samples.sort();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q) as usize];
    Stats {
        median: at(0.5),
        p90: at(0.9),
    }
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn report(name: &str, s: &Stats) {
    println!(
        "{name:<44} median {:>9.1} µs   p90 {:>9.1} µs",
        us(s.median),
        us(s.p90)
    );
}

async fn open(plugin: &LoadedPlugin) -> weft_runtime::ConnectorSession {
    match plugin
        .connector(
            CallIdentity {
                tenant: "bench".into(),
                ..CallIdentity::default()
            },
            Connection {
                name: "bench".into(),
                ..Connection::default()
            },
        )
        .await
    {
        Ok(s) => s,
        Err(e) => {
            eprintln!("cannot open a session: {e}");
            std::process::exit(1);
        }
    }
}

async fn measure(mut f: impl AsyncFnMut()) -> Stats {
    for _ in 0..WARMUP {
        f().await;
    }
    let mut samples = Vec::with_capacity(ITERATIONS);
    for _ in 0..ITERATIONS {
        let t = Instant::now();
        f().await;
        samples.push(t.elapsed());
    }
    stats(samples)
}

fn fail(what: &str, e: impl std::fmt::Display) -> ! {
    eprintln!("{what}: {e}");
    std::process::exit(1);
}

async fn run() {
    let runtime = Runtime::new(RuntimeConfig::default()).unwrap_or_else(|e| fail("runtime", e));
    let plugin = runtime
        .load_wasm(&fixture())
        .await
        .unwrap_or_else(|e| fail("load", e));

    let instantiate = measure(async || {
        let mut s = open(&plugin).await;
        s.check().await.unwrap_or_else(|e| fail("check", e));
    })
    .await;
    report("instantiate + trivial call (check)", &instantiate);
    let instantiate_only = measure(async || {
        drop(open(&plugin).await);
    })
    .await;
    report("instantiate only", &instantiate_only);
    // `cargo bench --bench plugin_calls -- instantiate` stops here, for
    // profiling the fixed cost alone.
    if std::env::args().any(|a| a == "instantiate") {
        return;
    }

    let mut session = open(&plugin).await;
    let empty = json!({"records": 0});
    let hundred = json!({"records": 100, "details": 5});
    let read_empty = measure(async || {
        session
            .read("page", &empty, None)
            .await
            .unwrap_or_else(|e| fail("read", e));
    })
    .await;
    let read_100 = measure(async || {
        session
            .read("page", &hundred, None)
            .await
            .unwrap_or_else(|e| fail("read", e));
    })
    .await;
    let page: Vec<Value> = session
        .read("page", &hundred, None)
        .await
        .unwrap_or_else(|e| fail("read", e))
        .records
        .iter()
        .map(weft_runtime::record_tree)
        .collect();
    let bytes = serde_json::to_string(&page).map(|s| s.len()).unwrap_or(0);
    let no_params = json!({});
    let write_empty = measure(async || {
        session
            .write("sink", &no_params, &[])
            .await
            .unwrap_or_else(|e| fail("write", e));
    })
    .await;
    let write_100 = measure(async || {
        session
            .write("sink", &no_params, &page)
            .await
            .unwrap_or_else(|e| fail("write", e));
    })
    .await;
    report("read, empty page", &read_empty);
    report("read, 100 records (5 details each) out", &read_100);
    report("write, empty batch", &write_empty);
    report("write, 100 records in", &write_100);
    println!(
        "page of 100 records = {:.1} KiB of JSON; overhead out {:.1} µs, in {:.1} µs (medians, minus the empty call)",
        bytes as f64 / 1024.0,
        us(read_100.median.saturating_sub(read_empty.median)),
        us(write_100.median.saturating_sub(write_empty.median)),
    );
}

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| fail("tokio", e));
    rt.block_on(run());
}
