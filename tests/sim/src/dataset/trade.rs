//! 吉客云 trades (`jackyun.tradenotsensitiveinfos.list.get`, seed 004). The
//! seed lists most trade-level fields under `goodsDetail`; the simulator
//! sends them there, as the seed says, and also at the trade level where a
//! real trade carries them (tradeNo, customer, shop, warehouse, times).

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};
use serde_json::{Map, Value};

use super::master::MasterData;
use super::store::Document;
use super::{Render, SourceDoc, SourceKind, num4, override_text, split_key_override};
use crate::clock::format_china;
use crate::config::DatasetConfig;
use crate::seeded::SeededRng;

const STATUS: (&str, &str) = ("6000", "已完成");
const LOGISTICS: [(&str, &str); 3] = [("中通快递", "ZT"), ("顺丰速运", "SF"), ("圆通速递", "YT")];

#[derive(Clone, Debug)]
pub(crate) struct TradeLine {
    pub sub_trade_id: i64,
    pub material: u32,
    pub count: i64,
    /// Unit price ×10000.
    pub price: i64,
    /// Discount on the line ×10000.
    pub discount: i64,
}

#[derive(Clone, Debug)]
pub(crate) struct JackyunTrade {
    pub trade_id: i64,
    pub trade_no: String,
    pub source_trade_no: String,
    pub shop: u32,
    pub customer: u32,
    pub warehouse: u32,
    pub logistic: u8,
    pub created: i64,
    pub trade_time: i64,
    pub pay_time: i64,
    pub audit_time: i64,
    pub consign_time: i64,
    pub modified: i64,
    pub post_fee: i64,
    pub seller_memo: String,
    pub revision: u32,
    pub lines: Vec<TradeLine>,
    pub overrides: Option<Box<Map<String, Value>>>,
}

impl JackyunTrade {
    pub fn status_text(&self) -> String {
        override_text(self.overrides(), "tradeStatus").unwrap_or_else(|| STATUS.0.to_string())
    }
}

impl Document for JackyunTrade {
    fn key(&self) -> &str {
        &self.trade_no
    }
    fn modified(&self) -> i64 {
        self.modified
    }
}

impl SourceDoc for JackyunTrade {
    const KIND: SourceKind = SourceKind::JackyunTrades;

    fn generate(seed: u64, index: u32, cfg: &DatasetConfig, master: &MasterData) -> JackyunTrade {
        let mut rng = SeededRng::for_item(seed, 4, index as u64);
        let span = cfg.spread_days as u64 * 86_400;
        let modified = cfg.base_time + rng.below(span.max(1)) as i64;
        let trade_time = modified - rng.between(2 * 3_600, 3 * 86_400);
        let pay_time = trade_time + rng.between(10, 600);
        let created = pay_time + rng.between(10, 300);
        let audit_time = created + rng.between(60, 1_800);
        let consign_time = (audit_time + rng.between(600, 86_400)).min(modified);
        let trade_id = 4_000_000_001 + index as i64;
        let n_mat = master.materials.len() as u64;
        let first = rng.below(n_mat);
        let lines = (0..cfg.jackyun_trade_lines.max(1))
            .map(|j| {
                let material = ((first + j as u64 * 5) % n_mat) as u32;
                let price = master.materials[material as usize].base_price;
                TradeLine {
                    sub_trade_id: trade_id * 10 + j as i64 + 1,
                    material,
                    count: rng.between(1, 5),
                    price,
                    discount: if rng.chance(0.3) { 50_000 } else { 0 },
                }
            })
            .collect();
        JackyunTrade {
            trade_id,
            trade_no: format!("JY{:010}", index + 1),
            source_trade_no: format!("{}", 3_024_000_000_000_000_u64 + index as u64 * 13 + 1),
            shop: rng.below(master.shops.len() as u64) as u32,
            customer: rng.below(master.customers.len() as u64) as u32,
            warehouse: rng.below(master.warehouses.len() as u64) as u32,
            logistic: rng.below(LOGISTICS.len() as u64) as u8,
            created,
            trade_time,
            pay_time,
            audit_time,
            consign_time,
            modified,
            post_fee: rng.between(0, 2) * 50_000,
            seller_memo: String::new(),
            revision: 0,
            lines,
            overrides: None,
        }
    }

    fn touch(&mut self, now: i64) {
        self.revision += 1;
        self.modified = now.max(self.modified + 1);
        self.seller_memo = format!("修改第{}次", self.revision);
        if let Some(line) = self.lines.first_mut() {
            line.count += 1;
        }
    }

    fn restamp(&mut self, modified: i64) {
        self.modified = modified;
        self.trade_time = modified - 7_200;
        self.pay_time = modified - 7_000;
        self.created = modified - 6_900;
        self.audit_time = modified - 3_600;
        self.consign_time = modified - 600;
    }

    fn take_overrides(&mut self, mut overrides: Map<String, Value>) -> Result<(), String> {
        let key = split_key_override(&mut overrides, "tradeNo")?;
        let seed_key = split_key_override(&mut overrides, "TradeNo")?;
        if let Some(no) = key.or(seed_key) {
            self.trade_no = no;
        }
        if !overrides.is_empty() {
            self.overrides = Some(Box::new(overrides));
        }
        Ok(())
    }
}

struct Ctx<'a> {
    trade: &'a JackyunTrade,
    master: &'a MasterData,
    times: Times,
}

struct Times {
    created: String,
    modified: String,
    trade: String,
    pay: String,
    audit: String,
    consign: String,
}

impl Render for JackyunTrade {
    const LIST_KEY: &'static str = "goodsDetail";

    fn overrides(&self) -> Option<&Map<String, Value>> {
        self.overrides.as_deref()
    }

    fn write_plain<S: Serializer>(&self, master: &MasterData, s: S) -> Result<S::Ok, S::Error> {
        let ctx = Ctx {
            trade: self,
            master,
            times: Times {
                created: format_china(self.created),
                modified: format_china(self.modified),
                trade: format_china(self.trade_time),
                pay: format_china(self.pay_time),
                audit: format_china(self.audit_time),
                consign: format_china(self.consign_time),
            },
        };
        let shop = &master.shops[self.shop as usize];
        let customer = &master.customers[self.customer as usize];
        let warehouse = &master.warehouses[self.warehouse as usize];
        let (logistic, prefix) = LOGISTICS[self.logistic as usize % LOGISTICS.len()];
        let total = self.goods_total();
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("tradeId", &self.trade_id.to_string())?;
        m.serialize_entry("tradeNo", &self.trade_no)?;
        m.serialize_entry("TradeNo", &self.trade_no)?;
        m.serialize_entry("checkTotal", &num4(total + self.post_fee))?;
        m.serialize_entry("postFee", &num4(self.post_fee))?;
        m.serialize_entry("otherFee", &0)?;
        m.serialize_entry("sellerMemo", &self.seller_memo)?;
        m.serialize_entry("buyerMemo", "")?;
        m.serialize_entry("tradeStatus", STATUS.0)?;
        m.serialize_entry("tradeStatusName", STATUS.1)?;
        m.serialize_entry("tradeType", "1")?;
        m.serialize_entry("shopId", &shop.jackyun_shop_id)?;
        m.serialize_entry("shopName", &shop.name)?;
        m.serialize_entry("shopCode", &shop.code)?;
        m.serialize_entry("customerCode", &customer.number)?;
        m.serialize_entry("customerName", &customer.name)?;
        m.serialize_entry("warehouseCode", &warehouse.number)?;
        m.serialize_entry("warehouseName", &warehouse.name)?;
        m.serialize_entry("logisticName", logistic)?;
        m.serialize_entry(
            "mainPostid",
            &format!("{prefix}{}", 8_800_000_000_u64 + self.trade_id as u64),
        )?;
        m.serialize_entry("sourceTradeNo", &self.source_trade_no)?;
        m.serialize_entry("onlineTradeNo", &self.source_trade_no)?;
        m.serialize_entry("tradeTime", &ctx.times.trade)?;
        m.serialize_entry("payTime", &ctx.times.pay)?;
        m.serialize_entry("auditTime", &ctx.times.audit)?;
        m.serialize_entry("consignTime", &ctx.times.consign)?;
        m.serialize_entry("gmtCreate", &ctx.times.created)?;
        m.serialize_entry("gmtModified", &ctx.times.modified)?;
        let lines: Vec<Line<'_>> = self
            .lines
            .iter()
            .map(|line| Line { ctx: &ctx, line })
            .collect();
        m.serialize_entry("goodsDetail", &lines)?;
        m.end()
    }
}

impl JackyunTrade {
    fn goods_total(&self) -> i64 {
        self.lines
            .iter()
            .map(|l| l.price * l.count - l.discount)
            .sum()
    }
}

struct Line<'a> {
    ctx: &'a Ctx<'a>,
    line: &'a TradeLine,
}

impl Serialize for Line<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (t, l, master, times) = (self.ctx.trade, self.line, self.ctx.master, &self.ctx.times);
        let mat = &master.materials[l.material as usize];
        let shop = &master.shops[t.shop as usize];
        let customer = &master.customers[t.customer as usize];
        let total = l.price * l.count;
        let share = total - l.discount;
        let cost = mat.base_price * 6 / 10 * l.count;
        let tax_fee = share * 13 / 113;
        let count: i64 = t.lines.iter().map(|x| x.count).sum();
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("goodsNo", &mat.number)?;
        m.serialize_entry("goodsName", &mat.goods_name)?;
        m.serialize_entry("specName", &mat.spec_name)?;
        m.serialize_entry("barcode", &mat.barcode)?;
        m.serialize_entry("sellCount", &l.count)?;
        m.serialize_entry("unit", &mat.unit)?;
        m.serialize_entry("sellPrice", &num4(l.price))?;
        m.serialize_entry("sellTotal", &num4(total))?;
        m.serialize_entry("cost", &num4(cost))?;
        m.serialize_entry("discountTotal", &num4(l.discount))?;
        m.serialize_entry("discountPoint", &0)?;
        m.serialize_entry("shareFavourableFee", &num4(share))?;
        m.serialize_entry("goodsMemo", "")?;
        m.serialize_entry("cateName", "服装")?;
        m.serialize_entry("brandName", &mat.brand_name)?;
        m.serialize_entry("goodsTags", "")?;
        m.serialize_entry("isFit", &0)?;
        m.serialize_entry("isGift", &0)?;
        m.serialize_entry("taxRate", &0.13)?;
        m.serialize_entry("estimateGoodsVolume", &0)?;
        m.serialize_entry("isPresell", &0)?;
        m.serialize_entry("customerPrice", &num4(l.price))?;
        m.serialize_entry("customerTotal", &num4(total))?;
        m.serialize_entry("tradeGoodsNo", &mat.number)?;
        m.serialize_entry("tradeGoodsName", &mat.goods_name)?;
        m.serialize_entry("tradeGoodsSpec", &mat.spec_name)?;
        m.serialize_entry("tradeGoodsUnit", &mat.unit)?;
        m.serialize_entry("sourceTradeNo", &t.source_trade_no)?;
        m.serialize_entry(
            "sourceSubtradeNo",
            &format!("{}{}", t.source_trade_no, l.sub_trade_id % 10),
        )?;
        m.serialize_entry("platCode", &shop.platform)?;
        m.serialize_entry(
            "platGoodsId",
            &format!("{}", 600_000_000 + l.material as u64),
        )?;
        m.serialize_entry("subTradeId", &l.sub_trade_id.to_string())?;
        m.serialize_entry("taxFee", &num4(tax_fee))?;
        m.serialize_entry("estimateWeight", &num4(mat.weight * l.count))?;
        m.serialize_entry("discountFee", &num4(l.discount))?;
        m.serialize_entry("appendMemo", "")?;
        m.serialize_entry("tradeFrom", "1")?;
        m.serialize_entry("register", "系统")?;
        m.serialize_entry("seller", "业务员甲")?;
        m.serialize_entry("auditor", "审核员甲")?;
        m.serialize_entry("reviewer", "复核员甲")?;
        m.serialize_entry("packageWeight", &0)?;
        m.serialize_entry("tradeCount", &count)?;
        m.serialize_entry("goodsTypeCount", &t.lines.len())?;
        m.serialize_entry("freezeReason", "")?;
        m.serialize_entry("abnormalDescription", "")?;
        m.serialize_entry("onlineTradeNo", &t.source_trade_no)?;
        m.serialize_entry("goodslist", &format!("{}*{}", mat.goods_name, l.count))?;
        m.serialize_entry("gmtCreate", &times.created)?;
        m.serialize_entry("gmtModified", &times.modified)?;
        m.serialize_entry(
            "stockoutNo",
            &format!("JYCK{:010}", t.trade_id - 4_000_000_000),
        )?;
        m.serialize_entry("confirmTime", &times.audit)?;
        m.serialize_entry("departName", "电商部")?;
        m.serialize_entry("lastShipTime", &times.consign)?;
        m.serialize_entry("payStatus", "已付款")?;
        m.serialize_entry("tradeStatus", STATUS.0)?;
        m.serialize_entry("grossProfit", &num4(share - cost))?;
        m.serialize_entry("estimateVolume", &0)?;
        m.serialize_entry("customerName", &customer.name)?;
        m.serialize_entry("customerTypeName", "零售客户")?;
        m.serialize_entry("customerGradeName", "普通")?;
        m.serialize_entry("customerTags", "")?;
        m.serialize_entry("customerCode", &customer.number)?;
        m.serialize_entry("customerDiscount", &1)?;
        m.serialize_entry("specialReminding", "")?;
        m.serialize_entry("blackList", &0)?;
        m.serialize_entry("tradeTime", &times.trade)?;
        m.serialize_entry("country", "中国")?;
        m.serialize_entry("state", "浙江省")?;
        m.serialize_entry("city", "杭州市")?;
        m.serialize_entry("district", "西湖区")?;
        m.serialize_entry("town", "")?;
        m.serialize_entry("zip", "310000")?;
        m.serialize_entry("payTime", &times.pay)?;
        m.serialize_entry("countryCode", "CN")?;
        m.serialize_entry("cityCode", "330100")?;
        m.serialize_entry("invoiceType", &0)?;
        for key in [
            "payerName",
            "payerRegno",
            "payerBankAccount",
            "payerPhone",
            "payerAddress",
            "invoiceNo",
            "invoiceCode",
            "payerBankName",
            "preTypedetail",
            "firstPaytime",
            "finalPaytime",
            "activationTime",
        ] {
            m.serialize_entry(key, "")?;
        }
        m.serialize_entry("auditTime", &times.audit)?;
        m.serialize_entry("invoiceStatus", &0)?;
        m.serialize_entry("firstPayment", &0)?;
        m.serialize_entry("finalPayment", &0)?;
        m.serialize_entry("reviewTime", &times.audit)?;
        m.serialize_entry("customerTotalFee", &num4(total))?;
        m.serialize_entry("customerDiscountFee", &num4(l.discount))?;
        m.serialize_entry("notifyPickTime", &times.audit)?;
        m.serialize_entry("consignTime", &times.consign)?;
        m.serialize_entry("orderNo", &format!("FH{:010}", t.trade_id - 4_000_000_000))?;
        m.serialize_entry("customerPostFee", &num4(t.post_fee))?;
        m.serialize_entry("shopId", &shop.jackyun_shop_id)?;
        m.serialize_entry("shopName", &shop.name)?;
        m.serialize_entry(
            "tradeOrderPayList",
            &[Pay {
                ctx: self.ctx,
                share,
            }],
        )?;
        m.end()
    }
}

struct Pay<'a> {
    ctx: &'a Ctx<'a>,
    share: i64,
}

impl Serialize for Pay<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let t = self.ctx.trade;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("chargeCurrency", "人民币")?;
        m.serialize_entry("accountName", "支付宝收款账户")?;
        m.serialize_entry("payType", "1")?;
        m.serialize_entry("payNo", &format!("PAY{}", t.source_trade_no))?;
        m.serialize_entry("chargeCurrencyCode", "CNY")?;
        m.serialize_entry("chargeExchangeRate", &1)?;
        m.serialize_entry("chargeType", "1")?;
        m.serialize_entry("chargeAccount", "alipay@weft.invalid")?;
        m.serialize_entry("payment", &num4(self.share))?;
        m.serialize_entry("customerPayment", &num4(self.share))?;
        m.serialize_entry("companyName", "织云集团")?;
        m.serialize_entry("tradeOrderColumnExt", &ColumnExt(self.ctx))?;
        m.end()
    }
}

struct ColumnExt<'a>(&'a Ctx<'a>);

impl Serialize for ColumnExt<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let ctx = self.0;
        let t = ctx.trade;
        let warehouse = &ctx.master.warehouses[t.warehouse as usize];
        let shop = &ctx.master.shops[t.shop as usize];
        let (logistic, prefix) = LOGISTICS[t.logistic as usize % LOGISTICS.len()];
        let total = t.goods_total();
        let mut m = s.serialize_map(None)?;
        for i in 1..=10 {
            m.serialize_entry(&format!("customizeTradeColumn{i}"), "")?;
        }
        m.serialize_entry("tradeId", &t.trade_id.to_string())?;
        m.serialize_entry("isBillCheck", &0)?;
        m.serialize_entry("warehouseCode", &warehouse.number)?;
        m.serialize_entry("warehouseName", &warehouse.name)?;
        m.serialize_entry("logisticName", logistic)?;
        m.serialize_entry("billDate", "")?;
        m.serialize_entry("logisticType", "1")?;
        m.serialize_entry(
            "mainPostid",
            &format!("{prefix}{}", 8_800_000_000_u64 + t.trade_id as u64),
        )?;
        m.serialize_entry("tradeType", "1")?;
        m.serialize_entry("totalFee", &num4(total))?;
        m.serialize_entry("receivedPostFee", &num4(t.post_fee))?;
        m.serialize_entry("couponFee", &0)?;
        m.serialize_entry("receivedTotal", &num4(total + t.post_fee))?;
        m.serialize_entry("isDelete", &0)?;
        m.serialize_entry("flagIds", "")?;
        m.serialize_entry("flagNames", "")?;
        m.serialize_entry("shopCode", &shop.code)?;
        m.end()
    }
}
