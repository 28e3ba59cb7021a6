//! Shared helpers: where the built plugins are, a runtime with small test
//! limits, and a tiny JSON server on loopback.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use weft_runtime::{
    CallIdentity, Connection, ConnectorSession, Limits, LoadedPlugin, Runtime, RuntimeConfig,
};

/// The repository root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("the repository root exists")
}

/// The built `.wasm` of a first-party plugin or fixture.
pub fn plugin_wasm(crate_name: &str) -> Vec<u8> {
    let path = plugin_path(crate_name);
    std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read {}: {e}; build the plugins first with `just build-plugins`",
            path.display()
        )
    })
}

/// Limits small enough that hostile fixtures hit them quickly.
pub fn test_limits() -> Limits {
    Limits {
        max_memory_bytes: 64 << 20,
        cpu_time: Duration::from_millis(500),
        call_timeout: Duration::from_secs(20),
        max_output_bytes: 1 << 20,
        max_concurrent_instances: 16,
        ..Limits::default()
    }
}

/// A runtime with test limits; `internal.hostile.test` is pinned to
/// 10.0.0.1 so a test can reach a private address through a declared name.
pub fn runtime() -> Runtime {
    let mut dns: HashMap<String, Vec<IpAddr>> = HashMap::new();
    dns.insert(
        "internal.hostile.test".into(),
        vec!["10.0.0.1".parse().expect("valid IP")],
    );
    Runtime::new(RuntimeConfig {
        limits: test_limits(),
        dns_overrides: dns,
    })
    .expect("the runtime starts")
}

/// Loads a built plugin into `runtime`.
pub async fn load(runtime: &Runtime, crate_name: &str) -> Arc<LoadedPlugin> {
    runtime
        .load_wasm(&plugin_wasm(crate_name))
        .await
        .unwrap_or_else(|e| panic!("{crate_name} loads: {e}"))
}

/// A connector session for tenant `t1` with `config`, allowed to reach
/// loopback.
pub async fn session(plugin: &LoadedPlugin, config: serde_json::Value) -> ConnectorSession {
    let serde_json::Value::Object(config) = config else {
        panic!("config must be an object");
    };
    plugin
        .connector(
            CallIdentity {
                tenant: "t1".into(),
                scheme: "test".into(),
                run_id: "r1".into(),
            },
            Connection {
                name: "conn".into(),
                config,
                allowed_addresses: vec!["127.0.0.1/32".parse().expect("valid net")],
                rate_gate: None,
            },
        )
        .await
        .expect("session opens")
}

/// Serves `router` on a free loopback port; returns its origin.
pub async fn serve(router: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let addr: SocketAddr = listener.local_addr().expect("local addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    format!("http://{addr}")
}

/// The `weft` binary of the same build as this test (`just test` builds it
/// first).
pub fn weft_bin() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    // target/<profile>/deps/all-<hash> → target/<profile>/weft
    let dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("test executable lives in target/<profile>/deps");
    let bin = dir.join("weft");
    assert!(
        bin.exists(),
        "{} is missing; build it with `cargo build --release -p weft-cli` (just test does)",
        bin.display()
    );
    bin
}

/// Output of one `weft` invocation.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `weft` with `WEFT_HOME=home`.
pub fn weft(home: &std::path::Path, args: &[&str]) -> Run {
    weft_with(home, args, &[])
}

/// Runs `weft` with `WEFT_HOME=home` and more environment variables.
pub fn weft_with(home: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let out = weft_command(home, args, env).output().expect("weft runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A `weft` command with `WEFT_HOME=home` and `env`, not yet started.
pub fn weft_command(
    home: &std::path::Path,
    args: &[&str],
    env: &[(&str, &str)],
) -> std::process::Command {
    let mut command = std::process::Command::new(weft_bin());
    command
        .args(args)
        .env("WEFT_HOME", home)
        .env_remove("WEFT_LOG")
        .envs(env.iter().copied());
    command
}

/// The path of a built plugin's `.wasm`.
pub fn plugin_path(crate_name: &str) -> PathBuf {
    let dir = std::env::var_os("WEFT_PLUGIN_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("plugins/target/wasm32-wasip2/release"));
    dir.join(format!("{}.wasm", crate_name.replace('-', "_")))
}

/// The path of an example plugin built by `just build-examples` (Python
/// and JavaScript components, in `plugins/target/examples/`).
pub fn example_path(file_stem: &str) -> PathBuf {
    let dir = std::env::var_os("WEFT_EXAMPLE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("plugins/target/examples"));
    let path = dir.join(format!("{file_stem}.wasm"));
    assert!(
        path.exists(),
        "{} is missing; build the example plugins with `just build-examples` (just test does)",
        path.display()
    );
    path
}
