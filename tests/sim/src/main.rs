//! `weft-sim`: serve every simulator on one loopback port until SIGINT or
//! SIGTERM. Prints the origin and the credentials on start-up.

// Records are JSON trees of many small allocations; mimalloc handles that
// pattern far better than the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Parser;
use weft_sim::{Faults, SimConfig, SimHandle, Simulator, SourceKind};

/// Faithful local simulators of 旺店通, 奇门, 聚水潭, 吉客云, 金蝶云星空 and 金蝶云星辰.
#[derive(Debug, Parser)]
#[command(name = "weft-sim", version)]
struct Cli {
    /// Port on 127.0.0.1; 0 picks a free one (printed on start-up).
    #[arg(long, default_value_t = 0, env = "WEFT_SIM_PORT")]
    port: u16,
    /// Seed of the datasets and of the fault dice.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// A JSON file with a full SimConfig; the flags below override it.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,

    /// 旺店通 purchase orders.
    #[arg(long)]
    purchase_orders: Option<usize>,
    /// Detail lines per purchase order (default 5).
    #[arg(long)]
    purchase_order_lines: Option<usize>,
    /// 旺店通 purchase-return stock-outs.
    #[arg(long)]
    stockout_returns: Option<usize>,
    #[arg(long)]
    stockout_lines: Option<usize>,
    /// 聚水潭 refunds.
    #[arg(long)]
    refunds: Option<usize>,
    #[arg(long)]
    refund_lines: Option<usize>,
    /// 吉客云 trades.
    #[arg(long)]
    jackyun_trades: Option<usize>,
    #[arg(long)]
    jackyun_trade_lines: Option<usize>,
    /// Earliest `modified` time, China time (default 2024-01-01 00:00:00).
    #[arg(long, value_name = "yyyy-MM-dd HH:mm:ss")]
    base_time: Option<String>,
    /// `modified` times spread over this many days (default 28).
    #[arg(long)]
    spread_days: Option<u32>,
    #[arg(long)]
    materials: Option<usize>,
    #[arg(long)]
    suppliers: Option<usize>,
    #[arg(long)]
    customers: Option<usize>,
    #[arg(long)]
    shops: Option<usize>,
    #[arg(long)]
    warehouses: Option<usize>,

    /// 金蝶云星辰 purchase-return save path (UNCONFIRMED in the public record).
    #[arg(long)]
    jdy_pur_return_path: Option<String>,
    /// Faults at start-up, repeatable: `SYSTEM[,SYSTEM]:key=value,...`
    /// (SYSTEM: wdt, qimen, jst, jackyun, k3cloud, jdy or all; keys:
    /// latency_ms, latency_jitter_ms, error_rate, error_status, timeout_rate,
    /// timeout_hold_ms, timeout_mode=drop|late, rate_limit=PER_SECOND/BURST,
    /// session_expire_every).
    #[arg(long = "fault", value_name = "SPEC")]
    faults: Vec<String>,
    /// Do not keep the bodies the targets receive (saves memory in benchmarks).
    #[arg(long)]
    no_record_bodies: bool,
    /// Print the start-up information as one JSON line.
    #[arg(long)]
    json: bool,

    #[arg(long)]
    wdt_sid: Option<String>,
    #[arg(long)]
    wdt_appkey: Option<String>,
    #[arg(long)]
    wdt_appsecret: Option<String>,
    #[arg(long)]
    qimen_app_key: Option<String>,
    #[arg(long)]
    qimen_secret: Option<String>,
    #[arg(long)]
    jst_app_key: Option<String>,
    #[arg(long)]
    jst_app_secret: Option<String>,
    #[arg(long)]
    jst_access_token: Option<String>,
    #[arg(long)]
    jackyun_appkey: Option<String>,
    #[arg(long)]
    jackyun_secret: Option<String>,
    #[arg(long)]
    k3_acct_id: Option<String>,
    #[arg(long)]
    k3_username: Option<String>,
    #[arg(long)]
    k3_password: Option<String>,
    #[arg(long)]
    k3_app_id: Option<String>,
    #[arg(long)]
    k3_app_secret: Option<String>,
    #[arg(long)]
    jdy_client_id: Option<String>,
    #[arg(long)]
    jdy_client_secret: Option<String>,
    #[arg(long)]
    jdy_app_key: Option<String>,
    #[arg(long)]
    jdy_app_secret: Option<String>,
    #[arg(long)]
    shop_token: Option<String>,
}

fn set<T>(target: &mut T, value: Option<T>) {
    if let Some(v) = value {
        *target = v;
    }
}

impl Cli {
    fn into_config(self) -> Result<(SimConfig, bool)> {
        let mut c = match &self.config {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("reading {}", path.display()))?;
                serde_json::from_str(&text)
                    .with_context(|| format!("parsing {}", path.display()))?
            }
            None => SimConfig::default(),
        };
        c.port = self.port;
        c.seed = self.seed;
        let d = &mut c.dataset;
        set(&mut d.purchase_orders, self.purchase_orders);
        set(&mut d.purchase_order_lines, self.purchase_order_lines);
        set(&mut d.stockout_returns, self.stockout_returns);
        set(&mut d.stockout_lines, self.stockout_lines);
        set(&mut d.refunds, self.refunds);
        set(&mut d.refund_lines, self.refund_lines);
        set(&mut d.jackyun_trades, self.jackyun_trades);
        set(&mut d.jackyun_trade_lines, self.jackyun_trade_lines);
        set(&mut d.spread_days, self.spread_days);
        set(&mut d.master.materials, self.materials);
        set(&mut d.master.suppliers, self.suppliers);
        set(&mut d.master.customers, self.customers);
        set(&mut d.master.shops, self.shops);
        set(&mut d.master.warehouses, self.warehouses);
        if let Some(t) = &self.base_time {
            d.base_time = weft_sim::clock::parse_china(t)
                .with_context(|| format!("--base-time '{t}' is not yyyy-MM-dd HH:mm:ss"))?;
        }
        set(&mut c.jdy_pur_return_path, self.jdy_pur_return_path);
        for spec in &self.faults {
            let (systems, faults) = Faults::parse_spec(spec)?;
            for s in systems {
                c.faults.insert(s, faults.clone());
            }
        }
        if self.no_record_bodies {
            c.record_bodies = false;
        }
        let k = &mut c.credentials;
        set(&mut k.wdt.sid, self.wdt_sid);
        set(&mut k.wdt.appkey, self.wdt_appkey);
        set(&mut k.wdt.appsecret, self.wdt_appsecret);
        set(&mut k.qimen.app_key, self.qimen_app_key);
        set(&mut k.qimen.secret, self.qimen_secret);
        set(&mut k.jst.app_key, self.jst_app_key);
        set(&mut k.jst.app_secret, self.jst_app_secret);
        set(&mut k.jst.access_token, self.jst_access_token);
        set(&mut k.jackyun.appkey, self.jackyun_appkey);
        set(&mut k.jackyun.secret, self.jackyun_secret);
        set(&mut k.k3cloud.acct_id, self.k3_acct_id);
        set(&mut k.k3cloud.username, self.k3_username);
        set(&mut k.k3cloud.password, self.k3_password);
        set(&mut k.k3cloud.app_id, self.k3_app_id);
        set(&mut k.k3cloud.app_secret, self.k3_app_secret);
        set(&mut k.jdy.client_id, self.jdy_client_id);
        set(&mut k.jdy.client_secret, self.jdy_client_secret);
        set(&mut k.jdy.app_key, self.jdy_app_key);
        set(&mut k.jdy.app_secret, self.jdy_app_secret);
        set(&mut k.shop.token, self.shop_token);
        Ok((c, self.json))
    }
}

/// Start-up lines go to stdout; a supervisor that stops reading after the
/// first line must not bring the simulator down, so write errors are ignored.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}

fn announce(sim: &SimHandle, json: bool) {
    let o = sim.origin();
    let c = sim.config();
    let k = &c.credentials;
    let sizes: Vec<String> = SourceKind::ALL
        .iter()
        .map(|kind| format!("{kind}={}", sim.dataset_len(*kind)))
        .collect();
    if json {
        let info = serde_json::json!({
            "origin": o,
            "k3cloud_url": sim.k3cloud_url(),
            "jdy_pur_return_path": c.jdy_pur_return_path,
            "credentials": k,
            "datasets": SourceKind::ALL.iter().map(|kind| (kind.as_str(), sim.dataset_len(*kind))).collect::<std::collections::BTreeMap<_, _>>(),
        });
        say!("{info}");
        return;
    }
    say!("weft-sim listening on {o}");
    say!(
        "  wdt      {o}/openapi2/{{name}}.php  sid={} appkey={} appsecret={}",
        k.wdt.sid,
        k.wdt.appkey,
        k.wdt.appsecret
    );
    say!(
        "  qimen    {o}/router/qm  app_key={} secret={} target_app_key={} (旺店通) / {} (吉客云) customerId={}",
        k.qimen.app_key,
        k.qimen.secret,
        k.qimen.wdt_target_app_key,
        k.qimen.jackyun_target_app_key,
        k.qimen.customer_id
    );
    say!(
        "  jst      {o}/open/...  app_key={} app_secret={} access_token={} (code={})",
        k.jst.app_key,
        k.jst.app_secret,
        k.jst.access_token,
        k.jst.auth_code
    );
    say!(
        "  jackyun  {o}/open/openapi/do  appkey={} secret={}",
        k.jackyun.appkey,
        k.jackyun.secret
    );
    say!(
        "  k3cloud  {}  acctid={} username={} password={} appid={} appsecret={} lcid={}",
        sim.k3cloud_url(),
        k.k3cloud.acct_id,
        k.k3cloud.username,
        k.k3cloud.password,
        k.k3cloud.app_id,
        k.k3cloud.app_secret,
        k.k3cloud.lcid
    );
    say!(
        "  jdy      {o}  (purchase returns at {})  client_id={} client_secret={} app_key={} app_secret={}",
        c.jdy_pur_return_path,
        k.jdy.client_id,
        k.jdy.client_secret,
        k.jdy.app_key,
        k.jdy.app_secret
    );
    say!(
        "  shop     {o}/shop/v1/orders  token={} (a plain JSON storefront for the example plugins)",
        k.shop.token
    );
    say!("  control  {o}/_sim/health");
    say!("  datasets {}", sizes.join(" "));
}

/// Handlers are installed before the simulator announces itself, so a
/// supervisor that signals as soon as it reads the origin still gets a
/// clean exit.
#[cfg(unix)]
struct Signals {
    interrupt: tokio::signal::unix::Signal,
    terminate: tokio::signal::unix::Signal,
}

#[cfg(unix)]
impl Signals {
    fn install() -> Result<Signals> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Signals {
            interrupt: signal(SignalKind::interrupt()).context("installing the SIGINT handler")?,
            terminate: signal(SignalKind::terminate()).context("installing the SIGTERM handler")?,
        })
    }

    async fn wait(mut self) {
        tokio::select! {
            _ = self.interrupt.recv() => {}
            _ = self.terminate.recv() => {}
        }
    }
}

#[cfg(not(unix))]
struct Signals;

#[cfg(not(unix))]
impl Signals {
    fn install() -> Result<Signals> {
        Ok(Signals)
    }

    async fn wait(self) {
        let _ = tokio::signal::ctrl_c().await;
    }
}

fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let (config, json) = Cli::parse().into_config()?;
    if config.dataset.purchase_order_lines == 0 {
        bail!("--purchase-order-lines must be at least 1");
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the signal runtime")?;
    let signals = runtime.block_on(async { Signals::install() })?;
    let sim = Simulator::start(config).context("starting weft-sim")?;
    announce(&sim, json);
    runtime.block_on(signals.wait());
    sim.shutdown();
    Ok(())
}
