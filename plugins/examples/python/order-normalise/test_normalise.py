"""Unit tests of the transform's logic, without the component:
`python3 -m unittest` in this directory."""

import unittest

from normalise import Normaliser, RecordError, parse_amount


class Amounts(unittest.TestCase):
    def test_storefront_text_becomes_numbers(self):
        self.assertEqual(parse_amount("¥1,234.50", 2), 1234.5)
        self.assertEqual(parse_amount(" CNY 12 ", 2), 12.0)
        self.assertEqual(parse_amount("-¥0.125", 2), -0.13)
        self.assertEqual(parse_amount("¥-2.5", 0), -3.0)
        self.assertEqual(parse_amount(7, 2), 7.0)
        self.assertEqual(parse_amount(0.005, 2), 0.01)
        self.assertEqual(parse_amount("-0.001", 2), 0.0)

    def test_refuses_what_is_not_an_amount(self):
        for bad in ("12abc", "", "¥", "1.2.3", True, None, [1]):
            self.assertIsNone(parse_amount(bad, 2), bad)


class Records(unittest.TestCase):
    def test_lines_are_normalised_and_remapped(self):
        n = Normaliser({"sku_map": {"OLD-1": "SKU00001"}, "sku_prefix": {"from": "SP-", "to": "SKU"}})
        out = n.record(0, {"id": "A", "total": "¥30.00", "lines": [
            {"sku": "SP-00012", "price": "¥10.00", "amount": "¥20.00"},
            {"sku": "OLD-1", "price": "10", "amount": "10"},
        ]})
        self.assertEqual(out["total"], 30.0)
        self.assertEqual([l["sku"] for l in out["lines"]], ["SKU00012", "SKU00001"])
        self.assertEqual(out["lines"][0]["amount"], 20.0)

    def test_errors_name_the_record_line_and_field(self):
        n = Normaliser({"sku_prefix": {"from": "SP-", "to": "SKU"}})
        with self.assertRaisesRegex(RecordError, r"record 1 \(id \"B\"\) line 0: SKU 'X-1' has no mapping"):
            n.record(1, {"id": "B", "lines": [{"sku": "X-1"}]})
        with self.assertRaisesRegex(RecordError, r"record 0 line 0: field 'price': \"abc\" is not an amount"):
            n.record(0, {"lines": [{"price": "abc"}]})


if __name__ == "__main__":
    unittest.main()
