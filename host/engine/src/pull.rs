//! Pull: read each window page by page and commit every page's records to
//! the ledger together with the position after it.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use serde_json::Value;
use sha2::{Digest, Sha256};
use weft_runtime::Page;
use weft_scheme::RunVars;
use weft_store::{OnChange, Position, Pulled};

use crate::endpoint::{GiveUp, Sessions};
use crate::run::{RunContext, RunStatus, SourceWatch};
use crate::window::{Window, plan};
use crate::{EngineError, db};

/// A record's content hash: sha256 of its JSON (serde_json writes object
/// keys in a stable order, so equal content hashes equally).
fn content_hash(record: &Value) -> String {
    hex::encode(Sha256::digest(record.to_string().as_bytes()))
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
    ctx.queued.notify_waiters();
}

async fn pull_windows(ctx: &Arc<RunContext>) -> Result<(), EngineError> {
    let (t, n) = (ctx.tenant.clone(), ctx.scheme_name.clone());
    let mut position = db(&ctx.store, move |s| s.position(&t, &n)).await?;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let source = &ctx.scheme.source;
    let mut windows: Vec<Window> = Vec::new();
    let mut resume_cursor = None;
    match &source.incremental {
        Some(inc) => {
            let connector_span = ctx
                .source
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
    let mut sessions = Sessions::new(ctx.source.clone(), ctx.engine.options.calls_per_session);
    let on_change = match source.on_change {
        weft_scheme::ChangePolicy::Resend => OnChange::Resend,
        weft_scheme::ChangePolicy::Skip => OnChange::Skip,
    };
    for (i, w) in windows.into_iter().enumerate() {
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
        complete_params(&mut params, &ctx.source.operation, &ctx.scheme, w);
        loop {
            if ctx.stopping() {
                return Ok(());
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
                    return Ok(());
                }
            };
            let next = page.next.clone();
            let records = match transform(ctx, page.records).await {
                Ok(r) => r,
                Err(g) => {
                    ctx.give_up("transforming records", g);
                    return Ok(());
                }
            };
            let mut pulled = Vec::with_capacity(records.len());
            let mut filtered = 0u64;
            for record in records {
                match ctx.mapper.expand(record.clone()) {
                    Ok(expanded) => {
                        if expanded.is_empty() {
                            filtered += 1;
                        }
                        for r in expanded {
                            pulled.push(keyed(ctx, r));
                        }
                    }
                    Err(e) => pulled.push(Pulled {
                        key: format!("!unexpandable:{}", content_hash(&record)),
                        hash: content_hash(&record),
                        source: record.to_string(),
                        rejected: Some(format!("cannot expand the record: {e}")),
                    }),
                }
            }
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
            let count = pulled.len() as u64;
            let (t, n, a) = (ctx.tenant.clone(), ctx.scheme_name.clone(), after.clone());
            let counts = db(&ctx.store, move |s| {
                s.commit_page(&t, &n, on_change, &pulled, &a)
            })
            .await?;
            position = after;
            ctx.update(|c| {
                c.pages += 1;
                c.pulled += count;
                c.filtered += filtered;
                c.new += counts.new;
                c.duplicate += counts.duplicate;
                c.changed += counts.changed;
                c.changed_skipped += counts.changed_skipped;
                if window_done {
                    c.windows += 1;
                }
            });
            ctx.queued.notify_waiters();
            if window_done {
                break;
            }
            cursor = next;
        }
        ctx.flush_log().await;
    }
    Ok(())
}

fn keyed(ctx: &RunContext, record: Value) -> Pulled {
    let hash = content_hash(&record);
    match ctx.mapper.key(&record) {
        Ok(key) if !key.is_empty() => Pulled {
            key,
            hash,
            source: record.to_string(),
            rejected: None,
        },
        Ok(_) => Pulled {
            key: format!("!nokey:{hash}"),
            hash,
            source: record.to_string(),
            rejected: Some("the business key is empty".into()),
        },
        Err(e) => Pulled {
            key: format!("!nokey:{hash}"),
            hash,
            source: record.to_string(),
            rejected: Some(format!("cannot compute the business key: {e}")),
        },
    }
}

/// Runs the scheme's transform plugins over a page, in order.
async fn transform(ctx: &RunContext, mut records: Vec<Value>) -> Result<Vec<Value>, GiveUp> {
    for (plugin, config) in &ctx.transforms {
        if records.is_empty() {
            break;
        }
        let mut session = plugin.transform().await.map_err(GiveUp::Fatal)?;
        let out = session.transform(config, &records).await;
        ctx.keep_log("transform", session.take_log(), out.as_ref().err());
        records = out.map_err(|e| match e.class() {
            weft_runtime::ErrorClass::Transient => GiveUp::Transient(e),
            _ => GiveUp::Fatal(e),
        })?;
    }
    Ok(records)
}
