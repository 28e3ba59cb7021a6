//! Taobao TOP / 奇门 signature (`signTopRequest`, PROTOCOLS.md §4.2).
//!
//! 1. Take every system and business parameter except `sign`, dropping
//!    parameters with an empty key or value.
//! 2. Sort by key and concatenate `key1value1key2value2…`.
//! 3. Append the raw request body, if any (奇门 puts the system parameters
//!    in the URL and the business payload in the body).
//! 4. `md5`: `upper(hex(md5(secret + S + secret)))`; `hmac`:
//!    `upper(hex(HMAC_MD5(secret, S)))`; `hmac-sha256` likewise with SHA-256.

use std::fmt;
use std::str::FromStr;

use crate::digests::{hmac_md5_hex, hmac_sha256_hex, md5_hex};
use crate::sorted;

/// The `sign_method` system parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignMethod {
    /// `md5`: the secret wraps the string on both ends.
    Md5,
    /// `hmac`: HMAC-MD5 keyed with the secret.
    Hmac,
    /// `hmac-sha256`: HMAC-SHA256 keyed with the secret.
    HmacSha256,
}

impl SignMethod {
    /// The value of `sign_method` on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Md5 => "md5",
            Self::Hmac => "hmac",
            Self::HmacSha256 => "hmac-sha256",
        }
    }
}

impl fmt::Display for SignMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SignMethod {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "md5" => Ok(Self::Md5),
            "hmac" => Ok(Self::Hmac),
            "hmac-sha256" => Ok(Self::HmacSha256),
            other => Err(format!(
                "sign_method '{other}' is not one of md5, hmac, hmac-sha256"
            )),
        }
    }
}

/// The `sign` parameter, uppercase hex.
pub fn sign<K: AsRef<str>, V: AsRef<str>>(
    params: &[(K, V)],
    body: Option<&str>,
    secret: &str,
    method: SignMethod,
) -> String {
    let mut text: String = sorted(params, &["sign"])
        .into_iter()
        .filter(|(k, v)| !k.is_empty() && !v.is_empty())
        .flat_map(|(k, v)| [k, v])
        .collect();
    text.push_str(body.unwrap_or_default());
    let hex = match method {
        SignMethod::Md5 => md5_hex(format!("{secret}{text}{secret}").as_bytes()),
        SignMethod::Hmac => hmac_md5_hex(secret.as_bytes(), text.as_bytes()),
        SignMethod::HmacSha256 => hmac_sha256_hex(secret.as_bytes(), text.as_bytes()),
    };
    hex.to_ascii_uppercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn taobao_item_get(sign_method: &'static str) -> Vec<(&'static str, &'static str)> {
        vec![
            ("method", "taobao.item.seller.get"),
            ("app_key", "12345678"),
            ("session", "test"),
            ("timestamp", "2016-01-01 12:00:00"),
            ("format", "json"),
            ("v", "2.0"),
            ("sign_method", sign_method),
            ("fields", "num_iid,title,nick,price,num"),
            ("num_iid", "11223344"),
        ]
    }

    /// [VERIFIED] the official Taobao example.
    #[test]
    fn official_taobao_md5() {
        assert_eq!(
            sign(&taobao_item_get("md5"), None, "helloworld", SignMethod::Md5),
            "66987CB115214E59E6EC978214934FB8"
        );
    }

    /// [DERIVED] the same parameters with `sign_method=hmac`.
    #[test]
    fn taobao_hmac() {
        assert_eq!(
            sign(
                &taobao_item_get("hmac"),
                None,
                "helloworld",
                SignMethod::Hmac
            ),
            "D56D7858309C31B6251083A874D48273"
        );
    }

    fn qimen_params(sign_method: &'static str) -> Vec<(&'static str, &'static str)> {
        vec![
            ("method", "wdt.stockout.order.query.return"),
            ("app_key", "12345678"),
            ("target_app_key", "23456789"),
            ("customerId", "c1001"),
            ("format", "json"),
            ("sign_method", sign_method),
            ("timestamp", "2024-01-01 12:00:00"),
            ("v", "2.0"),
        ]
    }

    const QIMEN_BODY: &str = r#"{"start_time":"2024-01-01 00:00:00","end_time":"2024-01-01 01:00:00","page_no":0,"page_size":40}"#;

    /// [DERIVED] 奇门 with a JSON body, md5.
    #[test]
    fn qimen_md5_with_body() {
        assert_eq!(
            sign(
                &qimen_params("md5"),
                Some(QIMEN_BODY),
                "helloworld",
                SignMethod::Md5
            ),
            "40FA976FCADF4FD3CA2B63F8A0297F61"
        );
    }

    /// [DERIVED] 奇门 with a JSON body, hmac.
    #[test]
    fn qimen_hmac_with_body() {
        assert_eq!(
            sign(
                &qimen_params("hmac"),
                Some(QIMEN_BODY),
                "helloworld",
                SignMethod::Hmac
            ),
            "590A138ADD0E25CF2AFCE0BBC85D6BA1"
        );
    }

    #[test]
    fn empty_values_and_sign_are_skipped() {
        let mut p = taobao_item_get("md5");
        p.push(("partner_id", ""));
        p.push(("sign", "OLD"));
        assert_eq!(
            sign(&p, None, "helloworld", SignMethod::Md5),
            "66987CB115214E59E6EC978214934FB8"
        );
    }

    #[test]
    fn hmac_sha256_is_uppercase_hex() {
        let s = sign(
            &qimen_params("hmac-sha256"),
            Some(QIMEN_BODY),
            "helloworld",
            SignMethod::HmacSha256,
        );
        assert_eq!(s.len(), 64);
        assert!(
            s.chars()
                .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
        );
    }

    #[test]
    fn sign_methods_parse() {
        assert_eq!("MD5".parse(), Ok(SignMethod::Md5));
        assert_eq!("hmac".parse(), Ok(SignMethod::Hmac));
        assert_eq!("hmac-sha256".parse(), Ok(SignMethod::HmacSha256));
        assert!("sha1".parse::<SignMethod>().is_err());
        assert_eq!(SignMethod::HmacSha256.to_string(), "hmac-sha256");
    }
}
