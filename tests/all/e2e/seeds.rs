//! Each seed scheme delivers every source document exactly once, with the
//! field values the scheme maps (detail rows included), over several pages
//! and windows; a second run delivers nothing new.

use serde_json::Value;
use weft_sim::{DatasetConfig, SimConfig, SourceKind, System};

use super::{Demo, assert_exactly_once, count, number, text};

fn config(dataset: DatasetConfig) -> SimConfig {
    SimConfig {
        dataset,
        ..SimConfig::default()
    }
}

fn by_key(docs: Vec<Value>, key: &str) -> std::collections::BTreeMap<String, Value> {
    docs.into_iter().map(|d| (text(&d[key]), d)).collect()
}

fn rows<'a>(doc: &'a Value, field: &str) -> &'a Vec<Value> {
    doc[field]
        .as_array()
        .unwrap_or_else(|| panic!("{field} is not an array in {doc:#}"))
}

/// Runs once more and checks that nothing new was pulled or written.
fn second_run_sends_nothing(demo: &Demo, scheme: &str, system: System, form: &str) {
    let before = demo.sim.received(system, form).entries.len();
    let outcome = demo.run(scheme);
    assert_eq!(count(&outcome, "new"), 0, "{outcome:#}");
    assert_eq!(count(&outcome, "written"), 0, "{outcome:#}");
    assert_eq!(count(&outcome, "changed"), 0, "{outcome:#}");
    assert_eq!(demo.sim.received(system, form).entries.len(), before);
}

#[test]
fn wdt_purchase_orders_reach_k3cloud_once_with_their_lines() {
    let demo = Demo::start(
        config(DatasetConfig {
            purchase_orders: 250,
            ..DatasetConfig::default()
        }),
        &["wdt", "k3cloud"],
    );
    demo.apply_seed("wdt-purchase-order-to-k3cloud.yaml");
    let outcome = demo.run("wdt-purchase-order-to-k3cloud");
    assert_eq!(count(&outcome, "written"), 250, "{outcome:#}");
    assert!(count(&outcome, "pages") >= 3, "{outcome:#}");
    assert!(count(&outcome, "windows") >= 2, "{outcome:#}");

    let source = by_key(
        demo.sim.documents(SourceKind::PurchaseOrders),
        "purchase_no",
    );
    let keys: Vec<String> = source.keys().cloned().collect();
    let sent = assert_exactly_once(&demo.sim, System::K3cloud, "PUR_PurchaseOrder", &keys);
    assert_eq!(sent.len(), 250);
    for (no, model) in &sent {
        let po = &source[no];
        assert_eq!(model["FBillNo"], po["purchase_no"]);
        assert_eq!(model["FDate"], po["check_time"]);
        assert_eq!(model["FSupplierId"]["FNumber"], po["provider_no"]);
        assert_eq!(model["FBillTypeID"]["FNUMBER"], "CGDD01_SYS");
        assert_eq!(model["FPurchaseOrgId"]["FNumber"], "100");
        let (entries, lines) = (rows(model, "FPOOrderEntry"), rows(po, "details_list"));
        assert_eq!(entries.len(), lines.len(), "{no}");
        assert_eq!(lines.len(), 5);
        for (entry, line) in entries.iter().zip(lines) {
            assert_eq!(entry["FMaterialId"]["FNumber"], line["spec_no"], "{no}");
            assert_eq!(number(&entry["FQty"]), number(&line["num"]), "{no}");
            assert_eq!(number(&entry["FPrice"]), number(&line["price"]), "{no}");
            assert_eq!(
                number(&entry["FTaxPrice"]),
                number(&line["tax_price"]),
                "{no}"
            );
            assert_eq!(
                number(&entry["FAllAmount"]),
                number(&line["tax_amount"]),
                "{no}"
            );
            assert_eq!(text(&entry["FEntryNote"]), text(&line["rec_id"]), "{no}");
        }
        // K3Cloud holds it, audited, with its own id.
        let bill = demo
            .sim
            .k3_bill("PUR_PurchaseOrder", no)
            .unwrap_or_else(|| panic!("K3Cloud has no {no}"));
        assert!(bill["FID"].as_i64().is_some_and(|id| id > 0), "{bill:#}");
    }
    assert_eq!(demo.sim.k3_bill_count("PUR_PurchaseOrder"), 250);

    second_run_sends_nothing(
        &demo,
        "wdt-purchase-order-to-k3cloud",
        System::K3cloud,
        "PUR_PurchaseOrder",
    );
}

#[test]
fn jst_refunds_reach_k3cloud_once_except_cancelled_ones() {
    let demo = Demo::start(
        config(DatasetConfig {
            refunds: 120,
            ..DatasetConfig::default()
        }),
        &["jst", "k3cloud"],
    );
    // The generator makes no cancelled refunds; the filter must drop these.
    for _ in 0..2 {
        demo.sim
            .add(
                SourceKind::Refunds,
                serde_json::json!({"status": "Cancelled"}),
            )
            .expect("add a cancelled refund");
    }
    demo.apply_seed("jst-refund-to-k3cloud-return.yaml");
    let outcome = demo.run("jst-refund-to-k3cloud-return");

    let source = by_key(demo.sim.documents(SourceKind::Refunds), "as_id");
    let live: Vec<String> = source
        .iter()
        .filter(|(_, r)| r["status"] != "Cancelled")
        .map(|(id, _)| format!("JST-{id}"))
        .collect();
    let cancelled = source.len() - live.len();
    assert_eq!(cancelled, 2, "the cancelled refunds are in the source");
    assert_eq!(count(&outcome, "filtered"), cancelled as u64, "{outcome:#}");
    assert_eq!(count(&outcome, "written"), live.len() as u64, "{outcome:#}");

    let sent = assert_exactly_once(&demo.sim, System::K3cloud, "SAL_RETURNSTOCK", &live);
    for (no, model) in &sent {
        let refund = &source[no.trim_start_matches("JST-")];
        assert_eq!(model["FBillTypeID"]["FNUMBER"], "XSTHD01_SYS");
        let shop = text(&refund["shop_id"]);
        let customer = shop
            .parse::<u32>()
            .ok()
            .filter(|n| (10_001..=10_010).contains(n))
            .map_or_else(
                || "CUST0001".to_owned(),
                |n| format!("CUST{:04}", n - 10_000),
            );
        assert_eq!(model["FRetcustId"]["FNumber"], customer.as_str(), "{no}");
        let note = text(&model["FHeadNote"]);
        assert!(
            note.contains(&format!("订单 {}", text(&refund["o_id"]))),
            "{note}"
        );
        let (entries, items) = (rows(model, "FEntity"), rows(refund, "items"));
        assert_eq!(entries.len(), items.len(), "{no}");
        for (entry, item) in entries.iter().zip(items) {
            assert_eq!(entry["FMaterialId"]["FNumber"], item["sku_id"], "{no}");
            assert_eq!(number(&entry["FRealQty"]), number(&item["r_qty"]), "{no}");
            assert_eq!(number(&entry["FPrice"]), number(&item["price"]), "{no}");
            assert_eq!(
                entry["FStockId"]["FNumber"],
                text(&refund["wh_id"]).as_str()
            );
            assert_eq!(text(&entry["FNote"]), text(&item["asi_id"]), "{no}");
        }
    }

    second_run_sends_nothing(
        &demo,
        "jst-refund-to-k3cloud-return",
        System::K3cloud,
        "SAL_RETURNSTOCK",
    );
}

#[test]
fn jackyun_trades_reach_k3cloud_once_as_sales_outstock() {
    let demo = Demo::start(
        config(DatasetConfig {
            jackyun_trades: 450,
            ..DatasetConfig::default()
        }),
        &["qimen", "k3cloud"],
    );
    demo.apply_seed("jackyun-trade-to-k3cloud-outstock.yaml");
    let outcome = demo.run("jackyun-trade-to-k3cloud-outstock");
    assert_eq!(count(&outcome, "written"), 450, "{outcome:#}");
    assert!(count(&outcome, "pages") >= 3, "{outcome:#}");

    let source = by_key(demo.sim.documents(SourceKind::JackyunTrades), "tradeNo");
    let keys: Vec<String> = source.keys().cloned().collect();
    let sent = assert_exactly_once(&demo.sim, System::K3cloud, "SAL_OUTSTOCK", &keys);
    for (no, model) in &sent {
        let trade = &source[no];
        assert_eq!(
            model["FCustomerID"]["FNumber"], trade["customerCode"],
            "{no}"
        );
        assert_eq!(model["FBillTypeID"]["FNUMBER"], "XSCKD01_SYS");
        let (entries, goods) = (rows(model, "FEntity"), rows(trade, "goodsDetail"));
        assert_eq!(entries.len(), goods.len(), "{no}");
        assert_eq!(goods.len(), 3);
        for (entry, line) in entries.iter().zip(goods) {
            assert_eq!(entry["FMaterialID"]["FNumber"], line["goodsNo"], "{no}");
            assert_eq!(
                number(&entry["FRealQty"]),
                number(&line["sellCount"]),
                "{no}"
            );
            assert_eq!(number(&entry["FPrice"]), number(&line["sellPrice"]), "{no}");
            let rate = number(&line["taxRate"]) * 100.0;
            assert!(
                (number(&entry["FEntryTaxRate"]) - rate).abs() < 1e-6,
                "{no}"
            );
            assert_eq!(
                text(&entry["FEntrynote"]),
                text(&line["subTradeId"]),
                "{no}"
            );
        }
    }

    second_run_sends_nothing(
        &demo,
        "jackyun-trade-to-k3cloud-outstock",
        System::K3cloud,
        "SAL_OUTSTOCK",
    );
}

#[test]
fn wdt_qimen_stockout_returns_reach_jdy_once_as_purchase_returns() {
    let demo = Demo::start(
        config(DatasetConfig {
            stockout_returns: 70,
            ..DatasetConfig::default()
        }),
        &["qimen", "jdy"],
    );
    demo.apply_seed("wdt-qimen-stockout-return-to-jdy.yaml");
    let outcome = demo.run("wdt-qimen-stockout-return-to-jdy");
    assert_eq!(count(&outcome, "written"), 70, "{outcome:#}");
    assert!(count(&outcome, "pages") >= 3, "{outcome:#}");

    let source = by_key(
        demo.sim.documents(SourceKind::StockoutReturns),
        "stockout_no",
    );
    let keys: Vec<String> = source.keys().cloned().collect();
    let sent = assert_exactly_once(&demo.sim, System::Jdy, "pur_return", &keys);
    for (no, bill) in &sent {
        let stockout = &source[no];
        assert_eq!(bill["billno"], stockout["stockout_no"]);
        assert_eq!(bill["supplierid_number"], stockout["provider_no"], "{no}");
        let day = text(&stockout["consign_time"]);
        assert_eq!(text(&bill["billdate"]), day[..10], "{no}");
        let (entries, lines) = (rows(bill, "material_entity"), rows(stockout, "detail_list"));
        assert_eq!(entries.len(), lines.len(), "{no}");
        for (entry, line) in entries.iter().zip(lines) {
            assert_eq!(entry["materialid_number"], line["spec_no"], "{no}");
            assert_eq!(entry["stockid_number"], stockout["warehouse_no"], "{no}");
            assert_eq!(number(&entry["qty"]), number(&line["num"]), "{no}");
            assert_eq!(number(&entry["price"]), number(&line["price"]), "{no}");
        }
        assert!(demo.sim.jdy_pur_return(no).is_some(), "JDY has no {no}");
    }

    second_run_sends_nothing(
        &demo,
        "wdt-qimen-stockout-return-to-jdy",
        System::Jdy,
        "pur_return",
    );
}
