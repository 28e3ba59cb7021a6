//! `weft plugin install|list|inspect|remove|transform` through the real binary.

use serde_json::Value;

use crate::support::{plugin_path, plugin_wasm, weft};

fn path_str(p: &std::path::Path) -> &str {
    p.to_str().expect("UTF-8 path")
}

/// The same component with a custom section appended: another binary with
/// the same name and version.
fn rebuilt_binary(crate_name: &str, dir: &std::path::Path) -> std::path::PathBuf {
    let mut bytes = plugin_wasm(crate_name);
    let name = b"weft-test";
    let payload = b"different build";
    let size = 1 + name.len() + payload.len();
    bytes.push(0); // custom section id
    bytes.push(u8::try_from(size).expect("small section"));
    bytes.push(u8::try_from(name.len()).expect("small name"));
    bytes.extend_from_slice(name);
    bytes.extend_from_slice(payload);
    let path = dir.join("rebuilt.wasm");
    std::fs::write(&path, bytes).expect("write rebuilt component");
    path
}

#[test]
fn install_is_idempotent_and_refuses_a_different_binary_without_force() {
    let home = tempfile::tempdir().expect("tempdir");
    let wasm = plugin_path("http-json");
    let first = weft(home.path(), &["plugin", "install", path_str(&wasm)]);
    assert_eq!(first.code, 0, "{first:?}");
    assert!(
        first.stdout.contains("installed http-json@0.1.0"),
        "{first:?}"
    );
    let dir = home.path().join("plugins/http-json/0.1.0");
    assert!(dir.join("plugin.wasm").exists() && dir.join("manifest.json").exists());
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).expect("manifest"))
            .expect("manifest is JSON");
    let sha = manifest["sha256"].as_str().expect("sha256").to_owned();
    let artifacts: Vec<_> = walk(&home.path().join("cache"))
        .into_iter()
        .filter(|p| p.to_string_lossy().ends_with(&format!("{sha}.cwasm")))
        .collect();
    assert_eq!(
        artifacts.len(),
        1,
        "one precompiled artifact keyed by sha256"
    );

    let again = weft(home.path(), &["plugin", "install", path_str(&wasm)]);
    assert_eq!(again.code, 0, "{again:?}");
    assert!(again.stdout.contains("nothing changed"), "{again:?}");

    let other = rebuilt_binary("http-json", home.path());
    let refused = weft(home.path(), &["plugin", "install", path_str(&other)]);
    assert_eq!(refused.code, 1, "{refused:?}");
    assert!(
        refused
            .stderr
            .contains("already installed from a different binary"),
        "{refused:?}"
    );
    assert!(refused.stderr.contains("--force"), "{refused:?}");
    let still: Value =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).expect("manifest"))
            .expect("JSON");
    assert_eq!(still["sha256"], sha, "the refused install changed nothing");

    let forced = weft(
        home.path(),
        &["plugin", "install", "--force", path_str(&other)],
    );
    assert_eq!(forced.code, 0, "{forced:?}");
    assert!(
        forced.stdout.contains("replaced http-json@0.1.0"),
        "{forced:?}"
    );
    let replaced: Value =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).expect("manifest"))
            .expect("JSON");
    assert_ne!(replaced["sha256"], sha);
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

#[test]
fn list_inspect_and_remove() {
    let home = tempfile::tempdir().expect("tempdir");
    for p in ["http-json", "wdt", "k3cloud"] {
        let r = weft(
            home.path(),
            &["plugin", "install", path_str(&plugin_path(p))],
        );
        assert_eq!(r.code, 0, "{p}: {r:?}");
    }
    let list = weft(home.path(), &["plugin", "list", "--json"]);
    assert_eq!(list.code, 0, "{list:?}");
    let plugins: Vec<Value> = serde_json::from_str(&list.stdout).expect("list --json is JSON");
    let names: Vec<&str> = plugins.iter().filter_map(|p| p["name"].as_str()).collect();
    assert_eq!(names, ["http-json", "k3cloud", "wdt"]);
    let table = weft(home.path(), &["plugin", "list"]);
    assert!(
        table.stdout.contains("k3cloud") && table.stdout.contains("SHA256"),
        "{table:?}"
    );

    let inspect = weft(home.path(), &["plugin", "inspect", "wdt"]);
    assert_eq!(inspect.code, 0, "{inspect:?}");
    for expected in [
        "wdt@0.1.0",
        "weft:plugin@0.1.0",
        "purchase_order_query (source)",
        "trade_push (target)",
        "appsecret",
        "secret",
        "*.wangdian.cn",
        "<connection base_url>",
        "max window 30 d",
        "start_time",
    ] {
        assert!(
            inspect.stdout.contains(expected),
            "inspect lacks '{expected}':\n{}",
            inspect.stdout
        );
    }
    let json = weft(
        home.path(),
        &["plugin", "inspect", "k3cloud@0.1.0", "--json"],
    );
    let manifest: Value = serde_json::from_str(&json.stdout).expect("inspect --json is JSON");
    assert_eq!(manifest["kind"], "connector");
    let ops = manifest["info"]["operations"]
        .as_array()
        .expect("operations");
    assert!(
        ops.iter()
            .any(|o| o["id"] == "batch_save" && o["params_schema"].is_object())
    );

    let missing = weft(home.path(), &["plugin", "inspect", "wdt@9.9.9"]);
    assert_eq!(missing.code, 1);
    assert!(
        missing
            .stderr
            .contains("wdt@9.9.9 is not installed (installed: wdt@0.1.0)"),
        "{missing:?}"
    );

    let removed = weft(home.path(), &["plugin", "remove", "wdt"]);
    assert_eq!(removed.code, 0, "{removed:?}");
    assert!(!home.path().join("plugins/wdt").exists());
    let after = weft(home.path(), &["plugin", "list", "--json"]);
    let plugins: Vec<Value> = serde_json::from_str(&after.stdout).expect("JSON");
    assert_eq!(plugins.len(), 2);
}

#[test]
fn bad_files_get_clear_errors_and_change_nothing() {
    let home = tempfile::tempdir().expect("tempdir");
    let dir = home.path();
    let text = dir.join("notes.wasm");
    std::fs::write(&text, "hello").expect("write");
    let module = dir.join("module.wasm");
    std::fs::write(&module, wat::parse_str("(module)").expect("wat")).expect("write");
    let future = dir.join("future.wasm");
    std::fs::write(
        &future,
        wat::parse_str(
            r#"(component (instance $i) (export "weft:plugin/connector-api@0.9.0" (instance $i)))"#,
        )
        .expect("wat"),
    )
    .expect("write");
    let cases = [
        (&text, "not a WebAssembly file"),
        (&module, "core WebAssembly module, not a component"),
        (
            &future,
            "built against weft:plugin@0.9.0, but this weft runs weft:plugin@0.1.0",
        ),
    ];
    for (file, expected) in cases {
        let r = weft(home.path(), &["plugin", "install", path_str(file)]);
        assert_eq!(r.code, 1, "{r:?}");
        assert!(
            r.stderr.contains(expected),
            "{}: {}",
            file.display(),
            r.stderr
        );
        assert!(
            r.stderr.contains(&file.display().to_string()),
            "names the file: {}",
            r.stderr
        );
    }
    let list = weft(home.path(), &["plugin", "list", "--json"]);
    assert_eq!(list.stdout.trim(), "[]");
}

#[test]
fn transform_runs_an_installed_transform_and_checks_its_config_first() {
    let home = tempfile::tempdir().expect("tempdir");
    let r = weft(
        home.path(),
        &[
            "plugin",
            "install",
            path_str(&plugin_path("order_normalise")),
        ],
    );
    assert_eq!(r.code, 0, "{r:?}");
    let records = home.path().join("records.json");
    std::fs::write(
        &records,
        r#"[{"id": "A", "total": "¥30.00", "lines": [{"sku": "SP-00012", "price": "¥10.00", "amount": "¥20.00"}]}]"#,
    )
    .expect("write records");
    let run = |config: &str| {
        weft(
            home.path(),
            &[
                "plugin",
                "transform",
                "order-normalise",
                "--config",
                config,
                "--records",
                path_str(&records),
            ],
        )
    };

    let done = run(r#"{"sku_prefix": {"from": "SP-", "to": "SKU"}}"#);
    assert_eq!(done.code, 0, "{done:?}");
    let out: Value = serde_json::from_str(&done.stdout).expect("the records, as JSON");
    assert_eq!(out[0]["total"], 30.0, "{out}");
    assert_eq!(out[0]["lines"][0]["sku"], "SKU00012", "{out}");

    // Every problem of the config, named by its path, before the plugin
    // is called.
    let bad = run(r#"{"sku_map": {"OLD-1": 7}, "decimals": 9, "colour": "red"}"#);
    assert_eq!(bad.code, 1, "{bad:?}");
    for part in [
        "--config does not fit order-normalise",
        "`config.sku_map.OLD-1` does not match `order-normalise`'s schema",
        "`config.decimals` does not match",
        "colour",
    ] {
        assert!(bad.stderr.contains(part), "lacks {part}: {}", bad.stderr);
    }

    // A record the transform refuses: its message, naming the record.
    let refused = run("{}");
    assert_eq!(refused.code, 1, "{refused:?}");
    assert!(
        refused
            .stderr
            .contains("record 0 (id \"A\") line 0: SKU 'SP-00012' has no mapping"),
        "{}",
        refused.stderr
    );
}
