//! Preview: the first page of a scheme's source and what the mapping makes
//! of it, without writing anything and without touching the ledger.

use serde::Serialize;
use serde_json::Value;
use weft_runtime::{CallIdentity, Direction};
use weft_scheme::{Mapper, RunVars, Scheme};

use crate::endpoint::Sessions;
use crate::{Engine, EngineError, db};

/// One previewed record.
#[derive(Debug, Clone, Serialize)]
pub struct PreviewRecord {
    /// Its business key (or why it has none).
    pub key: Result<String, String>,
    /// The record as the source gave it (after transforms and flatten).
    pub source: Value,
    /// The target document, or the mapping error.
    pub mapped: Result<Value, String>,
}

/// A preview of a scheme.
#[derive(Debug, Clone, Serialize)]
pub struct Preview {
    /// The params the first page was read with.
    pub params: Value,
    /// The records of the first page.
    pub records: Vec<PreviewRecord>,
    /// Whether the source has more pages.
    pub more: bool,
}

/// Most windows a preview reads looking for one with records.
const PREVIEW_WINDOWS: u32 = 24;

impl Engine {
    /// Reads the first page of the scheme's first window that has records
    /// (or of the window `[start, end]`, Unix seconds) and maps it. Writes
    /// nothing.
    ///
    /// # Errors
    /// An invalid scheme, a webhook scheme (nothing to read), an unknown
    /// connection, or a failed read.
    pub async fn preview(
        &self,
        tenant: &str,
        scheme: &Scheme,
        window: Option<(i64, i64)>,
        limit: usize,
    ) -> Result<Preview, EngineError> {
        if scheme.source.is_webhook() {
            return Err(EngineError::Scheme(format!(
                "scheme '{}' is fed by webhooks: it has no source to preview; post a callback to it instead",
                scheme.name
            )));
        }
        let t = tenant.to_owned();
        let tables = db(&self.store, move |s| s.lookup_tables(&t)).await?;
        let mut mapper =
            Mapper::compile(scheme, &tables).map_err(|d| EngineError::Scheme(d.to_string()))?;
        let identity = CallIdentity {
            tenant: tenant.to_owned(),
            scheme: scheme.name.clone(),
            run_id: String::new(),
        };
        self.fill_live_lookups(&identity, &mut mapper).await?;
        let endpoint = self
            .endpoint(
                &identity,
                &scheme.source.connection,
                &scheme.source.operation,
                Direction::Source,
            )
            .await?;
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let span = scheme
            .source
            .incremental
            .as_ref()
            .and_then(|i| i.max_span)
            .or(endpoint
                .operation
                .max_window_secs
                .map(std::time::Duration::from_secs))
            .map_or(i64::MAX, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        let (mut start, mut end) = window.unwrap_or_else(|| {
            let start = scheme
                .source
                .incremental
                .as_ref()
                .map_or(0, |i| i.start.unix_timestamp());
            (start, start.saturating_add(span).min(now))
        });
        let operation = endpoint.operation.clone();
        let mut sessions = Sessions::new(endpoint, 1);
        // Without a window given, empty windows are skipped (a scheme that
        // starts long before the first document would otherwise preview
        // nothing), up to this many: a preview stays a few reads.
        let mut windows_left = if window.is_some() { 1 } else { PREVIEW_WINDOWS };
        let (params, page) = loop {
            let at = |secs: i64| crate::pull::datetime(secs, scheme.timezone);
            let vars = RunVars {
                last_sync_time: at(start),
                current_time: at(end),
                page_size: scheme.source.page_size,
            };
            let mut params = mapper
                .source_params(&vars)
                .map_err(|e| EngineError::Scheme(format!("source params: {e}")))?;
            crate::pull::complete_params(
                &mut params,
                &operation,
                scheme,
                crate::Window { start, end },
            );
            let page = sessions
                .read(
                    &self.options.retry,
                    &crate::endpoint::Unwatched,
                    &params,
                    None,
                )
                .await
                .map_err(|g| EngineError::Call(format!("reading the source: {g}")))?;
            windows_left -= 1;
            if !page.records.is_empty() || page.next.is_some() || windows_left == 0 || end >= now {
                break (params, page);
            }
            start = end;
            end = start.saturating_add(span).min(now);
        };
        // The mapping sees what a run would give it: the page after the
        // scheme's transforms, in order, less the records they refuse.
        let transforms = self.transforms(scheme).await?;
        let transformed = crate::pull::transform_page(&transforms, page.records, &|_, _| {})
            .await
            .map_err(|g| EngineError::Call(format!("transforming records: {g}")))?;
        let mut records: Vec<PreviewRecord> = transformed
            .refused
            .into_iter()
            .map(|r| PreviewRecord {
                key: Err(r.rejected.unwrap_or_default()),
                source: serde_json::from_str(&r.source).unwrap_or(Value::String(r.source)),
                mapped: Err("refused by a transform: not mapped".into()),
            })
            .take(limit)
            .collect();
        let page_records: Vec<Value> = transformed
            .records
            .iter()
            .map(|r| serde_json::from_str(r).unwrap_or(Value::String(r.clone())))
            .collect();
        for record in page_records {
            let expanded = match mapper.expand(record.clone()) {
                Ok(e) => e,
                Err(e) => {
                    records.push(PreviewRecord {
                        key: Err(e.to_string()),
                        source: record,
                        mapped: Err("not expanded".into()),
                    });
                    continue;
                }
            };
            for r in expanded {
                records.push(PreviewRecord {
                    key: mapper.key(&r).map_err(|e| e.to_string()),
                    mapped: mapper.map(&r).map_err(|e| e.to_string()),
                    source: r,
                });
                if records.len() >= limit {
                    break;
                }
            }
            if records.len() >= limit {
                break;
            }
        }
        Ok(Preview {
            params,
            records,
            more: page.next.is_some(),
        })
    }
}
