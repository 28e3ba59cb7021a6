//! `weft runs list|show|log`.

use anyhow::Result;
use clap::Subcommand;
use weft_store::SqliteStore;

use crate::output;

#[derive(Debug, Subcommand)]
pub enum RunsCommand {
    /// A tenant's runs, newest first.
    List {
        /// The tenant.
        #[arg(long)]
        tenant: String,
        /// Only this scheme's runs.
        #[arg(long)]
        scheme: Option<String>,
        /// At most this many.
        #[arg(long, default_value_t = 20)]
        limit: usize,
        /// JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// One run with its counts.
    Show {
        /// The run id.
        id: String,
        /// The tenant.
        #[arg(long)]
        tenant: String,
    },
    /// A run's log: plugin lines, errors and HTTP exchanges (redacted).
    Log {
        /// The run id.
        id: String,
        /// The tenant.
        #[arg(long)]
        tenant: String,
    },
}

pub fn run(store: &SqliteStore, command: RunsCommand) -> Result<()> {
    match command {
        RunsCommand::List {
            tenant,
            scheme,
            limit,
            json,
        } => {
            store.tenant(&tenant)?;
            let runs = store.runs(&tenant, scheme.as_deref(), limit)?;
            if json {
                return output::json(&runs);
            }
            let mut t = output::table([
                "RUN", "SCHEME", "TRIGGER", "STATUS", "STARTED", "PULLED", "WRITTEN", "FAILED",
            ]);
            for r in runs {
                let n = |k: &str| {
                    r.counts
                        .get(k)
                        .and_then(serde_json::Value::as_u64)
                        .unwrap_or(0)
                        .to_string()
                };
                t.add_row(vec![
                    r.id.clone(),
                    r.scheme.clone(),
                    r.trigger.clone(),
                    r.status.clone(),
                    r.started_at.clone(),
                    n("pulled"),
                    n("written"),
                    n("failed"),
                ]);
            }
            println!("{t}");
        }
        RunsCommand::Show { id, tenant } => output::json(&store.run(&tenant, &id)?)?,
        RunsCommand::Log { id, tenant } => {
            for entry in store.run_log(&tenant, &id)? {
                println!("{entry}");
            }
        }
    }
    Ok(())
}
