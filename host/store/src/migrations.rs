//! The schema, one migration per version. Never edit a released migration:
//! add the next one.

use rusqlite_migration::{M, Migrations};

use crate::StoreError;

const STEPS: &[&str] = &[
    // 1: tenants and their connections.
    "CREATE TABLE tenants (
        id          TEXT PRIMARY KEY,
        title       TEXT NOT NULL,
        created_at  TEXT NOT NULL
    );
    CREATE TABLE connections (
        tenant             TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        name               TEXT NOT NULL,
        plugin             TEXT NOT NULL,
        settings           TEXT NOT NULL,
        secrets            BLOB,
        allowed_addresses  TEXT NOT NULL DEFAULT '[]',
        created_at         TEXT NOT NULL,
        updated_at         TEXT NOT NULL,
        PRIMARY KEY (tenant, name)
    );",
];

pub(crate) fn apply(db: &mut rusqlite::Connection) -> Result<(), StoreError> {
    let migrations = Migrations::new(STEPS.iter().map(|sql| M::up(sql)).collect());
    migrations
        .to_latest(db)
        .map_err(|e| StoreError::Migration(e.to_string()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn migrations_are_valid() {
        let migrations = rusqlite_migration::Migrations::new(
            super::STEPS
                .iter()
                .map(|sql| rusqlite_migration::M::up(sql))
                .collect(),
        );
        assert!(migrations.validate().is_ok());
    }
}
