//! Pull: read each window page by page and commit every page's records to
//! the ledger together with the position after it.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use serde_json::Value;
use sha2::{Digest, Sha256};
use weft_runtime::{Page, RawRecord};
use weft_scheme::RunVars;
use weft_store::{OnChange, Position, Pulled};

use crate::endpoint::{GiveUp, Sessions};
use crate::run::{RunContext, RunStatus, SourceWatch};
use crate::window::{Window, plan};
use crate::{EngineError, db};

/// A record's content hash: sha256 of its JSON text as the source wrote
/// it. The APIs we read write a document the same way each time; one that
/// reorders keys makes the document look changed (sent again or skipped
/// per `on_change`, never lost).
fn content_hash(source: &str) -> String {
    hex::encode(Sha256::digest(source.as_bytes()))
}

pub(crate) fn datetime(secs: i64, offset: time::UtcOffset) -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp(secs)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
        .to_offset(offset)
}

/// Completes rendered source params: the operation's window params (in
/// the `yyyy-MM-dd HH:mm:ss` every seed API uses) and `page_size`, for
/// schemes that do not set them themselves.
pub(crate) fn complete_params(
    params: &mut Value,
    operation: &weft_runtime::OperationInfo,
    scheme: &weft_scheme::Scheme,
    w: Window,
) {
    let Some(obj) = params.as_object_mut() else {
        return;
    };
    if let Some((start, end)) = &operation.window_params {
        let fmt =
            time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
        for (name, secs) in [(start, w.start), (end, w.end)] {
            if !obj.contains_key(name)
                && let Ok(text) = datetime(secs, scheme.timezone).format(&fmt)
            {
                obj.insert(name.clone(), Value::String(text));
            }
        }
    }
    if let Some(size) = scheme.source.page_size {
        obj.entry("page_size").or_insert(Value::from(size));
    }
}

pub(crate) async fn pull(ctx: Arc<RunContext>) {
    if let Err(e) = pull_windows(&ctx).await {
        ctx.end_with(RunStatus::Failed, e.to_string());
    }
    ctx.pulled_all.store(true, Ordering::SeqCst);
    tracing::debug!(tenant = %ctx.tenant, scheme = %ctx.scheme_name, "pulled everything");
    ctx.queued.notify_waiters();
}

async fn pull_windows(ctx: &Arc<RunContext>) -> Result<(), EngineError> {
    // A webhook scheme's runs are push-only (run.rs), so they never get here.
    let Some(endpoint) = ctx.source.as_ref() else {
        return Err(EngineError::Scheme(format!(
            "scheme '{}' is fed by webhooks; it has no source to pull",
            ctx.scheme_name
        )));
    };
    let (t, n) = (ctx.tenant.clone(), ctx.scheme_name.clone());
    let mut position = db(&ctx.store, move |s| s.position(&t, &n)).await?;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let source = &ctx.scheme.source;
    let mut windows: Vec<Window> = Vec::new();
    let mut resume_cursor = None;
    match &source.incremental {
        Some(inc) => {
            let connector_span = endpoint
                .operation
                .max_window_secs
                .map(std::time::Duration::from_secs);
            let span = match (inc.max_span, connector_span) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            let start = inc.start.unix_timestamp();
            if let Some((s, e)) = position.window {
                windows.push(Window { start: s, end: e });
                resume_cursor = position.cursor.clone();
                windows.extend(plan(start, Some(e), std::time::Duration::ZERO, span, now));
            } else {
                windows = plan(start, position.watermark, inc.overlap, span, now);
            }
        }
        // Without an incremental window every run reads everything; the
        // ledger drops what was already delivered.
        None => {
            windows.push(Window { start: 0, end: now });
            resume_cursor = position.window.and(position.cursor.clone());
        }
    }
    let mut sessions = Sessions::new(endpoint.clone(), ctx.engine.options.calls_per_session);
    // Pages read while the committer works wait here, up to half a group:
    // the longer the queue, the more pages one transaction commits.
    let (pages, queue) = tokio::sync::mpsc::channel::<PageWork>(MAX_GROUP / 2);
    let committer = tokio::spawn(commit_pages(Arc::clone(ctx), queue));
    'windows: for (i, w) in windows.into_iter().enumerate() {
        let mut cursor = if i == 0 { resume_cursor.take() } else { None };
        let vars = RunVars {
            last_sync_time: datetime(w.start, ctx.scheme.timezone),
            current_time: datetime(w.end, ctx.scheme.timezone),
            page_size: source.page_size,
        };
        let mut params = ctx
            .mapper
            .source_params(&vars)
            .map_err(|e| EngineError::Scheme(format!("source params: {e}")))?;
        complete_params(&mut params, &endpoint.operation, &ctx.scheme, w);
        loop {
            if ctx.stopping() {
                break 'windows;
            }
            let read = sessions
                .read(
                    &ctx.engine.options.retry,
                    &SourceWatch(ctx),
                    &params,
                    cursor.as_deref(),
                )
                .await;
            let page: Page = match read {
                Ok(p) => p,
                Err(g) => {
                    ctx.give_up("reading the source", g);
                    break 'windows;
                }
            };
            let next = page.next.clone();
            let Transformed { records, refused } = match transform(ctx, page.records).await {
                Ok(t) => t,
                Err(g) => {
                    ctx.give_up("transforming records", g);
                    break 'windows;
                }
            };
            let window_done = next.is_none();
            let after = if window_done {
                Position {
                    watermark: Some(position.watermark.map_or(w.end, |m| m.max(w.end))),
                    window: None,
                    cursor: None,
                }
            } else {
                Position {
                    watermark: position.watermark,
                    window: Some((w.start, w.end)),
                    cursor: next.clone(),
                }
            };
            position = after.clone();
            // The committer keys and commits this page while the next one is
            // read; pages are committed in order, each with its position.
            if pages
                .send(PageWork {
                    records,
                    refused,
                    after,
                    window_done,
                })
                .await
                .is_err()
            {
                break 'windows;
            }
            if window_done {
                break;
            }
            cursor = next;
        }
        ctx.flush_log().await;
    }
    drop(pages);
    match committer.await {
        Ok(result) => result,
        Err(e) => Err(EngineError::Internal(format!(
            "the page committer died: {e}"
        ))),
    }
}

/// A page read and waiting to be committed.
struct PageWork {
    records: Vec<String>,
    /// Records a transform refused, for the exception queue.
    refused: Vec<Pulled>,
    after: Position,
    window_done: bool,
}

/// Longest the pull waits for the push to take documents before it
/// commits the next page anyway.
const HANDOFF_PATIENCE: std::time::Duration = std::time::Duration::from_secs(2);

/// Most pages one ledger transaction commits together. Each group rewrites
/// nearly every page of the ledger's key index (keys arrive in no
/// particular order), so fewer, larger groups write much less: 16 against
/// 8 took about 8% off a 100,000-order run's CPU time, for ~10 MB more
/// pages held (`just bench`).
const MAX_GROUP: usize = 16;

/// Keys, hashes and commits pages in the order they were read. Pages that
/// are waiting when the committer gets to them are committed together, in
/// one transaction that ends at the last one's position: the ledger then
/// sees exactly what committing them one by one would have left, but each
/// index page their keys touch (keys arrive in no particular order) is
/// written once for the group instead of once per page.
async fn commit_pages(
    ctx: Arc<RunContext>,
    mut pages: tokio::sync::mpsc::Receiver<PageWork>,
) -> Result<(), EngineError> {
    let on_change = on_change(&ctx.scheme);
    let expands = expands(&ctx.scheme);
    while let Some(first) = pages.recv().await {
        ctx.handoff.room(HANDOFF_PATIENCE).await;
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match pages.try_recv() {
                Ok(work) => group.push(work),
                Err(_) => break,
            }
        }
        let read = group.len() as u64;
        let windows_done = group.iter().filter(|w| w.window_done).count() as u64;
        let mut records = Vec::with_capacity(group.iter().map(|w| w.records.len()).sum());
        let mut refused = Vec::new();
        let mut after = Position::default();
        for work in group {
            records.extend(work.records);
            refused.extend(work.refused);
            after = work.after;
        }
        let (t, n) = (ctx.tenant.clone(), ctx.scheme_name.clone());
        let c = Arc::clone(&ctx);
        // Keying is CPU work on whole records: it runs on the blocking pool
        // beside the commit, not on the workers serving plugin calls.
        let (counts, pulled, filtered) = db(&ctx.store, move |s| {
            key_and_commit(&c, records, refused, expands, |pulled, queued| {
                s.commit_page_with(&t, &n, on_change, pulled, &after, queued)
            })
        })
        .await?;
        ctx.update(|c| {
            c.pages += read;
            c.pulled += pulled;
            c.filtered += filtered;
            c.add(&counts);
            c.windows += windows_done;
        });
        if counts.changed > 0 {
            ctx.rescan.store(true, Ordering::SeqCst);
        }
        ctx.queued.notify_waiters();
    }
    Ok(())
}

/// What the ledger does with a record seen again with new content.
pub(crate) fn on_change(scheme: &weft_scheme::Scheme) -> OnChange {
    match scheme.source.on_change {
        weft_scheme::ChangePolicy::Resend => OnChange::Resend,
        weft_scheme::ChangePolicy::Skip => OnChange::Skip,
    }
}

/// Whether the scheme turns a record into other records (flatten,
/// filter) before keying.
pub(crate) fn expands(scheme: &weft_scheme::Scheme) -> bool {
    scheme.flatten().is_some() || scheme.filter().is_some()
}

/// Takes records the pull stage refused (see [`Refusal`]) and a user put
/// back in the queue through that stage again, from the step that refused
/// each (the scheme may have been fixed since), and settles each in the
/// ledger: the records it now gives are queued, or found duplicate or
/// changed, as a page's are; one still refused stays in the exception
/// queue with the new message.
pub(crate) async fn pull_again(
    ctx: &Arc<RunContext>,
    rows: Vec<weft_store::Queued>,
) -> Result<(), EngineError> {
    let on_change = on_change(&ctx.scheme);
    let rows = rows
        .into_iter()
        .map(|mut q| {
            let source = q.source.take();
            (q, source)
        })
        .collect();
    for (q, source) in crate::push::with_sources(ctx, rows, |text| text).await? {
        let mut dropped = 0;
        let Some(why) = Refusal::of_key(&q.key) else {
            continue;
        };
        let (records, refused) = match why {
            Refusal::Transform => match serde_json::value::RawValue::from_string(source) {
                Ok(record) => match transform(ctx, vec![record]).await {
                    Ok(t) => (t.records, t.refused),
                    Err(g) => {
                        ctx.give_up("transforming records", g);
                        return Ok(());
                    }
                },
                Err(e) => {
                    return Err(EngineError::Internal(format!(
                        "ledger record {} holds a document that is not JSON: {e}",
                        q.id
                    )));
                }
            },
            Refusal::Unexpandable => (vec![source], Vec::new()),
            // Expanded already, so only the filter is applied again: the
            // scheme may now drop such records rather than key them.
            Refusal::NoKey => match refilter(&ctx.mapper, source) {
                Refiltered::Kept(source) => (vec![source], Vec::new()),
                Refiltered::Dropped => {
                    dropped += 1;
                    (Vec::new(), Vec::new())
                }
                Refiltered::Refused(record) => (Vec::new(), vec![record]),
            },
        };
        let expands = why != Refusal::NoKey && expands(&ctx.scheme);
        let (t, n, id) = (ctx.tenant.clone(), ctx.scheme_name.clone(), q.id);
        let c = Arc::clone(ctx);
        let settled = db(&ctx.store, move |s| {
            key_and_commit(&c, records, refused, expands, |pulled, queued| {
                s.settle_refusal(&t, &n, id, on_change, pulled, queued)
            })
        })
        .await;
        let (counts, _, filtered) = match settled {
            Ok(s) => s,
            // Deleted meanwhile (with its scheme, say): nothing to settle.
            Err(EngineError::Store(weft_store::StoreError::NotFound(_))) => continue,
            Err(e) => return Err(e),
        };
        tracing::info!(
            tenant = %ctx.tenant,
            scheme = %ctx.scheme_name,
            record = id,
            refused = counts.refused,
            queued = counts.new + counts.changed,
            "a refused record was taken through the pull again"
        );
        ctx.update(|c| {
            c.filtered += filtered + dropped;
            c.add(&counts);
        });
    }
    ctx.queued.notify_waiters();
    Ok(())
}

/// What `source.filter` makes of a record refused for its key.
enum Refiltered {
    Kept(String),
    Dropped,
    /// The filter fails on it.
    Refused(Pulled),
}

fn refilter(mapper: &weft_scheme::Mapper, source: String) -> Refiltered {
    let keeps = serde_json::from_str::<Value>(&source)
        .map_err(|e| e.to_string())
        .and_then(|record| mapper.keeps(&record).map_err(|e| e.to_string()));
    match keeps {
        Ok(true) => Refiltered::Kept(source),
        Ok(false) => Refiltered::Dropped,
        Err(e) => Refiltered::Refused(refused(
            source,
            Refusal::Unexpandable,
            format!("cannot expand the record: {e}"),
        )),
    }
}

/// A page's records, keyed.
pub(crate) struct Keyed {
    /// For the ledger.
    pub(crate) pulled: Vec<Pulled>,
    /// Each record as its key and mapping read it (`None` for those that
    /// cannot be sent), beside `pulled`.
    pub(crate) read: Vec<Option<weft_scheme::Read>>,
    /// Records the scheme's filter dropped.
    pub(crate) filtered: u64,
}

/// Keys `records`, puts `refused` (refused before keying) after them, and
/// commits them all with `commit`; each record the ledger queues goes to
/// the push's hand-off as it was read, so that the push need not read it
/// back. Gives what `commit` gave, how many records were committed and how
/// many the filter dropped.
fn key_and_commit<T>(
    ctx: &RunContext,
    records: Vec<String>,
    refused: Vec<Pulled>,
    expands: bool,
    commit: impl FnOnce(&[Pulled], &mut dyn FnMut(usize, i64)) -> Result<T, weft_store::StoreError>,
) -> Result<(T, u64, u64), weft_store::StoreError> {
    let Keyed {
        mut pulled,
        mut read,
        filtered,
    } = key_records(&ctx.mapper, records, expands);
    pulled.extend(refused);
    let count = pulled.len() as u64;
    commit(&pulled, &mut |i, id| {
        if let (Some(r), Some(p)) = (read.get_mut(i).and_then(Option::take), pulled.get(i)) {
            ctx.handoff.hold(id, r, p.source.len());
        }
    })
    .map(|done| (done, count, filtered))
}

/// Expands (flatten, filter) and keys a page's records (pulled, or posted
/// to a webhook), each given as its JSON text.
pub(crate) fn key_records(
    mapper: &weft_scheme::Mapper,
    records: Vec<String>,
    expands: bool,
) -> Keyed {
    let mut keyed = Keyed {
        pulled: Vec::with_capacity(records.len()),
        read: Vec::with_capacity(records.len()),
        filtered: 0,
    };
    let mut add = |(pulled, read)| {
        keyed.pulled.push(pulled);
        keyed.read.push(read);
    };
    for source in records {
        if !expands {
            add(key_one(mapper, source));
            continue;
        }
        let expanded = serde_json::from_str::<Value>(&source)
            .map_err(|e| e.to_string())
            .and_then(|record| mapper.expand(record).map_err(|e| e.to_string()));
        match expanded {
            Ok(expanded) => {
                if expanded.is_empty() {
                    keyed.filtered += 1;
                }
                for r in expanded {
                    add(key_one(mapper, r.to_string()));
                }
            }
            Err(e) => add((
                refused(
                    source,
                    Refusal::Unexpandable,
                    format!("cannot expand the record: {e}"),
                ),
                None,
            )),
        }
    }
    keyed
}

fn key_one(mapper: &weft_scheme::Mapper, source: String) -> (Pulled, Option<weft_scheme::Read>) {
    match mapper.key_and_read(&source) {
        Ok((key, read)) => (
            Pulled {
                key,
                hash: content_hash(&source),
                source,
                rejected: None,
            },
            Some(read),
        ),
        Err(e) => {
            let message = format!("cannot compute the business key: {e}");
            (refused(source, Refusal::NoKey, message), None)
        }
    }
}

/// Why a record went straight to the exception queue, at the pull stage:
/// the stage it is taken up again from when a user retries it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// A transform refused it (kept as pulled, before any transform).
    Transform,
    /// `flatten` or `filter` could not be applied (kept as transformed).
    Unexpandable,
    /// Its business key could not be computed (kept as expanded).
    NoKey,
}

impl Refusal {
    fn tag(self) -> &'static str {
        match self {
            Self::Transform => "transform",
            Self::Unexpandable => "unexpandable",
            Self::NoKey => "nokey",
        }
    }

    /// The refusal a ledger key marks: `!{tag}:{content hash}`. A business
    /// key of exactly that shape (a known tag, 64 hex digits) is taken for
    /// one; no key template of a real scheme writes those.
    pub(crate) fn of_key(key: &str) -> Option<Self> {
        let (tag, hash) = key.strip_prefix('!')?.split_once(':')?;
        if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        [Self::Transform, Self::Unexpandable, Self::NoKey]
            .into_iter()
            .find(|r| r.tag() == tag)
    }
}

/// A record that goes straight to the exception queue, keyed by its
/// content so that each distinct one is kept once.
fn refused(source: String, why: Refusal, message: String) -> Pulled {
    let hash = content_hash(&source);
    Pulled {
        key: format!("!{}:{hash}", why.tag()),
        hash,
        source,
        rejected: Some(message),
    }
}

/// What the scheme's transforms made of a page.
pub(crate) struct Transformed {
    /// The records to key, as JSON text.
    pub(crate) records: Vec<String>,
    /// Records a transform refused (`invalid`), as pulled.
    pub(crate) refused: Vec<Pulled>,
}

/// How running the transforms over some records ended, short of success.
enum Untransformed {
    /// A transform refused the records for their content.
    Invalid(String),
    /// Anything else: the run gives up.
    GiveUp(GiveUp),
}

/// A scheme's transform steps, loaded: each plugin with its config.
pub(crate) type Transforms = [(Arc<weft_runtime::LoadedPlugin>, Value)];

/// Runs the scheme's transform plugins over a page, in order (see
/// [`transform_page`]), keeping their logs in the run's.
async fn transform(ctx: &RunContext, records: Vec<RawRecord>) -> Result<Transformed, GiveUp> {
    transform_page(&ctx.transforms, records, &|entries, error| {
        ctx.keep_log("transform", entries, error);
    })
    .await
}

/// Runs transform steps over a page, in order, handing each call's log to
/// `log`. A page a transform refuses as `invalid` is transformed again
/// record by record, so that one record it cannot take goes to the
/// exception queue (as it was pulled, with the transform's message) and
/// the others go on: a source that keeps sending that record must not
/// stop the scheme. The transform's other errors end the run.
pub(crate) async fn transform_page(
    transforms: &Transforms,
    records: Vec<RawRecord>,
    log: &(dyn Fn(Vec<weft_runtime::LogEntry>, Option<&weft_runtime::CallError>) + Sync),
) -> Result<Transformed, GiveUp> {
    let text = |records: Vec<RawRecord>| -> Vec<String> {
        records
            .into_iter()
            .map(|r| String::from(Box::<str>::from(r)))
            .collect()
    };
    if transforms.is_empty() {
        return Ok(Transformed {
            records: text(records),
            refused: Vec::new(),
        });
    }
    match run_transforms(transforms, &records, log).await {
        Ok(out) => {
            return Ok(Transformed {
                records: text(out),
                refused: Vec::new(),
            });
        }
        Err(Untransformed::GiveUp(g)) => return Err(g),
        // One record: it is the one refused; no need to ask again.
        Err(Untransformed::Invalid(message)) if records.len() == 1 => {
            return Ok(Transformed {
                records: Vec::new(),
                refused: text(records)
                    .into_iter()
                    .next()
                    .map(|r| refused(r, Refusal::Transform, message))
                    .into_iter()
                    .collect(),
            });
        }
        Err(Untransformed::Invalid(_)) => {}
    }
    let mut transformed = Transformed {
        records: Vec::with_capacity(records.len()),
        refused: Vec::new(),
    };
    for record in records {
        match run_transforms(transforms, std::slice::from_ref(&record), log).await {
            Ok(out) => transformed.records.extend(text(out)),
            Err(Untransformed::Invalid(message)) => transformed.refused.push(refused(
                String::from(Box::<str>::from(record)),
                Refusal::Transform,
                message,
            )),
            Err(Untransformed::GiveUp(g)) => return Err(g),
        }
    }
    Ok(transformed)
}

async fn run_transforms(
    transforms: &Transforms,
    records: &[RawRecord],
    log: &(dyn Fn(Vec<weft_runtime::LogEntry>, Option<&weft_runtime::CallError>) + Sync),
) -> Result<Vec<RawRecord>, Untransformed> {
    let mut out: Option<Vec<RawRecord>> = None;
    for (plugin, config) in transforms {
        let input = out.as_deref().unwrap_or(records);
        if input.is_empty() {
            break;
        }
        let mut session = plugin
            .transform()
            .await
            .map_err(|e| Untransformed::GiveUp(GiveUp::Fatal(e)))?;
        let result = session.transform(config, input).await;
        log(session.take_log(), result.as_ref().err());
        out = Some(result.map_err(|e| match e {
            weft_runtime::CallError::Plugin(p) if p.class == weft_runtime::ErrorClass::Invalid => {
                Untransformed::Invalid(format!(
                    "transform {} refused the record: {}",
                    plugin.info().name(),
                    p.message
                ))
            }
            e if e.class() == weft_runtime::ErrorClass::Transient => {
                Untransformed::GiveUp(GiveUp::Transient(e))
            }
            e => Untransformed::GiveUp(GiveUp::Fatal(e)),
        })?);
    }
    Ok(out.unwrap_or_else(|| records.to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_is_known_by_its_key_and_a_business_key_is_not_taken_for_one() {
        for why in [Refusal::Transform, Refusal::Unexpandable, Refusal::NoKey] {
            let p = refused(r#"{"no":""}"#.into(), why, "why".into());
            assert_eq!(Refusal::of_key(&p.key), Some(why), "{}", p.key);
            assert_eq!(p.hash, content_hash(r#"{"no":""}"#));
        }
        let hash = content_hash("{}");
        for key in [
            "CG00000001".to_owned(),
            format!("!other:{hash}"),
            format!("nokey:{hash}"),
            "!nokey:abc".to_owned(),
            format!("!nokey:{}", "g".repeat(64)),
            format!("!nokey:{hash}0"),
        ] {
            assert_eq!(Refusal::of_key(&key), None, "{key}");
        }
    }
}
