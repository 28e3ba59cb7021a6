//! # weft-sim
//!
//! Faithful local simulators of the APIs weft's seed integrations talk to:
//! 旺店通·企业版 openapi2, the 奇门 gateway (旺店通 and 吉客云 methods),
//! 聚水潭, 吉客云, 金蝶云星空 WebAPI and 金蝶云星辰, on one loopback port,
//! routed by path. They hold connectors to the real wire protocols
//! (`shared/design/PROTOCOLS.md`, `docs/protocol-choices.md`): every
//! signature verified with the system's own algorithm, timestamp tolerance,
//! page origins and caps, window limits, envelopes and error codes,
//! base-data validation and duplicate refusal on the targets.
//!
//! ```no_run
//! use weft_sim::{SimConfig, Simulator, System};
//!
//! let sim = Simulator::start(SimConfig::default()).expect("simulator starts");
//! println!("K3Cloud at {}", sim.k3cloud_url());
//! // … run a scheme against sim.origin() …
//! let log = sim.received(System::K3cloud, "PUR_PurchaseOrder");
//! assert!(log.duplicates().is_empty());
//! sim.shutdown();
//! ```
//!
//! See `docs/simulators.md` for routes, control endpoints, faults and
//! datasets.

pub mod clock;
pub mod config;
mod control;
pub mod dataset;
pub mod error;
pub mod faults;
pub mod inspect;
mod jackyun;
mod jdy;
mod jst;
mod k3cloud;
mod qimen;
mod seeded;
mod server;
pub mod shop;
pub mod signing;
mod state;
pub mod system;
mod wdt;
mod wire;

pub use config::{Credentials, DatasetConfig, MasterConfig, ProtocolLimits, SimConfig};
pub use dataset::SourceKind;
pub use dataset::master::MasterData;
pub use error::SimError;
pub use faults::{Faults, RateLimit, TimeoutMode};
pub use inspect::{KeyCount, Outcome, ReceivedEntry, ReceivedLog};
pub use server::{SimHandle, Simulator};
pub use system::System;
