//! A compiled plugin, ready to instantiate, and the sessions that call it.
//!
//! A session owns one fresh `Store` for one tenant's call batch. Nothing
//! survives a session: the next batch gets a new instance from the cached
//! `InstancePre`, which costs microseconds with the pooling allocator and
//! copy-on-write memory images.

use std::sync::Arc;
use std::time::Instant;

use ipnet::IpNet;
use serde_json::{Map, Value};
use tokio::sync::OwnedSemaphorePermit;
use wasmtime::Store;

use crate::RuntimeInner;
use crate::contract::ComponentContract;
use crate::contract::since_v0_1_0::{self as v0_1, connector, transform};
use crate::egress::{EgressPolicy, Redactor};
use crate::log::LogEntry;
use crate::sandbox::{CallError, EgressGrant, PluginState, Violation, explain_trap, on_epoch_tick};
use crate::types::{
    CallIdentity, ConnectorInfo, Page, PluginInfo, RawRecord, TransformInfo, WebhookReply,
    WebhookRequest, WriteOutcome, records_text,
};

/// The pre-instantiated form of a plugin, per contract version and world.
pub(crate) enum PluginPre {
    ConnectorV0_1(connector::ConnectorPre<PluginState>),
    TransformV0_1(transform::TransformPre<PluginState>),
}

/// A plugin compiled and checked, ready for sessions.
pub struct LoadedPlugin {
    pub(crate) sha256: String,
    pub(crate) contract: ComponentContract,
    pub(crate) info: PluginInfo,
    pub(crate) pre: PluginPre,
    pub(crate) runtime: Arc<RuntimeInner>,
}

impl std::fmt::Debug for LoadedPlugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedPlugin")
            .field("name", &self.info.name())
            .field("version", &self.info.version())
            .field("sha256", &self.sha256)
            .finish_non_exhaustive()
    }
}

/// A tenant's connection as a connector session sees it.
#[derive(Debug, Clone, Default)]
pub struct Connection {
    /// The connection's name.
    pub name: String,
    /// Its settings, secrets included, keyed by the connector's field names.
    pub config: Map<String, Value>,
    /// Blocked addresses the operator allowed for this connection.
    pub allowed_addresses: Vec<IpNet>,
    /// Waited on before every HTTP request: the connection's rate limit,
    /// shared by every session that uses the connection.
    pub rate_gate: Option<Arc<dyn RateGate>>,
}

/// The host's rate limit of one connection, applied to each HTTP request a
/// plugin makes through it. Waiting here is host time: it does not count
/// against the plugin's CPU deadline.
pub trait RateGate: Send + Sync + std::fmt::Debug {
    /// Resolves when the next request may go.
    fn wait(&self) -> std::pin::Pin<Box<dyn Future<Output = ()> + Send + '_>>;
}

impl LoadedPlugin {
    /// What the plugin said about itself when it was loaded.
    pub fn info(&self) -> &PluginInfo {
        &self.info
    }

    /// The connector's description, if it is a connector.
    pub fn connector_info(&self) -> Option<&ConnectorInfo> {
        match &self.info {
            PluginInfo::Connector(c) => Some(c),
            PluginInfo::Transform(_) => None,
        }
    }

    /// The transform's description, if it is a transform.
    pub fn transform_info(&self) -> Option<&TransformInfo> {
        match &self.info {
            PluginInfo::Transform(t) => Some(t),
            PluginInfo::Connector(_) => None,
        }
    }

    /// The contract version and world.
    pub fn contract(&self) -> &ComponentContract {
        &self.contract
    }

    /// The sha256 of the component's bytes.
    pub fn sha256(&self) -> &str {
        &self.sha256
    }

    fn name(&self) -> String {
        self.info.name().to_owned()
    }

    /// Opens a session of this connector for one tenant's connection.
    ///
    /// # Errors
    /// A sandbox error when this is not a connector or the instance cannot
    /// be created.
    pub async fn connector(
        &self,
        identity: CallIdentity,
        connection: Connection,
    ) -> Result<ConnectorSession, CallError> {
        let (PluginPre::ConnectorV0_1(pre), PluginInfo::Connector(info)) = (&self.pre, &self.info)
        else {
            return Err(self.misuse("is a transform, not a connector"));
        };
        let secrets = info
            .connection_fields
            .iter()
            .filter(|f| f.secret)
            .filter_map(|f| connection.config.get(&f.name))
            .map(|v| match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            });
        let base_url = connection
            .config
            .get("base_url")
            .and_then(Value::as_str)
            .and_then(|s| url::Url::parse(s).ok());
        let grant = EgressGrant {
            egress: Arc::clone(&self.runtime.egress),
            policy: EgressPolicy {
                rules: info.egress.clone(),
                base_url,
                allowed_addresses: connection.allowed_addresses.clone(),
            },
            redactor: Redactor::new(secrets),
            rate_gate: connection.rate_gate.clone(),
            tenant: identity.tenant.clone(),
            connection: connection.name.clone(),
        };
        let mut instance = Instance::open(&self.runtime, &self.name(), Some(grant)).await?;
        let outcome = tokio::time::timeout(
            self.runtime.limits.call_timeout,
            pre.instantiate_async(&mut instance.store),
        )
        .await;
        let bindings = instance
            .finish(outcome)
            .map_err(|e| instantiate_failure(&self.name(), e))?;
        let config = Value::Object(connection.config).to_string();
        Ok(ConnectorSession {
            context: v0_1::call_context(&identity, &connection.name, config),
            bindings,
            instance,
        })
    }

    /// Opens a session of this transform.
    ///
    /// # Errors
    /// A sandbox error when this is not a transform or the instance cannot
    /// be created.
    pub async fn transform(&self) -> Result<TransformSession, CallError> {
        let PluginPre::TransformV0_1(pre) = &self.pre else {
            return Err(self.misuse("is a connector, not a transform"));
        };
        let mut instance = Instance::open(&self.runtime, &self.name(), None).await?;
        let outcome = tokio::time::timeout(
            self.runtime.limits.call_timeout,
            pre.instantiate_async(&mut instance.store),
        )
        .await;
        let bindings = instance
            .finish(outcome)
            .map_err(|e| instantiate_failure(&self.name(), e))?;
        Ok(TransformSession { bindings, instance })
    }

    fn misuse(&self, what: &str) -> CallError {
        CallError::Sandbox {
            plugin: self.name(),
            violation: Violation::Instantiate(format!("plugin {what}")),
        }
    }
}

fn instantiate_failure(plugin: &str, e: CallError) -> CallError {
    match e {
        CallError::Sandbox {
            violation: Violation::Trap(m),
            ..
        } => CallError::Sandbox {
            plugin: plugin.to_owned(),
            violation: Violation::Instantiate(m),
        },
        other => other,
    }
}

/// One store and its bookkeeping, shared by both kinds of session.
struct Instance {
    store: Store<PluginState>,
    runtime: Arc<RuntimeInner>,
    plugin: String,
    unusable: Option<String>,
    /// The call under way (`read`, `write`, ...) and when it began: the
    /// latency metric's labels and value.
    call: (&'static str, Instant),
    _permit: OwnedSemaphorePermit,
}

type Timed<T> = Result<wasmtime::Result<T>, tokio::time::error::Elapsed>;

impl Instance {
    async fn open(
        runtime: &Arc<RuntimeInner>,
        plugin: &str,
        egress: Option<EgressGrant>,
    ) -> Result<Self, CallError> {
        // Bounded by the pool: wait for a slot rather than fail.
        let permit = Arc::clone(&runtime.instances)
            .acquire_owned()
            .await
            .map_err(|_| CallError::Sandbox {
                plugin: plugin.to_owned(),
                violation: Violation::Instantiate("the runtime is shutting down".into()),
            })?;
        let mut store = Store::new(&runtime.engine, PluginState::new(&runtime.limits, egress));
        store.limiter(|s| &mut s.memory);
        store.epoch_deadline_callback(on_epoch_tick);
        store.set_epoch_deadline(1);
        store.data_mut().clock.restart();
        Ok(Self {
            store,
            runtime: Arc::clone(runtime),
            plugin: plugin.to_owned(),
            unusable: None,
            call: ("instantiate", Instant::now()),
            _permit: permit,
        })
    }

    fn sandbox(&self, violation: Violation) -> CallError {
        CallError::Sandbox {
            plugin: self.plugin.clone(),
            violation,
        }
    }

    /// Prepares a call: refuses a poisoned instance or oversized input, and
    /// restarts the CPU clock and deadline.
    fn begin(&mut self, call: &'static str, input_bytes: usize) -> Result<(), CallError> {
        if let Some(reason) = &self.unusable {
            return Err(self.sandbox(Violation::Unusable(reason.clone())));
        }
        let limit = self.runtime.limits.max_input_bytes;
        if input_bytes > limit {
            return Err(self.sandbox(Violation::InputTooLarge {
                size: input_bytes,
                limit,
            }));
        }
        self.store.data_mut().clock.restart();
        self.store.set_epoch_deadline(1);
        self.call = (call, Instant::now());
        Ok(())
    }

    /// Turns the outcome of a call into the plugin's result or a sandbox
    /// error; a trap or timeout poisons the instance for the rest of the
    /// batch.
    fn finish<T>(&mut self, outcome: Timed<T>) -> Result<T, CallError> {
        let (call, began) = self.call;
        metrics::histogram!(
            "weft_plugin_call_seconds",
            "plugin" => self.plugin.clone(),
            "call" => call,
            "outcome" => match &outcome {
                Ok(Ok(_)) => "returned",
                Ok(Err(_)) => "trapped",
                Err(_) => "timed_out",
            }
        )
        .record(began.elapsed().as_secs_f64());
        let result = match outcome {
            Err(_) => {
                self.store.data_mut().collect_output();
                Err(Violation::WallTime(self.runtime.limits.call_timeout))
            }
            Ok(Err(trap)) => Err(explain_trap(
                self.store.data_mut(),
                &self.runtime.limits,
                &trap,
            )),
            Ok(Ok(value)) => {
                self.store.data_mut().collect_output();
                Ok(value)
            }
        };
        result.map_err(|violation| {
            self.unusable = Some(describe_short(&violation));
            let error = self.sandbox(violation);
            self.store
                .data_mut()
                .log
                .host_line(crate::log::Level::Error, &error.to_string());
            error
        })
    }

    fn check_output(&self, bytes: usize) -> Result<(), CallError> {
        let limit = self.runtime.limits.max_output_bytes;
        if bytes > limit {
            return Err(self.sandbox(Violation::OutputTooLarge { size: bytes, limit }));
        }
        Ok(())
    }

    fn records(&self, what: &str, text: &str) -> Result<Vec<Value>, CallError> {
        self.check_output(text.len())?;
        match serde_json::from_str::<Value>(text) {
            Ok(Value::Array(items)) => {
                if let Some(i) = items.iter().position(|r| !r.is_object()) {
                    return Err(self.sandbox(Violation::Contract(format!(
                        "{what}: record {i} is not a JSON object"
                    ))));
                }
                Ok(items)
            }
            Ok(_) => Err(self.sandbox(Violation::Contract(format!("{what} must be a JSON array")))),
            Err(e) => Err(self.sandbox(Violation::Contract(format!(
                "{what} is not valid JSON: {e}"
            )))),
        }
    }

    /// Checks that `text` is a JSON array of objects and splits it into
    /// records without building their trees.
    fn raw_records(&self, what: &str, text: &str) -> Result<Vec<RawRecord>, CallError> {
        self.check_output(text.len())?;
        match serde_json::from_str::<Vec<RawRecord>>(text) {
            Ok(items) => {
                // Raw values start at their first byte, so an object's text
                // starts with its brace.
                if let Some(i) = items.iter().position(|r| !r.get().starts_with('{')) {
                    return Err(self.sandbox(Violation::Contract(format!(
                        "{what}: record {i} is not a JSON object"
                    ))));
                }
                Ok(items)
            }
            Err(e) if e.is_data() => {
                Err(self.sandbox(Violation::Contract(format!("{what} must be a JSON array"))))
            }
            Err(e) => Err(self.sandbox(Violation::Contract(format!(
                "{what} is not valid JSON: {e}"
            )))),
        }
    }

    fn take_log(&mut self) -> Vec<LogEntry> {
        self.store.data_mut().log.take()
    }
}

fn describe_short(v: &Violation) -> String {
    match v {
        Violation::CpuTime(_) => "CPU time limit".into(),
        Violation::WallTime(_) => "call timeout".into(),
        Violation::Memory(_) => "memory limit".into(),
        Violation::StackOverflow => "stack overflow".into(),
        Violation::Panic(_) => "panic".into(),
        other => format!("{other:?}"),
    }
}

fn plugin_err<T>(
    r: Result<T, connector::weft::plugin::types::PluginError>,
) -> Result<T, CallError> {
    r.map_err(|e| CallError::Plugin(v0_1::plugin_error(e)))
}

/// One tenant's call batch with a connector.
pub struct ConnectorSession {
    instance: Instance,
    bindings: connector::Connector,
    context: connector::weft::plugin::types::CallContext,
}

impl std::fmt::Debug for ConnectorSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectorSession")
            .field("plugin", &self.instance.plugin)
            .field("tenant", &self.context.tenant)
            .field("connection", &self.context.connection)
            .finish_non_exhaustive()
    }
}

impl ConnectorSession {
    /// Tests the connection.
    ///
    /// # Errors
    /// The plugin's classified error or the sandbox's.
    pub async fn check(&mut self) -> Result<(), CallError> {
        self.instance.begin("check", self.context.config.len())?;
        let api = self.bindings.weft_plugin_connector_api();
        let outcome = tokio::time::timeout(
            self.instance.runtime.limits.call_timeout,
            api.call_check(&mut self.instance.store, &self.context),
        )
        .await;
        plugin_err(self.instance.finish(outcome)?)
    }

    /// Reads one page.
    ///
    /// # Errors
    /// The plugin's classified error or the sandbox's.
    pub async fn read(
        &mut self,
        operation: &str,
        params: &Value,
        cursor: Option<&str>,
    ) -> Result<Page, CallError> {
        let params = params.to_string();
        self.instance.begin(
            "read",
            params.len() + cursor.map_or(0, str::len) + self.context.config.len(),
        )?;
        let api = self.bindings.weft_plugin_connector_api();
        let outcome = tokio::time::timeout(
            self.instance.runtime.limits.call_timeout,
            api.call_read(
                &mut self.instance.store,
                &self.context,
                operation,
                &params,
                cursor,
            ),
        )
        .await;
        let (records, next, total) = v0_1::page(plugin_err(self.instance.finish(outcome)?)?);
        if let Some(next) = &next {
            self.instance.check_output(records.len() + next.len())?;
        }
        Ok(Page {
            records: self.instance.raw_records("the page's records", &records)?,
            next,
            total,
        })
    }

    /// Writes one batch; one outcome per record.
    ///
    /// # Errors
    /// The plugin's classified error for the whole batch, or the sandbox's.
    pub async fn write(
        &mut self,
        operation: &str,
        params: &Value,
        records: &[Value],
    ) -> Result<Vec<WriteOutcome>, CallError> {
        let records_json = serde_json::to_string(records).map_err(|e| {
            self.instance.sandbox(Violation::Contract(format!(
                "records cannot be encoded: {e}"
            )))
        })?;
        self.write_json(operation, params, &records_json, records.len())
            .await
    }

    /// Writes one batch given as JSON text: an array of `count` objects.
    /// Callers that already hold each record's JSON (to keep it in the
    /// ledger) join it instead of encoding the batch a second time.
    ///
    /// # Errors
    /// The plugin's classified error for the whole batch, or the sandbox's.
    #[allow(clippy::ptr_arg)] // the generated binding takes `&String`
    pub async fn write_json(
        &mut self,
        operation: &str,
        params: &Value,
        records_json: &String,
        count: usize,
    ) -> Result<Vec<WriteOutcome>, CallError> {
        let params = params.to_string();
        self.instance.begin(
            "write",
            params.len() + records_json.len() + self.context.config.len(),
        )?;
        let api = self.bindings.weft_plugin_connector_api();
        let outcome = tokio::time::timeout(
            self.instance.runtime.limits.call_timeout,
            api.call_write(
                &mut self.instance.store,
                &self.context,
                operation,
                &params,
                records_json,
            ),
        )
        .await;
        let outcomes = plugin_err(self.instance.finish(outcome)?)?;
        if outcomes.len() != count {
            return Err(self.instance.sandbox(Violation::Contract(format!(
                "write returned {} outcomes for {count} records",
                outcomes.len(),
            ))));
        }
        Ok(outcomes.into_iter().map(v0_1::write_outcome).collect())
    }

    /// Verifies and parses a pushed callback.
    ///
    /// # Errors
    /// The plugin's classified error or the sandbox's.
    pub async fn webhook(
        &mut self,
        operation: &str,
        request: WebhookRequest,
    ) -> Result<WebhookReply, CallError> {
        self.instance.begin(
            "webhook",
            request.body.len() + request.query.len() + self.context.config.len(),
        )?;
        let request = v0_1::webhook_request(request);
        let api = self.bindings.weft_plugin_connector_api();
        let outcome = tokio::time::timeout(
            self.instance.runtime.limits.call_timeout,
            api.call_webhook(&mut self.instance.store, &self.context, operation, &request),
        )
        .await;
        let (records, status, body, content_type) =
            v0_1::webhook_reply(plugin_err(self.instance.finish(outcome)?)?);
        self.instance.check_output(body.len())?;
        Ok(WebhookReply {
            records: self.instance.records("the callback's records", &records)?,
            status,
            body,
            content_type,
        })
    }

    /// The log of this session so far: plugin lines, stdout/stderr, host
    /// notes and HTTP exchanges. Taking it empties it.
    pub fn take_log(&mut self) -> Vec<LogEntry> {
        self.instance.take_log()
    }
}

/// A call batch with a transform.
pub struct TransformSession {
    instance: Instance,
    bindings: transform::Transform,
}

impl std::fmt::Debug for TransformSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TransformSession")
            .field("plugin", &self.instance.plugin)
            .finish_non_exhaustive()
    }
}

impl TransformSession {
    /// Transforms a batch of records.
    ///
    /// # Errors
    /// The plugin's classified error or the sandbox's.
    pub async fn transform(
        &mut self,
        config: &Value,
        records: &[RawRecord],
    ) -> Result<Vec<RawRecord>, CallError> {
        let config = config.to_string();
        let records_json = records_text(records);
        self.instance
            .begin("transform", config.len() + records_json.len())?;
        let api = self.bindings.weft_plugin_transform_api();
        let outcome = tokio::time::timeout(
            self.instance.runtime.limits.call_timeout,
            api.call_transform(&mut self.instance.store, &config, &records_json),
        )
        .await;
        let text = plugin_err(self.instance.finish(outcome)?)?;
        self.instance.raw_records("the transformed records", &text)
    }

    /// The log of this session so far.
    pub fn take_log(&mut self) -> Vec<LogEntry> {
        self.instance.take_log()
    }
}

/// Calls `describe` on a fresh instance with no network access.
pub(crate) async fn describe(
    runtime: &Arc<RuntimeInner>,
    name_hint: &str,
    pre: &PluginPre,
) -> Result<PluginInfo, CallError> {
    let probe = |violation| CallError::Sandbox {
        plugin: name_hint.to_owned(),
        violation,
    };
    let mut instance = Instance::open(runtime, name_hint, None).await?;
    let timeout = runtime.limits.call_timeout;
    match pre {
        PluginPre::ConnectorV0_1(pre) => {
            let outcome =
                tokio::time::timeout(timeout, pre.instantiate_async(&mut instance.store)).await;
            let bindings = instance
                .finish(outcome)
                .map_err(|e| instantiate_failure(name_hint, e))?;
            let outcome = tokio::time::timeout(
                timeout,
                bindings
                    .weft_plugin_connector_api()
                    .call_describe(&mut instance.store),
            )
            .await;
            let info = instance.finish(outcome)?;
            v0_1::connector_info(info)
                .map(PluginInfo::Connector)
                .map_err(|m| probe(Violation::Contract(format!("describe(): {m}"))))
        }
        PluginPre::TransformV0_1(pre) => {
            let outcome =
                tokio::time::timeout(timeout, pre.instantiate_async(&mut instance.store)).await;
            let bindings = instance
                .finish(outcome)
                .map_err(|e| instantiate_failure(name_hint, e))?;
            let outcome = tokio::time::timeout(
                timeout,
                bindings
                    .weft_plugin_transform_api()
                    .call_describe(&mut instance.store),
            )
            .await;
            let info = instance.finish(outcome)?;
            v0_1::transform_info(info)
                .map(PluginInfo::Transform)
                .map_err(|m| probe(Violation::Contract(format!("describe(): {m}"))))
        }
    }
}
