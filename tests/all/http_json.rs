//! The http-json connector against a local JSON API: paging styles, auth,
//! batches and per-record outcomes, classified errors, redacted logs.

use std::sync::{Arc, Mutex};

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};
use weft_runtime::{ErrorClass, LogEntry, WriteOutcome};

use crate::support::{load, runtime, serve, session};

const TOKEN: &str = "Bearer tok-5ecret-value";

#[derive(Clone, Default)]
struct Api {
    received: Arc<Mutex<Vec<Value>>>,
}

fn authorized(headers: &HeaderMap) -> bool {
    headers.get("authorization").and_then(|v| v.to_str().ok()) == Some(TOKEN)
}

/// 25 items, served by page number (1-based), offset, or cursor.
fn items(from: usize, count: usize) -> Vec<Value> {
    (from..(from + count).min(25))
        .map(|i| json!({"id": i, "name": format!("item {i}")}))
        .collect()
}

fn api() -> (Router, Api) {
    let state = Api::default();
    let router = Router::new()
        .route(
            "/by-page",
            get(|headers: HeaderMap, Query(q): Query<std::collections::HashMap<String, usize>>| async move {
                if !authorized(&headers) {
                    return Err(StatusCode::UNAUTHORIZED);
                }
                let page = q.get("page").copied().unwrap_or(1);
                let size = q.get("per_page").copied().unwrap_or(10);
                Ok(Json(json!({"data": {"items": items((page - 1) * size, size)}, "total": 25})))
            }),
        )
        .route(
            "/by-offset",
            get(|Query(q): Query<std::collections::HashMap<String, usize>>| async move {
                let offset = q.get("offset").copied().unwrap_or(0);
                let limit = q.get("limit").copied().unwrap_or(10);
                Json(Value::Array(items(offset, limit)))
            }),
        )
        .route(
            "/by-cursor",
            get(|Query(q): Query<std::collections::HashMap<String, String>>| async move {
                let at: usize = q.get("cursor").and_then(|c| c.strip_prefix("c").and_then(|n| n.parse().ok())).unwrap_or(0);
                let next = if at + 10 < 25 { json!(format!("c{}", at + 10)) } else { Value::Null };
                Json(json!({"results": items(at, 10), "next": next}))
            }),
        )
        .route(
            "/orders",
            post(|State(api): State<Api>, Json(body): Json<Value>| async move {
                let orders = body["items"].as_array().cloned().unwrap_or_default();
                if orders.iter().any(|o| o["qty"].as_i64().unwrap_or(0) < 0) {
                    return Err((StatusCode::UNPROCESSABLE_ENTITY, "qty must not be negative"));
                }
                let ids: Vec<Value> = orders.iter().map(|o| json!({"id": format!("ORD-{}", o["no"])})).collect();
                api.received.lock().expect("lock").extend(orders);
                Ok(Json(json!({"results": ids})))
            }),
        )
        .route(
            "/one",
            post(|headers: HeaderMap, Json(body): Json<Value>| async move {
                if body["qty"].as_i64().unwrap_or(0) < 0 {
                    return Err((StatusCode::BAD_REQUEST, "bad qty".to_owned()));
                }
                if body["no"] == "slow" {
                    return Err((StatusCode::TOO_MANY_REQUESTS, "slow down".to_owned()));
                }
                let key = headers.get("idempotency-key").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
                Ok(Json(json!({"id": key})))
            }),
        )
        .with_state(state.clone());
    (router, state)
}

async fn read_all(s: &mut weft_runtime::ConnectorSession, params: Value) -> Vec<Value> {
    let mut cursor: Option<String> = None;
    let mut out = Vec::new();
    for _ in 0..10 {
        let page = s
            .read("fetch", &params, cursor.as_deref())
            .await
            .expect("page reads");
        out.extend(page.records.iter().map(weft_runtime::record_tree));
        match page.next {
            Some(n) => cursor = Some(n),
            None => return out,
        }
    }
    panic!("paging did not end within 10 pages");
}

fn ids(records: &[Value]) -> Vec<i64> {
    records.iter().filter_map(|r| r["id"].as_i64()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_by_number_offset_and_cursor() {
    let rt = runtime();
    let plugin = load(&rt, "http-json").await;
    let (router, _) = api();
    let origin = serve(router).await;
    let mut s = session(&plugin, json!({"base_url": origin, "auth_value": TOKEN})).await;
    let all: Vec<i64> = (0..25).collect();

    let by_page = read_all(
        &mut s,
        json!({
            "path": "/by-page", "records": "/data/items", "total": "/total",
            "pagination": {"type": "page_number", "size_param": "per_page", "size": 10}
        }),
    )
    .await;
    assert_eq!(ids(&by_page), all);

    let by_offset = read_all(
        &mut s,
        json!({
            "path": "/by-offset", "pagination": {"type": "offset", "size": 7}
        }),
    )
    .await;
    assert_eq!(ids(&by_offset), all);

    let by_cursor = read_all(
        &mut s,
        json!({
            "path": "/by-cursor", "records": "/results",
            "pagination": {"type": "cursor", "next_pointer": "/next"}
        }),
    )
    .await;
    assert_eq!(ids(&by_cursor), all);

    let first = s
        .read(
            "fetch",
            &json!({
                "path": "/by-page", "records": "/data/items", "total": "/total",
                "pagination": {"type": "page_number", "size_param": "per_page", "size": 10}
            }),
            None,
        )
        .await
        .expect("first page");
    assert_eq!(first.total, Some(25));

    // The secret auth value never reaches the log.
    let log = s.take_log();
    let exchanges: Vec<_> = log
        .iter()
        .filter_map(|e| match e {
            LogEntry::Http(x) => Some(x),
            _ => None,
        })
        .collect();
    assert!(exchanges.len() >= 10, "every exchange is recorded");
    let text = serde_json::to_string(&log).expect("log serialises");
    assert!(
        !text.contains("tok-5ecret-value"),
        "secret leaked into the log"
    );
    assert!(exchanges.iter().all(|x| x.status == Some(200)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_credentials_are_an_auth_error() {
    let rt = runtime();
    let plugin = load(&rt, "http-json").await;
    let (router, _) = api();
    let origin = serve(router).await;
    let mut s = session(
        &plugin,
        json!({"base_url": origin, "auth_value": "Bearer wrong"}),
    )
    .await;
    let err = s
        .read(
            "fetch",
            &json!({"path": "/by-page", "records": "/data/items"}),
            None,
        )
        .await
        .expect_err("401");
    assert_eq!(err.class(), ErrorClass::Auth, "{err}");
    assert!(err.to_string().contains("HTTP 401"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sends_batches_and_single_records_with_outcomes() {
    let rt = runtime();
    let plugin = load(&rt, "http-json").await;
    let (router, state) = api();
    let origin = serve(router).await;
    let mut s = session(&plugin, json!({"base_url": origin})).await;
    let batch = vec![json!({"no": 1, "qty": 2}), json!({"no": 2, "qty": 5})];
    let outcomes = s
        .write("send", &json!({"path": "/orders", "wrap": "items", "results_pointer": "/results", "id_pointer": "/id"}), &batch)
        .await
        .expect("batch written");
    assert_eq!(
        outcomes,
        vec![
            WriteOutcome::Written {
                id: Some("ORD-1".into()),
                number: None,
                existed: false
            },
            WriteOutcome::Written {
                id: Some("ORD-2".into()),
                number: None,
                existed: false
            },
        ]
    );
    assert_eq!(state.received.lock().expect("lock").len(), 2);

    // A rejected batch fails each record as invalid, with the API's message.
    let bad = vec![json!({"no": 3, "qty": -1})];
    let outcomes = s
        .write("send", &json!({"path": "/orders", "wrap": "items"}), &bad)
        .await
        .expect("a per-record failure is not a batch error");
    let WriteOutcome::Failed(e) = &outcomes[0] else {
        panic!("expected a failure")
    };
    assert_eq!(e.class, ErrorClass::Invalid);
    assert!(e.message.contains("qty must not be negative"), "{e}");

    // One by one: the idempotency key travels, a bad record fails alone.
    let each = vec![
        json!({"no": "A-1", "qty": 1}),
        json!({"no": "A-2", "qty": -3}),
    ];
    let outcomes = s
        .write(
            "send",
            &json!({"path": "/one", "mode": "each", "idempotency_key": "/no", "id_pointer": "/id"}),
            &each,
        )
        .await
        .expect("written one by one");
    assert_eq!(
        outcomes[0],
        WriteOutcome::Written {
            id: Some("A-1".into()),
            number: None,
            existed: false
        }
    );
    assert!(matches!(&outcomes[1], WriteOutcome::Failed(e) if e.class == ErrorClass::Invalid));

    // A rate limit stops the batch as a whole, to be retried.
    let err = s
        .write(
            "send",
            &json!({"path": "/one", "mode": "each"}),
            &[json!({"no": "slow"})],
        )
        .await
        .expect_err("429");
    assert_eq!(err.class(), ErrorClass::RateLimited, "{err}");
}
