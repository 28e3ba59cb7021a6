//! Offline checks of a scheme against the installed plugins and the
//! tenant's connections: everything `weft scheme validate` can know
//! without calling a remote system.

use marked_yaml::Node;
use time::OffsetDateTime;
use weft_runtime::{ConnectorInfo, Direction, OperationInfo, TransformInfo};

use crate::clock;
use crate::diagnostic::{self, Diagnostic, Report};
use crate::mapping::{LiveLookup, LookupTables, MapError, Mapper, RunVars, Tables};
use crate::model::Scheme;
use crate::yaml;

/// What validation needs to know about plugins and the tenant.
pub trait Catalog {
    /// The plugin name of the tenant's connection `name`, if it exists.
    fn connection_plugin(&self, name: &str) -> Option<String>;
    /// The installed connector `plugin`, if it is one.
    fn connector(&self, plugin: &str) -> Option<ConnectorInfo>;
    /// The installed transform `plugin`, if it is one.
    fn transform(&self, plugin: &str) -> Option<TransformInfo>;
}

impl Scheme {
    /// A warning when this scheme keys records otherwise than `applied`,
    /// the version of it the tenant runs now, whose ledger holds `rows`
    /// records keyed the old way: the ledger dedupes by key, so a record
    /// pulled again under a new key is a new record to it and is sent to
    /// the target a second time.
    pub fn key_change(&self, applied: &Scheme, rows: u64) -> Option<Diagnostic> {
        let (old, new) = (applied.source.key.trim(), self.source.key.trim());
        if rows == 0 || old == new {
            return None;
        }
        let node = yaml::at(&self.root, &["source", "key"]).unwrap_or(&self.root);
        let (line, column) = diagnostic::start(node.span());
        Some(Diagnostic::warning(
            &self.file,
            line,
            column,
            format!(
                "`source.key` changed from `{old}` to `{new}` while the ledger holds {rows} \
                 record(s) keyed the old way: a record pulled again whose key comes out \
                 different is taken for a new one and sent to the target again"
            ),
        ))
    }

    /// Checks the scheme against installed plugins and the tenant's
    /// connections, in file order:
    ///
    /// - each connection (source, target, live lookups) exists for the
    ///   tenant, and its plugin is an installed connector (a webhook
    ///   source has none);
    /// - each operation exists with the right direction (source or target);
    /// - source params (rendered for a sample window), target params and
    ///   live-lookup params match the operation's JSON Schema;
    /// - each transform is an installed transform plugin, and its config
    ///   matches its config schema;
    /// - each `lookup('t')` names a table the scheme defines; other names
    ///   may be the tenant's tables, which cannot be checked offline, so they
    ///   are warnings ([`Severity::Warning`](crate::Severity::Warning)).
    ///
    /// Each diagnostic points at the YAML node it is about. An empty list
    /// means the scheme is ready to run.
    pub fn validate(&self, catalog: &dyn Catalog) -> Vec<Diagnostic> {
        let mut report = Report::new(&self.file);
        let mapper = Mapper::compile_with(self, &LookupTables::new(), Tables::Offline, &mut report);
        let source = yaml::at(&self.root, &["source"]);
        let target = yaml::at(&self.root, &["target"]);

        let check = Endpoint {
            catalog,
            root: &self.root,
        };
        // A webhook source has no connection or operation to check; its
        // secret lives with the server, which offline validation cannot see.
        if !self.source.is_webhook()
            && let Some(op) = check.operation(
                &mut report,
                source,
                &self.source.connection,
                &self.source.operation,
                Direction::Source,
                "source",
            )
            && let Some(m) = &mapper
        {
            let params = m.source_params(&sample_window(self));
            check.params(&mut report, source, "source", &op, params);
        }
        if let Some(op) = check.operation(
            &mut report,
            target,
            &self.target.connection,
            &self.target.operation,
            Direction::Target,
            "target",
        ) {
            if let Some(m) = &mapper {
                check.params(&mut report, target, "target", &op, m.target_params());
            }
            if let (Some(max), Some(node)) = (
                op.max_batch,
                target.and_then(|t| yaml::at(t, &["batch_size"])),
            ) && self.target.batch_size > max
            {
                report.warning(
                        node.span(),
                        format!("`target.batch_size` {} is larger than operation `{}`'s largest batch, {max}", self.target.batch_size, op.id),
                    );
            }
        }
        for live in self.live_lookups() {
            check.live_lookup(&mut report, live);
        }
        for (i, step) in self.transforms.iter().enumerate() {
            let node = yaml::at(&self.root, &["transforms"])
                .and_then(|t| t.as_sequence())
                .and_then(|s| s.get(i));
            check.transform(&mut report, node, step);
        }
        let mut items = report.items;
        diagnostic::sort(&mut items);
        items
    }
}

/// A window to render source params for: the incremental start (or
/// 2024-01-01 in the scheme's zone) and an hour later.
fn sample_window(scheme: &Scheme) -> RunVars {
    let start = scheme
        .source
        .incremental
        .map(|i| i.start)
        .or_else(|| clock::parse_start("2024-01-01 00:00:00", scheme.timezone))
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    RunVars {
        last_sync_time: start,
        current_time: start + time::Duration::hours(1),
        page_size: scheme.source.page_size,
    }
}

struct Endpoint<'a> {
    catalog: &'a dyn Catalog,
    root: &'a Node,
}

impl Endpoint<'_> {
    /// The connector behind `connection`, reported at `at` when missing.
    fn connector(
        &self,
        report: &mut Report<'_>,
        at: &Node,
        connection: &str,
        what: &str,
    ) -> Option<ConnectorInfo> {
        let Some(plugin) = self.catalog.connection_plugin(connection) else {
            report.error_at(
                at,
                format!("`{what}.connection`: the tenant has no connection `{connection}`"),
            );
            return None;
        };
        match self.catalog.connector(&plugin) {
            Some(c) => Some(c),
            None if self.catalog.transform(&plugin).is_some() => {
                report.error_at(at, format!("`{what}.connection`: connection `{connection}` uses plugin `{plugin}`, which is a transform, not a connector"));
                None
            }
            None => {
                report.error_at(at, format!("`{what}.connection`: connection `{connection}` uses plugin `{plugin}`, which is not installed"));
                None
            }
        }
    }

    /// The operation a section names, checked to exist with `direction`.
    fn operation(
        &self,
        report: &mut Report<'_>,
        section: Option<&Node>,
        connection: &str,
        operation: &str,
        direction: Direction,
        what: &str,
    ) -> Option<OperationInfo> {
        let section = section?;
        let conn_node = yaml::at(section, &["connection"]).unwrap_or(section);
        let op_node = yaml::at(section, &["operation"]).unwrap_or(section);
        let connector = self.connector(report, conn_node, connection, what)?;
        let Some(op) = connector.operation(operation) else {
            let ids: Vec<&str> = connector
                .operations
                .iter()
                .filter(|o| o.direction == direction)
                .map(|o| o.id.as_str())
                .collect();
            report.error_at(
                op_node,
                format!(
                    "`{what}.operation`: connector `{}` has no operation `{operation}` ({direction} operations: {})",
                    connector.name,
                    if ids.is_empty() { "none".to_owned() } else { ids.join(", ") }
                ),
            );
            return None;
        };
        if op.direction != direction {
            report.error_at(
                op_node,
                format!("`{what}.operation`: `{operation}` of connector `{}` is a {} operation, not a {direction} operation", connector.name, op.direction),
            );
            return None;
        }
        Some(op.clone())
    }

    /// Rendered params against the operation's schema.
    fn params(
        &self,
        report: &mut Report<'_>,
        section: Option<&Node>,
        what: &str,
        op: &OperationInfo,
        rendered: Result<serde_json::Value, MapError>,
    ) {
        let Some(section) = section else {
            return;
        };
        let params_node = yaml::at(section, &["params"]);
        let params = match rendered {
            Ok(p) => p,
            Err(e) => {
                let node = yaml::at_path(self.root, &e.path).unwrap_or(section);
                report.error_at(
                    node,
                    format!("`{}` cannot be rendered: {}", e.path, e.message),
                );
                return;
            }
        };
        check_schema(
            report,
            params_node.unwrap_or(section),
            &format!("{what}.params"),
            &op.id,
            &op.params_schema,
            &params,
        );
    }

    fn live_lookup(&self, report: &mut Report<'_>, live: &LiveLookup) {
        let section = yaml::at(self.root, &["lookups", &live.name]);
        let what = format!("lookups.{}", live.name);
        if let Some(op) = self.operation(
            report,
            section,
            &live.connection,
            &live.operation,
            Direction::Source,
            &what,
        ) {
            self.params(report, section, &what, &op, Ok(live.params.clone()));
        }
    }

    fn transform(&self, report: &mut Report<'_>, node: Option<&Node>, step: &crate::TransformStep) {
        let Some(node) = node else {
            return;
        };
        let plugin_node = yaml::at(node, &["plugin"]).unwrap_or(node);
        let Some(info) = self.catalog.transform(&step.plugin) else {
            let message = if self.catalog.connector(&step.plugin).is_some() {
                format!("plugin `{}` is a connector, not a transform", step.plugin)
            } else {
                format!("transform plugin `{}` is not installed", step.plugin)
            };
            report.error_at(plugin_node, message);
            return;
        };
        let config_node = yaml::at(node, &["config"]).unwrap_or(node);
        check_schema(
            report,
            config_node,
            "config",
            &info.name,
            &info.config_schema,
            &step.config,
        );
    }
}

/// Validates `value` against a plugin's `schema`, reporting each error at
/// the YAML node under `node` it is about.
fn check_schema(
    report: &mut Report<'_>,
    node: &Node,
    what: &str,
    owner: &str,
    schema: &serde_json::Value,
    value: &serde_json::Value,
) {
    for (segments, message) in schema_problems(what, owner, schema, value) {
        report.error_at(yaml::deepest(node, &segments), message);
    }
}

/// What in `value` (a plugin's `what`: its params, a transform's config)
/// does not match the `schema` plugin `owner` declares: each problem with
/// the path to the value it is about and a message naming that path.
/// Empty when it matches.
pub fn schema_problems(
    what: &str,
    owner: &str,
    schema: &serde_json::Value,
    value: &serde_json::Value,
) -> Vec<(Vec<String>, String)> {
    let validator = match jsonschema::validator_for(schema) {
        Ok(v) => v,
        Err(e) => {
            return vec![(
                Vec::new(),
                format!(
                    "`{owner}` declares a schema for its {what} that is not valid JSON Schema: {e}"
                ),
            )];
        }
    };
    validator
        .iter_errors(value)
        .map(|error| {
            let segments = pointer_segments(error.instance_path().as_str());
            let place = if segments.is_empty() {
                what.to_owned()
            } else {
                format!("{what}.{}", segments.join("."))
            };
            let message = format!("`{place}` does not match `{owner}`'s schema: {error}");
            (segments, message)
        })
        .collect()
}

/// The unescaped segments of a JSON pointer (`/a~1b/0` → `a/b`, `0`).
fn pointer_segments(pointer: &str) -> Vec<String> {
    pointer
        .split('/')
        .skip(1)
        .map(|s| s.replace("~1", "/").replace("~0", "~"))
        .collect()
}

#[cfg(test)]
mod tests;
