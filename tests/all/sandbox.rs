//! Hostile plugins are contained: each misbehaviour gets a clear,
//! classified error within its limit, and the same runtime goes on serving
//! a well-behaved plugin correctly.

use serde_json::{Value, json};
use weft_runtime::{
    CallError, CallIdentity, Connection, ErrorClass, LoadedPlugin, LogEntry, Runtime, Violation,
};

use crate::support::{load, runtime, serve, session};

/// A session that may not reach any internal address.
async fn locked_session(plugin: &LoadedPlugin) -> weft_runtime::ConnectorSession {
    plugin
        .connector(
            CallIdentity {
                tenant: "t1".into(),
                ..CallIdentity::default()
            },
            Connection {
                name: "locked".into(),
                ..Connection::default()
            },
        )
        .await
        .expect("session opens")
}

async fn call(
    plugin: &LoadedPlugin,
    operation: &str,
    params: Value,
) -> Result<Vec<Value>, CallError> {
    let mut s = locked_session(plugin).await;
    s.read(operation, &params, None)
        .await
        .map(|p| p.records.iter().map(weft_runtime::record_tree).collect())
}

/// The proof that nothing else noticed: a fresh instance of the same plugin
/// answers correctly.
async fn assert_still_serves(plugin: &LoadedPlugin) {
    let records = call(plugin, "echo", json!({"hello": "world"}))
        .await
        .expect("a well-behaved call succeeds after a hostile one");
    assert_eq!(records, vec![json!({"hello": "world"})]);
}

fn violation(result: Result<Vec<Value>, CallError>) -> (Violation, String) {
    let err = result.expect_err("the hostile call must fail");
    assert_eq!(err.class(), ErrorClass::Fatal, "{err}");
    let message = err.to_string();
    let v = err
        .violation()
        .unwrap_or_else(|| panic!("expected a sandbox violation, got: {message}"))
        .clone();
    (v, message)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endless_loop_is_stopped_by_the_cpu_deadline() {
    let rt = runtime();
    let hostile = load(&rt, "hostile").await;
    let (v, message) = violation(call(&hostile, "loop", json!({})).await);
    assert!(matches!(v, Violation::CpuTime(_)), "{v:?}");
    assert!(message.contains("CPU time limit"), "{message}");
    assert_still_serves(&hostile).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unbounded_allocation_hits_the_memory_limit() {
    let rt = runtime();
    let hostile = load(&rt, "hostile").await;
    let (v, message) = violation(call(&hostile, "alloc", json!({})).await);
    assert!(matches!(v, Violation::Memory(_)), "{v:?}");
    assert!(message.contains("memory limit of 64 MiB"), "{message}");
    assert_still_serves(&hostile).await;
}

fn denied_exchanges(log: &[LogEntry]) -> Vec<String> {
    log.iter()
        .filter_map(|e| match e {
            LogEntry::Http(x) if x.denied => Some(x.url.clone()),
            _ => None,
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_undeclared_host_is_refused() {
    let rt = runtime();
    let hostile = load(&rt, "hostile").await;
    let mut s = locked_session(&hostile).await;
    let err = s
        .read(
            "fetch",
            &json!({"url": "https://evil.example.org/steal"}),
            None,
        )
        .await
        .expect_err("undeclared host");
    assert_eq!(err.class(), ErrorClass::Fatal);
    let message = err.to_string();
    assert!(message.contains("egress denied"), "{message}");
    assert!(message.contains("https://evil.example.org"), "{message}");
    assert!(
        message.contains("api.example.com"),
        "names the declared rules: {message}"
    );
    assert_eq!(
        denied_exchanges(&s.take_log()),
        vec!["https://evil.example.org/steal".to_owned()],
        "the refusal is in the call's log"
    );
    assert_still_serves(&hostile).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn internal_addresses_are_refused_through_declared_names_and_urls() {
    let rt = runtime();
    let hostile = load(&rt, "hostile").await;
    let origin =
        serve(axum::Router::new().route("/", axum::routing::get(|| async { "secret" }))).await;
    let port = origin.rsplit(':').next().expect("origin has a port");
    let cases = [
        (format!("http://localhost:{port}/"), "loopback"),
        ("http://10.0.0.1/".to_owned(), "private"),
        ("http://internal.hostile.test/".to_owned(), "private"),
        (
            "http://169.254.169.254/latest/meta-data/".to_owned(),
            "cloud metadata",
        ),
    ];
    for (url, reason) in cases {
        let mut s = locked_session(&hostile).await;
        let err = s
            .read("fetch", &json!({ "url": url }), None)
            .await
            .expect_err("internal address");
        let message = err.to_string();
        assert_eq!(err.class(), ErrorClass::Fatal, "{url}: {message}");
        assert!(message.contains("egress denied"), "{url}: {message}");
        assert!(message.contains(reason), "{url}: {message}");
        assert_eq!(denied_exchanges(&s.take_log()).len(), 1, "{url}");
    }
    // The same request is allowed once the operator allows loopback for the
    // connection: the refusal was the policy, not a broken network.
    let mut allowed = session(&hostile, json!({})).await;
    let page = allowed
        .read(
            "fetch",
            &json!({ "url": format!("http://localhost:{port}/") }),
            None,
        )
        .await
        .expect("allowed loopback");
    assert_eq!(
        weft_runtime::record_tree(&page.records[0])["body"],
        "secret"
    );
    assert_still_serves(&hostile).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_reaches_the_user_with_its_message() {
    let rt = runtime();
    let hostile = load(&rt, "hostile").await;
    let mut s = locked_session(&hostile).await;
    let err = s.read("panic", &json!({}), None).await.expect_err("panics");
    let Some(Violation::Panic(msg)) = err.violation() else {
        panic!("expected a panic, got {err}");
    };
    assert!(msg.contains("hostile plugin panicked on purpose"), "{msg}");
    let log = s.take_log();
    assert!(
        log.iter()
            .any(|e| matches!(e, LogEntry::Line(l) if l.message.contains("panicked on purpose"))),
        "stderr is in the call's log: {log:?}"
    );
    // The poisoned instance is not reused.
    let again = s
        .read("echo", &json!({}), None)
        .await
        .expect_err("unusable");
    assert!(
        matches!(again.violation(), Some(Violation::Unusable(_))),
        "{again}"
    );
    assert_still_serves(&hostile).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_page_is_refused() {
    let rt = runtime();
    let hostile = load(&rt, "hostile").await;
    let (v, message) = violation(call(&hostile, "oversized", json!({"bytes": 4_000_000})).await);
    let Violation::OutputTooLarge { size, limit } = v else {
        panic!("expected OutputTooLarge, got {v:?}");
    };
    assert!(size > limit && limit == 1 << 20, "{size} {limit}");
    assert!(message.contains("return smaller pages"), "{message}");
    assert_still_serves(&hostile).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_filesystem_is_closed() {
    let rt = runtime();
    let hostile = load(&rt, "hostile").await;
    let (v, message) = violation(call(&hostile, "open_file", json!({})).await);
    assert!(matches!(v, Violation::Panic(_)), "{v:?}");
    assert!(
        message.contains("must not let a plugin read /etc/passwd"),
        "{message}"
    );
    assert!(!message.contains("root:"), "nothing leaked: {message}");
    assert_still_serves(&hostile).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runaway_recursion_overflows_the_stack_cleanly() {
    let rt = runtime();
    let hostile = load(&rt, "hostile").await;
    let (v, message) = violation(call(&hostile, "recurse", json!({})).await);
    assert_eq!(v, Violation::StackOverflow, "{message}");
    assert!(message.contains("overflowed its stack"), "{message}");
    assert_still_serves(&hostile).await;
}

/// All of the above at once in one runtime, while a well-behaved plugin
/// keeps serving requests beside them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gauntlet_does_not_disturb_a_healthy_plugin() {
    let rt: Runtime = runtime();
    let hostile = load(&rt, "hostile").await;
    let http_json = load(&rt, "http-json").await;
    let origin = serve(axum::Router::new().route(
        "/items",
        axum::routing::get(|| async { axum::Json(json!([{"id": 1}, {"id": 2}])) }),
    ))
    .await;
    let attacks = ["loop", "alloc", "panic", "open_file", "recurse"].map(|op| {
        let hostile = std::sync::Arc::clone(&hostile);
        tokio::spawn(async move { call(&hostile, op, json!({})).await })
    });
    let mut healthy = Vec::new();
    for _ in 0..20 {
        let mut s = session(&http_json, json!({ "base_url": origin })).await;
        let page = s
            .read("fetch", &json!({"path": "/items"}), None)
            .await
            .expect("the healthy plugin keeps working");
        healthy.push(page.records.len());
    }
    assert_eq!(healthy, vec![2; 20]);
    for attack in attacks {
        let result = attack.await.expect("task joins");
        assert!(result.is_err(), "every attack is stopped");
    }
    assert_still_serves(&hostile).await;
}
