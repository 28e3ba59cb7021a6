//! The `weft:plugin` contract versions this host speaks.
//!
//! A plugin is bound to the contract version it was built against. The host
//! reads that version from the component's import and export names *before*
//! compiling it (compiling an 18 MB Python component takes seconds, and an
//! incompatible one would fail later with a linker error nobody can act on).
//!
//! Each version the host supports has a frozen module, `since_v0_1_0` today,
//! with its own bindings and conversions into the version-neutral types of
//! [`crate::types`]. Adding 0.2 means adding `since_v0_2_0` beside it (with
//! a frozen copy of the 0.1 WIT moved under `since_v0_1_0/`) and a variant
//! to `PluginPre` in `plugin.rs`; 0.1 plugins keep working unchanged.

pub(crate) mod since_v0_1_0;

use std::fmt;

pub use semver::Version;
use wasmparser::{Encoding, Parser, Payload};

/// The package every plugin interface lives in.
pub const PACKAGE: &str = "weft:plugin";

/// The contract versions this host can run, newest first.
pub fn supported_versions() -> Vec<Version> {
    vec![since_v0_1_0::VERSION]
}

/// Which world a plugin implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PluginKind {
    /// Exports `connector-api`.
    Connector,
    /// Exports `transform-api`.
    Transform,
}

impl PluginKind {
    fn from_interface(name: &str) -> Option<Self> {
        match name {
            "connector-api" => Some(Self::Connector),
            "transform-api" => Some(Self::Transform),
            _ => None,
        }
    }

    /// `connector` or `transform`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Connector => "connector",
            Self::Transform => "transform",
        }
    }
}

impl fmt::Display for PluginKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a component says about its contract, read without compiling it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComponentContract {
    /// The world it implements.
    pub kind: PluginKind,
    /// The `weft:plugin` version it was built against.
    pub version: Version,
}

/// Why a file is not a plugin this host can run.
#[derive(Debug, thiserror::Error)]
pub enum ContractError {
    /// Not WebAssembly at all.
    #[error("not a WebAssembly file: {0}")]
    NotWasm(String),
    /// A core module, not a component.
    #[error(
        "this is a core WebAssembly module, not a component: build plugins for \
         wasm32-wasip2 (Rust), or with componentize-py / componentize-js"
    )]
    CoreModule,
    /// Exports neither world.
    #[error(
        "the component exports no weft plugin interface: expected \
         `{PACKAGE}/connector-api` or `{PACKAGE}/transform-api`{found}"
    )]
    NoPluginExport {
        /// What it does export, for the message.
        found: String,
    },
    /// Exports both, or two versions.
    #[error("the component exports more than one weft plugin interface: {0}")]
    Ambiguous(String),
    /// Built against a version this host cannot run.
    #[error(
        "the plugin was built against {PACKAGE}@{found}, but this weft runs \
         {PACKAGE}@{supported}; rebuild the plugin against a supported version \
         of the WIT contract, or upgrade weft"
    )]
    Incompatible {
        /// The plugin's version.
        found: Version,
        /// The versions this host runs.
        supported: String,
    },
    /// Mixes contract versions between imports and exports.
    #[error("the component mixes contract versions: exports {export}, imports {import}")]
    MixedVersions {
        /// Export version.
        export: Version,
        /// Import version.
        import: Version,
    },
    /// Malformed interface name.
    #[error("malformed weft interface name '{0}'")]
    BadName(String),
}

/// Reads which world and contract version a component was built against,
/// without compiling it, and checks the host can run it.
///
/// # Errors
/// [`ContractError`] naming what is wrong, with both versions when they
/// do not match.
pub fn read_contract(bytes: &[u8]) -> Result<ComponentContract, ContractError> {
    if !bytes.starts_with(b"\0asm") {
        let shown: String = String::from_utf8_lossy(&bytes[..bytes.len().min(8)])
            .chars()
            .map(|c| if c.is_control() { '.' } else { c })
            .collect();
        return Err(ContractError::NotWasm(format!(
            "it does not start with the WebAssembly magic bytes (it starts with \"{shown}\")"
        )));
    }
    let (exports, imports) = top_level_names(bytes)?;
    let mut found: Vec<(PluginKind, Version)> = Vec::new();
    for name in &exports {
        if let Some((interface, version)) = weft_interface(name)?
            && let Some(kind) = PluginKind::from_interface(interface)
        {
            found.push((kind, version));
        }
    }
    let (kind, version) = match found.as_slice() {
        [] => {
            let found = if exports.is_empty() {
                String::new()
            } else {
                format!("; it exports {}", exports.join(", "))
            };
            return Err(ContractError::NoPluginExport { found });
        }
        [one] => one.clone(),
        many => {
            let list: Vec<String> = many.iter().map(|(k, v)| format!("{k}@{v}")).collect();
            return Err(ContractError::Ambiguous(list.join(", ")));
        }
    };
    if !is_supported(&version) {
        return Err(ContractError::Incompatible {
            found: version,
            supported: supported_versions()
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", "),
        });
    }
    for name in &imports {
        if let Some((_, import)) = weft_interface(name)?
            && !compatible(&import, &version)
        {
            return Err(ContractError::MixedVersions {
                export: version,
                import,
            });
        }
    }
    Ok(ComponentContract { kind, version })
}

/// Semver for the contract: within 0.x a minor is a breaking change, so
/// 0.1.x plugins run on a 0.1 host; from 1.0 on, any 1.x runs on 1.y ≥ x.
fn compatible(a: &Version, b: &Version) -> bool {
    a.major == b.major && (a.major > 0 || a.minor == b.minor)
}

fn is_supported(version: &Version) -> bool {
    supported_versions()
        .iter()
        .any(|s| compatible(s, version) && (s.major == 0 || version.minor <= s.minor))
}

/// `weft:plugin/connector-api@0.1.0` → `("connector-api", 0.1.0)`; names
/// of other packages → `None`.
fn weft_interface(name: &str) -> Result<Option<(&str, Version)>, ContractError> {
    let Some(rest) = name.strip_prefix(PACKAGE).and_then(|r| r.strip_prefix('/')) else {
        return Ok(None);
    };
    let (interface, version) = rest
        .split_once('@')
        .ok_or_else(|| ContractError::BadName(name.to_owned()))?;
    let version = Version::parse(version).map_err(|_| ContractError::BadName(name.to_owned()))?;
    Ok(Some((interface, version)))
}

/// The import and export names of the outermost component.
fn top_level_names(bytes: &[u8]) -> Result<(Vec<String>, Vec<String>), ContractError> {
    let mut exports = Vec::new();
    let mut imports = Vec::new();
    // Nested modules and components report their own Version/End payloads;
    // only depth 1 is the plugin's own surface.
    let mut depth = 0usize;
    for payload in Parser::new(0).parse_all(bytes) {
        let payload = payload.map_err(|e| ContractError::NotWasm(e.to_string()))?;
        match payload {
            Payload::Version { encoding, .. } => {
                if depth == 0 && encoding == Encoding::Module {
                    return Err(ContractError::CoreModule);
                }
                depth += 1;
            }
            Payload::End(_) => depth = depth.saturating_sub(1),
            Payload::ComponentExportSection(reader) if depth == 1 => {
                for export in reader {
                    let export = export.map_err(|e| ContractError::NotWasm(e.to_string()))?;
                    exports.push(export.name.name.to_owned());
                }
            }
            Payload::ComponentImportSection(reader) if depth == 1 => {
                for import in reader {
                    let import = import.map_err(|e| ContractError::NotWasm(e.to_string()))?;
                    imports.push(import.name.name.to_owned());
                }
            }
            _ => {}
        }
    }
    Ok((exports, imports))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn component_exporting(names: &[&str]) -> Vec<u8> {
        let mut wat = String::from("(component (instance $i)");
        for n in names {
            wat.push_str(&format!(" (export \"{n}\" (instance $i))"));
        }
        wat.push(')');
        wat::parse_str(&wat).expect("test WAT is valid")
    }

    #[test]
    fn reads_kind_and_version() {
        let c = read_contract(&component_exporting(&["weft:plugin/connector-api@0.1.0"]))
            .expect("0.1.0 connector is supported");
        assert_eq!(c.kind, PluginKind::Connector);
        assert_eq!(c.version, Version::new(0, 1, 0));
        let t = read_contract(&component_exporting(&["weft:plugin/transform-api@0.1.2"]))
            .expect("a 0.1 patch release is compatible");
        assert_eq!(t.kind, PluginKind::Transform);
    }

    #[test]
    fn refuses_other_minor_naming_both_versions() {
        let err = read_contract(&component_exporting(&["weft:plugin/connector-api@0.9.0"]))
            .expect_err("0.9 is not 0.1");
        let msg = err.to_string();
        assert!(msg.contains("weft:plugin@0.9.0"), "{msg}");
        assert!(msg.contains("weft:plugin@0.1.0"), "{msg}");
    }

    #[test]
    fn refuses_core_modules_and_foreign_components() {
        let module = wat::parse_str("(module)").expect("valid");
        assert!(matches!(
            read_contract(&module),
            Err(ContractError::CoreModule)
        ));
        let other = component_exporting(&["wasi:cli/run@0.2.0"]);
        let err = read_contract(&other).expect_err("no weft export");
        assert!(err.to_string().contains("wasi:cli/run@0.2.0"), "{err}");
        assert!(matches!(
            read_contract(b"garbage"),
            Err(ContractError::NotWasm(_))
        ));
    }

    #[test]
    fn refuses_both_worlds_at_once() {
        let both = component_exporting(&[
            "weft:plugin/connector-api@0.1.0",
            "weft:plugin/transform-api@0.1.0",
        ]);
        assert!(matches!(
            read_contract(&both),
            Err(ContractError::Ambiguous(_))
        ));
    }
}
