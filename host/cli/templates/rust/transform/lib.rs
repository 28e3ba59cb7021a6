//! __NAME__: a weft transform.
//!
//! It sets one field on every record, from its config. Replace the body of
//! `transform` with your own record processing; keep it pure: a transform
//! has no network, and the same input must give the same output.

use weft_plugin_sdk::prelude::*;

struct Plugin;

/// The scheme's config of this step; its JSON Schema is derived from this
/// type, and the host validates the config against it.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct Config {
    /// The field set on every record.
    field: String,
    /// The value it gets.
    value: Value,
}

impl Transform for Plugin {
    fn describe() -> TransformInfo {
        TransformInfo::new::<Config>("__NAME__", env!("CARGO_PKG_VERSION"), "__TITLE__")
            .description("Sets one field on every record.")
    }

    fn transform(config: Params, records: Vec<Value>) -> Result<Vec<Value>> {
        let config: Config = config.parse()?;
        records
            .into_iter()
            .enumerate()
            .map(|(i, mut record)| {
                let fields = record
                    .as_object_mut()
                    .ok_or_else(|| Error::invalid(format!("record {i} is not a JSON object")))?;
                fields.insert(config.field.clone(), config.value.clone());
                Ok(record)
            })
            .collect()
    }
}

export_transform!(Plugin);

#[cfg(test)]
mod simulator;
#[cfg(test)]
mod simulator_test;
