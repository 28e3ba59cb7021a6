//! Time windows: from the last sync to now, split to the connector's
//! largest span, starting a little before the watermark (the overlap) to
//! catch documents edited while the previous run was reading.

use std::time::Duration;

/// One window, Unix seconds, closed at both ends like the seed APIs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// Start.
    pub start: i64,
    /// End.
    pub end: i64,
}

fn secs(d: Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX)
}

/// The windows to pull, in order: from `watermark - overlap` (or `start`
/// on the first run) to `now`, each at most `max_span` long.
pub fn plan(
    start: i64,
    watermark: Option<i64>,
    overlap: Duration,
    max_span: Option<Duration>,
    now: i64,
) -> Vec<Window> {
    let from = match watermark {
        Some(w) => (w - secs(overlap)).max(start),
        None => start,
    };
    if from >= now {
        return Vec::new();
    }
    let span = max_span.map_or(i64::MAX, secs).max(1);
    let mut windows = Vec::new();
    let mut s = from;
    while s < now {
        let e = s.saturating_add(span).min(now);
        windows.push(Window { start: s, end: e });
        s = e;
    }
    windows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_to_the_span_and_overlaps_the_watermark() {
        let day = 86_400;
        let w = plan(
            0,
            None,
            Duration::ZERO,
            Some(Duration::from_secs(30 * 86_400)),
            65 * day,
        );
        assert_eq!(
            w,
            vec![
                Window {
                    start: 0,
                    end: 30 * day
                },
                Window {
                    start: 30 * day,
                    end: 60 * day
                },
                Window {
                    start: 60 * day,
                    end: 65 * day
                },
            ]
        );
        let w = plan(0, Some(65 * day), Duration::from_secs(300), None, 66 * day);
        assert_eq!(
            w,
            vec![Window {
                start: 65 * day - 300,
                end: 66 * day
            }]
        );
        assert!(plan(0, Some(10), Duration::ZERO, None, 10).is_empty());
    }
}
