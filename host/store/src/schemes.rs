//! Applied schemes: the YAML as the user wrote it, per tenant.

use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use crate::{SqliteStore, StoreError, now};

/// A scheme applied to a tenant.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredScheme {
    /// The tenant.
    pub tenant: String,
    /// The scheme's name (from its YAML).
    pub name: String,
    /// The file it was applied from, for diagnostics.
    pub file: String,
    /// The YAML text.
    pub yaml: String,
    /// Whether the scheduler runs it.
    pub enabled: bool,
    /// When it was last applied.
    pub applied_at: String,
}

fn scheme_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoredScheme> {
    Ok(StoredScheme {
        tenant: r.get(0)?,
        name: r.get(1)?,
        file: r.get(2)?,
        yaml: r.get(3)?,
        enabled: r.get(4)?,
        applied_at: r.get(5)?,
    })
}

impl SqliteStore {
    /// Stores (or replaces) a scheme. Its pull position and ledger are kept:
    /// re-applying a fixed mapping must not resend what was delivered.
    ///
    /// # Errors
    /// An unknown tenant, or a database error.
    pub fn apply_scheme(
        &self,
        tenant: &str,
        name: &str,
        file: &str,
        yaml: &str,
    ) -> Result<StoredScheme, StoreError> {
        self.tenant(tenant)?;
        let at = now();
        self.db().execute(
            "INSERT INTO schemes (tenant, name, file, yaml, enabled, applied_at) VALUES (?1, ?2, ?3, ?4, 1, ?5)
             ON CONFLICT (tenant, name) DO UPDATE SET file = ?3, yaml = ?4, applied_at = ?5",
            params![tenant, name, file, yaml, at],
        )?;
        self.scheme(tenant, name)
    }

    /// One applied scheme.
    ///
    /// # Errors
    /// [`StoreError::NotFound`].
    pub fn scheme(&self, tenant: &str, name: &str) -> Result<StoredScheme, StoreError> {
        self.db()
            .query_row(
                "SELECT tenant, name, file, yaml, enabled, applied_at FROM schemes WHERE tenant = ?1 AND name = ?2",
                params![tenant, name],
                scheme_row,
            )
            .optional()?
            .ok_or_else(|| StoreError::NotFound(format!("scheme '{name}' of tenant '{tenant}'")))
    }

    /// A tenant's schemes, or every tenant's with `None`.
    ///
    /// # Errors
    /// Database errors.
    pub fn schemes(&self, tenant: Option<&str>) -> Result<Vec<StoredScheme>, StoreError> {
        let db = self.db();
        let mut stmt = db.prepare(
            "SELECT tenant, name, file, yaml, enabled, applied_at FROM schemes
             WHERE ?1 IS NULL OR tenant = ?1 ORDER BY tenant, name",
        )?;
        let rows = stmt.query_map([tenant], scheme_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Removes a scheme with its position, ledger and runs.
    ///
    /// # Errors
    /// [`StoreError::NotFound`].
    pub fn remove_scheme(&self, tenant: &str, name: &str) -> Result<(), StoreError> {
        let n = self.db().execute(
            "DELETE FROM schemes WHERE tenant = ?1 AND name = ?2",
            params![tenant, name],
        )?;
        if n == 0 {
            return Err(StoreError::NotFound(format!(
                "scheme '{name}' of tenant '{tenant}'"
            )));
        }
        Ok(())
    }
}
