//! Control endpoints under `/_sim/`: health, configuration, reset,
//! inspection of what the targets received, faults, dataset access,
//! modification and addition. Each has a `SimHandle` method twin.

use std::str::FromStr;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::dataset::SourceKind;
use crate::error::SimError;
use crate::faults::Faults;
use crate::k3cloud::forms::BILL_FORMS;
use crate::state::{SimState, lock};
use crate::system::System;
use crate::wire;

type Shared = State<Arc<SimState>>;

pub(crate) fn routes() -> Router<Arc<SimState>> {
    Router::new()
        .route("/_sim/health", get(health))
        .route("/_sim/config", get(config))
        .route("/_sim/reset", post(reset))
        .route("/_sim/master", get(master))
        .route("/_sim/received/{system}", get(received_forms))
        .route("/_sim/received/{system}/{form}", get(received))
        .route("/_sim/faults", get(all_faults).delete(clear_faults))
        .route(
            "/_sim/faults/{system}",
            get(faults).put(set_faults).delete(clear_system_faults),
        )
        .route("/_sim/k3cloud/expire-sessions", post(expire_sessions))
        .route("/_sim/jst/expire-tokens", post(expire_jst_tokens))
        .route("/_sim/jdy/expire-tokens", post(expire_jdy_tokens))
        .route("/_sim/dataset/{kind}", get(documents).post(add))
        .route("/_sim/dataset/{kind}/keys", get(keys))
        .route("/_sim/dataset/{kind}/modify", post(modify))
        .route("/_sim/dataset/{kind}/{key}", get(document))
        .route("/_sim/target/{system}/{form}/{key}", get(target_document))
}

fn error(status: StatusCode, message: impl ToString) -> Response {
    wire::json_as(status, wire::JSON, &json!({"error": message.to_string()}))
}

fn bad(e: SimError) -> Response {
    let status = match e {
        SimError::NoSuchDocument { .. } => StatusCode::NOT_FOUND,
        _ => StatusCode::BAD_REQUEST,
    };
    error(status, e)
}

pub(crate) fn health_report(state: &SimState) -> Value {
    let sources = state.sources();
    let datasets: serde_json::Map<String, Value> = SourceKind::ALL
        .iter()
        .map(|k| (k.as_str().to_string(), json!(sources.len(*k))))
        .collect();
    drop(sources);
    let k3 = lock(&state.k3);
    let bills: serde_json::Map<String, Value> = BILL_FORMS
        .iter()
        .map(|f| (f.id.to_string(), json!(k3.count(f))))
        .collect();
    drop(k3);
    json!({
        "status": "ok",
        "origin": state.origin,
        "datasets": datasets,
        "targets": {
            "k3cloud": bills,
            "k3cloud_sessions": lock(&state.k3_sessions).len(),
            "jdy_pur_returns": lock(&state.jdy).len(),
            "wdt_trades": lock(&state.wdt_trades).len(),
        }
    })
}

async fn health(State(state): Shared) -> Response {
    wire::json(&health_report(&state))
}

async fn config(State(state): Shared) -> Response {
    wire::json(
        &json!({"origin": state.origin, "k3cloud_url": format!("{}/k3cloud/", state.origin), "config": state.config}),
    )
}

#[derive(Deserialize)]
struct ResetQuery {
    #[serde(default)]
    dataset: bool,
}

async fn reset(State(state): Shared, Query(q): Query<ResetQuery>) -> Response {
    state.reset(q.dataset);
    wire::json(&json!({"reset": true, "dataset": q.dataset}))
}

async fn master(State(state): Shared) -> Response {
    wire::json(&*state.master)
}

fn system(name: &str) -> Result<System, SimError> {
    System::from_str(name)
}

async fn received_forms(State(state): Shared, Path(name): Path<String>) -> Response {
    let system = match system(&name) {
        Ok(s) => s,
        Err(e) => return bad(e),
    };
    let forms: Vec<Value> = lock(&state.inbox)
        .forms(system)
        .into_iter()
        .map(|(form, entries)| json!({"form": form, "entries": entries}))
        .collect();
    wire::json(&json!({"system": system, "forms": forms}))
}

#[derive(Deserialize)]
struct ReceivedQuery {
    #[serde(default)]
    bodies: bool,
}

async fn received(
    State(state): Shared,
    Path((name, form)): Path<(String, String)>,
    Query(q): Query<ReceivedQuery>,
) -> Response {
    match system(&name) {
        Ok(system) => wire::json(&lock(&state.inbox).log(system, &form, q.bodies)),
        Err(e) => bad(e),
    }
}

async fn all_faults(State(state): Shared) -> Response {
    let all: serde_json::Map<String, Value> = System::ALL
        .iter()
        .map(|s| (s.as_str().to_string(), json!(state.faults.get(*s))))
        .collect();
    wire::json(&all)
}

async fn clear_faults(State(state): Shared) -> Response {
    for s in System::ALL {
        state.faults.set(s, Faults::default());
    }
    wire::json(&json!({"cleared": true}))
}

async fn faults(State(state): Shared, Path(name): Path<String>) -> Response {
    match system(&name) {
        Ok(s) => wire::json(&state.faults.get(s)),
        Err(e) => bad(e),
    }
}

async fn set_faults(
    State(state): Shared,
    Path(name): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let s = match system(&name) {
        Ok(s) => s,
        Err(e) => return bad(e),
    };
    match serde_json::from_slice::<Faults>(&body) {
        Ok(f) => {
            state.faults.set(s, f.clone());
            wire::json(&f)
        }
        Err(e) => error(StatusCode::BAD_REQUEST, format!("invalid faults: {e}")),
    }
}

async fn clear_system_faults(State(state): Shared, Path(name): Path<String>) -> Response {
    match system(&name) {
        Ok(s) => {
            state.faults.set(s, Faults::default());
            wire::json(&Faults::default())
        }
        Err(e) => bad(e),
    }
}

async fn expire_sessions(State(state): Shared) -> Response {
    lock(&state.k3_sessions).expire_all();
    wire::json(&json!({"expired": true}))
}

async fn expire_jst_tokens(State(state): Shared) -> Response {
    lock(&state.jst_tokens).expire_all();
    wire::json(&json!({"expired": true}))
}

async fn expire_jdy_tokens(State(state): Shared) -> Response {
    lock(&state.jdy).expire_tokens();
    wire::json(&json!({"expired": true}))
}

fn kind(name: &str) -> Result<SourceKind, SimError> {
    SourceKind::from_str(name)
}

#[derive(Deserialize)]
struct RangeQuery {
    #[serde(default)]
    offset: usize,
    limit: Option<usize>,
}

async fn documents(
    State(state): Shared,
    Path(name): Path<String>,
    Query(q): Query<RangeQuery>,
) -> Response {
    let kind = match kind(&name) {
        Ok(k) => k,
        Err(e) => return bad(e),
    };
    let sources = state.sources();
    let docs = sources.render_range(kind, q.offset, q.limit.unwrap_or(usize::MAX), &state.master);
    wire::json(
        &json!({"kind": kind, "total": sources.len(kind), "offset": q.offset, "documents": docs}),
    )
}

async fn keys(State(state): Shared, Path(name): Path<String>) -> Response {
    match kind(&name) {
        Ok(k) => wire::json(&state.sources().keys(k)),
        Err(e) => bad(e),
    }
}

async fn document(State(state): Shared, Path((name, key)): Path<(String, String)>) -> Response {
    let kind = match kind(&name) {
        Ok(k) => k,
        Err(e) => return bad(e),
    };
    match state.sources().render(kind, &key, &state.master) {
        Some(doc) => wire::json(&doc),
        None => error(
            StatusCode::NOT_FOUND,
            format!("no {kind} document with key '{key}'"),
        ),
    }
}

#[derive(Deserialize)]
struct ModifyRequest {
    #[serde(default)]
    keys: Vec<String>,
    /// Modify the `count` least recently modified documents instead.
    count: Option<usize>,
}

async fn modify(
    State(state): Shared,
    Path(name): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let kind = match kind(&name) {
        Ok(k) => k,
        Err(e) => return bad(e),
    };
    let request: ModifyRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                format!("expected {{\"keys\":[…]}} or {{\"count\":N}}: {e}"),
            );
        }
    };
    let mut sources = state.sources_mut();
    let keys = match request.count {
        Some(n) => sources.keys(kind).into_iter().take(n).collect(),
        None => request.keys,
    };
    match sources.modify(kind, &keys, crate::clock::now_unix(), &state.master) {
        Ok(docs) => wire::json(&json!({"modified": docs})),
        Err(e) => bad(e),
    }
}

async fn add(State(state): Shared, Path(name): Path<String>, body: axum::body::Bytes) -> Response {
    let kind = match kind(&name) {
        Ok(k) => k,
        Err(e) => return bad(e),
    };
    let overrides: Value = if body.is_empty() {
        Value::Null
    } else {
        match serde_json::from_slice(&body) {
            Ok(v) => v,
            Err(e) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    format!("body must be JSON overrides: {e}"),
                );
            }
        }
    };
    match state
        .sources_mut()
        .add(kind, overrides, crate::clock::now_unix(), &state.master)
    {
        Ok(doc) => wire::json(&json!({"document": doc})),
        Err(e) => bad(e),
    }
}

/// What a target holds under a key: a K3Cloud bill's model, a JDY purchase
/// return, a 旺店通 pushed trade.
pub(crate) fn target_json(
    state: &SimState,
    system: System,
    form: &str,
    key: &str,
) -> Option<Value> {
    let parse = |text: &str| serde_json::from_str::<Value>(text).ok();
    match system {
        System::K3cloud => {
            let form = crate::k3cloud::forms::bill_form(form)?;
            lock(&state.k3)
                .by_number(form, key)
                .and_then(|b| parse(&b.model_json()))
        }
        // With the id and number JDY assigned, as its detail API and the
        // K3Cloud model's `FID` give them.
        System::Jdy => lock(&state.jdy).pur_return(key).and_then(|r| {
            let mut doc = parse(&r.json)?;
            let fields = doc.as_object_mut()?;
            fields.insert("id".into(), Value::from(r.id.as_str()));
            fields.insert("number".into(), Value::from(r.number.as_str()));
            Some(doc)
        }),
        System::Wdt => lock(&state.wdt_trades)
            .by_tid(key)
            .and_then(|t| parse(&t.json)),
        _ => None,
    }
}

async fn target_document(
    State(state): Shared,
    Path((name, form, key)): Path<(String, String, String)>,
) -> Response {
    let system = match system(&name) {
        Ok(s) => s,
        Err(e) => return bad(e),
    };
    match target_json(&state, system, &form, &key) {
        Some(doc) => wire::json(&doc),
        None => error(
            StatusCode::NOT_FOUND,
            format!("{system} holds no {form} '{key}'"),
        ),
    }
}
