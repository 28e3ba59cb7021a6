//! What a run did, counted as it goes.

use std::time::Duration;

use serde::Serialize;

/// Counts of one run.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RunCounts {
    /// Windows fully pulled.
    pub windows: u64,
    /// Pages read.
    pub pages: u64,
    /// Records read from the source (after flatten and filter).
    pub pulled: u64,
    /// Records the filter dropped.
    pub filtered: u64,
    /// New keys queued.
    pub new: u64,
    /// Same key and content as before: not queued again.
    pub duplicate: u64,
    /// Changed content, queued again.
    pub changed: u64,
    /// Changed content, not sent (scheme policy).
    pub changed_skipped: u64,
    /// Records written (created in the target).
    pub written: u64,
    /// Records the target already had (idempotent replays).
    pub existed: u64,
    /// Records that went to the exception queue.
    pub failed: u64,
    /// Records put back for a later attempt.
    pub retried: u64,
    /// Seconds since the run started.
    pub elapsed_secs: f64,
}

impl RunCounts {
    /// Records delivered this run (written or found written).
    pub fn delivered(&self) -> u64 {
        self.written + self.existed
    }

    /// Adds what committing records to the ledger did; the ones refused
    /// there went to the exception queue.
    pub(crate) fn add(&mut self, page: &weft_store::PageCounts) {
        self.new += page.new;
        self.duplicate += page.duplicate;
        self.changed += page.changed;
        self.changed_skipped += page.changed_skipped;
        self.failed += page.refused;
    }

    pub(crate) fn with_elapsed(mut self, d: Duration) -> Self {
        self.elapsed_secs = d.as_secs_f64();
        self
    }
}
