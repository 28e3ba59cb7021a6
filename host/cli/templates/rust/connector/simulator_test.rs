//! The connector against weft's simulators, through the `weft` binary.

use weft_plugin_sdk::serde_json::{self, Value};

use crate::simulator::{Home, SHOP_TOKEN, Sim};

fn add_connection(home: &Home, sim: &Sim, name: &str, token: &str) {
    home.ok(
        &[
            "connection",
            "add",
            name,
            "--tenant",
            "dev",
            "--plugin",
            "__NAME__",
            "--set",
            &format!("base_url={}", sim.origin),
            "--secret",
            &format!("token={token}"),
            // The simulators run on loopback, which the sandbox refuses
            // unless the connection allows it.
            "--allow-address",
            "127.0.0.1",
        ],
        None,
    );
}

#[test]
fn reads_every_order_page_by_page_and_refuses_a_wrong_token() {
    let sim = Sim::start();
    let home = Home::new();
    home.install_plugin();
    home.ok(&["tenant", "add", "dev"], None);
    add_connection(&home, &sim, "shop", SHOP_TOKEN);
    home.ok(&["connection", "check", "shop", "--tenant", "dev"], None);

    let out = home.ok(
        &[
            "connection",
            "read",
            "shop",
            "--tenant",
            "dev",
            "--operation",
            "orders",
            "--params",
            r#"{"page_size": 7}"#,
            "--pages",
            "0",
        ],
        None,
    );
    let read: Value = serde_json::from_str(&out).expect("JSON from connection read");
    let total = sim.get("/shop/v1/orders?per_page=1")["total"]
        .as_u64()
        .expect("a total");
    let records = read["records"].as_array().expect("records");
    assert_eq!(records.len() as u64, total, "every order, once");
    assert_eq!(read["pages"].as_u64(), Some(total.div_ceil(7)));
    let mut ids: Vec<&str> = records.iter().filter_map(|r| r["id"].as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len() as u64, total, "no order twice");

    add_connection(&home, &sim, "wrong", "not-the-token");
    let (ok, _, stderr) = home.weft(&["connection", "check", "wrong", "--tenant", "dev"], None);
    assert!(!ok, "a wrong token must fail the check");
    assert!(
        stderr.contains("auth"),
        "a wrong token is an auth error: {stderr}"
    );
}
