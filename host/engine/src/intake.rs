//! Webhook intake: records another system posts to weft
//! (`POST /hooks/{tenant}/{scheme}`) for a scheme whose source is a
//! `webhook`.
//!
//! A callback is authenticated first; one that fails never reaches the
//! ledger. Its records are then expanded, keyed, hashed and committed to
//! the ledger in one transaction, exactly like a pulled page (the same
//! dedupe: a record seen before with the same content is a duplicate, a
//! changed one is queued again or skipped per `on_change`), and a
//! push-only run writes what was queued. A webhook scheme has no pull
//! position; its watermark and cursor are never moved.

mod auth;

use serde::Serialize;
use serde_json::Value;
use weft_store::{PageCounts, StoreError};

pub use auth::{EnvHookSecrets, HookSecrets};

use crate::{Engine, EngineError, RunOutcome, RunRequest, Trigger, db};

/// What a callback's records did to the ledger.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Accepted {
    /// Records found at `source.webhook.records`.
    pub received: u64,
    /// Records left after `flatten` and `filter`, each committed.
    pub committed: u64,
    /// Records `filter` dropped (or whose `flatten` list was empty).
    pub filtered: u64,
    /// Records whose business key could not be computed: they went
    /// straight to the exception queue.
    pub rejected: u64,
    /// New, duplicate, changed (queued again) and changed-but-skipped.
    pub counts: PageCounts,
}

/// What became of the push after a callback.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "lowercase", tag = "push")]
pub enum IntakePush {
    /// Nothing was waiting to be written (e.g. every record a duplicate).
    Idle,
    /// A push-only run wrote what was queued.
    Ran(RunOutcome),
    /// Another run of the scheme held it. The records stay queued; that
    /// run writes them if it is still pushing, else the next callback or
    /// run of the scheme does.
    Deferred {
        /// Who holds the scheme.
        holder: String,
    },
}

/// The result of [`Engine::intake`].
#[derive(Debug, Clone, Serialize)]
pub struct IntakeOutcome {
    /// What the records did to the ledger.
    pub accepted: Accepted,
    /// What became of the push.
    pub push: IntakePush,
}

/// How often, and how long apart, intake tries to claim a scheme another
/// run holds: a run that is finishing its last batch lets go quickly.
const CLAIM_TRIES: u32 = 10;
const CLAIM_PAUSE: std::time::Duration = std::time::Duration::from_millis(100);

impl Engine {
    /// Takes a webhook callback for `tenant`'s scheme `scheme`: checks it
    /// (see [`Engine::accept_webhook`]), commits its records to the
    /// ledger, then runs a push-only run to write what it queued.
    ///
    /// `headers` are the request's headers (names in any case); `body` is
    /// the raw request body, exactly as received (signatures cover it).
    ///
    /// # Errors
    /// Those of [`Engine::accept_webhook`], and a push run that could not
    /// start (not its failures: those are in [`IntakePush::Ran`] and in
    /// the ledger).
    pub async fn intake(
        &self,
        tenant: &str,
        scheme: &str,
        body: &[u8],
        headers: &[(&str, &str)],
    ) -> Result<IntakeOutcome, EngineError> {
        let accepted = self.accept_webhook(tenant, scheme, body, headers).await?;
        // What the callback queued is due at once; so is anything an
        // earlier callback left queued (a deferred push, a retry whose
        // time has come). A duplicate callback finds nothing due.
        let push = if self.has_due(tenant, scheme).await? {
            self.push_queued(tenant, scheme).await?
        } else {
            IntakePush::Idle
        };
        Ok(IntakeOutcome { accepted, push })
    }

    /// The first half of [`Engine::intake`]: authenticates the callback
    /// and commits its records to the ledger, without writing them to the
    /// target. A server answers the caller after this and pushes in the
    /// background (a run of the scheme writes what it queued).
    ///
    /// # Errors
    /// - [`EngineError::UnknownScheme`]: the tenant has no such scheme;
    /// - [`EngineError::NotWebhook`]: its source is pulled, not a webhook;
    /// - [`EngineError::HookSecretMissing`]: the host has no value for the
    ///   secret the scheme names;
    /// - [`EngineError::Unauthorized`]: bad or missing signature or token,
    ///   or a stale timestamp (nothing is stored);
    /// - [`EngineError::BadPayload`]: the body is not JSON, or holds no
    ///   records at `source.webhook.records` (nothing is stored);
    /// - store errors.
    pub async fn accept_webhook(
        &self,
        tenant: &str,
        scheme_name: &str,
        body: &[u8],
        headers: &[(&str, &str)],
    ) -> Result<Accepted, EngineError> {
        let (scheme, mapper) = match self.load_scheme(tenant, scheme_name).await {
            Err(EngineError::Store(StoreError::NotFound(_))) => {
                return Err(EngineError::UnknownScheme {
                    tenant: tenant.to_owned(),
                    scheme: scheme_name.to_owned(),
                });
            }
            other => other?,
        };
        let Some(webhook) = scheme.source.webhook.clone() else {
            return Err(EngineError::NotWebhook {
                tenant: tenant.to_owned(),
                scheme: scheme_name.to_owned(),
                connection: scheme.source.connection.clone(),
            });
        };
        let name = webhook.auth.secret();
        let secret = self.hook_secrets.secret(tenant, name).ok_or_else(|| {
            EngineError::HookSecretMissing {
                tenant: tenant.to_owned(),
                scheme: scheme_name.to_owned(),
                secret: name.to_owned(),
                hint: self.hook_secrets.describe(tenant, name),
            }
        })?;
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        auth::verify(&webhook.auth, secret.as_bytes(), body, headers, now).map_err(|reason| {
            tracing::warn!(tenant, scheme = scheme_name, "webhook refused: {reason}");
            EngineError::Unauthorized {
                scheme: scheme_name.to_owned(),
                reason,
            }
        })?;
        let records =
            records_at(body, &webhook.records).map_err(|reason| EngineError::BadPayload {
                scheme: scheme_name.to_owned(),
                reason,
            })?;
        let received = records.len() as u64;
        let on_change = crate::pull::on_change(&scheme);
        let expands = crate::pull::expands(&scheme);
        let (t, n) = (tenant.to_owned(), scheme_name.to_owned());
        let (counts, committed, filtered, rejected) = db(&self.store, move |s| {
            // Keying is CPU work on whole records: on the blocking pool, as
            // the pull does it.
            let texts = records.iter().map(ToString::to_string).collect();
            let crate::pull::Keyed {
                pulled, filtered, ..
            } = crate::pull::key_records(&mapper, texts, expands);
            let rejected = pulled.iter().filter(|p| p.rejected.is_some()).count() as u64;
            // commit_page writes a position with the records; a webhook
            // scheme never pulls, so nothing else moves it, and writing
            // back what is there leaves it as it was.
            let position = s.position(&t, &n)?;
            s.commit_page(&t, &n, on_change, &pulled, &position)
                .map(|counts| (counts, pulled.len() as u64, filtered, rejected))
        })
        .await?;
        tracing::info!(
            tenant,
            scheme = scheme_name,
            received,
            new = counts.new,
            duplicate = counts.duplicate,
            changed = counts.changed,
            "webhook accepted"
        );
        Ok(Accepted {
            received,
            committed,
            filtered,
            rejected,
            counts,
        })
    }

    /// Whether records of the scheme are queued and due now (a deferred
    /// push, a retry whose time has come).
    async fn has_due(&self, tenant: &str, scheme: &str) -> Result<bool, EngineError> {
        let (t, n) = (tenant.to_owned(), scheme.to_owned());
        Ok(!db(&self.store, move |s| s.queued(&t, &n, 1, 0))
            .await?
            .is_empty())
    }

    /// A push-only run, waiting briefly for another run to let go.
    async fn push_queued(&self, tenant: &str, scheme: &str) -> Result<IntakePush, EngineError> {
        let mut tries = 0;
        loop {
            let request = RunRequest {
                tenant: tenant.to_owned(),
                scheme: scheme.to_owned(),
                trigger: Trigger::Webhook,
                stop: None,
                progress: None,
                push_only: true,
                started: None,
            };
            match self.run(request).await {
                Ok(outcome) => return Ok(IntakePush::Ran(outcome)),
                Err(EngineError::AlreadyRunning { holder, .. }) => {
                    tries += 1;
                    if tries >= CLAIM_TRIES {
                        return Ok(IntakePush::Deferred { holder });
                    }
                    tokio::time::sleep(CLAIM_PAUSE).await;
                }
                Err(e) => return Err(e),
            }
        }
    }
}

/// The records at `pointer` in a JSON body: the items of an array, or one
/// object. `Err` names the pointer and what is wrong.
fn records_at(body: &[u8], pointer: &str) -> Result<Vec<Value>, String> {
    let mut doc: Value =
        serde_json::from_slice(body).map_err(|e| format!("the body is not JSON: {e}"))?;
    let place = if pointer.is_empty() {
        "the body".to_owned()
    } else {
        format!("`{pointer}` (source.webhook.records)")
    };
    let found = doc
        .pointer_mut(pointer)
        .map(Value::take)
        .ok_or_else(|| format!("the body has nothing at {place}"))?;
    match found {
        Value::Object(_) => Ok(vec![found]),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                if !item.is_object() {
                    return Err(format!(
                        "record {i} at {pointer}/{i} is {}, not an object",
                        kind(item)
                    ));
                }
            }
            Ok(items)
        }
        other => Err(format!(
            "{place} is {}, not an object or an array of records",
            kind(&other)
        )),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod simulated;

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn records_are_an_array_or_one_object() {
        let body = br#"{"data": {"trades": [{"tid": "1"}, {"tid": "2"}], "one": {"tid": "3"}}}"#;
        assert_eq!(
            records_at(body, "/data/trades"),
            Ok(vec![json!({"tid": "1"}), json!({"tid": "2"})])
        );
        assert_eq!(records_at(body, "/data/one"), Ok(vec![json!({"tid": "3"})]));
        assert_eq!(records_at(b"[]", ""), Ok(vec![]));
        assert_eq!(
            records_at(br#"{"tid": "9"}"#, ""),
            Ok(vec![json!({"tid": "9"})])
        );
    }

    #[test]
    fn a_bad_body_names_the_pointer() {
        let body = br#"{"data": {"trades": [{"tid": "1"}, 7], "n": 3}}"#;
        assert_eq!(
            records_at(body, "/data/items"),
            Err("the body has nothing at `/data/items` (source.webhook.records)".into())
        );
        assert_eq!(
            records_at(body, "/data/n"),
            Err("`/data/n` (source.webhook.records) is a number, not an object or an array of records".into())
        );
        assert_eq!(
            records_at(body, "/data/trades"),
            Err("record 1 at /data/trades/1 is a number, not an object".into())
        );
        let Err(e) = records_at(b"tid=1", "") else {
            panic!("not JSON");
        };
        assert!(e.starts_with("the body is not JSON: "), "{e}");
        assert_eq!(
            records_at(b"\"x\"", ""),
            Err("the body is a string, not an object or an array of records".into())
        );
    }
}
