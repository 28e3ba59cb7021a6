//! The contract version is read before compiling, and a plugin built
//! against another version is refused with both versions named.

use crate::support::{load, runtime};

#[tokio::test]
async fn an_incompatible_contract_is_refused_before_compiling() {
    let rt = runtime();
    let wasm = wat::parse_str(
        r#"(component (instance $i) (export "weft:plugin/connector-api@0.9.0" (instance $i)))"#,
    )
    .expect("valid WAT");
    let err = rt.load_wasm(&wasm).await.expect_err("0.9 is not 0.1");
    let message = err.to_string();
    assert!(message.contains("weft:plugin@0.9.0"), "{message}");
    assert!(message.contains("weft:plugin@0.1.0"), "{message}");
    let err = rt.precompile(&wasm).expect_err("refused before compiling");
    assert!(err.to_string().contains("0.9.0"), "{err}");
}

#[tokio::test]
async fn a_real_plugin_reports_its_contract_and_description() {
    let rt = runtime();
    let plugin = load(&rt, "http-json").await;
    assert_eq!(plugin.contract().version, semver_010());
    let info = plugin.connector_info().expect("a connector");
    assert_eq!(info.name, "http-json");
    let fetch = info.operation("fetch").expect("fetch exists");
    assert_eq!(fetch.params_schema["type"], "object");
    assert!(
        info.connection_fields
            .iter()
            .any(|f| f.name == "auth_value" && f.secret)
    );
}

fn semver_010() -> weft_runtime::contract::Version {
    weft_runtime::contract::Version::new(0, 1, 0)
}
