//! The tables `lookup('name')` reads: the scheme's own, live ones read
//! through a connector, and the tenant's.

use std::collections::HashMap;
use std::sync::{PoisonError, RwLock};

use minijinja::Value;

use super::values::to_value;

/// The tenant's lookup tables: table → key → value.
pub type LookupTables = HashMap<String, HashMap<String, serde_json::Value>>;

/// One table, its values already template values.
pub(crate) type Table = HashMap<String, Value>;

/// A table a scheme reads through a connector before mapping: the engine
/// calls `operation` of `connection` with `params`, renders `key` and
/// `value` over each returned row ([`Mapper::live_table`]) and installs the
/// result with [`Mapper::set_live_table`].
///
/// [`Mapper::live_table`]: crate::Mapper::live_table
/// [`Mapper::set_live_table`]: crate::Mapper::set_live_table
#[derive(Debug, Clone, PartialEq)]
pub struct LiveLookup {
    /// The table's name, as `lookup('name')` gives it.
    pub name: String,
    /// The tenant connection to read through.
    pub connection: String,
    /// A source operation of that connection's connector.
    pub operation: String,
    /// The operation's params (constants).
    pub params: serde_json::Value,
    /// Template over one returned row giving its key, e.g. `{{ FNumber }}`.
    pub key: String,
    /// Template over one returned row giving its value.
    pub value: String,
}

/// Every table a mapper can read, searched in this order: the scheme's
/// static tables, its live tables, the tenant's tables.
#[derive(Debug, Default)]
pub(crate) struct LookupStore {
    scheme: HashMap<String, Table>,
    // Written between runs of `map` (`Mapper::set_live_table` takes
    // `&mut Mapper`), read by every lookup: an uncontended read lock is
    // one atomic operation.
    live: RwLock<HashMap<String, Table>>,
    tenant: HashMap<String, Table>,
}

/// Why a lookup found nothing.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Miss {
    NoTable,
    NoKey,
}

impl LookupStore {
    pub fn new(scheme: HashMap<String, Table>, tenant: &LookupTables) -> Self {
        Self {
            scheme,
            live: RwLock::default(),
            tenant: tenant
                .iter()
                .map(|(name, rows)| (name.clone(), convert(rows)))
                .collect(),
        }
    }

    pub fn set_live(&self, name: &str, rows: &HashMap<String, serde_json::Value>) {
        let table = convert(rows);
        self.live
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(name.to_owned(), table);
    }

    pub fn get(&self, table: &str, key: &str) -> Result<Value, Miss> {
        if let Some(t) = self.scheme.get(table) {
            return t.get(key).cloned().ok_or(Miss::NoKey);
        }
        {
            let live = self.live.read().unwrap_or_else(PoisonError::into_inner);
            if let Some(t) = live.get(table) {
                return t.get(key).cloned().ok_or(Miss::NoKey);
            }
        }
        match self.tenant.get(table) {
            Some(t) => t.get(key).cloned().ok_or(Miss::NoKey),
            None => Err(Miss::NoTable),
        }
    }
}

pub(crate) fn convert(rows: &HashMap<String, serde_json::Value>) -> Table {
    rows.iter().map(|(k, v)| (k.clone(), to_value(v))).collect()
}
