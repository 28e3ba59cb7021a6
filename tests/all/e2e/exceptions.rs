//! A record the target rejects (a material K3Cloud does not know) lands in
//! the exception queue with K3Cloud's own message; once the tenant's lookup
//! table maps the SKU to a real material, `weft records retry` delivers it.

use serde_json::json;
use weft_sim::{DatasetConfig, SimConfig, SourceKind, System};

use super::{Demo, TENANT, assert_exactly_once, count, seed, text};

const SCHEME: &str = "wdt-purchase-order-to-k3cloud";
const UNKNOWN: &str = "NO-SUCH-SKU-7";

#[test]
fn an_unknown_material_waits_in_the_exception_queue_until_the_lookup_is_fixed() {
    let demo = Demo::start(
        SimConfig {
            dataset: DatasetConfig {
                purchase_orders: 30,
                ..DatasetConfig::default()
            },
            ..SimConfig::default()
        },
        &["wdt", "k3cloud"],
    );
    // The seed scheme, with materials mapped through the tenant's table
    // (an SKU without a row passes through unchanged).
    let yaml = std::fs::read_to_string(seed("wdt-purchase-order-to-k3cloud.yaml"))
        .expect("seed scheme")
        .replace(
            r#"FMaterialId: { FNumber: "{{ details_list.spec_no }}" }"#,
            r#"FMaterialId: { FNumber: "{{ details_list.spec_no | lookup('materials', default=details_list.spec_no) }}" }"#,
        );
    assert!(yaml.contains("lookup('materials'"));
    demo.apply_text("po.yaml", &yaml);
    demo.ok(&[
        "lookup",
        "set",
        "materials",
        "--tenant",
        TENANT,
        "OLD-SKU=A0001",
    ]);

    let good =
        text(&demo.sim.documents(SourceKind::PurchaseOrders)[0]["details_list"][0]["spec_no"]);
    let odd = demo
        .sim
        .add(
            SourceKind::PurchaseOrders,
            json!({"details_list": [{"spec_no": UNKNOWN}]}),
        )
        .expect("add a purchase order");
    let odd_no = text(&odd["purchase_no"]);

    let outcome = demo.run(SCHEME);
    assert_eq!(count(&outcome, "written"), 30, "{outcome:#}");
    assert_eq!(count(&outcome, "failed"), 1, "{outcome:#}");

    // The exception queue holds it with K3Cloud's message.
    let failed = demo.failed(SCHEME);
    assert_eq!(failed.len(), 1, "{failed:#?}");
    assert_eq!(failed[0]["key"], odd_no.as_str());
    assert_eq!(failed[0]["error_class"], "invalid", "{:#}", failed[0]);
    let message = text(&failed[0]["error"]);
    assert!(
        message.contains(UNKNOWN) && message.contains("物料"),
        "the target's message names the material: {message}"
    );
    let id = failed[0]["id"].as_i64().expect("record id").to_string();
    let shown = demo
        .ok(&["records", "show", &id, "--tenant", TENANT])
        .stdout;
    for part in [UNKNOWN, odd_no.as_str(), "\"mapped\"", "FPOOrderEntry"] {
        assert!(shown.contains(part), "records show lacks {part}:\n{shown}");
    }
    assert!(demo.sim.k3_bill("PUR_PurchaseOrder", &odd_no).is_none());

    // Retrying before the fix fails the same way and keeps the record.
    demo.ok(&["records", "retry", &id, "--tenant", TENANT]);
    assert_eq!(demo.failed(SCHEME).len(), 1);

    // The fix: map the SKU to a material K3Cloud has; then retry.
    let row = format!("{UNKNOWN}={good}");
    demo.ok(&["lookup", "set", "materials", "--tenant", TENANT, &row]);
    demo.ok(&["records", "retry", "--scheme", SCHEME, "--tenant", TENANT]);
    assert!(
        demo.failed(SCHEME).is_empty(),
        "the queue is empty after the fix"
    );

    let bill = demo
        .sim
        .k3_bill("PUR_PurchaseOrder", &odd_no)
        .expect("K3Cloud holds the retried order");
    let sent = assert_exactly_once(
        &demo.sim,
        System::K3cloud,
        "PUR_PurchaseOrder",
        &demo.sim.keys(SourceKind::PurchaseOrders),
    );
    assert_eq!(
        sent[&odd_no]["FPOOrderEntry"][0]["FMaterialId"]["FNumber"],
        good.as_str(),
        "{bill:#}"
    );
}
