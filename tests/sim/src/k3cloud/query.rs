//! `ExecuteBillQuery` (rows as arrays) and `BillQuery` (rows as objects)
//! over the saved bills and the master data: lookups of BD_MATERIAL,
//! BD_Supplier, BD_Customer, BD_STOCK, ORG_Organizations, BD_Currency and
//! BD_UNIT, and "does this bill exist" checks on the bill forms.
//! `StartRow` is a 0-based offset, `Limit` a page size capped at 10000, no
//! total is returned (PROTOCOLS.md §1.4); an unknown field is refused with
//! MsgCode 9.

use std::cmp::Ordering;

use serde_json::{Map, Value, json};

use super::basedata::{self, K3Ref};
use super::bills::SavedBill;
use super::envelope::{K3Error, query_failure};
use super::filter::{self, Expr, Lit, Op};
use super::forms::{BaseKind, FieldDef, FieldKind, FormDef, bill_form};
use super::save::member;
use crate::clock;
use crate::dataset::master::MasterData;
use crate::state::{SimState, lock};

/// A value in a result row.
#[derive(Clone, Debug)]
enum Cell {
    Null,
    Int(i64),
    Num(f64),
    Text(String),
    Date(i64),
}

impl Cell {
    fn to_json(&self) -> Value {
        match self {
            Cell::Null => Value::Null,
            Cell::Int(i) => json!(i),
            Cell::Num(n) => json!(n),
            Cell::Text(t) => json!(t),
            Cell::Date(ts) => json!(clock::format_k3(*ts)),
        }
    }

    fn as_number(&self) -> Option<f64> {
        match self {
            Cell::Int(i) => Some(*i as f64),
            Cell::Num(n) => Some(*n),
            Cell::Text(t) => t.trim().parse().ok(),
            _ => None,
        }
    }

    fn as_text(&self) -> Option<String> {
        match self {
            Cell::Null => None,
            Cell::Int(i) => Some(i.to_string()),
            Cell::Num(n) => Some(n.to_string()),
            Cell::Text(t) => Some(t.clone()),
            Cell::Date(ts) => Some(clock::format_k3(*ts)),
        }
    }

    /// SQL-like comparison: numbers as numbers, dates as dates, text
    /// case-insensitively (K3Cloud's databases use such collations).
    fn compare(&self, lit: &Lit) -> Option<Ordering> {
        if matches!(self, Cell::Null) || matches!(lit, Lit::Null) {
            return None;
        }
        if let Cell::Date(ts) = self {
            let other = clock::parse_china(&lit.text())?;
            return Some(ts.cmp(&other));
        }
        if matches!(self, Cell::Int(_) | Cell::Num(_))
            && let (Some(a), Ok(b)) = (self.as_number(), lit.text().trim().parse::<f64>())
        {
            return a.partial_cmp(&b);
        }
        let a = self.as_text()?.to_lowercase();
        Some(a.cmp(&lit.text().to_lowercase()))
    }
}

fn like(text: &str, pattern: &str) -> bool {
    fn go(t: &[char], p: &[char]) -> bool {
        match p.first() {
            None => t.is_empty(),
            Some('%') => (0..=t.len()).any(|i| go(&t[i..], &p[1..])),
            Some('_') => !t.is_empty() && go(&t[1..], &p[1..]),
            Some(c) => t.first() == Some(c) && go(&t[1..], &p[1..]),
        }
    }
    let t: Vec<char> = text.to_lowercase().chars().collect();
    let p: Vec<char> = pattern.to_lowercase().chars().collect();
    go(&t, &p)
}

fn eval(expr: &Expr, get: &dyn Fn(&str) -> Cell) -> bool {
    match expr {
        Expr::And(a, b) => eval(a, get) && eval(b, get),
        Expr::Or(a, b) => eval(a, get) || eval(b, get),
        Expr::Not(a) => !eval(a, get),
        Expr::Cmp(f, op, lit) => match get(f).compare(lit) {
            None => false,
            Some(o) => match op {
                Op::Eq => o == Ordering::Equal,
                Op::Ne => o != Ordering::Equal,
                Op::Lt => o == Ordering::Less,
                Op::Le => o != Ordering::Greater,
                Op::Gt => o == Ordering::Greater,
                Op::Ge => o != Ordering::Less,
            },
        },
        Expr::In(f, values, negated) => {
            let cell = get(f);
            values
                .iter()
                .any(|v| cell.compare(v) == Some(Ordering::Equal))
                != *negated
        }
        Expr::Like(f, pattern, negated) => {
            get(f).as_text().is_some_and(|t| like(&t, pattern)) != *negated
        }
        Expr::IsNull(f, negated) => matches!(get(f), Cell::Null) != *negated,
        Expr::Between(f, lo, hi, negated) => {
            let cell = get(f);
            let inside = cell.compare(lo).is_some_and(|o| o != Ordering::Less)
                && cell.compare(hi).is_some_and(|o| o != Ordering::Greater);
            inside != *negated
        }
    }
}

/// Which property of a base-data reference a key asks for.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Sub {
    Id,
    Number,
    Name,
}

fn split_sub(key: &str) -> Result<(&str, Sub), ()> {
    match key.split_once('.') {
        None => Ok((key, Sub::Id)),
        Some((base, sub)) => match sub.to_ascii_lowercase().as_str() {
            "fnumber" => Ok((base, Sub::Number)),
            "fname" => Ok((base, Sub::Name)),
            "fid" | "id" => Ok((base, Sub::Id)),
            _ => Err(()),
        },
    }
}

fn ref_cell(r: Option<&K3Ref>, sub: Sub) -> Cell {
    match (r, sub) {
        (None, Sub::Id) => Cell::Int(0),
        (None, _) => Cell::Null,
        (Some(r), Sub::Id) => Cell::Int(r.id),
        (Some(r), Sub::Number) => Cell::Text(r.number.clone()),
        (Some(r), Sub::Name) => Cell::Text(r.name.clone()),
    }
}

fn unknown_field(key: &str) -> K3Error {
    K3Error::new(9, None, format!("元数据中标识为{key}的字段不存在"))
}

// ---------------------------------------------------------------- master data

struct MasterForm {
    id: &'static str,
    id_key: &'static str,
    kind: BaseKind,
}

const MASTER_FORMS: [MasterForm; 7] = [
    MasterForm {
        id: "BD_MATERIAL",
        id_key: "FMaterialId",
        kind: BaseKind::Material,
    },
    MasterForm {
        id: "BD_Supplier",
        id_key: "FSupplierId",
        kind: BaseKind::Supplier,
    },
    MasterForm {
        id: "BD_Customer",
        id_key: "FCUSTID",
        kind: BaseKind::Customer,
    },
    MasterForm {
        id: "BD_STOCK",
        id_key: "FStockId",
        kind: BaseKind::Stock,
    },
    MasterForm {
        id: "ORG_Organizations",
        id_key: "FOrgID",
        kind: BaseKind::Org,
    },
    MasterForm {
        id: "BD_Currency",
        id_key: "FCURRENCYID",
        kind: BaseKind::Currency,
    },
    MasterForm {
        id: "BD_UNIT",
        id_key: "FUNITID",
        kind: BaseKind::Unit,
    },
];

fn master_cell(master: &MasterData, form: &MasterForm, row: &K3Ref, key: &str) -> Result<Cell, ()> {
    let (base, sub) = split_sub(key)?;
    let base = base.to_ascii_lowercase();
    let org = K3Ref {
        id: 1,
        number: "100".into(),
        name: master
            .orgs
            .first()
            .map(|o| o.name.clone())
            .unwrap_or_default(),
    };
    Ok(match base.as_str() {
        b if b == form.id_key.to_ascii_lowercase() || b == "fid" => Cell::Int(row.id),
        "fnumber" => Cell::Text(row.number.clone()),
        "fname" | "fshortname" => Cell::Text(row.name.clone()),
        "fdocumentstatus" => Cell::Text("C".into()),
        "fforbidstatus" => Cell::Text("A".into()),
        "fuseorgid" | "fcreateorgid" if form.kind != BaseKind::Org => ref_cell(Some(&org), sub),
        "fspecification" if form.kind == BaseKind::Material => Cell::Text(
            master
                .material(&row.number)
                .map(|m| m.spec_name.clone())
                .unwrap_or_default(),
        ),
        "fbarcode" if form.kind == BaseKind::Material => Cell::Text(
            master
                .material(&row.number)
                .map(|m| m.barcode.clone())
                .unwrap_or_default(),
        ),
        "fbaseunitid" if form.kind == BaseKind::Material => {
            let unit = master.units.first().map(|u| K3Ref {
                id: u.k3_id,
                number: u.number.clone(),
                name: u.name.clone(),
            });
            ref_cell(unit.as_ref(), sub)
        }
        "fcode" if form.kind == BaseKind::Currency => Cell::Text(match row.number.as_str() {
            "PRE001" => "CNY".into(),
            "PRE002" => "HKD".into(),
            "PRE007" => "USD".into(),
            other => other.to_string(),
        }),
        _ => return Err(()),
    })
}

// ---------------------------------------------------------------- bills

enum BillField {
    Id,
    BillNo,
    Status,
    Created,
    Modified,
    Approved,
    FormId,
    Header(&'static FieldDef, Sub),
    EntryId,
    Seq,
    Entry(&'static FieldDef, Sub),
}

impl BillField {
    fn is_entry(&self) -> bool {
        matches!(
            self,
            BillField::EntryId | BillField::Seq | BillField::Entry(..)
        )
    }
}

fn bill_field(form: &'static FormDef, key: &str) -> Option<BillField> {
    let lower = key.to_ascii_lowercase();
    let entity = form.entity.key.to_ascii_lowercase();
    match lower.as_str() {
        "fid" => return Some(BillField::Id),
        "fbillno" => return Some(BillField::BillNo),
        "fdocumentstatus" => return Some(BillField::Status),
        "fcreatedate" => return Some(BillField::Created),
        "fmodifydate" => return Some(BillField::Modified),
        "fapprovedate" => return Some(BillField::Approved),
        "fformid" => return Some(BillField::FormId),
        "fentryid" => return Some(BillField::EntryId),
        "fseq" => return Some(BillField::Seq),
        _ => {}
    }
    if let Some(rest) = lower.strip_prefix(&format!("{entity}_")) {
        match rest {
            "fentryid" => return Some(BillField::EntryId),
            "fseq" => return Some(BillField::Seq),
            _ => {}
        }
    }
    let (base, sub) = split_sub(key).ok()?;
    let needs_base = |d: &FieldDef| sub == Sub::Id || matches!(d.kind, FieldKind::Base(_));
    if let Some(d) = form.header_field(base).filter(|d| needs_base(d)) {
        return Some(BillField::Header(d, sub));
    }
    form.entry_field(base)
        .filter(|d| needs_base(d))
        .map(|d| BillField::Entry(d, sub))
}

fn model_cell(
    obj: &Map<String, Value>,
    def: &FieldDef,
    sub: Sub,
    form: &FormDef,
    master: &MasterData,
) -> Cell {
    let value = member(obj, def.key);
    match def.kind {
        FieldKind::Base(kind) => {
            let spec = value.and_then(|v| basedata::ref_spec(v).ok().flatten());
            let resolved = spec.and_then(|s| basedata::resolve(master, kind, form.bill_types, &s));
            ref_cell(resolved.as_ref(), sub)
        }
        FieldKind::Date => match value {
            Some(Value::String(s)) => clock::parse_china(s)
                .map(Cell::Date)
                .unwrap_or(Cell::Text(s.clone())),
            _ => Cell::Null,
        },
        FieldKind::Decimal => match value {
            Some(Value::Number(n)) => n.as_f64().map(Cell::Num).unwrap_or(Cell::Null),
            Some(Value::String(s)) => s.trim().parse().map(Cell::Num).unwrap_or(Cell::Null),
            _ => Cell::Null,
        },
        FieldKind::Text => match value {
            Some(Value::String(s)) => Cell::Text(s.clone()),
            Some(Value::Number(n)) => Cell::Text(n.to_string()),
            Some(Value::Bool(b)) => Cell::Text(b.to_string()),
            _ => Cell::Null,
        },
    }
}

struct BillRow<'a> {
    bill: &'a SavedBill,
    model: Option<&'a Map<String, Value>>,
    entry: Option<(usize, Option<&'a Map<String, Value>>)>,
}

fn bill_cell(row: &BillRow<'_>, field: &BillField, master: &MasterData) -> Cell {
    let b = row.bill;
    let empty = Map::new();
    match field {
        BillField::Id => Cell::Int(b.id),
        BillField::BillNo => Cell::Text(b.number.clone()),
        BillField::Status => Cell::Text(b.status.into()),
        BillField::Created => Cell::Date(b.created),
        BillField::Modified => Cell::Date(b.modified),
        BillField::Approved => {
            if b.status == "C" {
                Cell::Date(b.modified)
            } else {
                Cell::Null
            }
        }
        BillField::FormId => Cell::Text(b.form.id.into()),
        BillField::Header(def, sub) => {
            model_cell(row.model.unwrap_or(&empty), def, *sub, b.form, master)
        }
        BillField::EntryId => match row.entry {
            Some((i, _)) => Cell::Int(b.first_entry_id + i as i64),
            None => Cell::Null,
        },
        BillField::Seq => match row.entry {
            Some((i, _)) => Cell::Int(i as i64 + 1),
            None => Cell::Null,
        },
        BillField::Entry(def, sub) => match row.entry {
            Some((_, Some(entry))) => model_cell(entry, def, *sub, b.form, master),
            _ => Cell::Null,
        },
    }
}

/// Bill numbers or ids an expression pins down, for an index lookup
/// instead of a pass over every bill.
#[derive(Default)]
struct Candidates {
    numbers: Vec<String>,
    ids: Vec<i64>,
}

fn candidates(expr: &Expr) -> Option<Candidates> {
    match expr {
        Expr::And(a, b) => candidates(a).or_else(|| candidates(b)),
        Expr::Or(a, b) => {
            let (mut x, y) = (candidates(a)?, candidates(b)?);
            x.numbers.extend(y.numbers);
            x.ids.extend(y.ids);
            Some(x)
        }
        Expr::Cmp(f, Op::Eq, lit) => pinned(f, std::slice::from_ref(lit)),
        Expr::In(f, lits, false) => pinned(f, lits),
        _ => None,
    }
}

fn pinned(field: &str, lits: &[Lit]) -> Option<Candidates> {
    let mut c = Candidates::default();
    if field.eq_ignore_ascii_case("FBillNo") {
        c.numbers = lits.iter().map(Lit::text).collect();
    } else if field.eq_ignore_ascii_case("FID") {
        c.ids = lits.iter().filter_map(|l| l.text().parse().ok()).collect();
    } else {
        return None;
    }
    Some(c)
}

// ---------------------------------------------------------------- the query

struct Query {
    form_id: String,
    keys: Vec<String>,
    filter: Option<Expr>,
    order: Vec<(String, bool)>,
    top: usize,
    start: usize,
    limit: usize,
}

fn number_of(v: Option<&Value>) -> Option<i64> {
    match v? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn parse_query(data: &Value, max_limit: u64) -> Result<Query, K3Error> {
    let Some(obj) = data.as_object() else {
        return Err(K3Error::new(8, Some("data"), "data必须是JSON对象"));
    };
    let form_id = match member(obj, "FormId") {
        Some(Value::String(s)) if !s.trim().is_empty() => s.trim().to_string(),
        _ => return Err(K3Error::new(5, Some("FormId"), "单据标识为空（FormId）")),
    };
    let keys: Vec<String> = match member(obj, "FieldKeys") {
        Some(Value::String(s)) => s
            .split(',')
            .map(|k| k.trim().to_string())
            .filter(|k| !k.is_empty())
            .collect(),
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|v| v.as_str().map(|s| s.trim().to_string()))
            .collect(),
        _ => Vec::new(),
    };
    if keys.is_empty() {
        return Err(K3Error::new(8, Some("FieldKeys"), "FieldKeys不能为空"));
    }
    let text = match member(obj, "FilterString") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(items)) => {
            filter::from_array(items).map_err(|e| K3Error::new(8, Some("FilterString"), e))?
        }
        Some(other) => {
            return Err(K3Error::new(
                8,
                Some("FilterString"),
                format!("FilterString格式错误: {other}"),
            ));
        }
    };
    let filter = filter::parse(&text)
        .map_err(|e| K3Error::new(8, Some("FilterString"), format!("过滤条件错误: {e}")))?;
    let order = match member(obj, "OrderString") {
        Some(Value::String(s)) => s
            .split(',')
            .filter_map(|part| {
                let mut words = part.split_whitespace();
                let field = words.next()?.to_string();
                let desc = words.next().is_some_and(|w| w.eq_ignore_ascii_case("desc"));
                Some((field, desc))
            })
            .collect(),
        _ => Vec::new(),
    };
    // 0 or more than the documented 10000 means 10000. UNCONFIRMED: see
    // docs/protocol-choices.md.
    let limit = match number_of(member(obj, "Limit")) {
        None | Some(0) => max_limit as usize,
        Some(n) if n < 0 => max_limit as usize,
        Some(n) => (n as u64).min(max_limit) as usize,
    };
    Ok(Query {
        form_id,
        keys,
        filter,
        order,
        top: number_of(member(obj, "TopRowCount"))
            .filter(|n| *n > 0)
            .map(|n| n as usize)
            .unwrap_or(usize::MAX),
        start: number_of(member(obj, "StartRow"))
            .filter(|n| *n > 0)
            .map(|n| n as usize)
            .unwrap_or(0),
        limit,
    })
}

/// Runs a query; rows are arrays (`as_objects` false) or objects keyed by
/// field key (BillQuery).
pub(crate) fn execute(state: &SimState, data: &Value, as_objects: bool) -> Value {
    match run(state, data) {
        Ok((keys, rows)) => {
            if as_objects {
                Value::Array(
                    rows.into_iter()
                        .map(|row| Value::Object(keys.iter().cloned().zip(row).collect()))
                        .collect(),
                )
            } else {
                Value::Array(rows.into_iter().map(Value::Array).collect())
            }
        }
        Err(e) => query_failure(e),
    }
}

type Rows = (Vec<String>, Vec<Vec<Value>>);

fn run(state: &SimState, data: &Value) -> Result<Rows, K3Error> {
    let q = parse_query(data, state.config.limits.k3_max_limit)?;
    let mut referenced: Vec<String> = q.keys.clone();
    if let Some(f) = &q.filter {
        f.fields(&mut referenced);
    }
    referenced.extend(q.order.iter().map(|(f, _)| f.clone()));
    let master = &state.master;

    if let Some(mf) = MASTER_FORMS
        .iter()
        .find(|m| m.id.eq_ignore_ascii_case(&q.form_id))
    {
        let probe = K3Ref {
            id: 0,
            number: String::new(),
            name: String::new(),
        };
        for key in &referenced {
            if master_cell(master, mf, &probe, key).is_err() {
                return Err(unknown_field(key));
            }
        }
        let records = basedata::records(master, mf.kind, &[]);
        let get_cell = |r: &K3Ref, key: &str| master_cell(master, mf, r, key).unwrap_or(Cell::Null);
        let mut rows: Vec<&K3Ref> = records
            .iter()
            .filter(|r| {
                q.filter
                    .as_ref()
                    .is_none_or(|f| eval(f, &|k| get_cell(r, k)))
            })
            .collect();
        sort_rows(&mut rows, &q.order, |r, k| get_cell(r, k));
        let page = page(rows, &q);
        let out = page
            .iter()
            .map(|r| q.keys.iter().map(|k| get_cell(r, k).to_json()).collect())
            .collect();
        return Ok((q.keys.clone(), out));
    }

    let Some(form) = bill_form(&q.form_id) else {
        return Err(K3Error::new(
            9,
            Some("FormId"),
            format!("业务对象“{}”不存在或模拟器未实现", q.form_id),
        ));
    };
    let mut fields = Vec::with_capacity(referenced.len());
    for key in &referenced {
        match bill_field(form, key) {
            Some(f) => fields.push((key.to_ascii_lowercase(), f)),
            None => return Err(unknown_field(key)),
        }
    }
    let by_entry = fields.iter().any(|(_, f)| f.is_entry());
    let needs_model = fields
        .iter()
        .any(|(_, f)| matches!(f, BillField::Header(..) | BillField::Entry(..)));
    let lookup = |key: &str| -> Option<&BillField> {
        let lower = key.to_ascii_lowercase();
        fields.iter().find(|(k, _)| *k == lower).map(|(_, f)| f)
    };

    let store = lock(&state.k3);
    let bills: Vec<&SavedBill> = match q.filter.as_ref().and_then(candidates) {
        Some(c) => {
            let mut found: Vec<&SavedBill> = c
                .numbers
                .iter()
                .filter_map(|n| store.by_number(form, n))
                .chain(c.ids.iter().filter_map(|id| store.by_id(form, *id)))
                .collect();
            found.sort_by_key(|b| b.id);
            found.dedup_by_key(|b| b.id);
            found
        }
        None => store.bills(form).iter().collect(),
    };
    let models: Vec<Option<Map<String, Value>>> = bills
        .iter()
        .map(|b| {
            needs_model
                .then(|| serde_json::from_str::<Value>(&b.model_json()).ok())
                .flatten()
                .and_then(|v| match v {
                    Value::Object(o) => Some(o),
                    _ => None,
                })
        })
        .collect();
    let mut rows: Vec<BillRow<'_>> = Vec::new();
    for (bill, model) in bills.iter().zip(&models) {
        if by_entry {
            let entries: Vec<Option<&Map<String, Value>>> =
                match model.as_ref().and_then(|m| member(m, form.entity.key)) {
                    Some(Value::Array(items)) => items.iter().map(Value::as_object).collect(),
                    _ => (0..bill.entry_count).map(|_| None).collect(),
                };
            for (i, entry) in entries.into_iter().enumerate() {
                rows.push(BillRow {
                    bill,
                    model: model.as_ref(),
                    entry: Some((i, entry)),
                });
            }
        } else {
            rows.push(BillRow {
                bill,
                model: model.as_ref(),
                entry: None,
            });
        }
    }
    let get_cell = |row: &BillRow<'_>, key: &str| match lookup(key) {
        Some(f) => bill_cell(row, f, master),
        None => Cell::Null,
    };
    rows.retain(|row| {
        q.filter
            .as_ref()
            .is_none_or(|f| eval(f, &|k| get_cell(row, k)))
    });
    sort_rows(&mut rows, &q.order, |r, k| get_cell(r, k));
    let page = page(rows, &q);
    let out = page
        .iter()
        .map(|row| q.keys.iter().map(|k| get_cell(row, k).to_json()).collect())
        .collect();
    Ok((q.keys.clone(), out))
}

fn sort_rows<T>(rows: &mut [T], order: &[(String, bool)], get: impl Fn(&T, &str) -> Cell) {
    if order.is_empty() {
        return;
    }
    rows.sort_by(|a, b| {
        for (key, desc) in order {
            let (x, y) = (get(a, key), get(b, key));
            let o = match (&x, y.as_text()) {
                (_, None) => Ordering::Greater,
                (x, Some(t)) => {
                    let lit = match &y {
                        Cell::Int(i) => Lit::Num(*i as f64),
                        Cell::Num(n) => Lit::Num(*n),
                        _ => Lit::Text(t),
                    };
                    x.compare(&lit).unwrap_or(Ordering::Less)
                }
            };
            let o = if *desc { o.reverse() } else { o };
            if o != Ordering::Equal {
                return o;
            }
        }
        Ordering::Equal
    });
}

fn page<T>(rows: Vec<T>, q: &Query) -> Vec<T> {
    rows.into_iter()
        .take(q.top)
        .skip(q.start)
        .take(q.limit)
        .collect()
}
