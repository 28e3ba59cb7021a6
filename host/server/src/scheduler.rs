//! Runs applied schemes on their `schedule` (`every:` or `cron:`).
//!
//! A scheme is due when the next time its schedule gives after its latest
//! run's start (of any trigger) has come; a scheme that never ran counts
//! from when it was applied, so a new `every:` scheme runs at once. After
//! downtime a scheme that missed many slots is due once, not once per
//! slot: the run it gets is its latest, and the next slot counts from it.

use std::collections::HashMap;
use std::time::Duration;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tokio::sync::watch;
use weft_engine::Trigger;
use weft_scheme::{Schedule, Scheme};

use crate::running::StartError;
use crate::state::AppState;

/// A scheme's schedule as last parsed, kept while its text is unchanged.
#[derive(Debug)]
struct Parsed {
    applied_at: String,
    schedule: Option<(Schedule, time::UtcOffset)>,
}

/// The scheduler's memory between ticks.
#[derive(Debug, Default)]
pub(crate) struct Scheduler {
    parsed: HashMap<(String, String), Parsed>,
    /// Schemes whose run was refused (an invalid scheme, a lease another
    /// process holds): not asked again before this time, so one broken
    /// scheme does not fill the log every tick.
    not_before: HashMap<(String, String), OffsetDateTime>,
}

fn parse_time(text: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(text, &Rfc3339).ok()
}

impl Scheduler {
    /// Starts every due scheme that is not running; returns how many
    /// started.
    pub(crate) async fn tick(&mut self, state: &AppState, now: OffsetDateTime) -> usize {
        let listed = state
            .blocking(|s| Ok((s.schemes(None)?, s.last_run_starts()?)))
            .await;
        let (schemes, last_starts) = match listed {
            Ok(x) => x,
            Err(e) => {
                tracing::warn!("scheduler cannot read the schemes: {e:?}");
                return 0;
            }
        };
        let mut started = 0;
        let mut seen = Vec::with_capacity(schemes.len());
        for stored in schemes {
            let key = (stored.tenant.clone(), stored.name.clone());
            seen.push(key.clone());
            if !stored.enabled {
                continue;
            }
            let parsed = self
                .parsed
                .entry(key.clone())
                .and_modify(|p| {
                    if p.applied_at != stored.applied_at {
                        *p = parse(&stored);
                    }
                })
                .or_insert_with(|| parse(&stored));
            let Some((schedule, zone)) = &parsed.schedule else {
                continue;
            };
            let last_start = last_starts.get(&key).and_then(|t| parse_time(t));
            let applied = parse_time(&stored.applied_at);
            let Some(due) = next_due(schedule, *zone, last_start, applied, now) else {
                continue;
            };
            if due > now
                || self.not_before.get(&key).is_some_and(|t| *t > now)
                || state.running.is_running(&key.0, &key.1)
            {
                continue;
            }
            match state
                .running
                .start(&key.0, &key.1, Trigger::Schedule, false)
                .await
            {
                Ok(run) => {
                    tracing::info!(tenant = %key.0, scheme = %key.1, %run, "scheduled run started");
                    self.not_before.remove(&key);
                    started += 1;
                }
                Err(StartError::Closing) => break,
                Err(StartError::Busy { .. }) => {}
                Err(e) => {
                    tracing::warn!(tenant = %key.0, scheme = %key.1, "scheduled run not started: {e}");
                    let pause = match schedule {
                        Schedule::Every(d) => (*d).min(Duration::from_secs(60)),
                        Schedule::Cron(_) => Duration::from_secs(60),
                    };
                    self.not_before.insert(key, now + pause);
                }
            }
        }
        // Forget removed schemes.
        self.parsed.retain(|k, _| seen.contains(k));
        self.not_before.retain(|k, _| seen.contains(k));
        started
    }
}

/// When a scheme is next due: the schedule's first time after its latest
/// run's start. Missed slots collapse into one (the next run's start is the
/// new reference). A scheme that never ran: an interval one at once, a
/// cron one at its first time after it was applied.
fn next_due(
    schedule: &Schedule,
    zone: time::UtcOffset,
    last_start: Option<OffsetDateTime>,
    applied: Option<OffsetDateTime>,
    now: OffsetDateTime,
) -> Option<OffsetDateTime> {
    match (schedule, last_start) {
        (s, Some(since)) => s.next_after(since, zone),
        (Schedule::Every(_), None) => Some(now),
        (Schedule::Cron(_), None) => schedule.next_after(applied.unwrap_or(now), zone),
    }
}

fn parse(stored: &weft_store::StoredScheme) -> Parsed {
    let schedule = match Scheme::parse(&stored.file, &stored.yaml) {
        Ok(s) => s.schedule.clone().map(|sch| (sch, s.timezone)),
        Err(d) => {
            tracing::warn!(
                tenant = %stored.tenant,
                scheme = %stored.name,
                "applied scheme no longer parses; it is not scheduled: {d}"
            );
            None
        }
    };
    Parsed {
        applied_at: stored.applied_at.clone(),
        schedule,
    }
}

/// Ticks every `every` until `stop` becomes true.
pub(crate) async fn run(state: AppState, every: Duration, mut stop: watch::Receiver<bool>) {
    let mut scheduler = Scheduler::default();
    loop {
        if *stop.borrow() {
            break;
        }
        scheduler.tick(&state, OffsetDateTime::now_utc()).await;
        tokio::select! {
            () = tokio::time::sleep(every) => {}
            changed = stop.changed() => {
                // The sender gone means the service is going too.
                if changed.is_err() {
                    break;
                }
            }
        }
    }
    tracing::info!("scheduler stopped");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_704_038_400 + secs).expect("a valid time")
    }

    const ZONE: time::UtcOffset = time::UtcOffset::UTC;

    #[test]
    fn an_interval_scheme_runs_at_once_then_every_interval() {
        let every = Schedule::Every(Duration::from_secs(600));
        assert_eq!(
            next_due(&every, ZONE, None, Some(at(0)), at(5)),
            Some(at(5))
        );
        assert_eq!(
            next_due(&every, ZONE, Some(at(5)), Some(at(0)), at(6)),
            Some(at(605))
        );
    }

    #[test]
    fn missed_slots_make_one_catch_up_run_not_a_flood() {
        let every = Schedule::Every(Duration::from_secs(600));
        // Down for an hour after a run at 0: six slots were missed.
        let now = at(3600);
        let due = next_due(&every, ZONE, Some(at(0)), None, now).expect("due");
        assert!(due <= now, "due at once");
        // The catch-up run starts now; the next is an interval later, not
        // at the next missed slot.
        assert_eq!(next_due(&every, ZONE, Some(now), None, now), Some(at(4200)));
    }

    #[test]
    fn a_cron_scheme_waits_for_its_first_time_after_apply() {
        let cron = Schedule::Cron("0 */5 * * * *".into());
        // Applied at 00:01: first due at 00:05; a late start catches up once.
        assert_eq!(
            next_due(&cron, ZONE, None, Some(at(60)), at(61)),
            Some(at(300))
        );
        let due = next_due(&cron, ZONE, Some(at(0)), None, at(3600)).expect("due");
        assert_eq!(due, at(300));
        assert_eq!(
            next_due(&cron, ZONE, Some(at(3600)), None, at(3600)),
            Some(at(3900))
        );
    }
}
