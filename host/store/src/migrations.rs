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
    // 2: schemes, their pull position, the ledger, runs and their logs,
    // tenant lookup tables, and a per-connection rate limit.
    "ALTER TABLE connections ADD COLUMN rate_limit TEXT;
    CREATE TABLE schemes (
        tenant      TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        name        TEXT NOT NULL,
        file        TEXT NOT NULL,
        yaml        TEXT NOT NULL,
        enabled     INTEGER NOT NULL DEFAULT 1,
        applied_at  TEXT NOT NULL,
        PRIMARY KEY (tenant, name)
    );
    CREATE TABLE scheme_state (
        tenant        TEXT NOT NULL,
        scheme        TEXT NOT NULL,
        watermark     INTEGER,
        window_start  INTEGER,
        window_end    INTEGER,
        cursor        TEXT,
        lease_owner   TEXT,
        lease_until   INTEGER,
        updated_at    TEXT NOT NULL,
        PRIMARY KEY (tenant, scheme),
        FOREIGN KEY (tenant, scheme) REFERENCES schemes(tenant, name) ON DELETE CASCADE
    );
    CREATE TABLE ledger (
        id               INTEGER PRIMARY KEY,
        tenant           TEXT NOT NULL,
        scheme           TEXT NOT NULL,
        key              TEXT NOT NULL,
        hash             TEXT NOT NULL,
        status           TEXT NOT NULL,
        source           TEXT NOT NULL,
        mapped           TEXT,
        reply            TEXT,
        target_id        TEXT,
        target_number    TEXT,
        error_class      TEXT,
        error            TEXT,
        attempts         INTEGER NOT NULL DEFAULT 0,
        next_attempt_at  INTEGER NOT NULL DEFAULT 0,
        versions         INTEGER NOT NULL DEFAULT 1,
        first_seen       TEXT NOT NULL,
        updated_at       TEXT NOT NULL,
        UNIQUE (tenant, scheme, key),
        FOREIGN KEY (tenant, scheme) REFERENCES schemes(tenant, name) ON DELETE CASCADE
    );
    CREATE INDEX ledger_by_status ON ledger (tenant, scheme, status, id);
    CREATE TABLE runs (
        id           TEXT PRIMARY KEY,
        tenant       TEXT NOT NULL,
        scheme       TEXT NOT NULL,
        trigger      TEXT NOT NULL,
        status       TEXT NOT NULL,
        started_at   TEXT NOT NULL,
        finished_at  TEXT,
        counts       TEXT NOT NULL DEFAULT '{}',
        error        TEXT,
        FOREIGN KEY (tenant, scheme) REFERENCES schemes(tenant, name) ON DELETE CASCADE
    );
    CREATE INDEX runs_by_scheme ON runs (tenant, scheme, started_at);
    CREATE TABLE run_log (
        run_id  TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        seq     INTEGER NOT NULL,
        entry   TEXT NOT NULL,
        PRIMARY KEY (run_id, seq)
    );
    CREATE TABLE lookup_rows (
        tenant  TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        name    TEXT NOT NULL,
        key     TEXT NOT NULL,
        value   TEXT NOT NULL,
        PRIMARY KEY (tenant, name, key)
    );",
    // 3: a record's documents beside its ledger row. Status changes then
    // rewrite a small row, not the source and the sent document with it
    // (a ledger row grew past a page when its mapped document was added).
    // Documents are packed (documents.rs); rows moved here from
    // version 2 stay text.
    "CREATE TABLE ledger_source (
        id      INTEGER PRIMARY KEY REFERENCES ledger(id) ON DELETE CASCADE,
        source  BLOB NOT NULL
    );
    CREATE TABLE ledger_sent (
        id      INTEGER PRIMARY KEY REFERENCES ledger(id) ON DELETE CASCADE,
        mapped  BLOB,
        reply   TEXT
    );
    INSERT INTO ledger_source (id, source) SELECT id, source FROM ledger;
    INSERT INTO ledger_sent (id, mapped, reply)
        SELECT id, mapped, reply FROM ledger WHERE mapped IS NOT NULL OR reply IS NOT NULL;
    ALTER TABLE ledger DROP COLUMN source;
    ALTER TABLE ledger DROP COLUMN mapped;
    ALTER TABLE ledger DROP COLUMN reply;",
    // 4: API tokens of tenants (`weft serve`). Only a token's SHA-256 is
    // kept: a copy of the database does not let anyone in.
    "CREATE TABLE api_tokens (
        id          TEXT PRIMARY KEY,
        tenant      TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        hash        TEXT NOT NULL UNIQUE,
        label       TEXT NOT NULL,
        created_at  TEXT NOT NULL
    );",
    // 5: the dictionaries the ledger's documents are compressed with
    // (documents.rs), one per scheme and kind of document. A document names
    // its dictionary by id, so ids are never reused (AUTOINCREMENT) and a
    // dictionary goes only with its scheme, as the documents do.
    "CREATE TABLE ledger_dicts (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        tenant      TEXT NOT NULL,
        scheme      TEXT NOT NULL,
        kind        TEXT NOT NULL,
        dict        BLOB NOT NULL,
        created_at  TEXT NOT NULL,
        UNIQUE (tenant, scheme, kind),
        FOREIGN KEY (tenant, scheme) REFERENCES schemes(tenant, name) ON DELETE CASCADE
    );",
];

pub(crate) fn apply(db: &mut rusqlite::Connection) -> Result<(), StoreError> {
    let migrations = Migrations::new(STEPS.iter().map(|sql| M::up(sql)).collect());
    migrations
        .to_latest(db)
        .map_err(|e| StoreError::Migration(e.to_string()))
}

/// Migrates to `version` only, as an older weft would have left the file.
#[cfg(test)]
pub(crate) fn apply_up_to(db: &mut rusqlite::Connection, version: usize) -> Result<(), StoreError> {
    let migrations = Migrations::new(STEPS.iter().map(|sql| M::up(sql)).collect());
    migrations
        .to_version(db, version)
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
