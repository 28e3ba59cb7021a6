//! A tenant's connections as the CLI and the API add and test them: the
//! settings checked against the connector's fields before anything is
//! stored, and a check that makes the connector's own authenticated call.

use weft_plugins::PluginSpec;
use weft_runtime::{CallIdentity, Connection as Link, ConnectorInfo, ConnectorSession, LogEntry};
use weft_store::{Connection, ConnectionInput};

use crate::{Engine, EngineError, db};

/// What a connection check found.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CheckReport {
    /// The connector.
    pub plugin: String,
    /// Whether the connector's check call succeeded.
    pub ok: bool,
    /// Why not, when it did not.
    pub error: Option<String>,
    /// The HTTP exchanges of the check: `METHOD url -> status (ms)`.
    pub exchanges: Vec<String>,
}

impl Engine {
    /// Checks `input` against the fields of connector `plugin` and stores
    /// it as `tenant`'s connection `name` (over an existing one with
    /// `replace`).
    ///
    /// # Errors
    /// [`EngineError::Invalid`] for a transform or settings that do not
    /// fit (every problem named); unknown plugin or tenant; an existing
    /// connection without `replace`.
    pub async fn add_connection(
        &self,
        tenant: &str,
        name: &str,
        plugin: &PluginSpec,
        input: ConnectionInput,
        replace: bool,
    ) -> Result<Connection, EngineError> {
        let manifest = self.plugins.find(plugin)?;
        let Some(info) = manifest.info_connector() else {
            return Err(EngineError::Invalid(format!(
                "{} is a transform, not a connector",
                manifest.id()
            )));
        };
        let new = input.validate(tenant, name, info).map_err(|e| {
            EngineError::Invalid(format!("connection '{name}' for {}: {e}", manifest.id()))
        })?;
        db(&self.store, move |s| s.add_connection(new, replace)).await
    }

    /// A session of the connector behind `tenant`'s connection `name`,
    /// once `accept` has looked at the connector's description.
    ///
    /// # Errors
    /// Unknown connection or plugin, a plugin that is not a connector,
    /// what `accept` refuses, a session that cannot start.
    pub async fn connection_session(
        &self,
        tenant: &str,
        name: &str,
        accept: impl FnOnce(&ConnectorInfo, &str) -> Result<(), String>,
    ) -> Result<(String, ConnectorSession), EngineError> {
        let (t, n) = (tenant.to_owned(), name.to_owned());
        let connection = db(&self.store, move |s| s.connection(&t, &n)).await?;
        let spec = PluginSpec {
            name: connection.plugin.clone(),
            version: None,
        };
        let plugin = self.plugins.load(&spec).await?;
        let Some(info) = plugin.connector_info() else {
            return Err(EngineError::Invalid(format!(
                "{} is not a connector",
                connection.plugin
            )));
        };
        accept(info, &connection.plugin).map_err(EngineError::Invalid)?;
        let (t, n, i) = (tenant.to_owned(), name.to_owned(), info.clone());
        let (config, allowed_addresses) =
            db(&self.store, move |s| s.connection_config(&t, &n, &i)).await?;
        // The check shares the connection's rate limit with its runs.
        let limit = connection
            .rate_limit
            .as_deref()
            .and_then(|r| r.parse().ok());
        let gate: std::sync::Arc<dyn weft_runtime::RateGate> = self.gates.gate(tenant, name, limit);
        let session = plugin
            .connector(
                CallIdentity {
                    tenant: tenant.to_owned(),
                    ..CallIdentity::default()
                },
                Link {
                    name: name.to_owned(),
                    config,
                    allowed_addresses,
                    rate_gate: Some(gate),
                },
            )
            .await
            .map_err(|e| EngineError::Call(e.to_string()))?;
        Ok((connection.plugin, session))
    }

    /// Tests `tenant`'s connection `name`: the connector makes one
    /// authenticated call. A failed call is a report, not an error.
    ///
    /// # Errors
    /// Those of [`Engine::connection_session`].
    pub async fn check_connection(
        &self,
        tenant: &str,
        name: &str,
    ) -> Result<CheckReport, EngineError> {
        let (plugin, mut session) = self.connection_session(tenant, name, |_, _| Ok(())).await?;
        let outcome = session.check().await;
        let exchanges = session
            .take_log()
            .into_iter()
            .filter_map(|entry| match entry {
                LogEntry::Http(x) => Some(format!(
                    "{} {} -> {} ({} ms)",
                    x.method,
                    x.url,
                    x.status.map_or_else(|| "-".to_owned(), |s| s.to_string()),
                    x.duration_ms
                )),
                LogEntry::Line(_) => None,
            })
            .collect();
        Ok(CheckReport {
            plugin,
            ok: outcome.is_ok(),
            error: outcome.err().map(|e| e.to_string()),
            exchanges,
        })
    }
}
