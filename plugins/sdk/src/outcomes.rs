//! Outcomes of a batch that a connector writes in several calls (one call
//! per record, per shop, per sub-batch), and what an error in one of those
//! calls means for the rest of the batch.

use crate::context::WriteOutcome;
use crate::error::{Error, Result};

/// One outcome per record of a batch, filled in as the calls come back.
///
/// ```ignore
/// let mut outcomes = Outcomes::new(records.len());
/// for (i, record) in records.iter().enumerate() {
///     if outcomes.halted() { break; }
///     match save(record) {
///         Ok(id) => outcomes.set(i, WriteOutcome::created(Some(id), None)),
///         Err(e) => outcomes.fail([i], e),
///     }
/// }
/// outcomes.finish()
/// ```
#[derive(Debug, Clone)]
pub struct Outcomes {
    slots: Vec<Option<WriteOutcome>>,
    halt: Option<Error>,
}

impl Outcomes {
    /// Room for `records` outcomes, none decided yet.
    pub fn new(records: usize) -> Self {
        Self {
            slots: vec![None; records],
            halt: None,
        }
    }

    /// Decides record `index` (an index past the batch is ignored).
    pub fn set(&mut self, index: usize, outcome: WriteOutcome) {
        if let Some(slot) = self.slots.get_mut(index) {
            *slot = Some(outcome);
        }
    }

    /// The outcome of record `index`, once decided.
    pub fn get(&self, index: usize) -> Option<&WriteOutcome> {
        self.slots.get(index).and_then(Option::as_ref)
    }

    /// Whether record `index` has its outcome.
    pub fn is_decided(&self, index: usize) -> bool {
        self.slots.get(index).is_some_and(Option::is_some)
    }

    /// Records that the call writing the records `indices` failed with
    /// `error`, by class:
    /// - `invalid`: those records fail with it; the batch goes on.
    /// - `transient`, `rate-limited`: those records fail with it and the
    ///   batch halts, so a struggling system is not pressed further; the
    ///   records not written yet fail with the same error.
    /// - `auth`, `fatal`: the batch halts and [`Outcomes::finish`] returns
    ///   the error for the whole batch.
    ///
    /// The first halting error wins.
    pub fn fail(&mut self, indices: impl IntoIterator<Item = usize>, error: Error) {
        if !matches!(error, Error::Invalid(_)) && self.halt.is_none() {
            self.halt = Some(error.clone());
        }
        if matches!(error, Error::Auth(_) | Error::Fatal(_)) {
            return;
        }
        for i in indices {
            self.set(i, WriteOutcome::Failed(error.clone()));
        }
    }

    /// True once an error made further calls pointless.
    pub fn halted(&self) -> bool {
        self.halt.is_some()
    }

    /// The outcomes, in record order.
    ///
    /// # Errors
    /// The halting error for the whole batch when it is `auth` or `fatal`,
    /// or when it is `transient`/`rate-limited` and no record got anywhere
    /// (nothing written, nothing refused): the host then retries the batch.
    pub fn finish(self) -> Result<Vec<WriteOutcome>> {
        if let Some(halt) = &self.halt {
            let got_somewhere = self.slots.iter().any(|slot| match slot {
                Some(WriteOutcome::Written { .. }) => true,
                Some(WriteOutcome::Failed(e)) => matches!(e, Error::Invalid(_)),
                None => false,
            });
            if matches!(halt, Error::Auth(_) | Error::Fatal(_)) || !got_somewhere {
                return Err(halt.clone());
            }
        }
        let fallback = self
            .halt
            .unwrap_or_else(|| Error::transient("the target reported no outcome for this record"));
        Ok(self
            .slots
            .into_iter()
            .map(|slot| slot.unwrap_or_else(|| WriteOutcome::Failed(fallback.clone())))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(n: &str) -> WriteOutcome {
        WriteOutcome::created(None, Some(n.to_owned()))
    }

    #[test]
    fn invalid_records_fail_alone() {
        let mut o = Outcomes::new(3);
        o.set(0, written("A"));
        o.fail([1], Error::invalid("bad"));
        o.set(2, written("C"));
        assert!(!o.halted());
        assert_eq!(
            o.finish(),
            Ok(vec![
                written("A"),
                WriteOutcome::Failed(Error::invalid("bad")),
                written("C")
            ])
        );
    }

    #[test]
    fn a_transient_error_after_progress_fails_the_rest() {
        let mut o = Outcomes::new(3);
        o.set(0, written("A"));
        o.fail([1], Error::transient("503"));
        assert!(o.halted());
        let out = o.finish().expect("progress was made");
        assert_eq!(out[1], WriteOutcome::Failed(Error::transient("503")));
        assert_eq!(out[2], WriteOutcome::Failed(Error::transient("503")));
    }

    #[test]
    fn a_transient_error_before_progress_fails_the_batch() {
        let mut o = Outcomes::new(2);
        o.fail([0], Error::rate_limited(Some(1000), "slow down"));
        assert_eq!(
            o.finish(),
            Err(Error::rate_limited(Some(1000), "slow down"))
        );
    }

    #[test]
    fn auth_fails_the_batch_even_after_progress() {
        let mut o = Outcomes::new(2);
        o.set(0, written("A"));
        o.fail([1], Error::auth("token expired"));
        assert_eq!(o.finish(), Err(Error::auth("token expired")));
    }

    #[test]
    fn undecided_records_are_retried() {
        let mut o = Outcomes::new(2);
        o.set(0, written("A"));
        assert_eq!(
            o.finish().expect("no halt")[1].clone(),
            WriteOutcome::Failed(Error::transient(
                "the target reported no outcome for this record"
            ))
        );
    }
}
