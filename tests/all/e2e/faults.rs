//! With the simulators answering 10% of requests with a 5xx, holding 2% past
//! weft's HTTP timeout (K3Cloud applies those writes and loses the answer)
//! and rate limiting, every document still arrives exactly once.

use std::collections::BTreeMap;

use weft_sim::{DatasetConfig, Faults, RateLimit, SimConfig, SourceKind, System, TimeoutMode};

use super::{Demo, TENANT, assert_exactly_once, count};

const SCHEME: &str = "wdt-purchase-order-to-k3cloud";
const DOCUMENTS: usize = 1_500;

fn faults(timeout_mode: TimeoutMode, rate_limit: RateLimit) -> Faults {
    Faults {
        error_rate: 0.10,
        error_status: 503,
        timeout_rate: 0.02,
        // Past the 1 s HTTP timeout the test gives weft.
        timeout_hold_ms: 2_500,
        timeout_mode,
        rate_limit: Some(rate_limit),
        ..Faults::default()
    }
}

#[test]
fn faults_and_rate_limits_still_deliver_every_document_exactly_once() {
    let mut injected = BTreeMap::new();
    injected.insert(
        System::Wdt,
        faults(
            TimeoutMode::Drop,
            RateLimit {
                per_second: 20.0,
                burst: 5,
            },
        ),
    );
    injected.insert(
        System::K3cloud,
        faults(
            TimeoutMode::Late,
            RateLimit {
                per_second: 20.0,
                burst: 5,
            },
        ),
    );
    let demo = Demo::start(
        SimConfig {
            dataset: DatasetConfig {
                purchase_orders: DOCUMENTS,
                ..DatasetConfig::default()
            },
            faults: injected,
            record_bodies: false,
            ..SimConfig::default()
        },
        &["wdt", "k3cloud"],
    )
    .with_http_timeout("1");
    demo.apply_seed("wdt-purchase-order-to-k3cloud.yaml");

    // A run that meets a quota pauses (exit 3) and the next one resumes;
    // with retries, most runs simply finish.
    let mut totals = BTreeMap::<&str, u64>::new();
    let mut finished = false;
    let mut runs = Vec::new();
    for _ in 0..20 {
        let run = demo.weft(&["scheme", "run", SCHEME, "--tenant", TENANT, "--json"]);
        let outcome: serde_json::Value = serde_json::from_str(&run.stdout)
            .unwrap_or_else(|e| panic!("no outcome ({e}): {}\n{}", run.stdout, run.stderr));
        runs.push(outcome["run_id"].as_str().expect("run id").to_owned());
        for name in ["written", "existed", "failed"] {
            *totals.entry(name).or_default() += count(&outcome, name);
        }
        match run.code {
            0 => {
                finished = true;
                break;
            }
            3 => continue,
            code => panic!("run ended with {code}: {outcome:#}\n{}", run.stderr),
        }
    }
    assert!(finished, "the scheme did not finish in 20 runs: {totals:?}");
    assert_eq!(totals["failed"], 0, "{totals:?}");
    // The faults were met: the run logs keep every failed exchange.
    let logs: String = runs
        .iter()
        .map(|id| demo.ok(&["runs", "log", id, "--tenant", TENANT]).stdout)
        .collect();
    assert!(logs.contains("503"), "no 5xx in the run logs:\n{logs}");
    assert_eq!(
        totals["written"] + totals["existed"],
        DOCUMENTS as u64,
        "{totals:?}"
    );

    let keys = demo.sim.keys(SourceKind::PurchaseOrders);
    assert_exactly_once(&demo.sim, System::K3cloud, "PUR_PurchaseOrder", &keys);
    assert_eq!(demo.sim.k3_bill_count("PUR_PurchaseOrder"), DOCUMENTS);
    assert!(demo.failed(SCHEME).is_empty());
}
