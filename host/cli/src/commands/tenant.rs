//! `weft tenant add|list`.

use std::path::Path;

use anyhow::Result;
use clap::Subcommand;
use weft_store::SqliteStore;

use crate::output;

#[derive(Debug, Subcommand)]
pub enum TenantCommand {
    /// Add a tenant.
    Add {
        /// Its id: lowercase letters, digits, '-' and '_'.
        id: String,
        /// A human title.
        #[arg(long, default_value = "")]
        title: String,
    },
    /// List tenants.
    List {
        /// JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
}

pub fn run(home: &Path, command: TenantCommand) -> Result<()> {
    let store = SqliteStore::open(home)?;
    match command {
        TenantCommand::Add { id, title } => {
            let t = store.add_tenant(&id, &title)?;
            println!("added tenant {} ({})", t.id, t.title);
        }
        TenantCommand::List { json } => {
            let tenants = store.tenants()?;
            if json {
                return output::json(&tenants);
            }
            let mut t = output::table(["TENANT", "TITLE", "CREATED"]);
            for tenant in tenants {
                t.add_row(vec![tenant.id, tenant.title, tenant.created_at]);
            }
            println!("{t}");
        }
    }
    Ok(())
}
