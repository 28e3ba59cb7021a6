//! A plain JSON storefront API, the kind of "simple REST API" a plugin
//! author starts with: `GET /shop/v1/orders`, a bearer token, page numbers,
//! amounts as display text. It is not a seed system: it exists for the
//! example plugins and the `weft plugin new` scaffolds (docs/plugin-authoring.md),
//! which read it and normalise what it serves.
//!
//! It serves the 吉客云 trades dataset in the storefront's own shape, so a
//! test can compare what reached a target with the trade it came from:
//!
//! - the shop lists materials under its own catalogue codes: `SP-00012` for
//!   material `SKU00012`, except the first five materials, which it still
//!   lists under their retired codes `OLD-1` … `OLD-5`;
//! - amounts are text as a storefront shows them: `"¥1,234.50"` (two
//!   decimals, thousands separated).
//!
//! ```text
//! GET /shop/v1/orders?updated_from=2024-01-01 00:00:00&updated_to=…&page=1&per_page=50
//! Authorization: Bearer weft-shop-token
//! → {"orders":[{"id":"JY0000000001","customer":"CUST0003","warehouse":"WH002",
//!      "updated_at":"2024-01-03 10:00:00","total":"¥1,234.50",
//!      "lines":[{"line_id":"40000000011","sku":"SP-00012","qty":2,
//!                "price":"¥600.00","discount":"¥0.00","amount":"¥1,200.00"}]}],
//!    "page":1,"per_page":50,"total":1}
//! ```
//!
//! `page` starts at 1; `per_page` is at most 100 (default 20). A missing or
//! wrong token is `401 {"error":"invalid token"}`; a bad parameter is
//! `400 {"error":"…"}` naming it.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};

use crate::clock::{format_china, parse_china};
use crate::dataset::JackyunTrade;
use crate::dataset::master::MasterData;
use crate::state::SimState;
use crate::wire;

/// Largest page the shop serves.
pub const MAX_PER_PAGE: usize = 100;
/// Materials listed under retired catalogue codes (`OLD-1` … `OLD-5`).
pub const RETIRED_CODES: usize = 5;

/// The shop's catalogue code of a material number (`SKU00012` → `SP-00012`,
/// `SKU00003` → `OLD-3`).
pub fn shop_sku(material: &str) -> String {
    let digits = material.trim_start_matches("SKU");
    match digits.parse::<usize>() {
        Ok(n) if (1..=RETIRED_CODES).contains(&n) => format!("OLD-{n}"),
        _ => format!("SP-{digits}"),
    }
}

/// A ×10000 fixed-point amount as the shop shows it: `¥1,234.50`.
pub fn shop_amount(v: i64) -> String {
    // Half away from zero to cents.
    let cents = (v.abs() + 50) / 100;
    let sign = if v < 0 && cents > 0 { "-" } else { "" };
    let whole = (cents / 100).to_string();
    let mut grouped = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{sign}¥{grouped}.{:02}", cents % 100)
}

fn error(status: StatusCode, message: impl Into<String>) -> Response {
    wire::json_as(status, wire::JSON, &json!({"error": message.into()}))
}

fn order(t: &JackyunTrade, master: &MasterData) -> Value {
    let lines: Vec<Value> = t
        .lines
        .iter()
        .map(|l| {
            let material = &master.materials[l.material as usize];
            json!({
                "line_id": l.sub_trade_id.to_string(),
                "sku": shop_sku(&material.number),
                "qty": l.count,
                "price": shop_amount(l.price),
                "discount": shop_amount(l.discount),
                "amount": shop_amount(l.price * l.count - l.discount),
            })
        })
        .collect();
    let total: i64 = t.lines.iter().map(|l| l.price * l.count - l.discount).sum();
    json!({
        "id": t.trade_no,
        "customer": master.customers[t.customer as usize].number,
        "warehouse": master.warehouses[t.warehouse as usize].number,
        "updated_at": format_china(t.modified),
        "total": shop_amount(total),
        "lines": lines,
    })
}

/// `page`, `per_page`, `updated_from`, `updated_to`, or the message of a
/// 400 naming the bad one.
fn page_query(q: &HashMap<String, String>) -> Result<(usize, usize, i64, i64), String> {
    let number = |name: &str, default: usize| match q.get(name) {
        None => Ok(default),
        Some(v) => v
            .parse()
            .map_err(|_| format!("{name} '{v}' is not a whole number")),
    };
    let time = |name: &str, default: i64| match q.get(name).filter(|v| !v.is_empty()) {
        None => Ok(default),
        Some(v) => parse_china(v).ok_or_else(|| format!("{name} '{v}' is not yyyy-MM-dd HH:mm:ss")),
    };
    Ok((
        number("page", 1)?,
        number("per_page", 20)?,
        time("updated_from", i64::MIN)?,
        time("updated_to", i64::MAX)?,
    ))
}

pub(crate) async fn orders(
    State(state): State<Arc<SimState>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let token = &state.config.credentials.shop.token;
    let given = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if given != Some(token.as_str()) {
        return error(StatusCode::UNAUTHORIZED, "invalid token");
    }
    let (page, per_page, from, to) = match page_query(&q) {
        Ok(p) => p,
        Err(message) => return error(StatusCode::BAD_REQUEST, message),
    };
    if page == 0 || per_page == 0 || per_page > MAX_PER_PAGE {
        return error(
            StatusCode::BAD_REQUEST,
            format!("page starts at 1 and per_page is 1..={MAX_PER_PAGE}"),
        );
    }
    let sources = state.sources();
    let store = &sources.trades;
    let window = store.window(from, to);
    let (docs, total) = store.page(window, None, (page - 1) * per_page, per_page);
    let orders: Vec<Value> = docs.iter().map(|t| order(t, &state.master)).collect();
    wire::json(&json!({"orders": orders, "page": page, "per_page": per_page, "total": total}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_and_codes_look_like_a_storefront() {
        assert_eq!(shop_amount(12_345_000), "¥1,234.50");
        assert_eq!(shop_amount(10_000_000_000), "¥1,000,000.00");
        assert_eq!(shop_amount(5_050), "¥0.51");
        assert_eq!(shop_amount(-120_000), "-¥12.00");
        assert_eq!(shop_amount(0), "¥0.00");
        assert_eq!(shop_sku("SKU00012"), "SP-00012");
        assert_eq!(shop_sku("SKU00003"), "OLD-3");
    }
}
