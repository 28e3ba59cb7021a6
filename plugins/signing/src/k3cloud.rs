//! 金蝶云星空 (K3Cloud) WebAPI credentials (PROTOCOLS.md §1.2), as the
//! official `kingdee.cdp.webapi.sdk` computes them.
//!
//! - **Signed headers** (no login call): the `AppId` has the form
//!   `{clientId}_{encSec32}`; `client_sec = base64(base64decode(encSec32) XOR
//!   "0054f397c6234378b09ca7d3e5debce7")` keys `X-Api-Signature` (the Kingdee
//!   gateway scheme, [`crate::kingdee_gateway`]) over the URL path;
//!   `X-Kd-Appdata = base64("acctId,userName,lcid,orgNum")`;
//!   `X-Kd-Signature = base64(hex(HMAC_SHA256(AppSecret, AppId + appData)))`.
//!   The nonce is the timestamp, as in both SDKs.
//! - **LoginBySign**: `sha256_hex(concat(sort([acctId, userName, appId,
//!   appSecret, timestamp])))`, a plain ascending sort of the five values.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::digests::sha256_hex;
use crate::kingdee_gateway;

/// The constant the SDKs XOR the app secret part of the `AppId` with (the
/// Java jar spells it out; the Python SDK rebuilds it with rot13).
pub const APP_ID_XOR_KEY: &[u8; 32] = b"0054f397c6234378b09ca7d3e5debce7";

/// The client id: the part of the `AppId` before `_`.
pub fn client_id(app_id: &str) -> &str {
    app_id.split_once('_').map_or(app_id, |(id, _)| id)
}

/// `client_sec`, the key of `X-Api-Signature`.
///
/// Like the Python SDK, an `AppId` whose secret part is not exactly 32
/// base64 characters gives the empty secret (the server then refuses the
/// signature, which names the problem better than a guess would).
pub fn client_secret(app_id: &str) -> String {
    let Some((_, enc_sec)) = app_id.split_once('_') else {
        return String::new();
    };
    if enc_sec.len() != 32 {
        return String::new();
    }
    let Ok(bytes) = STANDARD.decode(enc_sec) else {
        return String::new();
    };
    let mixed: Vec<u8> = bytes
        .iter()
        .zip(APP_ID_XOR_KEY.iter())
        .map(|(b, k)| b ^ k)
        .collect();
    STANDARD.encode(mixed)
}

/// `LoginBySign`'s `sign` parameter.
pub fn login_by_sign(
    acct_id: &str,
    user_name: &str,
    app_id: &str,
    app_secret: &str,
    timestamp: i64,
) -> String {
    let timestamp = timestamp.to_string();
    let mut values = [acct_id, user_name, app_id, app_secret, timestamp.as_str()];
    values.sort_unstable();
    sha256_hex(values.concat().as_bytes())
}

/// What the signed headers are made of.
#[derive(Debug, Clone, Copy)]
pub struct AppCredentials<'a> {
    /// `AppId`, `{clientId}_{encSec32}`.
    pub app_id: &'a str,
    /// `AppSecret`, 32 hex characters.
    pub app_secret: &'a str,
    /// The data center id (`acctId`, DCID).
    pub acct_id: &'a str,
    /// The user the calls run as.
    pub user_name: &'a str,
    /// The locale id, 2052 for simplified Chinese.
    pub lcid: u32,
    /// The organisation number, 0 by default.
    pub org_num: i64,
}

impl AppCredentials<'_> {
    fn app_data_plain(&self) -> String {
        format!(
            "{},{},{},{}",
            self.acct_id, self.user_name, self.lcid, self.org_num
        )
    }

    /// `X-Kd-Appdata`.
    pub fn app_data(&self) -> String {
        STANDARD.encode(self.app_data_plain())
    }

    /// `X-Kd-Signature`.
    pub fn kd_signature(&self) -> String {
        kingdee_gateway::hmac_sha256_base64_hex(
            self.app_secret,
            &format!("{}{}", self.app_id, self.app_data_plain()),
        )
    }

    /// `X-Api-Signature` for a `POST` to `path` (the URL path after the
    /// host, e.g. `/k3cloud/Kingdee.BOS…Save.common.kdsvc`).
    pub fn api_signature(&self, path: &str, timestamp: &str) -> String {
        kingdee_gateway::signature::<&str, &str>(
            &client_secret(self.app_id),
            "POST",
            path,
            &[],
            timestamp,
            timestamp,
        )
    }

    /// Every header of a signed call, in the order the Python SDK sends
    /// them. `timestamp` is Unix seconds (the Python SDK) or milliseconds
    /// (the Java SDK); it doubles as the nonce.
    pub fn headers(&self, path: &str, timestamp: &str) -> Vec<(&'static str, String)> {
        vec![
            ("X-Api-ClientID", client_id(self.app_id).to_owned()),
            ("X-Api-Auth-Version", "2.0".to_owned()),
            ("x-api-timestamp", timestamp.to_owned()),
            ("x-api-nonce", timestamp.to_owned()),
            (
                "x-api-signheaders",
                "x-api-timestamp,x-api-nonce".to_owned(),
            ),
            ("X-Api-Signature", self.api_signature(path, timestamp)),
            ("X-Kd-Appkey", self.app_id.to_owned()),
            ("X-Kd-Appdata", self.app_data()),
            ("X-Kd-Signature", self.kd_signature()),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // [DERIVED] vectors: the unmodified SDK code with time frozen at
    // 1700000000 (PROTOCOLS.md §1.2).
    const APP_ID: &str = "203502_5f6p2avOzuDXX5XE617sywzt7Nw7Roru";
    const APP_SECRET: &str = "2825766ee71f4002b24d78b6b9a9bc53";
    const PATH: &str =
        "/k3cloud/Kingdee.BOS.WebApi.ServicesStub.DynamicFormService.Save.common.kdsvc";

    fn creds() -> AppCredentials<'static> {
        AppCredentials {
            app_id: APP_ID,
            app_secret: APP_SECRET,
            acct_id: "5dde42aa8b86d7",
            user_name: "yz",
            lcid: 2052,
            org_num: 100,
        }
    }

    #[test]
    fn client_sec() {
        assert_eq!(client_secret(APP_ID), "1c6c7c3999e0aaf3323b827d1b9ace7d");
        assert_eq!(client_id(APP_ID), "203502");
    }

    #[test]
    fn client_sec_of_a_malformed_app_id_is_empty() {
        assert_eq!(client_secret("203502"), "");
        assert_eq!(client_secret("203502_short"), "");
        assert_eq!(client_secret("203502_!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"), "");
    }

    #[test]
    fn string_to_sign() {
        assert_eq!(
            kingdee_gateway::string_to_sign::<&str, &str>(
                "POST",
                PATH,
                &[],
                "1700000000",
                "1700000000"
            ),
            "POST\n%2Fk3cloud%2FKingdee.BOS.WebApi.ServicesStub.DynamicFormService.Save.common.kdsvc\n\n\
             x-api-nonce:1700000000\nx-api-timestamp:1700000000\n"
        );
    }

    #[test]
    fn x_api_signature() {
        assert_eq!(
            creds().api_signature(PATH, "1700000000"),
            "YjFmNjlmNGEwZTdjZWRlMjdhOWFlYjk0ZjRmNDc0ZjQyODA1MDc3ZDg4MjE3OTk1ZjhiZTA5YjIwODMzY2Q4Yw=="
        );
    }

    #[test]
    fn x_kd_appdata() {
        assert_eq!(creds().app_data(), "NWRkZTQyYWE4Yjg2ZDcseXosMjA1MiwxMDA=");
    }

    #[test]
    fn x_kd_signature() {
        assert_eq!(
            creds().kd_signature(),
            "NzY3MDk0ZTNlMzFjNTkwYjY1MzNhM2ZiNGE2MzIxMmU5OGE2ZWU5MWViZjNiN2Y2ZjQ2ZjUyYTQyOGU2ZTllNg=="
        );
    }

    #[test]
    fn login_by_sign_vector() {
        assert_eq!(
            login_by_sign("5dde42aa8b86d7", "yz", APP_ID, APP_SECRET, 1_700_000_000),
            "b7c57c90e0b8768e03bf4533a04595a54b4e390126cc14e91a3de43575a76f12"
        );
    }

    #[test]
    fn headers_carry_every_piece() {
        let headers = creds().headers(PATH, "1700000000");
        let get = |name: &str| {
            headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(get("X-Api-ClientID"), Some("203502"));
        assert_eq!(get("X-Api-Nonce"), Some("1700000000"));
        assert_eq!(get("X-Kd-Appkey"), Some(APP_ID));
        assert_eq!(
            get("X-Api-Signature"),
            Some(
                "YjFmNjlmNGEwZTdjZWRlMjdhOWFlYjk0ZjRmNDc0ZjQyODA1MDc3ZDg4MjE3OTk1ZjhiZTA5YjIwODMzY2Q4Yw=="
            )
        );
    }
}
