//! What to do after a failed call: retry with exponential backoff and
//! jitter (backon), honour a remote retry-after, or give up.

use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};

/// Retry settings.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Attempts of one call before giving up in this run.
    pub max_attempts: usize,
    /// First backoff.
    pub min_delay: Duration,
    /// Largest backoff.
    pub max_delay: Duration,
    /// Rate-limit waiting a run accepts before it stops cleanly (the quota
    /// is spent; the next run resumes).
    pub max_rate_wait: Duration,
    /// A single retry-after longer than this stops the run at once.
    pub max_retry_after: Duration,
    /// Attempts of one record (across runs) before it goes to the
    /// exception queue as given up.
    pub max_record_attempts: i64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 8,
            min_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(10),
            max_rate_wait: Duration::from_secs(120),
            max_retry_after: Duration::from_secs(300),
            max_record_attempts: 10,
        }
    }
}

impl RetryPolicy {
    /// The delays between attempts: exponential with jitter.
    pub fn delays(&self) -> impl Iterator<Item = Duration> + use<> {
        ExponentialBuilder::default()
            .with_jitter()
            .with_min_delay(self.min_delay)
            .with_max_delay(self.max_delay)
            .with_max_times(self.max_attempts.saturating_sub(1))
            .build()
    }

    /// When a record that failed `attempts` times may be tried again.
    pub fn record_backoff(&self, attempts: i64) -> Duration {
        let exp = u32::try_from(attempts.clamp(0, 16)).unwrap_or(16);
        self.min_delay
            .saturating_mul(2u32.saturating_pow(exp))
            .min(self.max_delay)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_and_stop() {
        let p = RetryPolicy {
            max_attempts: 4,
            min_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(1),
            ..RetryPolicy::default()
        };
        let delays: Vec<Duration> = p.delays().collect();
        assert_eq!(delays.len(), 3);
        assert!(delays.iter().all(|d| *d <= Duration::from_secs(2)));
        assert!(p.record_backoff(10) <= Duration::from_secs(1));
    }
}
