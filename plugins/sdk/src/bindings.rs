//! Bindings generated from `wit/` by wit-bindgen, one module per world.
//!
//! Plugin code does not use these directly: the SDK's own types convert to
//! and from them, and the export macros wire a plugin's trait impl to them.

/// The `connector` world.
pub mod connector {
    wit_bindgen::generate!({
        path: "../../wit",
        world: "connector",
        pub_export_macro: true,
        export_macro_name: "export",
        default_bindings_module: "weft_plugin_sdk::bindings::connector",
    });
}

/// The `transform` world.
pub mod transform {
    wit_bindgen::generate!({
        path: "../../wit",
        world: "transform",
        pub_export_macro: true,
        export_macro_name: "export",
        default_bindings_module: "weft_plugin_sdk::bindings::transform",
        // One set of types for both worlds, so the SDK converts once.
        with: {
            "weft:plugin/types@0.1.0": crate::bindings::connector::weft::plugin::types,
            "weft:plugin/log@0.1.0": crate::bindings::connector::weft::plugin::log,
        },
    });
}
