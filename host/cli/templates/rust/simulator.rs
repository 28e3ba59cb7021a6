//! Test helpers: start `weft-sim`, run `weft` in a scratch `WEFT_HOME`, and
//! fetch JSON from the simulators. Standard library only.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use weft_plugin_sdk::serde_json::{self, Value};

/// The storefront's token in the simulators' default configuration.
pub const SHOP_TOKEN: &str = "weft-shop-token";

fn binary(var: &str, default: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| default.to_owned())
}

/// A running simulator, stopped when dropped.
pub struct Sim {
    child: Child,
    pub origin: String,
}

impl Sim {
    pub fn start() -> Sim {
        let mut child = Command::new(binary("WEFT_SIM", "weft-sim"))
            .args(["--port", "0", "--jackyun-trades", "25"])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("weft-sim starts (set WEFT_SIM to its path)");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut first = String::new();
        BufReader::new(stdout)
            .read_line(&mut first)
            .expect("weft-sim prints its origin");
        let origin = first
            .trim()
            .strip_prefix("weft-sim listening on ")
            .unwrap_or_else(|| panic!("unexpected first line from weft-sim: {first}"))
            .to_owned();
        Sim { child, origin }
    }

    /// GET `path` (with the shop's bearer token) and parse the JSON reply.
    pub fn get(&self, path: &str) -> Value {
        let authority = self.origin.trim_start_matches("http://");
        let mut stream = TcpStream::connect(authority).expect("connect to weft-sim");
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {authority}\r\nAuthorization: Bearer {SHOP_TOKEN}\r\nConnection: close\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).expect("send");
        let mut reply = String::new();
        stream.read_to_string(&mut reply).expect("receive");
        let (head, body) = reply.split_once("\r\n\r\n").expect("an HTTP reply");
        assert!(head.starts_with("HTTP/1.1 200"), "GET {path}: {head}");
        serde_json::from_str(body).expect("a JSON body")
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A scratch `WEFT_HOME`, removed when dropped.
pub struct Home(pub PathBuf);

impl Home {
    pub fn new() -> Home {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let dir = std::env::temp_dir().join(format!("weft-test-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("create WEFT_HOME");
        Home(dir)
    }

    /// Runs `weft args…`; returns (success, stdout, stderr).
    pub fn weft(&self, args: &[&str], stdin: Option<&str>) -> (bool, String, String) {
        let mut child = Command::new(binary("WEFT", "weft"))
            .args(args)
            .env("WEFT_HOME", &self.0)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("weft starts (set WEFT to its path)");
        if let Some(mut input) = child.stdin.take() {
            input
                .write_all(stdin.unwrap_or("").as_bytes())
                .expect("write stdin");
        }
        let out = child.wait_with_output().expect("weft runs");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// Runs `weft args…` and requires success; returns stdout.
    pub fn ok(&self, args: &[&str], stdin: Option<&str>) -> String {
        let (ok, stdout, stderr) = self.weft(args, stdin);
        assert!(ok, "weft {args:?} failed:\n{stderr}");
        stdout
    }

    /// Installs the component `just build` made.
    pub fn install_plugin(&self) {
        let wasm = std::env::var("PLUGIN_WASM").unwrap_or_else(|_| "__CRATE__.wasm".to_owned());
        self.ok(&["plugin", "install", &wasm], None);
    }
}

impl Drop for Home {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
