//! The Kingdee API gateway signature, `X-Api-Signature` (PROTOCOLS.md §2.2
//! and §1.2 B): 金蝶云星辰 signs every call with it, 金蝶云星空's signed-header
//! mode likewise.
//!
//! ```text
//! METHOD \n enc(path) \n query \n x-api-nonce:{nonce} \n x-api-timestamp:{ts} \n
//! ```
//!
//! - `enc(path)` percent-encodes the path once, `/` included (`%2F`).
//! - `query` is the parameters sorted by key, keys as they are, values
//!   percent-encoded **twice**, joined with `&`; an empty line when there is
//!   no query.
//! - The header lines are the lowercase names in sorted order, so the nonce
//!   comes first; the text ends with `\n`.
//! - The signature is `base64(hex_lower(HMAC_SHA256(secret, text)))`: base64
//!   of the 64-character hex string, not of the raw digest. The body is not
//!   signed.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::digests::hmac_sha256_hex;
use crate::sorted;

/// Everything but the RFC 3986 unreserved characters is encoded (Python
/// `quote(..).replace('/', '%2F')`, Java `URLEncoder` for the characters
/// that occur in paths and base64 values).
const ENCODED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Percent-encodes once, `/` included.
pub fn encode(text: &str) -> String {
    utf8_percent_encode(text, ENCODED).to_string()
}

/// The query line: sorted by key, values encoded twice.
pub fn signing_query<K: AsRef<str>, V: AsRef<str>>(params: &[(K, V)]) -> String {
    sorted(params, &[])
        .iter()
        .map(|(k, v)| format!("{k}={}", encode(&encode(v))))
        .collect::<Vec<_>>()
        .join("&")
}

/// The text that is signed.
pub fn string_to_sign<K: AsRef<str>, V: AsRef<str>>(
    method: &str,
    path: &str,
    query: &[(K, V)],
    nonce: &str,
    timestamp: &str,
) -> String {
    format!(
        "{method}\n{}\n{}\nx-api-nonce:{nonce}\nx-api-timestamp:{timestamp}\n",
        encode(path),
        signing_query(query)
    )
}

/// `base64(hex_lower(HMAC_SHA256(key, content)))`, the Kingdee SDKs'
/// `HmacSHA256` helper, also used for `X-Kd-Signature` and JDY's
/// `app_signature`.
pub fn hmac_sha256_base64_hex(key: &str, content: &str) -> String {
    STANDARD.encode(hmac_sha256_hex(key.as_bytes(), content.as_bytes()))
}

/// `X-Api-Signature` for one request.
pub fn signature<K: AsRef<str>, V: AsRef<str>>(
    client_secret: &str,
    method: &str,
    path: &str,
    query: &[(K, V)],
    nonce: &str,
    timestamp: &str,
) -> String {
    hmac_sha256_base64_hex(
        client_secret,
        &string_to_sign(method, path, query, nonce, timestamp),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_encode_slashes() {
        assert_eq!(
            encode("/jdyconnector/app_management/kingdee_auth_token"),
            "%2Fjdyconnector%2Fapp_management%2Fkingdee_auth_token"
        );
        assert_eq!(encode("a b~c"), "a%20b~c");
    }

    #[test]
    fn query_values_are_encoded_twice_and_sorted() {
        assert_eq!(
            signing_query(&[("z", "1"), ("a", "x==")]),
            "a=x%253D%253D&z=1"
        );
        assert_eq!(signing_query::<&str, &str>(&[]), "");
    }

    #[test]
    fn empty_query_gives_an_empty_line() {
        assert_eq!(
            string_to_sign::<&str, &str>("POST", "/a/b", &[], "1", "2"),
            "POST\n%2Fa%2Fb\n\nx-api-nonce:1\nx-api-timestamp:2\n"
        );
    }
}
