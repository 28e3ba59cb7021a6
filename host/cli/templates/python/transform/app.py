"""__NAME__: a weft transform, in Python.

It sets one field on every record, from its config. Replace the body of
`transform` with your own record processing; keep it pure: a transform has
no network, and the same input must give the same output.
"""

import json

from componentize_py_types import Err
from wit_world import exports
from wit_world.imports.types import PluginError_Fatal, PluginError_Invalid, TransformInfo

# The host validates the scheme's config against this before any call.
CONFIG_SCHEMA = {
    "type": "object",
    "required": ["field", "value"],
    "additionalProperties": False,
    "properties": {
        "field": {"type": "string", "description": "The field set on every record."},
        "value": {"description": "The value it gets."},
    },
}


class TransformApi(exports.TransformApi):
    def describe(self) -> TransformInfo:
        return TransformInfo(
            name="__NAME__",
            version="0.1.0",
            title="__TITLE__",
            description="Sets one field on every record.",
            config_schema=json.dumps(CONFIG_SCHEMA),
        )

    def transform(self, config: str, records: str) -> str:
        config = json.loads(config)
        # `weft plugin transform` and schemes validate the config first;
        # a direct caller may not have.
        missing = [k for k in CONFIG_SCHEMA["required"] if k not in config]
        if missing:
            raise Err(PluginError_Fatal(f"config: missing field(s) {', '.join(missing)} ('value' and 'field' are required)"))
        out = []
        for i, record in enumerate(json.loads(records)):
            if not isinstance(record, dict):
                raise Err(PluginError_Invalid(f"record {i} is not a JSON object"))
            record[config["field"]] = config["value"]
            out.append(record)
        return json.dumps(out, ensure_ascii=False)
