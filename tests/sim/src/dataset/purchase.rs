//! 旺店通·企业版 purchase orders (`purchase_order_query`, seed 002), with
//! `details_list`.

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};
use serde_json::{Map, Value};

use super::master::MasterData;
use super::store::Document;
use super::{Dec4, Render, SourceDoc, SourceKind, override_text, split_key_override};
use crate::clock::format_china;
use crate::config::DatasetConfig;
use crate::seeded::SeededRng;

const STATUSES: [i64; 4] = [40, 50, 60, 90];
const PURCHASERS: [(i64, &str); 4] = [
    (11, "采购员甲"),
    (12, "采购员乙"),
    (13, "采购员丙"),
    (14, "采购员丁"),
];
const TAX_RATES: [i64; 4] = [130_000, 130_000, 90_000, 60_000];

#[derive(Clone, Debug)]
pub(crate) struct PurchaseLine {
    pub rec_id: i64,
    pub material: u32,
    /// Quantity ×10000.
    pub num: i64,
    /// Pre-tax unit price ×10000.
    pub price: i64,
    /// Tax rate in percent ×10000 (13% = 130000).
    pub tax: i64,
    pub remark: String,
}

impl PurchaseLine {
    fn amount(&self) -> i64 {
        self.num * self.price / 10_000
    }
    fn tax_price(&self) -> i64 {
        self.price + self.price * self.tax / 1_000_000
    }
    fn tax_amount(&self) -> i64 {
        self.num * self.tax_price() / 10_000
    }
}

#[derive(Clone, Debug)]
pub(crate) struct PurchaseOrder {
    pub purchase_id: i64,
    pub purchase_no: String,
    pub outer_no: String,
    pub status: i64,
    pub provider: u32,
    pub warehouse: u32,
    pub purchaser: u8,
    pub created: i64,
    pub check_time: i64,
    pub modified: i64,
    pub expect_arrive: i64,
    pub post_fee: i64,
    pub other_fee: i64,
    pub remark: String,
    pub revision: u32,
    pub lines: Vec<PurchaseLine>,
    pub overrides: Option<Box<Map<String, Value>>>,
}

impl PurchaseOrder {
    pub fn status_text(&self) -> String {
        override_text(self.overrides(), "status").unwrap_or_else(|| self.status.to_string())
    }

    pub fn warehouse_no(&self, master: &MasterData) -> String {
        override_text(self.overrides(), "warehouse_no")
            .unwrap_or_else(|| master.warehouses[self.warehouse as usize].number.clone())
    }
}

impl Document for PurchaseOrder {
    fn key(&self) -> &str {
        &self.purchase_no
    }
    fn modified(&self) -> i64 {
        self.modified
    }
    fn alt_keys(&self) -> Vec<String> {
        if self.outer_no.is_empty() {
            Vec::new()
        } else {
            vec![format!("outer:{}", self.outer_no)]
        }
    }
}

impl SourceDoc for PurchaseOrder {
    const KIND: SourceKind = SourceKind::PurchaseOrders;

    fn generate(seed: u64, index: u32, cfg: &DatasetConfig, master: &MasterData) -> PurchaseOrder {
        let mut rng = SeededRng::for_item(seed, 1, index as u64);
        let span = cfg.spread_days as u64 * 86_400;
        let modified = cfg.base_time + rng.below(span.max(1)) as i64;
        let created = modified - rng.between(3_600, 3 * 86_400);
        let check_time = created + rng.between(60, 3_600);
        let purchase_id = 10_001 + index as i64;
        let n_lines = cfg.purchase_order_lines.max(1);
        let n_mat = master.materials.len() as u64;
        let first = rng.below(n_mat);
        let lines = (0..n_lines)
            .map(|j| {
                // Consecutive materials from a random start: distinct per order.
                let material = ((first + j as u64 * 7) % n_mat) as u32;
                let base = master.materials[material as usize].base_price * 6 / 10;
                PurchaseLine {
                    rec_id: purchase_id * 100 + j as i64 + 1,
                    material,
                    num: rng.between(1, 200) * 10_000,
                    price: base + rng.between(0, 50) * 100,
                    tax: *rng.pick(&TAX_RATES),
                    remark: String::new(),
                }
            })
            .collect();
        PurchaseOrder {
            purchase_id,
            purchase_no: format!("CG{:08}", index + 1),
            outer_no: if rng.chance(0.3) {
                format!("API-PO-{:08}", index + 1)
            } else {
                String::new()
            },
            status: *rng.pick(&STATUSES),
            provider: rng.below(master.suppliers.len() as u64) as u32,
            warehouse: rng.below(master.warehouses.len() as u64) as u32,
            purchaser: rng.below(PURCHASERS.len() as u64) as u8,
            created,
            check_time,
            modified,
            expect_arrive: check_time + rng.between(2, 10) * 86_400,
            post_fee: rng.between(0, 5) * 50_000,
            other_fee: 0,
            remark: String::new(),
            revision: 0,
            lines,
            overrides: None,
        }
    }

    fn touch(&mut self, now: i64) {
        self.revision += 1;
        self.modified = now.max(self.modified + 1);
        self.remark = format!("修改第{}次", self.revision);
        if let Some(line) = self.lines.first_mut() {
            line.num += 10_000;
            line.remark = format!("数量调整第{}次", self.revision);
        }
    }

    fn restamp(&mut self, modified: i64) {
        self.modified = modified;
        self.created = modified - 3_600;
        self.check_time = modified - 1_800;
        self.expect_arrive = modified + 3 * 86_400;
    }

    fn take_overrides(&mut self, mut overrides: Map<String, Value>) -> Result<(), String> {
        if let Some(no) = split_key_override(&mut overrides, "purchase_no")? {
            self.purchase_no = no;
        }
        if let Some(Value::String(outer)) = overrides.get("outer_no") {
            self.outer_no = outer.clone();
        }
        if !overrides.is_empty() {
            self.overrides = Some(Box::new(overrides));
        }
        Ok(())
    }
}

impl Render for PurchaseOrder {
    const LIST_KEY: &'static str = "details_list";

    fn overrides(&self) -> Option<&Map<String, Value>> {
        self.overrides.as_deref()
    }

    fn write_plain<S: Serializer>(&self, master: &MasterData, s: S) -> Result<S::Ok, S::Error> {
        let provider = &master.suppliers[self.provider as usize];
        let warehouse = &master.warehouses[self.warehouse as usize];
        let (purchaser_id, purchaser_name) = PURCHASERS[self.purchaser as usize % PURCHASERS.len()];
        let goods_amount: i64 = self.lines.iter().map(PurchaseLine::amount).sum();
        let tax_amount: i64 = self.lines.iter().map(PurchaseLine::tax_amount).sum();
        let goods_count: i64 = self.lines.iter().map(|l| l.num).sum();
        let modified = format_china(self.modified);
        let created = format_china(self.created);
        let check_time = format_china(self.check_time);
        let empty = "";
        let zero = Dec4(0);

        let mut m = s.serialize_map(None)?;
        m.serialize_entry("purchase_id", &self.purchase_id)?;
        m.serialize_entry("purchase_no", &self.purchase_no)?;
        m.serialize_entry("purchase_outer_no", &self.outer_no)?;
        m.serialize_entry("outer_no", &self.outer_no)?;
        m.serialize_entry("api_outer_no", &self.outer_no)?;
        m.serialize_entry("wms_outer_no", empty)?;
        m.serialize_entry("status", &self.status)?;
        m.serialize_entry("warehouse_id", &warehouse.wdt_id)?;
        m.serialize_entry("warehouse_no", &warehouse.number)?;
        m.serialize_entry("warehouse_name", &warehouse.name)?;
        m.serialize_entry("provider_id", &provider.wdt_id)?;
        m.serialize_entry("provider_no", &provider.number)?;
        m.serialize_entry("provider_name", &provider.name)?;
        m.serialize_entry("contact", &provider.contact)?;
        m.serialize_entry("telno", &provider.telno)?;
        m.serialize_entry("purchaser_id", &purchaser_id)?;
        m.serialize_entry("purchaser_name", purchaser_name)?;
        m.serialize_entry("receive_address", &format!("{}收货点", warehouse.name))?;
        m.serialize_entry("logistics_type", &1)?;
        m.serialize_entry("check_time", &check_time)?;
        m.serialize_entry("goods_amount", &Dec4(goods_amount))?;
        m.serialize_entry("post_fee", &Dec4(self.post_fee))?;
        m.serialize_entry("other_fee", &Dec4(self.other_fee))?;
        m.serialize_entry("tax_goods_amount", &Dec4(tax_amount))?;
        m.serialize_entry("expect_arrive_time", &format_china(self.expect_arrive))?;
        m.serialize_entry("creator_id", &purchaser_id)?;
        m.serialize_entry("creator_name", purchaser_name)?;
        m.serialize_entry("wms_status", &0)?;
        m.serialize_entry("error_info", empty)?;
        m.serialize_entry("order_type", &1)?;
        m.serialize_entry("flag_id", &0)?;
        m.serialize_entry("check_operator_id", &purchaser_id)?;
        m.serialize_entry("facheck_operator_id", &0)?;
        m.serialize_entry("facheck_time", empty)?;
        m.serialize_entry("goods_fee", &Dec4(goods_amount))?;
        m.serialize_entry("goods_count", &Dec4(goods_count))?;
        m.serialize_entry("tax_fee", &Dec4(tax_amount))?;
        m.serialize_entry("goods_type_count", &self.lines.len())?;
        m.serialize_entry("goods_arrive_count", &zero)?;
        m.serialize_entry("revert_reason", empty)?;
        m.serialize_entry("version_id", &(self.revision + 1))?;
        m.serialize_entry("note_count", &0)?;
        m.serialize_entry("prop_time1", empty)?;
        m.serialize_entry("remark", &self.remark)?;
        m.serialize_entry("created", &created)?;
        m.serialize_entry("modified", &modified)?;
        m.serialize_entry(
            "details_list",
            &Lines {
                order: self,
                master,
                created: &created,
                modified: &modified,
                warehouse_id: warehouse.wdt_id,
            },
        )?;
        m.end()
    }
}

struct Lines<'a> {
    order: &'a PurchaseOrder,
    master: &'a MasterData,
    created: &'a str,
    modified: &'a str,
    warehouse_id: i64,
}

impl Serialize for Lines<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(
            self.order
                .lines
                .iter()
                .map(|line| Line { lines: self, line }),
        )
    }
}

struct Line<'a> {
    lines: &'a Lines<'a>,
    line: &'a PurchaseLine,
}

impl Serialize for Line<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let l = self.line;
        let ctx = self.lines;
        let mat = &ctx.master.materials[l.material as usize];
        let zero = Dec4(0);
        let empty = "";
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("purchase_id", &ctx.order.purchase_id)?;
        m.serialize_entry("rec_id", &l.rec_id)?;
        m.serialize_entry("remark", &l.remark)?;
        m.serialize_entry("modified", ctx.modified)?;
        m.serialize_entry("created", ctx.created)?;
        m.serialize_entry("prop1", empty)?;
        m.serialize_entry("prop2", empty)?;
        m.serialize_entry("warehouse_id", &ctx.warehouse_id)?;
        m.serialize_entry("spec_no", &mat.number)?;
        m.serialize_entry("brand_name", &mat.brand_name)?;
        m.serialize_entry("num", &Dec4(l.num))?;
        m.serialize_entry("price", &Dec4(l.price))?;
        m.serialize_entry("discount", &Dec4(10_000))?;
        m.serialize_entry("tax", &Dec4(l.tax))?;
        m.serialize_entry("tax_price", &Dec4(l.tax_price()))?;
        m.serialize_entry("tax_amount", &Dec4(l.tax_amount()))?;
        m.serialize_entry("amount", &Dec4(l.amount()))?;
        m.serialize_entry("stockin_amount", &zero)?;
        m.serialize_entry("stockin_num", &zero)?;
        m.serialize_entry("provider_goods_no", &format!("P-{}", mat.number))?;
        m.serialize_entry("goods_no", &mat.goods_no)?;
        m.serialize_entry("goods_name", &mat.goods_name)?;
        m.serialize_entry("short_name", &mat.short_name)?;
        m.serialize_entry("spec_name", &mat.spec_name)?;
        m.serialize_entry("spec_code", &mat.spec_code)?;
        m.serialize_entry("base_unit", &mat.unit)?;
        m.serialize_entry("purchase_unit", &mat.unit)?;
        m.serialize_entry("arrive_num", &zero)?;
        m.serialize_entry("stopwait_num", &zero)?;
        m.serialize_entry("purchase_price", &Dec4(l.price))?;
        m.serialize_entry("last_price", &Dec4(l.price))?;
        m.serialize_entry("last_second_price", &Dec4(l.price))?;
        m.serialize_entry("lowest_price", &Dec4(l.price))?;
        m.serialize_entry("weight", &Dec4(mat.weight))?;
        m.serialize_entry("arrive_more_num", &zero)?;
        m.serialize_entry("lack_num", &Dec4(l.num))?;
        m.serialize_entry("spec_id", &mat.wdt_spec_id)?;
        m.serialize_entry("tag", empty)?;
        m.serialize_entry("num2", &zero)?;
        m.serialize_entry("unit_ratio", &Dec4(10_000))?;
        m.serialize_entry("unit_id", &0)?;
        m.serialize_entry("base_unit_id", &0)?;
        m.end()
    }
}
