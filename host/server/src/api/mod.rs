//! `/api/v1`: tenants, connections, plugins, schemes, runs, records.
//!
//! Every route takes a bearer token ([`Caller`]); a tenant's token sees
//! its own tenant only. Bodies are JSON objects whose unknown fields are
//! refused, so a typo is an error, not a silently ignored setting.

mod connections;
mod plugins;
mod records;
mod runs;
mod schemes;
mod tenants;

use axum::extract::{DefaultBodyLimit, FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::request::Parts;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::auth::Caller;
use crate::error::ApiError;
use crate::state::AppState;

/// A JSON body, refused with our error shape (415 without a JSON content
/// type, 400 for broken JSON, 422 for the wrong fields, 413 when too big).
#[derive(Debug)]
pub(crate) struct Body<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let Json(value) = Json::<T>::from_request(req, state).await?;
        Ok(Self(value))
    }
}

/// Path parameters, refused with our error shape (400 naming the
/// parameter that does not fit).
#[derive(Debug)]
pub(crate) struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Path(value) = Path::<T>::from_request_parts(parts, state).await?;
        Ok(Self(value))
    }
}

/// Query parameters, refused with our error shape (400 naming the
/// parameter, unknown ones included).
#[derive(Debug)]
pub(crate) struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Query(value) = Query::<T>::from_request_parts(parts, state).await?;
        Ok(Self(value))
    }
}

/// Checks that `caller` may act for `tenant` and that it exists. For a
/// tenant's token, another tenant is "not found", exactly like a tenant
/// that does not exist.
pub(crate) async fn tenant_scope(
    state: &AppState,
    caller: &Caller,
    tenant: &str,
) -> Result<(), ApiError> {
    if !caller.may_act_for(tenant) {
        return Err(ApiError::not_found(format!("tenant '{tenant}' not found")));
    }
    let t = tenant.to_owned();
    state.blocking(move |s| s.tenant(&t)).await.map(drop)
}

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "The admin token given to `weft serve`, or a tenant token \
                         (`weft tenant token create`, `POST /api/v1/tenants/{tenant}/tokens`).",
                    ))
                    .build(),
            ),
        );
    }
}

/// The OpenAPI document, generated from the handlers' annotations.
#[derive(OpenApi)]
#[openapi(
    info(title = "weft", description = "weft serve: the multi-tenant integration host's API"),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    paths(
        tenants::list, tenants::create, tenants::get_one,
        tenants::tokens, tenants::issue_token, tenants::revoke_token,
        connections::list, connections::create, connections::get_one,
        connections::remove, connections::check,
        plugins::list, plugins::inspect, plugins::install,
        schemes::list, schemes::apply, schemes::get_one, schemes::remove,
        schemes::run_now, schemes::preview,
        runs::list, runs::get_one, runs::logs,
        records::list, records::get_one, records::retry_one, records::retry_many,
        crate::hooks::hook,
        crate::metrics::scrape,
        crate::health,
    ),
    components(schemas(crate::error::ErrorBody)),
    tags(
        (name = "tenants"), (name = "connections"), (name = "plugins"), (name = "schemes"),
        (name = "runs"), (name = "records"), (name = "webhooks"), (name = "service"),
    )
)]
#[derive(Debug)]
pub struct ApiDoc;

async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

/// The `/api/v1` routes.
pub(crate) fn routes(plugin_limit: usize) -> Router<AppState> {
    let t = "/tenants/{tenant}";
    Router::new()
        .route("/openapi.json", get(openapi))
        .route("/tenants", get(tenants::list).post(tenants::create))
        .route(t, get(tenants::get_one))
        .route(
            &format!("{t}/tokens"),
            get(tenants::tokens).post(tenants::issue_token),
        )
        .route(
            &format!("{t}/tokens/{{id}}"),
            axum::routing::delete(tenants::revoke_token),
        )
        .route(
            &format!("{t}/connections"),
            get(connections::list).post(connections::create),
        )
        .route(
            &format!("{t}/connections/{{name}}"),
            get(connections::get_one).delete(connections::remove),
        )
        .route(
            &format!("{t}/connections/{{name}}/check"),
            post(connections::check),
        )
        .route(
            "/plugins",
            get(plugins::list)
                .post(plugins::install)
                .layer(DefaultBodyLimit::max(plugin_limit)),
        )
        .route("/plugins/{name}", get(plugins::inspect))
        .route(
            &format!("{t}/schemes"),
            get(schemes::list).post(schemes::apply),
        )
        .route(
            &format!("{t}/schemes/{{name}}"),
            get(schemes::get_one).delete(schemes::remove),
        )
        .route(&format!("{t}/schemes/{{name}}/run"), post(schemes::run_now))
        .route(
            &format!("{t}/schemes/{{name}}/preview"),
            post(schemes::preview),
        )
        .route(&format!("{t}/runs"), get(runs::list))
        .route(&format!("{t}/runs/{{id}}"), get(runs::get_one))
        .route(&format!("{t}/runs/{{id}}/logs"), get(runs::logs))
        .route(&format!("{t}/records"), get(records::list))
        .route(&format!("{t}/records/retry"), post(records::retry_many))
        .route(&format!("{t}/records/{{id}}"), get(records::get_one))
        .route(
            &format!("{t}/records/{{id}}/retry"),
            post(records::retry_one),
        )
}
