//! Records on their way from the pull to the push, kept in memory.
//!
//! The ledger is the queue between the two, and stays the truth: every
//! record is committed there before anyone may write it. But reading each
//! document back and unpacking it, moments after the pull packed it, cost
//! the push a tenth of the run, and parsing it again for the mapping
//! (after the pull parsed it for the key) another. The pull therefore also
//! leaves each record it queues here, as read for its key and mapping
//! ([`weft_scheme::Read`]), and the push takes it from here when it hands
//! the record to a writer; whatever is not here (the hand-off was full,
//! the run restarted, a retry came due) is read from the ledger.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::Notify;

/// The records held, by ledger id.
pub(crate) struct Handoff<T = weft_scheme::Read> {
    held: Mutex<Held<T>>,
    /// Signalled whenever records are taken.
    taken: Notify,
    /// Most bytes of records held at once, counted as the size of their
    /// source text.
    capacity: usize,
}

struct Held<T> {
    records: HashMap<i64, (T, usize)>,
    bytes: usize,
}

impl<T> Handoff<T> {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            held: Mutex::new(Held {
                records: HashMap::new(),
                bytes: 0,
            }),
            taken: Notify::new(),
            capacity,
        }
    }

    fn held(&self) -> std::sync::MutexGuard<'_, Held<T>> {
        self.held
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Keeps `record` (of `bytes` source text) for ledger row `id`,
    /// replacing what was kept for it (a changed document queued again).
    /// When full, nothing is kept and an older version is dropped: the
    /// push then reads the ledger.
    pub(crate) fn hold(&self, id: i64, record: T, bytes: usize) {
        let mut held = self.held();
        if let Some((_, old)) = held.records.remove(&id) {
            held.bytes -= old;
        }
        if held.bytes + bytes <= self.capacity {
            held.bytes += bytes;
            held.records.insert(id, (record, bytes));
        }
    }

    /// Whether the record of row `id` is held.
    pub(crate) fn holds(&self, id: i64) -> bool {
        self.held().records.contains_key(&id)
    }

    /// Takes the record of row `id`, if held.
    pub(crate) fn take(&self, id: i64) -> Option<T> {
        let taken = {
            let mut held = self.held();
            let taken = held.records.remove(&id);
            if let Some((_, bytes)) = &taken {
                held.bytes -= bytes;
            }
            taken.map(|(record, _)| record)
        };
        if taken.is_some() {
            self.taken.notify_waiters();
        }
        taken
    }

    /// Waits, at most `patience`, until at most half the capacity is
    /// held. The pull calls this before each page so that it runs ahead of
    /// the push by what fits here rather than by the whole source; after
    /// `patience` it goes on regardless (a push waiting for a retry or a
    /// rate limit must not hold the pull up for long), and what does not
    /// fit is read back from the ledger.
    pub(crate) async fn room(&self, patience: Duration) {
        let deadline = tokio::time::Instant::now() + patience;
        loop {
            let taken = self.taken.notified();
            if self.held().bytes <= self.capacity / 2 {
                return;
            }
            if tokio::time::timeout_at(deadline, taken).await.is_err() {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_up_to_its_capacity_and_gives_each_document_once() {
        let handoff = Handoff::new(10);
        let hold = |id, text: &'static str| handoff.hold(id, text, text.len());
        hold(1, "abcd");
        hold(2, "efgh");
        hold(3, "ijkl");
        assert!(handoff.holds(1) && handoff.holds(2));
        assert!(!handoff.holds(3), "beyond capacity");
        // A newer version replaces the older one and its bytes.
        hold(1, "abcdef");
        assert_eq!(handoff.take(1), Some("abcdef"));
        assert_eq!(handoff.take(1), None);
        hold(3, "ijklmn");
        assert_eq!(handoff.take(3), Some("ijklmn"));
        // A newer version that does not fit drops the older one.
        hold(4, "x");
        hold(2, "0123456789x");
        assert!(!handoff.holds(2));
        assert_eq!(handoff.take(4), Some("x"));
    }

    #[tokio::test]
    async fn room_waits_for_the_push_and_no_longer_than_its_patience() {
        let handoff = std::sync::Arc::new(Handoff::new(8));
        handoff.hold(1, "abcd", 4);
        handoff.hold(2, "efgh", 4);
        let taker = std::sync::Arc::clone(&handoff);
        let take = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            taker.take(1)
        });
        handoff.room(Duration::from_secs(30)).await;
        assert!(!handoff.holds(1), "room came before the push took anything");
        assert_eq!(take.await.ok().flatten(), Some("abcd"));
        handoff.hold(3, "ijkl", 4);
        // Nobody takes anything now: the wait ends at its patience.
        handoff.room(Duration::from_millis(10)).await;
        assert!(handoff.holds(2) && handoff.holds(3));
    }
}
