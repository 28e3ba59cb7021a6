//! Authenticating a webhook callback against the scheme's `auth` and a
//! secret the host holds: an HMAC-SHA256 signature of the body (optionally
//! with a signed timestamp), or a bearer token.

use std::fmt;

use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use weft_scheme::{SignatureEncoding, WebhookAuth};

/// Where webhook secrets come from. A scheme names a secret
/// (`secret: opencallback`); the host resolves the name for the tenant
/// the callback is addressed to, so the value never sits in a scheme file.
pub trait HookSecrets: Send + Sync + fmt::Debug {
    /// The value of secret `name` for `tenant`, if one is set.
    fn secret(&self, tenant: &str, name: &str) -> Option<String>;

    /// Where an operator sets secret `name` for `tenant`: named in the
    /// error when it is missing.
    fn describe(&self, tenant: &str, name: &str) -> String;
}

/// Webhook secrets from the environment of the weft process:
/// `WEFT_HOOK_SECRET_<TENANT>__<NAME>` for one tenant, else
/// `WEFT_HOOK_SECRET_<NAME>` for every tenant. Names are upper-cased and
/// `-` becomes `_` (`acme-01`, `opencallback` →
/// `WEFT_HOOK_SECRET_ACME_01__OPENCALLBACK`).
#[derive(Debug, Clone, Copy, Default)]
pub struct EnvHookSecrets;

impl EnvHookSecrets {
    /// The tenant's variable and the shared one, in lookup order.
    pub fn variables(tenant: &str, name: &str) -> [String; 2] {
        let upper = |s: &str| s.to_ascii_uppercase().replace('-', "_");
        [
            format!("WEFT_HOOK_SECRET_{}__{}", upper(tenant), upper(name)),
            format!("WEFT_HOOK_SECRET_{}", upper(name)),
        ]
    }
}

impl HookSecrets for EnvHookSecrets {
    fn secret(&self, tenant: &str, name: &str) -> Option<String> {
        Self::variables(tenant, name)
            .iter()
            .find_map(|v| std::env::var(v).ok().filter(|s| !s.is_empty()))
    }

    fn describe(&self, tenant: &str, name: &str) -> String {
        let [own, shared] = Self::variables(tenant, name);
        format!("set {own} (or {shared} for every tenant) in the environment of weft")
    }
}

/// The first value of header `name`, matched case-insensitively.
pub(crate) fn header<'h>(headers: &[(&str, &'h str)], name: &str) -> Option<&'h str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| *v)
}

/// Checks a callback. `Err` says why it is refused, without revealing the
/// expected signature or token.
pub(crate) fn verify(
    auth: &WebhookAuth,
    secret: &[u8],
    body: &[u8],
    headers: &[(&str, &str)],
    now_secs: i64,
) -> Result<(), String> {
    match auth {
        WebhookAuth::HmacSha256 {
            header: name,
            encoding,
            timestamp,
            ..
        } => {
            let given = header(headers, name)
                .ok_or_else(|| format!("the signature header {name} is missing"))?;
            let signature = decode(given, *encoding).ok_or_else(|| {
                format!(
                    "the signature in {name} is not {}",
                    encoding_name(*encoding)
                )
            })?;
            let mut mac = Hmac::<Sha256>::new_from_slice(secret)
                .map_err(|e| format!("the secret cannot key an HMAC: {e}"))?;
            if let Some(ts) = timestamp {
                let text = header(headers, &ts.header)
                    .ok_or_else(|| format!("the timestamp header {} is missing", ts.header))?;
                let at: i64 = text.trim().parse().map_err(|_| {
                    format!(
                        "the timestamp in {} is not Unix seconds: '{text}'",
                        ts.header
                    )
                })?;
                let tolerance = i64::try_from(ts.tolerance.as_secs()).unwrap_or(i64::MAX);
                if now_secs.abs_diff(at) > tolerance.unsigned_abs() {
                    return Err(format!(
                        "the timestamp {at} is {}s away from now, more than the {tolerance}s allowed",
                        now_secs.abs_diff(at)
                    ));
                }
                // The timestamp is signed with the body, so an old callback
                // cannot be replayed with a fresh timestamp.
                mac.update(text.trim().as_bytes());
                mac.update(b".");
            }
            mac.update(body);
            // `verify_slice` compares in constant time.
            mac.verify_slice(&signature)
                .map_err(|_| format!("the signature in {name} does not match the body"))
        }
        WebhookAuth::Bearer { .. } => {
            let given =
                header(headers, "authorization").ok_or("the Authorization header is missing")?;
            let token = given
                .split_once(' ')
                .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
                .map(|(_, token)| token.trim())
                .ok_or("the Authorization header is not `Bearer <token>`")?;
            if same_secret(token.as_bytes(), secret) {
                Ok(())
            } else {
                Err("the bearer token is wrong".into())
            }
        }
    }
}

fn encoding_name(encoding: SignatureEncoding) -> &'static str {
    match encoding {
        SignatureEncoding::Hex => "hex",
        SignatureEncoding::Base64 => "base64",
    }
}

/// The signature's bytes; a `sha256=` prefix (GitHub's form) is accepted.
fn decode(text: &str, encoding: SignatureEncoding) -> Option<Vec<u8>> {
    let text = text.trim();
    let text = match text.get(..7) {
        Some(p) if p.eq_ignore_ascii_case("sha256=") => &text[7..],
        _ => text,
    };
    match encoding {
        SignatureEncoding::Hex => hex::decode(text).ok(),
        SignatureEncoding::Base64 => base64::engine::general_purpose::STANDARD.decode(text).ok(),
    }
}

/// Compares two secrets through their digests, so that neither the time
/// taken nor an early exit tells how much of a guess was right.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    let (a, b) = (Sha256::digest(a), Sha256::digest(b));
    a.iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use weft_scheme::SignedTimestamp;

    use super::*;

    fn hmac_auth(encoding: SignatureEncoding, timestamp: Option<SignedTimestamp>) -> WebhookAuth {
        WebhookAuth::HmacSha256 {
            secret: "hook".into(),
            header: "X-Weft-Signature".into(),
            encoding,
            timestamp,
        }
    }

    fn sign(secret: &[u8], message: &[u8]) -> Vec<u8> {
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
            panic!("any key length is accepted");
        };
        mac.update(message);
        mac.finalize().into_bytes().to_vec()
    }

    #[test]
    fn rfc4231_case_2_vector() {
        // RFC 4231 test case 2: key "Jefe", "what do ya want for nothing?".
        let sig = sign(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            hex::encode(sig),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn hmac_hex_and_base64() {
        let body = br#"[{"tid":"T1"}]"#;
        let sig = sign(b"s3cret", body);
        let auth = hmac_auth(SignatureEncoding::Hex, None);
        let hexed = hex::encode(&sig);
        assert_eq!(
            verify(&auth, b"s3cret", body, &[("x-weft-signature", &hexed)], 0),
            Ok(())
        );
        let prefixed = format!("sha256={hexed}");
        assert_eq!(
            verify(
                &auth,
                b"s3cret",
                body,
                &[("X-WEFT-SIGNATURE", &prefixed)],
                0
            ),
            Ok(())
        );
        assert_eq!(
            verify(&auth, b"other", body, &[("x-weft-signature", &hexed)], 0),
            Err("the signature in X-Weft-Signature does not match the body".into())
        );
        assert_eq!(
            verify(&auth, b"s3cret", b"[]", &[("x-weft-signature", &hexed)], 0),
            Err("the signature in X-Weft-Signature does not match the body".into())
        );
        assert_eq!(
            verify(&auth, b"s3cret", body, &[], 0),
            Err("the signature header X-Weft-Signature is missing".into())
        );
        assert_eq!(
            verify(&auth, b"s3cret", body, &[("x-weft-signature", "zz")], 0),
            Err("the signature in X-Weft-Signature is not hex".into())
        );
        let auth = hmac_auth(SignatureEncoding::Base64, None);
        let b64 = base64::engine::general_purpose::STANDARD.encode(&sig);
        assert_eq!(
            verify(&auth, b"s3cret", body, &[("x-weft-signature", &b64)], 0),
            Ok(())
        );
    }

    #[test]
    fn a_signed_timestamp_bounds_replays() {
        let body = b"{}";
        let auth = hmac_auth(
            SignatureEncoding::Hex,
            Some(SignedTimestamp {
                header: "X-Weft-Timestamp".into(),
                tolerance: Duration::from_secs(300),
            }),
        );
        let sig = hex::encode(sign(b"k", b"1000.{}"));
        let headers = [
            ("x-weft-signature", sig.as_str()),
            ("x-weft-timestamp", "1000"),
        ];
        assert_eq!(verify(&auth, b"k", body, &headers, 1200), Ok(()));
        assert_eq!(
            verify(&auth, b"k", body, &headers, 1400),
            Err("the timestamp 1000 is 400s away from now, more than the 300s allowed".into())
        );
        // A fresh timestamp on an old signature does not pass.
        let replayed = [
            ("x-weft-signature", sig.as_str()),
            ("x-weft-timestamp", "1390"),
        ];
        assert!(verify(&auth, b"k", body, &replayed, 1400).is_err());
        assert_eq!(
            verify(&auth, b"k", body, &[("x-weft-signature", &sig)], 1000),
            Err("the timestamp header X-Weft-Timestamp is missing".into())
        );
    }

    #[test]
    fn bearer_tokens() {
        let auth = WebhookAuth::Bearer {
            secret: "hook".into(),
        };
        assert_eq!(
            verify(&auth, b"tok", b"", &[("Authorization", "Bearer tok")], 0),
            Ok(())
        );
        assert_eq!(
            verify(&auth, b"tok", b"", &[("authorization", "bearer  tok ")], 0),
            Ok(())
        );
        assert_eq!(
            verify(&auth, b"tok", b"", &[("authorization", "Bearer nope")], 0),
            Err("the bearer token is wrong".into())
        );
        assert_eq!(
            verify(&auth, b"tok", b"", &[("authorization", "Basic dG9r")], 0),
            Err("the Authorization header is not `Bearer <token>`".into())
        );
        assert!(verify(&auth, b"tok", b"", &[], 0).is_err());
    }

    #[test]
    fn environment_variable_names() {
        assert_eq!(
            EnvHookSecrets::variables("acme-01", "opencallback"),
            [
                "WEFT_HOOK_SECRET_ACME_01__OPENCALLBACK".to_owned(),
                "WEFT_HOOK_SECRET_OPENCALLBACK".to_owned()
            ]
        );
    }
}
