//! `weft records list|show|retry`: the ledger and its exception queue.

use anyhow::Result;
use clap::Subcommand;
use weft_engine::{Engine, RunRequest, Trigger};

use crate::output;

#[derive(Debug, Subcommand)]
pub enum RecordsCommand {
    /// List records, newest first.
    List {
        /// The tenant.
        #[arg(long)]
        tenant: String,
        /// Only this scheme's records.
        #[arg(long)]
        scheme: Option<String>,
        /// queued, done or failed (the exception queue).
        #[arg(long)]
        status: Option<String>,
        /// At most this many.
        #[arg(long, default_value_t = 50)]
        limit: usize,
        /// JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// A record's journey: source JSON, mapped JSON, the target's reply,
    /// attempts and the last error.
    Show {
        /// The record's id.
        id: i64,
        /// The tenant.
        #[arg(long)]
        tenant: String,
    },
    /// Queue failed records again (after fixing the cause) and push them
    /// now: one record by id, or every failed record of a scheme.
    Retry {
        /// The record's id.
        id: Option<i64>,
        /// The tenant.
        #[arg(long)]
        tenant: String,
        /// Every failed record of this scheme.
        #[arg(long)]
        scheme: Option<String>,
        /// Only queue them; the next run pushes them.
        #[arg(long)]
        no_push: bool,
    },
}

pub async fn run(engine: &Engine, command: RecordsCommand) -> Result<()> {
    let store = engine.store();
    match command {
        RecordsCommand::List {
            tenant,
            scheme,
            status,
            limit,
            json,
        } => {
            store.tenant(&tenant)?;
            let records = store.records(&tenant, scheme.as_deref(), status.as_deref(), limit)?;
            if json {
                return output::json(&records);
            }
            let mut t = output::table([
                "ID", "SCHEME", "KEY", "STATUS", "ATTEMPTS", "TARGET", "ERROR",
            ]);
            for r in records {
                t.add_row(vec![
                    r.id.to_string(),
                    r.scheme,
                    r.key,
                    r.status,
                    r.attempts.to_string(),
                    r.target_number.or(r.target_id).unwrap_or_default(),
                    r.error
                        .map(|e| format!("{}: {e}", r.error_class.unwrap_or_default()))
                        .unwrap_or_default(),
                ]);
            }
            println!("{t}");
        }
        RecordsCommand::Show { id, tenant } => {
            let r = store.record(&tenant, id)?;
            output::json(&r)?;
        }
        RecordsCommand::Retry {
            id,
            tenant,
            scheme,
            no_push,
        } => {
            if id.is_none() && scheme.is_none() {
                anyhow::bail!(
                    "name a record id, or --scheme to retry every failed record of a scheme"
                );
            }
            let schemes: Vec<String> = match (&id, &scheme) {
                (Some(id), _) => vec![store.record(&tenant, *id)?.scheme],
                (None, Some(s)) => {
                    store.scheme(&tenant, s)?;
                    vec![s.clone()]
                }
                (None, None) => Vec::new(),
            };
            let n = store.retry(&tenant, scheme.as_deref(), id)?;
            println!("queued {n} record(s) again");
            if no_push || n == 0 {
                return Ok(());
            }
            for s in schemes {
                let outcome = engine
                    .run(RunRequest {
                        tenant: tenant.clone(),
                        scheme: s.clone(),
                        trigger: Trigger::Manual,
                        stop: None,
                        progress: None,
                        push_only: true,
                        started: None,
                    })
                    .await?;
                let c = outcome.counts;
                let mut said = format!(
                    "{s}: written {}  existed {}  failed {}",
                    c.written, c.existed, c.failed
                );
                // A record refused before it was keyed, pulled again, may
                // turn out to be one the ledger has, or one the filter drops.
                for (what, n) in [("duplicate", c.duplicate), ("filtered", c.filtered)] {
                    if n > 0 {
                        said.push_str(&format!("  {what} {n}"));
                    }
                }
                println!("{said}  ({})", outcome.status.as_str());
            }
        }
    }
    Ok(())
}
