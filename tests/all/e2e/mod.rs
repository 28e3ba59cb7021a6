//! The seed schemes end to end: the real `weft` binary, as a user runs it,
//! against the simulators (started in this process on a free loopback
//! port). Every test has its own `WEFT_HOME` and its own simulator.

mod changes;
mod crash;
mod exceptions;
mod faults;
mod refusals;
mod seeds;

use std::path::{Path, PathBuf};

use serde_json::Value;
use weft_sim::{SimConfig, SimHandle, Simulator, System};

use crate::support::{Run, plugin_path, repo_root, weft_command, weft_with};

/// The tenant every test works for.
pub const TENANT: &str = "demo";

/// A simulator and a `WEFT_HOME` with the plugins, the demo tenant and the
/// connections of `schemes/simulator-connections.yaml`.
pub struct Demo {
    pub sim: SimHandle,
    home: tempfile::TempDir,
    origin: String,
    http_timeout: Option<String>,
}

impl Demo {
    /// Starts a simulator with `config` and prepares a home that uses the
    /// given plugins (crate names).
    pub fn start(config: SimConfig, plugins: &[&str]) -> Demo {
        let sim = Simulator::start(config).expect("the simulator starts");
        let origin = sim.origin().to_owned();
        let demo = Demo {
            sim,
            home: tempfile::tempdir().expect("temp WEFT_HOME"),
            origin,
            http_timeout: None,
        };
        for plugin in plugins {
            let path = plugin_path(plugin);
            demo.ok(&["plugin", "install", path.to_str().expect("utf-8 path")]);
        }
        demo.ok(&["tenant", "add", TENANT]);
        // Only the connections whose plugin is installed: apply refuses a
        // connection to an unknown connector.
        let all = std::fs::read_to_string(repo_root().join("schemes/simulator-connections.yaml"))
            .expect("schemes/simulator-connections.yaml");
        let wanted: Vec<&str> = plugins.to_vec();
        let file = demo.home().join("connections.yaml");
        std::fs::write(&file, only_connections(&all, &wanted)).expect("write connections");
        demo.ok(&[
            "connection",
            "apply",
            file.to_str().expect("utf-8"),
            "--tenant",
            TENANT,
        ]);
        demo
    }

    /// Plugin HTTP exchanges time out after this many seconds.
    pub fn with_http_timeout(mut self, seconds: &str) -> Demo {
        self.http_timeout = Some(seconds.to_owned());
        self
    }

    pub fn home(&self) -> &Path {
        self.home.path()
    }

    fn env(&self) -> Vec<(&str, &str)> {
        let mut env = vec![("SIM_ORIGIN", self.origin.as_str())];
        if let Some(t) = &self.http_timeout {
            env.push(("WEFT_HTTP_TIMEOUT", t.as_str()));
        }
        env
    }

    /// Runs `weft`.
    pub fn weft(&self, args: &[&str]) -> Run {
        weft_with(self.home(), args, &self.env())
    }

    /// A `weft` command, not yet started.
    pub fn command(&self, args: &[&str]) -> std::process::Command {
        weft_command(self.home(), args, &self.env())
    }

    /// Runs `weft` and requires success.
    pub fn ok(&self, args: &[&str]) -> Run {
        let run = self.weft(args);
        assert_eq!(
            run.code, 0,
            "weft {args:?} failed\nstdout:\n{}\nstderr:\n{}",
            run.stdout, run.stderr
        );
        run
    }

    /// Applies a seed scheme from `schemes/`.
    pub fn apply_seed(&self, file: &str) {
        self.apply_file(&seed(file));
    }

    /// Applies a scheme written by the test (`yaml`), saved as `file`.
    pub fn apply_text(&self, file: &str, yaml: &str) {
        let path = self.home().join(file);
        std::fs::write(&path, yaml).expect("write scheme");
        self.apply_file(&path);
    }

    fn apply_file(&self, path: &Path) {
        let path = path.to_str().expect("utf-8 path");
        self.ok(&["scheme", "apply", path, "--tenant", TENANT]);
    }

    /// Runs a scheme to its end and returns the outcome (`--json`).
    pub fn run(&self, scheme: &str) -> Value {
        let run = self.weft(&["scheme", "run", scheme, "--tenant", TENANT, "--json"]);
        let outcome: Value = serde_json::from_str(&run.stdout).unwrap_or_else(|e| {
            panic!(
                "weft scheme run {scheme}: no JSON outcome ({e}), exit {}\nstdout:\n{}\nstderr:\n{}",
                run.code, run.stdout, run.stderr
            )
        });
        assert_eq!(
            (run.code, outcome["status"].as_str()),
            (0, Some("succeeded")),
            "run of {scheme}: {outcome:#}\nstderr:\n{}",
            run.stderr
        );
        outcome
    }

    /// The exception queue of a scheme (`records list --status failed`).
    pub fn failed(&self, scheme: &str) -> Vec<Value> {
        let run = self.ok(&[
            "records", "list", "--tenant", TENANT, "--scheme", scheme, "--status", "failed",
            "--json", "--limit", "1000",
        ]);
        serde_json::from_str(&run.stdout).expect("records list --json")
    }
}

/// A seed scheme file.
pub fn seed(file: &str) -> PathBuf {
    repo_root().join("schemes").join(file)
}

/// The connections of the simulator connections file whose plugin is one of
/// `plugins` (crate names): the file is a header and one block per
/// connection, each starting with `  - name:`.
fn only_connections(all: &str, plugins: &[&str]) -> String {
    let mut blocks: Vec<String> = vec![String::new()];
    for line in all.lines() {
        if line.starts_with("  - name: ") {
            blocks.push(String::new());
        }
        let block = blocks.last_mut().expect("a block");
        block.push_str(line);
        block.push('\n');
    }
    let uses_wanted_plugin = |block: &String| {
        block.lines().any(|l| {
            l.trim()
                .strip_prefix("plugin: ")
                .is_some_and(|p| plugins.iter().any(|w| w.replace('_', "-") == p.trim()))
        })
    };
    let mut out = blocks[0].clone();
    for block in blocks.iter().skip(1).filter(|b| uses_wanted_plugin(b)) {
        out.push_str(block);
    }
    out
}

/// A JSON number or numeric string as f64.
pub fn number(v: &Value) -> f64 {
    match v {
        Value::Number(n) => n.as_f64().expect("finite"),
        Value::String(s) => s
            .trim()
            .parse()
            .unwrap_or_else(|e| panic!("{s:?} is not a number: {e}")),
        other => panic!("{other} is not a number"),
    }
}

/// A JSON scalar as text (numbers without quotes).
pub fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Asserts that `form` of `system` accepted each of `keys` exactly once and
/// nothing else; returns the accepted bodies by key.
pub fn assert_exactly_once(
    sim: &SimHandle,
    system: System,
    form: &str,
    keys: &[String],
) -> std::collections::BTreeMap<String, Value> {
    let log = sim.received(system, form);
    assert!(
        log.duplicates().is_empty(),
        "{form}: accepted more than once: {:?}",
        &log.duplicates()[..log.duplicates().len().min(10)]
    );
    let mut accepted: Vec<&str> = log.accepted_keys();
    accepted.sort_unstable();
    let mut want: Vec<&str> = keys.iter().map(String::as_str).collect();
    want.sort_unstable();
    assert_eq!(
        accepted.len(),
        want.len(),
        "{form}: accepted {} documents, the source has {}",
        accepted.len(),
        want.len()
    );
    assert_eq!(
        accepted, want,
        "{form}: the accepted keys differ from the source's"
    );
    log.entries
        .into_iter()
        .filter(|e| e.outcome.accepted())
        .filter_map(|e| e.body.map(|b| (e.key, b)))
        .collect()
}

/// A counter of a run outcome.
pub fn count(outcome: &Value, name: &str) -> u64 {
    outcome["counts"][name]
        .as_u64()
        .unwrap_or_else(|| panic!("no count {name} in {outcome:#}"))
}
