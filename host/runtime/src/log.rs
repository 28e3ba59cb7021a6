//! The log of one plugin call batch: the plugin's own lines, its captured
//! stdout/stderr, the host's notes and every HTTP exchange, secrets
//! redacted. The engine moves it into the run's log.

use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::egress::{HttpExchange, Redactor};

/// How much a line matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Very detailed.
    Trace,
    /// Detailed.
    Debug,
    /// Normal.
    Info,
    /// Worth a look.
    Warn,
    /// Something failed.
    Error,
}

/// Who wrote a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// The plugin, through `log.emit`.
    Plugin,
    /// The plugin's stdout.
    Stdout,
    /// The plugin's stderr (panic messages land here).
    Stderr,
    /// The host, about the plugin (a refused request, a limit hit).
    Host,
}

/// One line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogLine {
    /// Unix time in milliseconds.
    pub at_ms: u64,
    /// Level.
    pub level: Level,
    /// Who wrote it.
    pub source: Source,
    /// The text.
    pub message: String,
    /// Key/value pairs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<(String, String)>,
}

/// One entry of a call log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase", tag = "type")]
pub enum LogEntry {
    /// A line.
    Line(LogLine),
    /// An HTTP exchange.
    Http(HttpExchange),
}

/// The log of one call batch, capped so a chatty plugin cannot exhaust the
/// host's memory.
#[derive(Debug)]
pub(crate) struct CallLog {
    entries: Vec<LogEntry>,
    dropped: u64,
    max_entries: usize,
    max_line_bytes: usize,
    redactor: Redactor,
}

pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

impl CallLog {
    pub(crate) fn new(max_entries: usize, max_line_bytes: usize, redactor: Redactor) -> Self {
        Self {
            entries: Vec::new(),
            dropped: 0,
            max_entries,
            max_line_bytes,
            redactor,
        }
    }

    fn push(&mut self, entry: LogEntry) {
        if self.entries.len() < self.max_entries {
            self.entries.push(entry);
        } else {
            self.dropped += 1;
        }
    }

    fn line(&mut self, level: Level, source: Source, message: &str, fields: Vec<(String, String)>) {
        let message = self
            .redactor
            .redact(&truncate(message, self.max_line_bytes));
        let fields = fields
            .into_iter()
            .map(|(k, v)| (k, self.redactor.redact(&truncate(&v, self.max_line_bytes))))
            .collect();
        self.push(LogEntry::Line(LogLine {
            at_ms: now_ms(),
            level,
            source,
            message,
            fields,
        }));
    }

    /// A line the plugin emitted.
    pub(crate) fn plugin_line(
        &mut self,
        level: Level,
        message: String,
        fields: Vec<(String, String)>,
    ) {
        self.line(level, Source::Plugin, &message, fields);
    }

    /// A note from the host about the plugin.
    pub(crate) fn host_line(&mut self, level: Level, message: &str) {
        self.line(level, Source::Host, message, Vec::new());
    }

    /// Captured stdout/stderr, one entry per line.
    pub(crate) fn output(&mut self, source: Source, text: &str) {
        let level = if source == Source::Stderr {
            Level::Warn
        } else {
            Level::Info
        };
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            self.line(level, source, line, Vec::new());
        }
    }

    /// An HTTP exchange (already redacted by the egress layer).
    pub(crate) fn http(&mut self, exchange: HttpExchange) {
        self.push(LogEntry::Http(exchange));
    }

    /// Moves the entries out, with a note when some were dropped.
    pub(crate) fn take(&mut self) -> Vec<LogEntry> {
        let mut entries = std::mem::take(&mut self.entries);
        if self.dropped > 0 {
            entries.push(LogEntry::Line(LogLine {
                at_ms: now_ms(),
                level: Level::Warn,
                source: Source::Host,
                message: format!(
                    "{} further log entries were dropped (cap: {} per call batch)",
                    self.dropped, self.max_entries
                ),
                fields: Vec::new(),
            }));
            self.dropped = 0;
        }
        entries
    }

    /// The stderr lines captured so far, for a panic message.
    pub(crate) fn stderr_text(&self) -> String {
        let mut text = String::new();
        for e in &self.entries {
            if let LogEntry::Line(l) = e
                && l.source == Source::Stderr
            {
                text.push_str(&l.message);
                text.push('\n');
            }
        }
        text
    }
}

fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes)", &s[..end], s.len())
}
