//! What a plugin says about itself: builders for `describe()`.
//!
//! ```ignore
//! ConnectorInfo::new("wdt", env!("CARGO_PKG_VERSION"), "旺店通·企业版")
//!     .field(Field::url("base_url", "API base URL").required().default_value("https://api.wangdian.cn"))
//!     .field(Field::text("appsecret", "App secret").required().secret())
//!     .egress(Egress::BaseUrl)
//!     .operation(Operation::source::<PurchaseQuery>("purchase_order_query", "查询采购单"));
//! ```
//!
//! Param schemas are derived from the params type with `schemars`, so the
//! schema the host validates against is the type the plugin decodes.

use schemars::JsonSchema;

use crate::wit;

/// One setting a connection needs.
#[derive(Debug, Clone)]
pub struct Field(wit::ConnectionField);

impl Field {
    fn new(kind: wit::FieldKind, name: &str, title: &str) -> Self {
        Self(wit::ConnectionField {
            name: name.to_owned(),
            title: title.to_owned(),
            description: String::new(),
            kind,
            required: false,
            secret: false,
            default_value: None,
        })
    }

    /// A free-text field.
    pub fn text(name: &str, title: &str) -> Self {
        Self::new(wit::FieldKind::Text, name, title)
    }

    /// An absolute URL.
    pub fn url(name: &str, title: &str) -> Self {
        Self::new(wit::FieldKind::Url, name, title)
    }

    /// A whole number.
    pub fn integer(name: &str, title: &str) -> Self {
        Self::new(wit::FieldKind::Integer, name, title)
    }

    /// `true` or `false`.
    pub fn boolean(name: &str, title: &str) -> Self {
        Self::new(wit::FieldKind::Boolean, name, title)
    }

    /// Says what the field is and where to find its value.
    #[must_use]
    pub fn description(mut self, text: &str) -> Self {
        self.0.description = text.to_owned();
        self
    }

    /// A connection without this field is refused.
    #[must_use]
    pub fn required(mut self) -> Self {
        self.0.required = true;
        self
    }

    /// Encrypted at rest, never shown, redacted from logs.
    #[must_use]
    pub fn secret(mut self) -> Self {
        self.0.secret = true;
        self
    }

    /// The value used when the user gives none.
    #[must_use]
    pub fn default_value(mut self, value: &str) -> Self {
        self.0.default_value = Some(value.to_owned());
        self
    }
}

/// Where a connector may send requests.
#[derive(Debug, Clone)]
pub enum Egress {
    /// A host pattern: `api.wangdian.cn` or `*.wangdian.cn`.
    Host(String),
    /// Anything under the connection's `base_url`.
    BaseUrl,
}

impl Egress {
    /// A host pattern.
    pub fn host(pattern: &str) -> Self {
        Self::Host(pattern.to_owned())
    }
}

/// One operation of a connector.
#[derive(Debug, Clone)]
pub struct Operation(wit::OperationInfo);

impl Operation {
    fn new<P: JsonSchema>(direction: wit::Direction, id: &str, title: &str) -> Self {
        let schema = schemars::schema_for!(P);
        Self(wit::OperationInfo {
            id: id.to_owned(),
            title: title.to_owned(),
            description: String::new(),
            direction,
            params_schema: schema.as_value().to_string(),
            key_pointer: None,
            max_window_secs: None,
            window_params: None,
            max_batch: None,
        })
    }

    /// A source operation whose params decode into `P`.
    pub fn source<P: JsonSchema>(id: &str, title: &str) -> Self {
        Self::new::<P>(wit::Direction::Source, id, title)
    }

    /// A target operation whose params decode into `P`.
    pub fn target<P: JsonSchema>(id: &str, title: &str) -> Self {
        Self::new::<P>(wit::Direction::Target, id, title)
    }

    /// A webhook operation whose params decode into `P`.
    pub fn webhook<P: JsonSchema>(id: &str, title: &str) -> Self {
        Self::new::<P>(wit::Direction::Webhook, id, title)
    }

    /// What the operation does and which remote API it calls.
    #[must_use]
    pub fn description(mut self, text: &str) -> Self {
        self.0.description = text.to_owned();
        self
    }

    /// A JSON pointer to the record's natural key, e.g. `/purchase_no`.
    #[must_use]
    pub fn key_pointer(mut self, pointer: &str) -> Self {
        self.0.key_pointer = Some(pointer.to_owned());
        self
    }

    /// The remote API's largest time window, and the params that carry the
    /// window's start and end.
    #[must_use]
    pub fn window(mut self, max_secs: u64, start_param: &str, end_param: &str) -> Self {
        self.0.max_window_secs = Some(max_secs);
        self.0.window_params = Some((start_param.to_owned(), end_param.to_owned()));
        self
    }

    /// The largest batch `write` accepts.
    #[must_use]
    pub fn max_batch(mut self, records: u32) -> Self {
        self.0.max_batch = Some(records);
        self
    }
}

/// What a connector says about itself.
#[derive(Debug, Clone)]
pub struct ConnectorInfo(wit::ConnectorInfo);

impl ConnectorInfo {
    /// A connector named `name` (lowercase, digits, `-`) at `version`
    /// (usually `env!("CARGO_PKG_VERSION")`).
    pub fn new(name: &str, version: &str, title: &str) -> Self {
        Self(wit::ConnectorInfo {
            name: name.to_owned(),
            version: version.to_owned(),
            title: title.to_owned(),
            description: String::new(),
            connection_fields: Vec::new(),
            egress: Vec::new(),
            operations: Vec::new(),
        })
    }

    /// What the connector talks to.
    #[must_use]
    pub fn description(mut self, text: &str) -> Self {
        self.0.description = text.to_owned();
        self
    }

    /// Adds a connection field.
    #[must_use]
    pub fn field(mut self, field: Field) -> Self {
        self.0.connection_fields.push(field.0);
        self
    }

    /// Adds an egress rule.
    #[must_use]
    pub fn egress(mut self, rule: Egress) -> Self {
        self.0.egress.push(match rule {
            Egress::Host(h) => wit::EgressRule::Host(h),
            Egress::BaseUrl => wit::EgressRule::BaseUrl,
        });
        self
    }

    /// Adds an operation.
    #[must_use]
    pub fn operation(mut self, operation: Operation) -> Self {
        self.0.operations.push(operation.0);
        self
    }

    pub(crate) fn into_wit(self) -> wit::ConnectorInfo {
        self.0
    }
}

/// What a transform says about itself.
#[derive(Debug, Clone)]
pub struct TransformInfo(wit::TransformInfo);

impl TransformInfo {
    /// A transform named `name` at `version` whose config decodes into `C`.
    pub fn new<C: JsonSchema>(name: &str, version: &str, title: &str) -> Self {
        Self(wit::TransformInfo {
            name: name.to_owned(),
            version: version.to_owned(),
            title: title.to_owned(),
            description: String::new(),
            config_schema: schemars::schema_for!(C).as_value().to_string(),
        })
    }

    /// What the transform does.
    #[must_use]
    pub fn description(mut self, text: &str) -> Self {
        self.0.description = text.to_owned();
        self
    }

    pub(crate) fn into_wit(self) -> wit::TransformInfo {
        self.0
    }
}
