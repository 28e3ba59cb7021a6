//! `weft serve` end to end: the real binary serving on a free loopback
//! port, against the simulators, driven over HTTP like a user's client.

mod api;
mod service;

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::e2e::Demo;

/// The admin token every test service takes.
pub const ADMIN: &str = "test-admin-token-0123456789";

/// The signature the OpenCallback seed expects: hex HMAC-SHA256 of
/// `"{timestamp}.{body}"` under the hook secret.
pub fn hook_signature(secret: &str, timestamp: &str, body: &[u8]) -> String {
    use hmac::Mac;
    let Ok(mut mac) = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()) else {
        panic!("HMAC takes a key of any length");
    };
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// A running `weft serve`.
pub struct Service {
    child: Option<Child>,
    /// The service's stderr (its log), as far as it was read.
    log: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    /// `http://127.0.0.1:port`.
    pub origin: String,
    client: reqwest::Client,
}

/// An answer: status and JSON body (`Value::Null` when not JSON).
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
    pub text: String,
}

impl Service {
    /// Starts `weft serve` on the demo's home (its plugins, tenant and
    /// connections) with the admin token and `args`, and waits until it
    /// listens.
    pub fn start(demo: &Demo, args: &[&str], env: &[(&str, &str)]) -> Service {
        let mut all = vec!["serve", "--listen", "127.0.0.1:0"];
        all.extend_from_slice(args);
        let mut command = demo.command(&all);
        command
            .env("WEFT_ADMIN_TOKEN", ADMIN)
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().expect("weft serve starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("weft serve prints where it listens");
        let Some(origin) = line.trim().strip_prefix("weft serve listening on ") else {
            let _ = child.kill();
            let out = child.wait_with_output().expect("weft serve output");
            panic!(
                "weft serve did not start: {line:?}\nstderr:\n{}",
                String::from_utf8_lossy(&out.stderr)
            )
        };
        let origin = origin.to_owned();
        // The service logs to stderr; drain it so a chatty run never blocks
        // on a full pipe, keeping the first lines for tests that read them.
        let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        if let Some(stderr) = child.stderr.take() {
            let keep = std::sync::Arc::clone(&log);
            std::thread::spawn(move || {
                let mut lines = BufReader::new(stderr).lines();
                while let Some(Ok(line)) = lines.next() {
                    if std::env::var_os("WEFT_TEST_SERVE_LOG").is_some() {
                        eprintln!("[serve] {line}");
                    }
                    let mut kept = keep
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    if kept.len() < 10_000 {
                        kept.push(line);
                    }
                }
            });
        }
        // reqwest is built without a default TLS provider (the workspace
        // picks ring); plain HTTP still needs one installed to build.
        let _ = rustls::crypto::ring::default_provider().install_default();
        Service {
            child: Some(child),
            log,
            origin,
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(60))
                .build()
                .expect("HTTP client"),
        }
    }

    /// A request with `token` (none when `None`).
    pub fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
    ) -> reqwest::RequestBuilder {
        let mut r = self
            .client
            .request(method, format!("{}{path}", self.origin));
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        r
    }

    /// Sends `request` and reads the answer.
    pub async fn answer(&self, request: reqwest::RequestBuilder) -> Answer {
        let response = request.send().await.expect("the service answers");
        let status = response.status().as_u16();
        let text = response.text().await.expect("a readable body");
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Answer { status, body, text }
    }

    /// GET with a token.
    pub async fn get(&self, token: &str, path: &str) -> Answer {
        self.answer(self.request(reqwest::Method::GET, path, Some(token)))
            .await
    }

    /// A JSON request with a token.
    pub async fn send(
        &self,
        method: reqwest::Method,
        token: &str,
        path: &str,
        body: &Value,
    ) -> Answer {
        self.answer(self.request(method, path, Some(token)).json(body))
            .await
    }

    /// POST of JSON with a token.
    pub async fn post(&self, token: &str, path: &str, body: &Value) -> Answer {
        self.send(reqwest::Method::POST, token, path, body).await
    }

    /// Polls `GET path` until `done` accepts the answer or `limit` passes
    /// (then panics with the last answer). Bounded: every loop in a test
    /// ends.
    pub async fn wait_for(
        &self,
        token: &str,
        path: &str,
        limit: Duration,
        done: impl Fn(&Answer) -> bool,
    ) -> Answer {
        let start = Instant::now();
        loop {
            let a = self.get(token, path).await;
            if done(&a) {
                return a;
            }
            assert!(
                start.elapsed() < limit,
                "GET {path} did not reach the expected state within {limit:?}; last: {} {}",
                a.status,
                a.text
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Sends SIGTERM and waits for the process to exit (at most `limit`).
    pub fn terminate(&mut self, limit: Duration) -> std::process::ExitStatus {
        let mut child = self.child.take().expect("the service is running");
        let sent = std::process::Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .expect("kill(1) runs");
        assert!(sent.success(), "SIGTERM could not be sent");
        let start = Instant::now();
        loop {
            if let Some(status) = child.try_wait().expect("wait on weft serve") {
                return status;
            }
            if start.elapsed() > limit {
                let _ = child.kill();
                panic!("weft serve did not exit within {limit:?} of SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// What the service logged so far, one entry per line.
    pub fn log_lines(&self) -> Vec<String> {
        self.log
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Kills the process at once (SIGKILL), like a crash.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        self.kill();
    }
}
