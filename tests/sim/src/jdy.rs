//! 金蝶云星辰 (JDY): the app-token endpoint
//! `GET /jdyconnector/app_management/kingdee_auth_token` and the
//! purchase-return save `POST /jdy/v2/scm/pur_return` (path UNCONFIRMED and
//! configurable) with its detail lookup `GET …_detail?number=|id=`. Every
//! call carries the Kingdee gateway headers (PROTOCOLS.md §2.2); business
//! calls also the `app-token`. Errors: `errcode` ≠ 0 with `description`; a
//! bad gateway signature is HTTP 519.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use percent_encoding::percent_decode_str;
use serde_json::{Map, Value, json};

use crate::clock;
use crate::faults;
use crate::inspect::{Arrival, Outcome};
use crate::signing::kingdee::{self, UrlEncoding};
use crate::signing::same_digest;
use crate::state::{SimState, lock};
use crate::system::System;
use crate::wire;

pub(crate) const PUR_RETURN_FORM: &str = "pur_return";

/// A saved purchase return.
#[derive(Clone, Debug)]
pub(crate) struct SavedReturn {
    pub id: String,
    pub number: String,
    pub json: Arc<str>,
}

/// App-tokens issued and purchase returns saved.
#[derive(Debug, Default)]
pub(crate) struct JdyBook {
    tokens: HashSet<String>,
    returns: Vec<SavedReturn>,
    by_number: HashMap<String, usize>,
    by_id: HashMap<String, usize>,
    next_id: u64,
}

impl JdyBook {
    pub fn pur_return(&self, number: &str) -> Option<&SavedReturn> {
        self.by_number.get(number).map(|i| &self.returns[*i])
    }

    pub fn len(&self) -> usize {
        self.returns.len()
    }

    /// Forgets every app-token: the next business call gets errcode 1010002.
    pub fn expire_tokens(&mut self) {
        self.tokens.clear();
    }
}

struct JdyError {
    status: StatusCode,
    errcode: i64,
    description: String,
}

impl JdyError {
    fn new(errcode: i64, description: impl Into<String>) -> JdyError {
        JdyError {
            status: StatusCode::OK,
            errcode,
            description: description.into(),
        }
    }

    fn gateway(description: impl Into<String>) -> JdyError {
        JdyError {
            status: StatusCode::from_u16(519).unwrap_or(StatusCode::UNAUTHORIZED),
            errcode: 1_010_001,
            description: description.into(),
        }
    }

    fn token() -> JdyError {
        JdyError::new(1_010_002, "授权密钥校验失败，请获取最新密钥加密")
    }

    fn reply(&self) -> Response {
        wire::json_as(
            self.status,
            wire::JSON,
            &json!({"errcode": self.errcode, "description": self.description}),
        )
    }
}

/// UNCONFIRMED: see docs/protocol-choices.md.
fn rate_limited() -> Response {
    JdyError::new(1_030_001, "请求过于频繁").reply()
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// The gateway signature of a request (method, path, query, nonce, ms
/// timestamp within 5 minutes); the JSON body is not signed.
fn verify_gateway(
    state: &SimState,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
) -> Result<(), JdyError> {
    let creds = &state.config.credentials.jdy;
    if header(headers, "x-api-clientid") != Some(creds.client_id.as_str()) {
        return Err(JdyError::gateway("X-Api-ClientID不存在"));
    }
    let ts_text = header(headers, "x-api-timestamp")
        .ok_or_else(|| JdyError::gateway("缺少X-Api-TimeStamp"))?;
    let nonce =
        header(headers, "x-api-nonce").ok_or_else(|| JdyError::gateway("缺少X-Api-Nonce"))?;
    let ts: i64 = ts_text
        .parse()
        .map_err(|_| JdyError::gateway("X-Api-TimeStamp无效"))?;
    let tolerance_ms = state.config.limits.jdy_timestamp_tolerance_secs * 1000;
    if (clock::now_millis() - ts).abs() > tolerance_ms {
        return Err(JdyError::gateway("X-Api-TimeStamp已过期"));
    }
    let signed = header(headers, "x-api-signheaders")
        .unwrap_or_default()
        .to_ascii_lowercase();
    if !(signed.contains("x-api-timestamp") && signed.contains("x-api-nonce")) {
        return Err(JdyError::gateway(
            "X-Api-SignHeaders必须包含X-Api-TimeStamp和X-Api-Nonce",
        ));
    }
    let given = header(headers, "x-api-signature")
        .ok_or_else(|| JdyError::gateway("缺少X-Api-Signature"))?;
    let path = percent_decode_str(uri.path()).decode_utf8_lossy();
    let query: Vec<(String, String)> =
        form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes())
            .into_owned()
            .collect();
    let ok = UrlEncoding::ALL.iter().any(|enc| {
        let line = kingdee::gateway_query_line(&query, *enc);
        let text =
            kingdee::gateway_string_to_sign(method.as_str(), &path, &line, nonce, ts_text, *enc);
        same_digest(
            &kingdee::hmac_sha256_b64hex(&text, &creds.client_secret),
            given,
            false,
        )
    });
    if ok {
        Ok(())
    } else {
        Err(JdyError::gateway("X-Api-Signature签名验证失败"))
    }
}

fn require_token(state: &SimState, headers: &HeaderMap) -> Result<(), JdyError> {
    match header(headers, "app-token") {
        Some(token) if lock(&state.jdy).tokens.contains(token) => Ok(()),
        _ => Err(JdyError::token()),
    }
}

async fn guarded(
    state: Arc<SimState>,
    serve: impl FnOnce(&SimState) -> Response + Send + 'static,
) -> Response {
    let st = state.clone();
    faults::guarded(&state.faults, System::Jdy, rate_limited, async move {
        serve(&st)
    })
    .await
}

pub(crate) async fn auth_token(
    state: Arc<SimState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    guarded(state, move |st| {
        if let Err(e) = verify_gateway(st, &method, &uri, &headers) {
            return e.reply();
        }
        let query: HashMap<String, String> =
            form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes())
                .into_owned()
                .collect();
        let creds = &st.config.credentials.jdy;
        let app_key = query.get("app_key").map(String::as_str).unwrap_or_default();
        let signature_ok = app_key == creds.app_key
            && query.get("app_signature").is_some_and(|s| {
                same_digest(
                    &kingdee::jdy_app_signature(app_key, &creds.app_secret),
                    s,
                    false,
                )
            });
        if !signature_ok {
            return JdyError::token().reply();
        }
        let token = st.opaque_id("weft-jdy-app-token-");
        lock(&st.jdy).tokens.insert(token.clone());
        wire::json(&json!({"errcode": 0, "description": "成功", "data": {
            "access_token": st.opaque_id("weft-jdy-access-"),
            "app-token": token,
            "expires": clock::now_millis() + 24 * 3_600 * 1000,
            "uid": 173_053_163,
            "domain": st.origin,
        }}))
    })
    .await
}

fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn number(v: Option<&Value>) -> Option<f64> {
    match v? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Checks a purchase return against the master data; the error names the
/// field and value.
fn validate(state: &SimState, doc: &Map<String, Value>) -> Result<String, String> {
    let master = &state.master;
    let billno = text(doc.get("billno")).ok_or("单据编码(billno)不能为空")?;
    match text(doc.get("billdate")) {
        None => return Err("单据日期(billdate)不能为空".into()),
        Some(d) if clock::parse_china(&d).is_none() => {
            return Err(format!("单据日期(billdate)格式错误: {d}"));
        }
        _ => {}
    }
    match (
        text(doc.get("supplierid_id")),
        text(doc.get("supplierid_number")),
    ) {
        (None, None) => return Err("供应商(supplierid_id/supplierid_number)不能为空".into()),
        (Some(id), _) if !master.suppliers.iter().any(|s| s.jdy_id == id) => {
            return Err(format!("供应商id[{id}]不存在"));
        }
        (None, Some(n)) if master.supplier(&n).is_none() => {
            return Err(format!("供应商编码[{n}]不存在"));
        }
        _ => {}
    }
    let rows = match doc.get("material_entity") {
        Some(Value::Array(rows)) if !rows.is_empty() => rows,
        _ => return Err("商品分录(material_entity)不能为空".into()),
    };
    for (i, row) in rows.iter().enumerate() {
        let n = i + 1;
        let row = row.as_object().ok_or(format!("商品分录第{n}行格式错误"))?;
        let material = match (
            text(row.get("materialid_id")),
            text(row.get("materialid_number")),
        ) {
            (None, None) => {
                return Err(format!(
                    "商品分录第{n}行商品(materialid_id/materialid_number)不能为空"
                ));
            }
            (Some(id), _) => master
                .materials
                .iter()
                .find(|m| m.jdy_id == id)
                .ok_or(format!("商品分录第{n}行商品id[{id}]不存在"))?,
            (None, Some(num)) => master
                .material(&num)
                .ok_or(format!("商品分录第{n}行商品编码[{num}]不存在"))?,
        };
        match (text(row.get("stockid_id")), text(row.get("stockid_number"))) {
            (Some(id), _) if !master.warehouses.iter().any(|w| w.jdy_id == id) => {
                return Err(format!("商品分录第{n}行仓库id[{id}]不存在"));
            }
            (None, Some(num)) if master.warehouse(&num).is_none() => {
                return Err(format!("商品分录第{n}行仓库编码[{num}]不存在"));
            }
            _ => {}
        }
        match number(row.get("qty")) {
            Some(q) if q > 0.0 => {}
            _ => return Err(format!("商品分录第{n}行数量(qty)必须大于0")),
        }
        if let Some(unit) = text(row.get("unit_id"))
            && unit != material.jdy_unit_id
        {
            return Err(format!(
                "商品分录第{n}行单位[{unit}]不是商品{}关联的单位",
                material.number
            ));
        }
        if row.get("price").is_some_and(|p| !p.is_null()) && number(row.get("price")).is_none() {
            return Err(format!("商品分录第{n}行单价(price)不是数值"));
        }
    }
    Ok(billno)
}

pub(crate) async fn save_pur_return(
    state: Arc<SimState>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    guarded(state, move |st| {
        if let Err(e) = verify_gateway(st, &Method::POST, &uri, &headers) {
            return e.reply();
        }
        if let Err(e) = require_token(st, &headers) {
            return e.reply();
        }
        let doc = match serde_json::from_slice::<Value>(&body) {
            Ok(Value::Object(doc)) => doc,
            _ => return JdyError::new(1_020_001, "请求体必须是JSON对象").reply(),
        };
        let json_text: Arc<str> = Arc::from(Value::Object(doc.clone()).to_string());
        let body_kept = st.config.record_bodies.then(|| json_text.clone());
        let mut book = lock(&st.jdy);
        let verdict = validate(st, &doc)
            .map_err(|msg| (1_020_001, msg))
            .and_then(|billno| {
                let updating = text(doc.get("id")).and_then(|id| book.by_id.get(&id).copied());
                match book.by_number.get(&billno) {
                    Some(i) if Some(*i) != updating => Err((1_020_002, format!("单据编号[{billno}]已存在"))),
                    _ => Ok((billno, updating)),
                }
            });
        let mut inbox = lock(&st.inbox);
        match verdict {
            Ok((billno, updating)) => {
                let (id, outcome) = match updating {
                    Some(i) => {
                        let old = book.returns[i].number.clone();
                        book.by_number.remove(&old);
                        book.by_number.insert(billno.clone(), i);
                        book.returns[i].number = billno.clone();
                        book.returns[i].json = json_text;
                        (book.returns[i].id.clone(), Outcome::Updated)
                    }
                    None => {
                        book.next_id += 1;
                        let id = (1_900_000_000_000_000_000_u64 + book.next_id).to_string();
                        let i = book.returns.len();
                        book.returns.push(SavedReturn {
                            id: id.clone(),
                            number: billno.clone(),
                            json: json_text,
                        });
                        book.by_number.insert(billno.clone(), i);
                        book.by_id.insert(id.clone(), i);
                        (id, Outcome::Created)
                    }
                };
                inbox.record(
                    System::Jdy,
                    PUR_RETURN_FORM,
                    Arrival {
                        key: billno.clone(),
                        outcome,
                        message: None,
                        target_id: Some(id.clone()),
                        body: body_kept,
                    },
                );
                wire::json(&json!({"errcode": 0, "description": "success", "data": {"id": id, "number": billno}}))
            }
            Err((code, message)) => {
                inbox.record(
                    System::Jdy,
                    PUR_RETURN_FORM,
                    Arrival {
                        key: text(doc.get("billno")).unwrap_or_else(|| "#".into()),
                        outcome: Outcome::Rejected,
                        message: Some(message.clone()),
                        target_id: None,
                        body: body_kept,
                    },
                );
                JdyError::new(code, message).reply()
            }
        }
    })
    .await
}

/// Not found is errcode 1020003. UNCONFIRMED: see docs/protocol-choices.md.
pub(crate) async fn pur_return_detail(
    state: Arc<SimState>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    guarded(state, move |st| {
        if let Err(e) = verify_gateway(st, &Method::GET, &uri, &headers) {
            return e.reply();
        }
        if let Err(e) = require_token(st, &headers) {
            return e.reply();
        }
        let query: HashMap<String, String> =
            form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes())
                .into_owned()
                .collect();
        let book = lock(&st.jdy);
        let found = match (query.get("number"), query.get("id")) {
            (Some(n), _) => book.by_number.get(n),
            (None, Some(id)) => book.by_id.get(id),
            (None, None) => return JdyError::new(1_020_001, "number和id不能同时为空").reply(),
        };
        match found.map(|i| &book.returns[*i]) {
            None => JdyError::new(1_020_003, "单据不存在").reply(),
            Some(saved) => {
                let mut data = match serde_json::from_str::<Value>(&saved.json) {
                    Ok(Value::Object(o)) => o,
                    _ => Map::new(),
                };
                data.insert("id".into(), json!(saved.id));
                data.insert("number".into(), json!(saved.number));
                wire::json(&json!({"errcode": 0, "description": "success", "data": data}))
            }
        }
    })
    .await
}
