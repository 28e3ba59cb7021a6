//! The transform on orders from weft's simulators, through the `weft`
//! binary.

use weft_plugin_sdk::serde_json::{self, Value};

use crate::simulator::{Home, Sim};

#[test]
fn stamps_every_order_from_the_simulators() {
    let sim = Sim::start();
    let home = Home::new();
    home.install_plugin();
    let orders = sim.get("/shop/v1/orders?per_page=10")["orders"].clone();
    let input = orders.to_string();

    let out = home.ok(
        &[
            "plugin",
            "transform",
            "__NAME__",
            "--config",
            r#"{"field": "channel", "value": "shop"}"#,
        ],
        Some(&input),
    );
    let out: Vec<Value> = serde_json::from_str(&out).expect("a JSON array of records");
    let before = orders.as_array().expect("orders");
    assert_eq!(out.len(), before.len());
    for (after, before) in out.iter().zip(before) {
        assert_eq!(after["channel"], "shop");
        assert_eq!(after["id"], before["id"], "order and ids kept");
    }

    // A config without `value` breaks the config schema: the call fails.
    let (ok, _, stderr) = home.weft(
        &[
            "plugin",
            "transform",
            "__NAME__",
            "--config",
            r#"{"field": "channel"}"#,
        ],
        Some(&input),
    );
    assert!(!ok, "a bad config must fail");
    assert!(
        stderr.contains("value"),
        "the error names the missing field: {stderr}"
    );
}
