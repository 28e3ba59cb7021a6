//! End-to-end throughput of the 旺店通 → 金蝶云星空 purchase-order scheme:
//! the simulator (in this process) → the real `weft` binary → the
//! simulator, on loopback, no injected latency. Reports documents/s and the
//! `weft` process's peak RSS (its `VmHWM`), and the size of the database
//! it leaves.
//!
//! `just bench` runs it; `WEFT_BENCH_ORDERS` (default 100000) and
//! `WEFT_BENCH_LINES` (default 5) size the dataset, and `WEFT_BENCH_RUNS`
//! (default 3) says how many runs, each on a fresh simulator and
//! `WEFT_HOME`, the median is taken of.

// `wait4` is the one way to read a finished child's CPU time.
#![allow(unsafe_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use weft_sim::{DatasetConfig, SimConfig, Simulator};

const SCHEME: &str = "wdt-purchase-order-to-k3cloud";

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn weft_bin() -> PathBuf {
    let exe = std::env::current_exe().expect("bench executable path");
    exe.parent()
        .and_then(Path::parent)
        .map(|dir| dir.join("weft"))
        .filter(|bin| bin.exists())
        .expect("target/release/weft exists: `cargo build --release -p weft-cli`")
}

fn weft(home: &Path, origin: &str, args: &[&str]) {
    let out = Command::new(weft_bin())
        .args(args)
        .env("WEFT_HOME", home)
        .env("SIM_ORIGIN", origin)
        .output()
        .expect("weft runs");
    assert!(
        out.status.success(),
        "weft {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The child's high-water RSS (KiB), read from `/proc/<pid>/status`
/// until `done` is set. `wait4`'s `ru_maxrss` cannot be used: the kernel
/// records, at `exec`, the peak of the address space the child leaves,
/// which for a `vfork`/`posix_spawn` child is this process's own (the
/// simulator and its dataset), and reports the larger of the two.
fn watch_peak_rss(pid: u32, done: Arc<AtomicBool>) -> std::thread::JoinHandle<i64> {
    std::thread::spawn(move || {
        let path = format!("/proc/{pid}/status");
        let mut peak = 0;
        // Bounded by the child's life: `done` is set once it is reaped.
        while !done.load(Ordering::SeqCst) {
            let hwm = std::fs::read_to_string(&path).ok().and_then(|s| {
                s.lines()
                    .find_map(|l| l.strip_prefix("VmHWM:"))
                    .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<i64>().ok())
            });
            peak = peak.max(hwm.unwrap_or(0));
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        peak
    })
}

/// Exit code and CPU seconds of a finished child, via `wait4`.
fn wait_with_usage(child: &std::process::Child) -> (i32, f64) {
    let pid = i32::try_from(child.id()).expect("pid fits");
    let mut status = 0;
    // SAFETY: an all-zero `rusage` is a valid value of this plain C struct.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `pid` is our own unwaited child; both pointers are valid for
    // the call.
    let r = unsafe { libc::wait4(pid, &raw mut status, 0, &raw mut usage) };
    assert_eq!(r, pid, "wait4: {}", std::io::Error::last_os_error());
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    (
        libc::WEXITSTATUS(status),
        secs(usage.ru_utime) + secs(usage.ru_stime),
    )
}

fn main() {
    // `cargo bench` passes `--bench`; a filter that is not ours skips us.
    if std::env::args()
        .skip(1)
        .any(|a| !a.starts_with("--") && !"throughput".contains(a.as_str()))
    {
        return;
    }
    let orders = env_usize("WEFT_BENCH_ORDERS", 100_000);
    let lines = env_usize("WEFT_BENCH_LINES", 5);
    let runs = env_usize("WEFT_BENCH_RUNS", 3).max(1);
    println!("end-to-end {SCHEME}: {orders} purchase orders × {lines} lines, {runs} run(s)");
    let mut all: Vec<Figures> = (0..runs)
        .map(|i| {
            let f = measure(orders, lines);
            println!(
                "  run {}: {:.0} documents/s ({:.2} s), peak RSS {:.1} MiB, CPU {:.2} s, database {:.1} MB",
                i + 1,
                orders as f64 / f.wall,
                f.wall,
                f.peak_kib as f64 / 1024.0,
                f.cpu,
                f.database as f64 / 1e6
            );
            f
        })
        .collect();
    // A shared machine's noise is the spread of a few runs: the median is
    // reported, with the range.
    all.sort_by(|a, b| a.wall.total_cmp(&b.wall));
    let median = &all[all.len() / 2];
    let rate = |f: &Figures| orders as f64 / f.wall;
    println!(
        "  throughput       {:.0} documents/s (median; {:.0}–{:.0})",
        rate(median),
        rate(&all[all.len() - 1]),
        rate(&all[0])
    );
    println!(
        "  wall time        {:.2} s (weft process, start to exit)",
        median.wall
    );
    let peak = all.iter().map(|f| f.peak_kib).max().unwrap_or(0);
    println!(
        "  weft peak RSS    {:.1} MiB (highest)",
        peak as f64 / 1024.0
    );
    println!("  weft CPU time    {:.2} s (user + system)", median.cpu);
    // The writer checkpoints and removes the log as weft exits: the file
    // is the whole ledger.
    println!(
        "  database size    {:.1} MB ({:.0} bytes/document)",
        median.database as f64 / 1e6,
        median.database as f64 / orders as f64
    );
}

/// What one run measured.
struct Figures {
    wall: f64,
    peak_kib: i64,
    cpu: f64,
    /// Bytes of the database the run left.
    database: u64,
}

/// One run of the scheme over a fresh simulator and `WEFT_HOME`.
fn measure(orders: usize, lines: usize) -> Figures {
    let sim = Simulator::start(SimConfig {
        dataset: DatasetConfig {
            purchase_orders: orders,
            purchase_order_lines: lines,
            spread_days: 28,
            ..DatasetConfig::default()
        },
        record_bodies: false,
        ..SimConfig::default()
    })
    .expect("the simulator starts");
    let origin = sim.origin().to_owned();
    let home = tempfile::tempdir().expect("temp WEFT_HOME");
    let plugins = repo_root().join("plugins/target/wasm32-wasip2/release");
    for p in ["wdt", "qimen", "jst", "k3cloud", "jdy"] {
        let wasm = plugins.join(format!("{p}.wasm"));
        weft(
            home.path(),
            &origin,
            &["plugin", "install", wasm.to_str().expect("utf-8")],
        );
    }
    weft(home.path(), &origin, &["tenant", "add", "bench"]);
    let connections = repo_root().join("schemes/simulator-connections.yaml");
    let scheme = repo_root().join("schemes/wdt-purchase-order-to-k3cloud.yaml");
    weft(
        home.path(),
        &origin,
        &[
            "connection",
            "apply",
            connections.to_str().expect("utf-8"),
            "--tenant",
            "bench",
        ],
    );
    weft(
        home.path(),
        &origin,
        &[
            "scheme",
            "apply",
            scheme.to_str().expect("utf-8"),
            "--tenant",
            "bench",
        ],
    );

    let started = Instant::now();
    // Reaped by `wait_with_usage` (wait4), which std's `wait` cannot replace.
    #[allow(clippy::zombie_processes)]
    let mut child = Command::new(weft_bin())
        .args(["scheme", "run", SCHEME, "--tenant", "bench", "--json"])
        .env("WEFT_HOME", home.path())
        .stdout(Stdio::piped())
        .spawn()
        .expect("weft starts");
    let mut stdout = child.stdout.take().expect("piped stdout");
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut stdout, &mut text).map(|_| text)
    });
    let done = Arc::new(AtomicBool::new(false));
    let peak = watch_peak_rss(child.id(), Arc::clone(&done));
    let (code, cpu) = wait_with_usage(&child);
    done.store(true, Ordering::SeqCst);
    let peak_kib = peak.join().expect("RSS watcher");
    let wall = started.elapsed().as_secs_f64();
    let text = reader.join().expect("reader").expect("stdout");
    assert_eq!(code, 0, "the run failed: {text}");
    let outcome: serde_json::Value = serde_json::from_str(&text).expect("JSON outcome");
    let written = outcome["counts"]["written"].as_u64().unwrap_or(0);
    assert_eq!(written, orders as u64, "{outcome:#}");
    assert_eq!(sim.k3_bill_count("PUR_PurchaseOrder"), orders);

    let database = std::fs::metadata(home.path().join("weft.db")).map_or(0, |m| m.len());
    sim.shutdown();
    Figures {
        wall,
        peak_kib,
        cpu,
        database,
    }
}
