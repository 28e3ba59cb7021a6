//! `just bench-languages`: the same transform (order normalisation and SKU
//! re-mapping, plugins/examples) written in Rust, Python and JavaScript.
//!
//! - install: `weft plugin install` of the component into a fresh
//!   `WEFT_HOME`, as a user runs it: contract check, validation,
//!   precompilation (the slow part for interpreters: the component embeds
//!   CPython or SpiderMonkey), `describe()`, writing the store. Median of a
//!   few runs, each in a new home.
//! - instantiate: a fresh instance from the precompiled component, as every
//!   page gets (pull.rs opens a transform session per page).
//! - call: instantiate plus `transform` of one 1,000-record page of
//!   storefront orders (3 lines each, amounts as text, shop SKUs), the
//!   per-page cost a scheme pays.
//!
//! Medians after a warm-up; run on an idle machine for figures worth
//! comparing.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use weft_runtime::{LoadedPlugin, Runtime, RuntimeConfig, raw_record};

const RECORDS: usize = 1000;
const INSTALLS: usize = 3;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| {
        eprintln!(
            "cannot read {}: {e}; run `just build-plugins build-examples` first",
            path.display()
        );
        std::process::exit(2);
    })
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// One page of storefront orders, shaped like weft-sim's `/shop/v1/orders`.
fn page() -> Vec<Value> {
    (0..RECORDS)
        .map(|i| {
            let lines: Vec<Value> = (0..3)
                .map(|j| {
                    let material = (i * 7 + j * 5) % 200 + 1;
                    let sku = if material <= 5 {
                        format!("OLD-{material}")
                    } else {
                        format!("SP-{material:05}")
                    };
                    let cents = 1_000 + (i * 37 + j * 101) % 250_000;
                    let qty = 1 + (i + j) % 5;
                    json!({
                        "line_id": format!("{}", 40_000_000_000u64 + (i * 10 + j) as u64),
                        "sku": sku,
                        "qty": qty,
                        "price": shop_amount(cents),
                        "discount": shop_amount(if j == 2 { 500 } else { 0 }),
                        "amount": shop_amount(cents * qty - if j == 2 { 500 } else { 0 }),
                    })
                })
                .collect();
            json!({
                "id": format!("JY{:010}", i + 1),
                "customer": format!("CUST{:04}", i % 30 + 1),
                "warehouse": format!("WH{:03}", i % 5 + 1),
                "updated_at": "2024-01-03 10:00:00",
                "total": shop_amount(123_456 + i),
                "lines": lines,
            })
        })
        .collect()
}

/// An amount in cents as the storefront writes it (`¥1,234.50`).
fn shop_amount(cents: usize) -> String {
    weft_sim::shop::shop_amount(i64::try_from(cents).unwrap_or(i64::MAX / 100) * 100)
}

fn config() -> Value {
    json!({
        "amounts": ["price", "discount", "amount", "total"],
        "sku_prefix": {"from": "SP-", "to": "SKU"},
        "sku_map": {"OLD-1": "SKU00001", "OLD-2": "SKU00002", "OLD-3": "SKU00003", "OLD-4": "SKU00004", "OLD-5": "SKU00005"}
    })
}

/// `weft plugin install` into fresh homes; the median wall time.
fn install_time(weft: &Path, wasm: &Path) -> Duration {
    let samples = (0..INSTALLS)
        .map(|_| {
            let home = tempfile::tempdir().expect("temp WEFT_HOME");
            let started = Instant::now();
            let out = Command::new(weft)
                .args(["plugin", "install"])
                .arg(wasm)
                .env("WEFT_HOME", home.path())
                .output()
                .expect("weft runs");
            let took = started.elapsed();
            if !out.status.success() {
                eprintln!(
                    "weft plugin install {}: {}",
                    wasm.display(),
                    String::from_utf8_lossy(&out.stderr)
                );
                std::process::exit(1);
            }
            took
        })
        .collect();
    median(samples)
}

async fn call_times(plugin: &LoadedPlugin, iterations: usize) -> (Duration, Duration) {
    let records: Vec<_> = page()
        .iter()
        .map(|r| raw_record(r).expect("a record"))
        .collect();
    let config = config();
    let mut instantiate = Vec::new();
    let mut call = Vec::new();
    for i in 0..iterations + 3 {
        let started = Instant::now();
        let mut session = match plugin.transform().await {
            Ok(s) => s,
            Err(e) => {
                eprintln!("cannot instantiate: {e}");
                std::process::exit(1);
            }
        };
        let opened = started.elapsed();
        let out = session.transform(&config, &records).await;
        let took = started.elapsed();
        match out {
            Ok(out) if out.len() == RECORDS => {}
            Ok(out) => {
                eprintln!("expected {RECORDS} records back, got {}", out.len());
                std::process::exit(1);
            }
            Err(e) => {
                eprintln!("transform failed: {e}");
                std::process::exit(1);
            }
        }
        // The first calls warm the host's caches and the page cache.
        if i >= 3 {
            instantiate.push(opened);
            call.push(took);
        }
    }
    (median(instantiate), median(call))
}

fn main() {
    let weft = repo().join("target/release/weft");
    if !weft.exists() {
        eprintln!("{} is missing; run `just build` first", weft.display());
        std::process::exit(2);
    }
    let rust = repo().join("plugins/target/wasm32-wasip2/release/order_normalise.wasm");
    let examples = repo().join("plugins/target/examples");
    let languages = [
        ("Rust", rust, 200),
        ("Python", examples.join("order_normalise_py.wasm"), 30),
        ("JavaScript", examples.join("order_normalise_js.wasm"), 30),
    ];
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let wasmtime = Runtime::new(RuntimeConfig::default()).expect("plugin runtime");
    let bytes = serde_json::to_string(&page()).map(|s| s.len()).unwrap_or(0);
    println!(
        "order-normalise, one page of {RECORDS} orders ({} KiB of JSON), medians\n",
        bytes / 1024
    );
    println!(
        "{:<11} {:>9} {:>12} {:>13} {:>16} {:>12}",
        "language", "size", "install", "instantiate", "call (1,000)", "per record"
    );
    for (language, path, iterations) in languages {
        let wasm = read(&path);
        let install = install_time(&weft, &path);
        let (instantiate, call) = runtime.block_on(async {
            let artifact = wasmtime.precompile(&wasm).expect("precompiles");
            let contract = weft_runtime::read_contract(&wasm).expect("a plugin");
            let plugin = wasmtime
                .load_precompiled(&Runtime::sha256(&wasm), contract, &artifact)
                .await
                .expect("loads");
            call_times(&plugin, iterations).await
        });
        println!(
            "{language:<11} {:>6.1} MB {:>10.2} s {:>10.2} ms {:>13.2} ms {:>9.1} µs",
            wasm.len() as f64 / 1e6,
            install.as_secs_f64(),
            ms(instantiate),
            ms(call),
            call.as_secs_f64() * 1e6 / RECORDS as f64
        );
    }
}
