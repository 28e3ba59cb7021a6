//! `http-json`: a connector for any JSON REST API, configured rather than
//! coded, like a declarative HTTP source.
//!
//! - `fetch` (source): GET or POST a path under the connection's
//!   `base_url`, pick the records with a JSON pointer, and page by page
//!   number, offset or cursor.
//! - `send` (target): POST/PUT/PATCH records, as one batch or one request
//!   per record, with an optional idempotency key taken from each record.
//!
//! The connection holds the base URL and an optional auth header (its value
//! is a secret).

mod fetch;
mod send;

use weft_plugin_sdk::prelude::*;

struct HttpJson;

/// The connection's settings.
#[derive(Debug, Deserialize)]
pub(crate) struct Settings {
    pub(crate) base_url: String,
    #[serde(default = "default_auth_header")]
    pub(crate) auth_header: String,
    #[serde(default)]
    pub(crate) auth_value: Option<String>,
    #[serde(default = "default_check_path")]
    pub(crate) check_path: String,
}

fn default_auth_header() -> String {
    "Authorization".to_owned()
}

fn default_check_path() -> String {
    "/".to_owned()
}

impl Settings {
    /// The base URL joined with a path (one slash between them).
    pub(crate) fn url(&self, path: &str) -> String {
        let base = self.base_url.trim_end_matches('/');
        let path = path.trim_start_matches('/');
        if path.is_empty() {
            format!("{base}/")
        } else {
            format!("{base}/{path}")
        }
    }

    /// A request with the connection's auth header, when it has one.
    pub(crate) fn request(&self, method: http::Method, url: String) -> Request {
        let request = Request::new(method, url).header("accept", "application/json");
        match &self.auth_value {
            Some(v) if !v.is_empty() => request.header(self.auth_header.clone(), v.clone()),
            _ => request,
        }
    }
}

impl Connector for HttpJson {
    fn describe() -> ConnectorInfo {
        ConnectorInfo::new("http-json", env!("CARGO_PKG_VERSION"), "JSON REST API")
            .description(
                "Reads pages from and writes records to any JSON REST API under the \
                 connection's base URL.",
            )
            .field(
                Field::url("base_url", "Base URL")
                    .description(
                        "Every request goes under this URL, e.g. https://api.example.com/v1",
                    )
                    .required(),
            )
            .field(
                Field::text("auth_header", "Auth header name")
                    .description("The header that carries the credential")
                    .default_value("Authorization"),
            )
            .field(
                Field::text("auth_value", "Auth header value")
                    .description("e.g. `Bearer <token>`")
                    .secret(),
            )
            .field(
                Field::text("check_path", "Check path")
                    .description("A cheap authenticated GET used by `weft connection check`")
                    .default_value("/"),
            )
            .egress(Egress::BaseUrl)
            .operation(
                Operation::source::<fetch::FetchParams>("fetch", "Fetch records")
                    .description("GET/POST a path and page through its records")
                    .key_pointer("/id"),
            )
            .operation(
                Operation::target::<send::SendParams>("send", "Send records")
                    .description("POST/PUT/PATCH records, in one batch or one by one")
                    .max_batch(500),
            )
    }

    fn check(ctx: &Context) -> Result<()> {
        let settings: Settings = ctx.config()?;
        settings
            .request(http::Method::Get, settings.url(&settings.check_path))
            .send()?
            .error_for_status()
            .map(drop)
            .map_err(|e| e.context("check"))
    }

    fn read(
        ctx: &Context,
        operation: &str,
        params: Params,
        cursor: Option<String>,
    ) -> Result<Page> {
        match operation {
            "fetch" => fetch::read(&ctx.config()?, &params.parse()?, cursor.as_deref()),
            other => Err(Error::fatal(format!(
                "'{other}' is not a source of http-json"
            ))),
        }
    }

    fn write(
        ctx: &Context,
        operation: &str,
        params: Params,
        records: Vec<Value>,
    ) -> Result<Vec<WriteOutcome>> {
        match operation {
            "send" => send::write(&ctx.config()?, &params.parse()?, records),
            other => Err(Error::fatal(format!(
                "'{other}' is not a target of http-json"
            ))),
        }
    }
}

export_connector!(HttpJson);
