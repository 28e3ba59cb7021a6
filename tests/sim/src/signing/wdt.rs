//! 旺店通·企业版 openapi2 `sign` (PROTOCOLS.md §3.2): length-prefixed
//! `key:value` pairs in key order, joined with `;`, the appsecret appended,
//! md5 in lowercase hex. Lengths count characters, as PHP's `iconv_strlen`
//! and Java's `String.length()` do, not UTF-8 bytes.

use super::md5_hex;

/// The string the official PHP client hashes (without the secret).
pub fn string_to_sign<'a>(params: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut pairs: Vec<(&str, &str)> = params.into_iter().filter(|(k, _)| *k != "sign").collect();
    // PHP `ksort` on string keys: byte-wise ascending.
    pairs.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    let mut out = String::new();
    for (i, (key, value)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push(';');
        }
        out.push_str(&format!(
            "{:02}-{}:{:04}-{}",
            key.chars().count(),
            key,
            value.chars().count(),
            value
        ));
    }
    out
}

/// `md5(string_to_sign + appsecret)`, lowercase hex.
pub fn sign<'a>(params: impl IntoIterator<Item = (&'a str, &'a str)>, appsecret: &str) -> String {
    let mut text = string_to_sign(params);
    text.push_str(appsecret);
    md5_hex(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC_PARAMS: [(&str, &str); 6] = [
        ("appkey", "test2-xx"),
        ("end_time", "2016-08-01 13:00:00"),
        ("page_no", "0"),
        ("page_size", "40"),
        ("sid", "test2"),
        ("start_time", "2016-08-01 12:00:00"),
    ];

    fn doc_params() -> Vec<(&'static str, &'static str)> {
        let mut p = DOC_PARAMS.to_vec();
        p.push(("timestamp", "1470042310"));
        p
    }

    #[test]
    fn official_doc_string_is_rebuilt_exactly() {
        assert_eq!(
            string_to_sign(doc_params()),
            "06-appkey:0008-test2-xx;08-end_time:0019-2016-08-01 13:00:00;07-page_no:0001-0;\
09-page_size:0002-40;03-sid:0005-test2;10-start_time:0019-2016-08-01 12:00:00;\
09-timestamp:0010-1470042310"
        );
    }

    #[test]
    fn official_doc_parameters_with_secret_12345() {
        assert_eq!(
            sign(doc_params(), "12345"),
            "ad4e6fe037ea6e3ba4768317be9d1309"
        );
    }

    #[test]
    fn sign_field_is_left_out_and_order_does_not_matter() {
        let mut p = doc_params();
        p.reverse();
        p.push(("sign", "whatever"));
        assert_eq!(sign(p, "12345"), "ad4e6fe037ea6e3ba4768317be9d1309");
    }

    #[test]
    fn non_ascii_lengths_count_characters() {
        let params = [
            ("appkey", "test2-xx"),
            ("sid", "test2"),
            ("timestamp", "1470042310"),
            ("shop_no", "店铺01"),
            ("trade_list", r#"[{"tid":"T1","receiver_name":"张三"}]"#),
        ];
        let text = string_to_sign(params);
        assert!(text.contains("07-shop_no:0004-店铺01"), "{text}");
        assert!(text.contains("10-trade_list:0035-"), "{text}");
        assert_eq!(sign(params, "12345"), "1d91a426c6695eab6778378dc8266e72");
        assert_ne!(sign(params, "12345"), "40bc765ba21f4cf8452f4a7cc4170611");
    }
}
