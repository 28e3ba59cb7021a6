//! The host side of the `http` import: a plugin's only way out.
//!
//! Every request is checked against the connection's [`EgressPolicy`]
//! (declared rules, then the resolved addresses), sent with reqwest without
//! following redirects, read up to a size cap, and recorded with the
//! connection's secrets redacted.

mod policy;
mod redact;
mod resolver;

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use url::Url;

pub use policy::{EgressPolicy, blocked_reason, host_matches};
pub use redact::Redactor;
use resolver::{AddressDenied, CheckedResolver};

use crate::limits::Limits;

/// An HTTP method a plugin may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// GET
    Get,
    /// HEAD
    Head,
    /// POST
    Post,
    /// PUT
    Put,
    /// PATCH
    Patch,
    /// DELETE
    Delete,
}

impl Method {
    fn as_reqwest(self) -> reqwest::Method {
        match self {
            Self::Get => reqwest::Method::GET,
            Self::Head => reqwest::Method::HEAD,
            Self::Post => reqwest::Method::POST,
            Self::Put => reqwest::Method::PUT,
            Self::Patch => reqwest::Method::PATCH,
            Self::Delete => reqwest::Method::DELETE,
        }
    }
}

/// A request from a plugin.
#[derive(Debug, Clone)]
pub struct OutboundRequest {
    /// Method.
    pub method: Method,
    /// Absolute URL.
    pub url: String,
    /// Headers in order.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Option<Vec<u8>>,
    /// The plugin's own timeout, capped by the host's.
    pub timeout_ms: Option<u32>,
}

/// A response handed back to a plugin.
#[derive(Debug, Clone)]
pub struct InboundResponse {
    /// Status.
    pub status: u16,
    /// Headers, lowercase names.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Vec<u8>,
}

/// Why a request got no response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HttpError {
    /// Refused by the sandbox.
    #[error("denied: {0}")]
    Denied(String),
    /// Malformed.
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// DNS or connection failure.
    #[error("connection failed: {0}")]
    Connect(String),
    /// No answer in time.
    #[error("timed out: {0}")]
    Timeout(String),
    /// Body over the cap.
    #[error("body larger than {0} bytes")]
    TooLarge(u64),
}

/// One exchange as recorded in the run log, secrets redacted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HttpExchange {
    /// Unix time in milliseconds when the request started.
    pub at_ms: u64,
    /// Method.
    pub method: String,
    /// URL (credential parameters masked).
    pub url: String,
    /// Request headers.
    pub request_headers: Vec<(String, String)>,
    /// Start of the request body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_body: Option<String>,
    /// Status, when a response came.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Start of the response body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_body: Option<String>,
    /// Response body size in bytes.
    pub response_bytes: u64,
    /// Why it failed, when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Whether the sandbox refused it.
    #[serde(default)]
    pub denied: bool,
    /// How long it took.
    pub duration_ms: u64,
}

/// The HTTP client shared by every plugin call of a runtime: one reqwest
/// client per set of allowed addresses (the resolver enforces the set, and
/// a client's resolver is fixed when it is built).
#[derive(Debug)]
pub struct Egress {
    limits: Limits,
    dns_overrides: Arc<HashMap<String, Vec<IpAddr>>>,
    clients: Mutex<HashMap<Vec<IpNet>, reqwest::Client>>,
}

/// How much of a body goes into the log.
const LOGGED_BODY_BYTES: usize = 4096;

impl Egress {
    /// A client with these limits. `dns_overrides` pins host names to
    /// addresses (like /etc/hosts, for this runtime only); the pinned
    /// addresses are still checked against the policy.
    pub fn new(limits: Limits, dns_overrides: HashMap<String, Vec<IpAddr>>) -> Self {
        // reqwest is built without a default crypto provider; installing one
        // twice is harmless (the second attempt reports the first).
        let _ = rustls::crypto::ring::default_provider().install_default();
        Self {
            limits,
            dns_overrides: Arc::new(dns_overrides),
            clients: Mutex::new(HashMap::new()),
        }
    }

    fn client(&self, allowed: &[IpNet]) -> Result<reqwest::Client, HttpError> {
        let mut clients = self
            .clients
            .lock()
            .map_err(|_| HttpError::Connect("HTTP client cache poisoned".into()))?;
        if let Some(c) = clients.get(allowed) {
            return Ok(c.clone());
        }
        let policy = EgressPolicy {
            allowed_addresses: allowed.to_vec(),
            ..EgressPolicy::default()
        };
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .connect_timeout(self.limits.http_connect_timeout)
            .pool_idle_timeout(Duration::from_secs(30))
            .dns_resolver(Arc::new(CheckedResolver::new(
                policy,
                Arc::clone(&self.dns_overrides),
            )))
            .build()
            .map_err(|e| HttpError::Connect(format!("cannot build the HTTP client: {e}")))?;
        clients.insert(allowed.to_vec(), client.clone());
        Ok(client)
    }

    /// Sends one request under `policy`, returning the outcome and its
    /// redacted record.
    pub async fn send(
        &self,
        policy: &EgressPolicy,
        redactor: &Redactor,
        request: OutboundRequest,
    ) -> (Result<InboundResponse, HttpError>, HttpExchange) {
        let started = Instant::now();
        let mut exchange = HttpExchange {
            at_ms: crate::log::now_ms(),
            method: format!("{:?}", request.method).to_uppercase(),
            url: redactor.params(&request.url),
            request_headers: request
                .headers
                .iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), redactor.header(k, v)))
                .collect(),
            request_body: request
                .body
                .as_deref()
                .map(|b| redactor.params(&snippet(b))),
            status: None,
            response_body: None,
            response_bytes: 0,
            error: None,
            denied: false,
            duration_ms: 0,
        };
        let result = self.exchange(policy, request).await;
        match &result {
            Ok(r) => {
                exchange.status = Some(r.status);
                exchange.response_bytes = r.body.len() as u64;
                exchange.response_body = Some(redactor.redact(&snippet(&r.body)));
            }
            Err(e) => {
                exchange.denied = matches!(e, HttpError::Denied(_));
                exchange.error = Some(redactor.redact(&e.to_string()));
            }
        }
        exchange.duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        tracing::debug!(
            method = %exchange.method,
            url = %exchange.url,
            status = ?exchange.status,
            error = ?exchange.error,
            duration_ms = exchange.duration_ms,
            "plugin http exchange"
        );
        (result, exchange)
    }

    async fn exchange(
        &self,
        policy: &EgressPolicy,
        request: OutboundRequest,
    ) -> Result<InboundResponse, HttpError> {
        let url = Url::parse(&request.url)
            .map_err(|e| HttpError::InvalidRequest(format!("bad URL '{}': {e}", request.url)))?;
        policy.check_url(&url).map_err(HttpError::Denied)?;
        // reqwest never asks the resolver about an IP literal, so those are
        // checked here.
        match url.host() {
            Some(url::Host::Ipv4(ip)) => policy.check_address(IpAddr::V4(ip)),
            Some(url::Host::Ipv6(ip)) => policy.check_address(IpAddr::V6(ip)),
            _ => Ok(()),
        }
        .map_err(HttpError::Denied)?;
        let max_request = self.limits.max_http_request_bytes;
        if let Some(body) = &request.body
            && body.len() as u64 > max_request
        {
            return Err(HttpError::TooLarge(max_request));
        }
        let timeout = request
            .timeout_ms
            .map(|ms| Duration::from_millis(u64::from(ms)))
            .map_or(self.limits.http_timeout, |t| {
                t.min(self.limits.http_timeout)
            });
        let client = self.client(&policy.allowed_addresses)?;
        let mut builder = client
            .request(request.method.as_reqwest(), url)
            .timeout(timeout);
        for (name, value) in &request.headers {
            let name = reqwest::header::HeaderName::from_bytes(name.as_bytes())
                .map_err(|e| HttpError::InvalidRequest(format!("header name '{name}': {e}")))?;
            let value = reqwest::header::HeaderValue::from_str(value)
                .map_err(|e| HttpError::InvalidRequest(format!("header '{name}' value: {e}")))?;
            builder = builder.header(name, value);
        }
        if let Some(body) = request.body {
            builder = builder.body(body);
        }
        let mut response = builder.send().await.map_err(|e| classify(&e, timeout))?;
        let max_response = self.limits.max_http_response_bytes;
        if response.content_length().is_some_and(|n| n > max_response) {
            return Err(HttpError::TooLarge(max_response));
        }
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        // Sized from the declared length (checked against the limit above):
        // a page of records is hundreds of KB, and growing the buffer chunk
        // by chunk copied it over and over into freshly faulted memory.
        let declared = response
            .content_length()
            .and_then(|n| usize::try_from(n).ok())
            .unwrap_or(0);
        let mut body = Vec::with_capacity(declared);
        while let Some(chunk) = response.chunk().await.map_err(|e| classify(&e, timeout))? {
            if (body.len() + chunk.len()) as u64 > max_response {
                return Err(HttpError::TooLarge(max_response));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(InboundResponse {
            status,
            headers,
            body,
        })
    }
}

fn classify(e: &reqwest::Error, timeout: Duration) -> HttpError {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        if let Some(denied) = s.downcast_ref::<AddressDenied>() {
            return HttpError::Denied(denied.to_string());
        }
        source = s.source();
    }
    if e.is_timeout() {
        return HttpError::Timeout(format!(
            "no complete answer within {} ms",
            timeout.as_millis()
        ));
    }
    if e.is_builder() {
        return HttpError::InvalidRequest(error_chain(e));
    }
    HttpError::Connect(error_chain(e))
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let part = s.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = s.source();
    }
    text
}

fn snippet(body: &[u8]) -> String {
    let end = body.len().min(LOGGED_BODY_BYTES);
    let text = String::from_utf8_lossy(&body[..end]);
    if body.len() > end {
        format!("{text}… ({} bytes)", body.len())
    } else {
        text.into_owned()
    }
}
