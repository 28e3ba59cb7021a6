//! `weft connection add|list|check|remove`.

use std::path::Path;

use anyhow::{Context, Result, bail};
use clap::Subcommand;
use ipnet::IpNet;
use weft_engine::Engine;
use weft_plugins::PluginSpec;
use weft_store::ConnectionInput;

use crate::output;

#[derive(Debug, Subcommand)]
pub enum ConnectionCommand {
    /// Add a connection: a tenant's settings and credentials for a
    /// connector plugin. Settings are checked against the plugin's fields.
    Add {
        /// The connection's name, e.g. wdt-main.
        name: String,
        /// The tenant it belongs to.
        #[arg(long)]
        tenant: String,
        /// The connector plugin (name or name@version).
        #[arg(long)]
        plugin: PluginSpec,
        /// A setting, field=value (repeatable).
        #[arg(long = "set", value_parser = key_value)]
        settings: Vec<(String, String)>,
        /// A secret, field=value, or field=@path to read it from a file
        /// (repeatable). Secrets are encrypted at rest and never printed.
        #[arg(long = "secret", value_parser = key_value)]
        secrets: Vec<(String, String)>,
        /// An internal address (or network, e.g. 127.0.0.1/32) this
        /// connection may reach; all such addresses are refused otherwise.
        #[arg(long = "allow-address")]
        allowed_addresses: Vec<String>,
        /// Requests per period through this connection, shared by every
        /// scheme that uses it: 20/s, 600/m, 10000/h.
        #[arg(long)]
        rate_limit: Option<weft_store::RateLimit>,
        /// Replace an existing connection of the same name.
        #[arg(long)]
        replace: bool,
    },
    /// Add (or replace) every connection of a YAML file: `connections:` a
    /// list of {name, plugin, settings, secrets, allow_addresses,
    /// rate_limit}; `${VAR}` and `${VAR:-default}` come from the
    /// environment.
    Apply {
        /// The file.
        file: std::path::PathBuf,
        /// The tenant.
        #[arg(long)]
        tenant: String,
    },
    /// List a tenant's connections (secret values are never shown).
    List {
        /// The tenant.
        #[arg(long)]
        tenant: String,
        /// JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Test a connection: the connector makes one authenticated call.
    Check {
        /// The connection's name.
        name: String,
        /// The tenant.
        #[arg(long)]
        tenant: String,
    },
    /// Read pages of a source operation through a connection and print
    /// their records as JSON, without a scheme and without touching the
    /// ledger: the quickest way to try a connector against a live system
    /// or the simulators. The plugin's log goes to stderr.
    Read {
        /// The connection's name.
        name: String,
        /// The tenant.
        #[arg(long)]
        tenant: String,
        /// The source operation.
        #[arg(long)]
        operation: String,
        /// The operation's params, a JSON object.
        #[arg(long, default_value = "{}")]
        params: String,
        /// Start from this cursor instead of the first page.
        #[arg(long)]
        cursor: Option<String>,
        /// Pages to read at most; 0 reads to the end.
        #[arg(long, default_value_t = 1)]
        pages: u32,
    },
    /// Remove a connection.
    Remove {
        /// The connection's name.
        name: String,
        /// The tenant.
        #[arg(long)]
        tenant: String,
    },
}

fn key_value(s: &str) -> Result<(String, String), String> {
    let (k, v) = s
        .split_once('=')
        .ok_or_else(|| format!("'{s}' is not field=value"))?;
    if k.is_empty() {
        return Err(format!("'{s}' has an empty field name"));
    }
    Ok((k.to_owned(), v.to_owned()))
}

fn parse_address(s: &str) -> Result<IpNet> {
    if let Ok(net) = s.parse::<IpNet>() {
        return Ok(net);
    }
    let ip: std::net::IpAddr = s
        .parse()
        .with_context(|| format!("'{s}' is not an IP address or network"))?;
    Ok(IpNet::from(ip))
}

fn read_secret(value: String) -> Result<String> {
    match value.strip_prefix('@') {
        Some(path) => Ok(std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the secret file {path}"))?
            .trim_end_matches(['\n', '\r'])
            .to_owned()),
        None => Ok(value),
    }
}

pub async fn run(engine: &Engine, command: ConnectionCommand) -> Result<()> {
    let store = engine.store();
    match command {
        ConnectionCommand::Add {
            name,
            tenant,
            plugin,
            settings,
            secrets,
            allowed_addresses,
            rate_limit,
            replace,
        } => {
            let secrets = secrets
                .into_iter()
                .map(|(k, v)| Ok((k, read_secret(v)?)))
                .collect::<Result<Vec<_>>>()?;
            let input = ConnectionInput {
                settings,
                secrets,
                allowed_addresses: allowed_addresses
                    .iter()
                    .map(|a| parse_address(a))
                    .collect::<Result<_>>()?,
                rate_limit,
            };
            let c = engine
                .add_connection(&tenant, &name, &plugin, input, replace)
                .await?;
            println!(
                "added connection {} of tenant {} ({}; {} setting(s), {} secret(s))",
                c.name,
                c.tenant,
                c.plugin,
                c.settings.len(),
                c.secrets.len()
            );
        }
        ConnectionCommand::Apply { file, tenant } => apply(engine, &tenant, &file).await?,
        ConnectionCommand::List { tenant, json } => {
            store.tenant(&tenant)?;
            let connections = store.connections(&tenant)?;
            if json {
                return output::json(&connections);
            }
            let mut t = output::table(["CONNECTION", "PLUGIN", "SETTINGS", "SECRETS", "ALLOWED"]);
            for c in connections {
                let settings: Vec<String> = c
                    .settings
                    .iter()
                    .map(|(k, v)| {
                        format!(
                            "{k}={}",
                            v.as_str().map_or_else(|| v.to_string(), str::to_owned)
                        )
                    })
                    .collect();
                let secrets: Vec<String> = c.secrets.iter().map(|k| format!("{k}=***")).collect();
                t.add_row(vec![
                    c.name,
                    c.plugin,
                    settings.join("\n"),
                    secrets.join("\n"),
                    c.allowed_addresses.join("\n"),
                ]);
            }
            println!("{t}");
        }
        ConnectionCommand::Check { name, tenant } => check(engine, &tenant, &name).await?,
        ConnectionCommand::Read {
            name,
            tenant,
            operation,
            params,
            cursor,
            pages,
        } => {
            let params: serde_json::Value = serde_json::from_str(&params)
                .with_context(|| format!("--params is not JSON: {params}"))?;
            let read = ReadRequest {
                operation,
                params,
                cursor,
                pages,
            };
            read_pages(engine, &tenant, &name, read).await?;
        }
        ConnectionCommand::Remove { name, tenant } => {
            store.remove_connection(&tenant, &name)?;
            println!("removed connection {name} of tenant {tenant}");
        }
    }
    Ok(())
}

/// What `weft connection read` reads.
struct ReadRequest {
    operation: String,
    params: serde_json::Value,
    cursor: Option<String>,
    pages: u32,
}

async fn read_pages(engine: &Engine, tenant: &str, name: &str, read: ReadRequest) -> Result<()> {
    let (_, mut session) = engine
        .connection_session(tenant, name, |info, plugin| {
            let known = info.operations.iter().any(|op| {
                op.id == read.operation && op.direction == weft_runtime::Direction::Source
            });
            if known {
                Ok(())
            } else {
                Err(format!(
                    "{plugin} has no source operation '{}'; see `weft plugin inspect {plugin}`",
                    read.operation
                ))
            }
        })
        .await?;
    let mut records = Vec::new();
    let mut cursor = read.cursor;
    let mut pages = 0u32;
    let mut total = None;
    loop {
        let page = session
            .read(&read.operation, &read.params, cursor.as_deref())
            .await;
        output::plugin_log(&session.take_log());
        let page = page.with_context(|| {
            format!(
                "reading page {} of {} through connection {name}",
                pages + 1,
                read.operation
            )
        })?;
        pages += 1;
        total = page.total.or(total);
        records.extend(page.records.iter().map(weft_runtime::record_tree));
        cursor = page.next;
        if cursor.is_none() || (read.pages != 0 && pages >= read.pages) {
            break;
        }
    }
    output::json(&serde_json::json!({
        "records": records,
        "pages": pages,
        "next": cursor,
        "total": total,
    }))
}

async fn check(engine: &Engine, tenant: &str, name: &str) -> Result<()> {
    let report = engine.check_connection(tenant, name).await?;
    for x in &report.exchanges {
        tracing::info!("{x}");
    }
    match report.error {
        None => {
            println!(
                "connection {name} of tenant {tenant} works ({})",
                report.plugin
            );
            Ok(())
        }
        Some(e) => bail!("connection {name} of tenant {tenant} failed its check: {e}"),
    }
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ConnectionsFile {
    connections: Vec<ConnectionEntry>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ConnectionEntry {
    name: String,
    plugin: PluginSpecText,
    #[serde(default)]
    settings: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    secrets: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    allow_addresses: Vec<String>,
    #[serde(default)]
    rate_limit: Option<String>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(transparent)]
struct PluginSpecText(String);

/// `${NAME}` and `${NAME:-default}` replaced from the environment.
fn interpolate(text: &str) -> Result<String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("${") {
        out.push_str(&rest[..at]);
        let after = &rest[at + 2..];
        let end = after
            .find('}')
            .with_context(|| format!("unclosed ${{ in '{text}'"))?;
        let expr = &after[..end];
        let (name, default) = match expr.split_once(":-") {
            Some((n, d)) => (n, Some(d)),
            None => (expr, None),
        };
        match (std::env::var(name), default) {
            (Ok(v), _) => out.push_str(&v),
            (Err(_), Some(d)) => out.push_str(d),
            (Err(_), None) => bail!("the environment has no {name} (used in '{text}')"),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

async fn apply(engine: &Engine, tenant: &str, file: &Path) -> Result<()> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let parsed: ConnectionsFile =
        marked_yaml::from_yaml(0, &text).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    engine.store().tenant(tenant)?;
    for entry in parsed.connections {
        let spec: PluginSpec = entry
            .plugin
            .0
            .parse()
            .map_err(|e: String| anyhow::anyhow!(e))?;
        let pairs =
            |m: &std::collections::BTreeMap<String, String>| -> Result<Vec<(String, String)>> {
                m.iter()
                    .map(|(k, v)| Ok((k.clone(), interpolate(v)?)))
                    .collect()
            };
        let input = ConnectionInput {
            settings: pairs(&entry.settings)?,
            secrets: pairs(&entry.secrets)?,
            allowed_addresses: entry
                .allow_addresses
                .iter()
                .map(|a| parse_address(a))
                .collect::<Result<_>>()?,
            rate_limit: entry
                .rate_limit
                .map(|r| r.parse().map_err(|e: String| anyhow::anyhow!(e)))
                .transpose()?,
        };
        let c = engine
            .add_connection(tenant, &entry.name, &spec, input, true)
            .await
            .with_context(|| format!("{}: connection '{}'", file.display(), entry.name))?;
        println!("applied connection {} ({})", c.name, c.plugin);
    }
    Ok(())
}
