//! Outbound HTTP through the host: the only way a plugin reaches a network.
//!
//! ```ignore
//! let reply: Envelope = http::Request::post(&url)
//!     .form(&[("sid", sid), ("sign", sign)])
//!     .send()?
//!     .error_for_status()?
//!     .json()?;
//! ```
//!
//! Every status is a [`Response`]; [`Response::error_for_status`] classifies
//! the usual HTTP failures when the remote system has no envelope of its own.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{Error, Result};
use crate::wit::http as host;

/// An HTTP method.
pub use host::Method;

/// A request under construction.
#[derive(Debug, Clone)]
pub struct Request {
    method: Method,
    url: String,
    headers: Vec<(String, String)>,
    body: Option<Vec<u8>>,
    timeout_ms: Option<u32>,
}

impl Request {
    /// A request with any method.
    pub fn new(method: Method, url: impl Into<String>) -> Self {
        Self {
            method,
            url: url.into(),
            headers: Vec::new(),
            body: None,
            timeout_ms: None,
        }
    }

    /// A `GET` request.
    pub fn get(url: impl Into<String>) -> Self {
        Self::new(Method::Get, url)
    }

    /// A `POST` request.
    pub fn post(url: impl Into<String>) -> Self {
        Self::new(Method::Post, url)
    }

    /// Adds a header.
    #[must_use]
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sets a raw body.
    #[must_use]
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = Some(body.into());
        self
    }

    /// Sets a JSON body and its content type.
    ///
    /// # Errors
    /// `fatal` when the value cannot be serialised.
    pub fn json<T: Serialize + ?Sized>(self, body: &T) -> Result<Self> {
        Ok(self.json_text(serde_json::to_vec(body)?))
    }

    /// Sets a body already written as JSON, and its content type (for a
    /// connector that splices records' JSON into the body as it got them).
    #[must_use]
    pub fn json_text(self, body: impl Into<Vec<u8>>) -> Self {
        self.header("content-type", "application/json").body(body)
    }

    /// Sets an `application/x-www-form-urlencoded` body from pairs, in the
    /// order given.
    #[must_use]
    pub fn form<K: AsRef<str>, V: AsRef<str>>(self, pairs: &[(K, V)]) -> Self {
        let body = form_urlencoded(pairs);
        self.header(
            "content-type",
            "application/x-www-form-urlencoded; charset=utf-8",
        )
        .body(body)
    }

    /// Caps how long the exchange may take; the host caps it further.
    #[must_use]
    pub fn timeout_ms(mut self, ms: u32) -> Self {
        self.timeout_ms = Some(ms);
        self
    }

    /// The method.
    pub fn method(&self) -> Method {
        self.method
    }

    /// The URL, query included.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The headers, in the order they were added.
    pub fn headers(&self) -> &[(String, String)] {
        &self.headers
    }

    /// The first value of a header, by case-insensitive name.
    pub fn header_value(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body, if any. With the accessors above this lets a connector's
    /// native unit tests check the request it builds without sending it.
    pub fn body_bytes(&self) -> Option<&[u8]> {
        self.body.as_deref()
    }

    /// Sends the request through the host and waits for the response.
    ///
    /// # Errors
    /// The host's refusal or a network failure, classified: a refused
    /// egress or an oversized body is `fatal`, a connection failure or a
    /// timeout is `transient`.
    pub fn send(self) -> Result<Response> {
        let request = host::Request {
            method: self.method,
            url: self.url,
            headers: self.headers,
            body: self.body,
            timeout_ms: self.timeout_ms,
        };
        let url = request.url.clone();
        host::send(&request)
            .map(|r| Response {
                status: r.status,
                headers: r.headers,
                body: r.body,
            })
            .map_err(|e| Error::from(e).context(format_args!("{} {url}", method_name(self.method))))
    }
}

/// Something that sends requests: [`Host`] in a plugin, recorded replies
/// in a connector's native unit tests. Write a connector's call sequences
/// (log in, call, log in again) against this trait and they can be tested
/// without a host.
pub trait Transport {
    /// Sends one request and returns the response.
    ///
    /// # Errors
    /// As [`Request::send`].
    fn send(&mut self, request: Request) -> Result<Response>;
}

/// The host's `http.send`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Host;

impl Transport for Host {
    fn send(&mut self, request: Request) -> Result<Response> {
        request.send()
    }
}

fn method_name(m: Method) -> &'static str {
    match m {
        Method::Get => "GET",
        Method::Head => "HEAD",
        Method::Post => "POST",
        Method::Put => "PUT",
        Method::Patch => "PATCH",
        Method::Delete => "DELETE",
    }
}

impl From<host::HttpError> for Error {
    fn from(e: host::HttpError) -> Self {
        match e {
            host::HttpError::Denied(m) => Error::fatal(format!("egress denied: {m}")),
            host::HttpError::InvalidRequest(m) => Error::fatal(format!("invalid request: {m}")),
            host::HttpError::Connect(m) => Error::transient(format!("connection failed: {m}")),
            host::HttpError::Timeout(m) => Error::transient(format!("timed out: {m}")),
            host::HttpError::TooLarge(cap) => {
                Error::fatal(format!("body larger than the host's cap of {cap} bytes"))
            }
        }
    }
}

/// A response as received.
#[derive(Debug, Clone)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// Header names (lowercase) and values.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Response {
    /// The first value of a header, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every value of a header, by case-insensitive name, in order (e.g. the
    /// `set-cookie` lines of a login reply).
    pub fn header_values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Decodes the JSON body.
    ///
    /// # Errors
    /// `transient` when the body is not the JSON expected: a gateway that
    /// answers with an HTML error page is usually a passing fault, and the
    /// message carries the start of the body so the user can tell.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T> {
        serde_json::from_slice(&self.body).map_err(|e| {
            Error::transient(format!(
                "HTTP {}: response is not the JSON expected ({e}); body starts with: {}",
                self.status,
                snippet(&self.body)
            ))
        })
    }

    /// Passes a 2xx through and classifies everything else the way HTTP
    /// means it: 401/403 `auth`, 429 `rate-limited` (with `Retry-After`),
    /// 408 and 5xx `transient`, other 4xx `invalid`, anything else `fatal`.
    ///
    /// # Errors
    /// The classified error, with the status and the start of the body.
    pub fn error_for_status(self) -> Result<Self> {
        if (200..300).contains(&self.status) {
            return Ok(self);
        }
        Err(classify_status(
            self.status,
            self.header("retry-after"),
            &self.body,
        ))
    }
}

/// The class HTTP gives a non-2xx status. Connectors whose remote system
/// puts its errors in an envelope classify the envelope instead.
pub fn classify_status(status: u16, retry_after: Option<&str>, body: &[u8]) -> Error {
    let message = format!("HTTP {status}: {}", snippet(body));
    match status {
        401 | 403 => Error::auth(message),
        429 => Error::rate_limited(retry_after.and_then(parse_retry_after_ms), message),
        408 | 500..=599 => Error::transient(message),
        400..=499 => Error::invalid(message),
        _ => Error::fatal(message),
    }
}

/// `Retry-After` in delta-seconds (the HTTP-date form is rare in APIs and
/// is treated as "not given").
pub fn parse_retry_after_ms(value: &str) -> Option<u64> {
    value
        .trim()
        .parse::<u64>()
        .ok()
        .map(|s| s.saturating_mul(1000))
}

fn snippet(body: &[u8]) -> String {
    const MAX: usize = 300;
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    match text.char_indices().nth(MAX) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_owned(),
    }
}

/// Encodes pairs as `application/x-www-form-urlencoded`, in order.
pub fn form_urlencoded<K: AsRef<str>, V: AsRef<str>>(pairs: &[(K, V)]) -> String {
    let mut form = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        form.append_pair(k.as_ref(), v.as_ref());
    }
    form.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_encoding_keeps_order_and_escapes_utf8() {
        let body = form_urlencoded(&[("b", "x y"), ("a", "店&=")]);
        assert_eq!(body, "b=x+y&a=%E5%BA%97%26%3D");
    }

    #[test]
    fn statuses_are_classified() {
        assert_eq!(classify_status(401, None, b"no").class(), "auth");
        assert_eq!(
            classify_status(429, Some("3"), b""),
            Error::rate_limited(Some(3000), "HTTP 429: ")
        );
        assert_eq!(classify_status(503, None, b"").class(), "transient");
        assert_eq!(classify_status(422, None, b"bad").class(), "invalid");
    }
}
