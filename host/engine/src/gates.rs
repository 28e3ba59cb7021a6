//! One rate limit per connection, shared by every scheme and session that
//! uses it: a token bucket (governor) for the connection's configured rate,
//! and a pause that a `rate-limited` answer with retry-after sets for
//! everyone at once.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use weft_runtime::RateGate;
use weft_store::RateLimit;

/// The gate of one connection.
#[derive(Debug)]
pub struct ConnectionGate {
    bucket: Option<DefaultDirectRateLimiter>,
    paused_until: Mutex<Option<Instant>>,
}

impl ConnectionGate {
    fn new(limit: Option<RateLimit>) -> Self {
        let bucket = limit.and_then(|l| {
            let count = NonZeroU32::new(l.count)?;
            let quota = Quota::with_period(l.per / l.count)?.allow_burst(count);
            Some(RateLimiter::direct(quota))
        });
        Self {
            bucket,
            paused_until: Mutex::new(None),
        }
    }

    /// Holds every request of the connection for `wait` (the remote system
    /// said so); a longer pause already in force is kept.
    pub fn pause(&self, wait: Duration) {
        let until = Instant::now() + wait;
        let mut paused = self
            .paused_until
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if paused.is_none_or(|p| p < until) {
            *paused = Some(until);
        }
    }

    async fn wait_now(&self) {
        let until = *self
            .paused_until
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(until) = until {
            tokio::time::sleep_until(until.into()).await;
        }
        if let Some(bucket) = &self.bucket {
            bucket.until_ready().await;
        }
    }
}

impl RateGate for ConnectionGate {
    fn wait(&self) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(self.wait_now())
    }
}

/// A connection's gate with the limit it was built for.
type Entry = (Option<RateLimit>, Arc<ConnectionGate>);

/// The gates of every connection this process uses, by tenant and name.
#[derive(Debug, Default)]
pub struct Gates {
    gates: Mutex<HashMap<(String, String), Entry>>,
}

impl Gates {
    /// The gate of `tenant`'s connection `name` with rate `limit`; a changed
    /// limit replaces the gate.
    pub fn gate(&self, tenant: &str, name: &str, limit: Option<RateLimit>) -> Arc<ConnectionGate> {
        let mut gates = self
            .gates
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let entry = gates
            .entry((tenant.to_owned(), name.to_owned()))
            .or_insert_with(|| (limit, Arc::new(ConnectionGate::new(limit))));
        if entry.0 != limit {
            *entry = (limit, Arc::new(ConnectionGate::new(limit)));
        }
        Arc::clone(&entry.1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_same_connection_shares_one_gate() {
        let gates = Gates::default();
        let limit: RateLimit = "5/s".parse().expect("rate");
        let a = gates.gate("t", "k3", Some(limit));
        let b = gates.gate("t", "k3", Some(limit));
        assert!(Arc::ptr_eq(&a, &b));
        let other = gates.gate("t2", "k3", Some(limit));
        assert!(!Arc::ptr_eq(&a, &other), "tenants never share");
    }

    #[tokio::test(start_paused = true)]
    async fn a_pause_holds_every_request() {
        let gate = ConnectionGate::new(None);
        gate.pause(Duration::from_secs(3));
        let started = tokio::time::Instant::now();
        gate.wait().await;
        assert!(started.elapsed() >= Duration::from_secs(3));
    }
}
