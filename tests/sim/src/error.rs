//! The library's error type.

use std::io;

use crate::system::System;

/// Errors from starting the simulator or from its control calls.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("could not bind 127.0.0.1:{port}: {source}")]
    Bind { port: u16, source: io::Error },
    #[error("could not start the simulator's runtime: {0}")]
    Runtime(io::Error),
    #[error("the simulator thread ended before it reported its address")]
    StartAborted,
    #[error("unknown system '{0}' (expected one of wdt, qimen, jst, jackyun, k3cloud, jdy)")]
    UnknownSystem(String),
    #[error(
        "unknown dataset '{0}' (expected purchase-orders, stockout-returns, refunds or jackyun-trades)"
    )]
    UnknownDataset(String),
    #[error("no {kind} document with key '{key}'")]
    NoSuchDocument { kind: &'static str, key: String },
    #[error("a {kind} document with key '{key}' already exists")]
    DuplicateDocument { kind: &'static str, key: String },
    #[error("invalid fault spec '{spec}': {reason}")]
    FaultSpec { spec: String, reason: String },
    #[error("invalid overrides for {kind}: {reason}")]
    Overrides { kind: &'static str, reason: String },
    #[error("invalid time '{0}' (expected yyyy-MM-dd HH:mm:ss, China time)")]
    Time(String),
    #[error("{system} does not support {what}")]
    Unsupported { system: System, what: String },
}
