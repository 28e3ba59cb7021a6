//! 旺店通·企业版 openapi2 signature (PROTOCOLS.md §3.2, after the official PHP
//! `WdtClient::makeSign`).
//!
//! 1. Sort the parameters by key, skipping `sign`.
//! 2. Write each pair as `%02d(len key)-key:%04d(len value)-value` and join
//!    the pairs with `;`.
//! 3. Append the appsecret and take the lowercase hex md5.
//!
//! Lengths count **characters**, not bytes: PHP measures with
//! `iconv_strlen(.., 'UTF-8')`, Java with `String.length()`. Clients that
//! count UTF-8 bytes agree only for ASCII values.

use crate::digests::md5_hex;
use crate::sorted;

/// The text the sign is taken over, without the appsecret.
pub fn sign_string<K: AsRef<str>, V: AsRef<str>>(params: &[(K, V)]) -> String {
    sorted(params, &["sign"])
        .iter()
        .map(|(k, v)| format!("{:02}-{k}:{:04}-{v}", k.chars().count(), v.chars().count()))
        .collect::<Vec<_>>()
        .join(";")
}

/// The `sign` form field: `md5(sign_string + appsecret)`, lowercase hex.
pub fn sign<K: AsRef<str>, V: AsRef<str>>(params: &[(K, V)], appsecret: &str) -> String {
    md5_hex(format!("{}{appsecret}", sign_string(params)).as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The parameters of the example in the official document.
    const DOC_PARAMS: [(&str, &str); 6] = [
        ("sid", "test2"),
        ("appkey", "test2-xx"),
        ("timestamp", "1470042310"),
        ("start_time", "2016-08-01 12:00:00"),
        ("end_time", "2016-08-01 13:00:00"),
        ("page_size", "40"),
    ];

    fn doc_params() -> Vec<(&'static str, &'static str)> {
        let mut p = DOC_PARAMS.to_vec();
        p.push(("page_no", "0"));
        p
    }

    /// [OFF] the sign string quoted from the official document.
    #[test]
    fn official_sign_string() {
        assert_eq!(
            sign_string(&doc_params()),
            "06-appkey:0008-test2-xx;08-end_time:0019-2016-08-01 13:00:00;07-page_no:0001-0;\
             09-page_size:0002-40;03-sid:0005-test2;10-start_time:0019-2016-08-01 12:00:00;\
             09-timestamp:0010-1470042310"
        );
    }

    /// [DERIVED] the official example with appsecret `12345`.
    #[test]
    fn official_example_sign() {
        assert_eq!(
            sign(&doc_params(), "12345"),
            "ad4e6fe037ea6e3ba4768317be9d1309"
        );
    }

    #[test]
    fn an_existing_sign_is_not_signed() {
        let mut p = doc_params();
        p.push(("sign", "whatever"));
        assert_eq!(sign(&p, "12345"), "ad4e6fe037ea6e3ba4768317be9d1309");
    }

    /// [DERIVED] non-ASCII values: lengths are characters (`店铺01` is 4).
    #[test]
    fn lengths_count_characters_not_bytes() {
        let p = [
            ("appkey", "test2-xx"),
            ("sid", "test2"),
            ("timestamp", "1470042310"),
            ("shop_no", "店铺01"),
            ("trade_list", r#"[{"tid":"T1","receiver_name":"张三"}]"#),
        ];
        let text = sign_string(&p);
        assert!(text.contains("07-shop_no:0004-店铺01"), "{text}");
        assert!(text.contains("10-trade_list:0035-"), "{text}");
        assert_eq!(sign(&p, "12345"), "1d91a426c6695eab6778378dc8266e72");

        // The byte-length variant some third-party clients use gives the
        // other published value: the vector really tells them apart.
        let bytes: Vec<String> = sorted(&p, &[])
            .iter()
            .map(|(k, v)| format!("{:02}-{k}:{:04}-{v}", k.len(), v.len()))
            .collect();
        let by_bytes = md5_hex(format!("{}12345", bytes.join(";")).as_bytes());
        assert_eq!(by_bytes, "40bc765ba21f4cf8452f4a7cc4170611");
    }

    #[test]
    fn long_values_grow_the_length_field() {
        let long = "x".repeat(10_000);
        assert!(sign_string(&[("v", long.as_str())]).starts_with("01-v:10000-x"));
    }
}
