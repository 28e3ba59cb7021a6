//! `weft:plugin@0.1.0`: bindings and conversions into [`crate::types`].
//!
//! Frozen once 0.2 exists: this module must keep compiling against the 0.1
//! WIT so that every 0.1 plugin keeps running.

use semver::Version;
use wasmtime::component::HasSelf;

use crate::sandbox::PluginState;
use crate::types;

/// The version these bindings speak.
pub const VERSION: Version = Version::new(0, 1, 0);

/// Bindings of the `connector` world.
pub mod connector {
    wasmtime::component::bindgen!({
        path: "../../wit",
        world: "connector",
        imports: {
            "weft:plugin/http.send": async | trappable,
            default: trappable,
        },
        exports: { default: async },
    });
}

/// Bindings of the `transform` world; shares the connector's types.
pub mod transform {
    wasmtime::component::bindgen!({
        path: "../../wit",
        world: "transform",
        imports: { default: trappable },
        exports: { default: async },
        with: {
            "weft:plugin/types": super::connector::weft::plugin::types,
            "weft:plugin/log": super::connector::weft::plugin::log,
        },
    });
}

use connector::weft::plugin::{http as wit_http, log as wit_log, types as wit};

/// Adds the 0.1 host imports a connector may use to `linker`.
pub(crate) fn add_connector_imports(
    linker: &mut wasmtime::component::Linker<PluginState>,
) -> wasmtime::Result<()> {
    connector::Connector::add_to_linker::<PluginState, HasSelf<PluginState>>(linker, |s| s)
}

/// Adds the 0.1 host imports a transform may use to `linker`: no `http`.
pub(crate) fn add_transform_imports(
    linker: &mut wasmtime::component::Linker<PluginState>,
) -> wasmtime::Result<()> {
    transform::Transform::add_to_linker::<PluginState, HasSelf<PluginState>>(linker, |s| s)
}

impl wit::Host for PluginState {}

impl wit_log::Host for PluginState {
    fn emit(
        &mut self,
        level: wit_log::Level,
        message: String,
        fields: Vec<(String, String)>,
    ) -> wasmtime::Result<()> {
        let level = match level {
            wit_log::Level::Trace => crate::log::Level::Trace,
            wit_log::Level::Debug => crate::log::Level::Debug,
            wit_log::Level::Info => crate::log::Level::Info,
            wit_log::Level::Warn => crate::log::Level::Warn,
            wit_log::Level::Error => crate::log::Level::Error,
        };
        self.log.plugin_line(level, message, fields);
        Ok(())
    }
}

impl wit_http::Host for PluginState {
    async fn send(
        &mut self,
        request: wit_http::Request,
    ) -> wasmtime::Result<Result<wit_http::Response, wit_http::HttpError>> {
        let method = match request.method {
            wit_http::Method::Get => crate::egress::Method::Get,
            wit_http::Method::Head => crate::egress::Method::Head,
            wit_http::Method::Post => crate::egress::Method::Post,
            wit_http::Method::Put => crate::egress::Method::Put,
            wit_http::Method::Patch => crate::egress::Method::Patch,
            wit_http::Method::Delete => crate::egress::Method::Delete,
        };
        let outcome = self
            .send_http(crate::egress::OutboundRequest {
                method,
                url: request.url,
                headers: request.headers,
                body: request.body,
                timeout_ms: request.timeout_ms,
            })
            .await;
        Ok(match outcome {
            Ok(r) => Ok(wit_http::Response {
                status: r.status,
                headers: r.headers,
                body: r.body,
            }),
            Err(e) => Err(match e {
                crate::egress::HttpError::Denied(m) => wit_http::HttpError::Denied(m),
                crate::egress::HttpError::InvalidRequest(m) => {
                    wit_http::HttpError::InvalidRequest(m)
                }
                crate::egress::HttpError::Connect(m) => wit_http::HttpError::Connect(m),
                crate::egress::HttpError::Timeout(m) => wit_http::HttpError::Timeout(m),
                crate::egress::HttpError::TooLarge(n) => wit_http::HttpError::TooLarge(n),
            }),
        })
    }
}

/// A value from the plugin that breaks the contract (e.g. a params schema
/// that is not JSON).
pub(crate) type Violation = String;

fn json(field: &str, text: &str) -> Result<serde_json::Value, Violation> {
    serde_json::from_str(text).map_err(|e| format!("{field} is not valid JSON: {e}"))
}

pub(crate) fn call_context(
    identity: &types::CallIdentity,
    connection: &str,
    config: String,
) -> wit::CallContext {
    wit::CallContext {
        tenant: identity.tenant.clone(),
        scheme: identity.scheme.clone(),
        run_id: identity.run_id.clone(),
        connection: connection.to_owned(),
        config,
    }
}

pub(crate) fn plugin_error(e: wit::PluginError) -> types::PluginError {
    use types::ErrorClass as C;
    match e {
        wit::PluginError::Transient(m) => types::PluginError::new(C::Transient, m),
        wit::PluginError::RateLimited(r) => types::PluginError {
            class: C::RateLimited,
            message: r.message,
            retry_after: r.retry_after_ms.map(std::time::Duration::from_millis),
        },
        wit::PluginError::Auth(m) => types::PluginError::new(C::Auth, m),
        wit::PluginError::Invalid(m) => types::PluginError::new(C::Invalid, m),
        wit::PluginError::Fatal(m) => types::PluginError::new(C::Fatal, m),
    }
}

pub(crate) fn connector_info(i: wit::ConnectorInfo) -> Result<types::ConnectorInfo, Violation> {
    let mut operations = Vec::with_capacity(i.operations.len());
    for o in i.operations {
        operations.push(types::OperationInfo {
            params_schema: json(
                &format!("params schema of operation '{}'", o.id),
                &o.params_schema,
            )?,
            id: o.id,
            title: o.title,
            description: o.description,
            direction: match o.direction {
                wit::Direction::Source => types::Direction::Source,
                wit::Direction::Target => types::Direction::Target,
                wit::Direction::Webhook => types::Direction::Webhook,
            },
            key_pointer: o.key_pointer,
            max_window_secs: o.max_window_secs,
            window_params: o.window_params,
            max_batch: o.max_batch,
        });
    }
    Ok(types::ConnectorInfo {
        name: i.name,
        version: i.version,
        title: i.title,
        description: i.description,
        connection_fields: i
            .connection_fields
            .into_iter()
            .map(|f| types::ConnectionField {
                name: f.name,
                title: f.title,
                description: f.description,
                kind: match f.kind {
                    wit::FieldKind::Text => types::FieldKind::Text,
                    wit::FieldKind::Url => types::FieldKind::Url,
                    wit::FieldKind::Integer => types::FieldKind::Integer,
                    wit::FieldKind::Boolean => types::FieldKind::Boolean,
                },
                required: f.required,
                secret: f.secret,
                default_value: f.default_value,
            })
            .collect(),
        egress: i
            .egress
            .into_iter()
            .map(|r| match r {
                wit::EgressRule::Host(p) => types::EgressRule::Host(p),
                wit::EgressRule::BaseUrl => types::EgressRule::BaseUrl,
            })
            .collect(),
        operations,
    })
}

pub(crate) fn transform_info(i: wit::TransformInfo) -> Result<types::TransformInfo, Violation> {
    Ok(types::TransformInfo {
        config_schema: json("config schema", &i.config_schema)?,
        name: i.name,
        version: i.version,
        title: i.title,
        description: i.description,
    })
}

pub(crate) fn page(p: wit::Page) -> (String, Option<String>, Option<u64>) {
    (p.records, p.next, p.total)
}

pub(crate) fn write_outcome(o: wit::WriteOutcome) -> types::WriteOutcome {
    match o {
        wit::WriteOutcome::Written(w) => types::WriteOutcome::Written {
            id: w.id,
            number: w.number,
            existed: w.existed,
        },
        wit::WriteOutcome::Failed(e) => types::WriteOutcome::Failed(plugin_error(e)),
    }
}

pub(crate) fn webhook_request(r: types::WebhookRequest) -> wit::WebhookRequest {
    wit::WebhookRequest {
        path: r.path,
        query: r.query,
        headers: r.headers,
        body: r.body,
    }
}

pub(crate) fn webhook_reply(r: wit::WebhookReply) -> (String, u16, String, String) {
    (r.records, r.status, r.body, r.content_type)
}
