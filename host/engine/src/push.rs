//! Push: map queued records, write them in batches, commit each outcome.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinSet;
use weft_runtime::{ErrorClass, WriteOutcome};
use weft_store::{Outcome, Queued};

use crate::endpoint::{GiveUp, Sessions};
use crate::run::{RunContext, RunStatus, TargetWatch};
use crate::{EngineError, db};

fn now_ms() -> i64 {
    i64::try_from(time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000)
        .unwrap_or(i64::MAX)
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

pub(crate) async fn push(ctx: Arc<RunContext>) {
    if let Err(e) = push_queue(&ctx).await {
        ctx.end_with(RunStatus::Failed, e.to_string());
    }
}

async fn push_queue(ctx: &Arc<RunContext>) -> Result<(), EngineError> {
    let batch_size = ctx
        .target
        .operation
        .max_batch
        .map_or(ctx.scheme.target.batch_size, |m| {
            m.min(ctx.scheme.target.batch_size)
        })
        .max(1) as usize;
    let params = Arc::new(
        ctx.mapper
            .target_params()
            .map_err(|e| EngineError::Scheme(format!("target params: {e}")))?,
    );
    let mut idle: Vec<Sessions> = (0..ctx.engine.options.writers.max(1))
        .map(|_| Sessions::new(ctx.target.clone(), ctx.engine.options.calls_per_session))
        .collect();
    // A writer hands its session back as soon as the target has answered,
    // and the next batch is written while the settler commits this one's
    // outcomes.
    let (returned, mut returning) = mpsc::unbounded_channel::<Sessions>();
    let (settle, settling) = mpsc::unbounded_channel::<Settling>();
    let settler = tokio::spawn(settle_outcomes(Arc::clone(ctx), settling));
    // Records handed to a writer stay `queued` in the ledger until their
    // outcomes are committed; a rescan from the start must not hand them
    // out a second time.
    let mut in_flight: HashSet<i64> = HashSet::new();
    let mut writing: JoinSet<Written> = JoinSet::new();
    let mut after = 0i64;
    let mut failure = None;
    loop {
        if ctx.stopping() || failure.is_some() {
            break;
        }
        while let Ok(sessions) = returning.try_recv() {
            idle.push(sessions);
        }
        if idle.is_empty() {
            tokio::select! {
                biased;
                Some(sessions) = returning.recv() => idle.push(sessions),
                done = writing.join_next() => {
                    // No writer left and no session back: one died with
                    // its session, and `finish` recorded why.
                    let Some(done) = done else {
                        break;
                    };
                    finish(done, &mut in_flight, &mut failure);
                }
            }
            continue;
        }
        // Registered before the query, so a page committed in between
        // still wakes us.
        let notified = ctx.queued.notified();
        let (t, n) = (ctx.tenant.clone(), ctx.scheme_name.clone());
        let limit = batch_size + in_flight.len();
        let c = Arc::clone(ctx);
        let mut batch = db(&ctx.store, move |s| {
            s.queued_unless_held(&t, &n, limit, after, &|id| c.handoff.holds(id))
        })
        .await?;
        // Records the pull stage refused, put back by a user: they go
        // through the pull stage again, not to the target as they are.
        let refusals: Vec<Queued> = batch
            .extract_if(.., |q| crate::pull::Refusal::of_key(&q.key).is_some())
            .collect();
        if !refusals.is_empty() {
            crate::pull::pull_again(ctx, refusals).await?;
            continue;
        }
        let scanned_to = batch.last().map(|q| q.id);
        batch.retain(|q| !in_flight.contains(&q.id));
        batch.truncate(batch_size);
        if batch.is_empty() {
            if let Some(last) = scanned_to {
                // Only records still being written were found.
                after = last;
            } else if after != 0
                && (ctx.rescan.swap(false, Ordering::SeqCst)
                    || (writing.is_empty() && ctx.pulled_all.load(Ordering::SeqCst)))
            {
                // Records behind the scan were queued again, or this is the
                // last sweep before the run ends.
                after = 0;
                continue;
            }
            if !writing.is_empty() {
                tokio::select! {
                    done = writing.join_next() => {
                        if let Some(done) = done {
                            finish(done, &mut in_flight, &mut failure);
                        }
                    }
                    () = notified => {}
                }
                continue;
            }
            if ctx.pulled_all.load(Ordering::SeqCst) {
                let (t, n) = (ctx.tenant.clone(), ctx.scheme_name.clone());
                match db(&ctx.store, move |s| s.next_due_ms(&t, &n)).await? {
                    None => break,
                    Some(due) => {
                        let wait =
                            Duration::from_millis(u64::try_from(due - now_ms()).unwrap_or(0));
                        if wait > ctx.engine.options.retry.max_delay {
                            // Left for a later run; the ledger keeps them queued.
                            break;
                        }
                        tokio::time::sleep(wait).await;
                        after = 0;
                        continue;
                    }
                }
            }
            let _ = tokio::time::timeout(Duration::from_millis(200), notified).await;
            continue;
        }
        // Checked non-empty at the top of the loop.
        let Some(mut sessions) = idle.pop() else {
            continue;
        };
        after = batch.last().map_or(after, |q| q.id);
        in_flight.extend(batch.iter().map(|q| q.id));
        let batch: Vec<(Queued, Option<Document>)> = batch
            .into_iter()
            .map(|mut q| {
                let document = match q.source.take() {
                    Some(text) => Some(Document::Text(text)),
                    None => ctx.handoff.take(q.id).map(Document::Read),
                };
                (q, document)
            })
            .collect();
        let (ctx, params) = (Arc::clone(ctx), Arc::clone(&params));
        let (returned, settle) = (returned.clone(), settle.clone());
        writing.spawn(async move {
            let ids: Vec<i64> = batch.iter().map(|(q, _)| q.id).collect();
            let written = match with_sources(&ctx, batch, Document::Text).await {
                Ok(batch) => write_batch(&ctx, &mut sessions, &params, batch).await,
                Err(e) => {
                    ctx.end_with(RunStatus::Failed, e.to_string());
                    None
                }
            };
            // Never refused: the receiver lives as long as this task's
            // JoinSet.
            let _ = returned.send(sessions);
            let result = match written {
                Some(outcomes) => {
                    if outcomes.iter().any(|o| matches!(o, Outcome::Retry { .. })) {
                        ctx.rescan.store(true, Ordering::SeqCst);
                    }
                    settled(&settle, outcomes).await
                }
                None => Ok(()),
            };
            ctx.flush_log().await;
            Written { ids, result }
        });
    }
    // Writers already under way finish their batch and commit it.
    while let Some(done) = writing.join_next().await {
        finish(done, &mut in_flight, &mut failure);
    }
    drop(settle);
    if let Err(e) = settler.await {
        failure.get_or_insert(EngineError::Internal(format!(
            "the outcome settler died: {e}"
        )));
    }
    failure.map_or(Ok(()), Err)
}

/// What a writer hands back once its batch's outcomes are committed (or
/// it was told to stop): the records it had, which stay in flight until
/// then so that no rescan hands them out again.
struct Written {
    ids: Vec<i64>,
    result: Result<(), EngineError>,
}

fn finish(
    done: Result<Written, tokio::task::JoinError>,
    in_flight: &mut HashSet<i64>,
    failure: &mut Option<EngineError>,
) {
    match done {
        Ok(w) => {
            for id in &w.ids {
                in_flight.remove(id);
            }
            // A writer told to stop has already ended the run.
            if let Err(e) = w.result {
                failure.get_or_insert(e);
            }
        }
        Err(e) => {
            failure.get_or_insert(EngineError::Internal(format!("a target writer died: {e}")));
        }
    }
}

/// A written batch's outcomes, and the writer waiting for their commit.
struct Settling {
    outcomes: Vec<Outcome>,
    done: oneshot::Sender<Result<(), EngineError>>,
}

/// Hands `outcomes` to the settler and waits until they are committed.
async fn settled(
    settle: &mpsc::UnboundedSender<Settling>,
    outcomes: Vec<Outcome>,
) -> Result<(), EngineError> {
    let (done, committed) = oneshot::channel();
    settle
        .send(Settling { outcomes, done })
        .map_err(|_| EngineError::Internal("the outcome settler is gone".into()))?;
    committed
        .await
        .map_err(|_| EngineError::Internal("the outcome settler died".into()))?
}

/// Commits the outcomes of the batches written meanwhile together, in one
/// transaction: writers that finish at about the same time share a
/// commit, and none waits for the ledger's lock while holding a session.
async fn settle_outcomes(ctx: Arc<RunContext>, mut settling: mpsc::UnboundedReceiver<Settling>) {
    while let Some(first) = settling.recv().await {
        let mut group = vec![first];
        while let Ok(more) = settling.try_recv() {
            group.push(more);
        }
        let outcomes: Vec<Outcome> = group
            .iter_mut()
            .flat_map(|s| std::mem::take(&mut s.outcomes))
            .collect();
        let result = record_outcomes(&ctx, outcomes).await;
        let failed = result.as_ref().err().map(ToString::to_string);
        let mut first = Some(result);
        for s in group {
            // The first writer gets the error itself; the others, its text.
            let reply = first.take().unwrap_or_else(|| match &failed {
                None => Ok(()),
                Some(e) => Err(EngineError::Internal(format!(
                    "committing a batch's outcomes: {e}"
                ))),
            });
            let _ = s.done.send(reply);
        }
    }
}

/// A queued record's document, as the push gets it.
enum Document {
    /// Taken from the hand-off, already read for the mapping.
    Read(weft_scheme::Read),
    /// Read back from the ledger.
    Text(String),
}

/// Queued records with their documents: those missing (the hand-off no
/// longer held them when the batch was made, dropped for a newer version
/// say) are read from the ledger, as `kept` makes of their text.
pub(crate) async fn with_sources<T>(
    ctx: &RunContext,
    batch: Vec<(Queued, Option<T>)>,
    kept: impl Fn(String) -> T,
) -> Result<Vec<(Queued, T)>, EngineError> {
    let missing: Vec<i64> = batch
        .iter()
        .filter(|(_, d)| d.is_none())
        .map(|(q, _)| q.id)
        .collect();
    let mut read = if missing.is_empty() {
        std::collections::HashMap::new()
    } else {
        db(&ctx.store, move |s| s.sources(&missing)).await?
    };
    batch
        .into_iter()
        .map(
            |(q, document)| match document.or_else(|| read.remove(&q.id).map(&kept)) {
                Some(d) => Ok((q, d)),
                None => Err(EngineError::Internal(format!(
                    "ledger record {} (key '{}') is queued but its document is gone",
                    q.id, q.key
                ))),
            },
        )
        .collect()
}

/// Commits what became of a batch's records.
async fn record_outcomes(ctx: &RunContext, outcomes: Vec<Outcome>) -> Result<(), EngineError> {
    let (t, n) = (ctx.tenant.clone(), ctx.scheme_name.clone());
    db(&ctx.store, move |s| s.record_outcomes(&t, &n, &outcomes)).await
}

/// Maps and writes one batch; `None` when the run must stop (the batch's
/// records stay queued as they were).
async fn write_batch(
    ctx: &Arc<RunContext>,
    sessions: &mut Sessions,
    params: &Value,
    batch: Vec<(Queued, Document)>,
) -> Option<Vec<Outcome>> {
    let mut outcomes = Vec::with_capacity(batch.len());
    let mut replays = 0u64;
    // Each document's JSON is written once: joined into the batch for the
    // plugin and kept as the ledger's record of what was sent.
    let mut sendable: Vec<(Queued, String)> = Vec::with_capacity(batch.len());
    for (q, document) in batch {
        let mapped = match &document {
            Document::Read(read) => ctx.mapper.map_read_json(read),
            Document::Text(text) => ctx.mapper.map_text_json(text),
        };
        let mapped = mapped.map_err(|e| format!("mapping: {e}"));
        match mapped {
            Ok(doc) => sendable.push((q, doc)),
            Err(message) => outcomes.push(Outcome::Failed {
                id: q.id,
                mapped: None,
                class: ErrorClass::Invalid.as_str().into(),
                message,
            }),
        }
    }
    if !sendable.is_empty() {
        let mut docs =
            String::with_capacity(sendable.iter().map(|(_, d)| d.len() + 1).sum::<usize>() + 2);
        docs.push('[');
        for (i, (_, d)) in sendable.iter().enumerate() {
            if i > 0 {
                docs.push(',');
            }
            docs.push_str(d);
        }
        docs.push(']');
        let written = sessions
            .write(
                &ctx.engine.options.retry,
                &TargetWatch(ctx),
                params,
                &docs,
                sendable.len(),
            )
            .await;
        match written {
            Ok(results) => {
                let mut existed = 0u64;
                for ((q, doc), result) in sendable.into_iter().zip(results) {
                    if matches!(result, WriteOutcome::Written { existed: true, .. }) {
                        existed += 1;
                    }
                    outcomes.push(record_outcome(ctx, q, doc, result));
                }
                replays = existed;
            }
            Err(GiveUp::Fatal(e)) if e.class() == ErrorClass::Invalid => {
                // The target refused the batch as a whole for its content:
                // every record of it goes to the exception queue.
                for (q, doc) in sendable {
                    outcomes.push(Outcome::Failed {
                        id: q.id,
                        mapped: Some(doc),
                        class: "invalid".into(),
                        message: e.to_string(),
                    });
                }
            }
            Err(g) => {
                let retry_at = now_ms() + millis(ctx.engine.options.retry.max_delay);
                let message = g.to_string();
                if !outcomes.is_empty() {
                    // Mapping failures are final whatever happened to the rest.
                    let failed = outcomes.len() as u64;
                    let _ = record_outcomes(ctx, std::mem::take(&mut outcomes)).await;
                    ctx.update(|c| c.failed += failed);
                }
                let pause: Vec<Outcome> = sendable
                    .iter()
                    .map(|(q, _)| Outcome::Retry {
                        id: q.id,
                        class: "transient".into(),
                        message: message.clone(),
                        retry_at_ms: retry_at,
                    })
                    .collect();
                if matches!(g, GiveUp::Transient(_) | GiveUp::Quota(_)) {
                    let _ = record_outcomes(ctx, pause).await;
                }
                ctx.give_up("writing to the target", g);
                return None;
            }
        }
    }
    ctx.update(|c| {
        for o in &outcomes {
            match o {
                Outcome::Done { .. } => c.written += 1,
                Outcome::Failed { .. } => c.failed += 1,
                Outcome::Retry { .. } => c.retried += 1,
            }
        }
        // Replays were counted as written above.
        c.written -= replays;
        c.existed += replays;
    });
    Some(outcomes)
}

fn record_outcome(ctx: &RunContext, q: Queued, mapped: String, result: WriteOutcome) -> Outcome {
    match result {
        WriteOutcome::Written {
            id,
            number,
            existed,
        } => Outcome::Done {
            id: q.id,
            reply: json!({ "existed": existed, "id": id, "number": number }).to_string(),
            mapped,
            target_id: id,
            target_number: number,
        },
        WriteOutcome::Failed(e) => {
            let attempts = q.attempts + 1;
            let retryable = e.class.is_retryable();
            if retryable && attempts < ctx.engine.options.retry.max_record_attempts {
                let wait = e
                    .retry_after
                    .unwrap_or_else(|| ctx.engine.options.retry.record_backoff(attempts));
                Outcome::Retry {
                    id: q.id,
                    class: e.class.as_str().into(),
                    message: e.message,
                    retry_at_ms: now_ms() + millis(wait),
                }
            } else {
                let message = if retryable {
                    format!("gave up after {attempts} attempts: {}", e.message)
                } else {
                    e.message
                };
                Outcome::Failed {
                    id: q.id,
                    mapped: Some(mapped),
                    class: e.class.as_str().into(),
                    message,
                }
            }
        }
    }
}
