//! Connections: a tenant's credentials and settings for one connector.
//!
//! Settings are validated against the connector's declared fields when a
//! connection is added. Secret fields are sealed ([`crate::secrets`]) and
//! only opened to build the config of a plugin call; listing a connection
//! shows which secrets are set, never their values.

use std::collections::BTreeMap;

use ipnet::IpNet;
use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use serde_json::{Map, Value};
use weft_runtime::{ConnectorInfo, FieldKind};

use crate::tenants::check_id;
use crate::{SqliteStore, StoreError, now};

/// What a user typed: `--set k=v`, `--secret k=v`, `--allow-address`.
#[derive(Debug, Clone, Default)]
pub struct ConnectionInput {
    /// Non-secret settings, as text.
    pub settings: Vec<(String, String)>,
    /// Secret settings, as text.
    pub secrets: Vec<(String, String)>,
    /// Blocked addresses the operator allows this connection to reach.
    pub allowed_addresses: Vec<IpNet>,
    /// Requests per period shared by every scheme using the connection,
    /// e.g. `20/s`.
    pub rate_limit: Option<RateLimit>,
}

/// A request rate: `count` requests per `per`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RateLimit {
    /// Requests allowed…
    pub count: u32,
    /// …per this period.
    #[serde(with = "period")]
    pub per: std::time::Duration,
}

mod period {
    pub fn serialize<S: serde::Serializer>(
        d: &std::time::Duration,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("{}s", d.as_secs_f64()))
    }
}

impl std::str::FromStr for RateLimit {
    type Err = String;

    /// `20/s`, `600/m`, `10000/h`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("'{s}' is not a rate like 20/s, 600/m or 10000/h");
        let (count, unit) = s.trim().split_once('/').ok_or_else(bad)?;
        let count: u32 = count.trim().parse().map_err(|_| bad())?;
        let per = match unit.trim() {
            "s" | "sec" | "second" => std::time::Duration::from_secs(1),
            "m" | "min" | "minute" => std::time::Duration::from_secs(60),
            "h" | "hour" => std::time::Duration::from_secs(3600),
            _ => return Err(bad()),
        };
        if count == 0 {
            return Err(bad());
        }
        Ok(Self { count, per })
    }
}

impl std::fmt::Display for RateLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let unit = match self.per.as_secs() {
            1 => "s",
            60 => "m",
            _ => "h",
        };
        write!(f, "{}/{unit}", self.count)
    }
}

/// A connection checked against its connector, ready to store.
#[derive(Debug, Clone)]
pub struct NewConnection {
    tenant: String,
    name: String,
    plugin: String,
    settings: Map<String, Value>,
    secrets: Map<String, Value>,
    allowed_addresses: Vec<IpNet>,
    rate_limit: Option<RateLimit>,
}

/// A stored connection, without its secret values.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Connection {
    /// The tenant.
    pub tenant: String,
    /// The connection's name within the tenant.
    pub name: String,
    /// The connector plugin's name.
    pub plugin: String,
    /// Non-secret settings.
    pub settings: Map<String, Value>,
    /// Names of the secrets that are set.
    pub secrets: Vec<String>,
    /// Blocked addresses allowed for this connection.
    pub allowed_addresses: Vec<String>,
    /// The shared request rate, when limited.
    pub rate_limit: Option<String>,
    /// When it was added.
    pub created_at: String,
    /// When it last changed.
    pub updated_at: String,
}

fn typed(kind: FieldKind, field: &str, text: &str) -> Result<Value, String> {
    match kind {
        FieldKind::Text => Ok(Value::String(text.to_owned())),
        FieldKind::Url => url::Url::parse(text)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .map(|_| Value::String(text.to_owned()))
            .ok_or_else(|| format!("'{field}': '{text}' is not an http(s) URL")),
        FieldKind::Integer => text
            .parse::<i64>()
            .map(Value::from)
            .map_err(|_| format!("'{field}': '{text}' is not a whole number")),
        FieldKind::Boolean => match text {
            "true" | "yes" | "1" => Ok(Value::Bool(true)),
            "false" | "no" | "0" => Ok(Value::Bool(false)),
            _ => Err(format!("'{field}': '{text}' is not true or false")),
        },
    }
}

impl ConnectionInput {
    /// Checks the input against the connector's fields: every field known,
    /// secrets given as secrets, values of the right kind, required fields
    /// present (or defaulted).
    ///
    /// # Errors
    /// [`StoreError::Invalid`] listing every problem.
    pub fn validate(
        self,
        tenant: &str,
        name: &str,
        info: &ConnectorInfo,
    ) -> Result<NewConnection, StoreError> {
        let mut problems = Vec::new();
        if let Err(StoreError::Invalid(p)) = check_id(name) {
            problems.extend(
                p.into_iter()
                    .map(|m| m.replace("tenant id", "connection name")),
            );
        }
        let mut settings = Map::new();
        let mut secrets = Map::new();
        let known: Vec<&str> = info
            .connection_fields
            .iter()
            .map(|f| f.name.as_str())
            .collect();
        for (given_as_secret, (key, text)) in self
            .settings
            .iter()
            .map(|kv| (false, kv))
            .chain(self.secrets.iter().map(|kv| (true, kv)))
        {
            let Some(field) = info.connection_fields.iter().find(|f| &f.name == key) else {
                problems.push(format!(
                    "'{key}' is not a field of connector {} (fields: {})",
                    info.name,
                    known.join(", ")
                ));
                continue;
            };
            if field.secret && !given_as_secret {
                problems.push(format!(
                    "'{key}' is a secret: pass it with --secret, not --set, so it is encrypted"
                ));
                continue;
            }
            match typed(field.kind, key, text) {
                Ok(v) if field.secret => {
                    secrets.insert(key.clone(), v);
                }
                Ok(v) => {
                    settings.insert(key.clone(), v);
                }
                Err(p) => problems.push(p),
            }
        }
        for f in &info.connection_fields {
            let given = settings.contains_key(&f.name) || secrets.contains_key(&f.name);
            if f.required && !given && f.default_value.is_none() {
                problems.push(format!(
                    "'{}' ({}) is required{}",
                    f.name,
                    f.title,
                    if f.secret {
                        "; pass it with --secret"
                    } else {
                        ""
                    }
                ));
            }
        }
        if !problems.is_empty() {
            return Err(StoreError::Invalid(problems));
        }
        Ok(NewConnection {
            tenant: tenant.to_owned(),
            name: name.to_owned(),
            plugin: info.name.clone(),
            settings,
            secrets,
            allowed_addresses: self.allowed_addresses,
            rate_limit: self.rate_limit,
        })
    }
}

fn context(tenant: &str, name: &str) -> String {
    format!("connection {tenant}/{name}")
}

type Row = (
    String,
    String,
    String,
    String,
    Option<Vec<u8>>,
    String,
    Option<String>,
    String,
    String,
);

const COLUMNS: &str = "tenant, name, plugin, settings, secrets, allowed_addresses, rate_limit, created_at, updated_at";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Row> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
        r.get(8)?,
    ))
}

impl SqliteStore {
    /// Stores a connection; with `replace`, over an existing one of the
    /// same name.
    ///
    /// # Errors
    /// An unknown tenant, an existing connection without `replace`, or a
    /// database error.
    pub fn add_connection(
        &self,
        c: NewConnection,
        replace: bool,
    ) -> Result<Connection, StoreError> {
        self.tenant(&c.tenant)?;
        let secrets = if c.secrets.is_empty() {
            None
        } else {
            let plain = serde_json::to_vec(&c.secrets)
                .map_err(|e| StoreError::Damaged(format!("secrets: {e}")))?;
            Some(self.key().seal(&context(&c.tenant, &c.name), &plain)?)
        };
        let allowed: Vec<String> = c
            .allowed_addresses
            .iter()
            .map(ToString::to_string)
            .collect();
        let settings = Value::Object(c.settings.clone()).to_string();
        let allowed_json = serde_json::to_string(&allowed).unwrap_or_else(|_| "[]".into());
        let rate = c.rate_limit.map(|r| r.to_string());
        let at = now();
        let db = self.db();
        let on_conflict = if replace {
            "ON CONFLICT (tenant, name) DO UPDATE SET plugin = ?3, settings = ?4, secrets = ?5,
                 allowed_addresses = ?6, rate_limit = ?7, updated_at = ?8"
        } else {
            "ON CONFLICT DO NOTHING"
        };
        let changed = db.execute(
            &format!(
                "INSERT INTO connections ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8) {on_conflict}"
            ),
            params![c.tenant, c.name, c.plugin, settings, secrets, allowed_json, rate, at],
        )?;
        drop(db);
        if changed == 0 {
            return Err(StoreError::Exists(format!(
                "connection '{}' of tenant '{}' (pass --replace to overwrite it)",
                c.name, c.tenant
            )));
        }
        self.connection(&c.tenant, &c.name)
    }

    fn read_connection(&self, row: Row) -> Result<(Connection, Option<Vec<u8>>), StoreError> {
        let (tenant, name, plugin, settings, sealed, allowed, rate_limit, created_at, updated_at) =
            row;
        let settings = match serde_json::from_str(&settings) {
            Ok(Value::Object(m)) => m,
            _ => return Err(StoreError::Damaged(format!("settings of {tenant}/{name}"))),
        };
        let allowed_addresses: Vec<String> = serde_json::from_str(&allowed)
            .map_err(|_| StoreError::Damaged(format!("allowed addresses of {tenant}/{name}")))?;
        let secrets = match &sealed {
            Some(blob) => {
                let plain = self.key().open(&context(&tenant, &name), blob)?;
                let map: BTreeMap<String, Value> = serde_json::from_slice(&plain)
                    .map_err(|_| StoreError::Damaged(format!("secrets of {tenant}/{name}")))?;
                map.into_keys().collect()
            }
            None => Vec::new(),
        };
        Ok((
            Connection {
                tenant,
                name,
                plugin,
                settings,
                secrets,
                allowed_addresses,
                rate_limit,
                created_at,
                updated_at,
            },
            sealed,
        ))
    }

    fn connection_row(&self, tenant: &str, name: &str) -> Result<Row, StoreError> {
        self.db()
            .query_row(
                &format!("SELECT {COLUMNS} FROM connections WHERE tenant = ?1 AND name = ?2"),
                params![tenant, name],
                row,
            )
            .optional()?
            .ok_or_else(|| {
                StoreError::NotFound(format!("connection '{name}' of tenant '{tenant}'"))
            })
    }

    /// One connection, without secret values.
    ///
    /// # Errors
    /// [`StoreError::NotFound`], or secrets that cannot be opened.
    pub fn connection(&self, tenant: &str, name: &str) -> Result<Connection, StoreError> {
        let row = self.connection_row(tenant, name)?;
        Ok(self.read_connection(row)?.0)
    }

    /// A tenant's connections, by name.
    ///
    /// # Errors
    /// Database errors, or secrets that cannot be opened.
    pub fn connections(&self, tenant: &str) -> Result<Vec<Connection>, StoreError> {
        let rows: Vec<Row> = {
            let db = self.db();
            let mut stmt = db.prepare(&format!(
                "SELECT {COLUMNS} FROM connections WHERE tenant = ?1 ORDER BY name"
            ))?;
            let rows = stmt.query_map([tenant], row)?;
            rows.collect::<Result<_, _>>()?
        };
        rows.into_iter()
            .map(|row| self.read_connection(row).map(|(c, _)| c))
            .collect()
    }

    /// The config a plugin call gets: the connector's defaults, then the
    /// settings, then the opened secrets; and the allowed addresses.
    ///
    /// # Errors
    /// [`StoreError::NotFound`], or secrets that cannot be opened.
    pub fn connection_config(
        &self,
        tenant: &str,
        name: &str,
        info: &ConnectorInfo,
    ) -> Result<(Map<String, Value>, Vec<IpNet>), StoreError> {
        let row = self.connection_row(tenant, name)?;
        let (connection, sealed) = self.read_connection(row)?;
        let mut config = Map::new();
        for f in &info.connection_fields {
            if let Some(d) = &f.default_value
                && let Ok(v) = typed(f.kind, &f.name, d)
            {
                config.insert(f.name.clone(), v);
            }
        }
        config.extend(connection.settings);
        if let Some(blob) = sealed {
            let plain = self.key().open(&context(tenant, name), &blob)?;
            let secrets: Map<String, Value> = serde_json::from_slice(&plain)
                .map_err(|_| StoreError::Damaged(format!("secrets of {tenant}/{name}")))?;
            config.extend(secrets);
        }
        let allowed = connection
            .allowed_addresses
            .iter()
            .filter_map(|a| a.parse().ok())
            .collect();
        Ok((config, allowed))
    }

    /// Removes a connection.
    ///
    /// # Errors
    /// [`StoreError::NotFound`].
    pub fn remove_connection(&self, tenant: &str, name: &str) -> Result<(), StoreError> {
        let n = self.db().execute(
            "DELETE FROM connections WHERE tenant = ?1 AND name = ?2",
            params![tenant, name],
        )?;
        if n == 0 {
            return Err(StoreError::NotFound(format!(
                "connection '{name}' of tenant '{tenant}'"
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use weft_runtime::{ConnectionField, Direction, OperationInfo};

    fn info() -> ConnectorInfo {
        let field = |name: &str, kind, required, secret, default: Option<&str>| ConnectionField {
            name: name.into(),
            title: name.into(),
            description: String::new(),
            kind,
            required,
            secret,
            default_value: default.map(Into::into),
        };
        ConnectorInfo {
            name: "wdt".into(),
            version: "0.1.0".into(),
            title: "wdt".into(),
            description: String::new(),
            connection_fields: vec![
                field(
                    "base_url",
                    FieldKind::Url,
                    false,
                    false,
                    Some("https://api.wangdian.cn"),
                ),
                field("sid", FieldKind::Text, true, false, None),
                field("appsecret", FieldKind::Text, true, true, None),
                field("page_size", FieldKind::Integer, false, false, None),
            ],
            egress: vec![],
            operations: vec![OperationInfo {
                id: "q".into(),
                title: "q".into(),
                description: String::new(),
                direction: Direction::Source,
                params_schema: serde_json::json!({}),
                key_pointer: None,
                max_window_secs: None,
                window_params: None,
                max_batch: None,
            }],
        }
    }

    fn store() -> (tempfile::TempDir, SqliteStore) {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = SqliteStore::open_with_key(
            &dir.path().join("weft.db"),
            crate::SecretKey::from_bytes([1; 32]),
        )
        .expect("open");
        store.add_tenant("acme", "Acme").expect("tenant");
        (dir, store)
    }

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn every_problem_is_reported() {
        let input = ConnectionInput {
            settings: pairs(&[
                ("appsecret", "x"),
                ("colour", "red"),
                ("page_size", "many"),
                ("base_url", "ftp://x"),
            ]),
            ..ConnectionInput::default()
        };
        let Err(StoreError::Invalid(problems)) = input.validate("acme", "wdt", &info()) else {
            panic!("must be invalid");
        };
        let text = problems.join("\n");
        assert!(
            text.contains("'appsecret' is a secret: pass it with --secret"),
            "{text}"
        );
        assert!(
            text.contains("'colour' is not a field of connector wdt"),
            "{text}"
        );
        assert!(
            text.contains("'page_size': 'many' is not a whole number"),
            "{text}"
        );
        assert!(text.contains("not an http(s) URL"), "{text}");
        assert!(text.contains("'sid' (sid) is required"), "{text}");
    }

    #[test]
    fn secrets_are_sealed_and_only_opened_for_calls() {
        let (dir, store) = store();
        let input = ConnectionInput {
            settings: pairs(&[("sid", "s1"), ("page_size", "50")]),
            secrets: pairs(&[("appsecret", "very-secret-value")]),
            allowed_addresses: vec!["127.0.0.1/32".parse().expect("net")],
            rate_limit: Some("20/s".parse().expect("rate")),
        };
        let c = store
            .add_connection(
                input
                    .clone()
                    .validate("acme", "wdt", &info())
                    .expect("valid"),
                false,
            )
            .expect("stored");
        assert_eq!(c.secrets, vec!["appsecret".to_owned()]);
        assert!(
            !serde_json::to_string(&c)
                .expect("json")
                .contains("very-secret-value")
        );
        let raw = std::fs::read(dir.path().join("weft.db")).expect("db file");
        let wal = std::fs::read(dir.path().join("weft.db-wal")).unwrap_or_default();
        for bytes in [raw, wal] {
            assert!(
                !bytes.windows(17).any(|w| w == b"very-secret-value"),
                "the secret is not in the database in clear"
            );
        }
        let (config, allowed) = store
            .connection_config("acme", "wdt", &info())
            .expect("config");
        assert_eq!(config["appsecret"], "very-secret-value");
        assert_eq!(config["page_size"], 50);
        assert_eq!(
            config["base_url"], "https://api.wangdian.cn",
            "defaults applied"
        );
        assert_eq!(allowed.len(), 1);
        let again = store.add_connection(
            input.validate("acme", "wdt", &info()).expect("valid"),
            false,
        );
        assert!(matches!(again, Err(StoreError::Exists(_))));
    }
}
