//! # weft-signing
//!
//! The connector side of every signature the seed systems ask for, each
//! module written after its vendor's document and tested with the vectors
//! that `shared/design/PROTOCOLS.md` publishes:
//!
//! | module | system | what it signs |
//! |---|---|---|
//! | [`wdt`] | 旺店通·企业版 openapi2 | length-prefixed form fields, md5 |
//! | [`top`] | 奇门 / Taobao TOP | sorted parameters + body, md5 / hmac / hmac-sha256 |
//! | [`jst`] | 聚水潭 | sorted form fields, md5 with the secret in front |
//! | [`jackyun`] | 吉客云 | sorted form fields, lowercased, md5 |
//! | [`kingdee_gateway`] | Kingdee API gateway | `X-Api-Signature` (shared by K3Cloud and JDY) |
//! | [`k3cloud`] | 金蝶云星空 | `client_sec`, X-Api / X-Kd headers, `LoginBySign` |
//! | [`jdy`] | 金蝶云星辰 | `app_signature`, gateway headers |
//!
//! Plus [`china_time`] (the `yyyy-MM-dd HH:mm:ss` GMT+8 timestamps that TOP,
//! 吉客云 and the query windows use) and [`clock`].
//!
//! Pure Rust with no plugin SDK: the unit tests run natively
//! (`cargo test -p weft-signing --target x86_64-unknown-linux-gnu`).

pub mod china_time;
pub mod clock;
mod digests;
pub mod jackyun;
pub mod jdy;
pub mod jst;
pub mod k3cloud;
pub mod kingdee_gateway;
pub mod top;
pub mod wdt;

/// Parameters sorted by key, byte-wise ascending (PHP `ksort`, Java
/// `TreeMap`), skipping the keys `skip` names. Every system here signs its
/// parameters in this order.
fn sorted<'a, K, V>(params: &'a [(K, V)], skip: &[&str]) -> Vec<(&'a str, &'a str)>
where
    K: AsRef<str>,
    V: AsRef<str>,
{
    let mut pairs: Vec<(&str, &str)> = params
        .iter()
        .map(|(k, v)| (k.as_ref(), v.as_ref()))
        .filter(|(k, _)| !skip.contains(k))
        .collect();
    pairs.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    pairs
}
