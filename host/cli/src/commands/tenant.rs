//! `weft tenant add|list|token`.

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
    /// A tenant's API tokens for `weft serve`.
    #[command(subcommand)]
    Token(TokenCommand),
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Issue a token; its value is printed once and never stored.
    Create {
        /// The tenant.
        #[arg(long)]
        tenant: String,
        /// What it is for.
        #[arg(long, default_value = "")]
        label: String,
        /// Print only the token (for scripts).
        #[arg(long)]
        quiet: bool,
    },
    /// List a tenant's tokens (ids and labels, never values).
    List {
        /// The tenant.
        #[arg(long)]
        tenant: String,
        /// JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a token.
    Revoke {
        /// The token's id (`tok_...`).
        id: String,
        /// The tenant.
        #[arg(long)]
        tenant: String,
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
        TenantCommand::Token(cmd) => token(&store, cmd)?,
    }
    Ok(())
}

fn token(store: &SqliteStore, command: TokenCommand) -> Result<()> {
    match command {
        TokenCommand::Create {
            tenant,
            label,
            quiet,
        } => {
            let issued = store.issue_token(&tenant, &label)?;
            if quiet {
                println!("{}", issued.secret);
            } else {
                println!(
                    "issued token {} for tenant {tenant}; it is shown only now:\n{}",
                    issued.token.id, issued.secret
                );
            }
        }
        TokenCommand::List { tenant, json } => {
            let tokens = store.tokens(&tenant)?;
            if json {
                return output::json(&tokens);
            }
            let mut t = output::table(["TOKEN", "LABEL", "CREATED"]);
            for token in tokens {
                t.add_row(vec![token.id, token.label, token.created_at]);
            }
            println!("{t}");
        }
        TokenCommand::Revoke { id, tenant } => {
            store.revoke_token(&tenant, &id)?;
            println!("revoked token {id} of tenant {tenant}");
        }
    }
    Ok(())
}
