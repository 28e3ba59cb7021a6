//! What the store remembers of an installed plugin.

use serde::{Deserialize, Serialize};
use weft_runtime::{PluginInfo, PluginKind};

/// `manifest.json` of an installed plugin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// The plugin's name (from `describe()`).
    pub name: String,
    /// Its version (from `describe()`).
    pub version: semver::Version,
    /// Connector or transform.
    pub kind: PluginKind,
    /// The `weft:plugin` version it was built against.
    pub contract: semver::Version,
    /// sha256 of `plugin.wasm`, lowercase hex.
    pub sha256: String,
    /// Size of `plugin.wasm` in bytes.
    pub size: u64,
    /// When it was installed (RFC 3339, UTC).
    pub installed_at: String,
    /// Everything `describe()` said.
    pub info: PluginInfo,
}

impl Manifest {
    /// `name@version`.
    pub fn id(&self) -> String {
        format!("{}@{}", self.name, self.version)
    }
}

impl Manifest {
    /// The connector description, when this is a connector.
    pub fn info_connector(&self) -> Option<&weft_runtime::ConnectorInfo> {
        match &self.info {
            PluginInfo::Connector(c) => Some(c),
            PluginInfo::Transform(_) => None,
        }
    }
}
