//! Records the pull stage refuses (a transform answers `invalid`, a key
//! that cannot be computed) go to the exception queue without holding up
//! the rest of the scheme, and `weft records retry` takes them through the
//! pull stage again, so that they reach the target only once the scheme
//! can key and transform them, and then exactly once.

use serde_json::json;
use weft_sim::{DatasetConfig, SimConfig, SourceKind, System};

use super::{Demo, TENANT, assert_exactly_once, count, seed, text};

const SCHEME: &str = "wdt-purchase-order-to-k3cloud";
const FORM: &str = "PUR_PurchaseOrder";
const RETIRED: &str = "OLD-9";

fn demo(plugins: &[&str]) -> Demo {
    Demo::start(
        SimConfig {
            dataset: DatasetConfig {
                purchase_orders: 20,
                ..DatasetConfig::default()
            },
            ..SimConfig::default()
        },
        plugins,
    )
}

fn seed_scheme() -> String {
    std::fs::read_to_string(seed("wdt-purchase-order-to-k3cloud.yaml")).expect("seed scheme")
}

/// The seed scheme with the Rust `order-normalise` transform re-mapping
/// the lines' SKUs: the simulator's (`SKU…`) pass as they are, others only
/// through `sku_map`.
fn with_transform(sku_map: &str) -> String {
    let steps = format!(
        "transforms:\n  - plugin: order-normalise\n    config:\n      lines: details_list\n      \
         sku: spec_no\n      amounts: []\n      key: purchase_no\n      \
         sku_prefix: {{ from: SKU, to: SKU }}\n      sku_map: {{ {sku_map} }}\ntarget:\n"
    );
    let yaml = seed_scheme().replacen("target:\n", &steps, 1);
    assert!(yaml.contains("plugin: order-normalise"));
    yaml
}

/// `weft records retry` (which pushes at once); asserts what it wrote
/// and failed.
fn retry(demo: &Demo, which: &[&str], written: u64, failed: u64) {
    let mut args = vec!["records", "retry", "--tenant", TENANT];
    args.extend_from_slice(which);
    let said = demo.ok(&args).stdout;
    assert!(
        said.contains(&format!("written {written} "))
            && said.contains(&format!("failed {failed} ")),
        "{said}"
    );
}

/// Asserts that ledger record `id` is now `key`, delivered; returns it.
fn assert_delivered_as(demo: &Demo, id: &str, key: &str) -> serde_json::Value {
    let shown: serde_json::Value =
        serde_json::from_str(&demo.ok(&["records", "show", id, "--tenant", TENANT]).stdout)
            .expect("records show prints JSON");
    assert_eq!(
        (shown["key"].as_str(), shown["status"].as_str()),
        (Some(key), Some("done")),
        "{shown:#}"
    );
    shown
}

fn attempts(record: &serde_json::Value) -> i64 {
    record["attempts"].as_i64().expect("attempts")
}

#[test]
fn a_record_a_transform_refuses_waits_in_the_exception_queue_while_the_rest_is_delivered() {
    let demo = demo(&["wdt", "k3cloud", "order_normalise"]);
    demo.apply_text("po.yaml", &with_transform(""));
    let good =
        text(&demo.sim.documents(SourceKind::PurchaseOrders)[0]["details_list"][0]["spec_no"]);
    let odd = demo
        .sim
        .add(
            SourceKind::PurchaseOrders,
            // In the scheme's first window, so that a preview shows it.
            json!({"details_list": [{"spec_no": RETIRED}], "modified": "2023-12-01 00:10:00"}),
        )
        .expect("add a purchase order");
    let odd_no = text(&odd["purchase_no"]);
    let others: Vec<String> = demo
        .sim
        .keys(SourceKind::PurchaseOrders)
        .into_iter()
        .filter(|k| *k != odd_no)
        .collect();
    assert_eq!(others.len(), 20);

    // A preview shows it refused, with the message.
    let preview = demo
        .ok(&[
            "scheme", "preview", SCHEME, "--tenant", TENANT, "--limit", "50",
        ])
        .stdout;
    assert!(
        preview.contains("ERROR transform order-normalise refused the record")
            && preview.contains(&format!("SKU '{RETIRED}' has no mapping")),
        "{preview}"
    );

    // The page holding it is transformed record by record: the run goes
    // on and delivers every other order.
    let outcome = demo.run(SCHEME);
    assert_eq!(count(&outcome, "written"), 20, "{outcome:#}");
    assert_eq!(count(&outcome, "failed"), 1, "{outcome:#}");
    assert_eq!(count(&outcome, "new"), 20, "{outcome:#}");
    assert_exactly_once(&demo.sim, System::K3cloud, FORM, &others);

    let failed = demo.failed(SCHEME);
    assert_eq!(failed.len(), 1, "{failed:#?}");
    let refused = &failed[0];
    assert!(
        text(&refused["key"]).starts_with("!transform:"),
        "{refused:#}"
    );
    assert_eq!(refused["error_class"], "invalid", "{refused:#}");
    let message = text(&refused["error"]);
    assert!(
        message.contains("order-normalise") && message.contains(RETIRED),
        "the message names the transform and the SKU: {message}"
    );
    // Kept as pulled: the SKU the transform could not map is in it.
    assert_eq!(refused["source"]["purchase_no"], odd_no.as_str());
    assert_eq!(refused["source"]["details_list"][0]["spec_no"], RETIRED);
    let id = text(&refused["id"]);

    // Retried before the fix (retry pushes at once): refused again, the
    // same record, one more attempt; nothing reaches the target.
    retry(&demo, &[&id], 0, 1);
    let failed = demo.failed(SCHEME);
    assert_eq!(failed.len(), 1, "{failed:#?}");
    assert_eq!(text(&failed[0]["id"]), id);
    assert_eq!(attempts(&failed[0]), 1, "{:#}", failed[0]);
    assert!(demo.sim.k3_bill(FORM, &odd_no).is_none());

    // The fix: the scheme maps the retired SKU. Retried, it is transformed,
    // keyed by its order number and delivered once.
    demo.apply_text("po.yaml", &with_transform(&format!("{RETIRED}: {good}")));
    retry(&demo, &["--scheme", SCHEME], 1, 0);
    assert!(demo.failed(SCHEME).is_empty());
    // The retried record became the order, under its number.
    let shown = assert_delivered_as(&demo, &id, &odd_no);
    assert_eq!(
        shown["source"]["details_list"][0]["spec_no"],
        good.as_str(),
        "kept as transformed"
    );
    let sent = assert_exactly_once(
        &demo.sim,
        System::K3cloud,
        FORM,
        &demo.sim.keys(SourceKind::PurchaseOrders),
    );
    assert_eq!(
        sent[&odd_no]["FPOOrderEntry"][0]["FMaterialId"]["FNumber"],
        good.as_str()
    );

    // And it stays delivered once.
    let outcome = demo.run(SCHEME);
    assert_eq!(count(&outcome, "written"), 0, "{outcome:#}");
    assert_eq!(count(&outcome, "failed"), 0, "{outcome:#}");
}

#[test]
fn a_record_without_a_key_is_not_sent_on_retry_until_the_scheme_can_key_it() {
    let demo = demo(&["wdt", "k3cloud"]);
    demo.apply_seed("wdt-purchase-order-to-k3cloud.yaml");
    let odd = demo
        .sim
        .add(SourceKind::PurchaseOrders, json!({"purchase_no": " "}))
        .expect("add a purchase order");
    let odd_id = text(&odd["purchase_id"]);
    let others: Vec<String> = demo
        .sim
        .keys(SourceKind::PurchaseOrders)
        .into_iter()
        .filter(|k| !k.trim().is_empty())
        .collect();

    let outcome = demo.run(SCHEME);
    assert_eq!(count(&outcome, "written"), 20, "{outcome:#}");
    assert_eq!(count(&outcome, "failed"), 1, "{outcome:#}");
    let failed = demo.failed(SCHEME);
    assert_eq!(failed.len(), 1, "{failed:#?}");
    assert!(
        text(&failed[0]["key"]).starts_with("!nokey:"),
        "{failed:#?}"
    );
    assert!(
        text(&failed[0]["error"]).contains("key is empty"),
        "{failed:#?}"
    );
    let id = text(&failed[0]["id"]);

    // Retried as the scheme is, it still has no key: it must not reach the
    // target, where nothing would stop a second copy later.
    retry(&demo, &[&id], 0, 1);
    assert_eq!(demo.sim.k3_bill_count(FORM), 20);
    let failed = demo.failed(SCHEME);
    assert_eq!(
        (text(&failed[0]["id"]), attempts(&failed[0])),
        (id.clone(), 1),
        "{failed:#?}"
    );
    assert!(
        text(&failed[0]["error"]).contains("cannot compute the business key"),
        "refused by the pull again, not by the target: {failed:#?}"
    );
    assert!(failed[0]["mapped"].is_null(), "never mapped: {failed:#?}");

    // The fix: orders without a number are keyed (and numbered) by their
    // id. The others keep their keys, so nothing is sent twice.
    let fallback = "{{ purchase_no | trim or 'PO-' ~ purchase_id }}";
    let yaml = seed_scheme()
        .replace(
            r#"key: "{{ purchase_no }}""#,
            &format!("key: \"{fallback}\""),
        )
        .replace(
            r#"FBillNo: "{{ purchase_no }}""#,
            &format!("FBillNo: \"{fallback}\""),
        );
    assert_eq!(yaml.matches(fallback).count(), 2, "{yaml}");
    // Applying it warns that the key changed under a ledger of 21 records.
    let file = demo.home().join("po.yaml");
    std::fs::write(&file, &yaml).expect("write scheme");
    let applied = demo.ok(&[
        "scheme",
        "apply",
        file.to_str().expect("utf-8"),
        "--tenant",
        TENANT,
    ]);
    assert!(
        applied
            .stderr
            .contains("warning: `source.key` changed from `{{ purchase_no }}`")
            && applied.stderr.contains("21 record(s)"),
        "{}",
        applied.stderr
    );
    retry(&demo, &["--scheme", SCHEME], 1, 0);
    assert!(demo.failed(SCHEME).is_empty());
    let outcome = demo.run(SCHEME);
    assert_eq!(count(&outcome, "written"), 0, "{outcome:#}");
    assert_eq!(count(&outcome, "failed"), 0, "{outcome:#}");
    let number = format!("PO-{odd_id}");
    let mut keys = others;
    keys.push(number.clone());
    assert_exactly_once(&demo.sim, System::K3cloud, FORM, &keys);
    // The retried record became the order, keyed by its id.
    assert_delivered_as(&demo, &id, &number);
}

#[test]
fn a_record_without_a_key_leaves_the_queue_on_retry_once_the_filter_drops_it() {
    let demo = demo(&["wdt", "k3cloud"]);
    demo.apply_seed("wdt-purchase-order-to-k3cloud.yaml");
    demo.sim
        .add(SourceKind::PurchaseOrders, json!({"purchase_no": " "}))
        .expect("add a purchase order");
    let outcome = demo.run(SCHEME);
    assert_eq!(count(&outcome, "failed"), 1, "{outcome:#}");
    let failed = demo.failed(SCHEME);
    let id = text(&failed[0]["id"]);

    // The user decides orders without a number are not to be sent.
    let key = r#"  key: "{{ purchase_no }}""#;
    let yaml = seed_scheme().replace(
        key,
        &format!("{key}\n  filter: \"{{{{ purchase_no | trim != '' }}}}\""),
    );
    assert!(yaml.contains("filter:"), "{yaml}");
    demo.apply_text("po.yaml", &yaml);
    // Retried, it is dropped by the filter, as it would be if pulled now:
    // out of the exception queue, and never sent.
    let said = demo
        .ok(&["records", "retry", &id, "--tenant", TENANT])
        .stdout;
    assert!(
        said.contains("written 0 ") && said.contains("filtered 1") && said.contains("failed 0 "),
        "{said}"
    );
    assert!(demo.failed(SCHEME).is_empty());
    let gone = demo.weft(&["records", "show", &id, "--tenant", TENANT]);
    assert!(
        gone.code != 0 && gone.stderr.contains("not found"),
        "record {id} is still in the ledger: {}",
        gone.stdout
    );
    assert_eq!(demo.sim.k3_bill_count(FORM), 20);
    let outcome = demo.run(SCHEME);
    assert_eq!(count(&outcome, "written"), 0, "{outcome:#}");
    assert_eq!(count(&outcome, "failed"), 0, "{outcome:#}");
}
