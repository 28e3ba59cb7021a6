//! `weft lookup set|list|remove`: a tenant's lookup tables, which a
//! scheme's `lookup('table')` uses when the scheme does not define the
//! table itself.

use anyhow::Result;
use clap::Subcommand;
use weft_store::SqliteStore;

use crate::output;

#[derive(Debug, Subcommand)]
pub enum LookupCommand {
    /// Set rows of a table: key=value (repeatable). Values are text.
    Set {
        /// The table.
        table: String,
        /// The tenant.
        #[arg(long)]
        tenant: String,
        /// key=value rows.
        #[arg(required = true)]
        rows: Vec<String>,
    },
    /// Show a tenant's tables.
    List {
        /// The tenant.
        #[arg(long)]
        tenant: String,
        /// JSON.
        #[arg(long)]
        json: bool,
    },
    /// Remove a row.
    Remove {
        /// The table.
        table: String,
        /// The key.
        key: String,
        /// The tenant.
        #[arg(long)]
        tenant: String,
    },
}

pub fn run(store: &SqliteStore, command: LookupCommand) -> Result<()> {
    match command {
        LookupCommand::Set {
            table,
            tenant,
            rows,
        } => {
            let rows = rows
                .iter()
                .map(|r| {
                    r.split_once('=')
                        .map(|(k, v)| (k.to_owned(), serde_json::Value::String(v.to_owned())))
                        .ok_or_else(|| anyhow::anyhow!("'{r}' is not key=value"))
                })
                .collect::<Result<Vec<_>>>()?;
            store.set_lookup_rows(&tenant, &table, &rows)?;
            println!("set {} row(s) of table {table}", rows.len());
        }
        LookupCommand::List { tenant, json } => {
            let tables = store.lookup_tables(&tenant)?;
            if json {
                return output::json(&tables);
            }
            let mut t = output::table(["TABLE", "KEY", "VALUE"]);
            let mut names: Vec<_> = tables.keys().cloned().collect();
            names.sort();
            for name in names {
                let mut rows: Vec<_> = tables[&name].iter().collect();
                rows.sort_by(|a, b| a.0.cmp(b.0));
                for (k, v) in rows {
                    t.add_row(vec![
                        name.clone(),
                        k.clone(),
                        v.as_str().map_or_else(|| v.to_string(), str::to_owned),
                    ]);
                }
            }
            println!("{t}");
        }
        LookupCommand::Remove { table, key, tenant } => {
            if !store.remove_lookup_row(&tenant, &table, &key)? {
                anyhow::bail!("table {table} of tenant {tenant} has no key '{key}'");
            }
            println!("removed {key} from {table}");
        }
    }
    Ok(())
}
