//! 吉客云 open API `sign` (PROTOCOLS.md §6.2): `md5(lowercase(secret +
//! sorted key+value pairs + secret))`, lowercase hex. `sign`, `contextid`
//! and `token` are not signed. The whole pre-image is lowercased, values
//! included.

use super::md5_hex;

const UNSIGNED: [&str; 3] = ["sign", "contextid", "token"];

pub fn string_to_sign<'a>(
    params: impl IntoIterator<Item = (&'a str, &'a str)>,
    secret: &str,
) -> String {
    let mut pairs: Vec<(&str, &str)> = params
        .into_iter()
        .filter(|(k, _)| !UNSIGNED.contains(k))
        .collect();
    pairs.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    let mut out = String::from(secret);
    for (k, v) in pairs {
        out.push_str(k);
        out.push_str(v);
    }
    out.push_str(secret);
    out.to_lowercase()
}

pub fn sign<'a>(params: impl IntoIterator<Item = (&'a str, &'a str)>, secret: &str) -> String {
    md5_hex(string_to_sign(params, secret).as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "f0d1483f1f2e49cea3dfd48c8d7e3c23";
    const PARAMS: [(&str, &str); 6] = [
        ("method", "erp.goods.skuimport"),
        ("appkey", "187657"),
        ("version", "v1.0"),
        ("contenttype", "json"),
        ("timestamp", "2019-07-30 15:18:30"),
        ("bizcontent", r#"{"brandName":"衣服","goodsNo":"H06-2"}"#),
    ];

    #[test]
    fn doc_example_pre_image() {
        assert_eq!(
            string_to_sign(PARAMS, SECRET),
            format!(
                "{SECRET}appkey187657bizcontent{{\"brandname\":\"衣服\",\"goodsno\":\"h06-2\"}}\
contenttypejsonmethoderp.goods.skuimporttimestamp2019-07-30 15:18:30versionv1.0{SECRET}"
            )
        );
    }

    #[test]
    fn doc_example_digest() {
        assert_eq!(sign(PARAMS, SECRET), "20cda156f86b919dd737a999041ac350");
        assert_ne!(sign(PARAMS, SECRET), "f5b1ea146d45f3daf4f15cc2283fed6b");
    }

    #[test]
    fn token_and_contextid_are_not_signed() {
        let mut params = PARAMS.to_vec();
        params.push(("token", "t"));
        params.push(("contextid", "c"));
        params.push(("sign", "s"));
        assert_eq!(sign(params, SECRET), "20cda156f86b919dd737a999041ac350");
    }
}
