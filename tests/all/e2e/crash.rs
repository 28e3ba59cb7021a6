//! `kill -9` of the `weft` process at random moments of a 20,000-document
//! run; restarted each time, the scheme finishes with every document in
//! the target exactly once.

use std::hash::{BuildHasher, Hasher};
use std::process::Stdio;
use std::time::{Duration, Instant};

use weft_sim::{DatasetConfig, SimConfig, SourceKind, System};

use super::{Demo, TENANT, assert_exactly_once};

const SCHEME: &str = "wdt-purchase-order-to-k3cloud";
const DOCUMENTS: usize = 20_000;
/// Bounds the test: kills plus the final run.
const MAX_STARTS: usize = 60;

/// A small xorshift stream; the seed is printed so a failure can be
/// replayed with `WEFT_CRASH_SEED`.
struct Moments(u64);

impl Moments {
    fn new() -> Moments {
        let seed = std::env::var("WEFT_CRASH_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| std::hash::RandomState::new().build_hasher().finish() | 1);
        println!("kill moments seed: {seed} (WEFT_CRASH_SEED={seed} replays it)");
        Moments(seed)
    }

    /// A delay in `lo..hi` milliseconds.
    fn next_ms(&mut self, lo: u64, hi: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        lo + self.0 % (hi - lo)
    }
}

#[test]
fn kill_9_at_random_moments_leaves_every_document_exactly_once() {
    let demo = Demo::start(
        SimConfig {
            dataset: DatasetConfig {
                purchase_orders: DOCUMENTS,
                // Spread over more days: many windows and pages.
                spread_days: 90,
                ..DatasetConfig::default()
            },
            record_bodies: false,
            ..SimConfig::default()
        },
        &["wdt", "k3cloud"],
    );
    demo.apply_seed("wdt-purchase-order-to-k3cloud.yaml");
    let log = demo.home().join("run.log");
    let mut moments = Moments::new();
    let mut kills = 0;
    let mut finished = false;
    for start in 0..MAX_STARTS {
        let mut child = demo
            .command(&["scheme", "run", SCHEME, "--tenant", TENANT, "--json"])
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("log file"))
            .spawn()
            .expect("weft starts");
        // The first moments come early (plugin start, first windows), later
        // ones anywhere in what is left; after a few kills it may finish.
        let kill_at = Duration::from_millis(if start < 3 {
            moments.next_ms(150, 900)
        } else {
            moments.next_ms(300, 2_500)
        });
        let started = Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().expect("wait for weft") {
                break Some(status);
            }
            if started.elapsed() >= kill_at {
                break None;
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        match status {
            None => {
                // SIGKILL: no destructor, no flush, no lease released.
                child.kill().expect("kill -9 weft");
                let _ = child.wait();
                kills += 1;
            }
            Some(status) if status.code() == Some(0) => {
                finished = true;
                break;
            }
            Some(status) => panic!(
                "weft ended with {status} on start {start}:\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            ),
        }
    }
    assert!(finished, "the scheme did not finish in {MAX_STARTS} starts");
    assert!(kills >= 3, "only {kills} kills landed during the run");
    println!("killed {kills} times");

    let keys = demo.sim.keys(SourceKind::PurchaseOrders);
    assert_eq!(keys.len(), DOCUMENTS);
    assert_exactly_once(&demo.sim, System::K3cloud, "PUR_PurchaseOrder", &keys);
    assert_eq!(demo.sim.k3_bill_count("PUR_PurchaseOrder"), DOCUMENTS);
    assert!(
        demo.failed(SCHEME).is_empty(),
        "nothing in the exception queue"
    );

    // The ledger agrees: a last run finds nothing to do.
    let outcome = demo.run(SCHEME);
    assert_eq!(super::count(&outcome, "new"), 0, "{outcome:#}");
    assert_eq!(super::count(&outcome, "written"), 0, "{outcome:#}");
}
