//! 旺店通·企业版 purchase orders (`purchase_order_query`, seed 002), with
//! `details_list`.

use serde::{Serialize, Serializer};
use serde_json::{Map, Value};

use super::fields::{AsMap, FieldSink, Fields, write_json};
use super::master::{MasterData, Material};
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
        AsMap(&Order {
            order: self,
            master,
        })
        .serialize(s)
    }

    fn write_json(&self, master: &MasterData, out: &mut Vec<u8>) -> bool {
        write_json(
            &Order {
                order: self,
                master,
            },
            out,
        );
        true
    }
}

/// The fields of an order as `purchase_order_query` returns them.
struct Order<'a> {
    order: &'a PurchaseOrder,
    master: &'a MasterData,
}

impl Fields for Order<'_> {
    fn fields<K: FieldSink>(&self, m: &mut K) -> Result<(), K::Error> {
        let (o, master) = (self.order, self.master);
        let provider = &master.suppliers[o.provider as usize];
        let warehouse = &master.warehouses[o.warehouse as usize];
        let (purchaser_id, purchaser_name) = PURCHASERS[o.purchaser as usize % PURCHASERS.len()];
        let goods_amount: i64 = o.lines.iter().map(PurchaseLine::amount).sum();
        let tax_amount: i64 = o.lines.iter().map(PurchaseLine::tax_amount).sum();
        let goods_count: i64 = o.lines.iter().map(|l| l.num).sum();
        let modified = format_china(o.modified);
        let created = format_china(o.created);
        let check_time = format_china(o.check_time);
        let empty = "";
        let zero = Dec4(0);

        m.int("purchase_id", o.purchase_id)?;
        m.str("purchase_no", &o.purchase_no)?;
        m.str("purchase_outer_no", &o.outer_no)?;
        m.str("outer_no", &o.outer_no)?;
        m.str("api_outer_no", &o.outer_no)?;
        m.str("wms_outer_no", empty)?;
        m.int("status", o.status)?;
        m.int("warehouse_id", warehouse.wdt_id)?;
        m.str("warehouse_no", &warehouse.number)?;
        m.str("warehouse_name", &warehouse.name)?;
        m.int("provider_id", provider.wdt_id)?;
        m.str("provider_no", &provider.number)?;
        m.str("provider_name", &provider.name)?;
        m.str("contact", &provider.contact)?;
        m.str("telno", &provider.telno)?;
        m.int("purchaser_id", purchaser_id)?;
        m.str("purchaser_name", purchaser_name)?;
        m.str("receive_address", &format!("{}收货点", warehouse.name))?;
        m.int("logistics_type", 1)?;
        m.str("check_time", &check_time)?;
        m.dec4("goods_amount", Dec4(goods_amount))?;
        m.dec4("post_fee", Dec4(o.post_fee))?;
        m.dec4("other_fee", Dec4(o.other_fee))?;
        m.dec4("tax_goods_amount", Dec4(tax_amount))?;
        m.str("expect_arrive_time", &format_china(o.expect_arrive))?;
        m.int("creator_id", purchaser_id)?;
        m.str("creator_name", purchaser_name)?;
        m.int("wms_status", 0)?;
        m.str("error_info", empty)?;
        m.int("order_type", 1)?;
        m.int("flag_id", 0)?;
        m.int("check_operator_id", purchaser_id)?;
        m.int("facheck_operator_id", 0)?;
        m.str("facheck_time", empty)?;
        m.dec4("goods_fee", Dec4(goods_amount))?;
        m.dec4("goods_count", Dec4(goods_count))?;
        m.dec4("tax_fee", Dec4(tax_amount))?;
        m.int("goods_type_count", o.lines.len() as i64)?;
        m.dec4("goods_arrive_count", zero)?;
        m.str("revert_reason", empty)?;
        m.int("version_id", i64::from(o.revision) + 1)?;
        m.int("note_count", 0)?;
        m.str("prop_time1", empty)?;
        m.str("remark", &o.remark)?;
        m.str("created", &created)?;
        m.str("modified", &modified)?;
        let lines: Vec<Line<'_>> = o
            .lines
            .iter()
            .map(|line| Line {
                order: o,
                line,
                master,
                created: &created,
                modified: &modified,
                warehouse_id: warehouse.wdt_id,
            })
            .collect();
        m.list("details_list", &lines)
    }
}

struct Line<'a> {
    order: &'a PurchaseOrder,
    line: &'a PurchaseLine,
    master: &'a MasterData,
    created: &'a str,
    modified: &'a str,
    warehouse_id: i64,
}

impl Fields for Line<'_> {
    fn fields<K: FieldSink>(&self, m: &mut K) -> Result<(), K::Error> {
        let l = self.line;
        let cache = &self.master.material_fragments;
        let index = l.material as usize;
        let mat = &self.master.materials[index];
        let material = |run| MaterialRun { mat, run };
        let zero = Dec4(0);
        let empty = "";
        m.int("purchase_id", self.order.purchase_id)?;
        m.int("rec_id", l.rec_id)?;
        m.str("remark", &l.remark)?;
        m.str("modified", self.modified)?;
        m.str("created", self.created)?;
        m.str("prop1", empty)?;
        m.str("prop2", empty)?;
        m.int("warehouse_id", self.warehouse_id)?;
        m.group(cache, 0, index, &material(Run::Spec))?;
        m.dec4("num", Dec4(l.num))?;
        m.dec4("price", Dec4(l.price))?;
        m.dec4("discount", Dec4(10_000))?;
        m.dec4("tax", Dec4(l.tax))?;
        m.dec4("tax_price", Dec4(l.tax_price()))?;
        m.dec4("tax_amount", Dec4(l.tax_amount()))?;
        m.dec4("amount", Dec4(l.amount()))?;
        m.dec4("stockin_amount", zero)?;
        m.dec4("stockin_num", zero)?;
        m.group(cache, 1, index, &material(Run::Goods))?;
        m.dec4("purchase_price", Dec4(l.price))?;
        m.dec4("last_price", Dec4(l.price))?;
        m.dec4("last_second_price", Dec4(l.price))?;
        m.dec4("lowest_price", Dec4(l.price))?;
        m.group(cache, 2, index, &material(Run::Weight))?;
        m.dec4("lack_num", Dec4(l.num))?;
        m.group(cache, 3, index, &material(Run::Tail))
    }
}

/// The runs of a purchase line's fields that depend on its material only.
#[derive(Clone, Copy)]
enum Run {
    Spec,
    Goods,
    Weight,
    Tail,
}

struct MaterialRun<'a> {
    mat: &'a Material,
    run: Run,
}

impl Fields for MaterialRun<'_> {
    fn fields<K: FieldSink>(&self, m: &mut K) -> Result<(), K::Error> {
        let mat = self.mat;
        let zero = Dec4(0);
        match self.run {
            Run::Spec => {
                m.str("spec_no", &mat.number)?;
                m.str("brand_name", &mat.brand_name)
            }
            Run::Goods => {
                m.str("provider_goods_no", &format!("P-{}", mat.number))?;
                m.str("goods_no", &mat.goods_no)?;
                m.str("goods_name", &mat.goods_name)?;
                m.str("short_name", &mat.short_name)?;
                m.str("spec_name", &mat.spec_name)?;
                m.str("spec_code", &mat.spec_code)?;
                m.str("base_unit", &mat.unit)?;
                m.str("purchase_unit", &mat.unit)?;
                m.dec4("arrive_num", zero)?;
                m.dec4("stopwait_num", zero)
            }
            Run::Weight => {
                m.dec4("weight", Dec4(mat.weight))?;
                m.dec4("arrive_more_num", zero)
            }
            Run::Tail => {
                m.int("spec_id", mat.wdt_spec_id)?;
                m.str("tag", "")?;
                m.dec4("num2", zero)?;
                m.dec4("unit_ratio", Dec4(10_000))?;
                m.int("unit_id", 0)?;
                m.int("base_unit_id", 0)
            }
        }
    }
}
