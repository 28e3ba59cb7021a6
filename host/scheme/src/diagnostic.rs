//! Problems found in a scheme file, each pointing at a place in it.

use std::fmt;

use marked_yaml::{Node, Span};

/// How bad a [`Diagnostic`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Severity {
    /// The scheme cannot run as written.
    Error,
    /// Worth a look, but the scheme may still run (e.g. a `lookup` table that
    /// only the tenant can define, which cannot be checked offline).
    Warning,
}

/// One problem in a scheme file, at a line and column of it.
///
/// Displays as `file:line:column: message` (errors) or
/// `file:line:column: warning: message` (warnings), the form editors and
/// terminals turn into links.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The scheme file, as given to [`Scheme::parse`](crate::Scheme::parse).
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// What is wrong, naming the offending value.
    pub message: String,
    /// Error or warning.
    pub severity: Severity,
}

impl Diagnostic {
    /// An error at `line`:`column` of `file`.
    pub fn error(file: &str, line: usize, column: usize, message: impl Into<String>) -> Self {
        Self {
            file: file.to_owned(),
            line,
            column,
            message: message.into(),
            severity: Severity::Error,
        }
    }

    /// A warning at `line`:`column` of `file`.
    pub fn warning(file: &str, line: usize, column: usize, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Warning,
            ..Self::error(file, line, column, message)
        }
    }

    /// Whether this is an error (not a warning).
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: ", self.file, self.line, self.column)?;
        if self.severity == Severity::Warning {
            f.write_str("warning: ")?;
        }
        f.write_str(&self.message)
    }
}

/// Every problem found in one scheme file, in file order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    /// Whether any of them is an error.
    pub fn has_errors(&self) -> bool {
        self.0.iter().any(Diagnostic::is_error)
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

impl From<Vec<Diagnostic>> for Diagnostics {
    fn from(mut v: Vec<Diagnostic>) -> Self {
        sort(&mut v);
        Self(v)
    }
}

/// Sorts diagnostics into file order, so a reader meets them top to bottom.
pub(crate) fn sort(v: &mut [Diagnostic]) {
    v.sort_by_key(|d| (d.line, d.column));
}

/// Collects diagnostics about one file.
#[derive(Debug)]
pub(crate) struct Report<'a> {
    pub file: &'a str,
    pub items: Vec<Diagnostic>,
}

impl<'a> Report<'a> {
    pub fn new(file: &'a str) -> Self {
        Self {
            file,
            items: Vec::new(),
        }
    }

    /// An error at the start of `span` (line 1, column 1 when it has none).
    pub fn error(&mut self, span: &Span, message: impl Into<String>) {
        let (line, column) = start(span);
        self.items
            .push(Diagnostic::error(self.file, line, column, message));
    }

    /// A warning at the start of `span`.
    pub fn warning(&mut self, span: &Span, message: impl Into<String>) {
        let (line, column) = start(span);
        self.items
            .push(Diagnostic::warning(self.file, line, column, message));
    }

    /// An error about `node`.
    pub fn error_at(&mut self, node: &Node, message: impl Into<String>) {
        self.error(node.span(), message);
    }

    pub fn has_errors(&self) -> bool {
        self.items.iter().any(Diagnostic::is_error)
    }
}

/// The 1-based line and column where `span` starts.
pub(crate) fn start(span: &Span) -> (usize, usize) {
    span.start().map_or((1, 1), |m| (m.line(), m.column()))
}
