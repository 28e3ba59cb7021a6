//! 旺店通 purchase-return stock-outs (`stockout_order_query_return` and the
//! 奇门 `wdt.stockout.order.query.return`, seed 000), with `detail_list`
//! and each detail's `position_list`.

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};
use serde_json::{Map, Value};

use super::master::MasterData;
use super::store::Document;
use super::{Dec4, Render, SourceDoc, SourceKind, override_text, split_key_override};
use crate::clock::format_china;
use crate::config::DatasetConfig;
use crate::seeded::SeededRng;

/// Shipped (95) and completed (110): what the API returns by default.
pub(crate) const DEFAULT_STATUSES: [i64; 2] = [95, 110];
const OPERATORS: [(i64, &str); 3] = [(21, "仓管甲"), (22, "仓管乙"), (23, "仓管丙")];

/// Header fields the seed lists with a constant default: `0`, `0.0000` or ''.
#[derive(Clone, Copy)]
enum Fixed {
    Int(i64),
    Dec(i64),
    Text(&'static str),
}

const FIXED_HEADER: [(&str, Fixed); 58] = [
    ("subtype", Fixed::Int(0)),
    ("package_fee", Fixed::Dec(0)),
    ("receiver_country", Fixed::Int(0)),
    ("receiver_telno", Fixed::Text("")),
    ("stockout_reason", Fixed::Text("采购退货")),
    ("pr_api_outer_no", Fixed::Text("")),
    ("picklist_print_status", Fixed::Int(0)),
    ("logistics_print_status", Fixed::Int(0)),
    ("sendbill_print_status", Fixed::Int(0)),
    ("wms_status", Fixed::Int(0)),
    ("error_info", Fixed::Text("")),
    ("warehouse_type", Fixed::Int(1)),
    ("customer_id", Fixed::Int(0)),
    ("freeze_reason", Fixed::Int(0)),
    ("is_allocated", Fixed::Int(0)),
    ("consign_status", Fixed::Int(4)),
    ("ebill_status", Fixed::Int(0)),
    ("md5_str", Fixed::Text("")),
    ("custom_type", Fixed::Int(0)),
    ("receiver_ring", Fixed::Text("")),
    ("to_deliver_time", Fixed::Text("")),
    ("pre_charge_time", Fixed::Text("")),
    ("logistics_id", Fixed::Int(0)),
    ("unknown_goods_amount", Fixed::Dec(0)),
    ("calc_post_cost", Fixed::Dec(0)),
    ("post_cost", Fixed::Dec(0)),
    ("calc_weight", Fixed::Dec(0)),
    ("post_weight", Fixed::Dec(0)),
    ("package_id", Fixed::Int(0)),
    ("package_cost", Fixed::Dec(0)),
    ("has_invoice", Fixed::Int(0)),
    ("printer_id", Fixed::Int(0)),
    ("pick_error_count", Fixed::Int(0)),
    ("picker_id", Fixed::Int(0)),
    ("sorter_id", Fixed::Int(0)),
    ("examiner_id", Fixed::Int(0)),
    ("consigner_id", Fixed::Int(0)),
    ("packager_id", Fixed::Int(0)),
    ("pack_score", Fixed::Int(0)),
    ("pick_score", Fixed::Int(0)),
    ("checkouter_id", Fixed::Int(0)),
    ("watcher_id", Fixed::Int(0)),
    ("picklist_no", Fixed::Text("")),
    ("picklist_seq", Fixed::Int(0)),
    ("invoice_print_status", Fixed::Int(0)),
    ("flag_id", Fixed::Int(0)),
    ("logistics_template_id", Fixed::Int(0)),
    ("sendbill_template_id", Fixed::Int(0)),
    ("pos_allocate_mode", Fixed::Int(0)),
    ("note_count", Fixed::Int(0)),
    ("reason_id", Fixed::Int(0)),
    ("lock_id", Fixed::Int(0)),
    ("reserve", Fixed::Int(0)),
    ("block_reason", Fixed::Int(0)),
    ("batch_no", Fixed::Text("")),
    ("logistics_no", Fixed::Text("")),
    ("receiver_zip", Fixed::Text("")),
    ("raw_goods_count", Fixed::Int(0)),
];

impl Serialize for Fixed {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Fixed::Int(v) => s.serialize_i64(*v),
            Fixed::Dec(v) => Dec4(*v).serialize(s),
            Fixed::Text(t) => s.serialize_str(t),
        }
    }
}

#[derive(Clone, Debug)]
pub(crate) struct StockoutLine {
    pub rec_id: i64,
    pub material: u32,
    /// Quantity ×10000.
    pub num: i64,
    /// Unit price ×10000.
    pub price: i64,
    /// Quantities per storage position; they add up to `num`.
    pub positions: Vec<(i64, String, i64)>,
    pub remark: String,
}

#[derive(Clone, Debug)]
pub(crate) struct StockoutReturn {
    pub stockout_id: i64,
    pub stockout_no: String,
    pub return_no: String,
    pub status: i64,
    pub provider: u32,
    pub warehouse: u32,
    pub operator: u8,
    pub created: i64,
    pub check_time: i64,
    pub consign_time: i64,
    pub modified: i64,
    pub remark: String,
    pub revision: u32,
    pub lines: Vec<StockoutLine>,
    pub overrides: Option<Box<Map<String, Value>>>,
}

impl StockoutReturn {
    pub fn status_text(&self) -> String {
        override_text(self.overrides(), "status").unwrap_or_else(|| self.status.to_string())
    }

    pub fn warehouse_no(&self, master: &MasterData) -> String {
        override_text(self.overrides(), "warehouse_no")
            .unwrap_or_else(|| master.warehouses[self.warehouse as usize].number.clone())
    }

    pub fn src_order_no(&self) -> String {
        override_text(self.overrides(), "src_order_no").unwrap_or_else(|| self.return_no.clone())
    }

    /// Whether the default status filter (shipped or completed) keeps it.
    pub fn has_default_status(&self) -> bool {
        let status = self.status_text();
        DEFAULT_STATUSES.iter().any(|s| s.to_string() == status)
    }
}

impl Document for StockoutReturn {
    fn key(&self) -> &str {
        &self.stockout_no
    }
    fn modified(&self) -> i64 {
        self.modified
    }
    fn alt_keys(&self) -> Vec<String> {
        vec![format!("src:{}", self.return_no)]
    }
}

impl SourceDoc for StockoutReturn {
    const KIND: SourceKind = SourceKind::StockoutReturns;

    fn generate(seed: u64, index: u32, cfg: &DatasetConfig, master: &MasterData) -> StockoutReturn {
        let mut rng = SeededRng::for_item(seed, 2, index as u64);
        let span = cfg.spread_days as u64 * 86_400;
        let modified = cfg.base_time + rng.below(span.max(1)) as i64;
        let created = modified - rng.between(3_600, 2 * 86_400);
        let check_time = created + rng.between(60, 1_800);
        let consign_time = (check_time + rng.between(60, 3_600)).min(modified);
        let stockout_id = 20_001 + index as i64;
        let n_mat = master.materials.len() as u64;
        let first = rng.below(n_mat);
        let lines = (0..cfg.stockout_lines.max(1))
            .map(|j| {
                let material = ((first + j as u64 * 11) % n_mat) as u32;
                let num = rng.between(1, 20);
                let split = if num > 1 && rng.chance(0.4) {
                    rng.between(1, num - 1)
                } else {
                    num
                };
                let rec_id = stockout_id * 100 + j as i64 + 1;
                let mut positions = vec![(
                    rec_id * 10 + 1,
                    format!("A-{:02}-{:02}", j + 1, 1),
                    split * 10_000,
                )];
                if split < num {
                    positions.push((
                        rec_id * 10 + 2,
                        format!("B-{:02}-{:02}", j + 1, 2),
                        (num - split) * 10_000,
                    ));
                }
                StockoutLine {
                    rec_id,
                    material,
                    num: num * 10_000,
                    price: master.materials[material as usize].base_price * 6 / 10,
                    positions,
                    remark: String::new(),
                }
            })
            .collect();
        StockoutReturn {
            stockout_id,
            stockout_no: format!("CK{:08}", index + 1),
            return_no: format!("CGTH{:08}", index + 1),
            status: *rng.pick(&DEFAULT_STATUSES),
            provider: rng.below(master.suppliers.len() as u64) as u32,
            warehouse: rng.below(master.warehouses.len() as u64) as u32,
            operator: rng.below(OPERATORS.len() as u64) as u8,
            created,
            check_time,
            consign_time,
            modified,
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
            if let Some(p) = line.positions.first_mut() {
                p.2 += 10_000;
            }
        }
    }

    fn restamp(&mut self, modified: i64) {
        self.modified = modified;
        self.created = modified - 3_600;
        self.check_time = modified - 1_800;
        self.consign_time = modified - 600;
    }

    fn take_overrides(&mut self, mut overrides: Map<String, Value>) -> Result<(), String> {
        if let Some(no) = split_key_override(&mut overrides, "stockout_no")? {
            self.stockout_no = no;
        }
        if !overrides.is_empty() {
            self.overrides = Some(Box::new(overrides));
        }
        Ok(())
    }
}

impl Render for StockoutReturn {
    const LIST_KEY: &'static str = "detail_list";

    fn overrides(&self) -> Option<&Map<String, Value>> {
        self.overrides.as_deref()
    }

    fn write_plain<S: Serializer>(&self, master: &MasterData, s: S) -> Result<S::Ok, S::Error> {
        let provider = &master.suppliers[self.provider as usize];
        let warehouse = &master.warehouses[self.warehouse as usize];
        let (operator_id, operator_name) = OPERATORS[self.operator as usize % OPERATORS.len()];
        let count: i64 = self.lines.iter().map(|l| l.num).sum();
        let amount: i64 = self.lines.iter().map(|l| l.num * l.price / 10_000).sum();
        let modified = format_china(self.modified);
        let created = format_china(self.created);
        let status_name = if self.status == 110 {
            "已完成"
        } else {
            "已发货"
        };

        let mut m = s.serialize_map(None)?;
        m.serialize_entry("stockout_id", &self.stockout_id)?;
        m.serialize_entry("order_no", &self.stockout_no)?;
        m.serialize_entry("stockout_no", &self.stockout_no)?;
        m.serialize_entry("src_order_no", &self.return_no)?;
        m.serialize_entry("return_no", &self.return_no)?;
        m.serialize_entry("warehouse_no", &warehouse.number)?;
        m.serialize_entry("warehouse_id", &warehouse.wdt_id)?;
        m.serialize_entry("status", &self.status)?;
        m.serialize_entry("consign_time", &format_china(self.consign_time))?;
        m.serialize_entry("order_type", &3)?;
        m.serialize_entry("order_type_name", "采购退货出库")?;
        m.serialize_entry("src_order_type", &3)?;
        m.serialize_entry("src_order_id", &(self.stockout_id + 500_000))?;
        m.serialize_entry("goods_count", &Dec4(count))?;
        m.serialize_entry("goods_total_amount", &Dec4(amount))?;
        m.serialize_entry("goods_total_cost", &Dec4(amount))?;
        m.serialize_entry("goods_type_count", &self.lines.len())?;
        m.serialize_entry("post_fee", &Dec4(0))?;
        m.serialize_entry("receiver_name", &provider.contact)?;
        m.serialize_entry("receiver_province", "浙江省")?;
        m.serialize_entry("receiver_city", "杭州市")?;
        m.serialize_entry("receiver_district", "西湖区")?;
        m.serialize_entry("receiver_area", "浙江省 杭州市 西湖区")?;
        m.serialize_entry("receiver_address", &format!("{}退货收货处", provider.name))?;
        m.serialize_entry("receiver_mobile", &provider.telno)?;
        m.serialize_entry("weight", &Dec4(0))?;
        m.serialize_entry("remark", &self.remark)?;
        m.serialize_entry("outer_no", "")?;
        m.serialize_entry("operator_id", &operator_id)?;
        m.serialize_entry("operator_name", operator_name)?;
        m.serialize_entry("provider_no", &provider.number)?;
        m.serialize_entry("provider_name", &provider.name)?;
        m.serialize_entry(
            "last_load_purchase_no",
            &format!("CG{:08}", self.stockout_id - 20_000),
        )?;
        m.serialize_entry("stock_check_time", &format_china(self.check_time))?;
        m.serialize_entry("status_name", status_name)?;
        for (key, value) in FIXED_HEADER.iter() {
            m.serialize_entry(key, value)?;
        }
        m.serialize_entry("created", &created)?;
        m.serialize_entry("modified", &modified)?;
        let lines: Vec<Line<'_>> = self
            .lines
            .iter()
            .map(|line| Line {
                order: self,
                line,
                master,
                created: &created,
                modified: &modified,
            })
            .collect();
        m.serialize_entry("detail_list", &lines)?;
        m.end()
    }
}

struct Line<'a> {
    order: &'a StockoutReturn,
    line: &'a StockoutLine,
    master: &'a MasterData,
    created: &'a str,
    modified: &'a str,
}

struct Position<'a>(&'a (i64, String, i64));

impl Serialize for Position<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(3))?;
        m.serialize_entry("position_id", &self.0.0)?;
        m.serialize_entry("position_no", &self.0.1)?;
        m.serialize_entry("position_goods_count", &Dec4(self.0.2))?;
        m.end()
    }
}

impl Serialize for Line<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let l = self.line;
        let mat = &self.master.materials[l.material as usize];
        let amount = l.num * l.price / 10_000;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("rec_id", &l.rec_id)?;
        m.serialize_entry("stockout_id", &self.order.stockout_id)?;
        m.serialize_entry("spec_no", &mat.number)?;
        m.serialize_entry("goods_count", &Dec4(l.num))?;
        m.serialize_entry("sell_price", &Dec4(l.price))?;
        m.serialize_entry("brand_no", &mat.brand_no)?;
        m.serialize_entry("brand_name", &mat.brand_name)?;
        m.serialize_entry("goods_name", &mat.goods_name)?;
        m.serialize_entry("goods_no", &mat.goods_no)?;
        m.serialize_entry("spec_name", &mat.spec_name)?;
        m.serialize_entry("spec_code", &mat.spec_code)?;
        m.serialize_entry("cost_price", &Dec4(l.price))?;
        m.serialize_entry("total_amount", &Dec4(amount))?;
        m.serialize_entry("weight", &Dec4(mat.weight * l.num / 10_000))?;
        m.serialize_entry("goods_type", &1)?;
        m.serialize_entry("goods_unit", &mat.unit)?;
        m.serialize_entry("batch_no", "")?;
        m.serialize_entry("batch_remark", "")?;
        m.serialize_entry("expire_date", "")?;
        m.serialize_entry("remark", &l.remark)?;
        m.serialize_entry("goods_id", &mat.wdt_goods_id)?;
        m.serialize_entry("spec_id", &mat.wdt_spec_id)?;
        m.serialize_entry(
            "position_id",
            &l.positions.first().map(|p| p.0).unwrap_or(0),
        )?;
        m.serialize_entry("src_order_type", &3)?;
        m.serialize_entry("src_order_detail_id", &(l.rec_id + 5_000_000))?;
        m.serialize_entry("base_unit_id", &0)?;
        m.serialize_entry("unit_id", &0)?;
        m.serialize_entry("unit_ratio", &Dec4(10_000))?;
        m.serialize_entry("num2", &Dec4(0))?;
        m.serialize_entry("num", &Dec4(l.num))?;
        m.serialize_entry("price", &Dec4(l.price))?;
        m.serialize_entry("batch_id", &0)?;
        m.serialize_entry("is_examined", &0)?;
        m.serialize_entry("is_package", &0)?;
        m.serialize_entry("is_zero_cost", &0)?;
        m.serialize_entry("scan_type", &0)?;
        m.serialize_entry("modified", self.modified)?;
        m.serialize_entry("created", self.created)?;
        let positions: Vec<Position<'_>> = l.positions.iter().map(Position).collect();
        m.serialize_entry("position_list", &positions)?;
        m.end()
    }
}
