//! `weft`: run integration schemes, manage plugins, serve the API.
//!
//! The binary is thin: argument parsing, output and exit codes. The work
//! lives in the library crates (`weft-runtime`, `weft-plugins`, ...).

// Records are JSON trees of many small allocations; mimalloc handles that
// pattern far better than the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod commands;
mod home;
mod output;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

/// weft: a WebAssembly plugin-based integration host.
///
/// Exit codes: 0 success, 1 failure, 2 usage error, 3 a run paused on a
/// rate limit or quota (the next run resumes), 4 a run stopped on request.
#[derive(Debug, Parser)]
#[command(name = "weft", version, about, long_about = None)]
struct Cli {
    /// weft's data directory (plugins, store, caches). Defaults to the
    /// per-user data directory, e.g. ~/.local/share/weft.
    #[arg(long, env = "WEFT_HOME", global = true)]
    home: Option<PathBuf>,

    /// Log format on stderr.
    #[arg(long, value_enum, default_value_t = LogFormat::Text, global = true)]
    log_format: LogFormat,

    /// How long one HTTP exchange of a plugin may take, in seconds, before
    /// it counts as timed out (a transient error the run retries).
    #[arg(long, env = "WEFT_HTTP_TIMEOUT", default_value_t = 30.0, global = true,
          value_parser = parse_seconds)]
    http_timeout: f64,

    /// More logging (-v info, -vv debug).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Install, list, inspect and remove plugins.
    #[command(subcommand)]
    Plugin(commands::plugin::PluginCommand),
    /// Add and list tenants.
    #[command(subcommand)]
    Tenant(commands::tenant::TenantCommand),
    /// Add, list, check and remove a tenant's connections.
    #[command(subcommand)]
    Connection(commands::connection::ConnectionCommand),
    /// Validate, apply, preview and run schemes.
    #[command(subcommand)]
    Scheme(commands::scheme::SchemeCommand),
    /// The ledger and its exception queue: list, show, retry.
    #[command(subcommand)]
    Records(commands::records::RecordsCommand),
    /// Runs and their logs.
    #[command(subcommand)]
    Runs(commands::runs::RunsCommand),
    /// A tenant's lookup tables.
    #[command(subcommand)]
    Lookup(commands::lookup::LookupCommand),
    /// Serve: run schemes on their schedules, take webhooks, answer the
    /// REST API (/api/v1) and Prometheus (/metrics).
    Serve(commands::serve::ServeArgs),
}

/// The engine over `home`'s store and plugins.
fn engine(home: &std::path::Path, http_timeout: f64) -> anyhow::Result<weft_engine::Engine> {
    let store = std::sync::Arc::new(weft_store::SqliteStore::open(home)?);
    let mut config = weft_runtime::RuntimeConfig::default();
    config.limits.http_timeout = std::time::Duration::from_secs_f64(http_timeout);
    let runtime = weft_runtime::Runtime::new(config)?;
    let plugins = weft_plugins::PluginStore::open(home, runtime)?;
    Ok(weft_engine::Engine::new(
        home.to_owned(),
        store,
        plugins,
        weft_engine::EngineOptions::default(),
    ))
}

pub(crate) fn parse_seconds(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(s) if s.is_finite() && s > 0.0 && s <= 3600.0 => Ok(s),
        _ => Err(format!(
            "'{text}' is not a number of seconds between 0 and 3600"
        )),
    }
}

fn init_tracing(format: LogFormat, verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("WEFT_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

/// `mi_option_purge_delay` in mimalloc.h's `mi_option_e` (the Rust
/// bindings name the options around it, not this one).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
// The option after it, which the bindings do name: a mimalloc that
// renumbered its options fails the build here rather than have the wrong
// option set.
const _: () = assert!(libmimalloc_sys::mi_option_use_numa_nodes == MI_OPTION_PURGE_DELAY + 1);

/// A run frees megabytes of pages, bodies and documents every few
/// milliseconds. mimalloc's defaults keep freed memory a whole second
/// before giving it back, and the kernel backs the heap with 2 MiB huge
/// pages, each zeroed whole when touched again after a purge: together
/// they put a 100,000-order run's peak RSS anywhere between 145 and 215
/// MiB. Freed memory goes back after 100 ms, and the process does without
/// huge pages (`just bench`: peak RSS 112–124 MiB, throughput unchanged).
/// `MIMALLOC_PURGE_DELAY` and `MIMALLOC_ALLOW_THP` still decide when set.
fn tune_allocator() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: sets one integer in mimalloc's option table; mimalloc
        // reads the option on each purge, so setting it late is fine.
        #[allow(unsafe_code)]
        unsafe {
            libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 100);
        }
    }
    // mimalloc reads its own THP option before `main`: the process flag
    // it would set is set here instead. It holds for every mapping,
    // plugin memories included, from the next page fault on.
    #[cfg(target_os = "linux")]
    if std::env::var_os("MIMALLOC_ALLOW_THP").is_none() {
        // SAFETY: PR_SET_THP_DISABLE takes integer arguments only and
        // changes nothing but the process's huge-page policy.
        // An old kernel refuses it: huge pages then stay, which costs
        // memory, not correctness.
        #[allow(unsafe_code)]
        unsafe {
            libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
        }
    }
}

fn main() -> ExitCode {
    tune_allocator();
    let cli = Cli::parse();
    // A service's log is its record of what happened: info by default.
    let verbose = match cli.command {
        Command::Serve(_) => cli.verbose.max(1),
        _ => cli.verbose,
    };
    init_tracing(cli.log_format, verbose);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        let home = home::resolve(cli.home)?;
        let http_timeout = cli.http_timeout;
        match cli.command {
            Command::Plugin(cmd) => commands::plugin::run(&home, cmd).await,
            Command::Tenant(cmd) => commands::tenant::run(&home, cmd),
            Command::Connection(cmd) => {
                commands::connection::run(&engine(&home, http_timeout)?, cmd).await
            }
            Command::Scheme(cmd) => commands::scheme::run(&engine(&home, http_timeout)?, cmd).await,
            Command::Records(cmd) => {
                commands::records::run(&engine(&home, http_timeout)?, cmd).await
            }
            Command::Runs(cmd) => commands::runs::run(&weft_store::SqliteStore::open(&home)?, cmd),
            Command::Lookup(cmd) => {
                commands::lookup::run(&weft_store::SqliteStore::open(&home)?, cmd)
            }
            Command::Serve(args) => commands::serve::run(engine(&home, http_timeout)?, args).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
