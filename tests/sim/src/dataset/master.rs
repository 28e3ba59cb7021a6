//! Master data shared by the sources and the targets: every material, SKU,
//! supplier, customer, shop and warehouse code in a generated source
//! document exists here, so a straightforward mapping saves in
//! K3Cloud/JDY. Codes depend only on the sizes, not on the seed.

use std::collections::HashMap;

use serde::Serialize;

use super::fields::FragmentCache;

use crate::config::MasterConfig;

const ADJECTIVES: [&str; 10] = [
    "经典", "轻薄", "加厚", "纯棉", "速干", "保暖", "简约", "复古", "运动", "商务",
];
const NOUNS: [&str; 10] = [
    "T恤", "卫衣", "衬衫", "夹克", "长裤", "短裤", "袜子", "帽子", "背包", "围巾",
];
const COLOURS: [&str; 6] = ["黑色", "白色", "灰色", "藏青", "红色", "卡其"];
const SIZES: [&str; 5] = ["S", "M", "L", "XL", "XXL"];
const BRANDS: [(&str, &str); 4] = [
    ("BR01", "织云"),
    ("BR02", "青禾"),
    ("BR03", "北辰"),
    ("BR04", "远山"),
];
const CITIES: [(&str, &str, &str); 5] = [
    ("浙江省", "杭州市", "西湖区"),
    ("广东省", "深圳市", "南山区"),
    ("上海市", "上海市", "浦东新区"),
    ("江苏省", "苏州市", "工业园区"),
    ("北京市", "北京市", "朝阳区"),
];
const SURNAMES: [&str; 8] = ["张", "王", "李", "赵", "陈", "刘", "周", "吴"];
const GIVEN: [&str; 8] = ["伟", "芳", "娜", "敏", "静", "强", "磊", "洋"];

/// A material (SKU). `number` is the 旺店通 `spec_no`, the 聚水潭 `sku_id`,
/// the 吉客云 `goodsNo`, and the material number in K3Cloud and JDY.
#[derive(Clone, Debug, Serialize)]
pub struct Material {
    pub number: String,
    pub name: String,
    pub spec_name: String,
    pub spec_code: String,
    pub goods_no: String,
    pub goods_name: String,
    pub short_name: String,
    pub brand_no: String,
    pub brand_name: String,
    pub barcode: String,
    pub unit: String,
    pub k3_unit: String,
    /// Price ×10000.
    pub base_price: i64,
    /// Weight in kg ×10000.
    pub weight: i64,
    pub k3_id: i64,
    pub jdy_id: String,
    pub jdy_unit_id: String,
    pub wdt_goods_id: i64,
    pub wdt_spec_id: i64,
}

/// A supplier or customer.
#[derive(Clone, Debug, Serialize)]
pub struct Party {
    pub number: String,
    pub name: String,
    pub short_name: String,
    pub contact: String,
    pub telno: String,
    pub k3_id: i64,
    pub jdy_id: String,
    pub wdt_id: i64,
}

/// An online shop. `code` is the 旺店通 `shop_no` and 吉客云 `shopCode`;
/// `jst_shop_id` is the 聚水潭 `shop_id`, which is also a K3Cloud customer
/// number (a return's customer is its shop).
#[derive(Clone, Debug, Serialize)]
pub struct Shop {
    pub code: String,
    pub name: String,
    pub platform: String,
    pub jst_shop_id: i64,
    pub jackyun_shop_id: String,
}

/// A warehouse / stock.
#[derive(Clone, Debug, Serialize)]
pub struct Warehouse {
    pub number: String,
    pub name: String,
    pub wdt_id: i64,
    pub k3_id: i64,
    pub jdy_id: String,
}

/// An organisation, currency or unit: a number and a name.
#[derive(Clone, Debug, Serialize)]
pub struct Coded {
    pub number: String,
    pub name: String,
    pub k3_id: i64,
}

/// Every master record, with indexes by number.
#[derive(Clone, Debug, Serialize)]
pub struct MasterData {
    pub materials: Vec<Material>,
    pub suppliers: Vec<Party>,
    pub customers: Vec<Party>,
    pub shops: Vec<Shop>,
    /// 旺店通 / 吉客云 warehouses (`WH001`…); K3Cloud and JDY stocks.
    pub warehouses: Vec<Warehouse>,
    /// 聚水潭 `wh_id` warehouses (1 主仓, 2 销退仓, 3 进货仓, 4 次品仓), also
    /// K3Cloud stocks numbered `1`…`4`.
    pub jst_warehouses: Vec<Warehouse>,
    pub orgs: Vec<Coded>,
    pub currencies: Vec<Coded>,
    pub units: Vec<Coded>,
    #[serde(skip)]
    index: MasterIndex,
    /// The JSON of each material's fields in rendered documents, written
    /// once and copied into every document that carries it.
    #[serde(skip)]
    pub(crate) material_fragments: FragmentCache,
}

#[derive(Clone, Debug, Default)]
struct MasterIndex {
    materials: HashMap<String, usize>,
    suppliers: HashMap<String, usize>,
    customers: HashMap<String, usize>,
    shops: HashMap<String, usize>,
    shops_by_jst: HashMap<i64, usize>,
    warehouses: HashMap<String, usize>,
}

fn person(i: usize) -> String {
    format!(
        "{}{}",
        SURNAMES[i % SURNAMES.len()],
        GIVEN[(i / SURNAMES.len() + i) % GIVEN.len()]
    )
}

fn phone(i: usize) -> String {
    format!(
        "1{}{:09}",
        3 + i % 6,
        (i as u64 * 7_919_177) % 1_000_000_000
    )
}

impl MasterData {
    pub fn generate(cfg: &MasterConfig) -> MasterData {
        let materials = (0..cfg.materials.max(1))
            .map(|i| {
                let goods = i / 3;
                let adj = ADJECTIVES[goods % ADJECTIVES.len()];
                let noun = NOUNS[(goods / ADJECTIVES.len()) % NOUNS.len()];
                let colour = COLOURS[i % COLOURS.len()];
                let size = SIZES[(i / COLOURS.len()) % SIZES.len()];
                let (brand_no, brand_name) = BRANDS[goods % BRANDS.len()];
                let goods_name = format!("{adj}{noun}{:03}", goods + 1);
                MaterialSeed {
                    i,
                    goods,
                    goods_name,
                    spec_name: format!("{colour} {size}"),
                    brand_no,
                    brand_name,
                }
                .build()
            })
            .collect::<Vec<_>>();
        let suppliers = (0..cfg.suppliers.max(1))
            .map(|i| Party {
                number: format!("{:04}", i + 1),
                name: format!(
                    "{}供应链有限公司{:02}",
                    CITIES[i % CITIES.len()].1.trim_end_matches('市'),
                    i + 1
                ),
                short_name: format!("供应商{:02}", i + 1),
                contact: person(i),
                telno: phone(i),
                k3_id: 200_001 + i as i64,
                jdy_id: (1_800_000_000_000_000_u64 + 200_001 + i as u64).to_string(),
                wdt_id: 101 + i as i64,
            })
            .collect::<Vec<_>>();
        let customers = (0..cfg.customers.max(1))
            .map(|i| Party {
                number: format!("CUST{:04}", i + 1),
                name: format!("{}客户{:03}", person(i + 3), i + 1),
                short_name: format!("客户{:03}", i + 1),
                contact: person(i + 3),
                telno: phone(i + 100),
                k3_id: 300_001 + i as i64,
                jdy_id: (1_800_000_000_000_000_u64 + 300_001 + i as u64).to_string(),
                wdt_id: 5001 + i as i64,
            })
            .collect::<Vec<_>>();
        let platforms = ["淘宝", "京东", "拼多多", "抖音"];
        let shops = (0..cfg.shops.max(1))
            .map(|i| Shop {
                code: format!("SHOP{:02}", i + 1),
                name: format!("{}旗舰店{:02}", platforms[i % platforms.len()], i + 1),
                platform: platforms[i % platforms.len()].to_string(),
                jst_shop_id: 10_001 + i as i64,
                jackyun_shop_id: (7_000_001 + i as i64).to_string(),
            })
            .collect::<Vec<_>>();
        let warehouses = (0..cfg.warehouses.max(1))
            .map(|i| Warehouse {
                number: format!("WH{:03}", i + 1),
                name: format!(
                    "{}仓{:02}",
                    CITIES[i % CITIES.len()].1.trim_end_matches('市'),
                    i + 1
                ),
                wdt_id: 1 + i as i64,
                k3_id: 400_001 + i as i64,
                jdy_id: (1_800_000_000_000_000_u64 + 400_001 + i as u64).to_string(),
            })
            .collect::<Vec<_>>();
        let jst_warehouses = ["主仓", "销退仓", "进货仓", "次品仓"]
            .iter()
            .enumerate()
            .map(|(i, name)| Warehouse {
                number: (i + 1).to_string(),
                name: (*name).to_string(),
                wdt_id: 0,
                k3_id: 400_901 + i as i64,
                jdy_id: (1_800_000_000_000_000_u64 + 400_901 + i as u64).to_string(),
            })
            .collect();
        let coded = |rows: &[(&str, &str, i64)]| {
            rows.iter()
                .map(|(n, name, id)| Coded {
                    number: (*n).into(),
                    name: (*name).into(),
                    k3_id: *id,
                })
                .collect::<Vec<_>>()
        };
        let mut master = MasterData {
            materials,
            suppliers,
            customers,
            shops,
            warehouses,
            jst_warehouses,
            orgs: coded(&[
                ("100", "织云集团", 1),
                ("101", "织云杭州公司", 100_101),
                ("102", "织云深圳公司", 100_102),
            ]),
            currencies: coded(&[
                ("PRE001", "人民币", 1),
                ("PRE002", "香港元", 2),
                ("PRE007", "美元", 7),
            ]),
            units: coded(&[
                ("Pcs", "个", 10_101),
                ("Box", "箱", 10_102),
                ("kg", "千克", 10_103),
            ]),
            index: MasterIndex::default(),
            material_fragments: FragmentCache::default(),
        };
        master.material_fragments = FragmentCache::new(master.materials.len());
        master.build_index();
        master
    }

    fn build_index(&mut self) {
        let mut ix = MasterIndex::default();
        for (i, m) in self.materials.iter().enumerate() {
            ix.materials.insert(m.number.clone(), i);
        }
        for (i, s) in self.suppliers.iter().enumerate() {
            ix.suppliers.insert(s.number.clone(), i);
        }
        for (i, c) in self.customers.iter().enumerate() {
            ix.customers.insert(c.number.clone(), i);
        }
        for (i, s) in self.shops.iter().enumerate() {
            ix.shops.insert(s.code.clone(), i);
            ix.shops_by_jst.insert(s.jst_shop_id, i);
        }
        for (i, w) in self.warehouses.iter().enumerate() {
            ix.warehouses.insert(w.number.clone(), i);
        }
        self.index = ix;
    }

    pub fn material(&self, number: &str) -> Option<&Material> {
        self.index
            .materials
            .get(number)
            .map(|i| &self.materials[*i])
    }

    pub fn supplier(&self, number: &str) -> Option<&Party> {
        self.index
            .suppliers
            .get(number)
            .map(|i| &self.suppliers[*i])
    }

    pub fn customer(&self, number: &str) -> Option<&Party> {
        self.index
            .customers
            .get(number)
            .map(|i| &self.customers[*i])
    }

    pub fn shop(&self, code: &str) -> Option<&Shop> {
        self.index.shops.get(code).map(|i| &self.shops[*i])
    }

    pub fn shop_by_jst_id(&self, id: i64) -> Option<&Shop> {
        self.index.shops_by_jst.get(&id).map(|i| &self.shops[*i])
    }

    pub fn warehouse(&self, number: &str) -> Option<&Warehouse> {
        self.index
            .warehouses
            .get(number)
            .map(|i| &self.warehouses[*i])
            .or_else(|| self.jst_warehouses.iter().find(|w| w.number == number))
    }
}

struct MaterialSeed {
    i: usize,
    goods: usize,
    goods_name: String,
    spec_name: String,
    brand_no: &'static str,
    brand_name: &'static str,
}

impl MaterialSeed {
    fn build(self) -> Material {
        let i = self.i;
        // Prices between 9.90 and 299.00, stable per material.
        let base_price = 99_000 + ((i as i64 * 7_919) % 2_891) * 1_000;
        Material {
            number: format!("SKU{:05}", i + 1),
            name: format!("{} {}", self.goods_name, self.spec_name),
            spec_code: format!("S{:05}", i + 1),
            goods_no: format!("G{:04}", self.goods + 1),
            short_name: self.goods_name.chars().take(4).collect(),
            goods_name: self.goods_name,
            spec_name: self.spec_name,
            brand_no: self.brand_no.into(),
            brand_name: self.brand_name.into(),
            barcode: format!("69{:011}", 10_000_000 + i as u64 * 37),
            unit: "件".into(),
            k3_unit: "Pcs".into(),
            base_price,
            weight: 1_000 + (i as i64 % 20) * 500,
            k3_id: 100_001 + i as i64,
            jdy_id: (1_800_000_000_000_000_u64 + 100_001 + i as u64).to_string(),
            jdy_unit_id: "1800000000000010101".into(),
            wdt_goods_id: 1 + self.goods as i64,
            wdt_spec_id: 1 + i as i64,
        }
    }
}
