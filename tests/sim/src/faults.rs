//! Faults on demand, per system: added latency, a share of 5xx answers, a
//! share of requests held past any client's patience, rate limiting with a
//! token bucket (answered in the system's own "too frequent" shape), and
//! K3Cloud session expiry.
//!
//! Every request draws the same number of values from a seeded stream, so a
//! given request sequence meets the same faults on every run.

use std::collections::BTreeMap;
use std::future::Future;
use std::io;
use std::str::FromStr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use crate::error::SimError;
use crate::seeded::SeededRng;
use crate::system::System;

/// What a held ("timed out") request finally does.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeoutMode {
    /// The request is not processed; after the hold the connection is cut.
    #[default]
    Drop,
    /// The request is processed at once (a write is applied) and the answer
    /// is sent after the hold: the "did my write land?" case.
    Late,
}

/// A token bucket: `per_second` tokens a second, at most `burst` saved up.
/// `per_second` 0 never refills, which makes "the third call is refused"
/// independent of timing.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct RateLimit {
    pub per_second: f64,
    pub burst: u32,
}

/// The faults of one system. `Faults::default()` is no fault at all.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    /// Added to every request before it is handled.
    pub latency_ms: u64,
    /// A uniformly drawn extra delay in `0..=latency_jitter_ms`.
    pub latency_jitter_ms: u64,
    /// Share of requests answered with HTTP `error_status` (0.0–1.0).
    pub error_rate: f64,
    pub error_status: u16,
    /// Share of requests held for `timeout_hold_ms` (0.0–1.0).
    pub timeout_rate: f64,
    pub timeout_hold_ms: u64,
    pub timeout_mode: TimeoutMode,
    pub rate_limit: Option<RateLimit>,
    /// K3Cloud only: every Nth session-authenticated request finds all
    /// sessions expired ("会话信息已丢失，请重新登录").
    pub session_expire_every: Option<u64>,
}

impl Default for Faults {
    fn default() -> Faults {
        Faults {
            latency_ms: 0,
            latency_jitter_ms: 0,
            error_rate: 0.0,
            error_status: 503,
            timeout_rate: 0.0,
            timeout_hold_ms: 30_000,
            timeout_mode: TimeoutMode::Drop,
            rate_limit: None,
            session_expire_every: None,
        }
    }
}

impl Faults {
    /// Parses a command-line fault spec: `SYSTEM[,SYSTEM…]:key=value,…`, where
    /// SYSTEM may be `all`, and the keys are the field names, plus
    /// `rate_limit=R/B` (R per second, burst B).
    ///
    /// Example: `k3cloud:latency_ms=20,error_rate=0.05,rate_limit=50/10`.
    pub fn parse_spec(spec: &str) -> Result<(Vec<System>, Faults), SimError> {
        let bad = |reason: String| SimError::FaultSpec {
            spec: spec.to_string(),
            reason,
        };
        let (systems, settings) = spec
            .split_once(':')
            .ok_or_else(|| bad("expected SYSTEM:key=value,…".into()))?;
        let mut targets = Vec::new();
        for name in systems.split(',') {
            if name.eq_ignore_ascii_case("all") {
                targets.extend(System::ALL);
            } else {
                targets.push(System::from_str(name.trim())?);
            }
        }
        let mut faults = Faults::default();
        for pair in settings.split(',').filter(|p| !p.trim().is_empty()) {
            let (key, value) = pair
                .split_once('=')
                .ok_or_else(|| bad(format!("'{pair}' is not key=value")))?;
            let value = value.trim();
            let num = |v: &str| v.parse::<u64>().map_err(|e| bad(format!("{key}: {e}")));
            let rate = |v: &str| -> Result<f64, SimError> {
                let r = v.parse::<f64>().map_err(|e| bad(format!("{key}: {e}")))?;
                if (0.0..=1.0).contains(&r) {
                    Ok(r)
                } else {
                    Err(bad(format!("{key} must be within 0..1")))
                }
            };
            match key.trim() {
                "latency_ms" => faults.latency_ms = num(value)?,
                "latency_jitter_ms" => faults.latency_jitter_ms = num(value)?,
                "error_rate" => faults.error_rate = rate(value)?,
                "error_status" => faults.error_status = num(value)? as u16,
                "timeout_rate" => faults.timeout_rate = rate(value)?,
                "timeout_hold_ms" => faults.timeout_hold_ms = num(value)?,
                "timeout_mode" => {
                    faults.timeout_mode = match value {
                        "drop" => TimeoutMode::Drop,
                        "late" => TimeoutMode::Late,
                        other => return Err(bad(format!("timeout_mode '{other}' (drop|late)"))),
                    }
                }
                "rate_limit" => {
                    let (r, b) = value.split_once('/').unwrap_or((value, "1"));
                    faults.rate_limit = Some(RateLimit {
                        per_second: r.parse().map_err(|e| bad(format!("rate_limit: {e}")))?,
                        burst: b
                            .parse()
                            .map_err(|e| bad(format!("rate_limit burst: {e}")))?,
                    });
                }
                "session_expire_every" => faults.session_expire_every = Some(num(value)?),
                other => return Err(bad(format!("unknown key '{other}'"))),
            }
        }
        Ok((targets, faults))
    }
}

pub(crate) enum Verdict {
    Serve,
    ServeLate(Duration),
    Drop(Duration),
    ServerError(u16),
    RateLimited,
}

pub(crate) struct Admission {
    pub delay: Duration,
    pub verdict: Verdict,
}

struct Bucket {
    tokens: f64,
    last: Instant,
}

struct SystemFaults {
    faults: Faults,
    dice: SeededRng,
    bucket: Bucket,
    session_requests: u64,
}

impl SystemFaults {
    fn new(seed: u64, system: System, faults: Faults) -> SystemFaults {
        let burst = faults.rate_limit.map(|r| r.burst as f64).unwrap_or(0.0);
        SystemFaults {
            faults,
            dice: SeededRng::for_item(seed, 0xFA17, system.index() as u64),
            bucket: Bucket {
                tokens: burst,
                last: Instant::now(),
            },
            session_requests: 0,
        }
    }
}

/// The fault state of every system.
pub(crate) struct FaultBoard {
    seed: u64,
    systems: Mutex<Vec<SystemFaults>>,
}

impl FaultBoard {
    pub fn new(seed: u64, initial: &BTreeMap<System, Faults>) -> FaultBoard {
        let systems = System::ALL
            .iter()
            .map(|s| SystemFaults::new(seed, *s, initial.get(s).cloned().unwrap_or_default()))
            .collect();
        FaultBoard {
            seed,
            systems: Mutex::new(systems),
        }
    }

    fn with<T>(&self, f: impl FnOnce(&mut Vec<SystemFaults>) -> T) -> T {
        let mut guard = self.systems.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut guard)
    }

    /// Replaces a system's faults; its dice and bucket start afresh, so the
    /// requests after this call meet a reproducible sequence.
    pub fn set(&self, system: System, faults: Faults) {
        let seed = self.seed;
        self.with(|s| s[system.index()] = SystemFaults::new(seed, system, faults));
    }

    pub fn get(&self, system: System) -> Faults {
        self.with(|s| s[system.index()].faults.clone())
    }

    pub fn reset(&self, initial: &BTreeMap<System, Faults>) {
        for system in System::ALL {
            self.set(system, initial.get(&system).cloned().unwrap_or_default());
        }
    }

    pub fn admit(&self, system: System) -> Admission {
        self.with(|s| {
            let sf = &mut s[system.index()];
            let jitter = sf.dice.below(sf.faults.latency_jitter_ms.saturating_add(1));
            let error_draw = sf.dice.unit();
            let timeout_draw = sf.dice.unit();
            let f = &sf.faults;
            let delay = Duration::from_millis(f.latency_ms.saturating_add(jitter));
            let limited = match f.rate_limit {
                None => false,
                Some(limit) => {
                    let now = Instant::now();
                    let elapsed = now.duration_since(sf.bucket.last).as_secs_f64();
                    sf.bucket.last = now;
                    sf.bucket.tokens =
                        (sf.bucket.tokens + elapsed * limit.per_second).min(limit.burst as f64);
                    if sf.bucket.tokens >= 1.0 {
                        sf.bucket.tokens -= 1.0;
                        false
                    } else {
                        true
                    }
                }
            };
            let verdict = if limited {
                Verdict::RateLimited
            } else if error_draw < f.error_rate {
                Verdict::ServerError(f.error_status)
            } else if timeout_draw < f.timeout_rate {
                let hold = Duration::from_millis(f.timeout_hold_ms);
                match f.timeout_mode {
                    TimeoutMode::Drop => Verdict::Drop(hold),
                    TimeoutMode::Late => Verdict::ServeLate(hold),
                }
            } else {
                Verdict::Serve
            };
            Admission { delay, verdict }
        })
    }

    /// Counts a K3Cloud session-authenticated request; true when this one
    /// is the Nth and all sessions must expire.
    pub fn session_tick(&self) -> bool {
        self.with(|s| {
            let sf = &mut s[System::K3cloud.index()];
            match sf.faults.session_expire_every {
                Some(n) if n > 0 => {
                    sf.session_requests += 1;
                    sf.session_requests % n == 0
                }
                _ => false,
            }
        })
    }
}

/// Runs `serve` under the system's faults. `limited` builds the system's own
/// "too frequent" answer.
pub(crate) async fn guarded<Fut>(
    board: &FaultBoard,
    system: System,
    limited: impl FnOnce() -> Response,
    serve: Fut,
) -> Response
where
    Fut: Future<Output = Response>,
{
    let admission = board.admit(system);
    if !admission.delay.is_zero() {
        tokio::time::sleep(admission.delay).await;
    }
    match admission.verdict {
        Verdict::Serve => serve.await,
        Verdict::RateLimited => limited(),
        Verdict::ServerError(status) => server_error(status),
        Verdict::Drop(hold) => {
            tokio::time::sleep(hold).await;
            dropped()
        }
        Verdict::ServeLate(hold) => {
            let response = serve.await;
            tokio::time::sleep(hold).await;
            response
        }
    }
}

fn server_error(status: u16) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    let text = format!(
        "<html><head><title>{status}</title></head><body><h1>{status}</h1><p>weft-sim injected fault</p></body></html>"
    );
    (status, [("content-type", "text/html; charset=utf-8")], text).into_response()
}

/// A reply whose body fails at once: hyper cuts the connection, which is as
/// close to "dropped" as an HTTP server can get after accepting a request.
fn dropped() -> Response {
    let stream = futures_util::stream::once(async {
        Err::<Bytes, io::Error>(io::Error::other(
            "weft-sim: connection dropped (timeout fault)",
        ))
    });
    Response::new(Body::from_stream(stream))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_specs() {
        let (systems, f) = Faults::parse_spec(
            "k3cloud,jdy:latency_ms=20,error_rate=0.5,rate_limit=2.5/4,timeout_mode=late",
        )
        .expect("valid spec");
        assert_eq!(systems, vec![System::K3cloud, System::Jdy]);
        assert_eq!(f.latency_ms, 20);
        assert_eq!(f.error_rate, 0.5);
        assert_eq!(
            f.rate_limit,
            Some(RateLimit {
                per_second: 2.5,
                burst: 4
            })
        );
        assert_eq!(f.timeout_mode, TimeoutMode::Late);
        let (all, _) = Faults::parse_spec("all:latency_ms=1").expect("valid spec");
        assert_eq!(all.len(), 6);
        assert!(Faults::parse_spec("k3cloud:error_rate=2").is_err());
        assert!(Faults::parse_spec("nope:latency_ms=1").is_err());
        assert!(Faults::parse_spec("wdt:colour=red").is_err());
    }

    #[test]
    fn bucket_without_refill_refuses_after_burst() {
        let board = FaultBoard::new(1, &BTreeMap::new());
        board.set(
            System::Wdt,
            Faults {
                rate_limit: Some(RateLimit {
                    per_second: 0.0,
                    burst: 2,
                }),
                ..Faults::default()
            },
        );
        let verdicts: Vec<bool> = (0..4)
            .map(|_| matches!(board.admit(System::Wdt).verdict, Verdict::RateLimited))
            .collect();
        assert_eq!(verdicts, vec![false, false, true, true]);
    }

    #[test]
    fn error_sequence_is_reproducible() {
        let run = || {
            let board = FaultBoard::new(7, &BTreeMap::new());
            board.set(
                System::Jst,
                Faults {
                    error_rate: 0.3,
                    ..Faults::default()
                },
            );
            (0..200)
                .map(|_| matches!(board.admit(System::Jst).verdict, Verdict::ServerError(_)))
                .collect::<Vec<_>>()
        };
        let a = run();
        assert_eq!(a, run());
        let errors = a.iter().filter(|e| **e).count();
        assert!(
            (30..=90).contains(&errors),
            "{errors} errors of 200 at rate 0.3"
        );
    }
}
