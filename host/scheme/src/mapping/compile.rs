//! Turning a scheme's YAML values into plans: constants folded once,
//! templates compiled once, each problem a diagnostic at its value.

use std::collections::HashMap;
use std::sync::Arc;

use marked_yaml::Node;
use marked_yaml::types::MarkedMappingNode;
use minijinja::{Environment, ErrorKind, UndefinedBehavior};

use super::filters::{self, FilterContext};
use super::lookup::LookupTables;
use super::needs::{self, Need};
use super::path::FieldPath;
use super::program::{Piece, Program};
use super::template::{self, Text};
use crate::diagnostic::Report;
use crate::model::LookupDef;
use crate::yaml;

/// How `lookup('name')` table names are checked while compiling.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Tables<'a> {
    /// Not at all (reading a file: the tenant is not known).
    Skip,
    /// Offline: names the scheme does not define are warnings (they may be
    /// tenant tables).
    Offline,
    /// For a run: names must be the scheme's or the tenant's.
    Strict(&'a LookupTables),
}

/// How one value of a scheme is produced.
#[derive(Debug, Clone)]
pub(crate) enum Plan {
    /// Written as is.
    Constant(serde_json::Value),
    /// A typed expression (slot index).
    Expression(usize),
    /// A string template (slot index).
    Template(usize),
    /// An object, field by field.
    Object(Vec<(Box<str>, Plan)>),
    /// A list, item by item.
    Array(Vec<Plan>),
    /// One item per row of a list.
    Each(Box<Each>),
    /// An object whose typed expressions are evaluated together, by one
    /// expression listing them all (`slot`): one run of the template
    /// engine instead of one per field. `plan` holds the fields.
    Batch { slot: usize, plan: Box<Plan> },
}

/// An `each` block.
#[derive(Debug, Clone)]
pub(crate) struct Each {
    /// The list (an expression slot).
    pub list: usize,
    /// The list's field path, when `each:` names a field.
    pub list_path: Option<Vec<String>>,
    /// What the list is called in messages.
    pub list_name: String,
    /// The row's name besides `row`.
    pub binding: Option<Arc<str>>,
    /// Rows for which this is false are left out.
    pub filter: Option<usize>,
    /// Rows with the same key are merged.
    pub group_by: Option<Plan>,
    /// Output fields added up when rows merge (dotted paths).
    pub sum: Vec<Vec<String>>,
    /// One row's item.
    pub item: Plan,
}

/// Every plan of a scheme.
#[derive(Debug, Clone)]
pub(crate) struct Plans {
    pub source_params: Plan,
    pub key: Plan,
    pub filter: Option<usize>,
    pub target_params: Plan,
    pub mapping: Plan,
    /// Key and value plans of each live lookup, in the scheme's order.
    pub live: Vec<(String, Plan, Plan)>,
    /// What `key`, `filter` and `mapping` read of a record.
    pub key_need: Need,
    pub filter_need: Need,
    pub mapping_need: Need,
    /// What `key` and `mapping` read together: a record read once at the
    /// pull serves both.
    pub record_need: Need,
}

/// Compiles every template of the scheme at `root`. Problems go to
/// `report`; `None` when there was any error.
pub(crate) fn compile(
    root: &Node,
    defs: &[LookupDef],
    tables: Tables<'_>,
    cx: &Arc<FilterContext>,
    report: &mut Report<'_>,
) -> Option<(Program, Plans)> {
    let mut env = Environment::new();
    // A missing field is `null`, and a field of a missing object too: source
    // records leave out empty fields, and Qeasy maps them to nothing.
    env.set_undefined_behavior(UndefinedBehavior::Chainable);
    // `none` renders as nothing in string templates, like a missing field.
    env.set_formatter(|out, state, value| {
        if value.is_none() {
            Ok(())
        } else {
            minijinja::escape_formatter(out, state, value)
        }
    });
    filters::register(&mut env, cx);
    let errors_before = report.items.iter().filter(|d| d.is_error()).count();
    let mut c = Compiler {
        env,
        pieces: Vec::new(),
        vars: Vec::new(),
        report,
        tables,
        defined: defs.iter().map(|d| d.name().to_owned()).collect(),
        known_filters: HashMap::new(),
    };
    let source = yaml::at(root, &["source"]);
    let source_params = match source.and_then(|s| yaml::at(s, &["params"])) {
        Some(n) => c.value(n, false),
        None => Plan::Constant(serde_json::json!({})),
    };
    let key = match source.and_then(|s| yaml::at(s, &["key"])) {
        Some(n) => c.value(n, false),
        None => Plan::Constant(serde_json::Value::Null),
    };
    let filter = source
        .and_then(|s| yaml::at(s, &["filter"]))
        .and_then(|n| c.expression(n, "source.filter"));
    let target_params = match yaml::at(root, &["target", "params"]) {
        Some(n) => c.value(n, false),
        None => Plan::Constant(serde_json::json!({})),
    };
    let mapping = match yaml::at(root, &["mapping"]) {
        Some(Node::Mapping(m)) => {
            let plan = c.object(m, true);
            c.batch(plan)
        }
        _ => Plan::Constant(serde_json::json!({})),
    };
    let mut live = Vec::new();
    for def in defs {
        if let LookupDef::Live(l) = def {
            let node = yaml::at(root, &["lookups", &l.name]);
            let key = node.and_then(|n| yaml::at(n, &["key"]));
            let value = node.and_then(|n| yaml::at(n, &["value"]));
            let (Some(key), Some(value)) = (key, value) else {
                continue;
            };
            let key = c.value(key, false);
            let value = c.value(value, false);
            live.push((l.name.clone(), key, value));
        }
    }
    let Compiler {
        env,
        pieces,
        vars,
        report,
        ..
    } = c;
    let errors = report.items.iter().filter(|d| d.is_error()).count();
    if errors > errors_before {
        return None;
    }
    match Program::build(env, &pieces) {
        Ok(program) => Some((
            program,
            Plans {
                key_need: needs::of_plan(&key, &vars),
                filter_need: filter.map_or_else(Need::default, |f| needs::of_slot(f, &vars)),
                mapping_need: needs::of_plan(&mapping, &vars),
                record_need: {
                    let mut need = needs::of_plan(&key, &vars);
                    need.merge(&needs::of_plan(&mapping, &vars));
                    need
                },
                source_params,
                key,
                filter,
                target_params,
                mapping,
                live,
            },
        )),
        Err(e) => {
            // Every piece compiled once already; this cannot fail, but a
            // diagnostic beats a panic.
            report.error(root.span(), format!("templates do not compile: {e}"));
            None
        }
    }
}

struct Compiler<'a, 'f> {
    env: Environment<'static>,
    pieces: Vec<Piece>,
    /// The record paths each piece reads (see `needs`).
    vars: Vec<Vec<Vec<String>>>,
    report: &'a mut Report<'f>,
    tables: Tables<'a>,
    defined: Vec<String>,
    known_filters: HashMap<String, bool>,
}

impl Compiler<'_, '_> {
    fn value(&mut self, node: &Node, allow_each: bool) -> Plan {
        match node {
            Node::Scalar(s) => match yaml::scalar_json(s) {
                serde_json::Value::String(text) => self
                    .text(node, &text)
                    .unwrap_or(Plan::Constant(serde_json::Value::Null)),
                other => Plan::Constant(other),
            },
            Node::Sequence(items) => fold(Plan::Array(
                items.iter().map(|i| self.value(i, allow_each)).collect(),
            )),
            Node::Mapping(m) if allow_each && m.get_node("each").is_some() => self.each(m),
            Node::Mapping(m) => self.object(m, allow_each),
        }
    }

    fn object(&mut self, m: &MarkedMappingNode, allow_each: bool) -> Plan {
        let fields = m
            .iter()
            .map(|(k, v)| (Box::from(k.as_str()), self.value(v, allow_each)))
            .collect();
        fold(Plan::Object(fields))
    }

    /// A string value: a constant, a typed expression or a template.
    /// `Err` when it does not compile (and that was reported).
    fn text(&mut self, node: &Node, value: &str) -> Result<Plan, ()> {
        match template::classify(value) {
            Text::Constant(s) => Ok(Plan::Constant(serde_json::Value::String(s))),
            Text::Expression { source, offset } => {
                let full = template::rewrite_qeasy(value);
                self.check_names(node, &full, &source, offset, true);
                let compiled = self
                    .env
                    .compile_expression(&source)
                    .map(|e| e.undeclared_variables(true));
                match compiled {
                    Ok(names) => {
                        let vars = needs::variables(names, &source);
                        Ok(Plan::Expression(self.push(Piece::Expression(source), vars)))
                    }
                    Err(e) => {
                        self.compile_error(node, &full, offset, &e);
                        Err(())
                    }
                }
            }
            Text::Template(source) => {
                self.check_names(node, &source, &source, 0, false);
                let name = format!("t{}", self.pieces.len());
                let compiled = self
                    .env
                    .add_template_owned(name.clone(), source.clone())
                    .and_then(|()| self.env.get_template(&name))
                    .map(|t| t.undeclared_variables(true));
                match compiled {
                    Ok(names) => {
                        let vars = needs::variables(names, &source);
                        Ok(Plan::Template(self.push(Piece::Template(name), vars)))
                    }
                    Err(e) => {
                        self.compile_error(node, &source, 0, &e);
                        Err(())
                    }
                }
            }
        }
    }

    /// Wraps each object with several typed expressions into a
    /// [`Plan::Batch`], outermost first (the rows of an `each` are objects
    /// of their own scope, batched separately).
    ///
    /// Field paths are read without the template engine (`path`) and stay
    /// out of the batch; only the other expressions are worth batching.
    fn batch(&mut self, plan: Plan) -> Plan {
        let engine_leaves: Vec<usize> = expression_leaves(&plan)
            .into_iter()
            .filter(|slot| {
                !matches!(self.pieces.get(*slot), Some(Piece::Expression(src)) if FieldPath::parse(src).is_some())
            })
            .collect();
        match plan {
            Plan::Object(_) if engine_leaves.len() >= 2 => {
                let sources: Option<Vec<String>> = engine_leaves
                    .into_iter()
                    .map(|slot| match self.pieces.get(slot) {
                        Some(Piece::Expression(src)) => Some(format!("({src})")),
                        _ => None,
                    })
                    .collect();
                let plan = self.batch_inside(plan);
                let Some(sources) = sources else {
                    return plan;
                };
                let combined = format!("[{}]", sources.join(", "));
                match self.env.compile_expression(&combined) {
                    Ok(_) => {
                        let slot = self.push(Piece::Expression(combined), Vec::new());
                        Plan::Batch {
                            slot,
                            plan: Box::new(plan),
                        }
                    }
                    // Each part compiled on its own; should the whole not,
                    // the fields are simply evaluated one by one.
                    Err(_) => plan,
                }
            }
            other => self.batch_inside(other),
        }
    }

    /// Batches what lies below `plan` in other scopes (`each` rows), and
    /// objects that are not part of an enclosing batch.
    fn batch_inside(&mut self, plan: Plan) -> Plan {
        match plan {
            Plan::Object(fields) => Plan::Object(
                fields
                    .into_iter()
                    .map(|(k, p)| (k, self.batch_inside_field(p)))
                    .collect(),
            ),
            Plan::Array(items) => Plan::Array(
                items
                    .into_iter()
                    .map(|p| self.batch_inside_field(p))
                    .collect(),
            ),
            Plan::Each(mut each) => {
                each.item = self.batch(each.item);
                Plan::Each(each)
            }
            other => other,
        }
    }

    fn batch_inside_field(&mut self, plan: Plan) -> Plan {
        match plan {
            Plan::Each(_) => self.batch_inside(plan),
            Plan::Object(_) | Plan::Array(_) => self.batch_inside(plan),
            other => other,
        }
    }

    /// Adds a piece and the record paths it reads; its slot.
    fn push(&mut self, piece: Piece, vars: Vec<Vec<String>>) -> usize {
        self.pieces.push(piece);
        self.vars.push(vars);
        self.pieces.len() - 1
    }

    /// A value that must be one `{{ expression }}`; its slot.
    fn expression(&mut self, node: &Node, what: &str) -> Option<usize> {
        let text = node.as_scalar().map(|s| s.as_str()).unwrap_or_default();
        match self.text(node, text) {
            Ok(Plan::Expression(slot)) => Some(slot),
            Err(()) => None,
            Ok(_) => {
                self.report.error_at(
                    node,
                    format!("`{what}` must be one expression in {{{{ }}}}, e.g. \"{{{{ status != '10' }}}}\""),
                );
                None
            }
        }
    }

    fn compile_error(&mut self, node: &Node, full: &str, offset: usize, e: &minijinja::Error) {
        let what = match e.detail() {
            Some(d) => format!("{}: {d}", e.kind()),
            None => e.kind().to_string(),
        };
        let at = e.range().map(|r| r.start + offset);
        let message = match at {
            Some(at) => {
                let (l, c) = template::line_column(full, at);
                format!("template does not compile: {what} (template line {l}, column {c})")
            }
            None => match e.line() {
                Some(l) => format!("template does not compile: {what} (template line {l})"),
                None => format!("template does not compile: {what}"),
            },
        };
        self.report.error_at(node, message);
    }

    /// Unknown filters, and lookup tables per `self.tables`.
    fn check_names(
        &mut self,
        node: &Node,
        full: &str,
        code: &str,
        offset: usize,
        expression: bool,
    ) {
        for (name, at) in template::filters(code, expression) {
            if !self.filter_exists(&name) {
                let (l, c) = template::line_column(full, at + offset);
                self.report.error_at(
                    node,
                    format!("unknown filter `{name}` (template line {l}, column {c})"),
                );
            }
        }
        for table in template::lookup_tables(code) {
            if self.defined.contains(&table) {
                continue;
            }
            match self.tables {
                Tables::Skip => {}
                Tables::Offline => self.report.warning(
                    node.span(),
                    format!("lookup table `{table}` is not defined in the scheme; it must be one of the tenant's tables (not checked offline)"),
                ),
                Tables::Strict(tenant) if tenant.contains_key(&table) => {}
                Tables::Strict(_) => self.report.error_at(
                    node,
                    format!("there is no lookup table `{table}`: neither the scheme's `lookups` nor the tenant's tables define it"),
                ),
            }
        }
    }

    /// Whether `name` is a filter of the environment. minijinja resolves
    /// filters when they run, so ask it by running one on nothing.
    fn filter_exists(&mut self, name: &str) -> bool {
        if filters::NAMES.contains(&name) {
            return true;
        }
        if let Some(known) = self.known_filters.get(name) {
            return *known;
        }
        let exists = match self.env.compile_expression_owned(format!("none | {name}")) {
            Ok(expr) => !matches!(expr.eval(()), Err(e) if e.kind() == ErrorKind::UnknownFilter),
            Err(_) => true,
        };
        self.known_filters.insert(name.to_owned(), exists);
        exists
    }

    fn each(&mut self, m: &MarkedMappingNode) -> Plan {
        const KEYS: &[&str] = &["each", "as", "map", "filter", "group_by", "sum"];
        for (k, _) in m.iter() {
            if !KEYS.contains(&k.as_str()) {
                self.report.error(
                    k.span(),
                    format!(
                        "unknown key `{}` in an `each` block (expected one of: {})",
                        k.as_str(),
                        KEYS.join(", ")
                    ),
                );
            }
        }
        let binding = m.get_node("as").and_then(|n| match n.as_scalar() {
            Some(s) if is_path(s.as_str()) && !s.as_str().contains('.') => {
                Some(Arc::from(s.as_str()))
            }
            _ => {
                self.report
                    .error_at(n, format!("`as` must be a name, not {}", yaml::describe(n)));
                None
            }
        });
        let (list, list_name, default_binding) = match m.get_node("each") {
            Some(n) => self.each_list(n),
            None => (None, String::new(), None),
        };
        let list_path =
            is_path(&list_name).then(|| list_name.split('.').map(str::to_owned).collect());
        let binding = binding.or(default_binding);
        let filter = m
            .get_node("filter")
            .and_then(|n| self.expression(n, "filter"));
        let group_by = m.get_node("group_by").map(|n| self.value(n, false));
        let item = match m.get_node("map") {
            Some(n) => self.value(n, true),
            None => {
                self.report.error(
                    yaml::mapping_start(m),
                    "an `each` block is missing the required key `map` (what each row becomes)",
                );
                Plan::Constant(serde_json::Value::Null)
            }
        };
        let sum = match m.get_node("sum") {
            Some(n) => self.sum_fields(n, group_by.is_some(), &item),
            None => Vec::new(),
        };
        let Some(list) = list else {
            return Plan::Constant(serde_json::Value::Null);
        };
        Plan::Each(Box::new(Each {
            list,
            list_path,
            list_name,
            binding,
            filter,
            group_by,
            sum,
            item,
        }))
    }

    /// `each:` — a field name (`details_list`, `data.items`) or one
    /// expression. Returns its slot, its name for messages and the default
    /// row binding.
    fn each_list(&mut self, n: &Node) -> (Option<usize>, String, Option<Arc<str>>) {
        let text = n
            .as_scalar()
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default();
        if is_path(&text) {
            let binding = text.rsplit('.').next().map(Arc::from);
            let slot = match self.env.compile_expression(&text) {
                Ok(_) => {
                    let path = text.split('.').map(str::to_owned).collect();
                    Some(self.push(Piece::Expression(text.clone()), vec![path]))
                }
                Err(e) => {
                    self.compile_error(n, &text, 0, &e);
                    None
                }
            };
            return (slot, text, binding);
        }
        if matches!(template::classify(&text), Text::Expression { .. }) {
            let slot = self.expression(n, "each");
            return (slot, text, None);
        }
        self.report.error_at(
            n,
            format!("`each` must name a list field (e.g. details_list) or be one {{{{ expression }}}}, not {}", yaml::describe(n)),
        );
        (None, text, None)
    }

    fn sum_fields(&mut self, n: &Node, grouped: bool, item: &Plan) -> Vec<Vec<String>> {
        if !grouped {
            self.report.error_at(
                n,
                "`sum` needs `group_by`: it adds up the rows a group merges",
            );
        }
        let names: Vec<(&Node, String)> = match n {
            Node::Scalar(s) => vec![(n, s.as_str().to_owned())],
            Node::Sequence(items) => items
                .iter()
                .filter_map(|i| match i.as_scalar() {
                    Some(s) => Some((i, s.as_str().to_owned())),
                    None => {
                        self.report.error_at(i, "`sum` lists output field names");
                        None
                    }
                })
                .collect(),
            Node::Mapping(_) => {
                self.report
                    .error_at(n, "`sum` must be a list of output field names");
                Vec::new()
            }
        };
        let mut out = Vec::new();
        for (node, name) in names {
            let path: Vec<String> = name.split('.').map(str::to_owned).collect();
            if !has_field(item, &path) {
                self.report.error_at(
                    node,
                    format!("`sum` names `{name}`, which is not a field of the block's `map`"),
                );
            }
            out.push(path);
        }
        out
    }
}

/// `a`, `a.b`: names joined by dots.
fn is_path(s: &str) -> bool {
    !s.is_empty()
        && s.split('.').all(|seg| {
            let mut chars = seg.chars();
            chars
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        })
}

/// The typed-expression slots of `plan` in evaluation order, not looking
/// into `each` blocks (another scope) or batches.
pub(crate) fn expression_leaves(plan: &Plan) -> Vec<usize> {
    fn walk(plan: &Plan, out: &mut Vec<usize>) {
        match plan {
            Plan::Expression(slot) => out.push(*slot),
            Plan::Object(fields) => fields.iter().for_each(|(_, p)| walk(p, out)),
            Plan::Array(items) => items.iter().for_each(|p| walk(p, out)),
            Plan::Constant(_) | Plan::Template(_) | Plan::Each(_) | Plan::Batch { .. } => {}
        }
    }
    let mut out = Vec::new();
    walk(plan, &mut out);
    out
}

fn has_field(plan: &Plan, path: &[String]) -> bool {
    let Some((first, rest)) = path.split_first() else {
        return true;
    };
    match plan {
        Plan::Object(fields) => fields
            .iter()
            .find(|(k, _)| &**k == first.as_str())
            .is_some_and(|(_, p)| has_field(p, rest)),
        Plan::Constant(serde_json::Value::Object(m)) => m.contains_key(first.as_str()),
        Plan::Batch { plan, .. } => has_field(plan, path),
        _ => false,
    }
}

/// Collapses an object or list of constants into one constant.
fn fold(plan: Plan) -> Plan {
    match plan {
        Plan::Object(fields) if fields.iter().all(|(_, p)| matches!(p, Plan::Constant(_))) => {
            Plan::Constant(serde_json::Value::Object(
                fields
                    .into_iter()
                    .map(|(k, p)| match p {
                        Plan::Constant(v) => (k.into_string(), v),
                        _ => (k.into_string(), serde_json::Value::Null),
                    })
                    .collect(),
            ))
        }
        Plan::Array(items) if items.iter().all(|p| matches!(p, Plan::Constant(_))) => {
            Plan::Constant(serde_json::Value::Array(
                items
                    .into_iter()
                    .map(|p| match p {
                        Plan::Constant(v) => v,
                        _ => serde_json::Value::Null,
                    })
                    .collect(),
            ))
        }
        other => other,
    }
}
