//! What a scheme is checked against before it is applied: the tenant's
//! connections and the installed plugins. The CLI's `scheme validate|apply`
//! and the API's apply share it, so both refuse the same schemes with the
//! same diagnostics.

use std::collections::HashMap;

use weft_plugins::Manifest;
use weft_scheme::{Catalog, Diagnostic, Scheme};

use crate::{Engine, EngineError, db};

/// The tenant's connections (name → plugin) and the installed plugins.
struct StoreCatalog {
    connections: HashMap<String, String>,
    plugins: Vec<Manifest>,
}

impl StoreCatalog {
    /// The newest installed version of `plugin`.
    fn newest(&self, plugin: &str) -> Option<&Manifest> {
        self.plugins.iter().rev().find(|m| m.name == plugin)
    }
}

impl Catalog for StoreCatalog {
    fn connection_plugin(&self, name: &str) -> Option<String> {
        self.connections.get(name).cloned()
    }

    fn connector(&self, plugin: &str) -> Option<weft_runtime::ConnectorInfo> {
        self.newest(plugin)
            .and_then(|m| m.info_connector().cloned())
    }

    fn transform(&self, plugin: &str) -> Option<weft_runtime::TransformInfo> {
        self.newest(plugin).and_then(|m| match &m.info {
            weft_runtime::PluginInfo::Transform(t) => Some(t.clone()),
            weft_runtime::PluginInfo::Connector(_) => None,
        })
    }
}

/// A scheme file that does not parse or validate: every problem, with its
/// line and column, errors and warnings alike.
#[derive(Debug, Clone)]
pub struct SchemeProblems {
    /// The file as the user named it.
    pub file: String,
    /// Everything found; at least one is an error.
    pub diagnostics: Vec<Diagnostic>,
}

impl SchemeProblems {
    /// How many of the diagnostics are errors.
    pub fn errors(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.is_error()).count()
    }
}

impl std::fmt::Display for SchemeProblems {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} has {} problem(s)", self.file, self.errors())
    }
}

/// A scheme that passed, with the warnings found on the way.
#[derive(Debug)]
pub struct Checked {
    /// The parsed scheme.
    pub scheme: Scheme,
    /// Warnings (never errors).
    pub warnings: Vec<Diagnostic>,
}

impl Engine {
    /// Parses scheme `text` (named `file` in diagnostics) and validates it
    /// against `tenant`'s connections and the installed plugins.
    ///
    /// # Errors
    /// - `Ok(Err(problems))`: the scheme is wrong (the user's to fix);
    /// - `Err`: an unknown tenant, a store error.
    pub async fn check_scheme(
        &self,
        tenant: &str,
        file: &str,
        text: &str,
    ) -> Result<Result<Checked, SchemeProblems>, EngineError> {
        let t = tenant.to_owned();
        let connections: HashMap<String, String> = db(&self.store, move |s| {
            s.tenant(&t)?;
            Ok(s.connections(&t)?
                .into_iter()
                .map(|c| (c.name, c.plugin))
                .collect())
        })
        .await?;
        let catalog = StoreCatalog {
            connections,
            plugins: self.plugins.list()?,
        };
        let scheme = match Scheme::parse(file, text) {
            Ok(s) => s,
            Err(d) => {
                return Ok(Err(SchemeProblems {
                    file: file.to_owned(),
                    diagnostics: d.0,
                }));
            }
        };
        let mut diagnostics = scheme.validate(&catalog);
        if diagnostics.iter().any(Diagnostic::is_error) {
            return Ok(Err(SchemeProblems {
                file: file.to_owned(),
                diagnostics,
            }));
        }
        let (t, n) = (tenant.to_owned(), scheme.name.clone());
        let applied = db(&self.store, move |s| match s.scheme(&t, &n) {
            Ok(stored) => Ok(Some((stored, s.ledger_counts(&t, &n)?))),
            Err(weft_store::StoreError::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        })
        .await?;
        // The version applied now is ours to read back; one that no longer
        // parses (an older weft's) has nothing to compare.
        if let Some((stored, counts)) = applied
            && let Ok(applied) = Scheme::parse(&stored.file, &stored.yaml)
        {
            let rows = counts
                .values()
                .map(|&n| u64::try_from(n).unwrap_or(0))
                .sum();
            diagnostics.extend(scheme.key_change(&applied, rows));
        }
        Ok(Ok(Checked {
            scheme,
            warnings: diagnostics,
        }))
    }
}
