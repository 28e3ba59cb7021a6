//! Tenant lookup tables: key → value rows a scheme's `lookup('name')`
//! falls back to when the scheme itself does not define the table.

use std::collections::HashMap;

use rusqlite::params;

use crate::{SqliteStore, StoreError};

/// Tables by name, rows by key.
pub type Tables = HashMap<String, HashMap<String, serde_json::Value>>;

impl SqliteStore {
    /// Sets rows of a tenant table (adding or replacing keys).
    ///
    /// # Errors
    /// An unknown tenant or a database error.
    pub fn set_lookup_rows(
        &self,
        tenant: &str,
        table: &str,
        rows: &[(String, serde_json::Value)],
    ) -> Result<(), StoreError> {
        self.tenant(tenant)?;
        let mut db = self.db();
        let tx = db.transaction()?;
        {
            let mut upsert = tx.prepare_cached(
                "INSERT INTO lookup_rows (tenant, name, key, value) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (tenant, name, key) DO UPDATE SET value = ?4",
            )?;
            for (k, v) in rows {
                upsert.execute(params![tenant, table, k, v.to_string()])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Removes a row of a tenant table.
    ///
    /// # Errors
    /// Database errors.
    pub fn remove_lookup_row(
        &self,
        tenant: &str,
        table: &str,
        key: &str,
    ) -> Result<bool, StoreError> {
        Ok(self.db().execute(
            "DELETE FROM lookup_rows WHERE tenant = ?1 AND name = ?2 AND key = ?3",
            params![tenant, table, key],
        )? == 1)
    }

    /// Every table of a tenant.
    ///
    /// # Errors
    /// Database errors.
    pub fn lookup_tables(&self, tenant: &str) -> Result<Tables, StoreError> {
        let db = self.db();
        let mut stmt = db.prepare("SELECT name, key, value FROM lookup_rows WHERE tenant = ?1")?;
        let rows = stmt.query_map([tenant], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?;
        let mut tables = Tables::new();
        for row in rows {
            let (name, key, value) = row?;
            let value = serde_json::from_str(&value).unwrap_or(serde_json::Value::String(value));
            tables.entry(name).or_default().insert(key, value);
        }
        Ok(tables)
    }
}
