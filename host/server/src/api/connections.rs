//! A tenant's connections. Secret values go in and never come out: a
//! connection shows which secrets are set, not what they are.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use weft_plugins::PluginSpec;
use weft_store::{Connection, ConnectionInput};

use super::{Body, tenant_scope};
use crate::api::ApiPath;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::state::AppState;

/// A connection to add.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewConnection {
    /// Its name: lowercase letters, digits, `-` and `_`.
    pub name: String,
    /// The connector plugin, `name` or `name@version`.
    pub plugin: String,
    /// Settings, field → value as text (checked against the connector's
    /// fields).
    #[serde(default)]
    pub settings: BTreeMap<String, String>,
    /// Secrets, field → value: encrypted at rest, never returned.
    #[serde(default)]
    pub secrets: BTreeMap<String, String>,
    /// Internal addresses or networks this connection may reach (admin
    /// only: a tenant must not point weft at the host's own network).
    #[serde(default)]
    pub allow_addresses: Vec<String>,
    /// Requests per period shared by every scheme using it: `20/s`,
    /// `600/m`, `10000/h`.
    #[serde(default)]
    pub rate_limit: Option<String>,
    /// Replace a connection of the same name.
    #[serde(default)]
    pub replace: bool,
}

/// A tenant's connections.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/connections", tag = "connections",
    params(("tenant" = String, Path)),
    responses((status = 200, body = Vec<Connection>), (status = 404, body = crate::error::ErrorBody)))]
pub(crate) async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(tenant): ApiPath<String>,
) -> Result<Json<Vec<Connection>>, ApiError> {
    tenant_scope(&state, &caller, &tenant).await?;
    Ok(Json(state.blocking(move |s| s.connections(&tenant)).await?))
}

/// Adds (or with `replace`, replaces) a connection.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/connections", tag = "connections",
    params(("tenant" = String, Path)), request_body = NewConnection,
    responses((status = 201, body = Connection), (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub(crate) async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(tenant): ApiPath<String>,
    Body(new): Body<NewConnection>,
) -> Result<(StatusCode, Json<Connection>), ApiError> {
    tenant_scope(&state, &caller, &tenant).await?;
    if !new.allow_addresses.is_empty() {
        caller.admin().map_err(|_| {
            ApiError::forbidden(
                "allow_addresses opens internal networks to a connection: only the admin may set it",
            )
        })?;
    }
    let plugin: PluginSpec = new.plugin.parse().map_err(ApiError::invalid)?;
    let mut problems = Vec::new();
    let allowed_addresses = new
        .allow_addresses
        .iter()
        .filter_map(|a| match parse_address(a) {
            Ok(net) => Some(net),
            Err(p) => {
                problems.push(p);
                None
            }
        })
        .collect();
    let rate_limit = match new.rate_limit.as_deref().map(str::parse) {
        Some(Ok(r)) => Some(r),
        Some(Err(p)) => {
            problems.push(format!("rate_limit: {p}"));
            None
        }
        None => None,
    };
    if !problems.is_empty() {
        return Err(ApiError::invalid(problems.join("; ")));
    }
    let input = ConnectionInput {
        settings: new.settings.into_iter().collect(),
        secrets: new.secrets.into_iter().collect(),
        allowed_addresses,
        rate_limit,
    };
    let connection = state
        .engine
        .add_connection(&tenant, &new.name, &plugin, input, new.replace)
        .await?;
    Ok((StatusCode::CREATED, Json(connection)))
}

fn parse_address(text: &str) -> Result<ipnet::IpNet, String> {
    text.parse::<ipnet::IpNet>()
        .or_else(|_| text.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .map_err(|_| format!("allow_addresses: '{text}' is not an IP address or network"))
}

/// One connection.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/connections/{name}", tag = "connections",
    params(("tenant" = String, Path), ("name" = String, Path)),
    responses((status = 200, body = Connection), (status = 404, body = crate::error::ErrorBody)))]
pub(crate) async fn get_one(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((tenant, name)): ApiPath<(String, String)>,
) -> Result<Json<Connection>, ApiError> {
    tenant_scope(&state, &caller, &tenant).await?;
    Ok(Json(
        state
            .blocking(move |s| s.connection(&tenant, &name))
            .await?,
    ))
}

/// Removes a connection.
#[utoipa::path(delete, path = "/api/v1/tenants/{tenant}/connections/{name}", tag = "connections",
    params(("tenant" = String, Path), ("name" = String, Path)),
    responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
pub(crate) async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((tenant, name)): ApiPath<(String, String)>,
) -> Result<StatusCode, ApiError> {
    tenant_scope(&state, &caller, &tenant).await?;
    state
        .blocking(move |s| s.remove_connection(&tenant, &name))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Tests a connection: the connector makes one authenticated call. A
/// failed check is a 200 answer with `ok: false` and the connector's
/// reason.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/connections/{name}/check", tag = "connections",
    params(("tenant" = String, Path), ("name" = String, Path)),
    responses((status = 200, description = "{plugin, ok, error, exchanges}", body = Object),
        (status = 404, body = crate::error::ErrorBody)))]
pub(crate) async fn check(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((tenant, name)): ApiPath<(String, String)>,
) -> Result<Json<weft_engine::CheckReport>, ApiError> {
    tenant_scope(&state, &caller, &tenant).await?;
    Ok(Json(state.engine.check_connection(&tenant, &name).await?))
}
