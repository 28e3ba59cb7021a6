//! Time zones, durations and date-times as a scheme writes them.
//!
//! Schemes use `time` types in their public model (like the rest of weft);
//! formatting and parsing with strftime patterns (`%Y-%m-%d %H:%M:%S`, the
//! notation Chinese ERP documentation and Qeasy users know) goes through
//! `chrono`, which implements them fully.

use std::fmt::Write as _;
use std::time::Duration;

use chrono::format::{Item, StrftimeItems};
use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, Offset as _, TimeZone as _};
use time::{OffsetDateTime, UtcOffset};

/// The default time zone of a scheme: China Standard Time.
pub const CHINA: UtcOffset = match UtcOffset::from_hms(8, 0, 0) {
    Ok(o) => o,
    Err(_) => UtcOffset::UTC,
};

/// Zone names a scheme may give instead of an offset. Only zones without
/// daylight saving time: a scheme's zone is one fixed offset.
const ZONES: &[(&str, i32)] = &[
    ("UTC", 0),
    ("Etc/UTC", 0),
    ("GMT", 0),
    ("Z", 0),
    ("Asia/Shanghai", 8 * 3600),
    ("Asia/Chongqing", 8 * 3600),
    ("Asia/Harbin", 8 * 3600),
    ("PRC", 8 * 3600),
    ("Asia/Hong_Kong", 8 * 3600),
    ("Asia/Macau", 8 * 3600),
    ("Asia/Taipei", 8 * 3600),
    ("Asia/Singapore", 8 * 3600),
    ("Asia/Kuala_Lumpur", 8 * 3600),
    ("Asia/Manila", 8 * 3600),
    ("Asia/Tokyo", 9 * 3600),
    ("Asia/Seoul", 9 * 3600),
    ("Asia/Bangkok", 7 * 3600),
    ("Asia/Ho_Chi_Minh", 7 * 3600),
    ("Asia/Jakarta", 7 * 3600),
    ("Asia/Kolkata", 5 * 3600 + 1800),
    ("Asia/Dubai", 4 * 3600),
];

/// The names [`parse_timezone`] accepts besides `±HH:MM`.
pub fn zone_names() -> impl Iterator<Item = &'static str> {
    ZONES.iter().map(|(n, _)| *n)
}

/// Reads `+08:00`, `+0800`, `+08`, `-05:30`, `UTC` or one of the zone names
/// of [`zone_names`].
pub fn parse_timezone(s: &str) -> Option<UtcOffset> {
    let s = s.trim();
    if let Some((_, secs)) = ZONES.iter().find(|(n, _)| *n == s) {
        return UtcOffset::from_whole_seconds(*secs).ok();
    }
    let (sign, rest) = match s.as_bytes().first()? {
        b'+' => (1, &s[1..]),
        b'-' => (-1, &s[1..]),
        _ => return None,
    };
    let digits: String = rest.chars().filter(|c| *c != ':').collect();
    if !digits.chars().all(|c| c.is_ascii_digit()) || rest.matches(':').count() > 1 {
        return None;
    }
    let (h, m) = match digits.len() {
        1 | 2 => (digits.parse::<i32>().ok()?, 0),
        4 => (
            digits[..2].parse::<i32>().ok()?,
            digits[2..].parse::<i32>().ok()?,
        ),
        _ => return None,
    };
    if h > 14 || m > 59 {
        return None;
    }
    UtcOffset::from_whole_seconds(sign * (h * 3600 + m * 60)).ok()
}

/// Reads a duration: one or more `<number><unit>` with the units `d`, `h`,
/// `m`, `s` (`30d`, `12h`, `5m`, `90s`, `1h30m`), or `0`.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    if s == "0" {
        return Ok(Duration::ZERO);
    }
    let bad = || format!("'{s}' is not a duration (write e.g. 30d, 12h, 5m, 90s or 1h30m)");
    let mut total: u64 = 0;
    let mut number = String::new();
    let mut any = false;
    for c in s.chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let unit: u64 = match c {
            'd' => 86_400,
            'h' => 3_600,
            'm' => 60,
            's' => 1,
            _ => return Err(bad()),
        };
        let n: u64 = number.parse().map_err(|_| bad())?;
        total = n
            .checked_mul(unit)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(bad)?;
        number.clear();
        any = true;
    }
    if !any || !number.is_empty() {
        return Err(bad());
    }
    Ok(Duration::from_secs(total))
}

/// `time`'s offset as chrono's.
pub fn fixed(offset: UtcOffset) -> FixedOffset {
    FixedOffset::east_opt(offset.whole_seconds()).unwrap_or_else(|| chrono::Utc.fix())
}

/// A `time` date-time as chrono's, in `offset`.
pub fn to_chrono(t: OffsetDateTime, offset: UtcOffset) -> DateTime<FixedOffset> {
    let tz = fixed(offset);
    DateTime::from_timestamp(t.unix_timestamp(), t.nanosecond())
        .unwrap_or_default()
        .with_timezone(&tz)
}

/// A chrono date-time as `time`'s, keeping its offset.
pub fn from_chrono(t: DateTime<FixedOffset>) -> Option<OffsetDateTime> {
    let offset = UtcOffset::from_whole_seconds(t.offset().local_minus_utc()).ok()?;
    let base = OffsetDateTime::from_unix_timestamp(t.timestamp()).ok()?;
    base.replace_nanosecond(t.timestamp_subsec_nanos())
        .ok()
        .map(|t| t.to_offset(offset))
}

/// Naive forms [`parse_datetime`] tries, in order (the zone is the scheme's).
const NAIVE_DATETIMES: &[&str] = &[
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y/%m/%d %H:%M:%S%.f",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d %H:%M",
    "%Y%m%d%H%M%S",
];
const NAIVE_DATES: &[&str] = &["%Y-%m-%d", "%Y/%m/%d", "%Y%m%d"];

/// Reads a date-time string: RFC 3339 (`2024-01-01T08:00:00+08:00`), or a
/// date-time without zone, taken in `tz`: `2024-01-01 08:00:00` (fractions
/// allowed), `2024-01-01T08:00:00`, `2024/01/01 08:00:00`, `2024-01-01 08:00`,
/// `20240101080000`, or a date alone (`2024-01-01`, `2024/01/01`,
/// `20240101`) meaning its midnight.
pub fn parse_datetime(s: &str, tz: UtcOffset) -> Option<DateTime<FixedOffset>> {
    let s = s.trim();
    if let Some(naive) = common_naive(s) {
        return fixed(tz).from_local_datetime(&naive).single();
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t);
    }
    let zone = fixed(tz);
    let naive = NAIVE_DATETIMES
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
        .or_else(|| {
            NAIVE_DATES
                .iter()
                .find_map(|f| NaiveDate::parse_from_str(s, f).ok())
                .and_then(|d| d.and_hms_opt(0, 0, 0))
        })?;
    zone.from_local_datetime(&naive).single()
}

/// `2024-01-01 08:00:00` and `2024-01-01`, by far the most common forms in
/// Chinese ERP APIs, read without going through a format parser.
fn common_naive(s: &str) -> Option<NaiveDateTime> {
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let digits = b.get(r)?;
        digits.iter().try_fold(0u32, |n, d| {
            d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0'))
        })
    };
    let date_shape = b.len() >= 10 && b[4] == b'-' && b[7] == b'-';
    if !date_shape {
        return None;
    }
    let year = i32::try_from(num(0..4)?).ok()?;
    let date = NaiveDate::from_ymd_opt(year, num(5..7)?, num(8..10)?)?;
    match b.len() {
        10 => date.and_hms_opt(0, 0, 0),
        19 if b[10] == b' ' && b[13] == b':' && b[16] == b':' => {
            date.and_hms_opt(num(11..13)?, num(14..16)?, num(17..19)?)
        }
        _ => None,
    }
}

/// The date-time of a Unix timestamp in `tz`. Values of 10^11 and more are
/// taken as milliseconds (10^11 seconds is past the year 5000): several
/// Chinese ERP APIs give milliseconds.
pub fn from_unix(n: f64, tz: UtcOffset) -> Option<DateTime<FixedOffset>> {
    if !n.is_finite() {
        return None;
    }
    let millis = if n.abs() >= 1e11 { n } else { n * 1000.0 };
    // Whole milliseconds: sub-millisecond digits of a float are noise.
    #[allow(clippy::cast_possible_truncation)]
    let millis = millis.round() as i64;
    DateTime::from_timestamp_millis(millis).map(|t| t.with_timezone(&fixed(tz)))
}

/// A strftime pattern, parsed once.
#[derive(Debug, Clone)]
pub struct Pattern(Vec<Item<'static>>);

impl Pattern {
    /// Parses `pattern`, refusing what chrono cannot write (its `Display`
    /// would otherwise fail half way).
    pub fn new(pattern: &str) -> Result<Self, String> {
        StrftimeItems::new(pattern)
            .parse_to_owned()
            .map(Self)
            .map_err(|_| format!("'{pattern}' is not a valid strftime format"))
    }

    /// `t` written with this pattern.
    pub fn format(&self, t: &DateTime<FixedOffset>) -> String {
        let mut out = String::new();
        // Every item was checked by `new`; writing to a String cannot fail.
        let _ = write!(out, "{}", t.format_with_items(self.0.iter()));
        out
    }
}

/// Reads `incremental.start`: a date-time in the scheme's zone, or RFC 3339.
pub fn parse_start(s: &str, tz: UtcOffset) -> Option<OffsetDateTime> {
    parse_datetime(s, tz).and_then(from_chrono)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn format(t: &DateTime<FixedOffset>, pattern: &str) -> Result<String, String> {
        Pattern::new(pattern).map(|p| p.format(t))
    }

    #[test]
    fn timezones() {
        assert_eq!(parse_timezone("+08:00"), Some(CHINA));
        assert_eq!(parse_timezone("+0800"), Some(CHINA));
        assert_eq!(parse_timezone("+8"), Some(CHINA));
        assert_eq!(parse_timezone("Asia/Shanghai"), Some(CHINA));
        assert_eq!(parse_timezone("UTC"), Some(UtcOffset::UTC));
        assert_eq!(
            parse_timezone("-05:30").map(UtcOffset::whole_seconds),
            Some(-(5 * 3600 + 1800))
        );
        assert_eq!(parse_timezone("Europe/Paris"), None);
        assert_eq!(parse_timezone("+25:00"), None);
        assert_eq!(parse_timezone("08:00"), None);
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30d"), Ok(Duration::from_secs(30 * 86_400)));
        assert_eq!(parse_duration("12h"), Ok(Duration::from_secs(12 * 3_600)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5_400)));
        assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
        for bad in ["", "5", "m", "5x", "1.5h", "-5m", "5m3"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn datetimes() {
        let t = parse_datetime("2024-01-01 00:00:00", CHINA).expect("parses");
        assert_eq!(t.timestamp(), 1_704_038_400);
        let t = parse_datetime("2024-01-01", CHINA).expect("parses");
        assert_eq!(t.timestamp(), 1_704_038_400);
        let t = parse_datetime("2023-12-31T16:00:00Z", CHINA).expect("parses");
        assert_eq!(t.timestamp(), 1_704_038_400);
        assert!(parse_datetime("yesterday", CHINA).is_none());
        let t = from_unix(1_704_038_400.0, CHINA).expect("in range");
        assert_eq!(
            format(&t, "%Y-%m-%d %H:%M:%S").as_deref(),
            Ok("2024-01-01 00:00:00")
        );
        let t = from_unix(1_704_038_400_000.0, CHINA).expect("in range");
        assert_eq!(format(&t, "%Y%m%d").as_deref(), Ok("20240101"));
        assert!(format(&t, "%Q").is_err());
        let start = parse_start("2024-01-01 00:00:00", CHINA).expect("parses");
        assert_eq!(start.unix_timestamp(), 1_704_038_400);
        assert_eq!(start.offset(), CHINA);
    }
}
