//! `weft plugin new`: a project of each language and kind builds as
//! generated (`just build`) and its generated test passes against the
//! simulators (`just test`).
//!
//! The toolchains are the ones `just build-examples` pins: componentize-py
//! in `.venv`, componentize-js in `plugins/examples/js/node_modules`, so
//! the Python and JavaScript scaffolds download nothing. Rust scaffolds
//! share one target directory (`target/scaffold`) so the SDK and its
//! dependencies compile once per machine, not once per test.

use std::path::Path;
use std::process::Command;

use crate::support::{repo_root, weft_bin};

fn toolchain(relative: &str) -> String {
    let path = repo_root().join(relative);
    assert!(
        path.exists(),
        "{} is missing; install the example toolchains with `just setup-examples` (just test does)",
        path.display()
    );
    path.display().to_string()
}

/// Scaffolds `lang`/`kind` into a scratch directory and runs `just test`
/// there; returns what the project's tests printed.
fn scaffold_and_test(lang: &str, kind: &str) -> String {
    let scratch = tempfile::tempdir().expect("scratch dir");
    let name = format!("my-{lang}-{kind}");
    let dir = scratch.path().join(&name);
    let new = Command::new(weft_bin())
        .args([
            "plugin", "new", &name, "--lang", lang, "--kind", kind, "--dir",
        ])
        .arg(&dir)
        .output()
        .expect("weft plugin new runs");
    assert!(
        new.status.success(),
        "weft plugin new: {}",
        String::from_utf8_lossy(&new.stderr)
    );
    for file in [
        "README.md",
        "justfile",
        "wit/types.wit",
        "wit/connector.wit",
        "wit/transform.wit",
    ] {
        assert!(dir.join(file).is_file(), "the project has {file}");
    }
    let out = Command::new("just")
        .arg("test")
        .current_dir(&dir)
        .env("COMPONENTIZE_PY", toolchain(".venv/bin/componentize-py"))
        .env(
            "COMPONENTIZE_JS",
            toolchain("plugins/examples/js/node_modules/.bin/componentize-js"),
        )
        .env("CARGO_TARGET_DIR", repo_root().join("target/scaffold"))
        .output()
        .expect("just runs (install it: pip install rust-just)");
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "just test in a new {lang} {kind}:\n{text}"
    );
    let wasm = dir.join(format!("{}.wasm", name.replace('-', "_")));
    assert!(wasm.is_file(), "just build made {}", wasm.display());
    assert_component(&wasm, kind);
    text
}

/// The built file is a component of the requested world.
fn assert_component(wasm: &Path, kind: &str) {
    let bytes = std::fs::read(wasm).expect("read the component");
    let contract = weft_runtime::read_contract(&bytes).expect("a weft plugin component");
    assert_eq!(contract.kind.as_str(), kind);
}

#[test]
fn a_new_rust_connector_builds_and_passes_its_test() {
    let out = scaffold_and_test("rust", "connector");
    assert!(out.contains("test result: ok. 1 passed"), "{out}");
}

#[test]
fn a_new_rust_transform_builds_and_passes_its_test() {
    let out = scaffold_and_test("rust", "transform");
    assert!(out.contains("test result: ok. 1 passed"), "{out}");
}

#[test]
fn a_new_python_connector_builds_and_passes_its_test() {
    let out = scaffold_and_test("python", "connector");
    assert!(out.contains("Ran 2 tests") && out.contains("\nOK"), "{out}");
}

#[test]
fn a_new_python_transform_builds_and_passes_its_test() {
    let out = scaffold_and_test("python", "transform");
    assert!(out.contains("Ran 2 tests") && out.contains("\nOK"), "{out}");
}

#[test]
fn a_new_js_connector_builds_and_passes_its_test() {
    let out = scaffold_and_test("js", "connector");
    assert!(
        out.contains("# pass 2") && out.contains("# fail 0"),
        "{out}"
    );
}

#[test]
fn a_new_js_transform_builds_and_passes_its_test() {
    let out = scaffold_and_test("js", "transform");
    assert!(
        out.contains("# pass 2") && out.contains("# fail 0"),
        "{out}"
    );
}

#[test]
fn new_refuses_a_bad_name_and_a_non_empty_directory() {
    let scratch = tempfile::tempdir().expect("scratch dir");
    let bad = Command::new(weft_bin())
        .args([
            "plugin",
            "new",
            "My_Plugin",
            "--lang",
            "python",
            "--kind",
            "transform",
        ])
        .current_dir(scratch.path())
        .output()
        .expect("weft runs");
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("'My_Plugin' is not a plugin name"));
    std::fs::write(scratch.path().join("keep.txt"), "mine").expect("write");
    let busy = Command::new(weft_bin())
        .args([
            "plugin",
            "new",
            "ok-name",
            "--lang",
            "js",
            "--kind",
            "connector",
            "--dir",
        ])
        .arg(scratch.path())
        .output()
        .expect("weft runs");
    assert!(!busy.status.success());
    assert!(String::from_utf8_lossy(&busy.stderr).contains("exists and is not empty"));
}
