use std::collections::HashMap;

use serde_json::{Value, json};
use time::OffsetDateTime;

use super::*;

const SKETCH: &str = include_str!("../../testdata/sketch.yaml");

/// A scheme around `mapping` (indented two spaces), with `extra` top-level
/// YAML appended.
fn scheme(mapping: &str, extra: &str) -> Scheme {
    let text = format!(
        "name: t\nsource: {{ connection: wdt, operation: q, key: \"{{{{ purchase_no }}}}\" }}\ntarget: {{ connection: k3, operation: w }}\n{extra}\nmapping:\n{mapping}"
    );
    match Scheme::parse("t.yaml", &text) {
        Ok(s) => s,
        Err(d) => panic!("does not parse:\n{d}\n---\n{text}"),
    }
}

fn mapper(mapping: &str) -> Mapper {
    mapper_with(mapping, "", &LookupTables::new())
}

fn mapper_with(mapping: &str, extra: &str, tenant: &LookupTables) -> Mapper {
    match Mapper::compile(&scheme(mapping, extra), tenant) {
        Ok(m) => m,
        Err(d) => panic!("does not compile:\n{d}"),
    }
}

/// Mapping that checks on the way that mapping the record's text straight
/// to JSON text agrees: the same document, or the same error.
trait Checked {
    fn map_checked(&self, record: &Value) -> Result<Value, MapError>;
}

impl Checked for Mapper {
    fn map_checked(&self, record: &Value) -> Result<Value, MapError> {
        let mapped = self.map(record);
        let written = self
            .map_text_json(&record.to_string())
            .map(|t| serde_json::from_str::<Value>(&t).unwrap_or_else(|e| panic!("{e}: {t}")));
        assert_eq!(written, mapped, "written as text, of {record}");
        mapped
    }
}

/// Maps `record` with a one-field mapping `F: <value>`.
fn one(value: &str, record: Value) -> Result<Value, MapError> {
    let m = mapper(&format!("  F: {value}\n"));
    m.map_checked(&record).map(|doc| doc["F"].clone())
}

fn ok(value: &str, record: Value) -> Value {
    match one(value, record) {
        Ok(v) => v,
        Err(e) => panic!("{value}: {e}"),
    }
}

fn err(value: &str, record: Value) -> MapError {
    match one(value, record) {
        Ok(v) => panic!("{value} gave {v}, expected an error"),
        Err(e) => e,
    }
}

fn order() -> Value {
    json!({
        "purchase_no": "CG2024001",
        "status": "20",
        "provider_no": "GYS002",
        "check_time": "2024-03-05 14:30:00",
        "remark": null,
        "provider_id": "88",
        "details_list": [
            { "rec_id": "1", "spec_no": "A01", "num": "2.0000", "price": "10.5000", "tax": "13", "remark": "r1" },
            { "rec_id": "2", "spec_no": "A02", "num": "1", "price": "3.3000", "tax": "13", "remark": "r2" },
            { "rec_id": "3", "spec_no": "A01", "num": "0.1", "price": "10.5000", "tax": "13", "remark": "r3" }
        ]
    })
}

fn at(unix: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(unix).expect("in range")
}

#[test]
fn mapper_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Mapper>();
}

#[test]
fn the_sketch_parses_and_maps() {
    let scheme = Scheme::parse("sketch.yaml", SKETCH).unwrap_or_else(|d| panic!("{d}"));
    let mut m = Mapper::compile(&scheme, &LookupTables::new()).unwrap_or_else(|d| panic!("{d}"));
    assert_eq!(m.live_lookups().len(), 1);
    let live = &m.live_lookups()[0];
    assert_eq!(
        (live.name.as_str(), live.operation.as_str()),
        ("materials", "execute_bill_query")
    );
    assert_eq!(
        live.params,
        json!({"FormId": "BD_MATERIAL", "FieldKeys": "FNumber,FName"})
    );
    let rows = [
        json!({"FNumber": "A01"}),
        json!({"FNumber": "A02"}),
        json!({"FNumber": null}),
    ];
    let table = m.live_table("materials", &rows).expect("renders");
    assert_eq!(table.len(), 2);
    m.set_live_table("materials", table);

    let params = m
        .source_params(&RunVars {
            last_sync_time: at(1_704_038_400),
            current_time: at(1_704_042_000),
            page_size: None,
        })
        .expect("renders");
    assert_eq!(
        params,
        json!({"start_time": "2024-01-01 00:00:00", "end_time": "2024-01-01 01:00:00", "page_size": 100})
    );
    assert_eq!(
        m.target_params().expect("renders"),
        json!({"formid": "PUR_PurchaseOrder", "IsAutoSubmitAndAudit": true})
    );

    // flatten: one record per detail row, the row replacing the list.
    let records = m.expand(order()).expect("expands");
    assert_eq!(records.len(), 3);
    assert_eq!(records[1]["details_list"]["spec_no"], "A02");
    assert_eq!(records[1]["purchase_no"], "CG2024001");
    assert_eq!(m.key(&records[0]).expect("key"), "CG2024001");
    let doc = m.map_checked(&records[0]).expect("maps");
    assert_eq!(
        doc,
        json!({
            "FBillNo": "CG2024001",
            "FDate": "2024-03-05",
            "FBillTypeID": {"FNUMBER": "CGDD01_SYS"},
            "FBusinessType": "CG",
            "FSupplierId": {"FNumber": "0004"},
            "FNote": "",
            "FPOOrderEntry": [
                {"FMaterialId": {"FNumber": "A01"}, "FQty": 2.0, "FPrice": 10.5, "FEntryNote": "1"}
            ]
        })
    );
    // filter: status 10 is skipped.
    let mut cancelled = order();
    cancelled["status"] = json!("10");
    assert_eq!(m.expand(cancelled).expect("expands"), Vec::<Value>::new());
    assert_eq!(scheme.transforms[0].config, json!({"prefix": "SKU-"}));
}

#[test]
fn mapping_and_keying_the_text_equal_mapping_and_keying_the_tree() {
    let scheme = Scheme::parse("sketch.yaml", SKETCH).unwrap_or_else(|d| panic!("{d}"));
    let mut m = Mapper::compile(&scheme, &LookupTables::new()).unwrap_or_else(|d| panic!("{d}"));
    let rows = [json!({"FNumber": "A01"}), json!({"FNumber": "A02"})];
    let table = m.live_table("materials", &rows).expect("renders");
    m.set_live_table("materials", table);
    let record = order();
    let text = record.to_string();
    assert!(m.map(&record).is_ok());
    let key_of = |t: &str| m.key_and_read(t).map(|(k, _)| k);
    assert_eq!(key_of(&text).ok(), m.key(&record).ok());
    assert_eq!(key_of(&text).ok().as_deref(), Some("CG2024001"));
    // Read once for both, the record keys and maps the same.
    let (key, read) = m.key_and_read(&text).expect("reads");
    assert_eq!(key, "CG2024001");
    assert_eq!(m.map_read(&read).ok(), m.map(&record).ok());
    // Written straight to text, the document parses to the same value.
    let parsed =
        |t: Result<String, MapError>| t.ok().and_then(|t| serde_json::from_str::<Value>(&t).ok());
    assert_eq!(parsed(m.map_read_json(&read)), m.map(&record).ok());
    assert_eq!(parsed(m.map_text_json(&text)), m.map(&record).ok());
    let mut keyless = record.clone();
    keyless["purchase_no"] = json!("");
    let e = m
        .key_and_read(&keyless.to_string())
        .err()
        .map(|e| e.to_string());
    assert!(
        e.as_deref()
            .is_some_and(|e| e.contains("source.key") && e.contains("empty")),
        "{e:?}"
    );
    let e = key_of("{\"purchase_no\": ").err().map(|e| e.to_string());
    assert!(
        e.as_deref()
            .is_some_and(|e| e.contains("source.key") && e.contains("not JSON")),
        "{e:?}"
    );
}

#[test]
fn typed_output_keeps_types_and_templates_render_strings() {
    let r = json!({"n": 3, "f": 1.5, "b": true, "s": "x", "o": {"a": [1, 2]}, "z": null});
    assert_eq!(ok("\"{{ n }}\"", r.clone()), json!(3));
    assert_eq!(ok("\"{{ f }}\"", r.clone()), json!(1.5));
    assert_eq!(ok("\"{{ b }}\"", r.clone()), json!(true));
    assert_eq!(ok("\"{{ o }}\"", r.clone()), json!({"a": [1, 2]}));
    assert_eq!(ok("\"{{ z }}\"", r.clone()), Value::Null);
    assert_eq!(ok("\"{{ missing }}\"", r.clone()), Value::Null);
    assert_eq!(ok("\"{{ missing.deeper.still }}\"", r.clone()), Value::Null);
    assert_eq!(ok("\"{{ n + 1 }}\"", r.clone()), json!(4));
    assert_eq!(ok("\"n={{ n }}\"", r.clone()), json!("n=3"));
    assert_eq!(
        ok("\"{{ s }}-{{ z }}-{{ missing }}\"", r.clone()),
        json!("x--")
    );
    // Constants keep their YAML type; quoted and zero-led numbers are strings.
    assert_eq!(ok("100", r.clone()), json!(100));
    assert_eq!(ok("\"100\"", r.clone()), json!("100"));
    assert_eq!(ok("0003", r.clone()), json!("0003"));
    assert_eq!(ok("true", r.clone()), json!(true));
    assert_eq!(ok("CGDD01_SYS", r.clone()), json!("CGDD01_SYS"));
    assert_eq!(
        ok("[1, \"{{ s }}\", {k: \"{{ n }}\"}]", r.clone()),
        json!([1, "x", {"k": 3}])
    );
    // Conditionals.
    assert_eq!(
        ok("\"{{ 'big' if n > 2 else 'small' }}\"", r.clone()),
        json!("big")
    );
    assert_eq!(
        ok("\"{% if b %}yes{% else %}no{% endif %}\"", r.clone()),
        json!("yes")
    );
}

#[test]
fn qeasy_spellings() {
    let m = mapper_with(
        "  FBillNo: \"{{purchase_no}}\"\n  FEntity:\n    each: details_list\n    map:\n      FQty: \"{{details_list.num}}\"\n      FShort: \"{{ spec_no }}\"\n      FRow: \"{{ row.rec_id }}\"\n      FHeaderRemark: \"{{remark}}\"\n      FLinkBill: \"{{provider_id}}\"\n",
        "",
        &LookupTables::new(),
    );
    let doc = m.map_checked(&order()).expect("maps");
    assert_eq!(doc["FBillNo"], "CG2024001");
    assert_eq!(doc["FEntity"][0]["FQty"], "2.0000");
    assert_eq!(doc["FEntity"][1]["FShort"], "A02");
    assert_eq!(doc["FEntity"][2]["FRow"], "3");
    // A header field wins over a row field of the same name.
    assert_eq!(doc["FEntity"][0]["FHeaderRemark"], Value::Null);
    assert_eq!(doc["FEntity"][0]["FLinkBill"], "88");

    let text = "name: t\nsource:\n  connection: wdt\n  operation: q\n  key: \"{{purchase_no}}\"\n  page_size: 50\n  params:\n    start_time: \"{{LAST_SYNC_TIME datetime}}\"\n    end_time: \"{{CURRENT_TIME datetime}}\"\n    page_size: \"{{PAGINATION_PAGE_SIZE}}\"\n    page_no: \"{{PAGINATION_START_PAGE}}\"\n    since: \"{{ LAST_SYNC_TIME }}\"\ntarget: { connection: k3, operation: w }\nmapping: { a: 1 }\n";
    let s = Scheme::parse("t.yaml", text).unwrap_or_else(|d| panic!("{d}"));
    let m = Mapper::compile(&s, &LookupTables::new()).unwrap_or_else(|d| panic!("{d}"));
    let p = m
        .source_params(&RunVars {
            last_sync_time: at(1_704_038_400),
            current_time: at(1_704_038_460),
            page_size: None,
        })
        .expect("renders");
    assert_eq!(
        p,
        json!({"start_time": "2024-01-01 00:00:00", "end_time": "2024-01-01 00:01:00", "page_size": 50, "page_no": 1, "since": 1_704_038_400})
    );
}

#[test]
fn each_blocks() {
    let m = mapper(
        "  E:\n    each: details_list\n    filter: \"{{ row.num | number > 0.5 }}\"\n    map: { n: \"{{ details_list.rec_id }}\" }\n  V:\n    each: \"{{ details_list | reverse }}\"\n    as: line\n    map: \"{{ line.rec_id }}\"\n  Nested:\n    each: groups\n    map:\n      g: \"{{ groups.name }}\"\n      items:\n        each: groups.items\n        map: \"{{ groups.name }}-{{ items }}\"\n",
    );
    let mut r = order();
    r["groups"] = json!([{"name": "a", "items": [1, 2]}, {"name": "b", "items": []}]);
    let doc = m.map_checked(&r).expect("maps");
    assert_eq!(doc["E"], json!([{"n": "1"}, {"n": "2"}]));
    assert_eq!(doc["V"], json!(["3", "2", "1"]));
    assert_eq!(
        doc["Nested"],
        json!([{"g": "a", "items": ["a-1", "a-2"]}, {"g": "b", "items": []}])
    );
    // A missing list gives no entries; one object is one row.
    let doc = m
        .map_checked(&json!({"details_list": {"rec_id": "9", "num": "1"}}))
        .expect("maps");
    assert_eq!(doc["E"], json!([{"n": "9"}]));
    assert_eq!(doc["Nested"], json!([]));
    let e = m
        .map_checked(&json!({"details_list": "oops"}))
        .expect_err("not a list");
    assert_eq!(e.path, "mapping.E");
    assert!(e.message.contains("not a list"), "{e}");
}

#[test]
fn group_by_merges_rows_and_sums_fields() {
    let m = mapper(
        "  E:\n    each: details_list\n    group_by: \"{{ details_list.spec_no }}\"\n    sum: [FQty, Amount.Value]\n    map:\n      FMaterialId: \"{{ details_list.spec_no }}\"\n      FQty: \"{{ details_list.num | number }}\"\n      Amount: { Value: \"{{ details_list.num }}\" }\n      FNote: \"{{ details_list.rec_id }}\"\n",
    );
    let doc = m.map_checked(&order()).expect("maps");
    assert_eq!(
        doc["E"],
        json!([
            {"FMaterialId": "A01", "FQty": 2.1, "Amount": {"Value": 2.1}, "FNote": "1"},
            {"FMaterialId": "A02", "FQty": 1, "Amount": {"Value": "1"}, "FNote": "2"}
        ])
    );
    let e = Scheme::parse(
        "t.yaml",
        "name: t\nsource: { connection: a, operation: b, key: \"{{ k }}\" }\ntarget: { connection: a, operation: b }\nmapping:\n  E:\n    each: xs\n    sum: [Q]\n    map: { R: 1 }\n",
    )
    .expect_err("sum without group_by, unknown field");
    let messages: Vec<&str> = e.0.iter().map(|d| d.message.as_str()).collect();
    assert_eq!(
        messages,
        [
            "`sum` needs `group_by`: it adds up the rows a group merges",
            "`sum` names `Q`, which is not a field of the block's `map`"
        ]
    );
    let m = mapper(
        "  E:\n    each: xs\n    group_by: \"{{ xs.k }}\"\n    sum: [q]\n    map: { q: \"{{ xs.q }}\" }\n",
    );
    let e = m
        .map_checked(&json!({"xs": [{"k": 1, "q": "1"}, {"k": 1, "q": "x"}]}))
        .expect_err("not numeric");
    assert_eq!(
        e.to_string(),
        "mapping.E[1]: sum of `q`: 'x' is not a number"
    );
}

#[test]
fn runtime_errors_name_the_path() {
    let m = mapper(
        "  FPOOrderEntry:\n    each: details_list\n    map:\n      FQty: \"{{ details_list.num | number }}\"\n",
    );
    let mut r = order();
    r["details_list"][2]["num"] = json!("两个");
    let e = m.map_checked(&r).expect_err("not a number");
    assert_eq!(e.path, "mapping.FPOOrderEntry[2].FQty");
    assert_eq!(e.message, "number: '两个' is not a number");
    assert_eq!(
        e.to_string(),
        "mapping.FPOOrderEntry[2].FQty: number: '两个' is not a number"
    );
}

#[test]
fn number_int_bool_string() {
    let r = json!({"a": "12.0000", "b": "12", "c": "", "d": "abc", "e": 7, "f": "12.5", "g": "是", "h": "0", "i": null});
    assert_eq!(ok("\"{{ a | number }}\"", r.clone()), json!(12.0));
    assert_eq!(ok("\"{{ b | number }}\"", r.clone()), json!(12));
    assert_eq!(ok("\"{{ e | number }}\"", r.clone()), json!(7));
    assert_eq!(ok("\"{{ c | number }}\"", r.clone()), Value::Null);
    assert_eq!(ok("\"{{ i | number }}\"", r.clone()), Value::Null);
    assert_eq!(ok("\"{{ c | number(default=0) }}\"", r.clone()), json!(0));
    assert_eq!(
        ok("\"{{ missing | number(default='1.5') }}\"", r.clone()),
        json!(1.5)
    );
    assert_eq!(
        err("\"{{ d | number }}\"", r.clone()).message,
        "number: 'abc' is not a number"
    );
    assert_eq!(ok("\"{{ a | int }}\"", r.clone()), json!(12));
    assert_eq!(
        err("\"{{ f | int }}\"", r.clone()).message,
        "int: '12.5' is not a whole number"
    );
    assert_eq!(
        err("\"{{ d | int }}\"", r.clone()).message,
        "int: 'abc' is not a number"
    );
    assert_eq!(ok("\"{{ g | bool }}\"", r.clone()), json!(true));
    assert_eq!(ok("\"{{ h | bool }}\"", r.clone()), json!(false));
    assert_eq!(ok("\"{{ e | bool }}\"", r.clone()), json!(true));
    assert_eq!(ok("\"{{ c | bool }}\"", r.clone()), Value::Null);
    assert_eq!(
        err("\"{{ d | bool }}\"", r.clone()).message,
        "bool: 'abc' is not a boolean"
    );
    assert_eq!(ok("\"{{ e | string }}\"", r.clone()), json!("7"));
    assert_eq!(ok("\"{{ i | string }}\"", r.clone()), json!(""));
    assert_eq!(ok("\"{{ a | string }}\"", r.clone()), json!("12.0000"));
    let e = err("\"{{ a | number(dflt=1) }}\"", r);
    assert!(e.message.contains("unknown keyword argument 'dflt'"), "{e}");
}

#[test]
fn dates_and_times() {
    let r = json!({"t": "2024-03-05 14:30:00", "u": 1_704_038_400, "ms": "1704038400000", "iso": "2024-03-05T06:30:00Z", "bad": "soon", "e": ""});
    assert_eq!(
        ok("\"{{ t | datetime }}\"", r.clone()),
        json!("2024-03-05 14:30:00")
    );
    assert_eq!(
        ok("\"{{ u | datetime }}\"", r.clone()),
        json!("2024-01-01 00:00:00")
    );
    assert_eq!(
        ok("\"{{ ms | datetime }}\"", r.clone()),
        json!("2024-01-01 00:00:00")
    );
    assert_eq!(
        ok("\"{{ iso | datetime }}\"", r.clone()),
        json!("2024-03-05 14:30:00")
    );
    assert_eq!(
        ok("\"{{ u | datetime(tz='UTC') }}\"", r.clone()),
        json!("2023-12-31 16:00:00")
    );
    assert_eq!(
        ok("\"{{ u | datetime('%Y%m%d%H%M%S') }}\"", r.clone()),
        json!("20240101000000")
    );
    assert_eq!(
        ok("\"{{ u | datetime(fmt='%H:%M') }}\"", r.clone()),
        json!("00:00")
    );
    assert_eq!(ok("\"{{ t | date }}\"", r.clone()), json!("2024-03-05"));
    assert_eq!(
        ok("\"{{ t | date('%Y/%m/%d') }}\"", r.clone()),
        json!("2024/03/05")
    );
    assert_eq!(ok("\"{{ e | date }}\"", r.clone()), Value::Null);
    assert_eq!(
        ok("\"{{ t | timestamp }}\"", r.clone()),
        json!(1_709_620_200)
    );
    assert_eq!(
        ok("\"{{ t | timestamp('ms') }}\"", r.clone()),
        json!(1_709_620_200_000_i64)
    );
    assert_eq!(
        err("\"{{ bad | datetime }}\"", r.clone()).message,
        "datetime: 'soon' is not a date-time"
    );
    assert_eq!(
        err("\"{{ u | datetime(tz='Mars/Base') }}\"", r.clone()).message,
        "datetime: 'Mars/Base' is not a time zone"
    );
    assert_eq!(
        err("\"{{ u | date('%Q') }}\"", r.clone()).message,
        "date: '%Q' is not a valid strftime format"
    );
    assert_eq!(
        err("\"{{ u | timestamp('h') }}\"", r).message,
        "timestamp: unit 'h' is neither 's' nor 'ms'"
    );
    // The scheme's zone applies to naive input and to output.
    let m = mapper_with(
        "  F: \"{{ u | datetime }}\"\n  G: \"{{ t | timestamp }}\"\n",
        "timezone: UTC",
        &LookupTables::new(),
    );
    let doc = m
        .map_checked(&json!({"u": 1_704_038_400, "t": "2024-01-01 00:00:00"}))
        .expect("maps");
    assert_eq!(doc, json!({"F": "2023-12-31 16:00:00", "G": 1_704_067_200}));
}

#[test]
fn round_concat_default() {
    let r = json!({"p": "10.125", "q": 2.675, "i": 3, "a": "A", "z": null});
    assert_eq!(ok("\"{{ p | round(2) }}\"", r.clone()), json!(10.13));
    assert_eq!(ok("\"{{ q | round(2) }}\"", r.clone()), json!(2.68));
    assert_eq!(ok("\"{{ q | round }}\"", r.clone()), json!(3));
    assert_eq!(ok("\"{{ i | round(2) }}\"", r.clone()), json!(3));
    assert_eq!(ok("\"{{ z | round(2) }}\"", r.clone()), Value::Null);
    assert_eq!(
        err("\"{{ a | round }}\"", r.clone()).message,
        "round: 'A' is not a number"
    );
    assert_eq!(
        err("\"{{ q | round(20) }}\"", r.clone()).message,
        "round: 20 decimals is not between 0 and 12"
    );
    assert_eq!(
        ok("\"{{ a | concat('-', i, z, '-', p) }}\"", r.clone()),
        json!("A-3-10.125")
    );
    assert_eq!(ok("\"{{ concat(a, i) }}\"", r.clone()), json!("A3"));
    assert_eq!(
        ok("\"{{ z | default('none') }}\"", r.clone()),
        json!("none")
    );
    assert_eq!(ok("\"{{ missing | default(5) }}\"", r.clone()), json!(5));
    assert_eq!(ok("\"{{ a | default('x') }}\"", r.clone()), json!("A"));
    assert_eq!(
        ok("\"{{ '' | default('x', true) }}\"", r.clone()),
        json!("x")
    );
    assert_eq!(ok("\"{{ z | d('y') }}\"", r.clone()), json!("y"));
    // minijinja's built-ins stay.
    assert_eq!(
        ok(
            "\"{{ a | lower }}{{ ' x ' | trim | upper }}{{ 'ab' | replace('a', 'c') }}\"",
            r.clone()
        ),
        json!("aXcb")
    );
    assert_eq!(ok("\"{{ [1, 2] | length }}\"", r), json!(2));
}

#[test]
fn lookups_static_live_and_tenant() {
    let mut tenant = LookupTables::new();
    tenant.insert(
        "warehouses".into(),
        HashMap::from([("WH1".to_owned(), json!({"FNumber": "CK001"}))]),
    );
    let extra = "lookups:\n  suppliers: { GYS001: \"0003\", 1: one }\n  materials: { connection: k3, operation: q, key: \"{{ FNumber }}\", value: \"{{ FName }}\" }\n";
    let mapping = "  S: \"{{ s | lookup('suppliers') }}\"\n  D: \"{{ s | lookup('suppliers', default='0000') }}\"\n  W: \"{{ w | lookup('warehouses') }}\"\n  M: \"{{ m | lookup('materials', default=none) }}\"\n  N: \"{{ n | lookup('suppliers') }}\"\n";
    let mut m = mapper_with(mapping, extra, &tenant);
    let e = m
        .map_checked(&json!({"s": "GYS001", "w": "WH1", "m": "A01", "n": 1}))
        .expect_err("not loaded");
    assert_eq!(
        e.to_string(),
        "mapping.M: lookup: live table 'materials' has not been loaded"
    );
    let table = m
        .live_table("materials", &[json!({"FNumber": "A01", "FName": "螺丝"})])
        .expect("renders");
    m.set_live_table("materials", table);
    let doc = m
        .map_checked(&json!({"s": "GYS001", "w": "WH1", "m": "A01", "n": 1}))
        .expect("maps");
    assert_eq!(
        doc,
        json!({"S": "0003", "D": "0003", "W": {"FNumber": "CK001"}, "M": "螺丝", "N": "one"})
    );
    let doc = m
        .map_checked(&json!({"s": "GYS001", "w": "WH1", "m": "B09", "n": 1}))
        .expect("default");
    assert_eq!(doc["M"], Value::Null);
    let e = m
        .map_checked(&json!({"s": "GYS009", "w": "WH1", "m": "A01", "n": 1}))
        .expect_err("no key");
    assert_eq!(
        e.to_string(),
        "mapping.S: lookup: table 'suppliers' has no key 'GYS009'"
    );
    let e = m
        .map_checked(&json!({"w": "WH1", "m": "A01", "n": 1}))
        .expect_err("no key");
    assert_eq!(
        e.to_string(),
        "mapping.S: lookup: no key to look up in table 'suppliers' (the value is empty)"
    );
    assert!(m.live_table("nope", &[]).is_err());

    // A table nobody defines is an error when compiling for a run.
    let s = scheme("  X: \"{{ x | lookup('nowhere') }}\"\n", "");
    let d = Mapper::compile(&s, &tenant).expect_err("unknown table");
    assert_eq!(
        d.to_string(),
        "t.yaml:6:6: there is no lookup table `nowhere`: neither the scheme's `lookups` nor the tenant's tables define it"
    );
}

#[test]
fn keys_and_filters_on_the_pull_side() {
    let m = mapper_with("  a: 1\n", "", &LookupTables::new());
    assert_eq!(m.key(&json!({"purchase_no": 12})).expect("key"), "12");
    let e = m.key(&json!({"purchase_no": ""})).expect_err("empty");
    assert_eq!(e.to_string(), "source.key: the key is empty");
    assert_eq!(
        m.expand(json!({"a": 1})).expect("no flatten"),
        vec![json!({"a": 1})]
    );

    let text = "name: t\nsource:\n  connection: a\n  operation: b\n  key: \"{{ no }}-{{ data.items.id }}\"\n  flatten: data.items\n  filter: \"{{ data.items.qty | number > 0 }}\"\ntarget: { connection: a, operation: b }\nmapping: { a: 1 }\n";
    let s = Scheme::parse("t.yaml", text).unwrap_or_else(|d| panic!("{d}"));
    assert_eq!(s.flatten(), Some("data.items"));
    let m = Mapper::compile(&s, &LookupTables::new()).unwrap_or_else(|d| panic!("{d}"));
    let rec = json!({"no": "R1", "data": {"items": [{"id": 1, "qty": "2"}, {"id": 2, "qty": "0"}, {"id": 3, "qty": "1"}]}});
    let out = m.expand(rec).expect("expands");
    let keys: Vec<String> = out.iter().map(|r| m.key(r).expect("key")).collect();
    assert_eq!(keys, ["R1-1", "R1-3"]);
    assert_eq!(
        m.expand(json!({"no": "R2", "data": {"items": []}}))
            .expect("empty"),
        Vec::<Value>::new()
    );
    assert_eq!(
        m.expand(json!({"no": "R2"})).expect("missing"),
        Vec::<Value>::new()
    );
    let e = m
        .expand(json!({"no": "R2", "data": {"items": 5}}))
        .expect_err("not a list");
    assert_eq!(
        e.to_string(),
        "source.flatten: `data.items` is 5, not a list"
    );
    let e = m
        .expand(json!({"no": "R2", "data": {"items": [{"id": 1, "qty": "x"}]}}))
        .expect_err("bad filter");
    assert_eq!(e.to_string(), "source.filter: number: 'x' is not a number");
    // The filter alone, on a row flattened already.
    let row = |qty: &str| json!({"no": "R3", "data": {"items": {"id": 4, "qty": qty}}});
    assert_eq!(m.keeps(&row("3")).ok(), Some(true));
    assert_eq!(m.keeps(&row("0")).ok(), Some(false));
    assert!(m.keeps(&row("x")).is_err());
    let unfiltered = mapper_with("  a: 1\n", "", &LookupTables::new());
    assert_eq!(unfiltered.keeps(&json!({})).ok(), Some(true));
}

#[test]
fn template_diagnostics_point_at_the_value() {
    let text = "name: t\nsource: { connection: a, operation: b, key: \"{{ k }}\" }\ntarget: { connection: a, operation: b }\nmapping:\n  FBillNo: \"{{ purchase_no }\"\n  FQty: \"{{ num | numbr }}\"\n  FNote: \"{% if x %}a\"\n  FOk: \"{{ a +  }}\"\n";
    let d = Scheme::parse("po.yaml", text).expect_err("bad templates");
    let lines: Vec<String> = d.0.iter().map(ToString::to_string).collect();
    assert_eq!(lines.len(), 4, "{d}");
    assert!(
        lines[0].starts_with("po.yaml:5:12: template does not compile: syntax error: "),
        "{}",
        lines[0]
    );
    assert_eq!(
        lines[1],
        "po.yaml:6:9: unknown filter `numbr` (template line 1, column 10)"
    );
    assert!(
        lines[2].starts_with("po.yaml:7:10: template does not compile: syntax error: "),
        "{}",
        lines[2]
    );
    assert!(
        lines[3].starts_with("po.yaml:8:8: template does not compile: syntax error: "),
        "{}",
        lines[3]
    );
    assert!(
        lines[3].ends_with("(template line 1, column 6)"),
        "{}",
        lines[3]
    );
}

#[test]
fn each_over_a_computed_list_and_object_defaults() {
    let m = mapper_with(
        "  L:\n    each: \"{{ details_list | selectattr('num', 'ne', '1') }}\"\n    as: line\n    map: \"{{ line.rec_id }}-{{ row.spec_no }}\"\n  W: \"{{ w | lookup('warehouses', default={'FNumber': 'CK001'}) }}\"\n",
        "lookups:\n  warehouses: { WH01: { FNumber: CK009 } }\n",
        &LookupTables::new(),
    );
    let doc = m.map_checked(&order()).expect("maps");
    assert_eq!(
        doc,
        json!({"L": ["1-A01", "3-A01"], "W": {"FNumber": "CK001"}})
    );
}

#[test]
fn only_read_fields_are_converted_but_every_read_works() {
    // Each value reads the record differently; all must see what they read.
    let m = mapper(
        "  count: \"{{ details_list | length }}\"\n  first: \"{{ details_list[0].num }}\"\n  loop: \"{% for d in details_list %}{{ d.rec_id }}{% endfor %}\"\n  keys: \"{{ details_list[0] | length }}\"\n  E:\n    each: details_list\n    map: { s: \"{{ spec_no }}\", t: \"{{ row.tax }}\", h: \"{{ provider_no }}\", w: \"{{ details_list['price'] }}\" }\n",
    );
    let doc = m.map_checked(&order()).expect("maps");
    assert_eq!(doc["count"], 3);
    assert_eq!(doc["first"], "2.0000");
    assert_eq!(doc["loop"], "123");
    assert_eq!(doc["keys"], 6);
    assert_eq!(
        doc["E"][1],
        json!({"s": "A02", "t": "13", "h": "GYS002", "w": "3.3000"})
    );
}

#[test]
fn field_paths_read_directly_equal_the_template_engine() {
    // `(x)` is the same expression to minijinja but not a plain path, so
    // it always runs in the engine: both must give the same value, or the
    // same error.
    let record = json!({
        "purchase_no": "CG1", "remark": null, "status": "20", "n_int": 12, "n_float": 1.5,
        "n_text": " 7.5000 ", "n_blank": "", "flag": true, "concat": "a field",
        "obj": { "inner": { "v": "x", "nothing": null }, "list": [1, 2] },
        "details_list": [
            { "num": "2.0000", "spec_no": "A01", "remark": "row", "bad": "x1" },
            { "num": 3, "spec_no": "A02", "remark": "row2" }
        ]
    });
    let header = [
        "purchase_no",
        "missing",
        "missing.x",
        "remark",
        "remark | default('')",
        "remark | d('dash')",
        "missing | default(5)",
        "missing | default(-5) | number",
        "remark | default(5)",
        "obj.inner.missing | default(-5) | number",
        "obj.inner.missing | default('7.50') | number",
        "status | number",
        "purchase_no | number",
        "remark | number",
        "n_int | number",
        "n_float | number",
        "n_text | number",
        "n_blank | number",
        "flag | number",
        "flag | default('no')",
        "concat",
        "obj.inner.v",
        "obj.inner.nothing | default('q')",
        "obj.inner.missing",
        "obj.inner.v.deeper",
        "obj.list",
        "obj.list.x",
        "details_list",
        "details_list.num",
        "LAST_SYNC_TIME",
    ];
    for expr in header {
        let direct = one(&format!("\"{{{{ {expr} }}}}\""), record.clone());
        let engine = one(&format!("\"{{{{ ({expr}) }}}}\""), record.clone());
        assert_eq!(
            direct.map_err(|e| e.to_string()),
            engine.map_err(|e| e.to_string()),
            "{expr}"
        );
    }
    let rows = [
        "details_list.num | number",
        "num | number",
        "row.spec_no",
        "spec_no",
        "remark",
        "purchase_no",
        "bad | number",
        "details_list.missing | default('m')",
    ];
    for expr in rows {
        let run = |value: String| {
            mapper(&format!(
                "  E:\n    each: details_list\n    map: {{ v: \"{value}\", w: \"{{{{ spec_no }}}}\" }}\n"
            ))
            .map_checked(&record)
            .map_err(|e| e.to_string())
        };
        assert_eq!(
            run(format!("{{{{ {expr} }}}}")),
            run(format!("{{{{ ({expr}) }}}}")),
            "{expr}"
        );
    }
}
