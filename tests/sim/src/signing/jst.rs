//! 聚水潭 open API `sign` (PROTOCOLS.md §5.2): `md5(app_secret + sorted
//! key+value pairs)`, lowercase hex; the secret is a prefix only; empty
//! values and `sign` are left out.

use super::md5_hex;

pub fn string_to_sign<'a>(
    params: impl IntoIterator<Item = (&'a str, &'a str)>,
    app_secret: &str,
) -> String {
    let mut pairs: Vec<(&str, &str)> = params
        .into_iter()
        .filter(|(k, v)| *k != "sign" && !v.is_empty())
        .collect();
    pairs.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    let mut out = String::from(app_secret);
    for (k, v) in pairs {
        out.push_str(k);
        out.push_str(v);
    }
    out
}

pub fn sign<'a>(params: impl IntoIterator<Item = (&'a str, &'a str)>, app_secret: &str) -> String {
    md5_hex(string_to_sign(params, app_secret).as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "e9c5ca33fecb404b8e6cdbd0ef4a6d25";
    const APP_KEY: &str = "5b53060f23d84ddf9703056e84fa5a2d";

    #[test]
    fn vector_1_token_request() {
        let params = [
            ("app_key", APP_KEY),
            ("timestamp", "1639128407"),
            ("grant_type", "authorization_code"),
            ("charset", "utf-8"),
            ("code", "123456"),
        ];
        assert_eq!(sign(params, SECRET), "05e3a51e19e0883afd1882ccd309e0b9");
    }

    fn business(charset: &'static str, version: &'static str) -> [(&'static str, &'static str); 6] {
        [
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

    #[test]
    fn vector_2_business_request() {
        assert_eq!(
            sign(business("utf-8", "2"), SECRET),
            "395f5a78b446be465ac03a02491296c7"
        );
    }

    #[test]
    fn values_are_signed_exactly_as_sent() {
        assert_ne!(
            sign(business("UTF-8", "2"), SECRET),
            "395f5a78b446be465ac03a02491296c7"
        );
        assert_ne!(
            sign(business("utf-8", "2.0"), SECRET),
            "395f5a78b446be465ac03a02491296c7"
        );
    }
}
