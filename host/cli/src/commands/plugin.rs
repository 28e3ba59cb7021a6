//! `weft plugin install|list|inspect|transform|new|remove`.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::Subcommand;
use serde_json::Value;
use weft_plugins::{InstallOutcome, Manifest, PluginSpec, PluginStore};
use weft_runtime::{PluginInfo, Runtime, RuntimeConfig};

use crate::output;

#[derive(Debug, Subcommand)]
pub enum PluginCommand {
    /// Validate, precompile and install a plugin component (.wasm).
    Install {
        /// The component file.
        file: PathBuf,
        /// Replace an installed plugin of the same name and version built
        /// from different bytes.
        #[arg(long)]
        force: bool,
        /// Print the installed plugin's manifest as JSON.
        #[arg(long)]
        json: bool,
    },
    /// List installed plugins.
    List {
        /// JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Show a plugin's operations, connection fields, egress and identity.
    Inspect {
        /// name or name@version (the newest version when omitted).
        plugin: PluginSpec,
        /// JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Run an installed transform on records and print what it returns:
    /// the quickest way to try a transform by hand or from a test. The
    /// plugin's log goes to stderr.
    Transform {
        /// name or name@version.
        plugin: PluginSpec,
        /// The step's config, a JSON object.
        #[arg(long, default_value = "{}")]
        config: String,
        /// A file holding a JSON array of records; `-` reads stdin.
        #[arg(long, default_value = "-")]
        records: PathBuf,
    },
    /// Start a new plugin project: sources, the WIT contract, a build
    /// recipe, a README and a test against the simulators.
    New(crate::commands::scaffold::NewArgs),
    /// Remove an installed plugin.
    Remove {
        /// name or name@version.
        plugin: PluginSpec,
        /// Remove every installed version of the name.
        #[arg(long)]
        all_versions: bool,
    },
}

fn open_store(home: &Path) -> Result<PluginStore> {
    let runtime = Runtime::new(RuntimeConfig::default())?;
    Ok(PluginStore::open(home, runtime)?)
}

pub async fn run(home: &Path, command: PluginCommand) -> Result<()> {
    // Scaffolding needs neither the store nor a runtime.
    if let PluginCommand::New(args) = &command {
        return crate::commands::scaffold::run(args);
    }
    let store = open_store(home)?;
    match command {
        PluginCommand::Install { file, force, json } => install(&store, &file, force, json).await,
        PluginCommand::List { json } => list(&store, json),
        PluginCommand::Inspect { plugin, json } => inspect(&store, &plugin, json),
        PluginCommand::Transform {
            plugin,
            config,
            records,
        } => transform(&store, &plugin, &config, &records).await,
        PluginCommand::New(args) => crate::commands::scaffold::run(&args),
        PluginCommand::Remove {
            plugin,
            all_versions,
        } => {
            for m in store.remove(&plugin, all_versions)? {
                println!("removed {}", m.id());
            }
            Ok(())
        }
    }
}

async fn install(store: &PluginStore, file: &Path, force: bool, json: bool) -> Result<()> {
    let started = Instant::now();
    let wasm = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let outcome = store
        .install(&file.display().to_string(), &wasm, force)
        .await?;
    let m = outcome.manifest();
    if json {
        return output::json(m);
    }
    let summary = format!(
        "{} ({}, weft:plugin@{}, {}, sha256 {})",
        m.id(),
        m.kind,
        m.contract,
        output::size(m.size),
        &m.sha256[..16]
    );
    match outcome {
        InstallOutcome::Installed(_) => println!(
            "installed {summary} in {:.2} s",
            started.elapsed().as_secs_f64()
        ),
        InstallOutcome::Replaced(_) => println!("replaced {summary}"),
        InstallOutcome::Unchanged(_) => {
            println!(
                "{} is already installed from these exact bytes; nothing changed",
                m.id()
            );
        }
    }
    Ok(())
}

async fn transform(
    store: &PluginStore,
    spec: &PluginSpec,
    config: &str,
    records: &Path,
) -> Result<()> {
    let config: Value =
        serde_json::from_str(config).with_context(|| format!("--config is not JSON: {config}"))?;
    let text = if records == Path::new("-") {
        std::io::read_to_string(std::io::stdin()).context("cannot read records from stdin")?
    } else {
        std::fs::read_to_string(records)
            .with_context(|| format!("cannot read {}", records.display()))?
    };
    let batch: Vec<weft_runtime::RawRecord> =
        serde_json::from_str(&text).context("the records must be a JSON array of objects")?;
    let plugin = store.load(spec).await?;
    let Some(info) = plugin.transform_info() else {
        bail!("{spec} is a connector, not a transform");
    };
    // As `weft scheme validate` checks a step's config: the plugin would
    // only answer with the first problem, in its own words.
    let problems = weft_scheme::schema_problems("config", &info.name, &info.config_schema, &config);
    if !problems.is_empty() {
        let lines: Vec<String> = problems
            .into_iter()
            .map(|(_, m)| format!("  {m}"))
            .collect();
        bail!("--config does not fit {spec}:\n{}", lines.join("\n"));
    }
    let mut session = plugin.transform().await?;
    let out = session.transform(&config, &batch).await;
    output::plugin_log(&session.take_log());
    let out = out.with_context(|| format!("{spec} failed"))?;
    println!("{}", weft_runtime::records_text(&out));
    Ok(())
}

fn list(store: &PluginStore, json: bool) -> Result<()> {
    let plugins = store.list()?;
    if json {
        return output::json(&plugins);
    }
    if plugins.is_empty() {
        println!("no plugins installed; install one with `weft plugin install <file.wasm>`");
        return Ok(());
    }
    let mut t = output::table([
        "NAME", "VERSION", "KIND", "CONTRACT", "SIZE", "SHA256", "TITLE",
    ]);
    for m in &plugins {
        t.add_row(vec![
            m.name.clone(),
            m.version.to_string(),
            m.kind.to_string(),
            m.contract.to_string(),
            output::size(m.size),
            m.sha256[..12].to_owned(),
            m.info.title().to_owned(),
        ]);
    }
    println!("{t}");
    Ok(())
}

/// One line per property of a params schema: `name  type  required  description`.
fn schema_rows(schema: &Value) -> Vec<Vec<String>> {
    let required: Vec<&str> = schema["required"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let Some(props) = schema["properties"].as_object() else {
        return Vec::new();
    };
    props
        .iter()
        .map(|(name, p)| {
            let ty = match &p["type"] {
                Value::String(s) => s.clone(),
                Value::Array(a) => a
                    .iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join("|"),
                _ if p.get("$ref").is_some() || p.get("oneOf").is_some() => "object".into(),
                _ => "any".into(),
            };
            vec![
                name.clone(),
                ty,
                if required.contains(&name.as_str()) {
                    "yes"
                } else {
                    ""
                }
                .into(),
                p["description"].as_str().unwrap_or("").replace('\n', " "),
            ]
        })
        .collect()
}

fn inspect(store: &PluginStore, spec: &PluginSpec, json: bool) -> Result<()> {
    let m: Manifest = store.find(spec)?;
    if json {
        return output::json(&m);
    }
    println!("{}  {}", m.id(), m.info.title());
    println!("  kind      {}", m.kind);
    println!("  contract  weft:plugin@{}", m.contract);
    println!("  size      {}", output::size(m.size));
    println!("  sha256    {}", m.sha256);
    println!("  installed {}", m.installed_at);
    match &m.info {
        PluginInfo::Connector(c) => {
            if !c.description.is_empty() {
                println!("\n{}", c.description);
            }
            println!("\nConnection fields:");
            let mut t = output::table([
                "FIELD",
                "KIND",
                "REQUIRED",
                "SECRET",
                "DEFAULT",
                "DESCRIPTION",
            ]);
            for f in &c.connection_fields {
                t.add_row(vec![
                    f.name.clone(),
                    format!("{:?}", f.kind).to_lowercase(),
                    if f.required { "yes" } else { "" }.into(),
                    if f.secret { "secret" } else { "" }.into(),
                    f.default_value.clone().unwrap_or_default(),
                    f.description.clone(),
                ]);
            }
            println!("{t}");
            println!("\nEgress:");
            for rule in &c.egress {
                println!("  {rule}");
            }
            println!("\nOperations:");
            for op in &c.operations {
                println!("\n  {} ({}) {}", op.id, op.direction, op.title);
                if !op.description.is_empty() {
                    println!("    {}", op.description);
                }
                let mut facts = Vec::new();
                if let Some(k) = &op.key_pointer {
                    facts.push(format!("key {k}"));
                }
                if let Some(w) = op.max_window_secs {
                    facts.push(format!("max window {}", human_secs(w)));
                }
                if let Some((a, b)) = &op.window_params {
                    facts.push(format!("window params {a}..{b}"));
                }
                if let Some(b) = op.max_batch {
                    facts.push(format!("max batch {b}"));
                }
                if !facts.is_empty() {
                    println!("    {}", facts.join(", "));
                }
                let rows = schema_rows(&op.params_schema);
                if !rows.is_empty() {
                    let mut t = output::table(["PARAM", "TYPE", "REQUIRED", "DESCRIPTION"]);
                    for r in rows {
                        t.add_row(r);
                    }
                    println!("{t}");
                }
            }
        }
        PluginInfo::Transform(tr) => {
            if !tr.description.is_empty() {
                println!("\n{}", tr.description);
            }
            let rows = schema_rows(&tr.config_schema);
            if !rows.is_empty() {
                println!("\nConfig:");
                let mut t = output::table(["FIELD", "TYPE", "REQUIRED", "DESCRIPTION"]);
                for r in rows {
                    t.add_row(r);
                }
                println!("{t}");
            }
        }
    }
    Ok(())
}

fn human_secs(s: u64) -> String {
    match s {
        s if s % 86_400 == 0 => format!("{} d", s / 86_400),
        s if s % 3_600 == 0 => format!("{} h", s / 3_600),
        s if s % 60 == 0 => format!("{} min", s / 60),
        s => format!("{s} s"),
    }
}
