//! China Standard Time (GMT+8, no daylight saving) in the
//! `yyyy-MM-dd HH:mm:ss` form that TOP/奇门, 吉客云 and every query window of
//! the seed systems use, whatever the host machine's time zone.

use std::fmt;

use chrono::{DateTime, FixedOffset, NaiveDateTime, TimeZone};

/// The one format: `2024-01-01 12:00:00`.
pub const FORMAT: &str = "%Y-%m-%d %H:%M:%S";

fn china() -> FixedOffset {
    // +08:00 is inside the ±24 h chrono accepts.
    FixedOffset::east_opt(8 * 3600).expect("+08:00 is a valid offset")
}

/// Formats a Unix time (seconds) as China time. A time chrono cannot
/// represent (hundreds of thousands of years away) formats as the epoch.
pub fn format(unix_secs: i64) -> String {
    DateTime::from_timestamp(unix_secs, 0)
        .unwrap_or_default()
        .with_timezone(&china())
        .format(FORMAT)
        .to_string()
}

/// The current time in China.
pub fn now() -> String {
    format(crate::clock::now_unix_secs())
}

/// A text that is not a China time in the one format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadTime(pub String);

impl fmt::Display for BadTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "'{}' is not a time of the form yyyy-MM-dd HH:mm:ss",
            self.0
        )
    }
}

impl std::error::Error for BadTime {}

/// Parses `yyyy-MM-dd HH:mm:ss` China time into a Unix time (seconds).
///
/// # Errors
/// [`BadTime`] with the text when it does not have that form.
pub fn parse(text: &str) -> Result<i64, BadTime> {
    let naive =
        NaiveDateTime::parse_from_str(text.trim(), FORMAT).map_err(|_| BadTime(text.to_owned()))?;
    china()
        .from_local_datetime(&naive)
        .single()
        .map(|t| t.timestamp())
        .ok_or_else(|| BadTime(text.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_in_gmt_plus_8() {
        // 1700000000 = 2023-11-14 22:13:20 UTC.
        assert_eq!(format(1_700_000_000), "2023-11-15 06:13:20");
        assert_eq!(format(0), "1970-01-01 08:00:00");
    }

    #[test]
    fn parses_what_it_formats() {
        assert_eq!(parse("2023-11-15 06:13:20"), Ok(1_700_000_000));
        assert_eq!(parse(" 2016-01-01 12:00:00 "), Ok(1_451_620_800));
        let t = 1_451_620_800;
        assert_eq!(parse(&format(t)), Ok(t));
    }

    #[test]
    fn refuses_other_forms() {
        assert!(parse("2023-11-15T06:13:20").is_err());
        assert!(parse("2023-11-15").is_err());
        assert_eq!(
            parse("yesterday").map_err(|e| e.to_string()),
            Err("'yesterday' is not a time of the form yyyy-MM-dd HH:mm:ss".to_owned())
        );
    }
}
