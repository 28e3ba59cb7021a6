"""The transform's logic, free of WIT bindings so that plain Python can test
it: `python3 -m unittest` in this directory.

Amounts are rounded on their decimal digits, not on binary floats, so the
Rust, Python and JavaScript versions of this transform agree to the last
digit on every input.
"""

import json
import re

# Currency marks a storefront may put around an amount.
CURRENCY = ("¥", "￥", "$", "CNY", "RMB")
DIGITS = re.compile(r"^(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)$")


class RecordError(Exception):
    """A record that cannot be transformed: the plugin answers `invalid`."""


def json_text(value) -> str:
    return json.dumps(value, ensure_ascii=False)


def strip_currency(text: str) -> str:
    changed = True
    while changed:
        changed = False
        text = text.strip()
        for mark in CURRENCY:
            if text.startswith(mark):
                text, changed = text[len(mark):], True
            if text.endswith(mark):
                text, changed = text[: -len(mark)], True
    return text


def parse_amount(value, decimals: int):
    """'¥1,234.505' -> 1234.51 (decimals=2): currency marks and thousands
    separators dropped, rounded half away from zero. None when `value` is
    not an amount."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    text = strip_currency(str(value))
    negative = text.startswith("-")
    if negative:
        text = strip_currency(text[1:])
    text = text.replace(",", "")
    if not DIGITS.match(text):
        return None
    whole, _, fraction = text.partition(".")
    kept = (fraction + "0" * decimals)[:decimals]
    units = int((whole or "0") + kept)
    if len(fraction) > decimals and fraction[decimals] >= "5":
        units += 1
    if units == 0:
        return 0.0
    number = units / 10**decimals
    return -number if negative else number


class Normaliser:
    def __init__(self, config):
        if not isinstance(config, dict):
            raise TypeError("must be a JSON object")
        self.lines = config.get("lines", "lines")
        self.sku = config.get("sku", "sku")
        self.amounts = config.get("amounts", ["price", "amount", "total"])
        self.decimals = int(config.get("decimals", 2))
        self.sku_map = config.get("sku_map", {})
        prefix = config.get("sku_prefix") or {}
        self.prefix_from = prefix.get("from")
        self.prefix_to = prefix.get("to", "")
        self.key = config.get("key", "id")
        self.remapped = 0

    def name(self, index: int, record: dict) -> str:
        key = record.get(self.key)
        return f"record {index}" if key is None else f"record {index} ({self.key} {json_text(key)})"

    def remap(self, where: str, sku):
        if not isinstance(sku, str):
            raise RecordError(f"{where}: SKU {json_text(sku)} is not text")
        if sku in self.sku_map:
            self.remapped += 1
            return self.sku_map[sku]
        if self.prefix_from is not None and sku.startswith(self.prefix_from):
            self.remapped += 1
            return self.prefix_to + sku[len(self.prefix_from):]
        raise RecordError(f"{where}: SKU '{sku}' has no mapping (not in sku_map, no sku_prefix match)")

    def fields(self, where: str, obj: dict) -> None:
        for field in self.amounts:
            value = obj.get(field)
            if value is None:
                continue
            number = parse_amount(value, self.decimals)
            if number is None:
                raise RecordError(f"{where}: field '{field}': {json_text(value)} is not an amount")
            obj[field] = number

    def record(self, index: int, record) -> dict:
        if not isinstance(record, dict):
            raise RecordError(f"record {index} is not a JSON object")
        name = self.name(index, record)
        self.fields(name, record)
        lines = record.get(self.lines)
        if lines is None:
            return record
        if not isinstance(lines, list):
            raise RecordError(f"{name}: field '{self.lines}' is not a list")
        for n, line in enumerate(lines):
            where = f"{name} line {n}"
            if not isinstance(line, dict):
                raise RecordError(f"{where} is not a JSON object")
            self.fields(where, line)
            if self.sku in line:
                line[self.sku] = self.remap(where, line[self.sku])
        return record
