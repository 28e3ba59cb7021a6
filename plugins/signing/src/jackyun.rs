//! 吉客云 open API signature (the vendor's `JackyunOpenHttpUtils` demo,
//! PROTOCOLS.md §6.2).
//!
//! `sign = lower(hex(md5(lowercase(secret + k1v1k2v2… + secret))))` over the
//! form fields sorted by key, excluding `sign`, `contextid` and `token`. The
//! **whole** pre-image is lowercased before hashing, the JSON of
//! `bizcontent` included.

use crate::digests::md5_hex;
use crate::sorted;

/// Form fields that travel unsigned.
pub const UNSIGNED: [&str; 3] = ["sign", "contextid", "token"];

/// The `sign` form field.
pub fn sign<K: AsRef<str>, V: AsRef<str>>(params: &[(K, V)], secret: &str) -> String {
    md5_hex(pre_image(params, secret).to_lowercase().as_bytes())
}

fn pre_image<K: AsRef<str>, V: AsRef<str>>(params: &[(K, V)], secret: &str) -> String {
    let mut text = String::from(secret);
    for (k, v) in sorted(params, &UNSIGNED) {
        text.push_str(k);
        text.push_str(v);
    }
    text.push_str(secret);
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "f0d1483f1f2e49cea3dfd48c8d7e3c23";

    fn doc_params() -> Vec<(&'static str, &'static str)> {
        vec![
            ("method", "erp.goods.skuimport"),
            ("appkey", "187657"),
            ("version", "v1.0"),
            ("contenttype", "json"),
            ("timestamp", "2019-07-30 15:18:30"),
            ("bizcontent", r#"{"brandName":"衣服","goodsNo":"H06-2"}"#),
        ]
    }

    /// [DERIVED] the official document's example parameters.
    #[test]
    fn doc_example() {
        assert_eq!(
            sign(&doc_params(), SECRET),
            "20cda156f86b919dd737a999041ac350"
        );
    }

    #[test]
    fn pre_image_is_lowercased_as_documented() {
        assert_eq!(
            pre_image(&doc_params(), SECRET).to_lowercase(),
            format!(
                "{SECRET}appkey187657bizcontent{{\"brandname\":\"衣服\",\"goodsno\":\"h06-2\"}}\
                 contenttypejsonmethoderp.goods.skuimporttimestamp2019-07-30 15:18:30versionv1.0{SECRET}"
            )
        );
        // Without the lowercasing the published alternative comes out.
        assert_eq!(
            md5_hex(pre_image(&doc_params(), SECRET).as_bytes()),
            "f5b1ea146d45f3daf4f15cc2283fed6b"
        );
    }

    #[test]
    fn token_and_contextid_are_not_signed() {
        let mut p = doc_params();
        p.push(("token", "t"));
        p.push(("contextid", "c"));
        p.push(("sign", "s"));
        assert_eq!(sign(&p, SECRET), "20cda156f86b919dd737a999041ac350");
    }
}
