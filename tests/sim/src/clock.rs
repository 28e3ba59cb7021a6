//! China time (GMT+8, no daylight saving), the zone every seed system's
//! `yyyy-MM-dd HH:mm:ss` timestamps are written in.

use std::time::{SystemTime, UNIX_EPOCH};

const CHINA_OFFSET: i64 = 8 * 3600;

pub fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

pub fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

// Howard Hinnant's days_from_civil / civil_from_days.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn parts(ts: i64) -> (i64, i64, i64, i64, i64, i64) {
    let local = ts + CHINA_OFFSET;
    let days = local.div_euclid(86_400);
    let secs = local.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    (y, m, d, secs / 3600, secs % 3600 / 60, secs % 60)
}

/// `yyyy-MM-dd HH:mm:ss` in China time.
pub fn format_china(ts: i64) -> String {
    let (y, mo, d, h, mi, s) = parts(ts);
    if !(0..=9999).contains(&y) {
        return format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}");
    }
    // Every rendered document carries several of these; filling in the
    // digits directly is several times quicker than `format!`.
    let mut text = *b"0000-00-00 00:00:00";
    for (at, width, value) in [
        (0, 4, y),
        (5, 2, mo),
        (8, 2, d),
        (11, 2, h),
        (14, 2, mi),
        (17, 2, s),
    ] {
        let mut v = value;
        for i in (at..at + width).rev() {
            text[i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
    }
    text.iter().map(|&b| char::from(b)).collect()
}

/// `yyyy-MM-dd` in China time.
pub fn format_china_date(ts: i64) -> String {
    let (y, mo, d, ..) = parts(ts);
    format!("{y:04}-{mo:02}-{d:02}")
}

/// `yyyy-MM-ddTHH:mm:ss`, the way K3Cloud returns dates.
pub fn format_k3(ts: i64) -> String {
    let (y, mo, d, h, mi, s) = parts(ts);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}")
}

/// Parses `yyyy-MM-dd HH:mm:ss` (China time). Also takes a `T` separator,
/// a fraction of a second, and a bare date (midnight), because clients of
/// the targets send all of them.
pub fn parse_china(text: &str) -> Option<i64> {
    let text = text.trim();
    let (date, time) = match text.find([' ', 'T']) {
        Some(i) => (&text[..i], Some(&text[i + 1..])),
        None => (text, None),
    };
    let mut ds = date.split(['-', '/']);
    let y: i64 = ds.next()?.parse().ok()?;
    let m: i64 = ds.next()?.parse().ok()?;
    let d: i64 = ds.next()?.parse().ok()?;
    if ds.next().is_some()
        || !(1..=12).contains(&m)
        || !(1..=31).contains(&d)
        || !(1..=9999).contains(&y)
    {
        return None;
    }
    let (mut h, mut mi, mut s) = (0, 0, 0);
    if let Some(time) = time {
        let time = time.split('.').next()?;
        let mut ts = time.split(':');
        h = ts.next()?.parse().ok()?;
        mi = ts.next()?.parse().ok()?;
        s = match ts.next() {
            Some(v) => v.parse().ok()?,
            None => 0,
        };
        if ts.next().is_some() || h > 23 || mi > 59 || s > 59 {
            return None;
        }
    }
    let days = days_from_civil(y, m, d);
    // Reject dates such as 2024-02-30 that the arithmetic would roll over.
    if civil_from_days(days) != (y, m, d) {
        return None;
    }
    Some(days * 86_400 + h * 3600 + mi * 60 + s - CHINA_OFFSET)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quick_formatting_matches_format() {
        let slow = |ts: i64| {
            let (y, mo, d, h, mi, s) = parts(ts);
            format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}")
        };
        for ts in (-70_000_000_000..300_000_000_000i64).step_by(7_777_777) {
            assert_eq!(format_china(ts), slow(ts), "{ts}");
        }
    }

    #[test]
    fn round_trips_china_time() {
        let ts = parse_china("2024-01-01 00:00:00").expect("valid");
        assert_eq!(ts, 1_704_038_400);
        assert_eq!(format_china(ts), "2024-01-01 00:00:00");
        assert_eq!(format_k3(ts + 3661), "2024-01-01T01:01:01");
        assert_eq!(format_china_date(ts - 1), "2023-12-31");
        assert_eq!(parse_china("2024-01-01T00:00:00.123"), Some(ts));
        assert_eq!(parse_china("2024-01-01"), Some(ts));
        assert_eq!(parse_china("2024-02-30 00:00:00"), None);
        assert_eq!(parse_china("2024-01-01 24:00:00"), None);
        assert_eq!(parse_china("yesterday"), None);
        assert_eq!(format_china(1_700_000_000), "2023-11-15 06:13:20");
    }
}
