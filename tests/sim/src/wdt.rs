//! 旺店通·企业版 openapi2: `POST /openapi2/{name}.php`, form-urlencoded,
//! `sign` per PROTOCOLS.md §3.2. Serves `purchase_order_query`,
//! `stockout_order_query_return` and `trade_push`. Errors are HTTP 200 with
//! `{"code":N,"message":"..."}`; replies carry a non-JSON Content-Type, as
//! the real server's do.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Map, Value, json};

use crate::clock;
use crate::dataset::master::MasterData;
use crate::dataset::{Render, Rendered};
use crate::faults;
use crate::inspect::{Arrival, Outcome};
use crate::signing;
use crate::state::{SimState, lock};
use crate::system::System;
use crate::wire::{self, Params};

/// The real server labels its JSON replies as HTML (PROTOCOLS.md §3.4).
const CONTENT_TYPE: &str = "text/html; charset=utf-8";

#[derive(Debug)]
pub(crate) struct WdtError {
    pub code: i64,
    pub message: String,
}

impl WdtError {
    fn new(code: i64, message: impl Into<String>) -> WdtError {
        WdtError {
            code,
            message: message.into(),
        }
    }

    /// UNCONFIRMED: see docs/protocol-choices.md (rate-limit code 1090).
    pub fn rate_limited() -> WdtError {
        WdtError::new(1090, "接口调用频率超限，请稍后再试")
    }

    fn body(&self) -> Value {
        json!({"code": self.code, "message": self.message})
    }
}

fn error_reply(e: &WdtError) -> Response {
    wire::json_as(StatusCode::OK, CONTENT_TYPE, &e.body())
}

pub(crate) async fn openapi2(
    State(state): State<Arc<SimState>>,
    Path(file): Path<String>,
    body: Bytes,
) -> Response {
    let Some(name) = file.strip_suffix(".php").map(str::to_string) else {
        return wire::not_found(&format!("/openapi2/{file}"));
    };
    if !matches!(
        name.as_str(),
        "purchase_order_query" | "stockout_order_query_return" | "trade_push"
    ) {
        return wire::not_found(&format!("/openapi2/{file}"));
    }
    let st = state.clone();
    faults::guarded(
        &state.faults,
        System::Wdt,
        || error_reply(&WdtError::rate_limited()),
        async move { handle(&st, &name, &body) },
    )
    .await
}

fn handle(state: &SimState, name: &str, body: &[u8]) -> Response {
    let params = Params::from_form(body);
    if let Err(e) = authenticate(state, &params) {
        return error_reply(&e);
    }
    let result = match name {
        "purchase_order_query" => {
            query_purchase_orders(state, &params, 40, ListReply::wdt("purchase_list"))
        }
        "stockout_order_query_return" => {
            query_stockout_returns(state, &params, 40, ListReply::wdt("stockout_list"))
        }
        _ => trade_push(state, &params).map(|v| v.to_string().into_bytes()),
    };
    match result {
        Ok(bytes) => wire::raw(StatusCode::OK, CONTENT_TYPE, bytes),
        Err(e) => error_reply(&e),
    }
}

fn authenticate(state: &SimState, params: &Params) -> Result<(), WdtError> {
    let creds = &state.config.credentials.wdt;
    if params.get("appkey") != Some(creds.appkey.as_str()) {
        return Err(WdtError::new(100, "appkey不存在"));
    }
    if params.get("sid") != Some(creds.sid.as_str()) {
        return Err(WdtError::new(100, "sid不存在"));
    }
    let tolerance = state.config.limits.wdt_timestamp_tolerance_secs;
    let ts = params
        .get("timestamp")
        .and_then(|t| t.trim().parse::<i64>().ok());
    match ts {
        Some(ts) if (clock::now_unix() - ts).abs() <= tolerance => {}
        _ => return Err(WdtError::new(100, "无效timestamp")),
    }
    let given = params.get("sign").unwrap_or_default();
    let expected = signing::wdt::sign(params.pairs(), &creds.appsecret);
    if !signing::same_digest(&expected, given, true) {
        return Err(WdtError::new(100, "签名错误"));
    }
    Ok(())
}

/// How a page of a list query is put on the wire: the name of its list,
/// and whether 奇门's `{"response":…}` goes around it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ListReply {
    pub list_key: &'static str,
    pub in_response: bool,
}

impl ListReply {
    fn wdt(list_key: &'static str) -> ListReply {
        ListReply {
            list_key,
            in_response: false,
        }
    }
}

/// A generous guess at a rendered document's size, so that a page's
/// buffer is allocated once rather than doubled its way up.
const RENDERED_DOC_BYTES: usize = 8 << 10;

/// `{"code":0,"message":"","total_count":N,"<list>":[...]}`, the total on
/// page 0 only. The documents are written straight into the reply.
fn list_page<D: Render>(
    reply: ListReply,
    total: Option<usize>,
    docs: &[&D],
    master: &MasterData,
) -> Vec<u8> {
    let mut out = wire::buffer(docs.len().saturating_mul(RENDERED_DOC_BYTES) + 128);
    if reply.in_response {
        out.extend_from_slice(b"{\"response\":");
    }
    out.extend_from_slice(b"{\"code\":0,\"message\":\"\",");
    if let Some(total) = total {
        out.extend_from_slice(format!("\"total_count\":{total},").as_bytes());
    }
    out.extend_from_slice(format!("\"{}\":", reply.list_key).as_bytes());
    let items = out.len();
    out.push(b'[');
    for (i, doc) in docs.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        if (Rendered { doc: *doc, master }).write_to(&mut out).is_err() {
            out.truncate(items);
            out.push(b'[');
            break;
        }
    }
    out.push(b']');
    out.push(b'}');
    if reply.in_response {
        out.push(b'}');
    }
    out
}

/// `start_time`/`end_time` as a closed window, at most `max_days` long.
fn window(params: &Params, max_days: i64) -> Result<Option<(i64, i64)>, WdtError> {
    let (start, end) = match (params.value("start_time"), params.value("end_time")) {
        (None, None) => return Ok(None),
        (Some(s), Some(e)) => (s, e),
        _ => return Err(WdtError::new(2900, "开始时间和结束时间必须同时存在")),
    };
    let parse = |t: &str| {
        clock::parse_china(t).ok_or_else(|| WdtError::new(2900, format!("时间格式错误: {t}")))
    };
    let (start, end) = (parse(start)?, parse(end)?);
    if start > end {
        return Err(WdtError::new(2900, "开始时间不能大于结束时间"));
    }
    if end - start > max_days * 86_400 {
        return Err(WdtError::new(2900, format!("时间跨度不能超过{max_days}天")));
    }
    Ok(Some((start, end)))
}

/// `page_no` (0-based) and `page_size` (1..=max; a larger one is refused).
fn paging(params: &Params, default_size: u64, max: u64) -> Result<(usize, usize), WdtError> {
    let size = match wire::int_param(params.value("page_size")) {
        Ok(None) => default_size as i64,
        Ok(Some(n)) => n,
        Err(t) => return Err(WdtError::new(2910, format!("page_size无效: {t}"))),
    };
    if size < 1 || size as u64 > max {
        return Err(WdtError::new(2910, format!("page_size超出范围(1-{max})")));
    }
    let page = match wire::int_param(params.value("page_no")) {
        Ok(None) => 0,
        Ok(Some(n)) if n >= 0 => n,
        _ => return Err(WdtError::new(2910, "page_no无效")),
    };
    Ok((page as usize, size as usize))
}

fn listed<D: Render>(
    reply: ListReply,
    found: Option<&D>,
    page: usize,
    master: &MasterData,
) -> Vec<u8> {
    let docs: Vec<&D> = if page == 0 {
        found.into_iter().collect()
    } else {
        Vec::new()
    };
    list_page(
        reply,
        (page == 0).then_some(found.is_some() as usize),
        &docs,
        master,
    )
}

/// `purchase_order_query`: by `purchase_no`/`outer_no`, or by a window over
/// `modified`; `status` and `warehouse_no` narrow it.
pub(crate) fn query_purchase_orders(
    state: &SimState,
    params: &Params,
    default_size: u64,
    reply: ListReply,
) -> Result<Vec<u8>, WdtError> {
    let limits = &state.config.limits;
    let (page, size) = paging(params, default_size, limits.wdt_max_page_size)?;
    let window = window(params, limits.wdt_max_window_days)?;
    let sources = state.sources();
    let store = &sources.purchase_orders;
    let master = &state.master;
    if let Some(no) = params.value("purchase_no") {
        return Ok(listed(reply, store.get(no), page, master));
    }
    if let Some(outer) = params.value("outer_no") {
        return Ok(listed(
            reply,
            store.get_alt(&format!("outer:{outer}")),
            page,
            master,
        ));
    }
    let Some((start, end)) = window else {
        return Err(WdtError::new(2900, "时间范围与订单编号不能全部为空"));
    };
    let status = params.value("status").map(str::to_string);
    let warehouse = params.value("warehouse_no").map(str::to_string);
    let keep = |d: &crate::dataset::PurchaseOrder| {
        status
            .as_ref()
            .is_none_or(|s| s.split(',').any(|x| x.trim() == d.status_text()))
            && warehouse
                .as_ref()
                .is_none_or(|w| *w == d.warehouse_no(master))
    };
    let filter: Option<&dyn Fn(&crate::dataset::PurchaseOrder) -> bool> =
        if status.is_some() || warehouse.is_some() {
            Some(&keep)
        } else {
            None
        };
    let (docs, total) = store.page(
        store.window(start, end),
        filter,
        page.saturating_mul(size),
        size,
    );
    Ok(list_page(
        reply,
        (page == 0).then_some(total),
        &docs,
        master,
    ))
}

/// `stockout_order_query_return`: a window over `modified` (or
/// `stockout_no`/`src_order_no`), shipped and completed ones unless `status`
/// says otherwise; `warehouse_no` narrows it.
pub(crate) fn query_stockout_returns(
    state: &SimState,
    params: &Params,
    default_size: u64,
    reply: ListReply,
) -> Result<Vec<u8>, WdtError> {
    let limits = &state.config.limits;
    let (page, size) = paging(params, default_size, limits.wdt_max_page_size)?;
    let window = window(params, limits.wdt_max_window_days)?;
    let sources = state.sources();
    let store = &sources.stockout_returns;
    let master = &state.master;
    if let Some(no) = params.value("stockout_no") {
        return Ok(listed(reply, store.get(no), page, master));
    }
    let src = params.value("src_order_no").map(str::to_string);
    let (start, end) = match (window, &src) {
        (Some(w), _) => w,
        (None, Some(no)) => {
            let found = store.get_alt(&format!("src:{no}")).filter(|d| {
                params
                    .value("status")
                    .is_none_or(|s| s.split(',').any(|x| x.trim() == d.status_text()))
            });
            return Ok(listed(reply, found, page, master));
        }
        (None, None) => return Err(WdtError::new(2900, "时间范围与订单编号不能全部为空")),
    };
    let status = params.value("status").map(str::to_string);
    let warehouse = params.value("warehouse_no").map(str::to_string);
    let keep = |d: &crate::dataset::StockoutReturn| {
        let status_ok = match &status {
            Some(s) => s.split(',').any(|x| x.trim() == d.status_text()),
            None => d.has_default_status(),
        };
        status_ok
            && warehouse
                .as_ref()
                .is_none_or(|w| *w == d.warehouse_no(master))
            && src.as_ref().is_none_or(|s| *s == d.src_order_no())
    };
    // Generated stock-outs are all shipped or completed; only added ones with
    // another status make the default filter worth a pass over the window.
    let needs_filter =
        status.is_some() || warehouse.is_some() || src.is_some() || sources.stockout_nondefault > 0;
    let filter: Option<&dyn Fn(&crate::dataset::StockoutReturn) -> bool> =
        if needs_filter { Some(&keep) } else { None };
    let (docs, total) = store.page(
        store.window(start, end),
        filter,
        page.saturating_mul(size),
        size,
    );
    Ok(list_page(
        reply,
        (page == 0).then_some(total),
        &docs,
        master,
    ))
}

/// A trade as 旺店通 holds it after `trade_push`.
#[derive(Clone, Debug)]
pub(crate) struct PushedTrade {
    pub tid: String,
    pub json: Arc<str>,
    pub pushes: u32,
}

/// Trades received by `trade_push`, keyed by shop and `tid`.
#[derive(Debug, Default)]
pub(crate) struct TradeBook {
    trades: HashMap<(String, String), PushedTrade>,
}

impl TradeBook {
    pub fn by_tid(&self, tid: &str) -> Option<&PushedTrade> {
        self.trades.values().find(|t| t.tid == tid)
    }

    pub fn len(&self) -> usize {
        self.trades.len()
    }
}

fn text_of(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn number_of(v: Option<&Value>) -> Option<f64> {
    match v? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

const TRADE_REQUIRED: [&str; 5] = [
    "tid",
    "trade_status",
    "pay_status",
    "delivery_term",
    "trade_time",
];
const ORDER_REQUIRED: [&str; 5] = ["oid", "num", "price", "status", "refund_status"];

/// Checks one pushed trade; the error names the field.
fn check_trade(trade: &Map<String, Value>) -> Result<(), String> {
    for key in TRADE_REQUIRED {
        if text_of(trade.get(key)).is_none() {
            return Err(format!("{key}不能为空"));
        }
    }
    if let Some(t) = text_of(trade.get("trade_time"))
        && clock::parse_china(&t).is_none()
    {
        return Err(format!("trade_time格式错误: {t}"));
    }
    for key in [
        "post_amount",
        "cod_amount",
        "ext_cod_fee",
        "other_amount",
        "paid",
    ] {
        if trade.get(key).is_some_and(|v| !v.is_null()) && number_of(trade.get(key)).is_none() {
            return Err(format!("{key}必须是数字"));
        }
    }
    let orders = match trade.get("order_list") {
        Some(Value::Array(orders)) if !orders.is_empty() => orders,
        _ => return Err("order_list不能为空".into()),
    };
    for (i, order) in orders.iter().enumerate() {
        let Some(order) = order.as_object() else {
            return Err(format!("order_list第{}行格式错误", i + 1));
        };
        for key in ORDER_REQUIRED {
            if text_of(order.get(key)).is_none() {
                return Err(format!("order_list第{}行{key}不能为空", i + 1));
            }
        }
        if ["goods_id", "goods_no", "spec_no"]
            .iter()
            .all(|k| text_of(order.get(*k)).is_none())
        {
            return Err(format!(
                "order_list第{}行goods_id/goods_no/spec_no不能全部为空",
                i + 1
            ));
        }
        match number_of(order.get("num")) {
            Some(n) if n > 0.0 => {}
            _ => return Err(format!("order_list第{}行num必须大于0", i + 1)),
        }
        if number_of(order.get("price")).is_none() {
            return Err(format!("order_list第{}行price必须是数字", i + 1));
        }
    }
    Ok(())
}

/// `trade_push`: upserts each trade by shop and `tid`; strict mode
/// (`switch` 1, the default) refuses the whole batch when one trade is
/// invalid, non-strict mode (`switch` 0) keeps the valid ones and lists the
/// others in `error_list`. Codes 2810/2820 and the required fields are
/// UNCONFIRMED: see docs/protocol-choices.md.
fn trade_push(state: &SimState, params: &Params) -> Result<Value, WdtError> {
    let shop_no = params
        .value("shop_no")
        .ok_or_else(|| WdtError::new(2810, "shop_no不能为空"))?
        .to_string();
    if state.master.shop(&shop_no).is_none() {
        return Err(WdtError::new(2810, format!("店铺不存在: {shop_no}")));
    }
    let list = params
        .value("trade_list")
        .ok_or_else(|| WdtError::new(2820, "trade_list不能为空"))?;
    let trades: Vec<Value> = match serde_json::from_str::<Value>(list) {
        Ok(Value::Array(items)) if !items.is_empty() => items,
        _ => return Err(WdtError::new(2820, "trade_list必须是非空的JSON数组")),
    };
    let strict = params.value("switch") != Some("0");
    let record_bodies = state.config.record_bodies;
    let checked: Vec<(String, Arc<str>, Result<(), String>)> = trades
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let tid = t
                .as_object()
                .and_then(|o| text_of(o.get("tid")))
                .unwrap_or_else(|| format!("#{}", i + 1));
            let verdict = match t.as_object() {
                Some(obj) => check_trade(obj),
                None => Err("trade格式错误".into()),
            };
            (tid, Arc::from(t.to_string()), verdict)
        })
        .collect();
    let first_error = checked
        .iter()
        .find_map(|(tid, _, v)| v.as_ref().err().map(|e| (tid.clone(), e.clone())));
    let mut inbox = lock(&state.inbox);
    if strict && let Some((tid, error)) = first_error {
        for (key, body, verdict) in &checked {
            inbox.record(
                System::Wdt,
                "trade_push",
                Arrival {
                    key: key.clone(),
                    outcome: Outcome::Rejected,
                    message: Some(match verdict {
                        Err(e) => e.clone(),
                        Ok(()) => format!("同批订单{tid}校验失败，整批拒绝"),
                    }),
                    target_id: None,
                    body: record_bodies.then(|| body.clone()),
                },
            );
        }
        return Err(WdtError::new(2820, format!("订单{tid}: {error}")));
    }
    let mut book = lock(&state.wdt_trades);
    let (mut new_count, mut chg_count) = (0, 0);
    let mut errors = Vec::new();
    for (tid, body, verdict) in checked {
        let outcome = match &verdict {
            Err(e) => {
                errors.push(json!({"tid": tid, "error": e}));
                Outcome::Rejected
            }
            Ok(()) => match book.trades.get_mut(&(shop_no.clone(), tid.clone())) {
                None => {
                    book.trades.insert(
                        (shop_no.clone(), tid.clone()),
                        PushedTrade {
                            tid: tid.clone(),
                            json: body.clone(),
                            pushes: 1,
                        },
                    );
                    new_count += 1;
                    Outcome::Created
                }
                Some(existing) => {
                    existing.pushes += 1;
                    if same_json(&existing.json, &body) {
                        Outcome::Unchanged
                    } else {
                        existing.json = body.clone();
                        chg_count += 1;
                        Outcome::Updated
                    }
                }
            },
        };
        inbox.record(
            System::Wdt,
            "trade_push",
            Arrival {
                key: tid,
                outcome,
                message: verdict.err(),
                target_id: None,
                body: record_bodies.then_some(body),
            },
        );
    }
    let mut reply =
        json!({"code": 0, "message": "", "new_count": new_count, "chg_count": chg_count});
    if !errors.is_empty() {
        reply["error_list"] = Value::Array(errors);
    }
    Ok(reply)
}

/// Key order and number spelling aside, are two trades the same?
fn same_json(a: &str, b: &str) -> bool {
    match (
        serde_json::from_str::<Value>(a),
        serde_json::from_str::<Value>(b),
    ) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}
