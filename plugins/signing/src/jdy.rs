//! 金蝶云星辰 (JDY) open platform credentials (open.jdy.com, PROTOCOLS.md
//! §2.1–2.2).
//!
//! - `app_signature = base64(hex_lower(HMAC_SHA256(appSecret, app_key)))`,
//!   sent with `app_key` to `kingdee_auth_token` for the `app-token`.
//! - Every call carries the Kingdee gateway headers
//!   ([`crate::kingdee_gateway`]) keyed with the client secret, with the
//!   timestamp in **milliseconds** (valid for 5 minutes) and a random nonce.

use crate::kingdee_gateway;

/// `app_signature` for the token request.
pub fn app_signature(app_key: &str, app_secret: &str) -> String {
    kingdee_gateway::hmac_sha256_base64_hex(app_secret, app_key)
}

/// Who signs a gateway call.
#[derive(Debug, Clone, Copy)]
pub struct Client<'a> {
    /// `X-Api-ClientID`.
    pub client_id: &'a str,
    /// The client secret that keys `X-Api-Signature`.
    pub client_secret: &'a str,
}

impl Client<'_> {
    /// The gateway headers of one call: `method` (`GET`, `POST`), the URL
    /// `path`, its `query` parameters (unencoded), the time in milliseconds
    /// and a nonce.
    pub fn headers<K: AsRef<str>, V: AsRef<str>>(
        &self,
        method: &str,
        path: &str,
        query: &[(K, V)],
        timestamp_ms: i64,
        nonce: u64,
    ) -> Vec<(&'static str, String)> {
        let timestamp = timestamp_ms.to_string();
        let nonce = nonce.to_string();
        let signature =
            kingdee_gateway::signature(self.client_secret, method, path, query, &nonce, &timestamp);
        vec![
            ("X-Api-ClientID", self.client_id.to_owned()),
            ("X-Api-Auth-Version", "2.0".to_owned()),
            ("X-Api-TimeStamp", timestamp),
            ("X-Api-Nonce", nonce),
            (
                "X-Api-SignHeaders",
                "X-Api-TimeStamp,X-Api-Nonce".to_owned(),
            ),
            ("X-Api-Signature", signature),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// [VERIFIED] the official `app_signature` example.
    #[test]
    fn official_app_signature() {
        assert_eq!(
            app_signature("abc", "abc123"),
            "ZDljMTI3NGIyNTE1MTRkYzlkNjc1MDNhYjUzMzgzNWMyY2M4YTdjMzdmNmM3YTVlNDkxMTkzNjdiOTFjNzUyZQ=="
        );
    }

    const PATH: &str = "/jdyconnector/app_management/kingdee_auth_token";
    const APP_SIGNATURE: &str =
        "MzZlYTk0ODk4MWZlNjdiODNmNWU4YzViNzYxNGM5MTFlOGJkN2NjMzk0MTJkZGNhZGM0NzZhN2YxZDJmOTlkZA==";

    fn query() -> [(&'static str, &'static str); 2] {
        [("app_key", "bVZgAZOv1"), ("app_signature", APP_SIGNATURE)]
    }

    /// [VERIFIED] the official gateway example: the text signed…
    #[test]
    fn official_string_to_sign() {
        assert_eq!(
            kingdee_gateway::string_to_sign("GET", PATH, &query(), "4427456950", "1670305063559"),
            format!(
                "GET\n%2Fjdyconnector%2Fapp_management%2Fkingdee_auth_token\n\
                 app_key=bVZgAZOv1&app_signature={}%253D%253D\n\
                 x-api-nonce:4427456950\nx-api-timestamp:1670305063559\n",
                APP_SIGNATURE.trim_end_matches('=')
            )
        );
    }

    /// …and its signature.
    #[test]
    fn official_gateway_signature() {
        let client = Client {
            client_id: "any",
            client_secret: "f2adcfef73369bfc4e1384677d38a0ff",
        };
        let headers = client.headers("GET", PATH, &query(), 1_670_305_063_559, 4_427_456_950);
        assert!(headers.contains(&(
            "X-Api-Signature",
            "OTFiZTliNDFiMjNkYTI3YzVhNzg4MDI4ZGU3MWY1ZTA5ZTk1NjVlNGM1YTI1ZjIxY2Y5YTA3ZGY2OGI1MGQ1MQ==".to_owned()
        )));
        assert!(headers.contains(&("X-Api-TimeStamp", "1670305063559".to_owned())));
        assert!(headers.contains(&("X-Api-Nonce", "4427456950".to_owned())));
    }
}
