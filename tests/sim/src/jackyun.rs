//! 吉客云 open API: `POST /open/openapi/do`, form-urlencoded, `sign` per
//! PROTOCOLS.md §6.2. Serves `jackyun.tradenotsensitiveinfos.list.get`; the
//! same query backs the 奇门 method of that name (see `qimen.rs`).
//!
//! Success: `{"code":200,"msg":"成功","subCode":null,"result":{"data":{…}}}`.
//! Errors: `{"code":400,"msg":"…","subCode":"…"}` (the code 400 is
//! UNCONFIRMED: see docs/protocol-choices.md; clients go by `subCode`).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::response::Response;
use serde_json::{Map, Value, json};

use crate::clock;
use crate::dataset::JackyunTrade;
use crate::dataset::Rendered;
use crate::dataset::store::Position;
use crate::faults;
use crate::signing;
use crate::state::SimState;
use crate::system::System;
use crate::wire::{self, Params};

pub(crate) const TRADES_METHOD: &str = "jackyun.tradenotsensitiveinfos.list.get";

#[derive(Debug)]
pub(crate) struct JackyunError {
    pub sub_code: &'static str,
    pub msg: String,
}

impl JackyunError {
    fn new(sub_code: &'static str, msg: impl Into<String>) -> JackyunError {
        JackyunError {
            sub_code,
            msg: msg.into(),
        }
    }

    pub fn throttled() -> JackyunError {
        JackyunError::new("0859999999", "调用频率超限，请稍后重试")
    }

    pub fn body(&self) -> Value {
        json!({"code": 400, "msg": self.msg, "subCode": self.sub_code})
    }
}

/// The success envelope around a query's `data` (already JSON text).
pub(crate) fn success_bytes(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + 80);
    out.extend_from_slice(
        "{\"code\":200,\"msg\":\"成功\",\"subCode\":null,\"result\":{\"data\":".as_bytes(),
    );
    out.extend_from_slice(data);
    out.extend_from_slice(b"}}");
    out
}

pub(crate) async fn open_api(State(state): State<Arc<SimState>>, body: Bytes) -> Response {
    let st = state.clone();
    faults::guarded(
        &state.faults,
        System::Jackyun,
        || wire::json(&JackyunError::throttled().body()),
        async move {
            match handle(&st, &body) {
                Ok(data) => wire::raw(axum::http::StatusCode::OK, wire::JSON, success_bytes(&data)),
                Err(e) => wire::json(&e.body()),
            }
        },
    )
    .await
}

fn handle(state: &SimState, body: &[u8]) -> Result<Vec<u8>, JackyunError> {
    let params = Params::from_form(body);
    let creds = &state.config.credentials.jackyun;
    if params.get("appkey") != Some(creds.appkey.as_str()) {
        return Err(JackyunError::new("0858030802", "appkey不存在"));
    }
    let tolerance = state.config.limits.jackyun_timestamp_tolerance_secs;
    match params.get("timestamp").and_then(clock::parse_china) {
        Some(ts) if (clock::now_unix() - ts).abs() <= tolerance => {}
        _ => return Err(JackyunError::new("0858030801", "timestamp无效或已过期")),
    }
    let expected = signing::jackyun::sign(params.pairs(), &creds.secret);
    if !signing::same_digest(&expected, params.get("sign").unwrap_or_default(), true) {
        return Err(JackyunError::new("0858030801", "签名错误"));
    }
    if params.get("method") != Some(TRADES_METHOD) {
        return Err(JackyunError::new(
            "0130020310",
            format!(
                "未查询到应用或应用未订阅此API: {}",
                params.get("method").unwrap_or_default()
            ),
        ));
    }
    let biz = match params.get("bizcontent").map(serde_json::from_str::<Value>) {
        Some(Ok(v @ Value::Object(_))) => Params::from_json_object(&v),
        None => Params::default(),
        Some(_) => return Err(JackyunError::new("0050030002", "bizcontent必须是JSON对象")),
    };
    query_trades(state, &biz)
}

fn encode_scroll(start: i64, end: i64, pos: Position) -> String {
    hex::encode(format!("{start}.{end}.{}.{}", pos.0, pos.1))
}

fn decode_scroll(id: &str) -> Option<(i64, i64, Position)> {
    let text = String::from_utf8(hex::decode(id).ok()?).ok()?;
    let mut it = text.split('.');
    let start = it.next()?.parse().ok()?;
    let end = it.next()?.parse().ok()?;
    let modified = it.next()?.parse().ok()?;
    let slot = it.next()?.parse().ok()?;
    Some((start, end, (modified, slot)))
}

fn truthy(v: Option<&str>) -> bool {
    matches!(v, Some("1") | Some("true") | Some("True"))
}

/// The trade query behind both gateways. Windows are over `gmtModified`
/// (`startModified`/`endModified`, also `modified_begin`/`modified_end`),
/// at most 7 days; `pageIndex` is 0-based; `scrollId` continues after the
/// last trade of the previous page. Returns the `data` object as JSON.
pub(crate) fn query_trades(state: &SimState, biz: &Params) -> Result<Vec<u8>, JackyunError> {
    let limits = &state.config.limits;
    let bad = |msg: String| JackyunError::new("0050030002", msg);
    let size = match wire::int_param(biz.value("pageSize")) {
        Ok(None) => 50,
        Ok(Some(n)) if n >= 1 && n as u64 <= limits.jackyun_max_page_size => n as usize,
        Ok(Some(_)) => {
            return Err(bad(format!(
                "pageSize必须在1到{}之间",
                limits.jackyun_max_page_size
            )));
        }
        Err(t) => return Err(bad(format!("pageSize无效: {t}"))),
    };
    let index = match wire::int_param(biz.value("pageIndex")) {
        Ok(None) => 0,
        Ok(Some(n)) if n >= 0 => n as usize,
        _ => return Err(bad("pageIndex无效".into())),
    };
    let trade_nos: Option<Vec<String>> = biz.value("tradeNo").map(|t| {
        t.split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect()
    });
    let status: Option<String> = biz.value("tradeStatus").map(str::to_string);
    let start = biz.value("startModified").or(biz.value("modified_begin"));
    let end = biz.value("endModified").or(biz.value("modified_end"));
    let scroll = biz
        .value("scrollId")
        .map(|s| decode_scroll(s).ok_or_else(|| bad(format!("scrollId无效: {s}"))));
    let scroll = scroll.transpose()?;

    let (start, end) = match (start, end, &scroll) {
        (_, _, Some((s, e, _))) => (*s, *e),
        (Some(s), Some(e), None) => {
            let parse =
                |t: &str| clock::parse_china(t).ok_or_else(|| bad(format!("时间格式错误: {t}")));
            let (s, e) = (parse(s)?, parse(e)?);
            if s > e {
                return Err(bad("起始时间不能大于结束时间".into()));
            }
            let max = limits.jackyun_max_window_days;
            if e - s > max * 86_400 {
                return Err(bad(format!("修改时间起止时间差不能超过{max}天")));
            }
            (s, e)
        }
        (None, None, None) if trade_nos.is_some() => (i64::MIN, i64::MAX),
        (None, None, None) => return Err(bad("修改时间与销售单号不能同时为空".into())),
        _ => return Err(bad("修改起始时间和结束时间必须同时存在".into())),
    };

    let sources = state.sources();
    let store = &sources.trades;
    let keep = |t: &JackyunTrade| {
        trade_nos
            .as_ref()
            .is_none_or(|nos| nos.iter().any(|n| n == &t.trade_no))
            && status.as_ref().is_none_or(|s| *s == t.status_text())
    };
    let filtered = trade_nos.is_some() || status.is_some();
    let window = store.window(start, end);
    let positions: &[Position] = match &scroll {
        Some((_, _, cursor)) => store.after(*cursor, end),
        None => window,
    };
    let mut picked: Vec<Position> = Vec::with_capacity(size);
    let mut skipped = 0;
    let offset = if scroll.is_some() {
        0
    } else {
        index.saturating_mul(size)
    };
    if filtered {
        for p in positions {
            if keep(store.doc(p.1)) {
                if skipped < offset {
                    skipped += 1;
                } else {
                    picked.push(*p);
                    if picked.len() == size {
                        break;
                    }
                }
            }
        }
    } else {
        let from = offset.min(positions.len());
        picked.extend_from_slice(&positions[from..(from + size).min(positions.len())]);
    }
    let total = truthy(biz.value("hasTotal")).then(|| {
        if filtered {
            window.iter().filter(|p| keep(store.doc(p.1))).count()
        } else {
            window.len()
        }
    });
    let scroll_id = match picked.last() {
        Some(last) => Value::String(encode_scroll(start, end, *last)),
        None => biz
            .value("scrollId")
            .map(|s| Value::String(s.to_string()))
            .unwrap_or(Value::Null),
    };
    let master = &state.master;
    let fields: Option<Vec<String>> = biz.value("fields").map(|f| {
        f.split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect()
    });
    let trades: Vec<Value> = picked
        .iter()
        .map(|p| {
            let value = Rendered {
                doc: store.doc(p.1),
                master,
            }
            .to_value();
            match &fields {
                Some(f) if !f.is_empty() => select_fields(value, f),
                _ => value,
            }
        })
        .collect();
    let mut data = Map::new();
    data.insert("trades".into(), Value::Array(trades));
    data.insert("scrollId".into(), scroll_id);
    if let Some(total) = total {
        data.insert("totalResults".into(), json!(total));
    }
    serde_json::to_vec(&data).map_err(|e| JackyunError::new("0050030002", e.to_string()))
}

/// Keeps the named top-level fields; `goodsDetail.x` keeps `goodsDetail`
/// with only the named sub-fields.
fn select_fields(value: Value, fields: &[String]) -> Value {
    let Value::Object(mut obj) = value else {
        return value;
    };
    let detail_fields: Vec<&str> = fields
        .iter()
        .filter_map(|f| f.strip_prefix("goodsDetail."))
        .collect();
    let mut out = Map::new();
    for f in fields {
        if let Some(v) = obj.remove(f.as_str()) {
            out.insert(f.clone(), v);
        }
    }
    if !detail_fields.is_empty()
        && !out.contains_key("goodsDetail")
        && let Some(Value::Array(rows)) = obj.remove("goodsDetail")
    {
        let rows = rows
            .into_iter()
            .map(|row| match row {
                Value::Object(mut r) => Value::Object(
                    detail_fields
                        .iter()
                        .filter_map(|k| r.remove(*k).map(|v| ((*k).to_string(), v)))
                        .collect(),
                ),
                other => other,
            })
            .collect();
        out.insert("goodsDetail".into(), Value::Array(rows));
    }
    Value::Object(out)
}
