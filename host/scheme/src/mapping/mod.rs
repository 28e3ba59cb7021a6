//! The mapping language: a scheme's templates compiled once, then run on
//! each record.
//!
//! Values are minijinja templates. A string that is exactly one
//! `{{ expression }}` keeps the expression's type (numbers stay numbers);
//! anything else with markup renders to a string; everything else is a
//! constant. `docs/scheme-reference.md` is the user guide.

mod compile;
mod eval;
mod filters;
mod lookup;
mod needs;
mod path;
mod program;
mod template;
mod text;
mod values;

use std::collections::HashMap;
use std::sync::Arc;

use marked_yaml::Node;
use time::{OffsetDateTime, UtcOffset};

pub use lookup::{LiveLookup, LookupTables};

pub(crate) use compile::Tables;
pub(crate) use template::{Text, classify};

use crate::diagnostic::{Diagnostics, Report};
use crate::model::{LookupDef, Scheme};
use compile::Plans;
use eval::{Path, eval, key_text, slot_value};
use filters::FilterContext;
use lookup::{LookupStore, Table};
use program::Program;
use values::to_value;

/// The variables of a run, seen by `source.params`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunVars {
    /// The window's start: `LAST_SYNC_TIME` (Unix seconds).
    pub last_sync_time: OffsetDateTime,
    /// The window's end: `CURRENT_TIME` (Unix seconds).
    pub current_time: OffsetDateTime,
    /// `PAGINATION_PAGE_SIZE`; the scheme's `source.page_size` when `None`.
    pub page_size: Option<u32>,
}

/// A mapping failure of one record, with where it happened.
///
/// Displays as `path: message`, e.g.
/// `mapping.FSupplierId.FNumber: lookup: table 'suppliers' has no key 'GYS9'`.
/// The engine sends such a record to the exception queue.
/// A record as its key and mapping read it: only the fields they use,
/// already converted for the templates.
#[derive(Debug, Clone)]
pub struct Read(minijinja::Value);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct MapError {
    /// Where: `mapping.FPOOrderEntry[2].FQty`, `source.key`,
    /// `source.params.start_time`, `lookups.materials.key`.
    pub path: String,
    /// What went wrong, naming the value.
    pub message: String,
}

/// A scheme's templates, compiled once per run; `Send + Sync`, so workers
/// can map records in parallel.
#[derive(Debug)]
pub struct Mapper {
    program: Program,
    plans: Plans,
    flatten: Option<Vec<String>>,
    page_size: Option<u32>,
    live: Vec<LiveLookup>,
    lookups: Arc<LookupStore>,
}

impl Mapper {
    /// Compiles `scheme` for a run, with the tenant's lookup tables.
    ///
    /// # Errors
    ///
    /// A diagnostic per template that does not compile, per unknown filter,
    /// and per `lookup('t')` whose table neither the scheme nor
    /// `tenant_lookups` defines.
    pub fn compile(scheme: &Scheme, tenant_lookups: &LookupTables) -> Result<Mapper, Diagnostics> {
        let mut report = Report::new(&scheme.file);
        let tables = Tables::Strict(tenant_lookups);
        match Self::compile_with(scheme, tenant_lookups, tables, &mut report) {
            Some(m) if !report.has_errors() => Ok(m),
            _ => Err(Diagnostics::from(report.items)),
        }
    }

    /// Compiles `scheme`, checking `lookup` table names per `tables`;
    /// problems go to `report`.
    pub(crate) fn compile_with(
        scheme: &Scheme,
        tenant_lookups: &LookupTables,
        tables: Tables<'_>,
        report: &mut Report<'_>,
    ) -> Option<Mapper> {
        let mut statics: HashMap<String, Table> = HashMap::new();
        let mut live = Vec::new();
        for def in &scheme.lookups {
            match def {
                LookupDef::Static { name, rows } => {
                    statics.insert(name.clone(), lookup::convert(rows));
                }
                LookupDef::Live(l) => live.push(l.clone()),
            }
        }
        let store = Arc::new(LookupStore::new(statics, tenant_lookups));
        let (program, plans) = build(
            &scheme.root,
            scheme.timezone,
            &scheme.lookups,
            tables,
            &store,
            report,
        )?;
        Some(Mapper {
            program,
            plans,
            flatten: scheme
                .flatten
                .as_ref()
                .map(|f| f.split('.').map(str::to_owned).collect()),
            page_size: scheme.source.page_size,
            live,
            lookups: store,
        })
    }

    /// Pull side: the records one source record stands for. With
    /// `source.flatten`, one per row of the list (the row replacing the
    /// list, other fields kept; none when the list is empty or missing);
    /// then those `source.filter` rejects are dropped.
    ///
    /// # Errors
    ///
    /// The flattened field is not a list, or the filter fails.
    pub fn expand(&self, record: serde_json::Value) -> Result<Vec<serde_json::Value>, MapError> {
        let records = match &self.flatten {
            None => vec![record],
            Some(path) => flatten(record, path)?,
        };
        if self.plans.filter.is_none() {
            return Ok(records);
        }
        let mut kept = Vec::with_capacity(records.len());
        for r in records {
            if self.keeps(&r)? {
                kept.push(r);
            }
        }
        Ok(kept)
    }

    /// Whether `source.filter` keeps an (expanded) record; true without
    /// a filter.
    ///
    /// # Errors
    ///
    /// The filter fails.
    pub fn keeps(&self, record: &serde_json::Value) -> Result<bool, MapError> {
        let Some(filter) = self.plans.filter else {
            return Ok(true);
        };
        let ctx = self.plans.filter_need.project(record);
        let keep = slot_value(self.program.slots(), filter, &ctx).map_err(|message| MapError {
            path: "source.filter".into(),
            message,
        })?;
        Ok(keep.is_true())
    }

    /// The business key of an (expanded) record, from `source.key`.
    ///
    /// # Errors
    ///
    /// The template fails, or gives an empty key.
    pub fn key(&self, record: &serde_json::Value) -> Result<String, MapError> {
        let mut path = Path::new("source.key");
        let ctx = self.plans.key_need.project(record);
        let v = eval(&self.plans.key, self.program.slots(), &ctx, &mut path)?;
        key_text(&v).ok_or_else(|| path.error("the key is empty"))
    }

    /// A record's business key, and the record read for its mapping
    /// ([`Mapper::map_read`]): the text is parsed once for both.
    ///
    /// # Errors
    /// The text is not JSON, or the key cannot be computed or is empty.
    pub fn key_and_read(&self, record: &str) -> Result<(String, Read), MapError> {
        let mut path = Path::new("source.key");
        let ctx = self
            .plans
            .record_need
            .project_text(record)
            .map_err(|e| path.error(format!("the record is not JSON: {e}")))?;
        let v = eval(&self.plans.key, self.program.slots(), &ctx, &mut path)?;
        let key = key_text(&v).ok_or_else(|| path.error("the key is empty"))?;
        Ok((key, Read(ctx)))
    }

    /// Maps a record read by [`Mapper::key_and_read`]; the same as
    /// [`Mapper::map`] of the record.
    ///
    /// # Errors
    /// A template fails on this record.
    pub fn map_read(&self, record: &Read) -> Result<serde_json::Value, MapError> {
        let mut path = Path::new("mapping");
        eval(
            &self.plans.mapping,
            self.program.slots(),
            &record.0,
            &mut path,
        )
    }

    /// [`Mapper::map_read`] as JSON text, written without building the
    /// document first (fields in the scheme's order).
    ///
    /// # Errors
    /// A template fails on this record.
    pub fn map_read_json(&self, record: &Read) -> Result<String, MapError> {
        Self::json(|path, out| {
            text::write(
                &self.plans.mapping,
                self.program.slots(),
                &record.0,
                path,
                out,
            )
        })
    }

    /// [`Mapper::map`] of a record given as its JSON text, written as
    /// [`Mapper::map_read_json`] writes, reading only the fields the mapping
    /// uses.
    ///
    /// # Errors
    /// The text is not JSON, or a template fails on this record.
    pub fn map_text_json(&self, record: &str) -> Result<String, MapError> {
        let ctx = self
            .plans
            .mapping_need
            .project_text(record)
            .map_err(|e| Path::new("mapping").error(format!("the record is not JSON: {e}")))?;
        Self::json(|path, out| {
            text::write(&self.plans.mapping, self.program.slots(), &ctx, path, out)
        })
    }

    fn json<'p>(
        write: impl FnOnce(&mut Path<'p>, &mut Vec<u8>) -> Result<(), MapError>,
    ) -> Result<String, MapError> {
        let mut path = Path::new("mapping");
        let mut out = Vec::with_capacity(1024);
        write(&mut path, &mut out)?;
        String::from_utf8(out).map_err(|e| path.error(format!("internal error: {e}")))
    }

    /// Push side: the target document of one record.
    ///
    /// # Errors
    ///
    /// The first field that fails, with its path
    /// (`mapping.FPOOrderEntry[2].FQty`) and cause.
    pub fn map(&self, record: &serde_json::Value) -> Result<serde_json::Value, MapError> {
        let mut path = Path::new("mapping");
        let ctx = self.plans.mapping_need.project(record);
        eval(&self.plans.mapping, self.program.slots(), &ctx, &mut path)
    }

    /// `source.params`, rendered for a window.
    ///
    /// Variables: `LAST_SYNC_TIME` and `CURRENT_TIME` (Unix seconds, as in
    /// Qeasy), `PAGINATION_PAGE_SIZE`, and `PAGINATION_START_PAGE` (always
    /// 1: connectors page by themselves).
    ///
    /// # Errors
    ///
    /// A param's template fails.
    pub fn source_params(&self, vars: &RunVars) -> Result<serde_json::Value, MapError> {
        let page_size = vars.page_size.or(self.page_size);
        let ctx = to_value(&serde_json::json!({
            "LAST_SYNC_TIME": vars.last_sync_time.unix_timestamp(),
            "CURRENT_TIME": vars.current_time.unix_timestamp(),
            "PAGINATION_PAGE_SIZE": page_size,
            "PAGINATION_START_PAGE": 1,
        }));
        let mut path = Path::new("source.params");
        eval(
            &self.plans.source_params,
            self.program.slots(),
            &ctx,
            &mut path,
        )
    }

    /// `target.params`, rendered (templates see no record).
    ///
    /// # Errors
    ///
    /// A param's template fails.
    pub fn target_params(&self) -> Result<serde_json::Value, MapError> {
        let mut path = Path::new("target.params");
        let ctx = to_value(&serde_json::json!({}));
        eval(
            &self.plans.target_params,
            self.program.slots(),
            &ctx,
            &mut path,
        )
    }

    /// Tables to be filled through a connector before mapping.
    pub fn live_lookups(&self) -> &[LiveLookup] {
        &self.live
    }

    /// Turns the rows a live lookup's operation returned into its table:
    /// its `key` and `value` templates rendered over each row. Rows whose
    /// key is empty are left out; a later row wins over an earlier one with
    /// the same key.
    ///
    /// # Errors
    ///
    /// `name` is not a live lookup of the scheme, or a template fails.
    pub fn live_table(
        &self,
        name: &str,
        rows: &[serde_json::Value],
    ) -> Result<HashMap<String, serde_json::Value>, MapError> {
        let Some((_, key, value)) = self.plans.live.iter().find(|(n, _, _)| n == name) else {
            return Err(MapError {
                path: format!("lookups.{name}"),
                message: format!("`{name}` is not a live lookup of this scheme"),
            });
        };
        let slots = self.program.slots();
        let key_path = format!("lookups.{name}.key");
        let value_path = format!("lookups.{name}.value");
        let mut out = HashMap::with_capacity(rows.len());
        for row in rows {
            let ctx = to_value(row);
            let k = eval(key, slots, &ctx, &mut Path::new(&key_path))?;
            let Some(k) = key_text(&k) else {
                continue;
            };
            let v = eval(value, slots, &ctx, &mut Path::new(&value_path))?;
            out.insert(k, v);
        }
        Ok(out)
    }

    /// Installs the table of a live lookup (replacing an earlier one).
    pub fn set_live_table(&mut self, name: &str, rows: HashMap<String, serde_json::Value>) {
        self.lookups.set_live(name, &rows);
    }
}

/// Compiles the templates of the scheme at `root` into a program.
fn build(
    root: &Node,
    timezone: UtcOffset,
    defs: &[LookupDef],
    tables: Tables<'_>,
    store: &Arc<LookupStore>,
    report: &mut Report<'_>,
) -> Option<(Program, Plans)> {
    let live = defs
        .iter()
        .filter_map(|d| match d {
            LookupDef::Live(l) => Some(l.name.clone()),
            LookupDef::Static { .. } => None,
        })
        .collect();
    let cx = Arc::new(FilterContext::new(timezone, store.clone(), live));
    compile::compile(root, defs, tables, &cx, report)
}

/// Compiles every template of a scheme file to report its problems.
pub(crate) fn check(
    root: &Node,
    timezone: UtcOffset,
    defs: &[LookupDef],
    tables: Tables<'_>,
    report: &mut Report<'_>,
) -> Option<(Program, Plans)> {
    let store = Arc::new(LookupStore::new(HashMap::new(), &LookupTables::new()));
    build(root, timezone, defs, tables, &store, report)
}

/// One record per row of the list at `path`.
fn flatten(record: serde_json::Value, path: &[String]) -> Result<Vec<serde_json::Value>, MapError> {
    let error = |message: String| MapError {
        path: "source.flatten".into(),
        message,
    };
    let list = path
        .iter()
        .try_fold(&record, |v, k| v.as_object().and_then(|o| o.get(k)));
    let rows: Vec<serde_json::Value> = match list {
        None | Some(serde_json::Value::Null) => return Ok(Vec::new()),
        Some(serde_json::Value::Array(rows)) => rows.clone(),
        Some(row @ serde_json::Value::Object(_)) => vec![row.clone()],
        Some(other) => {
            return Err(error(format!(
                "`{}` is {other}, not a list",
                path.join(".")
            )));
        }
    };
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let mut r = record.clone();
        let slot = path
            .iter()
            .try_fold(&mut r, |v, k| v.as_object_mut().and_then(|o| o.get_mut(k)));
        if let Some(slot) = slot {
            *slot = row;
        }
        out.push(r);
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
