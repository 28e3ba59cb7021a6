//! How long `Mapper::map` takes for a purchase order of 5 detail lines
//! (seed 002's fields: ~40 header fields, ~45 per line), mapped to a
//! 金蝶云星空 purchase order of 12 header fields and 5 entries of 7 fields.
//!
//! `cargo bench -p weft-scheme --bench mapping` prints the median time per
//! document over 31 samples, and documents per second on one core.

use std::hint::black_box;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use weft_scheme::{LookupTables, Mapper, Scheme};

const SCHEME: &str = r#"
name: bench-purchase-order
source:
  connection: wdt
  operation: purchase_order_query
  key: "{{ purchase_no }}"
target:
  connection: k3cloud
  operation: batch_save
lookups:
  suppliers: { GYS001: "0003", GYS002: "0004", GYS003: "0005" }
mapping:
  FBillNo: "{{purchase_no}}"
  FDate: "{{ check_time | date }}"
  FBillTypeID: { FNUMBER: CGDD01_SYS }
  FBusinessType: CG
  FPurchaseOrgId: { FNumber: "100" }
  FSupplierId: { FNumber: "{{ provider_no | lookup('suppliers', default='0003') }}" }
  FPurchaserId: { FNumber: "{{ purchaser_name }}" }
  FNote: "{{ remark | default('') }}"
  FProviderContact: "{{ contact }}"
  FExpectDate: "{{ expect_arrive_time | datetime }}"
  FAmount: "{{ goods_amount | number }}"
  FOuterNo: "wdt-{{ purchase_no }}-{{ warehouse_no }}"
  FPOOrderEntry:
    each: details_list
    map:
      FMaterialId: { FNumber: "{{details_list.spec_no}}" }
      FQty: "{{ details_list.num | number }}"
      FPrice: "{{ details_list.price | number }}"
      FEntryTaxRate: "{{ details_list.tax | number }}"
      FAllAmount: "{{ details_list.tax_amount | round(2) }}"
      FEntryNote: "{{details_list.rec_id}}"
      FReceiveOrgId: { FNumber: "100" }
"#;

fn order(i: usize) -> Value {
    let mut header = serde_json::Map::new();
    for f in [
        "purchase_outer_no",
        "outer_no",
        "warehouse_name",
        "status",
        "provider_name",
        "telno",
        "receive_address",
        "logistics_type",
        "post_fee",
        "other_fee",
        "tax_goods_amount",
        "creator_id",
        "creator_name",
        "api_outer_no",
        "wms_outer_no",
        "wms_status",
        "error_info",
        "purchaser_id",
        "order_type",
        "flag_id",
        "provider_id",
        "check_operator_id",
        "facheck_operator_id",
        "facheck_time",
        "goods_fee",
        "goods_count",
        "tax_fee",
        "goods_type_count",
        "goods_arrive_count",
        "revert_reason",
        "version_id",
        "note_count",
        "prop_time1",
    ] {
        header.insert(f.to_owned(), json!(format!("{f}-value")));
    }
    header.insert("purchase_no".into(), json!(format!("CG{i:08}")));
    header.insert("warehouse_no".into(), json!("WH01"));
    header.insert("provider_no".into(), json!("GYS002"));
    header.insert("purchaser_name".into(), json!("张三"));
    header.insert("contact".into(), json!("李四"));
    header.insert("remark".into(), Value::Null);
    header.insert("check_time".into(), json!("2024-03-05 14:30:00"));
    header.insert("expect_arrive_time".into(), json!("2024-03-10 00:00:00"));
    header.insert("goods_amount".into(), json!("1234.5000"));
    let lines: Vec<Value> = (0..5)
        .map(|n| {
            let mut line = serde_json::Map::new();
            for f in [
                "purchase_id",
                "remark",
                "modified",
                "prop1",
                "prop2",
                "created",
                "warehouse_id",
                "brand_name",
                "discount",
                "amount",
                "stockin_amount",
                "stockin_num",
                "provider_goods_no",
                "goods_no",
                "goods_name",
                "short_name",
                "spec_name",
                "spec_code",
                "base_unit",
                "purchase_unit",
                "arrive_num",
                "stopwait_num",
                "purchase_price",
                "last_price",
                "last_second_price",
                "lowest_price",
                "weight",
                "arrive_more_num",
                "lack_num",
                "spec_id",
                "tag",
                "num2",
                "unit_ratio",
                "unit_id",
                "base_unit_id",
                "tax_price",
            ] {
                line.insert(f.to_owned(), json!(format!("{f}-{n}")));
            }
            line.insert("rec_id".into(), json!(format!("{}", 1000 + n)));
            line.insert("spec_no".into(), json!(format!("A{n:02}")));
            line.insert("num".into(), json!("2.0000"));
            line.insert("price".into(), json!("10.5000"));
            line.insert("tax".into(), json!("13.0000"));
            line.insert("tax_amount".into(), json!("23.7300"));
            Value::Object(line)
        })
        .collect();
    header.insert("details_list".into(), Value::Array(lines));
    Value::Object(header)
}

fn main() {
    let scheme = match Scheme::parse("bench.yaml", SCHEME) {
        Ok(s) => s,
        Err(d) => panic!("{d}"),
    };
    let mapper = match Mapper::compile(&scheme, &LookupTables::new()) {
        Ok(m) => m,
        Err(d) => panic!("{d}"),
    };
    let orders: Vec<Value> = (0..1000).map(order).collect();
    if let Err(e) = mapper.map(&orders[0]) {
        panic!("{e}");
    }
    // `cargo bench -p weft-scheme --bench mapping -- profile` (the tree) or
    // `-- profile-read` (the text, as a run reads it): only the warm loop,
    // long enough for `perf record`.
    if std::env::args().any(|a| a == "profile-read") {
        let text = orders[7].to_string();
        for _ in 0..100_000 {
            if let Ok((_, read)) = mapper.key_and_read(black_box(&text)) {
                black_box(mapper.map_read_json(&read).ok());
            }
        }
        return;
    }
    if std::env::args().any(|a| a == "profile") {
        for _ in 0..200_000 {
            black_box(mapper.map(black_box(&orders[7])).ok());
        }
        return;
    }
    let mut samples: Vec<Duration> = Vec::new();
    for _ in 0..31 {
        let start = Instant::now();
        for o in &orders {
            black_box(mapper.map(black_box(o)).ok());
        }
        samples.push(start.elapsed() / u32::try_from(orders.len()).unwrap_or(1));
    }
    samples.sort();
    let median = samples[samples.len() / 2];
    println!(
        "map(): median {:.1} µs per purchase order (5 lines), {:.0} documents/s on one core",
        median.as_secs_f64() * 1e6,
        1.0 / median.as_secs_f64()
    );

    // The engine maps a record right after reading it from the ledger:
    // mapping one order, freshly touched, again and again is closer to that
    // than walking 1000 orders that have left the cache.
    let mut samples: Vec<Duration> = Vec::new();
    for _ in 0..31 {
        let start = Instant::now();
        for _ in 0..1000 {
            black_box(mapper.map(black_box(&orders[7])).ok());
        }
        samples.push(start.elapsed() / 1000);
    }
    samples.sort();
    println!(
        "map() of a warm record: median {:.1} µs",
        samples[samples.len() / 2].as_secs_f64() * 1e6
    );

    let mut samples: Vec<Duration> = Vec::new();
    for _ in 0..31 {
        let start = Instant::now();
        for o in &orders {
            black_box(mapper.key(black_box(o)).ok());
        }
        samples.push(start.elapsed() / u32::try_from(orders.len()).unwrap_or(1));
    }
    samples.sort();
    println!(
        "key(): median {:.1} µs per purchase order",
        samples[samples.len() / 2].as_secs_f64() * 1e6
    );

    // What a run does: the pull reads each record's text once for its key
    // and its mapping, the push maps what was read.
    let texts: Vec<String> = orders.iter().map(Value::to_string).collect();
    let mut read_samples: Vec<Duration> = Vec::new();
    let mut map_samples: Vec<Duration> = Vec::new();
    let mut json_samples: Vec<Duration> = Vec::new();
    for _ in 0..31 {
        let start = Instant::now();
        let reads: Vec<_> = texts
            .iter()
            .filter_map(|t| mapper.key_and_read(black_box(t)).ok())
            .collect();
        read_samples.push(start.elapsed() / u32::try_from(texts.len()).unwrap_or(1));
        let start = Instant::now();
        for (_, r) in &reads {
            black_box(mapper.map_read(black_box(r)).ok());
        }
        map_samples.push(start.elapsed() / u32::try_from(texts.len()).unwrap_or(1));
        let start = Instant::now();
        for (_, r) in &reads {
            black_box(mapper.map_read_json(black_box(r)).ok());
        }
        json_samples.push(start.elapsed() / u32::try_from(texts.len()).unwrap_or(1));
    }
    let median = |samples: &mut Vec<Duration>| {
        samples.sort();
        samples[samples.len() / 2].as_secs_f64() * 1e6
    };
    println!(
        "key_and_read() of the text: median {:.1} µs per purchase order ({} bytes); \
         map_read() to a value: {:.1} µs; map_read_json() to text, as a run does: {:.1} µs",
        median(&mut read_samples),
        texts[0].len(),
        median(&mut map_samples),
        median(&mut json_samples)
    );
}
