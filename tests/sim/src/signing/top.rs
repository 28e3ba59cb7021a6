//! Taobao TOP / 奇门 `sign` (PROTOCOLS.md §4.2): parameters sorted by key,
//! `key1value1key2value2…` with the raw body appended, then
//! md5 wrapped in the secret on both ends, or HMAC-MD5 / HMAC-SHA256 keyed
//! with the secret; uppercase hex.

use hmac::{Hmac, Mac};
use md5::{Digest, Md5};
use sha2::Sha256;

/// `sign_method` values the gateway accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignMethod {
    Md5,
    Hmac,
    HmacSha256,
}

impl SignMethod {
    pub fn parse(text: &str) -> Option<SignMethod> {
        match text {
            "md5" => Some(SignMethod::Md5),
            "hmac" => Some(SignMethod::Hmac),
            "hmac-sha256" => Some(SignMethod::HmacSha256),
            _ => None,
        }
    }
}

/// The text that is hashed: sorted `keyvalue` pairs (empty keys or values
/// and `sign` left out) followed by the body.
pub fn string_to_sign<'a>(
    params: impl IntoIterator<Item = (&'a str, &'a str)>,
    body: Option<&str>,
) -> String {
    let mut pairs: Vec<(&str, &str)> = params
        .into_iter()
        .filter(|(k, v)| *k != "sign" && !k.is_empty() && !v.is_empty())
        .collect();
    pairs.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    let mut out = String::new();
    for (k, v) in pairs {
        out.push_str(k);
        out.push_str(v);
    }
    if let Some(body) = body {
        out.push_str(body);
    }
    out
}

pub fn sign<'a>(
    params: impl IntoIterator<Item = (&'a str, &'a str)>,
    body: Option<&str>,
    secret: &str,
    method: SignMethod,
) -> String {
    let text = string_to_sign(params, body);
    let digest = match method {
        SignMethod::Md5 => {
            let mut h = Md5::new();
            h.update(secret.as_bytes());
            h.update(text.as_bytes());
            h.update(secret.as_bytes());
            h.finalize().to_vec()
        }
        SignMethod::Hmac => match Hmac::<Md5>::new_from_slice(secret.as_bytes()) {
            Ok(mut mac) => {
                mac.update(text.as_bytes());
                mac.finalize().into_bytes().to_vec()
            }
            // HMAC accepts keys of any length; this arm never runs.
            Err(_) => Vec::new(),
        },
        SignMethod::HmacSha256 => match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
            Ok(mut mac) => {
                mac.update(text.as_bytes());
                mac.finalize().into_bytes().to_vec()
            }
            Err(_) => Vec::new(),
        },
    };
    hex::encode_upper(digest)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TAOBAO: [(&str, &str); 9] = [
        ("app_key", "12345678"),
        ("fields", "num_iid,title,nick,price,num"),
        ("format", "json"),
        ("method", "taobao.item.seller.get"),
        ("num_iid", "11223344"),
        ("session", "test"),
        ("sign_method", "md5"),
        ("timestamp", "2016-01-01 12:00:00"),
        ("v", "2.0"),
    ];

    #[test]
    fn official_taobao_md5_vector() {
        assert_eq!(
            sign(TAOBAO, None, "helloworld", SignMethod::Md5),
            "66987CB115214E59E6EC978214934FB8"
        );
    }

    #[test]
    fn taobao_parameters_with_hmac() {
        let params = TAOBAO.map(|(k, v)| {
            if k == "sign_method" {
                (k, "hmac")
            } else {
                (k, v)
            }
        });
        assert_eq!(
            sign(params, None, "helloworld", SignMethod::Hmac),
            "D56D7858309C31B6251083A874D48273"
        );
    }

    const QIMEN_BODY: &str = r#"{"start_time":"2024-01-01 00:00:00","end_time":"2024-01-01 01:00:00","page_no":0,"page_size":40}"#;

    fn qimen_params(method: &'static str) -> [(&'static str, &'static str); 8] {
        [
            ("method", "wdt.stockout.order.query.return"),
            ("app_key", "12345678"),
            ("target_app_key", "23456789"),
            ("customerId", "c1001"),
            ("format", "json"),
            ("sign_method", method),
            ("timestamp", "2024-01-01 12:00:00"),
            ("v", "2.0"),
        ]
    }

    #[test]
    fn qimen_with_body_md5() {
        assert_eq!(
            sign(
                qimen_params("md5"),
                Some(QIMEN_BODY),
                "helloworld",
                SignMethod::Md5
            ),
            "40FA976FCADF4FD3CA2B63F8A0297F61"
        );
    }

    #[test]
    fn qimen_with_body_hmac() {
        assert_eq!(
            sign(
                qimen_params("hmac"),
                Some(QIMEN_BODY),
                "helloworld",
                SignMethod::Hmac
            ),
            "590A138ADD0E25CF2AFCE0BBC85D6BA1"
        );
    }

    #[test]
    fn empty_values_and_sign_are_left_out() {
        let mut params = TAOBAO.to_vec();
        params.push(("sign", "X"));
        params.push(("partner_id", ""));
        assert_eq!(
            sign(params, None, "helloworld", SignMethod::Md5),
            "66987CB115214E59E6EC978214934FB8"
        );
    }
}
