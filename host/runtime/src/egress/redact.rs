//! Keeping secrets out of logs.

/// Header names whose values are credentials whatever the connection says.
const SENSITIVE_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "app-token",
    "kdservice-sessionid",
    "x-api-key",
];

/// Query and form parameter names whose values are credentials.
const SENSITIVE_PARAMS: &[&str] = &[
    "access_token",
    "accesstoken",
    "token",
    "password",
    "appsecret",
    "app_secret",
    "client_secret",
    "secret",
    "refresh_token",
];

const MASK: &str = "***";

/// Replaces a connection's secret values (and their URL-encoded forms) with
/// `***` wherever they appear.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    needles: Vec<String>,
}

impl Redactor {
    /// A redactor for these secret values. Values shorter than 4 characters
    /// are not searched for: masking every "1" would destroy the log and
    /// protect nothing.
    pub fn new<I: IntoIterator<Item = String>>(secrets: I) -> Self {
        let mut needles = Vec::new();
        for s in secrets {
            if s.chars().count() < 4 {
                continue;
            }
            let encoded: String = url::form_urlencoded::byte_serialize(s.as_bytes()).collect();
            if encoded != s {
                needles.push(encoded);
            }
            needles.push(s);
        }
        // Longest first, so a secret containing another is masked whole.
        needles.sort_by_key(|n| std::cmp::Reverse(n.len()));
        needles.dedup();
        Self { needles }
    }

    /// The text with every known secret masked.
    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for n in &self.needles {
            if out.contains(n.as_str()) {
                out = out.replace(n.as_str(), MASK);
            }
        }
        out
    }

    /// A header value, masked entirely for credential headers.
    pub fn header(&self, name: &str, value: &str) -> String {
        if SENSITIVE_HEADERS
            .iter()
            .any(|h| h.eq_ignore_ascii_case(name))
        {
            MASK.to_owned()
        } else {
            self.redact(value)
        }
    }

    /// A URL or form body: credential parameters masked, then secrets.
    pub fn params(&self, text: &str) -> String {
        let (head, query) = match text.split_once('?') {
            Some((h, q)) => (Some(h), q),
            None if text.contains('=') && !text.contains("://") => (None, text),
            None => return self.redact(text),
        };
        let masked: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((k, _)) if SENSITIVE_PARAMS.iter().any(|p| p.eq_ignore_ascii_case(k)) => {
                    format!("{k}={MASK}")
                }
                _ => pair.to_owned(),
            })
            .collect();
        let joined = masked.join("&");
        self.redact(&match head {
            Some(h) => format!("{h}?{joined}"),
            None => joined,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_secrets_and_their_encoded_forms() {
        let r = Redactor::new(["s3cr3t+/=".to_owned(), "ab".to_owned()]);
        assert_eq!(r.redact("key=s3cr3t+/= ab"), "key=*** ab");
        assert_eq!(r.redact("key=s3cr3t%2B%2F%3D"), "key=***");
    }

    #[test]
    fn masks_credential_headers_and_params() {
        let r = Redactor::new(Vec::<String>::new());
        assert_eq!(r.header("Authorization", "Bearer x"), "***");
        assert_eq!(r.header("content-type", "text/plain"), "text/plain");
        assert_eq!(
            r.params("https://h/p?app_key=k&access_token=t&x=1"),
            "https://h/p?app_key=k&access_token=***&x=1"
        );
        assert_eq!(r.params("a=1&password=pw"), "a=1&password=***");
    }
}
