//! weft's template filters: typed output, dates, rounding, lookups.
//!
//! They are registered on top of minijinja's built-ins (`upper`, `trim`,
//! `replace`, `length`, …); `int`, `bool`, `string`, `round` and `default`
//! replace the built-ins of the same name with the semantics business data
//! needs (numeric strings, `null` fields, decimal rounding).

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

use chrono::{DateTime, FixedOffset};
use minijinja::value::{Kwargs, Rest, ValueKind};
use minijinja::{Environment, Error, ErrorKind, Value};
use time::UtcOffset;

use super::lookup::{LookupStore, Miss};
use super::values::key_string;
use crate::clock;

/// What filters need to know about the scheme they run for.
#[derive(Debug)]
pub(crate) struct FilterContext {
    /// The scheme's zone: naive date-times are read in it and written in it
    /// unless `tz=` says otherwise.
    pub timezone: UtcOffset,
    pub lookups: Arc<LookupStore>,
    /// Names of the scheme's live tables, to tell "not loaded yet" from
    /// "no such table".
    pub live: Vec<String>,
    /// strftime patterns parsed so far: parsing one costs as much as
    /// formatting with it.
    pub patterns: RwLock<HashMap<String, Arc<clock::Pattern>>>,
}

/// How many distinct patterns are kept (they come from templates, so a
/// scheme has a handful; the bound only guards computed patterns).
const MAX_PATTERNS: usize = 64;

impl FilterContext {
    pub fn new(timezone: UtcOffset, lookups: Arc<LookupStore>, live: Vec<String>) -> Self {
        Self {
            timezone,
            lookups,
            live,
            patterns: RwLock::default(),
        }
    }

    fn pattern(&self, pattern: &str) -> Result<Arc<clock::Pattern>, String> {
        let cached = self
            .patterns
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(pattern)
            .cloned();
        if let Some(p) = cached {
            return Ok(p);
        }
        let parsed = Arc::new(clock::Pattern::new(pattern)?);
        let mut patterns = self
            .patterns
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        if patterns.len() < MAX_PATTERNS {
            patterns.insert(pattern.to_owned(), parsed.clone());
        }
        Ok(parsed)
    }
}

/// The names of the filters weft adds (or replaces).
pub(crate) const NAMES: &[&str] = &[
    "number",
    "int",
    "bool",
    "string",
    "datetime",
    "date",
    "timestamp",
    "round",
    "concat",
    "lookup",
    "default",
    "d",
];

/// Registers every weft filter, and the `concat` function, on `env`.
pub(crate) fn register(env: &mut Environment<'static>, cx: &Arc<FilterContext>) {
    env.add_filter("number", number);
    env.add_filter("int", int);
    env.add_filter("bool", boolean);
    env.add_filter("string", string);
    let c = cx.clone();
    env.add_filter(
        "datetime",
        move |v: Value, fmt: Option<String>, kw: Kwargs| {
            datetime(&c, &v, fmt.as_deref(), &kw, "datetime", "%Y-%m-%d %H:%M:%S")
        },
    );
    let c = cx.clone();
    env.add_filter("date", move |v: Value, fmt: Option<String>, kw: Kwargs| {
        datetime(&c, &v, fmt.as_deref(), &kw, "date", "%Y-%m-%d")
    });
    let c = cx.clone();
    env.add_filter("timestamp", move |v: Value, unit: Option<String>| {
        timestamp(&c, &v, unit.as_deref())
    });
    env.add_filter("round", round);
    env.add_filter("concat", |v: Value, rest: Rest<Value>| {
        concat(std::iter::once(&v).chain(rest.iter()))
    });
    env.add_function("concat", |rest: Rest<Value>| concat(rest.iter()));
    env.add_filter("default", default);
    env.add_filter("d", default);
    let c = cx.clone();
    env.add_filter("lookup", move |v: Value, table: String, kw: Kwargs| {
        lookup(&c, &v, &table, &kw)
    });
}

fn fail(filter: &str, message: impl std::fmt::Display) -> Error {
    Error::new(ErrorKind::InvalidOperation, format!("{filter}: {message}"))
}

/// A value as the user wrote it, for messages: strings quoted.
fn shown(v: &Value) -> String {
    match v.as_str() {
        Some(s) => format!("'{s}'"),
        None => v.to_string(),
    }
}

fn is_nothing(v: &Value) -> bool {
    v.is_undefined() || v.is_none()
}

/// A number read from a number or a numeric string.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Num {
    Int(i64),
    Float(f64),
}

impl Num {
    fn value(self) -> Value {
        match self {
            Self::Int(i) => Value::from(i),
            Self::Float(f) => Value::from(f),
        }
    }

    fn as_f64(self) -> f64 {
        match self {
            #[allow(clippy::cast_precision_loss)]
            Self::Int(i) => i as f64,
            Self::Float(f) => f,
        }
    }
}

/// Reads a number; `None` for undefined, `none` and blank strings (how
/// Chinese ERP APIs commonly say "no value").
fn read_number(filter: &str, v: &Value) -> Result<Option<Num>, Error> {
    match v.kind() {
        ValueKind::Undefined | ValueKind::None => Ok(None),
        ValueKind::Number => {
            if v.is_integer()
                && let Ok(i) = i64::try_from(v.clone())
            {
                return Ok(Some(Num::Int(i)));
            }
            f64::try_from(v.clone())
                .map(|f| Some(Num::Float(f)))
                .map_err(|_| fail(filter, format!("{v} is out of range")))
        }
        ValueKind::String => {
            let s = v.as_str().unwrap_or_default().trim();
            if s.is_empty() {
                return Ok(None);
            }
            let digits = s.strip_prefix(['-', '+']).unwrap_or(s);
            if !digits.is_empty()
                && digits.bytes().all(|b| b.is_ascii_digit())
                && let Ok(i) = s.parse::<i64>()
            {
                return Ok(Some(Num::Int(i)));
            }
            match s.parse::<f64>() {
                Ok(f) if f.is_finite() => Ok(Some(Num::Float(f))),
                _ => Err(fail(filter, format!("{} is not a number", shown(v)))),
            }
        }
        _ => Err(fail(filter, format!("{} is not a number", shown(v)))),
    }
}

/// The `default=` keyword, which may be `none` itself (`Option<Value>`
/// would read `default=none` as absent); no other keyword is accepted.
fn keyword_default(kw: &Kwargs) -> Result<Option<Value>, Error> {
    let d = if kw.has("default") {
        Some(kw.get::<Value>("default")?)
    } else {
        None
    };
    kw.assert_all_used()?;
    Ok(d)
}

/// The `default=` keyword of the number filters, read with the filter.
fn number_default(filter: &str, kw: &Kwargs) -> Result<Option<Num>, Error> {
    let d = keyword_default(kw)?;
    match d {
        Some(d) => read_number(filter, &d),
        None => Ok(None),
    }
}

/// `number`: a number, from a number or a numeric string (`"12.0000"` →
/// `12.0`, `"12"` → `12`). Undefined, `none` and `""` give `none`, or
/// `default=` when given.
fn number(v: Value, kw: Kwargs) -> Result<Value, Error> {
    let d = number_default("number", &kw)?;
    Ok(match read_number("number", &v)?.or(d) {
        Some(n) => n.value(),
        None => Value::from(()),
    })
}

/// [`number`] without keywords, for [`super::path`]; `None` where the
/// filter fails (its message is the filter's to give).
pub(crate) fn number_of(v: &Value) -> Option<Value> {
    match read_number("number", v) {
        Ok(Some(n)) => Some(n.value()),
        Ok(None) => Some(Value::from(())),
        Err(_) => None,
    }
}

/// `int`: a whole number; `"12.0000"` → `12`, `"12.5"` is an error (round
/// it first: `round | int`).
fn int(v: Value, kw: Kwargs) -> Result<Value, Error> {
    let d = number_default("int", &kw)?;
    match read_number("int", &v)?.or(d) {
        None => Ok(Value::from(())),
        Some(Num::Int(i)) => Ok(Value::from(i)),
        Some(Num::Float(f)) => {
            if f.fract() == 0.0 && f.abs() < 9.0e15 {
                #[allow(clippy::cast_possible_truncation)]
                Ok(Value::from(f as i64))
            } else {
                Err(fail("int", format!("{} is not a whole number", shown(&v))))
            }
        }
    }
}

/// `bool`: `true`/`false` from booleans, numbers (0 is false) and the
/// strings `true false 1 0 yes no y n 是 否` (any case); `none` for
/// undefined, `none` and `""`.
fn boolean(v: Value) -> Result<Value, Error> {
    match v.kind() {
        ValueKind::Undefined | ValueKind::None => Ok(Value::from(())),
        ValueKind::Bool => Ok(v),
        ValueKind::Number => Ok(Value::from(v.is_true())),
        ValueKind::String => {
            let s = v.as_str().unwrap_or_default().trim().to_lowercase();
            match s.as_str() {
                "" => Ok(Value::from(())),
                "true" | "1" | "yes" | "y" | "是" => Ok(Value::from(true)),
                "false" | "0" | "no" | "n" | "否" => Ok(Value::from(false)),
                _ => Err(fail("bool", format!("{} is not a boolean", shown(&v)))),
            }
        }
        _ => Err(fail("bool", format!("{} is not a boolean", shown(&v)))),
    }
}

/// `string`: the value as a string; undefined and `none` give `""`.
fn string(v: Value) -> Value {
    if is_nothing(&v) {
        Value::from("")
    } else if v.kind() == ValueKind::String {
        v
    } else {
        Value::from(v.to_string())
    }
}

/// Reads a date-time: Unix seconds (or milliseconds) as a number or a
/// 10/13-digit string, or a date-time string (see `clock::parse_datetime`).
fn read_datetime(
    filter: &str,
    v: &Value,
    tz: UtcOffset,
) -> Result<Option<DateTime<FixedOffset>>, Error> {
    let bad = || fail(filter, format!("{} is not a date-time", shown(v)));
    match v.kind() {
        ValueKind::Undefined | ValueKind::None => Ok(None),
        ValueKind::Number => {
            let n = read_number(filter, v)?.ok_or_else(bad)?;
            clock::from_unix(n.as_f64(), tz).map(Some).ok_or_else(bad)
        }
        ValueKind::String => {
            let s = v.as_str().unwrap_or_default().trim();
            if s.is_empty() {
                return Ok(None);
            }
            if matches!(s.len(), 10 | 13) && s.bytes().all(|b| b.is_ascii_digit()) {
                let n: f64 = s.parse().map_err(|_| bad())?;
                return clock::from_unix(n, tz).map(Some).ok_or_else(bad);
            }
            clock::parse_datetime(s, tz).map(Some).ok_or_else(bad)
        }
        _ => Err(bad()),
    }
}

/// `datetime(fmt='%Y-%m-%d %H:%M:%S', tz=<scheme zone>)` and
/// `date(fmt='%Y-%m-%d', tz=…)`: a date-time written with a strftime
/// pattern in a zone. Undefined, `none` and `""` give `none`.
fn datetime(
    cx: &FilterContext,
    v: &Value,
    fmt: Option<&str>,
    kw: &Kwargs,
    filter: &str,
    default_fmt: &str,
) -> Result<Value, Error> {
    let fmt_kw: Option<String> = kw.get("fmt")?;
    let tz_kw: Option<String> = kw.get("tz")?;
    kw.assert_all_used()?;
    let pattern = fmt.or(fmt_kw.as_deref()).unwrap_or(default_fmt);
    let out_tz = match tz_kw {
        Some(name) => clock::parse_timezone(&name)
            .ok_or_else(|| fail(filter, format!("'{name}' is not a time zone")))?,
        None => cx.timezone,
    };
    let Some(t) = read_datetime(filter, v, cx.timezone)? else {
        return Ok(Value::from(()));
    };
    let t = t.with_timezone(&clock::fixed(out_tz));
    let pattern = cx.pattern(pattern).map_err(|m| fail(filter, m))?;
    Ok(Value::from(pattern.format(&t)))
}

/// `timestamp(unit='s')`: Unix seconds (or `'ms'`) of a date-time.
fn timestamp(cx: &FilterContext, v: &Value, unit: Option<&str>) -> Result<Value, Error> {
    let Some(t) = read_datetime("timestamp", v, cx.timezone)? else {
        return Ok(Value::from(()));
    };
    match unit.unwrap_or("s") {
        "s" => Ok(Value::from(t.timestamp())),
        "ms" => Ok(Value::from(t.timestamp_millis())),
        other => Err(fail(
            "timestamp",
            format!("unit '{other}' is neither 's' nor 'ms'"),
        )),
    }
}

/// `round(n=0)`: rounds half away from zero to `n` decimals, on the decimal
/// digits as written (`1.005 | round(2)` is `1.01`, not binary floating
/// point's `1.0`). `n=0` gives a whole number.
fn round(v: Value, n: Option<i32>) -> Result<Value, Error> {
    let n = n.unwrap_or(0);
    let places = u32::try_from(n)
        .ok()
        .filter(|p| *p <= 12)
        .ok_or_else(|| fail("round", format!("{n} decimals is not between 0 and 12")))?;
    let Some(num) = read_number("round", &v)? else {
        return Ok(Value::from(()));
    };
    match num {
        Num::Int(i) => Ok(Value::from(i)),
        Num::Float(f) => {
            let r = round_decimal(f, places);
            if places == 0 && r.abs() < 9.0e15 {
                #[allow(clippy::cast_possible_truncation)]
                return Ok(Value::from(r as i64));
            }
            Ok(Value::from(r))
        }
    }
}

/// Rounds the shortest decimal representation of `x` half away from zero.
pub(crate) fn round_decimal(x: f64, places: u32) -> f64 {
    if !x.is_finite() {
        return x;
    }
    // `{}` writes the shortest digits that read back as `x`, never an
    // exponent: the number as a person would have typed it.
    let text = format!("{}", x.abs());
    let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
    let places = places as usize;
    if frac.len() <= places {
        return x;
    }
    let mut digits: Vec<u8> = int.bytes().chain(frac.bytes().take(places)).collect();
    if frac.as_bytes()[places] >= b'5' {
        let mut i = digits.len();
        loop {
            if i == 0 {
                digits.insert(0, b'1');
                break;
            }
            i -= 1;
            if digits[i] == b'9' {
                digits[i] = b'0';
            } else {
                digits[i] += 1;
                break;
            }
        }
    }
    let split = digits.len() - places;
    let mut out = String::from_utf8_lossy(&digits[..split]).into_owned();
    if places > 0 {
        out.push('.');
        out.push_str(&String::from_utf8_lossy(&digits[split..]));
    }
    out.parse::<f64>().map_or(x, |r| r.copysign(x))
}

/// `concat(a, b, …)`: the values written one after the other; undefined
/// and `none` write nothing.
fn concat<'a>(values: impl Iterator<Item = &'a Value>) -> Result<Value, Error> {
    let mut out = String::new();
    for v in values {
        if v.is_kwargs() {
            return Err(fail("concat", "takes no keyword arguments"));
        }
        if !is_nothing(v) {
            match v.as_str() {
                Some(s) => out.push_str(s),
                None => out.push_str(&v.to_string()),
            }
        }
    }
    Ok(Value::from(out))
}

/// `default(other='', boolean=false)`: `other` when the value is undefined
/// or `none` (JSON `null`), and with `boolean=true` also when it is false,
/// empty or zero.
fn default(v: Value, other: Option<Value>, lax: Option<bool>) -> Value {
    let missing = is_nothing(&v) || (lax.unwrap_or(false) && !v.is_true());
    if missing {
        other.unwrap_or_else(|| Value::from(""))
    } else {
        v
    }
}

/// `lookup('table', default=…)`: the value of the key in the table (the
/// scheme's tables, then its live tables, then the tenant's). A missing key
/// without `default=` is an error naming table and key: the record goes to
/// the exception queue rather than to the target with a wrong value.
fn lookup(cx: &FilterContext, v: &Value, table: &str, kw: &Kwargs) -> Result<Value, Error> {
    let fallback = keyword_default(kw)?;
    let Some(key) = key_string(v) else {
        return fallback.ok_or_else(|| {
            fail(
                "lookup",
                format!("no key to look up in table '{table}' (the value is empty)"),
            )
        });
    };
    match cx.lookups.get(table, &key) {
        Ok(found) => Ok(found),
        Err(Miss::NoKey) => {
            fallback.ok_or_else(|| fail("lookup", format!("table '{table}' has no key '{key}'")))
        }
        Err(Miss::NoTable) if cx.live.iter().any(|n| n == table) => Err(fail(
            "lookup",
            format!("live table '{table}' has not been loaded"),
        )),
        Err(Miss::NoTable) => Err(fail(
            "lookup",
            format!("there is no lookup table '{table}'"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_decimals_as_written() {
        assert!((round_decimal(1.005, 2) - 1.01).abs() < 1e-12);
        assert!((round_decimal(2.675, 2) - 2.68).abs() < 1e-12);
        assert!((round_decimal(-1.5, 0) - -2.0).abs() < 1e-12);
        assert!((round_decimal(9.995, 2) - 10.0).abs() < 1e-12);
        assert!((round_decimal(0.125, 5) - 0.125).abs() < 1e-12);
        assert!((round_decimal(99.5, 0) - 100.0).abs() < 1e-12);
    }
}
