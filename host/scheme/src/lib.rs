//! # weft-scheme: the scheme format and its mapping language
//!
//! A *scheme* (集成方案) says where business documents come from (a source
//! connection and operation, or a [`Webhook`] the other system posts to),
//! how each is mapped field by field, where it
//! goes (a target connection and operation), and when. It is a YAML file;
//! `docs/scheme-reference.md` is its user guide and
//! `docs/scheme.schema.json` (from [`json_schema`]) its JSON Schema.
//!
//! - [`Scheme::parse`] reads a file and reports every problem at once, each
//!   at its line and column ([`Diagnostics`]).
//! - [`Scheme::validate`] checks it offline against the installed plugins
//!   and the tenant's connections ([`Catalog`]).
//! - [`Mapper::compile`] compiles its templates once per run; the engine
//!   then calls [`Mapper::expand`] and [`Mapper::key`] on pulled records and
//!   [`Mapper::map`] on queued ones.
//!
//! ```
//! let scheme = weft_scheme::Scheme::parse("po.yaml", r#"
//! name: po
//! source: { connection: wdt, operation: purchase_order_query, key: "{{ purchase_no }}" }
//! target: { connection: k3cloud, operation: batch_save }
//! mapping:
//!   FBillNo: "{{ purchase_no }}"
//!   FPOOrderEntry:
//!     each: details_list
//!     map: { FQty: "{{ details_list.num | number }}" }
//! "#)?;
//! let mapper = weft_scheme::Mapper::compile(&scheme, &Default::default())?;
//! let doc = mapper.map(&serde_json::json!({
//!     "purchase_no": "CG001", "details_list": [{ "num": "2.0000" }]
//! }))?;
//! assert_eq!(doc, serde_json::json!({ "FBillNo": "CG001", "FPOOrderEntry": [{ "FQty": 2.0 }] }));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod clock;
mod diagnostic;
mod mapping;
mod model;
mod parse;
mod schedule;
mod schema;
mod validate;
mod yaml;

pub use clock::{CHINA, parse_duration, parse_timezone, zone_names};
pub use diagnostic::{Diagnostic, Diagnostics, Severity};
pub use mapping::{LiveLookup, LookupTables, MapError, Mapper, Read, RunVars};
pub use model::{
    ChangePolicy, Incremental, Scheme, SignatureEncoding, SignedTimestamp, Source, Target,
    TransformStep, Webhook, WebhookAuth,
};
pub use parse::DEFAULT_BATCH_SIZE;
pub use schedule::Schedule;
pub use schema::json_schema;
pub use validate::{Catalog, schema_problems};
