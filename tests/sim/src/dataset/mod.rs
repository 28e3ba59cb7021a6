//! Seeded, deterministic source datasets: 旺店通 purchase orders and
//! purchase-return stock-outs, 聚水潭 refunds and 吉客云 trades, with the
//! fields of the seed documents (shared/seeds). Document N of a kind depends
//! only on the seed and N, so numbers are stable whatever the dataset size.

mod fields;
pub mod master;
mod purchase;
mod refund;
mod stockout;
pub(crate) mod store;
mod trade;

use std::fmt;
use std::str::FromStr;

use serde::ser::Error as _;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::config::DatasetConfig;
use crate::error::SimError;
use master::MasterData;
pub(crate) use purchase::PurchaseOrder;
pub(crate) use refund::Refund;
pub(crate) use stockout::StockoutReturn;
use store::{DocStore, Document};
pub(crate) use trade::JackyunTrade;

/// A source dataset.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SourceKind {
    /// 旺店通 `purchase_order_query` (key `purchase_no`).
    PurchaseOrders,
    /// 旺店通 `stockout_order_query_return` / 奇门
    /// `wdt.stockout.order.query.return` (key `stockout_no`).
    StockoutReturns,
    /// 聚水潭 `refund/single/query` (key `as_id`).
    Refunds,
    /// 吉客云 `jackyun.tradenotsensitiveinfos.list.get` (key `tradeNo`).
    JackyunTrades,
}

impl SourceKind {
    pub const ALL: [SourceKind; 4] = [
        SourceKind::PurchaseOrders,
        SourceKind::StockoutReturns,
        SourceKind::Refunds,
        SourceKind::JackyunTrades,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::PurchaseOrders => "purchase-orders",
            SourceKind::StockoutReturns => "stockout-returns",
            SourceKind::Refunds => "refunds",
            SourceKind::JackyunTrades => "jackyun-trades",
        }
    }

    /// The field that holds the document's key.
    pub fn key_field(self) -> &'static str {
        match self {
            SourceKind::PurchaseOrders => "purchase_no",
            SourceKind::StockoutReturns => "stockout_no",
            SourceKind::Refunds => "as_id",
            SourceKind::JackyunTrades => "tradeNo",
        }
    }
}

impl fmt::Display for SourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SourceKind {
    type Err = SimError;

    fn from_str(s: &str) -> Result<SourceKind, SimError> {
        SourceKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s || k.as_str().replace('-', "_") == s)
            .ok_or_else(|| SimError::UnknownDataset(s.to_string()))
    }
}

/// A fixed-point amount with four decimals, rendered as the string
/// `"12.3400"` the way 旺店通 returns MySQL decimals.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Dec4(pub i64);

impl fmt::Display for Dec4 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let v = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:04}", v / 10_000, v % 10_000)
    }
}

impl Dec4 {
    /// Appends the JSON string `"12.3400"`, as serde writes the value.
    pub(crate) fn write_json(self, out: &mut Vec<u8>) {
        // The digits go straight into the buffer, which is cut back after:
        // through a stack buffer, copying them cost more than making them.
        let start = out.len();
        out.resize(start + 26, 0);
        let len = out[start..]
            .first_chunk_mut::<26>()
            .map_or(0, |buf| self.quoted(buf));
        out.truncate(start + len);
    }

    /// Writes `"12.3400"` into the front of `buf` and gives its length.
    fn quoted(self, buf: &mut [u8; 26]) -> usize {
        let v = self.0.unsigned_abs();
        let (mut int, frac) = (v / 10_000, v % 10_000);
        let mut digits = 1;
        let mut rest = int / 10;
        while rest > 0 {
            digits += 1;
            rest /= 10;
        }
        buf[0] = b'"';
        let start = if self.0 < 0 {
            buf[1] = b'-';
            2
        } else {
            1
        };
        let point = start + digits;
        for at in (start..point).rev() {
            buf[at] = b'0' + (int % 10) as u8;
            int /= 10;
        }
        buf[point] = b'.';
        buf[point + 1] = b'0' + (frac / 1000) as u8;
        buf[point + 2] = b'0' + (frac / 100 % 10) as u8;
        buf[point + 3] = b'0' + (frac / 10 % 10) as u8;
        buf[point + 4] = b'0' + (frac % 10) as u8;
        buf[point + 5] = b'"';
        point + 6
    }

    // Written by hand into a stack buffer: documents carry dozens of these
    // and the formatting machinery dominated rendering.
    fn digits(self, buf: &mut [u8; 24]) -> &[u8] {
        let mut at = buf.len();
        let mut v = self.0.unsigned_abs();
        for i in 0..4 {
            at -= 1;
            buf[at] = b'0' + (v % 10) as u8;
            v /= 10;
            if i == 3 {
                at -= 1;
                buf[at] = b'.';
            }
        }
        loop {
            at -= 1;
            buf[at] = b'0' + (v % 10) as u8;
            v /= 10;
            if v == 0 {
                break;
            }
        }
        if self.0 < 0 {
            at -= 1;
            buf[at] = b'-';
        }
        &buf[at..]
    }
}

impl Serialize for Dec4 {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut buf = [0u8; 24];
        s.serialize_str(std::str::from_utf8(self.digits(&mut buf)).unwrap_or("0.0000"))
    }
}

/// A ×10000 fixed-point value as a JSON number (聚水潭, 吉客云).
pub(crate) fn num4(v: i64) -> f64 {
    v as f64 / 10_000.0
}

/// Writes a document's fields as its API returns them.
pub(crate) trait Render {
    /// The detail list that overrides merge into row by row.
    const LIST_KEY: &'static str;
    fn write_plain<S: Serializer>(&self, master: &MasterData, s: S) -> Result<S::Ok, S::Error>;
    fn overrides(&self) -> Option<&Map<String, Value>>;
    /// Appends what `write_plain` writes as compact JSON, without serde,
    /// where the kind has such a writer (see `fields`); `false` if not.
    fn write_json(&self, _master: &MasterData, _out: &mut Vec<u8>) -> bool {
        false
    }
}

/// A generated source document, as the generic dataset code sees it.
pub(crate) trait SourceDoc: Document + Render + Sized {
    const KIND: SourceKind;
    fn generate(seed: u64, index: u32, cfg: &DatasetConfig, master: &MasterData) -> Self;
    /// A re-sync edit: new `modified` and some changed values.
    fn touch(&mut self, now: i64);
    /// Moves every time of a newly added document to `modified` or before.
    fn restamp(&mut self, modified: i64);
    /// Takes the key field out of `overrides` (it must stay indexed) and
    /// keeps the rest to be merged into the rendered document.
    fn take_overrides(&mut self, overrides: Map<String, Value>) -> Result<(), String>;
}

/// A document rendered lazily: serialising it writes the API's fields.
pub(crate) struct Rendered<'a, D> {
    pub doc: &'a D,
    pub master: &'a MasterData,
}

struct Plain<'a, D>(&'a Rendered<'a, D>);

impl<D: Render> Serialize for Plain<'_, D> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.doc.write_plain(self.0.master, s)
    }
}

impl<D: Render> Serialize for Rendered<'_, D> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.doc.overrides() {
            None => self.doc.write_plain(self.master, s),
            Some(overrides) => {
                let mut value = serde_json::to_value(Plain(self)).map_err(S::Error::custom)?;
                merge_overrides(&mut value, overrides, D::LIST_KEY);
                value.serialize(s)
            }
        }
    }
}

impl<D: Render> Rendered<'_, D> {
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// Appends the document as compact JSON: what `serde_json::to_writer`
    /// writes for it, by the quickest way the kind has.
    pub fn write_to(&self, out: &mut Vec<u8>) -> serde_json::Result<()> {
        if self.doc.overrides().is_none() && self.doc.write_json(self.master, out) {
            return Ok(());
        }
        serde_json::to_writer(out, self)
    }
}

/// Top-level keys are replaced; the detail list merges row by row (object
/// keys replaced), and rows beyond the generated ones are appended.
pub(crate) fn merge_overrides(doc: &mut Value, overrides: &Map<String, Value>, list_key: &str) {
    let Some(obj) = doc.as_object_mut() else {
        return;
    };
    for (key, value) in overrides {
        match (key == list_key, obj.get_mut(key), value) {
            (true, Some(Value::Array(rows)), Value::Array(patches)) => {
                for (i, patch) in patches.iter().enumerate() {
                    match (rows.get_mut(i), patch) {
                        (Some(Value::Object(row)), Value::Object(p)) => {
                            for (k, v) in p {
                                row.insert(k.clone(), v.clone());
                            }
                        }
                        (Some(row), p) => *row = p.clone(),
                        (None, p) => rows.push(p.clone()),
                    }
                }
            }
            _ => {
                obj.insert(key.clone(), value.clone());
            }
        }
    }
}

/// The string form of an override, for filters on overridden fields.
pub(crate) fn override_text(overrides: Option<&Map<String, Value>>, key: &str) -> Option<String> {
    match overrides?.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Null => Some(String::new()),
        other => Some(other.to_string()),
    }
}

/// Every source dataset.
#[derive(Debug)]
pub(crate) struct Sources {
    pub seed: u64,
    pub cfg: DatasetConfig,
    pub purchase_orders: DocStore<PurchaseOrder>,
    pub stockout_returns: DocStore<StockoutReturn>,
    pub refunds: DocStore<Refund>,
    pub trades: DocStore<JackyunTrade>,
    /// Added stock-outs whose status is not shipped/completed: while 0, the
    /// default status filter keeps every document and costs nothing.
    pub stockout_nondefault: usize,
}

fn generate_store<D: SourceDoc + Send>(
    seed: u64,
    count: usize,
    cfg: &DatasetConfig,
    master: &MasterData,
) -> DocStore<D> {
    let docs = (0..count as u32)
        .map(|i| D::generate(seed, i, cfg, master))
        .collect();
    DocStore::new(docs)
}

impl Sources {
    pub fn generate(seed: u64, cfg: &DatasetConfig, master: &MasterData) -> Sources {
        // The four kinds are independent: build them on two threads.
        let (purchase_orders, stockout_returns, refunds, trades) = std::thread::scope(|scope| {
            let po = scope.spawn(|| generate_store(seed, cfg.purchase_orders, cfg, master));
            let stockouts = generate_store(seed, cfg.stockout_returns, cfg, master);
            let refunds = generate_store(seed, cfg.refunds, cfg, master);
            let trades = generate_store(seed, cfg.jackyun_trades, cfg, master);
            let po = po
                .join()
                .unwrap_or_else(|_| generate_store(seed, cfg.purchase_orders, cfg, master));
            (po, stockouts, refunds, trades)
        });
        Sources {
            seed,
            cfg: cfg.clone(),
            purchase_orders,
            stockout_returns,
            refunds,
            trades,
            stockout_nondefault: 0,
        }
    }

    pub fn len(&self, kind: SourceKind) -> usize {
        match kind {
            SourceKind::PurchaseOrders => self.purchase_orders.len(),
            SourceKind::StockoutReturns => self.stockout_returns.len(),
            SourceKind::Refunds => self.refunds.len(),
            SourceKind::JackyunTrades => self.trades.len(),
        }
    }

    pub fn render(&self, kind: SourceKind, key: &str, master: &MasterData) -> Option<Value> {
        fn one<D: SourceDoc>(s: &DocStore<D>, key: &str, m: &MasterData) -> Option<Value> {
            s.get(key).map(|doc| Rendered { doc, master: m }.to_value())
        }
        match kind {
            SourceKind::PurchaseOrders => one(&self.purchase_orders, key, master),
            SourceKind::StockoutReturns => one(&self.stockout_returns, key, master),
            SourceKind::Refunds => one(&self.refunds, key, master),
            SourceKind::JackyunTrades => one(&self.trades, key, master),
        }
    }

    /// Documents in `modified` order, `offset`/`limit` applied.
    pub fn render_range(
        &self,
        kind: SourceKind,
        offset: usize,
        limit: usize,
        master: &MasterData,
    ) -> Vec<Value> {
        fn range<D: SourceDoc>(s: &DocStore<D>, o: usize, l: usize, m: &MasterData) -> Vec<Value> {
            s.ordered()
                .iter()
                .skip(o)
                .take(l)
                .map(|p| {
                    Rendered {
                        doc: s.doc(p.1),
                        master: m,
                    }
                    .to_value()
                })
                .collect()
        }
        match kind {
            SourceKind::PurchaseOrders => range(&self.purchase_orders, offset, limit, master),
            SourceKind::StockoutReturns => range(&self.stockout_returns, offset, limit, master),
            SourceKind::Refunds => range(&self.refunds, offset, limit, master),
            SourceKind::JackyunTrades => range(&self.trades, offset, limit, master),
        }
    }

    /// Keys in `modified` order.
    pub fn keys(&self, kind: SourceKind) -> Vec<String> {
        fn keys<D: SourceDoc>(s: &DocStore<D>) -> Vec<String> {
            s.ordered()
                .iter()
                .map(|p| s.doc(p.1).key().to_string())
                .collect()
        }
        match kind {
            SourceKind::PurchaseOrders => keys(&self.purchase_orders),
            SourceKind::StockoutReturns => keys(&self.stockout_returns),
            SourceKind::Refunds => keys(&self.refunds),
            SourceKind::JackyunTrades => keys(&self.trades),
        }
    }

    /// Re-sync edits: each document gets `modified` = now (later than its
    /// old value) and some changed values. Returns the new documents.
    pub fn modify(
        &mut self,
        kind: SourceKind,
        keys: &[String],
        now: i64,
        master: &MasterData,
    ) -> Result<Vec<Value>, SimError> {
        fn modify<D: SourceDoc>(
            s: &mut DocStore<D>,
            keys: &[String],
            now: i64,
            m: &MasterData,
        ) -> Result<Vec<Value>, SimError> {
            let slots = keys
                .iter()
                .map(|k| {
                    s.slot_of(k).ok_or_else(|| SimError::NoSuchDocument {
                        kind: D::KIND.as_str(),
                        key: k.clone(),
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            let mut out = Vec::with_capacity(slots.len());
            for slot in slots {
                s.update(slot, |d| d.touch(now));
                out.push(
                    Rendered {
                        doc: s.doc(slot),
                        master: m,
                    }
                    .to_value(),
                );
            }
            Ok(out)
        }
        match kind {
            SourceKind::PurchaseOrders => modify(&mut self.purchase_orders, keys, now, master),
            SourceKind::StockoutReturns => modify(&mut self.stockout_returns, keys, now, master),
            SourceKind::Refunds => modify(&mut self.refunds, keys, now, master),
            SourceKind::JackyunTrades => modify(&mut self.trades, keys, now, master),
        }
    }

    /// Adds a generated document with some fields overridden; `modified` is
    /// `now` unless the overrides give one (`"modified": "yyyy-MM-dd HH:mm:ss"`).
    pub fn add(
        &mut self,
        kind: SourceKind,
        overrides: Value,
        now: i64,
        master: &MasterData,
    ) -> Result<Value, SimError> {
        fn add<D: SourceDoc>(
            s: &mut DocStore<D>,
            seed: u64,
            cfg: &DatasetConfig,
            overrides: Value,
            now: i64,
            m: &MasterData,
        ) -> Result<Value, SimError> {
            let bad = |reason: String| SimError::Overrides {
                kind: D::KIND.as_str(),
                reason,
            };
            let mut map = match overrides {
                Value::Object(map) => map,
                Value::Null => Map::new(),
                _ => return Err(bad("overrides must be a JSON object".into())),
            };
            let modified = match map.remove("modified") {
                None => now,
                Some(Value::String(t)) => crate::clock::parse_china(&t).ok_or(SimError::Time(t))?,
                Some(other) => {
                    return Err(bad(format!("modified must be a time string, not {other}")));
                }
            };
            let mut doc = D::generate(seed, s.len() as u32, cfg, m);
            doc.restamp(modified);
            doc.take_overrides(map).map_err(bad)?;
            let key = doc.key().to_string();
            let slot = s.insert(doc).map_err(|_| SimError::DuplicateDocument {
                kind: D::KIND.as_str(),
                key,
            })?;
            Ok(Rendered {
                doc: s.doc(slot),
                master: m,
            }
            .to_value())
        }
        let (seed, cfg) = (self.seed, &self.cfg);
        match kind {
            SourceKind::PurchaseOrders => {
                add(&mut self.purchase_orders, seed, cfg, overrides, now, master)
            }
            SourceKind::StockoutReturns => {
                let value = add(
                    &mut self.stockout_returns,
                    seed,
                    cfg,
                    overrides,
                    now,
                    master,
                )?;
                let key = value
                    .get("stockout_no")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                if self
                    .stockout_returns
                    .get(key)
                    .is_some_and(|d| !d.has_default_status())
                {
                    self.stockout_nondefault += 1;
                }
                Ok(value)
            }
            SourceKind::Refunds => add(&mut self.refunds, seed, cfg, overrides, now, master),
            SourceKind::JackyunTrades => add(&mut self.trades, seed, cfg, overrides, now, master),
        }
    }
}

/// Keeps overrides apart from the key field, which is stored typed.
pub(crate) fn split_key_override(
    overrides: &mut Map<String, Value>,
    key_field: &str,
) -> Result<Option<String>, String> {
    match overrides.remove(key_field) {
        None => Ok(None),
        Some(Value::String(s)) if !s.is_empty() => Ok(Some(s)),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(other) => Err(format!(
            "{key_field} must be a non-empty string, not {other}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::MasterConfig;

    #[test]
    fn dec4_renders_like_mysql_decimals() {
        for v in [
            0,
            5,
            -5,
            9_999,
            -10_000,
            123_400,
            -123_456_789,
            10_000,
            i64::MAX / 2,
            i64::MAX,
            i64::MIN,
        ]
        .into_iter()
        .chain((0..2_000).map(|i: i64| i * i * 7_919 - 1_000_000))
        {
            assert_eq!(
                serde_json::to_value(Dec4(v)).ok(),
                Some(Value::String(Dec4(v).to_string()))
            );
            let mut direct = Vec::new();
            Dec4(v).write_json(&mut direct);
            assert_eq!(
                String::from_utf8_lossy(&direct),
                serde_json::to_string(&Dec4(v)).unwrap_or_default()
            );
        }
        assert_eq!(Dec4(123_400).to_string(), "12.3400");
        assert_eq!(Dec4(-5).to_string(), "-0.0005");
        assert_eq!(Dec4(0).to_string(), "0.0000");
    }

    #[test]
    fn merge_replaces_fields_and_patches_rows() {
        let mut doc = serde_json::json!({"a": 1, "rows": [{"x": 1, "y": 2}, {"x": 3}]});
        let patch = serde_json::json!({"a": 2, "rows": [{"x": 9}, {"y": 4}, {"x": 5}]});
        merge_overrides(&mut doc, patch.as_object().expect("object"), "rows");
        assert_eq!(
            doc,
            serde_json::json!({"a": 2, "rows": [{"x": 9, "y": 2}, {"x": 3, "y": 4}, {"x": 5}]})
        );
    }

    #[test]
    fn direct_writing_matches_serde() {
        let master = MasterData::generate(&MasterConfig::default());
        let cfg = DatasetConfig {
            purchase_orders: 300,
            purchase_order_lines: 7,
            ..DatasetConfig::default()
        };
        let mut sources = Sources::generate(3, &cfg, &master);
        let keys = sources.keys(SourceKind::PurchaseOrders);
        sources
            .modify(
                SourceKind::PurchaseOrders,
                &keys[..5],
                1_800_000_000,
                &master,
            )
            .expect("modified");
        let store = &sources.purchase_orders;
        // Twice: the second pass takes the material runs from the cache.
        for _ in 0..2 {
            for position in store.ordered() {
                let rendered = Rendered {
                    doc: store.doc(position.1),
                    master: &master,
                };
                let mut direct = Vec::new();
                rendered.write_to(&mut direct).expect("written");
                let via_serde = serde_json::to_vec(&rendered).expect("serialised");
                assert_eq!(
                    String::from_utf8_lossy(&direct),
                    String::from_utf8_lossy(&via_serde)
                );
            }
        }
    }

    #[test]
    fn generation_is_deterministic_and_independent_of_size() {
        let master = MasterData::generate(&MasterConfig::default());
        let small = DatasetConfig::default();
        let big = DatasetConfig {
            purchase_orders: 100,
            refunds: 100,
            ..DatasetConfig::default()
        };
        let a = Sources::generate(7, &small, &master);
        let b = Sources::generate(7, &big, &master);
        for kind in SourceKind::ALL {
            let key = &a.keys(kind)[0];
            assert_eq!(
                a.render(kind, key, &master),
                b.render(kind, key, &master),
                "{kind}"
            );
        }
        let c = Sources::generate(8, &small, &master);
        let first = |s: &Sources| s.render_range(SourceKind::PurchaseOrders, 0, 1, &master);
        assert_ne!(first(&a), first(&c));
    }
}
