//! `weft plugin new`: a plugin project that builds and tests as generated.
//!
//! The templates live in `host/cli/templates/<lang>/` and are compiled into
//! the binary, so a `weft` copied anywhere can still scaffold. Every
//! project gets a copy of the WIT contract this weft runs, a justfile
//! (`just build`, `just test`), a README and a test that drives the built
//! component through the `weft` binary against the simulators (`weft-sim`).
//!
//! A Rust project depends on the SDK by path. The SDK is not published to
//! a registry; a path to the weft checkout is what a Rust user of a
//! checkout expects, and it keeps the project on the same contract version
//! as the `weft` that made it. By default that is the checkout `weft` runs
//! from (`<checkout>/target/<profile>/weft` → `<checkout>/plugins/sdk`);
//! `--sdk` names another.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};

/// The languages `weft plugin new` scaffolds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Lang {
    /// Rust with weft's SDK, built by cargo for wasm32-wasip2.
    Rust,
    /// Python, built by componentize-py.
    Python,
    /// JavaScript, built by componentize-js.
    Js,
}

/// The plugin worlds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Kind {
    /// Talks to a remote system (the `connector` world).
    Connector,
    /// Pure record processing (the `transform` world).
    Transform,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Connector => "connector",
            Self::Transform => "transform",
        }
    }
}

/// `weft plugin new <name> --lang … --kind …`.
#[derive(Debug, Args)]
pub struct NewArgs {
    /// The plugin's name: lowercase letters, digits and '-' (e.g. my-shop).
    name: String,
    /// The language to write it in.
    #[arg(long)]
    lang: Lang,
    /// What kind of plugin.
    #[arg(long)]
    kind: Kind,
    /// Where to create the project (default: ./<name>). Must not exist or
    /// be empty.
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Rust only: the weft SDK to depend on (a weft checkout's
    /// plugins/sdk). Default: the checkout this weft binary was built in.
    #[arg(long)]
    sdk: Option<PathBuf>,
}

/// One file of a project: where it goes and its template text.
struct TemplateFile {
    path: &'static str,
    text: &'static str,
}

macro_rules! template {
    ($path:literal, $file:literal) => {
        TemplateFile {
            path: $path,
            text: include_str!(concat!("../../templates/", $file)),
        }
    };
}

/// The contract, copied into every project so the build and the reader
/// see the WIT this weft runs.
const WIT: [TemplateFile; 5] = [
    template!("wit/types.wit", "../../../wit/types.wit"),
    template!("wit/connector.wit", "../../../wit/connector.wit"),
    template!("wit/transform.wit", "../../../wit/transform.wit"),
    template!("wit/http.wit", "../../../wit/http.wit"),
    template!("wit/log.wit", "../../../wit/log.wit"),
];

fn files(lang: Lang, kind: Kind) -> Vec<TemplateFile> {
    let mut files = match lang {
        Lang::Rust => vec![
            template!("Cargo.toml", "rust/Cargo.toml"),
            template!(".cargo/config.toml", "rust/cargo-config.toml"),
            template!("justfile", "rust/justfile"),
            template!("README.md", "rust/README.md"),
            template!(".gitignore", "rust/gitignore"),
            template!("src/simulator.rs", "rust/simulator.rs"),
        ],
        Lang::Python => vec![
            template!("justfile", "python/justfile"),
            template!("README.md", "python/README.md"),
            template!(".gitignore", "python/gitignore"),
            template!("simulator.py", "python/simulator.py"),
        ],
        Lang::Js => vec![
            template!("package.json", "js/package.json"),
            template!("justfile", "js/justfile"),
            template!("README.md", "js/README.md"),
            template!(".gitignore", "js/gitignore"),
            template!("simulator.mjs", "js/simulator.mjs"),
        ],
    };
    files.extend(match (lang, kind) {
        (Lang::Rust, Kind::Connector) => [
            template!("src/lib.rs", "rust/connector/lib.rs"),
            template!("src/simulator_test.rs", "rust/connector/simulator_test.rs"),
        ],
        (Lang::Rust, Kind::Transform) => [
            template!("src/lib.rs", "rust/transform/lib.rs"),
            template!("src/simulator_test.rs", "rust/transform/simulator_test.rs"),
        ],
        (Lang::Python, Kind::Connector) => [
            template!("app.py", "python/connector/app.py"),
            template!("test_plugin.py", "python/connector/test_plugin.py"),
        ],
        (Lang::Python, Kind::Transform) => [
            template!("app.py", "python/transform/app.py"),
            template!("test_plugin.py", "python/transform/test_plugin.py"),
        ],
        (Lang::Js, Kind::Connector) => [
            template!("plugin.js", "js/connector/plugin.js"),
            template!("plugin.test.mjs", "js/connector/plugin.test.mjs"),
        ],
        (Lang::Js, Kind::Transform) => [
            template!("plugin.js", "js/transform/plugin.js"),
            template!("plugin.test.mjs", "js/transform/plugin.test.mjs"),
        ],
    });
    files.extend(WIT);
    files
}

fn is_plugin_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some('a'..='z'))
        && s.len() <= 64
        && !s.ends_with('-')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// `my-shop` → `My shop`.
fn title(name: &str) -> String {
    let words = name.replace('-', " ");
    let mut chars = words.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

fn kind_note(lang: Lang, kind: Kind) -> &'static str {
    match (lang, kind) {
        (_, Kind::Connector) => {
            "As generated it reads orders from the storefront API that `weft-sim` serves \
             (`/shop/v1/orders`): connection fields, egress limited to the connection's \
             `base_url`, paging, and every failure classified."
        }
        (_, Kind::Transform) => {
            "As generated it sets one field on every record, from its config; the config's \
             JSON Schema comes from `describe()`."
        }
    }
}

/// The weft checkout this binary was built in, if it runs from one
/// (`<checkout>/target/<profile>/weft`).
fn checkout_of_this_binary() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?.canonicalize().ok()?;
    let checkout = exe.parent()?.parent()?.parent()?;
    checkout
        .join("plugins/sdk/Cargo.toml")
        .is_file()
        .then(|| checkout.to_owned())
}

fn sibling_binary(name: &str) -> String {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.canonicalize().ok())
        .and_then(|exe| exe.parent().map(|dir| dir.join(name)))
        .filter(|p| p.is_file())
        .map_or_else(|| name.to_owned(), |p| p.display().to_string())
}

fn sdk_path(args: &NewArgs) -> Result<PathBuf> {
    let sdk = match &args.sdk {
        Some(p) => p.clone(),
        None => checkout_of_this_binary()
            .map(|c| c.join("plugins/sdk"))
            .context(
                "this weft binary does not run from a weft checkout, so it cannot find the \
                 Rust SDK; pass --sdk <weft checkout>/plugins/sdk",
            )?,
    };
    let sdk = sdk
        .canonicalize()
        .with_context(|| format!("the SDK path {} does not exist", sdk.display()))?;
    if !sdk.join("Cargo.toml").is_file() {
        bail!(
            "{} is not the weft SDK (no Cargo.toml); pass --sdk <weft checkout>/plugins/sdk",
            sdk.display()
        );
    }
    Ok(sdk)
}

fn render(text: &str, values: &[(&str, String)]) -> String {
    values
        .iter()
        .fold(text.to_owned(), |acc, (key, value)| acc.replace(key, value))
}

/// Creates the project.
///
/// # Errors
/// A bad name, an existing non-empty directory, a Rust SDK that cannot be
/// found, or I/O errors.
pub fn run(args: &NewArgs) -> Result<()> {
    if !is_plugin_name(&args.name) {
        bail!(
            "'{}' is not a plugin name: start with a lowercase letter, then lowercase letters, \
             digits and '-' (at most 64)",
            args.name
        );
    }
    let dir = args
        .dir
        .clone()
        .unwrap_or_else(|| PathBuf::from(&args.name));
    if dir.exists()
        && std::fs::read_dir(&dir)
            .with_context(|| format!("cannot read {}", dir.display()))?
            .next()
            .is_some()
    {
        bail!("{} exists and is not empty", dir.display());
    }
    let kind = args.kind.as_str();
    let sdk = match args.lang {
        Lang::Rust => sdk_path(args)?.display().to_string(),
        Lang::Python | Lang::Js => String::new(),
    };
    let export = match args.kind {
        Kind::Connector => "connectorApi",
        Kind::Transform => "transformApi",
    };
    let values = [
        ("__NAME__", args.name.clone()),
        ("__CRATE__", args.name.replace('-', "_")),
        ("__TITLE__", title(&args.name)),
        ("__KIND_NOTE__", kind_note(args.lang, args.kind).to_owned()),
        ("__KIND__", kind.to_owned()),
        ("__EXPORT__", export.to_owned()),
        ("__SDK_PATH__", sdk),
        ("__WEFT_SIM__", sibling_binary("weft-sim")),
        ("__WEFT__", sibling_binary("weft")),
    ];
    for file in files(args.lang, args.kind) {
        write(&dir.join(file.path), &render(file.text, &values))?;
    }
    println!(
        "created {} ({:?} {kind}) in {}\n  cd {}\n  just build   # the component\n  just test    # against the simulators",
        args.name,
        args.lang,
        dir.display(),
        dir.display()
    );
    Ok(())
}

fn write(path: &Path, text: &str) -> Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_titles() {
        assert!(is_plugin_name("my-shop2"));
        for bad in ["My", "1x", "a_b", "shop-", ""] {
            assert!(!is_plugin_name(bad), "{bad}");
        }
        assert_eq!(title("my-shop"), "My shop");
    }

    #[test]
    fn every_placeholder_is_filled() {
        let values: Vec<(&str, String)> = [
            "__NAME__",
            "__CRATE__",
            "__TITLE__",
            "__KIND_NOTE__",
            "__KIND__",
            "__EXPORT__",
            "__SDK_PATH__",
            "__WEFT_SIM__",
            "__WEFT__",
        ]
        .into_iter()
        .map(|k| (k, "x".to_owned()))
        .collect();
        for lang in [Lang::Rust, Lang::Python, Lang::Js] {
            for kind in [Kind::Connector, Kind::Transform] {
                for file in files(lang, kind) {
                    let text = render(file.text, &values);
                    assert!(
                        !text.contains("__NAME__") && !text.contains("__WEFT"),
                        "{lang:?}/{kind:?} {} keeps a placeholder",
                        file.path
                    );
                }
            }
        }
    }
}
