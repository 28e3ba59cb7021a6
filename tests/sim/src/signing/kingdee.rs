//! Kingdee API-gateway signatures, shared by 金蝶云星空 (signed X-Api/X-Kd
//! headers, PROTOCOLS.md §1.2B) and 金蝶云星辰 (§2.1–2.2), plus the
//! K3Cloud `LoginBySign` digest (§1.2A).
//!
//! Kingdee's "HmacSHA256" is `base64(hex_lower(HMAC_SHA256(key, msg)))`:
//! base64 of the 64-character hex text, not of the raw digest.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// The XOR key the SDKs apply to the 32-character tail of an AppId. Python
/// builds it by rot13 of `0054s397p6234378o09pn7q3r5qropr7`; Java hard-codes it.
const APP_SECRET_XOR_KEY: &[u8; 32] = b"0054f397c6234378b09ca7d3e5debce7";

/// URL-encoders met in Kingdee clients. The Python SDK uses `quote` (RFC 3986
/// unreserved characters kept), the Java one `URLEncoder` (`*` kept, space as
/// `+`). They only differ on characters the simulator's paths never contain,
/// but a server must accept both.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UrlEncoding {
    Rfc3986,
    Java,
}

impl UrlEncoding {
    pub const ALL: [UrlEncoding; 2] = [UrlEncoding::Rfc3986, UrlEncoding::Java];
}

/// Percent-encodes everything but the encoder's unreserved set; `/` becomes
/// `%2F` in both, as the SDKs do for the path line.
pub fn url_encode(text: &str, encoding: UrlEncoding) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for &b in text.as_bytes() {
        let keep = b.is_ascii_alphanumeric()
            || matches!(b, b'.' | b'-' | b'_')
            || (encoding == UrlEncoding::Rfc3986 && b == b'~')
            || (encoding == UrlEncoding::Java && b == b'*');
        if keep {
            out.push(b as char);
        } else if encoding == UrlEncoding::Java && b == b' ' {
            out.push('+');
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `base64(hex_lower(HMAC_SHA256(key, content)))`.
pub fn hmac_sha256_b64hex(content: &str, key: &str) -> String {
    let hex = match Hmac::<Sha256>::new_from_slice(key.as_bytes()) {
        Ok(mut mac) => {
            mac.update(content.as_bytes());
            hex::encode(mac.finalize().into_bytes())
        }
        // HMAC takes keys of any length; this arm never runs.
        Err(_) => String::new(),
    };
    B64.encode(hex.as_bytes())
}

/// The client secret the SDKs derive from the AppId's tail:
/// `base64(base64decode(encSec32) XOR key)`. Python gives `''` unless the
/// tail is exactly 32 characters.
pub fn client_secret_from_app_id_tail(enc_sec: &str) -> String {
    if enc_sec.len() != 32 {
        return String::new();
    }
    let Ok(raw) = B64.decode(enc_sec) else {
        return String::new();
    };
    let xored: Vec<u8> = raw
        .iter()
        .zip(APP_SECRET_XOR_KEY.iter())
        .map(|(a, b)| a ^ b)
        .collect();
    B64.encode(xored)
}

/// Splits an AppId `"{clientId}_{encSec32}"` into the client id and the
/// derived client secret. Java passes a tail of another length through raw.
pub fn split_app_id(app_id: &str) -> Option<(String, Vec<String>)> {
    let parts: Vec<&str> = app_id.split('_').collect();
    if parts.len() != 2 {
        return None;
    }
    let mut secrets = vec![client_secret_from_app_id_tail(parts[1])];
    if parts[1].len() != 32 {
        secrets.push(parts[1].to_string());
    }
    Some((parts[0].to_string(), secrets))
}

/// The gateway string to sign:
/// `METHOD\n enc(path)\n query\n x-api-nonce:N\n x-api-timestamp:T\n`.
pub fn gateway_string_to_sign(
    method: &str,
    path: &str,
    query: &str,
    nonce: &str,
    timestamp: &str,
    encoding: UrlEncoding,
) -> String {
    format!(
        "{}\n{}\n{}\nx-api-nonce:{}\nx-api-timestamp:{}\n",
        method.to_ascii_uppercase(),
        url_encode(path, encoding),
        query,
        nonce,
        timestamp
    )
}

/// The JDY query line: pairs sorted by key, keys as they are, values
/// URL-encoded twice, joined with `&`; empty without parameters.
pub fn gateway_query_line(pairs: &[(String, String)], encoding: UrlEncoding) -> String {
    let mut sorted: Vec<&(String, String)> = pairs.iter().collect();
    sorted.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    sorted
        .iter()
        .map(|(k, v)| format!("{k}={}", url_encode(&url_encode(v, encoding), encoding)))
        .collect::<Vec<_>>()
        .join("&")
}

/// `X-Kd-Appdata`: `base64(acctId,userName,lcid,orgNum)`.
pub fn k3_app_data(acct_id: &str, user_name: &str, lcid: &str, org_num: &str) -> String {
    B64.encode(format!("{acct_id},{user_name},{lcid},{org_num}"))
}

/// `X-Kd-Signature`: `HmacSHA256(AppId + appData_plain, AppSecret)`.
pub fn k3_kd_signature(app_id: &str, app_data_plain: &str, app_secret: &str) -> String {
    hmac_sha256_b64hex(&format!("{app_id}{app_data_plain}"), app_secret)
}

/// `LoginBySign`: `sha256_hex(concat(sort([acctId, userName, appId,
/// appSecret, timestamp])))`, a plain ascending string sort.
pub fn k3_login_sign(
    acct_id: &str,
    user_name: &str,
    app_id: &str,
    app_secret: &str,
    timestamp: &str,
) -> String {
    let mut parts = [acct_id, user_name, app_id, app_secret, timestamp];
    parts.sort();
    hex::encode(Sha256::digest(parts.concat().as_bytes()))
}

/// JDY `app_signature`: `base64(hex_lower(HMAC_SHA256(appSecret, app_key)))`.
pub fn jdy_app_signature(app_key: &str, app_secret: &str) -> String {
    hmac_sha256_b64hex(app_key, app_secret)
}

/// Decodes base64 to UTF-8 text, for `X-Kd-Appdata`.
pub fn decode_b64_text(text: &str) -> Option<String> {
    B64.decode(text)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    const APP_ID: &str = "203502_5f6p2avOzuDXX5XE617sywzt7Nw7Roru";
    const APP_SECRET: &str = "2825766ee71f4002b24d78b6b9a9bc53";
    const SAVE_PATH: &str =
        "/k3cloud/Kingdee.BOS.WebApi.ServicesStub.DynamicFormService.Save.common.kdsvc";

    #[test]
    fn k3_client_secret_from_app_id() {
        assert_eq!(
            client_secret_from_app_id_tail("5f6p2avOzuDXX5XE617sywzt7Nw7Roru"),
            "1c6c7c3999e0aaf3323b827d1b9ace7d"
        );
        assert_eq!(client_secret_from_app_id_tail("short"), "");
        let (client_id, secrets) = split_app_id(APP_ID).expect("well-formed AppId");
        assert_eq!(client_id, "203502");
        assert_eq!(
            secrets,
            vec!["1c6c7c3999e0aaf3323b827d1b9ace7d".to_string()]
        );
    }

    #[test]
    fn k3_x_api_signature_vector() {
        for encoding in UrlEncoding::ALL {
            let text =
                gateway_string_to_sign("POST", SAVE_PATH, "", "1700000000", "1700000000", encoding);
            assert_eq!(
                text,
                "POST\n%2Fk3cloud%2FKingdee.BOS.WebApi.ServicesStub.DynamicFormService.Save.common.kdsvc\n\nx-api-nonce:1700000000\nx-api-timestamp:1700000000\n"
            );
            assert_eq!(
                hmac_sha256_b64hex(&text, "1c6c7c3999e0aaf3323b827d1b9ace7d"),
                "YjFmNjlmNGEwZTdjZWRlMjdhOWFlYjk0ZjRmNDc0ZjQyODA1MDc3ZDg4MjE3OTk1ZjhiZTA5YjIwODMzY2Q4Yw=="
            );
        }
    }

    #[test]
    fn k3_x_kd_headers_vector() {
        assert_eq!(
            k3_app_data("5dde42aa8b86d7", "yz", "2052", "100"),
            "NWRkZTQyYWE4Yjg2ZDcseXosMjA1MiwxMDA="
        );
        assert_eq!(
            k3_kd_signature(APP_ID, "5dde42aa8b86d7,yz,2052,100", APP_SECRET),
            "NzY3MDk0ZTNlMzFjNTkwYjY1MzNhM2ZiNGE2MzIxMmU5OGE2ZWU5MWViZjNiN2Y2ZjQ2ZjUyYTQyOGU2ZTllNg=="
        );
        assert_eq!(
            decode_b64_text("NWRkZTQyYWE4Yjg2ZDcseXosMjA1MiwxMDA=").as_deref(),
            Some("5dde42aa8b86d7,yz,2052,100")
        );
    }

    #[test]
    fn k3_login_by_sign_vector() {
        assert_eq!(
            k3_login_sign("5dde42aa8b86d7", "yz", APP_ID, APP_SECRET, "1700000000"),
            "b7c57c90e0b8768e03bf4533a04595a54b4e390126cc14e91a3de43575a76f12"
        );
    }

    #[test]
    fn jdy_app_signature_official_vector() {
        assert_eq!(
            jdy_app_signature("abc", "abc123"),
            "ZDljMTI3NGIyNTE1MTRkYzlkNjc1MDNhYjUzMzgzNWMyY2M4YTdjMzdmNmM3YTVlNDkxMTkzNjdiOTFjNzUyZQ=="
        );
    }

    #[test]
    fn jdy_gateway_signature_official_vector() {
        let app_signature = "MzZlYTk0ODk4MWZlNjdiODNmNWU4YzViNzYxNGM5MTFlOGJkN2NjMzk0MTJkZGNhZGM0NzZhN2YxZDJmOTlkZA==";
        let query = vec![
            ("app_key".to_string(), "bVZgAZOv1".to_string()),
            ("app_signature".to_string(), app_signature.to_string()),
        ];
        for encoding in UrlEncoding::ALL {
            let line = gateway_query_line(&query, encoding);
            assert_eq!(
                line,
                "app_key=bVZgAZOv1&app_signature=MzZlYTk0ODk4MWZlNjdiODNmNWU4YzViNzYxNGM5MTFlOGJkN2NjMzk0MTJkZGNhZGM0NzZhN2YxZDJmOTlkZA%253D%253D"
            );
            let text = gateway_string_to_sign(
                "GET",
                "/jdyconnector/app_management/kingdee_auth_token",
                &line,
                "4427456950",
                "1670305063559",
                encoding,
            );
            assert!(text.starts_with(
                "GET\n%2Fjdyconnector%2Fapp_management%2Fkingdee_auth_token\napp_key=bVZgAZOv1&"
            ));
            assert!(text.ends_with("\nx-api-nonce:4427456950\nx-api-timestamp:1670305063559\n"));
            assert_eq!(
                hmac_sha256_b64hex(&text, "f2adcfef73369bfc4e1384677d38a0ff"),
                "OTFiZTliNDFiMjNkYTI3YzVhNzg4MDI4ZGU3MWY1ZTA5ZTk1NjVlNGM1YTI1ZjIxY2Y5YTA3ZGY2OGI1MGQ1MQ=="
            );
        }
    }

    #[test]
    fn encoders_differ_only_where_expected() {
        assert_eq!(url_encode("a b~*", UrlEncoding::Rfc3986), "a%20b~%2A");
        assert_eq!(url_encode("a b~*", UrlEncoding::Java), "a+b%7E*");
    }
}
