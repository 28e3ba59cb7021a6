//! The openapi2 list queries: params plus the 0-based `page_no` of the
//! cursor as form fields, the reply paged by [`weft_wdt_api::paging`].

use serde::Serialize;
use serde::de::DeserializeOwned;
use weft_plugin_sdk::{Context, Page, Params, Result, decode_cursor};

use weft_wdt_api::paging::{self, Cursor};
use weft_wdt_api::purchase_order_query::PurchaseOrderQuery;
use weft_wdt_api::stockout_order_query_return::StockoutReturnQuery;

use weft_signing::clock;

use crate::config::WdtConfig;
use crate::openapi2;

/// The params of a list query.
pub trait ListParams: Serialize + DeserializeOwned {
    /// Records per page.
    fn page_size(&self) -> u32;
}

impl ListParams for PurchaseOrderQuery {
    fn page_size(&self) -> u32 {
        self.page_size
    }
}

impl ListParams for StockoutReturnQuery {
    fn page_size(&self) -> u32 {
        self.page_size
    }
}

/// The form fields of one page: the params plus `page_no`.
///
/// # Errors
/// `fatal` when the params cannot be serialised.
pub fn page_fields<P: ListParams>(params: &P, page_no: u32) -> Result<Vec<(String, String)>> {
    let mut fields = openapi2::form_fields(&serde_json::to_value(params)?);
    fields.push(("page_no".to_owned(), page_no.to_string()));
    Ok(fields)
}

/// Reads one page of the list query `name`, records under `list_key`.
///
/// # Errors
/// Classified errors of the call; `fatal` for params or a cursor that are
/// not this operation's.
pub fn read<P: ListParams>(
    ctx: &Context,
    params: &Params,
    cursor: Option<&str>,
    name: &str,
    list_key: &str,
) -> Result<Page> {
    let config: WdtConfig = ctx.config()?;
    let params: P = params.parse()?;
    let cursor: Cursor = decode_cursor(cursor)?.unwrap_or_default();
    let fields = page_fields(&params, cursor.page_no)?;
    let response = openapi2::request(&config, name, fields, clock::now_unix_secs()).send()?;
    let context = |e: weft_plugin_sdk::Error| e.context(format!("{name}.php"));
    let reply = openapi2::interpret_raw(&response, list_key).map_err(context)?;
    paging::page_from_raw_reply(&reply, list_key, &cursor, params.page_size()).map_err(context)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    #[test]
    fn page_fields_are_the_params_and_the_page() {
        let params: PurchaseOrderQuery = serde_json::from_value(json!({
            "start_time": "2024-01-01 00:00:00", "end_time": "2024-01-02 00:00:00", "status": "40"
        }))
        .expect("params");
        assert_eq!(
            page_fields(&params, 3).expect("fields"),
            vec![
                ("end_time".to_owned(), "2024-01-02 00:00:00".to_owned()),
                ("page_size".to_owned(), "100".to_owned()),
                ("start_time".to_owned(), "2024-01-01 00:00:00".to_owned()),
                ("status".to_owned(), "40".to_owned()),
                ("page_no".to_owned(), "3".to_owned()),
            ]
        );
    }

    fn object(members: Vec<(&str, Value)>) -> Value {
        Value::Object(
            members
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v))
                .collect(),
        )
    }

    /// One purchase order as the simulator renders it (≈3 KB, 5 lines).
    fn purchase_order(i: usize) -> Value {
        let text = |s: &str| Value::from(s);
        let lines: Vec<Value> = (0..5)
            .map(|l| {
                object(vec![
                    ("purchase_id", json!(10_000 + i)),
                    ("rec_id", json!(50_000 + i * 5 + l)),
                    ("remark", text("")),
                    ("modified", text("2024-01-05 10:00:00")),
                    ("created", text("2024-01-05 09:00:00")),
                    ("prop1", text("")),
                    ("prop2", text("")),
                    ("warehouse_id", json!(3)),
                    ("spec_no", json!(format!("A{:04}", l + 1))),
                    ("brand_name", text("旺店通品牌")),
                    ("num", text("10.0000")),
                    ("price", text("12.5000")),
                    ("discount", text("1.0000")),
                    ("tax", text("0.1300")),
                    ("tax_price", text("14.1250")),
                    ("tax_amount", text("141.2500")),
                    ("amount", text("125.0000")),
                    ("stockin_amount", text("0.0000")),
                    ("stockin_num", text("0.0000")),
                    ("provider_goods_no", json!(format!("P-A{:04}", l + 1))),
                    ("goods_no", json!(format!("G{:04}", l + 1))),
                    ("goods_name", text("经典圆领T恤")),
                    ("short_name", text("T恤")),
                    ("spec_name", text("白色 XL")),
                    ("spec_code", text("WXL")),
                    ("base_unit", text("件")),
                    ("purchase_unit", text("件")),
                    ("arrive_num", text("0.0000")),
                    ("stopwait_num", text("0.0000")),
                    ("purchase_price", text("12.5000")),
                    ("last_price", text("12.5000")),
                    ("last_second_price", text("12.5000")),
                    ("lowest_price", text("12.5000")),
                    ("weight", text("0.2500")),
                    ("arrive_more_num", text("0.0000")),
                    ("lack_num", text("10.0000")),
                    ("spec_id", json!(700 + l)),
                    ("tag", text("")),
                    ("num2", text("0.0000")),
                    ("unit_ratio", text("1.0000")),
                    ("unit_id", json!(0)),
                    ("base_unit_id", json!(0)),
                ])
            })
            .collect();
        object(vec![
            ("purchase_id", json!(10_000 + i)),
            ("purchase_no", json!(format!("CG{i:08}"))),
            ("purchase_outer_no", json!(format!("OUT{i:08}"))),
            ("outer_no", json!(format!("OUT{i:08}"))),
            ("api_outer_no", json!(format!("OUT{i:08}"))),
            ("wms_outer_no", text("")),
            ("status", json!(40)),
            ("warehouse_id", json!(3)),
            ("warehouse_no", text("CK001")),
            ("warehouse_name", text("华东一号仓")),
            ("provider_id", json!(12)),
            ("provider_no", text("GYS0003")),
            ("provider_name", text("杭州某某服饰有限公司")),
            ("contact", text("王经理")),
            ("telno", text("0571-88888888")),
            ("purchaser_id", json!(2)),
            ("purchaser_name", text("李采购")),
            ("receive_address", text("华东一号仓收货点")),
            ("logistics_type", json!(1)),
            ("check_time", text("2024-01-05 09:30:00")),
            ("goods_amount", text("625.0000")),
            ("post_fee", text("0.0000")),
            ("other_fee", text("0.0000")),
            ("tax_goods_amount", text("706.2500")),
            ("expect_arrive_time", text("2024-01-10 00:00:00")),
            ("creator_id", json!(2)),
            ("creator_name", text("李采购")),
            ("wms_status", json!(0)),
            ("error_info", text("")),
            ("order_type", json!(1)),
            ("flag_id", json!(0)),
            ("check_operator_id", json!(2)),
            ("facheck_operator_id", json!(0)),
            ("facheck_time", text("")),
            ("goods_fee", text("625.0000")),
            ("goods_count", text("50.0000")),
            ("tax_fee", text("706.2500")),
            ("goods_type_count", json!(5)),
            ("goods_arrive_count", text("0.0000")),
            ("revert_reason", text("")),
            ("version_id", json!(1)),
            ("note_count", json!(0)),
            ("prop_time1", text("")),
            ("remark", text("补货")),
            ("created", text("2024-01-05 09:00:00")),
            ("modified", text("2024-01-05 10:00:00")),
            ("details_list", Value::Array(lines)),
        ])
    }

    /// A `purchase_order_query.php` answer with `n` orders, as sent.
    fn purchase_reply(n: usize) -> Vec<u8> {
        let list: Vec<Value> = (0..n).map(purchase_order).collect();
        serde_json::to_vec(
            &json!({"code":0,"message":"","total_count":100_000,"purchase_list":list}),
        )
        .unwrap_or_default()
    }

    /// Guest-side cost of one page: `cargo test --release --target
    /// x86_64-unknown-linux-gnu -p wdt -- --ignored --nocapture bench`.
    #[test]
    #[ignore = "a measurement, not a test"]
    fn bench_read_a_100_order_page() {
        use weft_plugin_sdk::http::Response;
        let body = purchase_reply(100);
        let response = Response {
            status: 200,
            headers: vec![],
            body,
        };
        let rounds = 300;
        let mut bytes = 0;
        let start = std::time::Instant::now();
        for _ in 0..rounds {
            let reply = openapi2::interpret_raw(&response, "purchase_list").expect("reply");
            let page = weft_wdt_api::paging::page_from_raw_reply(
                &reply,
                "purchase_list",
                &Cursor::default(),
                100,
            )
            .expect("page");
            bytes += page.raw_records().map_or(0, str::len);
        }
        let per = start.elapsed() / rounds;
        println!(
            "read of a 100-order page ({} KB): {per:?} per page",
            response.body.len() / 1024
        );
        assert!(bytes > 0);
    }
}
