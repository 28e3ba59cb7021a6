//! `weft serve`: the scheduler, webhooks, the REST API and metrics.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::Args;
use weft_engine::Engine;
use weft_server::{ServeOptions, Server};

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// The admin's bearer token. Prefer --admin-token-file or the
    /// environment: a command line is visible to other users.
    #[arg(long, env = "WEFT_ADMIN_TOKEN", hide_env_values = true)]
    admin_token: Option<String>,
    /// A file holding the admin's bearer token.
    #[arg(long, conflicts_with = "admin_token")]
    admin_token_file: Option<PathBuf>,
    /// Serve the API and webhooks only; run no schedules.
    #[arg(long)]
    no_schedule: bool,
    /// How often the scheduler looks for due schemes, in seconds.
    #[arg(long, default_value_t = 1.0, value_parser = crate::parse_seconds)]
    tick: f64,
    /// Largest request body in bytes (webhooks, JSON).
    #[arg(long, default_value_t = 4 << 20)]
    body_limit: usize,
}

fn admin_token(args: &ServeArgs) -> Result<Option<String>> {
    let token = match (&args.admin_token, &args.admin_token_file) {
        (Some(t), _) => Some(t.trim().to_owned()),
        (None, Some(path)) => Some(
            std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the admin token file {}", path.display()))?
                .trim()
                .to_owned(),
        ),
        (None, None) => None,
    };
    match token {
        // A short admin token is guessable; refuse rather than serve with it.
        Some(t) if t.len() < 16 => {
            bail!(
                "the admin token must be at least 16 characters (use e.g. `openssl rand -hex 32`)"
            )
        }
        other => Ok(other),
    }
}

/// Resolves on SIGTERM or SIGINT.
async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(e) => {
                    tracing::warn!("cannot listen for SIGTERM ({e}); Ctrl-C still stops");
                    let _ = interrupt.await;
                    return;
                }
            };
        tokio::select! {
            _ = interrupt => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}

pub async fn run(engine: Engine, args: ServeArgs) -> Result<()> {
    let admin_token = admin_token(&args)?;
    if admin_token.is_none() {
        tracing::warn!(
            "no admin token (--admin-token-file or WEFT_ADMIN_TOKEN): admin routes and /metrics are closed"
        );
    }
    let options = ServeOptions {
        admin_token,
        body_limit: args.body_limit,
        schedule: !args.no_schedule,
        tick: Duration::from_secs_f64(args.tick),
        ..ServeOptions::default()
    };
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let local = listener.local_addr()?;
    // Scripts and tests read this line to learn the port (with --listen
    // 127.0.0.1:0 the system picks one).
    println!("weft serve listening on http://{local}");
    tracing::info!(%local, "listening");
    Server::new(engine, options)
        .serve(listener, shutdown_signal())
        .await?;
    Ok(())
}
