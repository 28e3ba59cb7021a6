"""order-normalise-py: amount normalisation and SKU re-mapping, in Python.

The same transform exists in Rust (plugins/examples/rust/order-normalise) and
JavaScript (plugins/examples/js/order-normalise); all three give the same
output for the same input, so `just bench-languages` compares like with like.

Built with componentize-py against weft's `transform` world:

    componentize-py -d ../../../../wit -w transform componentize app -o order_normalise_py.wasm
"""

import json

from componentize_py_types import Err
from wit_world import exports
from wit_world.imports import log
from wit_world.imports.types import PluginError_Fatal, PluginError_Invalid, TransformInfo

from normalise import Normaliser, RecordError

CONFIG_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "lines": {"type": "string", "description": "The field holding each record's line items (default `lines`)."},
        "sku": {"type": "string", "description": "The line field holding the SKU (default `sku`)."},
        "amounts": {
            "type": "array",
            "items": {"type": "string"},
            "description": "Fields normalised to numbers, on the record and on each line (default `price`, `amount`, `total`).",
        },
        "decimals": {"type": "integer", "minimum": 0, "maximum": 6, "description": "Decimal places kept, rounding half away from zero (default 2)."},
        "sku_map": {
            "type": "object",
            "additionalProperties": {"type": "string"},
            "description": "SKUs replaced one for one; checked before `sku_prefix`.",
        },
        "sku_prefix": {
            "type": "object",
            "required": ["from", "to"],
            "additionalProperties": False,
            "properties": {"from": {"type": "string"}, "to": {"type": "string"}},
            "description": "A SKU starting with `from` gets `to` instead of that prefix.",
        },
        "key": {"type": "string", "description": "The record field named in error messages (default `id`)."},
    },
}


class TransformApi(exports.TransformApi):
    def describe(self) -> TransformInfo:
        return TransformInfo(
            name="order-normalise-py",
            version="0.1.0",
            title="Order normalisation (Python)",
            description="Turns amount text such as '¥1,234.50' into numbers and re-maps line SKUs "
            "to the target's material numbers.",
            config_schema=json.dumps(CONFIG_SCHEMA),
        )

    def transform(self, config: str, records: str) -> str:
        try:
            normaliser = Normaliser(json.loads(config))
        except (ValueError, TypeError) as e:
            raise Err(PluginError_Fatal(f"config: {e}"))
        try:
            batch = json.loads(records)
        except ValueError as e:
            raise Err(PluginError_Fatal(f"records are not JSON: {e}"))
        try:
            out = [normaliser.record(i, r) for i, r in enumerate(batch)]
        except RecordError as e:
            raise Err(PluginError_Invalid(str(e)))
        if normaliser.remapped:
            log.emit(log.Level.DEBUG, "re-mapped SKUs", [("lines", str(normaliser.remapped))])
        return json.dumps(out, ensure_ascii=False, separators=(",", ":"))
