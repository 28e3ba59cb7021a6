//! When a scheme runs by itself: every so often, or on a cron pattern.

use std::time::Duration;

use croner::Cron;
use croner::parser::{CronParser, Seconds};
use time::{OffsetDateTime, UtcOffset};

use crate::clock;

/// When a scheme runs without being asked.
///
/// YAML: `schedule: { every: 10m }` or `schedule: { cron: "0 */5 * * * *" }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Schedule {
    /// A fixed interval between run starts.
    Every(Duration),
    /// A cron pattern (5 fields, or 6 with seconds first), in the scheme's
    /// time zone.
    Cron(String),
}

impl Schedule {
    /// The first run time strictly after `after`, with cron patterns read in
    /// `timezone` (the scheme's). `None` when a cron pattern has no later
    /// occurrence or does not parse (it cannot, after [`Scheme::parse`]
    /// accepted it).
    ///
    /// [`Scheme::parse`]: crate::Scheme::parse
    pub fn next_after(&self, after: OffsetDateTime, timezone: UtcOffset) -> Option<OffsetDateTime> {
        match self {
            Self::Every(d) => after.checked_add((*d).try_into().ok()?),
            Self::Cron(pattern) => {
                let cron = parse_cron(pattern).ok()?;
                let start = clock::to_chrono(after, timezone);
                let next = cron.find_next_occurrence(&start, false).ok()?;
                clock::from_chrono(next)
            }
        }
    }
}

/// Parses a cron pattern as weft runs it: 5 fields (minute first) or 6
/// (second first), with the usual `*/5`, ranges, lists and names.
pub(crate) fn parse_cron(pattern: &str) -> Result<Cron, String> {
    CronParser::builder()
        .seconds(Seconds::Optional)
        .build()
        .parse(pattern)
        .map_err(|e| format!("'{pattern}' is not a cron pattern: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_adds_the_interval() {
        let t = OffsetDateTime::from_unix_timestamp(1_704_038_400).expect("valid");
        let s = Schedule::Every(Duration::from_secs(600));
        assert_eq!(
            s.next_after(t, clock::CHINA).map(|t| t.unix_timestamp()),
            Some(1_704_039_000)
        );
    }

    #[test]
    fn cron_runs_in_the_scheme_zone() {
        // 2024-01-01 00:00:00 +08:00; "every day at 02:00" is 02:00 China time.
        let t = OffsetDateTime::from_unix_timestamp(1_704_038_400).expect("valid");
        let s = Schedule::Cron("0 2 * * *".into());
        let next = s.next_after(t, clock::CHINA).expect("has a next time");
        assert_eq!(next.unix_timestamp(), 1_704_038_400 + 2 * 3600);
        let s = Schedule::Cron("0 */5 * * * *".into());
        let next = s.next_after(t, clock::CHINA).expect("has a next time");
        assert_eq!(next.unix_timestamp(), 1_704_038_400 + 300);
        assert!(parse_cron("61 * * * *").is_err());
        assert!(parse_cron("every day").is_err());
    }
}
