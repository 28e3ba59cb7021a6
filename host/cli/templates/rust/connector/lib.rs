//! __NAME__: a weft connector.
//!
//! It reads orders from a plain JSON storefront API (`GET /shop/v1/orders`
//! with a bearer token, paged by page number), the API weft's simulators
//! serve for plugin authors. Replace the request building and the reply
//! parsing with your system's; keep the shape: describe, check, read.

use weft_plugin_sdk::prelude::*;

struct Plugin;

/// The connection's settings, named as `describe()` declares them.
#[derive(Debug, Deserialize)]
struct Settings {
    base_url: String,
    token: String,
}

/// The params a scheme passes to `orders`.
#[derive(Debug, Deserialize, JsonSchema)]
struct OrdersParams {
    /// Orders updated at or after this time (yyyy-MM-dd HH:mm:ss).
    #[serde(default)]
    updated_from: Option<String>,
    /// Orders updated at or before this time (yyyy-MM-dd HH:mm:ss).
    #[serde(default)]
    updated_to: Option<String>,
    /// Orders per page (1..=100, default 50).
    #[serde(default)]
    page_size: Option<u32>,
}

/// One page of the storefront's reply.
#[derive(Debug, Deserialize)]
struct OrdersReply {
    orders: Vec<Value>,
    total: u64,
}

/// Query values percent-encoded: everything but unreserved characters.
fn percent_encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

impl Settings {
    fn get(&self, path: &str, query: &[(&str, String)]) -> Result<Response> {
        let query: Vec<String> = query
            .iter()
            .map(|(k, v)| format!("{k}={}", percent_encode(v)))
            .collect();
        let url = format!(
            "{}{path}?{}",
            self.base_url.trim_end_matches('/'),
            query.join("&")
        );
        // 401/403 become `auth`, 429 `rate-limited`, 5xx `transient`.
        Request::get(url)
            .header("accept", "application/json")
            .header("authorization", format!("Bearer {}", self.token))
            .send()?
            .error_for_status()
    }
}

impl Connector for Plugin {
    fn describe() -> ConnectorInfo {
        ConnectorInfo::new("__NAME__", env!("CARGO_PKG_VERSION"), "__TITLE__")
            .description("Orders of a plain JSON storefront API.")
            .field(Field::url("base_url", "Base URL").required())
            .field(Field::text("token", "API token").required().secret())
            .egress(Egress::BaseUrl)
            .operation(
                Operation::source::<OrdersParams>("orders", "Orders")
                    .description("Orders by update time, with their lines.")
                    .key_pointer("/id")
                    .window(31 * 86_400, "updated_from", "updated_to"),
            )
    }

    fn check(ctx: &Context) -> Result<()> {
        let settings: Settings = ctx.config()?;
        settings.get("/shop/v1/orders", &[("per_page", "1".into())])?;
        Ok(())
    }

    fn read(
        ctx: &Context,
        operation: &str,
        params: Params,
        cursor: Option<String>,
    ) -> Result<Page> {
        if operation != "orders" {
            return Err(Error::fatal(format!("unknown operation '{operation}'")));
        }
        let settings: Settings = ctx.config()?;
        let p: OrdersParams = params.parse()?;
        let page: u64 = decode_cursor(cursor.as_deref())?.unwrap_or(1);
        let per_page = u64::from(p.page_size.unwrap_or(50).clamp(1, 100));
        let mut query = vec![
            ("page", page.to_string()),
            ("per_page", per_page.to_string()),
        ];
        if let Some(from) = p.updated_from {
            query.push(("updated_from", from));
        }
        if let Some(to) = p.updated_to {
            query.push(("updated_to", to));
        }
        let reply: OrdersReply = settings.get("/shop/v1/orders", &query)?.json()?;
        log::debug("read a page", &[("page", &page.to_string())]);
        let more = page * per_page < reply.total;
        let out = Page::from_values(reply.orders).total(reply.total);
        if more { out.next(&(page + 1)) } else { Ok(out) }
    }
}

export_connector!(Plugin);

#[cfg(test)]
mod simulator;
#[cfg(test)]
mod simulator_test;
