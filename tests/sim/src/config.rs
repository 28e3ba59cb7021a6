//! Start-up configuration: credentials, dataset sizes, protocol limits and
//! initial faults. `SimConfig::default()` gives small datasets and the
//! default credentials of `docs/protocol-choices.md`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::clock;
use crate::faults::Faults;
use crate::system::System;

/// Everything the simulator needs to start.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct SimConfig {
    /// TCP port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Seed of the datasets and of the fault dice.
    pub seed: u64,
    pub dataset: DatasetConfig,
    pub credentials: Credentials,
    pub limits: ProtocolLimits,
    /// Faults in force from the start, per system.
    pub faults: BTreeMap<System, Faults>,
    /// 金蝶云星辰 purchase-return save path (UNCONFIRMED: see
    /// docs/protocol-choices.md); its detail lookup is this path + `_detail`.
    pub jdy_pur_return_path: String,
    /// Keep the body of every document a target received, for inspection.
    /// Benchmarks that push millions of documents may turn this off.
    pub record_bodies: bool,
}

impl Default for SimConfig {
    fn default() -> SimConfig {
        SimConfig {
            port: 0,
            seed: 42,
            dataset: DatasetConfig::default(),
            credentials: Credentials::default(),
            limits: ProtocolLimits::default(),
            faults: BTreeMap::new(),
            jdy_pur_return_path: "/jdy/v2/scm/pur_return".to_string(),
            record_bodies: true,
        }
    }
}

/// Sizes and shape of the generated source datasets.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct DatasetConfig {
    /// 旺店通 purchase orders (`purchase_order_query`).
    pub purchase_orders: usize,
    /// Detail lines per purchase order (`details_list`).
    pub purchase_order_lines: usize,
    /// 旺店通 purchase-return stock-outs (`stockout_order_query_return`).
    pub stockout_returns: usize,
    pub stockout_lines: usize,
    /// 聚水潭 after-sale refunds (`refund/single/query`).
    pub refunds: usize,
    pub refund_lines: usize,
    /// 吉客云 trades (`jackyun.tradenotsensitiveinfos.list.get`).
    pub jackyun_trades: usize,
    pub jackyun_trade_lines: usize,
    /// Unix seconds of the earliest `modified` time
    /// (default 2024-01-01 00:00:00 +08:00).
    pub base_time: i64,
    /// `modified` times are spread uniformly over this many days after
    /// `base_time`.
    pub spread_days: u32,
    pub master: MasterConfig,
}

impl Default for DatasetConfig {
    fn default() -> DatasetConfig {
        DatasetConfig {
            purchase_orders: 20,
            purchase_order_lines: 5,
            stockout_returns: 20,
            stockout_lines: 3,
            refunds: 20,
            refund_lines: 2,
            jackyun_trades: 20,
            jackyun_trade_lines: 3,
            base_time: clock::parse_china("2024-01-01 00:00:00").unwrap_or(1_704_038_400),
            spread_days: 28,
            master: MasterConfig::default(),
        }
    }
}

/// Sizes of the master data shared by the sources and the targets.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct MasterConfig {
    pub materials: usize,
    pub suppliers: usize,
    pub customers: usize,
    pub shops: usize,
    pub warehouses: usize,
}

impl Default for MasterConfig {
    fn default() -> MasterConfig {
        MasterConfig {
            materials: 200,
            suppliers: 20,
            customers: 30,
            shops: 6,
            warehouses: 5,
        }
    }
}

/// Time tolerances, page caps and window spans. The defaults follow
/// PROTOCOLS.md and docs/protocol-choices.md; the UNCONFIRMED ones are here
/// so a test can tighten or relax them.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct ProtocolLimits {
    pub wdt_timestamp_tolerance_secs: i64,
    pub wdt_max_page_size: u64,
    pub wdt_max_window_days: i64,
    pub qimen_timestamp_tolerance_secs: i64,
    pub jst_timestamp_tolerance_secs: i64,
    pub jst_max_page_size: u64,
    pub jst_max_window_days: i64,
    pub jackyun_timestamp_tolerance_secs: i64,
    pub jackyun_max_page_size: u64,
    pub jackyun_max_window_days: i64,
    pub k3_timestamp_tolerance_secs: i64,
    pub k3_max_limit: u64,
    pub jdy_timestamp_tolerance_secs: i64,
}

impl Default for ProtocolLimits {
    fn default() -> ProtocolLimits {
        ProtocolLimits {
            wdt_timestamp_tolerance_secs: 300,
            wdt_max_page_size: 100,
            wdt_max_window_days: 30,
            qimen_timestamp_tolerance_secs: 600,
            jst_timestamp_tolerance_secs: 600,
            jst_max_page_size: 50,
            jst_max_window_days: 7,
            jackyun_timestamp_tolerance_secs: 600,
            jackyun_max_page_size: 200,
            jackyun_max_window_days: 7,
            k3_timestamp_tolerance_secs: 300,
            k3_max_limit: 10_000,
            jdy_timestamp_tolerance_secs: 300,
        }
    }
}

/// Credentials of every simulated system.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Credentials {
    pub wdt: WdtCredentials,
    pub qimen: QimenCredentials,
    pub jst: JstCredentials,
    pub jackyun: JackyunCredentials,
    pub k3cloud: K3Credentials,
    pub jdy: JdyCredentials,
    /// The plain JSON storefront of the example plugins (`shop`).
    pub shop: ShopCredentials,
}

/// The storefront's bearer token.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct ShopCredentials {
    pub token: String,
}

impl Default for ShopCredentials {
    fn default() -> Self {
        ShopCredentials {
            token: "weft-shop-token".into(),
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct WdtCredentials {
    pub sid: String,
    pub appkey: String,
    pub appsecret: String,
}

impl Default for WdtCredentials {
    fn default() -> Self {
        WdtCredentials {
            sid: "weftsim".into(),
            appkey: "weft-wdt-key".into(),
            appsecret: "weft-wdt-secret".into(),
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct QimenCredentials {
    pub app_key: String,
    pub secret: String,
    /// `target_app_key` of the 旺店通 methods.
    pub wdt_target_app_key: String,
    /// `target_app_key` of the 吉客云 methods.
    pub jackyun_target_app_key: String,
    pub customer_id: String,
}

impl Default for QimenCredentials {
    fn default() -> Self {
        QimenCredentials {
            app_key: "10001".into(),
            secret: "weft-qimen-secret".into(),
            wdt_target_app_key: "wdt-qm-001".into(),
            jackyun_target_app_key: "jky-qm-001".into(),
            customer_id: "weftsim".into(),
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct JstCredentials {
    pub app_key: String,
    pub app_secret: String,
    pub access_token: String,
    /// The authorization `code` the token endpoint exchanges.
    pub auth_code: String,
    pub refresh_token: String,
}

impl Default for JstCredentials {
    fn default() -> Self {
        JstCredentials {
            app_key: "weft-jst-key".into(),
            app_secret: "weft-jst-secret".into(),
            access_token: "weft-jst-token".into(),
            auth_code: "weft-code".into(),
            refresh_token: "weft-jst-refresh".into(),
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct JackyunCredentials {
    pub appkey: String,
    pub secret: String,
}

impl Default for JackyunCredentials {
    fn default() -> Self {
        JackyunCredentials {
            appkey: "weft-jky-key".into(),
            secret: "weft-jky-secret".into(),
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct K3Credentials {
    pub acct_id: String,
    pub username: String,
    pub password: String,
    pub app_id: String,
    pub app_secret: String,
    pub lcid: u32,
}

impl Default for K3Credentials {
    fn default() -> Self {
        K3Credentials {
            acct_id: "weft-dc".into(),
            username: "administrator".into(),
            password: "888888".into(),
            app_id: "203502_5f6p2avOzuDXX5XE617sywzt7Nw7Roru".into(),
            app_secret: "2825766ee71f4002b24d78b6b9a9bc53".into(),
            lcid: 2052,
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct JdyCredentials {
    pub client_id: String,
    pub client_secret: String,
    pub app_key: String,
    pub app_secret: String,
}

impl Default for JdyCredentials {
    fn default() -> Self {
        JdyCredentials {
            client_id: "weft-jdy-client".into(),
            client_secret: "f2adcfef73369bfc4e1384677d38a0ff".into(),
            app_key: "weftJdyKey".into(),
            app_secret: "weft-jdy-app-secret".into(),
        }
    }
}
