//! The signed-header scheme (PROTOCOLS.md §1.2B), what the official SDKs
//! send instead of logging in: `X-Api-Signature` over the path, nonce and
//! timestamp with the client secret derived from the AppId, and
//! `X-Kd-Signature` over the AppId and `X-Kd-Appdata` with the AppSecret.
//! Timestamps may be seconds (Python) or milliseconds (Java).

use axum::http::HeaderMap;
use percent_encoding::percent_decode_str;

use crate::clock;
use crate::signing::kingdee::{self, UrlEncoding};
use crate::signing::same_digest;
use crate::state::SimState;

pub(crate) fn is_signed(headers: &HeaderMap) -> bool {
    headers.contains_key("x-api-signature") || headers.contains_key("x-kd-signature")
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Result<&'a str, String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| format!("缺少请求头{name}"))
}

/// Checks every signed header; the error says which one failed.
pub(crate) fn verify(state: &SimState, headers: &HeaderMap, raw_path: &str) -> Result<(), String> {
    let creds = &state.config.credentials.k3cloud;
    let (client_id, secrets) =
        kingdee::split_app_id(&creds.app_id).ok_or_else(|| "模拟器的AppId格式错误".to_string())?;
    if header(headers, "x-kd-appkey")? != creds.app_id {
        return Err("X-Kd-Appkey与第三方系统登录授权的应用ID不一致".into());
    }
    if header(headers, "x-api-clientid")? != client_id {
        return Err("X-Api-ClientID不正确".into());
    }
    let ts_text = header(headers, "x-api-timestamp")?;
    let nonce = header(headers, "x-api-nonce")?;
    let ts: i64 = ts_text
        .parse()
        .map_err(|_| format!("X-Api-TimeStamp无效: {ts_text}"))?;
    let seconds = if ts > 100_000_000_000 { ts / 1000 } else { ts };
    if (clock::now_unix() - seconds).abs() > state.config.limits.k3_timestamp_tolerance_secs {
        return Err("X-Api-TimeStamp已过期".into());
    }
    let sign_headers = header(headers, "x-api-signheaders")?.to_ascii_lowercase();
    if !(sign_headers.contains("x-api-timestamp") && sign_headers.contains("x-api-nonce")) {
        return Err("X-Api-SignHeaders必须包含x-api-timestamp和x-api-nonce".into());
    }
    let path = percent_decode_str(raw_path).decode_utf8_lossy();
    let given = header(headers, "x-api-signature")?;
    let api_ok = UrlEncoding::ALL.iter().any(|enc| {
        let text = kingdee::gateway_string_to_sign("POST", &path, "", nonce, ts_text, *enc);
        secrets
            .iter()
            .any(|secret| same_digest(&kingdee::hmac_sha256_b64hex(&text, secret), given, false))
    });
    if !api_ok {
        return Err("X-Api-Signature签名验证失败".into());
    }
    let app_data = kingdee::decode_b64_text(header(headers, "x-kd-appdata")?)
        .ok_or_else(|| "X-Kd-Appdata不是有效的Base64".to_string())?;
    let parts: Vec<&str> = app_data.split(',').collect();
    if parts.len() < 2 || parts[0] != creds.acct_id {
        return Err(format!(
            "X-Kd-Appdata中的账套“{}”不存在",
            parts.first().unwrap_or(&"")
        ));
    }
    if !parts[1].eq_ignore_ascii_case(&creds.username) {
        return Err(format!("X-Kd-Appdata中的用户“{}”未授权", parts[1]));
    }
    let expected = kingdee::k3_kd_signature(&creds.app_id, &app_data, &creds.app_secret);
    if !same_digest(&expected, header(headers, "x-kd-signature")?, false) {
        return Err("X-Kd-Signature签名验证失败".into());
    }
    Ok(())
}
