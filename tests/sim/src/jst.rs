//! 聚水潭 open API: form-urlencoded POSTs signed per PROTOCOLS.md §5.2.
//! `/open/refund/single/query` (退货退款查询) and the token endpoints
//! `/openWeb/auth/getInitToken` and `/openWeb/auth/refreshToken`. Errors are
//! HTTP 200 with `{"code":N,"msg":"..."}`.

use std::collections::HashSet;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};

use crate::clock;
use crate::config::JstCredentials;
use crate::dataset::{Refund, Rendered};
use crate::faults;
use crate::signing;
use crate::state::{SimState, lock};
use crate::system::System;
use crate::wire::{self, Params};

/// Access and refresh tokens that the simulator currently honours.
#[derive(Debug)]
pub(crate) struct JstTokens {
    access: HashSet<String>,
    refresh: HashSet<String>,
}

impl JstTokens {
    pub fn new(creds: &JstCredentials) -> JstTokens {
        JstTokens {
            access: HashSet::from([creds.access_token.clone()]),
            refresh: HashSet::from([creds.refresh_token.clone()]),
        }
    }

    /// Forgets every token: the next business call gets code 100.
    pub fn expire_all(&mut self) {
        self.access.clear();
    }
}

struct JstError {
    code: i64,
    msg: String,
}

impl JstError {
    fn new(code: i64, msg: impl Into<String>) -> JstError {
        JstError {
            code,
            msg: msg.into(),
        }
    }

    fn reply(&self) -> Response {
        wire::json(&json!({"code": self.code, "msg": self.msg}))
    }
}

/// UNCONFIRMED: see docs/protocol-choices.md.
fn rate_limited() -> Response {
    JstError::new(199, "接口调用频率超限").reply()
}

const OK_MSG: &str = "执行成功";

/// `app_key`, `timestamp` and `sign` of any 聚水潭 request.
fn authenticate(state: &SimState, params: &Params) -> Result<(), JstError> {
    let creds = &state.config.credentials.jst;
    if params.get("app_key") != Some(creds.app_key.as_str()) {
        return Err(JstError::new(11, "app_key不存在"));
    }
    let tolerance = state.config.limits.jst_timestamp_tolerance_secs;
    match params
        .get("timestamp")
        .and_then(|t| t.trim().parse::<i64>().ok())
    {
        Some(ts) if (clock::now_unix() - ts).abs() <= tolerance => {}
        _ => {
            return Err(JstError::new(
                12,
                "timestamp无效或与服务器时间相差超过10分钟",
            ));
        }
    }
    let expected = signing::jst::sign(params.pairs(), &creds.app_secret);
    if !signing::same_digest(&expected, params.get("sign").unwrap_or_default(), true) {
        return Err(JstError::new(10, "签名错误"));
    }
    Ok(())
}

async fn guarded(
    state: Arc<SimState>,
    serve: impl FnOnce(&SimState) -> Response + Send + 'static,
) -> Response {
    let st = state.clone();
    faults::guarded(&state.faults, System::Jst, rate_limited, async move {
        serve(&st)
    })
    .await
}

pub(crate) async fn init_token(State(state): State<Arc<SimState>>, body: Bytes) -> Response {
    guarded(state, move |st| {
        let params = Params::from_form(&body);
        if let Err(e) = authenticate(st, &params) {
            return e.reply();
        }
        if params.get("grant_type") != Some("authorization_code") {
            return JstError::new(100, "grant_type必须为authorization_code").reply();
        }
        let creds = &st.config.credentials.jst;
        if params.get("code") != Some(creds.auth_code.as_str()) {
            return JstError::new(100, "授权码code无效或已过期").reply();
        }
        let mut tokens = lock(&st.jst_tokens);
        tokens.access.insert(creds.access_token.clone());
        tokens.refresh.insert(creds.refresh_token.clone());
        token_reply(&creds.access_token, &creds.refresh_token)
    })
    .await
}

pub(crate) async fn refresh_token(State(state): State<Arc<SimState>>, body: Bytes) -> Response {
    guarded(state, move |st| {
        let params = Params::from_form(&body);
        if let Err(e) = authenticate(st, &params) {
            return e.reply();
        }
        if params.get("grant_type") != Some("refresh_token") {
            return JstError::new(100, "grant_type必须为refresh_token").reply();
        }
        let given = params.get("refresh_token").unwrap_or_default().to_string();
        let mut tokens = lock(&st.jst_tokens);
        if !tokens.refresh.remove(&given) {
            return JstError::new(100, "refresh_token无效或已过期").reply();
        }
        let n = st.next_number();
        let access = format!("{}-{n}", st.config.credentials.jst.access_token);
        let refresh = format!("{}-{n}", st.config.credentials.jst.refresh_token);
        tokens.access.insert(access.clone());
        tokens.refresh.insert(refresh.clone());
        token_reply(&access, &refresh)
    })
    .await
}

fn token_reply(access: &str, refresh: &str) -> Response {
    wire::json(&json!({"code": 0, "msg": OK_MSG, "data": {
        "access_token": access,
        "expires_in": 2_592_000,
        "refresh_token": refresh,
        "scope": "all",
    }}))
}

pub(crate) async fn refund_query(State(state): State<Arc<SimState>>, body: Bytes) -> Response {
    guarded(state, move |st| {
        match refunds(st, &Params::from_form(&body)) {
            Ok(bytes) => wire::raw(StatusCode::OK, wire::JSON, bytes),
            Err(e) => e.reply(),
        }
    })
    .await
}

/// A list parameter sent as a JSON array or a comma-separated string.
fn list_param(biz: &Value, key: &str) -> Option<Vec<String>> {
    let items: Vec<String> = match biz.get(key)? {
        Value::Array(items) => items
            .iter()
            .map(|v| match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect(),
        Value::String(s) => s.split(',').map(|x| x.trim().to_string()).collect(),
        Value::Number(n) => vec![n.to_string()],
        _ => return None,
    };
    let items: Vec<String> = items.into_iter().filter(|s| !s.is_empty()).collect();
    (!items.is_empty()).then_some(items)
}

fn text_param(biz: &Value, key: &str) -> Option<String> {
    match biz.get(key)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn refunds(state: &SimState, params: &Params) -> Result<Vec<u8>, JstError> {
    authenticate(state, params)?;
    let token = params.get("access_token").unwrap_or_default();
    if !lock(&state.jst_tokens).access.contains(token) {
        return Err(JstError::new(100, "access_token已过期或无效"));
    }
    let bad = |msg: String| JstError::new(130, msg);
    let biz: Value = match params.value("biz").map(serde_json::from_str::<Value>) {
        Some(Ok(v @ Value::Object(_))) => v,
        None => Value::Object(Default::default()),
        Some(_) => return Err(bad("biz必须是JSON对象".into())),
    };
    if biz.get("start_ts").is_some_and(|v| !v.is_null()) {
        return Err(bad(
            "weft-sim不支持start_ts，请使用modified_begin/modified_end".into(),
        ));
    }
    let limits = &state.config.limits;
    let page_index = match wire::int_param(text_param(&biz, "page_index").as_deref()) {
        Ok(None) => 1,
        Ok(Some(n)) if n >= 1 => n as usize,
        _ => return Err(bad("page_index从1开始".into())),
    };
    // Larger pages are capped at the documented maximum, not refused; the
    // reply's page_size tells the client what it got. UNCONFIRMED: see
    // docs/protocol-choices.md.
    let page_size = match wire::int_param(text_param(&biz, "page_size").as_deref()) {
        Ok(None) => 30,
        Ok(Some(n)) if n >= 1 => (n as u64).min(limits.jst_max_page_size) as usize,
        _ => return Err(bad("page_size无效".into())),
    };
    let window = match (
        text_param(&biz, "modified_begin"),
        text_param(&biz, "modified_end"),
    ) {
        (None, None) => None,
        (Some(b), Some(e)) => {
            let parse =
                |t: &str| clock::parse_china(t).ok_or_else(|| bad(format!("时间格式错误: {t}")));
            let (b, e) = (parse(&b)?, parse(&e)?);
            if b > e {
                return Err(bad("修改起始时间不能大于结束时间".into()));
            }
            let max = limits.jst_max_window_days;
            if e - b > max * 86_400 {
                return Err(bad(format!("修改时间间隔不能超过{max}天")));
            }
            Some((b, e))
        }
        _ => return Err(bad("修改起始时间和结束时间必须同时存在".into())),
    };
    let so_ids = list_param(&biz, "so_ids");
    let o_ids = list_param(&biz, "o_ids");
    let as_ids = list_param(&biz, "as_ids");
    if window.is_none() && so_ids.is_none() && o_ids.is_none() && as_ids.is_none() {
        return Err(bad("修改时间和单号不能同时为空".into()));
    }
    let shop_buyer_ids = list_param(&biz, "shop_buyer_ids");
    if shop_buyer_ids.as_ref().is_some_and(|ids| ids.len() > 50) {
        return Err(bad("shop_buyer_ids最多50个".into()));
    }
    let conditions: Vec<(&str, String)> = ["shop_id", "status", "good_status", "type"]
        .into_iter()
        .filter_map(|k| text_param(&biz, k).map(|v| (k, v)))
        .filter(|(k, v)| !(*k == "shop_id" && v == "0"))
        .collect();
    let with_total = !matches!(biz.get("is_get_total"), Some(Value::Bool(false)))
        && text_param(&biz, "is_get_total").as_deref() != Some("false");

    let sources = state.sources();
    let store = &sources.refunds;
    let master = &state.master;
    let offset = (page_index - 1).saturating_mul(page_size);
    let (docs, total): (Vec<&Refund>, usize) =
        if so_ids.is_some() || o_ids.is_some() || as_ids.is_some() {
            let mut found: Vec<&Refund> = Vec::new();
            let lookups = [(&as_ids, ""), (&o_ids, "o:"), (&so_ids, "s:")];
            for (ids, prefix) in lookups {
                for id in ids.iter().flatten() {
                    let doc = if prefix.is_empty() {
                        store.get(id)
                    } else {
                        store.get_alt(&format!("{prefix}{id}"))
                    };
                    if let Some(doc) = doc
                        && !found.iter().any(|d| std::ptr::eq(*d, doc))
                    {
                        found.push(doc);
                    }
                }
            }
            found.retain(|d| window.is_none_or(|(b, e)| (b..=e).contains(&d.modified)));
            found.retain(|d| keep(d, &conditions, &shop_buyer_ids, master));
            found.sort_by_key(|d| (d.modified, d.as_id));
            let total = found.len();
            (
                found.into_iter().skip(offset).take(page_size).collect(),
                total,
            )
        } else {
            let (b, e) = window.unwrap_or((i64::MIN, i64::MAX));
            let check = |d: &Refund| keep(d, &conditions, &shop_buyer_ids, master);
            let filter: Option<&dyn Fn(&Refund) -> bool> =
                if conditions.is_empty() && shop_buyer_ids.is_none() {
                    None
                } else {
                    Some(&check)
                };
            store.page(store.window(b, e), filter, offset, page_size)
        };
    let rendered: Vec<Rendered<'_, Refund>> = docs
        .iter()
        .map(|doc| Rendered { doc: *doc, master })
        .collect();
    let mut data = serde_json::Map::new();
    data.insert("page_size".into(), json!(page_size));
    data.insert("page_index".into(), json!(page_index));
    if with_total {
        data.insert("data_count".into(), json!(total));
        data.insert("page_count".into(), json!(total.div_ceil(page_size)));
    }
    data.insert(
        "has_next".into(),
        json!(offset.saturating_add(docs.len()) < total),
    );
    data.insert(
        "datas".into(),
        serde_json::to_value(&rendered).map_err(|e| JstError::new(130, e.to_string()))?,
    );
    serde_json::to_vec(&json!({"code": 0, "msg": OK_MSG, "data": data}))
        .map_err(|e| JstError::new(130, e.to_string()))
}

fn keep(
    d: &Refund,
    conditions: &[(&str, String)],
    buyers: &Option<Vec<String>>,
    master: &crate::dataset::master::MasterData,
) -> bool {
    conditions.iter().all(|(k, v)| d.text(k, master) == *v)
        && buyers
            .as_ref()
            .is_none_or(|ids| ids.contains(&d.text("shop_buyer_id", master)))
}
