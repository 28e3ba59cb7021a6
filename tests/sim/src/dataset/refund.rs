//! 聚水潭 after-sale refunds (`/open/refund/single/query`, seed 003), with
//! `items`. Ids are JSON numbers and amounts plain numbers, as 聚水潭 sends.

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};
use serde_json::{Map, Value};

use super::master::MasterData;
use super::store::Document;
use super::{Render, SourceDoc, SourceKind, num4, override_text, split_key_override};
use crate::clock::format_china;
use crate::config::DatasetConfig;
use crate::seeded::SeededRng;

const STATUSES: [&str; 4] = ["Confirmed", "Confirmed", "Confirmed", "WaitConfirm"];
const GOOD_STATUSES: [&str; 3] = [
    "BUYER_RETURNED_GOODS",
    "SELLER_RECEIVED",
    "BUYER_NOT_RECEIVED",
];
const QUESTIONS: [&str; 3] = ["七天无理由退货", "质量问题", "尺码不合适"];
const CARRIERS: [(&str, &str); 3] = [("中通快递", "ZT"), ("圆通速递", "YT"), ("韵达快递", "YD")];

#[derive(Clone, Debug)]
pub(crate) struct RefundItem {
    pub asi_id: i64,
    pub material: u32,
    pub qty: i64,
    pub r_qty: i64,
    /// Unit price ×10000.
    pub price: i64,
}

#[derive(Clone, Debug)]
pub(crate) struct Refund {
    pub as_id: i64,
    pub key: String,
    pub o_id: i64,
    pub so_id: String,
    pub shop: u32,
    pub status: &'static str,
    pub good_status: &'static str,
    pub question: &'static str,
    pub carrier: u8,
    pub jst_warehouse: u8,
    pub as_date: i64,
    pub created: i64,
    pub confirm_date: i64,
    pub modified: i64,
    /// Freight ×10000.
    pub freight: i64,
    pub remark: String,
    pub revision: u32,
    pub items: Vec<RefundItem>,
    pub overrides: Option<Box<Map<String, Value>>>,
}

impl Refund {
    pub fn text(&self, field: &str, master: &MasterData) -> String {
        if let Some(v) = override_text(self.overrides(), field) {
            return v;
        }
        match field {
            "status" => self.status.to_string(),
            "good_status" => self.good_status.to_string(),
            "type" => "普通退货".to_string(),
            "shop_id" => master.shops[self.shop as usize].jst_shop_id.to_string(),
            "so_id" => self.so_id.clone(),
            "o_id" => self.o_id.to_string(),
            "shop_buyer_id" => buyer(self.o_id),
            _ => String::new(),
        }
    }
}

fn buyer(o_id: i64) -> String {
    format!("tb_buyer_{:05}", o_id % 50_000)
}

impl Document for Refund {
    fn key(&self) -> &str {
        &self.key
    }
    fn modified(&self) -> i64 {
        self.modified
    }
    fn alt_keys(&self) -> Vec<String> {
        vec![format!("o:{}", self.o_id), format!("s:{}", self.so_id)]
    }
}

impl SourceDoc for Refund {
    const KIND: SourceKind = SourceKind::Refunds;

    fn generate(seed: u64, index: u32, cfg: &DatasetConfig, master: &MasterData) -> Refund {
        let mut rng = SeededRng::for_item(seed, 3, index as u64);
        let span = cfg.spread_days as u64 * 86_400;
        let modified = cfg.base_time + rng.below(span.max(1)) as i64;
        let as_date = modified - rng.between(86_400, 5 * 86_400);
        let created = as_date + rng.between(60, 3_600);
        let confirm_date = (created + rng.between(600, 86_400)).min(modified);
        let as_id = 3_000_001 + index as i64;
        let n_mat = master.materials.len() as u64;
        let first = rng.below(n_mat);
        let items = (0..cfg.refund_lines.max(1))
            .map(|j| {
                let material = ((first + j as u64 * 13) % n_mat) as u32;
                let qty = rng.between(1, 3);
                RefundItem {
                    asi_id: as_id * 10 + j as i64 + 1,
                    material,
                    qty,
                    r_qty: qty,
                    price: master.materials[material as usize].base_price,
                }
            })
            .collect();
        Refund {
            as_id,
            key: as_id.to_string(),
            o_id: 1_000_001 + index as i64,
            so_id: format!("{}", 2_024_000_000_000_000_u64 + index as u64 * 7 + 3),
            shop: rng.below(master.shops.len() as u64) as u32,
            status: STATUSES[rng.below(STATUSES.len() as u64) as usize],
            good_status: GOOD_STATUSES[rng.below(GOOD_STATUSES.len() as u64) as usize],
            question: QUESTIONS[rng.below(QUESTIONS.len() as u64) as usize],
            carrier: rng.below(CARRIERS.len() as u64) as u8,
            jst_warehouse: 1,
            as_date,
            created,
            confirm_date,
            modified,
            freight: rng.between(0, 2) * 60_000,
            remark: String::new(),
            revision: 0,
            items,
            overrides: None,
        }
    }

    fn touch(&mut self, now: i64) {
        self.revision += 1;
        self.modified = now.max(self.modified + 1);
        self.remark = format!("修改第{}次", self.revision);
        self.freight += 10_000;
    }

    fn restamp(&mut self, modified: i64) {
        self.modified = modified;
        self.as_date = modified - 7_200;
        self.created = modified - 3_600;
        self.confirm_date = modified - 600;
    }

    fn take_overrides(&mut self, mut overrides: Map<String, Value>) -> Result<(), String> {
        if let Some(id) = split_key_override(&mut overrides, "as_id")? {
            self.as_id = id
                .parse()
                .map_err(|_| format!("as_id must be a number, not {id}"))?;
            self.key = id;
        }
        if let Some(v) = overrides.get("o_id") {
            self.o_id = v
                .as_i64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
                .ok_or_else(|| format!("o_id must be a number, not {v}"))?;
            overrides.remove("o_id");
        }
        if let Some(Value::String(so)) = overrides.remove("so_id") {
            self.so_id = so;
        }
        if !overrides.is_empty() {
            self.overrides = Some(Box::new(overrides));
        }
        Ok(())
    }
}

impl Render for Refund {
    const LIST_KEY: &'static str = "items";

    fn overrides(&self) -> Option<&Map<String, Value>> {
        self.overrides.as_deref()
    }

    fn write_plain<S: Serializer>(&self, master: &MasterData, s: S) -> Result<S::Ok, S::Error> {
        let shop = &master.shops[self.shop as usize];
        let wh = &master.jst_warehouses[self.jst_warehouse as usize % master.jst_warehouses.len()];
        let (carrier, prefix) = CARRIERS[self.carrier as usize % CARRIERS.len()];
        let refund: i64 = self.items.iter().map(|i| i.price * i.r_qty).sum();
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("as_id", &self.as_id)?;
        m.serialize_entry("as_date", &format_china(self.as_date))?;
        m.serialize_entry(
            "outer_as_id",
            &format!("{}", 9_000_000_000_u64 + self.as_id as u64),
        )?;
        m.serialize_entry("o_id", &self.o_id)?;
        m.serialize_entry("so_id", &self.so_id)?;
        m.serialize_entry("type", "普通退货")?;
        m.serialize_entry("created", &format_china(self.created))?;
        m.serialize_entry("modified", &format_china(self.modified))?;
        m.serialize_entry("status", self.status)?;
        m.serialize_entry("shop_status", "WAIT_SELLER_CONFIRM_GOODS")?;
        m.serialize_entry("remark", &self.remark)?;
        m.serialize_entry("question_type", self.question)?;
        m.serialize_entry("warehouse", &wh.name)?;
        m.serialize_entry("refund", &num4(refund))?;
        m.serialize_entry("payment", &0)?;
        m.serialize_entry("good_status", self.good_status)?;
        m.serialize_entry("node", &self.remark)?;
        m.serialize_entry("order_status", "Sent")?;
        m.serialize_entry("shop_id", &shop.jst_shop_id)?;
        m.serialize_entry("shop_name", &shop.name)?;
        m.serialize_entry("logistics_company", carrier)?;
        m.serialize_entry(
            "l_id",
            &format!("{prefix}{}", 7_500_000_000_u64 + self.as_id as u64),
        )?;
        m.serialize_entry("wh_id", &wh.number.parse::<i64>().unwrap_or(1))?;
        m.serialize_entry("wms_co_id", &0)?;
        m.serialize_entry("confirm_date", &format_china(self.confirm_date))?;
        m.serialize_entry("freight", &num4(self.freight))?;
        m.serialize_entry("drp_co_id_from", &0)?;
        m.serialize_entry("receiver_mobile", "138****0000")?;
        m.serialize_entry("receiver_name", "张*")?;
        m.serialize_entry("shop_buyer_id", &buyer(self.o_id))?;
        let items: Vec<Item<'_>> = self
            .items
            .iter()
            .map(|item| Item {
                refund: self,
                item,
                master,
            })
            .collect();
        m.serialize_entry("items", &items)?;
        m.end()
    }
}

struct Item<'a> {
    refund: &'a Refund,
    item: &'a RefundItem,
    master: &'a MasterData,
}

impl Serialize for Item<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let it = self.item;
        let mat = &self.master.materials[it.material as usize];
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("as_id", &self.refund.as_id)?;
        m.serialize_entry("asi_id", &it.asi_id)?;
        m.serialize_entry("type", "退货")?;
        m.serialize_entry("sku_id", &mat.number)?;
        m.serialize_entry("i_id", &mat.goods_no)?;
        m.serialize_entry("qty", &it.qty)?;
        m.serialize_entry("r_qty", &it.r_qty)?;
        m.serialize_entry("price", &num4(it.price))?;
        m.serialize_entry("amount", &num4(it.price * it.qty))?;
        m.serialize_entry("name", &mat.goods_name)?;
        m.serialize_entry(
            "pic",
            &format!("https://img.example.invalid/{}.jpg", mat.number),
        )?;
        m.serialize_entry("properties_value", &mat.spec_name)?;
        m.serialize_entry(
            "outer_oi_id",
            &format!("{}{:02}", self.refund.so_id, it.asi_id % 100),
        )?;
        m.serialize_entry("sku_type", "normal")?;
        m.end()
    }
}
