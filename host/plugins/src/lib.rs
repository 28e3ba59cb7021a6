//! # weft-plugins: the plugin store
//!
//! Users install plugin `.wasm` files into `$WEFT_HOME`; schemes load them
//! by name. The layout:
//!
//! ```text
//! $WEFT_HOME/plugins/<name>/<version>/plugin.wasm      the component, as installed
//! $WEFT_HOME/plugins/<name>/<version>/manifest.json    what install learned (sha256, describe(), ...)
//! $WEFT_HOME/cache/<engine-key>/<sha256>.cwasm         the precompiled artifact
//! $WEFT_HOME/cache/<engine-key>/<sha256>.cwasm.sha256  its checksum, verified before every load
//! ```
//!
//! Installing validates the component (a component, a known world, a
//! compatible contract version, a valid `describe()`), precompiles it and
//! writes everything through a temporary directory and a rename, so a
//! failed or interrupted install leaves the store as it was.

mod manifest;
mod spec;
mod store;

pub use manifest::Manifest;
pub use spec::PluginSpec;
pub use store::{InstallOutcome, PluginStore, StoreError};
