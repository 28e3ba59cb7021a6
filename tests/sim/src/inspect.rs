//! What the targets received, in order, with a count per business key, so
//! a test can prove that every document arrived exactly once.
//!
//! Forms: K3Cloud records per FormId (`PUR_PurchaseOrder`, …), 金蝶云星辰
//! under `pur_return`, 旺店通 `trade_push` per `tid`.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde::Serialize;
use serde_json::Value;

use crate::clock;
use crate::system::System;

/// What became of one received document.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Saved as a new document.
    Created,
    /// Saved over an existing document (K3Cloud `FID`, 旺店通 changed trade).
    Updated,
    /// Accepted, but identical to what was stored (旺店通 trade_push).
    Unchanged,
    /// Refused (validation, base data, duplicate number…).
    Rejected,
}

impl Outcome {
    pub fn accepted(self) -> bool {
        self != Outcome::Rejected
    }
}

/// One received document.
#[derive(Clone, Debug, Serialize)]
pub struct ReceivedEntry {
    /// Order of arrival across all forms of the simulator, from 1.
    pub seq: u64,
    /// Business key: bill number, `tid`, …
    pub key: String,
    pub outcome: Outcome,
    /// The target's error message when rejected.
    pub message: Option<String>,
    /// Id the target assigned (K3Cloud `Id`, JDY `id`).
    pub target_id: Option<String>,
    /// Arrival time, China time.
    pub at: String,
    /// The document as sent (K3Cloud: the `Model`), when bodies are kept.
    pub body: Option<Value>,
}

/// How often a key arrived and how often it was accepted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct KeyCount {
    pub received: u64,
    pub accepted: u64,
}

/// Everything one target form received.
#[derive(Clone, Debug, Serialize)]
pub struct ReceivedLog {
    pub system: System,
    pub form: String,
    pub entries: Vec<ReceivedEntry>,
    pub counts: BTreeMap<String, KeyCount>,
}

impl ReceivedLog {
    /// Keys accepted more than once: must be empty for "exactly once".
    pub fn duplicates(&self) -> Vec<&str> {
        self.counts
            .iter()
            .filter(|(_, c)| c.accepted > 1)
            .map(|(k, _)| k.as_str())
            .collect()
    }

    /// Keys accepted at least once.
    pub fn accepted_keys(&self) -> Vec<&str> {
        self.counts
            .iter()
            .filter(|(_, c)| c.accepted > 0)
            .map(|(k, _)| k.as_str())
            .collect()
    }
}

struct Stored {
    seq: u64,
    key: String,
    outcome: Outcome,
    message: Option<String>,
    target_id: Option<String>,
    at: i64,
    body: Option<Arc<str>>,
}

#[derive(Default)]
struct FormInbox {
    entries: Vec<Stored>,
    counts: HashMap<String, KeyCount>,
}

/// The received documents of every target.
#[derive(Default)]
pub(crate) struct Inbox {
    forms: BTreeMap<(System, &'static str), FormInbox>,
    seq: u64,
}

/// A record to add to the inbox.
pub(crate) struct Arrival {
    pub key: String,
    pub outcome: Outcome,
    pub message: Option<String>,
    pub target_id: Option<String>,
    pub body: Option<Arc<str>>,
}

impl Inbox {
    pub fn record(&mut self, system: System, form: &'static str, arrival: Arrival) {
        self.seq += 1;
        let inbox = self.forms.entry((system, form)).or_default();
        let count = match inbox.counts.get_mut(&arrival.key) {
            Some(count) => count,
            None => inbox.counts.entry(arrival.key.clone()).or_default(),
        };
        count.received += 1;
        if arrival.outcome.accepted() {
            count.accepted += 1;
        }
        inbox.entries.push(Stored {
            seq: self.seq,
            key: arrival.key,
            outcome: arrival.outcome,
            message: arrival.message,
            target_id: arrival.target_id,
            at: clock::now_unix(),
            body: arrival.body,
        });
    }

    /// Forms of a system that received anything, with their entry counts.
    pub fn forms(&self, system: System) -> Vec<(String, usize)> {
        self.forms
            .iter()
            .filter(|((s, _), _)| *s == system)
            .map(|((_, f), inbox)| (f.to_string(), inbox.entries.len()))
            .collect()
    }

    /// The log of one form (matched case-insensitively, as K3Cloud matches
    /// FormIds); empty when nothing arrived.
    pub fn log(&self, system: System, form: &str, with_bodies: bool) -> ReceivedLog {
        let found = self
            .forms
            .iter()
            .find(|((s, f), _)| *s == system && f.eq_ignore_ascii_case(form));
        let (form, entries, counts) = match found {
            None => (form.to_string(), Vec::new(), BTreeMap::new()),
            Some(((_, f), inbox)) => (
                f.to_string(),
                inbox
                    .entries
                    .iter()
                    .map(|e| ReceivedEntry {
                        seq: e.seq,
                        key: e.key.clone(),
                        outcome: e.outcome,
                        message: e.message.clone(),
                        target_id: e.target_id.clone(),
                        at: clock::format_china(e.at),
                        body: if with_bodies {
                            e.body.as_deref().and_then(|b| serde_json::from_str(b).ok())
                        } else {
                            None
                        },
                    })
                    .collect(),
                inbox.counts.iter().map(|(k, c)| (k.clone(), *c)).collect(),
            ),
        };
        ReceivedLog {
            system,
            form,
            entries,
            counts,
        }
    }

    pub fn clear(&mut self) {
        self.forms.clear();
        self.seq = 0;
    }
}
