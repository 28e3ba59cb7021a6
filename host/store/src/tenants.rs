//! Tenants: the unit of isolation. Every connection, scheme, run and record
//! belongs to exactly one.

use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use crate::{SqliteStore, StoreError, now};

/// A tenant.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tenant {
    /// Its id: lowercase letters, digits, `-` and `_`.
    pub id: String,
    /// A human title.
    pub title: String,
    /// When it was created.
    pub created_at: String,
}

/// Checks a tenant id.
pub fn check_id(id: &str) -> Result<(), StoreError> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(StoreError::Invalid(vec![format!(
            "tenant id '{id}' must be 1-64 lowercase letters, digits, '-' or '_'"
        )]))
    }
}

impl SqliteStore {
    /// Adds a tenant.
    ///
    /// # Errors
    /// An invalid id, or a tenant with that id exists.
    pub fn add_tenant(&self, id: &str, title: &str) -> Result<Tenant, StoreError> {
        check_id(id)?;
        let tenant = Tenant {
            id: id.to_owned(),
            title: if title.is_empty() { id } else { title }.to_owned(),
            created_at: now(),
        };
        let inserted = self.db().execute(
            "INSERT INTO tenants (id, title, created_at) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
            params![tenant.id, tenant.title, tenant.created_at],
        )?;
        if inserted == 0 {
            return Err(StoreError::Exists(format!("tenant '{id}'")));
        }
        Ok(tenant)
    }

    /// Every tenant, by id.
    ///
    /// # Errors
    /// Database errors.
    pub fn tenants(&self) -> Result<Vec<Tenant>, StoreError> {
        let db = self.db();
        let mut stmt = db.prepare("SELECT id, title, created_at FROM tenants ORDER BY id")?;
        let rows = stmt.query_map([], |r| {
            Ok(Tenant {
                id: r.get(0)?,
                title: r.get(1)?,
                created_at: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// One tenant.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when there is none.
    pub fn tenant(&self, id: &str) -> Result<Tenant, StoreError> {
        self.db()
            .query_row(
                "SELECT id, title, created_at FROM tenants WHERE id = ?1",
                [id],
                |r| {
                    Ok(Tenant {
                        id: r.get(0)?,
                        title: r.get(1)?,
                        created_at: r.get(2)?,
                    })
                },
            )
            .optional()?
            .ok_or_else(|| StoreError::NotFound(format!("tenant '{id}'")))
    }
}
