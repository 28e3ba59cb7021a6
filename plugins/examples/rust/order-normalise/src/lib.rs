//! `order-normalise`: amount normalisation and SKU re-mapping.
//!
//! The Rust twin of `plugins/examples/python/order-normalise` and
//! `plugins/examples/js/order-normalise`: the three give the same output
//! for the same input, so `just bench-languages` compares like with like.
//! Amounts are rounded on their decimal digits, not on binary floats, which
//! is what lets the three agree to the last digit.

use std::collections::BTreeMap;

use weft_plugin_sdk::prelude::*;
use weft_plugin_sdk::serde_json::Map;

struct OrderNormalise;

/// Currency marks a storefront may put around an amount.
const CURRENCY: [&str; 5] = ["¥", "￥", "$", "CNY", "RMB"];

/// A prefix rewrite of SKUs.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct SkuPrefix {
    from: String,
    to: String,
}

/// The scheme's config of this step.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct Config {
    /// The field holding each record's line items (default `lines`).
    #[serde(default = "default_lines")]
    lines: String,
    /// The line field holding the SKU (default `sku`).
    #[serde(default = "default_sku")]
    sku: String,
    /// Fields normalised to numbers, on the record and on each line
    /// (default `price`, `amount`, `total`).
    #[serde(default = "default_amounts")]
    amounts: Vec<String>,
    /// Decimal places kept, rounding half away from zero (default 2).
    #[serde(default = "default_decimals")]
    #[schemars(range(max = 6))]
    decimals: u8,
    /// SKUs replaced one for one; checked before `sku_prefix`.
    #[serde(default)]
    sku_map: BTreeMap<String, String>,
    /// A SKU starting with `from` gets `to` instead of that prefix.
    #[serde(default)]
    sku_prefix: Option<SkuPrefix>,
    /// The record field named in error messages (default `id`).
    #[serde(default = "default_key")]
    key: String,
}

fn default_lines() -> String {
    "lines".into()
}
fn default_sku() -> String {
    "sku".into()
}
fn default_amounts() -> Vec<String> {
    vec!["price".into(), "amount".into(), "total".into()]
}
fn default_decimals() -> u8 {
    2
}
fn default_key() -> String {
    "id".into()
}

fn strip_currency(mut text: &str) -> &str {
    loop {
        let before = text.len();
        text = text.trim();
        for mark in CURRENCY {
            text = text.strip_prefix(mark).unwrap_or(text);
            text = text.strip_suffix(mark).unwrap_or(text);
        }
        if text.len() == before {
            return text;
        }
    }
}

/// `'¥1,234.505'` → `1234.51` (2 decimals): currency marks and thousands
/// separators dropped, rounded half away from zero. `None` when `value` is
/// not an amount.
pub fn parse_amount(value: &Value, decimals: u8) -> Option<f64> {
    let shown;
    let text = match value {
        Value::String(s) => s.as_str(),
        Value::Number(n) => {
            shown = n.to_string();
            shown.as_str()
        }
        _ => return None,
    };
    let mut text = strip_currency(text);
    let negative = text.starts_with('-');
    if negative {
        text = strip_currency(&text[1..]);
    }
    let text = text.replace(',', "");
    let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || !digits(fraction) || (whole.is_empty() && fraction.is_empty()) {
        return None;
    }
    if whole.is_empty() && !text.starts_with('.') {
        return None;
    }
    let decimals = usize::from(decimals);
    let mut kept: String = fraction.chars().take(decimals).collect();
    while kept.len() < decimals {
        kept.push('0');
    }
    let whole = if whole.is_empty() { "0" } else { whole };
    // Through f64, like the Python and JavaScript versions: beyond 2^53
    // units all three lose the same digits.
    let mut units: f64 = format!("{whole}{kept}").parse().ok()?;
    if fraction
        .as_bytes()
        .get(decimals)
        .is_some_and(|d| *d >= b'5')
    {
        units += 1.0;
    }
    if units == 0.0 {
        return Some(0.0);
    }
    let number = units / 10f64.powi(i32::try_from(decimals).ok()?);
    Some(if negative { -number } else { number })
}

struct Normaliser {
    config: Config,
    remapped: usize,
}

impl Normaliser {
    fn name(&self, index: usize, record: &Map<String, Value>) -> String {
        match record.get(&self.config.key) {
            None | Some(Value::Null) => format!("record {index}"),
            Some(key) => format!("record {index} ({} {key})", self.config.key),
        }
    }

    fn remap(&mut self, at: &str, sku: &Value) -> Result<Value> {
        let Value::String(sku) = sku else {
            return Err(Error::invalid(format!("{at}: SKU {sku} is not text")));
        };
        if let Some(to) = self.config.sku_map.get(sku) {
            self.remapped += 1;
            return Ok(Value::String(to.clone()));
        }
        if let Some(p) = &self.config.sku_prefix
            && let Some(rest) = sku.strip_prefix(&p.from)
        {
            self.remapped += 1;
            return Ok(Value::String(format!("{}{rest}", p.to)));
        }
        Err(Error::invalid(format!(
            "{at}: SKU '{sku}' has no mapping (not in sku_map, no sku_prefix match)"
        )))
    }

    fn fields(&self, at: &str, obj: &mut Map<String, Value>) -> Result<()> {
        for field in &self.config.amounts {
            let Some(value) = obj.get_mut(field) else {
                continue;
            };
            if value.is_null() {
                continue;
            }
            let number = parse_amount(value, self.config.decimals).ok_or_else(|| {
                Error::invalid(format!("{at}: field '{field}': {value} is not an amount"))
            })?;
            *value = json!(number);
        }
        Ok(())
    }

    fn record(&mut self, index: usize, mut record: Value) -> Result<Value> {
        let Some(obj) = record.as_object_mut() else {
            return Err(Error::invalid(format!(
                "record {index} is not a JSON object"
            )));
        };
        let name = self.name(index, obj);
        self.fields(&name, obj)?;
        let lines_field = self.config.lines.clone();
        let Some(lines) = obj.get_mut(&lines_field).filter(|l| !l.is_null()) else {
            return Ok(record);
        };
        let Some(lines) = lines.as_array_mut() else {
            return Err(Error::invalid(format!(
                "{name}: field '{lines_field}' is not a list"
            )));
        };
        for (n, line) in lines.iter_mut().enumerate() {
            let at = format!("{name} line {n}");
            let Some(line) = line.as_object_mut() else {
                return Err(Error::invalid(format!("{at} is not a JSON object")));
            };
            self.fields(&at, line)?;
            let sku_field = self.config.sku.clone();
            if let Some(sku) = line.get_mut(&sku_field) {
                *sku = self.remap(&at, sku)?;
            }
        }
        Ok(record)
    }
}

impl Transform for OrderNormalise {
    fn describe() -> TransformInfo {
        TransformInfo::new::<Config>(
            "order-normalise",
            env!("CARGO_PKG_VERSION"),
            "Order normalisation (Rust)",
        )
        .description(
            "Turns amount text such as '¥1,234.50' into numbers and re-maps line SKUs to the \
             target's material numbers.",
        )
    }

    fn transform(config: Params, records: Vec<Value>) -> Result<Vec<Value>> {
        let config: Config = config.parse()?;
        let mut normaliser = Normaliser {
            config,
            remapped: 0,
        };
        let out = records
            .into_iter()
            .enumerate()
            .map(|(i, r)| normaliser.record(i, r))
            .collect::<Result<Vec<_>>>()?;
        if normaliser.remapped > 0 {
            log::debug(
                "re-mapped SKUs",
                &[("lines", normaliser.remapped.to_string().as_str())],
            );
        }
        Ok(out)
    }
}

export_transform!(OrderNormalise);

#[cfg(test)]
mod tests {
    use super::*;

    fn amount(v: Value) -> Option<f64> {
        parse_amount(&v, 2)
    }

    #[test]
    fn storefront_text_becomes_numbers() {
        assert_eq!(amount(json!("¥1,234.50")), Some(1234.5));
        assert_eq!(amount(json!(" CNY 12 ")), Some(12.0));
        assert_eq!(amount(json!("-¥0.125")), Some(-0.13));
        assert_eq!(parse_amount(&json!("¥-2.5"), 0), Some(-3.0));
        assert_eq!(amount(json!(7)), Some(7.0));
        assert_eq!(amount(json!(0.005)), Some(0.01));
        assert_eq!(amount(json!("-0.001")), Some(0.0));
        for bad in [
            json!("12abc"),
            json!(""),
            json!("¥"),
            json!("1.2.3"),
            json!(true),
            json!(null),
        ] {
            assert_eq!(amount(bad.clone()), None, "{bad}");
        }
    }

    #[test]
    fn lines_are_normalised_and_remapped_and_errors_name_the_line() {
        let config: Config = serde_json::from_value(json!({
            "sku_map": {"OLD-1": "SKU00001"}, "sku_prefix": {"from": "SP-", "to": "SKU"}
        }))
        .expect("config");
        let mut n = Normaliser {
            config,
            remapped: 0,
        };
        let out = n
            .record(
                0,
                json!({"id": "A", "total": "¥30.00", "lines": [
                    {"sku": "SP-00012", "price": "¥10.00", "amount": "¥20.00"},
                    {"sku": "OLD-1", "price": "10", "amount": "10"}
                ]}),
            )
            .expect("transformed");
        assert_eq!(out["total"], json!(30.0));
        assert_eq!(out["lines"][0]["sku"], "SKU00012");
        assert_eq!(out["lines"][1]["sku"], "SKU00001");
        assert_eq!(out["lines"][0]["amount"], json!(20.0));
        let err = n
            .record(1, json!({"id": "B", "lines": [{"sku": "X-1"}]}))
            .expect_err("no mapping");
        assert_eq!(
            err.message(),
            "record 1 (id \"B\") line 0: SKU 'X-1' has no mapping (not in sku_map, no sku_prefix match)"
        );
    }
}
