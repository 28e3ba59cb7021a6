//! The official Kingdee Python SDK (`kingdee-cdp-webapi-sdk`, unmodified)
//! saves and queries against the K3Cloud simulator. Needs the venv that
//! `just setup` creates: `$WEFT_PY_VENV`, else `<repo>/.venv`.

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;
use weft_sim::System;

use crate::common::start;

const SETUP: &str = "run `just setup` (python3 -m venv .venv && .venv/bin/pip install -r tests/sim/python/requirements.txt)";

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn venv_python() -> PathBuf {
    let venv = std::env::var_os("WEFT_PY_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join(".venv"));
    let python = venv.join("bin").join("python");
    assert!(
        python.exists(),
        "no Python venv at {}: {SETUP}",
        venv.display()
    );
    let probe = Command::new(&python)
        .args(["-c", "import k3cloud_webapi_sdk.main"])
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}; {SETUP}", python.display()));
    assert!(
        probe.status.success(),
        "the venv at {} lacks kingdee-cdp-webapi-sdk ({}): {SETUP}",
        venv.display(),
        String::from_utf8_lossy(&probe.stderr).trim()
    );
    python
}

#[test]
fn official_python_sdk_saves_and_queries() {
    let python = venv_python();
    let sim = start();
    let c = sim.handle.config().credentials.k3cloud.clone();
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("python/k3cloud_sdk_check.py");
    let output = Command::new(&python)
        .arg(&script)
        .args([
            &sim.handle.k3cloud_url(),
            &c.acct_id,
            &c.username,
            &c.app_id,
            &c.app_secret,
            "PY-CG-0001",
        ])
        .output()
        .expect("the SDK script runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "SDK script failed: {}\n{stdout}",
        String::from_utf8_lossy(&output.stderr)
    );
    let result: Value = serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("script output is not JSON ({e}): {stdout}"));

    let save = &result["save"]["Result"];
    assert_eq!(save["ResponseStatus"]["IsSuccess"], true, "{result}");
    assert_eq!(save["Number"], "PY-CG-0001");
    assert_eq!(save["NeedReturnData"][0]["FBillNo"], "PY-CG-0001");

    let batch = &result["batch_save"]["Result"]["ResponseStatus"];
    assert_eq!(
        batch["SuccessEntitys"][0]["Number"], "PY-CG-0001-B1",
        "{result}"
    );
    assert_eq!(batch["Errors"][0]["DIndex"], 1);
    assert_eq!(batch["MsgCode"], 9);

    let rows = result["query"].as_array().expect("query rows");
    assert_eq!(rows.len(), 1, "{result}");
    assert_eq!(rows[0][0], save["Id"]);
    assert_eq!(rows[0][1], "PY-CG-0001");
    assert_eq!(rows[0][2], "C");
    assert_eq!(result["material"][0][0], "SKU00001", "{result}");

    let log = sim.handle.received(System::K3cloud, "PUR_PurchaseOrder");
    assert_eq!(log.counts["PY-CG-0001"].accepted, 1);
    assert_eq!(
        log.entries[0]
            .body
            .as_ref()
            .map(|b| b["FEntryNote"].is_null()),
        Some(true)
    );
}
