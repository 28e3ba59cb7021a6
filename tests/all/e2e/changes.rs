//! Documents modified at the source after they were delivered: sent again
//! under `on_change: resend` (the target's idempotency makes that a no-op
//! for bills K3Cloud already holds), left alone under `on_change: skip`.

use weft_sim::{DatasetConfig, SimConfig, SourceKind, System};

use super::{Demo, assert_exactly_once, count, seed};

fn demo(policy: &str) -> Demo {
    let demo = Demo::start(
        SimConfig {
            dataset: DatasetConfig {
                purchase_orders: 60,
                ..DatasetConfig::default()
            },
            ..SimConfig::default()
        },
        &["wdt", "k3cloud"],
    );
    let yaml = std::fs::read_to_string(seed("wdt-purchase-order-to-k3cloud.yaml"))
        .expect("seed scheme")
        .replace("on_change: resend", &format!("on_change: {policy}"));
    assert!(yaml.contains(&format!("on_change: {policy}")));
    demo.apply_text("po.yaml", &yaml);
    demo
}

const SCHEME: &str = "wdt-purchase-order-to-k3cloud";

fn modify_three(demo: &Demo) -> Vec<String> {
    let keys: Vec<String> = demo.sim.keys(SourceKind::PurchaseOrders)[..3].to_vec();
    let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
    let changed = demo
        .sim
        .modify(SourceKind::PurchaseOrders, &refs)
        .expect("modify");
    assert_eq!(changed.len(), 3);
    keys
}

#[test]
fn a_changed_document_is_sent_again_under_resend() {
    let demo = demo("resend");
    assert_eq!(count(&demo.run(SCHEME), "written"), 60);
    let changed = modify_three(&demo);

    let outcome = demo.run(SCHEME);
    assert_eq!(count(&outcome, "changed"), 3, "{outcome:#}");
    assert_eq!(count(&outcome, "new"), 0, "{outcome:#}");
    // Sent again: K3Cloud already holds the bills (audited), so the
    // connector finds them and reports them as existing, not saved twice.
    assert_eq!(count(&outcome, "existed"), 3, "{outcome:#}");
    let keys = demo.sim.keys(SourceKind::PurchaseOrders);
    assert_exactly_once(&demo.sim, System::K3cloud, "PUR_PurchaseOrder", &keys);

    // The ledger knows each changed record in its second version.
    for key in &changed {
        let records = demo.ok(&[
            "records",
            "list",
            "--tenant",
            super::TENANT,
            "--scheme",
            SCHEME,
            "--json",
            "--limit",
            "1000",
        ]);
        let records: Vec<serde_json::Value> =
            serde_json::from_str(&records.stdout).expect("records json");
        let record = records
            .iter()
            .find(|r| r["key"] == key.as_str())
            .unwrap_or_else(|| panic!("no ledger record for {key}"));
        assert_eq!(record["versions"], 2, "{record:#}");
        assert_eq!(record["status"], "done", "{record:#}");
    }

    // Nothing changed since: nothing goes out.
    let outcome = demo.run(SCHEME);
    assert_eq!(count(&outcome, "changed"), 0, "{outcome:#}");
    assert_eq!(count(&outcome, "existed") + count(&outcome, "written"), 0);
}

#[test]
fn a_changed_document_is_left_alone_under_skip() {
    let demo = demo("skip");
    assert_eq!(count(&demo.run(SCHEME), "written"), 60);
    modify_three(&demo);
    let received = demo
        .sim
        .received(System::K3cloud, "PUR_PurchaseOrder")
        .entries
        .len();

    let outcome = demo.run(SCHEME);
    assert_eq!(count(&outcome, "changed_skipped"), 3, "{outcome:#}");
    assert_eq!(count(&outcome, "changed"), 0, "{outcome:#}");
    assert_eq!(count(&outcome, "written") + count(&outcome, "existed"), 0);
    assert_eq!(
        demo.sim
            .received(System::K3cloud, "PUR_PurchaseOrder")
            .entries
            .len(),
        received
    );
}
