//! 聚水潭 open API signature (official doc docId=70, PROTOCOLS.md §5.2).
//!
//! `sign = lower(hex(md5(app_secret + k1v1k2v2…)))` over the form fields
//! sorted by key, skipping `sign` and fields with an empty value. The secret
//! is prefixed only; values (`charset=utf-8`, `version=2`) are signed exactly
//! as sent.

use crate::digests::md5_hex;
use crate::sorted;

/// The `sign` form field.
pub fn sign<K: AsRef<str>, V: AsRef<str>>(params: &[(K, V)], app_secret: &str) -> String {
    let mut text = String::from(app_secret);
    for (k, v) in sorted(params, &["sign"]) {
        if !v.is_empty() {
            text.push_str(k);
            text.push_str(v);
        }
    }
    md5_hex(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "e9c5ca33fecb404b8e6cdbd0ef4a6d25";
    const APP_KEY: &str = "5b53060f23d84ddf9703056e84fa5a2d";

    /// [VERIFIED] Vector 1: the token request (`getInitToken`).
    #[test]
    fn official_token_vector() {
        let p = [
            ("app_key", APP_KEY),
            ("timestamp", "1639128407"),
            ("grant_type", "authorization_code"),
            ("charset", "utf-8"),
            ("code", "123456"),
        ];
        assert_eq!(sign(&p, SECRET), "05e3a51e19e0883afd1882ccd309e0b9");
    }

    fn business(charset: &'static str, version: &'static str) -> Vec<(&'static str, &'static str)> {
        vec![
            ("app_key", APP_KEY),
            ("access_token", "d7b01bf0842a4742a9450e21ffd95f60"),
            ("timestamp", "1639128407"),
            ("charset", charset),
            ("version", version),
            (
                "biz",
                r#"{"page_index":"1","page_size":"100","nicks":["老板"]}"#,
            ),
        ]
    }

    /// [VERIFIED] Vector 2: a business request.
    #[test]
    fn official_business_vector() {
        assert_eq!(
            sign(&business("utf-8", "2"), SECRET),
            "395f5a78b446be465ac03a02491296c7"
        );
    }

    #[test]
    fn values_are_signed_exactly_as_sent() {
        assert_ne!(
            sign(&business("UTF-8", "2"), SECRET),
            "395f5a78b446be465ac03a02491296c7"
        );
        assert_ne!(
            sign(&business("utf-8", "2.0"), SECRET),
            "395f5a78b446be465ac03a02491296c7"
        );
    }

    #[test]
    fn empty_values_and_sign_are_skipped() {
        let mut p = business("utf-8", "2");
        p.push(("sign", "old"));
        p.push(("refresh_token", ""));
        assert_eq!(sign(&p, SECRET), "395f5a78b446be465ac03a02491296c7");
    }
}
