//! A scheme's compiled templates, kept next to the environment they borrow.
//!
//! minijinja's compiled expressions and templates borrow their
//! `Environment`, and a mapper must own both (it is built once per run and
//! handed to worker threads). `self_cell` ties the two together; it is the
//! crate minijinja itself uses (vendored) for the same purpose.
// The `self_cell!` macro expands to `unsafe` blocks in this module: that is
// self_cell's audited implementation, not code of ours.
#![allow(unsafe_code)]

use std::fmt;

use minijinja::{Environment, Expression, Template};

use super::path::FieldPath;

/// One compiled template of a scheme, addressed by its index.
pub(crate) enum Slot<'env> {
    /// Exactly one `{{ expression }}`: evaluated, keeping its type; read
    /// directly when it is a plain field path.
    Expression(Expression<'env, 'static>, Option<FieldPath>),
    /// A string template: rendered.
    Template(Template<'env, 'env>),
}

impl fmt::Debug for Slot<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Expression(_, None) => f.write_str("Expression"),
            Self::Expression(_, Some(p)) => write!(f, "Expression({p:?})"),
            Self::Template(t) => write!(f, "Template({:?})", t.source()),
        }
    }
}

/// Every compiled template of a scheme.
#[derive(Debug)]
pub(crate) struct Slots<'env>(pub Vec<Slot<'env>>);

self_cell::self_cell!(
    /// The environment (filters, owned template sources) and the templates
    /// compiled in it.
    pub(crate) struct Program {
        owner: Environment<'static>,
        #[covariant]
        dependent: Slots,
    }
    impl {Debug}
);

/// What a slot is compiled from.
#[derive(Debug, Clone)]
pub(crate) enum Piece {
    /// An expression's source.
    Expression(String),
    /// The name of a template added to the environment.
    Template(String),
}

impl Program {
    /// Compiles `pieces` in `env` (which already holds the templates the
    /// pieces name).
    pub fn build(env: Environment<'static>, pieces: &[Piece]) -> Result<Self, minijinja::Error> {
        Program::try_new(env, |env| {
            pieces
                .iter()
                .map(|p| match p {
                    Piece::Expression(src) => env
                        .compile_expression_owned(src.clone())
                        .map(|e| Slot::Expression(e, FieldPath::parse(src))),
                    Piece::Template(name) => env.get_template(name).map(Slot::Template),
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Slots)
        })
    }

    /// The compiled templates, by index.
    pub fn slots(&self) -> &[Slot<'_>] {
        &self.borrow_dependent().0
    }
}
