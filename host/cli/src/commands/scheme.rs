//! `weft scheme validate|apply|list|show|preview|run|remove`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::Subcommand;
use indicatif::{ProgressBar, ProgressStyle};
use weft_engine::{Engine, RunCounts, RunRequest, RunStatus, Trigger};
use weft_scheme::Scheme;
use weft_store::SqliteStore;

use crate::output;

#[derive(Debug, Subcommand)]
pub enum SchemeCommand {
    /// Check a scheme file offline: YAML, templates, plugins, operations,
    /// params against their schemas, the tenant's connections.
    Validate {
        /// The scheme file.
        file: PathBuf,
        /// The tenant whose connections the scheme uses.
        #[arg(long)]
        tenant: String,
    },
    /// Validate a scheme file and apply it to a tenant (replacing a scheme
    /// of the same name; its ledger and position are kept).
    Apply {
        /// The scheme file.
        file: PathBuf,
        /// The tenant.
        #[arg(long)]
        tenant: String,
    },
    /// List a tenant's schemes with their ledger counts.
    List {
        /// The tenant.
        #[arg(long)]
        tenant: String,
        /// JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Read the first page of the source and show the mapped output,
    /// without writing anything or touching the ledger.
    Preview {
        /// A scheme file, or the name of an applied scheme.
        scheme: String,
        /// The tenant.
        #[arg(long)]
        tenant: String,
        /// Records to show.
        #[arg(long, default_value_t = 3)]
        limit: usize,
    },
    /// Run an applied scheme now: pull every window up to now and push.
    Run {
        /// The scheme's name.
        name: String,
        /// The tenant.
        #[arg(long)]
        tenant: String,
        /// Print the summary as JSON (and no progress bar).
        #[arg(long)]
        json: bool,
    },
    /// Remove an applied scheme with its ledger and runs.
    Remove {
        /// The scheme's name.
        name: String,
        /// The tenant.
        #[arg(long)]
        tenant: String,
    },
}

/// Parses and validates a scheme file; every problem goes to stderr.
async fn checked(engine: &Engine, tenant: &str, file: &Path) -> Result<Scheme> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let name = file.display().to_string();
    match engine.check_scheme(tenant, &name, &text).await? {
        Ok(checked) => {
            for d in &checked.warnings {
                eprintln!("{d}");
            }
            Ok(checked.scheme)
        }
        Err(problems) => {
            for d in &problems.diagnostics {
                eprintln!("{d}");
            }
            bail!("{problems}");
        }
    }
}

pub async fn run(engine: &Engine, command: SchemeCommand) -> Result<()> {
    match command {
        SchemeCommand::Validate { file, tenant } => {
            let s = checked(engine, &tenant, &file).await?;
            println!("{}: scheme '{}' is valid", file.display(), s.name);
        }
        SchemeCommand::Apply { file, tenant } => {
            let s = checked(engine, &tenant, &file).await?;
            engine
                .store()
                .apply_scheme(&tenant, &s.name, &file.display().to_string(), s.text())?;
            println!("applied scheme '{}' to tenant {tenant}", s.name);
        }
        SchemeCommand::List { tenant, json } => list(engine.store(), &tenant, json)?,
        SchemeCommand::Preview {
            scheme,
            tenant,
            limit,
        } => preview(engine, &tenant, &scheme, limit).await?,
        SchemeCommand::Run { name, tenant, json } => {
            run_scheme(engine, &tenant, &name, json).await?
        }
        SchemeCommand::Remove { name, tenant } => {
            engine.store().remove_scheme(&tenant, &name)?;
            println!("removed scheme '{name}' of tenant {tenant}");
        }
    }
    Ok(())
}

fn list(store: &SqliteStore, tenant: &str, json: bool) -> Result<()> {
    store.tenant(tenant)?;
    let schemes = store.schemes(Some(tenant))?;
    let mut rows = Vec::new();
    for s in &schemes {
        let counts = store.ledger_counts(tenant, &s.name)?;
        let last = store.runs(tenant, Some(&s.name), 1)?.into_iter().next();
        rows.push((s, counts, last));
    }
    if json {
        let v: Vec<serde_json::Value> = rows
            .iter()
            .map(|(s, c, last)| {
                serde_json::json!({"name": s.name, "file": s.file, "applied_at": s.applied_at,
                    "enabled": s.enabled, "ledger": c, "last_run": last})
            })
            .collect();
        return output::json(&v);
    }
    let mut t = output::table(["SCHEME", "QUEUED", "DONE", "FAILED", "LAST RUN", "STATUS"]);
    for (s, c, last) in rows {
        let n = |k: &str| c.get(k).copied().unwrap_or(0).to_string();
        t.add_row(vec![
            s.name.clone(),
            n("queued"),
            n("done"),
            n("failed"),
            last.as_ref()
                .map(|r| r.started_at.clone())
                .unwrap_or_default(),
            last.map(|r| r.status).unwrap_or_default(),
        ]);
    }
    println!("{t}");
    Ok(())
}

async fn preview(engine: &Engine, tenant: &str, scheme: &str, limit: usize) -> Result<()> {
    let path = Path::new(scheme);
    let scheme = if path.exists() {
        checked(engine, tenant, path).await?
    } else {
        let stored = engine.store().scheme(tenant, scheme)?;
        Scheme::parse(&stored.file, &stored.yaml).map_err(|d| anyhow::anyhow!("{d}"))?
    };
    let p = engine.preview(tenant, &scheme, None, limit).await?;
    println!("source params: {}", serde_json::to_string(&p.params)?);
    for (i, r) in p.records.iter().enumerate() {
        println!(
            "\n── record {} ─ key: {}",
            i + 1,
            match &r.key {
                Ok(k) => k.clone(),
                Err(e) => format!("ERROR {e}"),
            }
        );
        println!("source:\n{}", serde_json::to_string_pretty(&r.source)?);
        match &r.mapped {
            Ok(m) => println!("mapped:\n{}", serde_json::to_string_pretty(m)?),
            Err(e) => println!("mapping error: {e}"),
        }
    }
    if p.records.is_empty() {
        println!("\nthe first page is empty");
    } else if p.more {
        println!("\n(more pages follow; nothing was written)");
    }
    Ok(())
}

fn bar_message(c: &RunCounts) -> String {
    format!(
        "pulled {}  new {}  dup {}  written {}  existed {}  failed {}",
        c.pulled, c.new, c.duplicate, c.written, c.existed, c.failed
    )
}

async fn run_scheme(engine: &Engine, tenant: &str, name: &str, json: bool) -> Result<()> {
    let (tx, mut rx) = tokio::sync::watch::channel(RunCounts::default());
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    // Ctrl-C stops at the next page or batch boundary, with everything so
    // far committed; a second Ctrl-C is the default (immediate) exit.
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!("stopping after the current page… (Ctrl-C again to abort)");
            let _ = stop_tx.send(true);
        }
    });
    let bar = (!json).then(|| {
        let b = ProgressBar::new_spinner();
        b.set_style(
            ProgressStyle::with_template("{spinner} [{elapsed_precise}] {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        b.enable_steady_tick(Duration::from_millis(120));
        b
    });
    let bar_task = bar.clone().map(|b| {
        tokio::spawn(async move {
            while rx.changed().await.is_ok() {
                let c = rx.borrow().clone();
                b.set_message(bar_message(&c));
            }
        })
    });
    let outcome = engine
        .run(RunRequest {
            tenant: tenant.to_owned(),
            scheme: name.to_owned(),
            trigger: Trigger::Manual,
            stop: Some(stop_rx),
            progress: Some(tx),
            push_only: false,
            started: None,
        })
        .await;
    if let Some(t) = bar_task {
        t.abort();
    }
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let outcome = outcome?;
    if json {
        output::json(&outcome)?;
    } else {
        let c = &outcome.counts;
        println!(
            "run {} of {name}: {}\n  pulled {} (pages {}, windows {}, filtered {})\n  new {}  duplicate {}  changed {}  changed-skipped {}\n  written {}  existed {}  failed {}  retry later {}\n  elapsed {:.2} s ({:.0} records/s)",
            outcome.run_id,
            outcome.status.as_str(),
            c.pulled,
            c.pages,
            c.windows,
            c.filtered,
            c.new,
            c.duplicate,
            c.changed,
            c.changed_skipped,
            c.written,
            c.existed,
            c.failed,
            c.retried,
            c.elapsed_secs,
            if c.elapsed_secs > 0.0 {
                c.delivered() as f64 / c.elapsed_secs
            } else {
                0.0
            },
        );
        if let Some(e) = &outcome.error {
            println!("  reason: {e}");
        }
        if c.failed > 0 {
            println!(
                "  see the exception queue: weft records list --tenant {tenant} --scheme {name} --status failed"
            );
        }
    }
    match outcome.status {
        RunStatus::Succeeded => Ok(()),
        RunStatus::Paused => std::process::exit(3),
        RunStatus::Stopped => std::process::exit(4),
        RunStatus::Failed => std::process::exit(1),
    }
}
