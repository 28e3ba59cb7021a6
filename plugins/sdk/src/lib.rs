//! # weft plugin SDK for Rust
//!
//! A weft plugin is a WebAssembly component built for `wasm32-wasip2`
//! against the `weft:plugin` WIT contract. This crate hides the bindings:
//! implement [`Connector`] (or [`Transform`]) on a type and export it with
//! [`export_connector!`] (or [`export_transform!`]).
//!
//! ```ignore
//! use weft_plugin_sdk::prelude::*;
//!
//! struct Echo;
//!
//! impl Connector for Echo {
//!     fn describe() -> ConnectorInfo {
//!         ConnectorInfo::new("echo", env!("CARGO_PKG_VERSION"), "Echo")
//!             .operation(Operation::source::<serde_json::Value>("items", "Items"))
//!     }
//!     fn check(_ctx: &Context) -> Result<()> { Ok(()) }
//!     fn read(_ctx: &Context, _op: &str, params: Params, _cursor: Option<String>) -> Result<Page> {
//!         Ok(Page::from_values(vec![params.as_value().clone()]))
//!     }
//! }
//!
//! export_connector!(Echo);
//! ```
//!
//! Build with `cargo build --release --target wasm32-wasip2`; the `.wasm` in
//! `target/wasm32-wasip2/release/` is the component to `weft plugin install`.
//!
//! ## What the sandbox allows
//! Network access only through [`http`], to the hosts the plugin declared;
//! no filesystem, environment or sockets; clocks and random numbers work
//! through the standard library. Each call gets a fresh instance, a memory
//! cap and a CPU deadline. Anything printed to stdout/stderr, a panic
//! message included, lands in the run's log.

pub mod bindings;
mod context;
mod error;
pub mod http;
mod info;
pub mod log;
mod outcomes;

pub use context::{
    Context, Page, Params, RawRecords, WebhookReply, WebhookRequest, WriteOutcome, decode_cursor,
};
pub use error::{Error, Result};
pub use info::{ConnectorInfo, Egress, Field, Operation, TransformInfo};
pub use outcomes::Outcomes;
pub use schemars;
pub use serde_json;

/// The generated types, for the export macros and the SDK itself.
#[doc(hidden)]
pub mod wit {
    pub use crate::bindings::connector::weft::plugin::types::*;
    pub use crate::bindings::connector::weft::plugin::{http, log};
}

/// Everything a plugin usually needs.
pub mod prelude {
    pub use crate::http::{self, Host, Request, Response, Transport};
    pub use crate::log;
    pub use crate::{
        Connector, ConnectorInfo, Context, Egress, Error, Field, Operation, Outcomes, Page, Params,
        RawRecords, Result, Transform, TransformInfo, WebhookReply, WebhookRequest, WriteOutcome,
        decode_cursor, export_connector, export_transform,
    };
    pub use schemars::JsonSchema;
    pub use serde::{Deserialize, Serialize};
    pub use serde_json::{Value, json};
}

use serde_json::Value;

/// A connector: talks to one remote system.
///
/// Each function maps to the export of the same name in
/// `wit/connector.wit`; its doc comments there are the reference.
pub trait Connector {
    /// Name, version, connection fields, egress rules and operations.
    fn describe() -> ConnectorInfo;

    /// Tests a connection with one cheap authenticated call.
    ///
    /// # Errors
    /// `auth` naming the wrong credential, `transient` when unreachable.
    fn check(ctx: &Context) -> Result<()>;

    /// Reads one page of a source operation. `cursor` is `None` for the
    /// first page, else the previous page's `next`.
    ///
    /// # Errors
    /// Classified: see [`Error`].
    fn read(ctx: &Context, operation: &str, params: Params, cursor: Option<String>)
    -> Result<Page>;

    /// Writes one batch with a target operation; one outcome per record, in
    /// order. Write idempotently on the business key.
    ///
    /// # Errors
    /// An error for the whole batch; per-record errors go in the outcomes.
    fn write(
        ctx: &Context,
        operation: &str,
        params: Params,
        records: Vec<Value>,
    ) -> Result<Vec<WriteOutcome>> {
        let _ = (ctx, params, records);
        Err(Error::fatal(format!(
            "operation '{operation}' is not a target of this connector"
        )))
    }

    /// Writes one batch from the records' JSON text. The default parses
    /// them and calls [`Connector::write`]; override it to forward records
    /// without parsing them.
    ///
    /// # Errors
    /// As [`Connector::write`].
    fn write_raw(
        ctx: &Context,
        operation: &str,
        params: Params,
        records: &RawRecords,
    ) -> Result<Vec<WriteOutcome>> {
        Self::write(ctx, operation, params, records.parse()?)
    }

    /// Verifies and parses a pushed callback.
    ///
    /// # Errors
    /// `auth` for a bad signature, `invalid` for a malformed payload.
    fn webhook(ctx: &Context, operation: &str, request: WebhookRequest) -> Result<WebhookReply> {
        let _ = (ctx, request);
        Err(Error::fatal(format!(
            "operation '{operation}' is not a webhook of this connector"
        )))
    }
}

/// A transform: pure record processing, no network.
pub trait Transform {
    /// Name, version and config schema.
    fn describe() -> TransformInfo;

    /// Transforms a batch of records.
    ///
    /// # Errors
    /// `invalid` naming the record and field that cannot be transformed.
    fn transform(config: Params, records: Vec<Value>) -> Result<Vec<Value>>;
}

/// The glue between the generated export traits and [`Connector`] /
/// [`Transform`]; used by the export macros.
#[doc(hidden)]
pub mod glue {
    use super::{Connector, Context, Params, RawRecords, Transform, WebhookRequest, wit};
    use crate::error::{Error, Result};
    use serde_json::Value;

    type WitResult<T> = std::result::Result<T, wit::PluginError>;

    fn records_from_json(text: &str) -> Result<Vec<Value>> {
        serde_json::from_str(text).map_err(|e| Error::fatal(format!("records: {e}")))
    }

    pub fn describe<C: Connector>() -> wit::ConnectorInfo {
        C::describe().into_wit()
    }

    pub fn check<C: Connector>(ctx: wit::CallContext) -> WitResult<()> {
        let run = || C::check(&Context::from_wit(ctx)?);
        run().map_err(Into::into)
    }

    pub fn read<C: Connector>(
        ctx: wit::CallContext,
        operation: String,
        params: String,
        cursor: Option<String>,
    ) -> WitResult<wit::Page> {
        let run = || {
            let ctx = Context::from_wit(ctx)?;
            let params = Params::from_json(&params)?;
            C::read(&ctx, &operation, params, cursor)?.into_wit()
        };
        run().map_err(Into::into)
    }

    pub fn write<C: Connector>(
        ctx: wit::CallContext,
        operation: String,
        params: String,
        records: String,
    ) -> WitResult<Vec<wit::WriteOutcome>> {
        let run = || -> Result<Vec<wit::WriteOutcome>> {
            let ctx = Context::from_wit(ctx)?;
            let params = Params::from_json(&params)?;
            // The host checks that one outcome comes back per record.
            let outcomes = C::write_raw(&ctx, &operation, params, &RawRecords(records))?;
            Ok(outcomes.into_iter().map(|o| o.into_wit()).collect())
        };
        run().map_err(Into::into)
    }

    pub fn webhook<C: Connector>(
        ctx: wit::CallContext,
        operation: String,
        request: wit::WebhookRequest,
    ) -> WitResult<wit::WebhookReply> {
        let run = || {
            let ctx = Context::from_wit(ctx)?;
            let request = WebhookRequest {
                path: request.path,
                query: request.query,
                headers: request.headers,
                body: request.body,
            };
            C::webhook(&ctx, &operation, request)?.into_wit()
        };
        run().map_err(Into::into)
    }

    pub fn transform_describe<T: Transform>() -> wit::TransformInfo {
        T::describe().into_wit()
    }

    pub fn transform<T: Transform>(config: String, records: String) -> WitResult<String> {
        let run = || -> Result<String> {
            let config = Params::from_json(&config)?;
            let records = records_from_json(&records)?;
            let out = T::transform(config, records)?;
            Ok(serde_json::to_string(&out)?)
        };
        run().map_err(Into::into)
    }
}

/// Exports a [`Connector`] implementation as the component's
/// `weft:plugin/connector-api` interface. Use once per plugin crate, at the
/// crate root.
#[macro_export]
macro_rules! export_connector {
    ($connector:ty) => {
        #[doc(hidden)]
        pub struct __WeftConnectorExport;

        impl $crate::bindings::connector::exports::weft::plugin::connector_api::Guest
            for __WeftConnectorExport
        {
            fn describe() -> $crate::wit::ConnectorInfo {
                $crate::glue::describe::<$connector>()
            }
            fn check(ctx: $crate::wit::CallContext) -> ::core::result::Result<(), $crate::wit::PluginError> {
                $crate::glue::check::<$connector>(ctx)
            }
            fn read(
                ctx: $crate::wit::CallContext,
                operation: ::std::string::String,
                params: ::std::string::String,
                cursor: ::core::option::Option<::std::string::String>,
            ) -> ::core::result::Result<$crate::wit::Page, $crate::wit::PluginError> {
                $crate::glue::read::<$connector>(ctx, operation, params, cursor)
            }
            fn write(
                ctx: $crate::wit::CallContext,
                operation: ::std::string::String,
                params: ::std::string::String,
                records: ::std::string::String,
            ) -> ::core::result::Result<::std::vec::Vec<$crate::wit::WriteOutcome>, $crate::wit::PluginError> {
                $crate::glue::write::<$connector>(ctx, operation, params, records)
            }
            fn webhook(
                ctx: $crate::wit::CallContext,
                operation: ::std::string::String,
                request: $crate::wit::WebhookRequest,
            ) -> ::core::result::Result<$crate::wit::WebhookReply, $crate::wit::PluginError> {
                $crate::glue::webhook::<$connector>(ctx, operation, request)
            }
        }

        $crate::bindings::connector::export!(__WeftConnectorExport with_types_in $crate::bindings::connector);
    };
}

/// Exports a [`Transform`] implementation as the component's
/// `weft:plugin/transform-api` interface.
#[macro_export]
macro_rules! export_transform {
    ($transform:ty) => {
        #[doc(hidden)]
        pub struct __WeftTransformExport;

        impl $crate::bindings::transform::exports::weft::plugin::transform_api::Guest
            for __WeftTransformExport
        {
            fn describe() -> $crate::wit::TransformInfo {
                $crate::glue::transform_describe::<$transform>()
            }
            fn transform(
                config: ::std::string::String,
                records: ::std::string::String,
            ) -> ::core::result::Result<::std::string::String, $crate::wit::PluginError> {
                $crate::glue::transform::<$transform>(config, records)
            }
        }

        $crate::bindings::transform::export!(__WeftTransformExport with_types_in $crate::bindings::transform);
    };
}
