//! weft's end-to-end tests, one binary (it links once: on a 2-core machine
//! that matters), a module per topic. Plugins are built beforehand by
//! `just build-plugins`; the tests find them in
//! `plugins/target/wasm32-wasip2/release/` (or `$WEFT_PLUGIN_DIR`), and the
//! Python and JavaScript examples, built by `just build-examples`, in
//! `plugins/target/examples/` (or `$WEFT_EXAMPLE_DIR`).

mod support;

mod cli_connections;
mod cli_plugins;
mod connectors;
mod contract;
mod e2e;
mod examples;
mod http_json;
mod sandbox;
mod scaffold;
mod serve;
