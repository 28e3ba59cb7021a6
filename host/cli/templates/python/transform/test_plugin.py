"""The transform on orders from weft's simulators, through the weft binary."""

import json
import unittest

from simulator import Home, Sim


class OnSimulatorOrders(unittest.TestCase):
    def setUp(self):
        self.sim = Sim()
        self.addCleanup(self.sim.stop)
        self.home = Home()
        self.addCleanup(self.home.remove)
        self.home.install_plugin()

    def test_stamps_every_order(self):
        orders = self.sim.get("/shop/v1/orders?per_page=10")["orders"]
        out = json.loads(self.home.ok(
            "plugin", "transform", "__NAME__", "--config", '{"field": "channel", "value": "shop"}',
            stdin=json.dumps(orders),
        ))
        self.assertEqual(len(out), len(orders))
        for after, before in zip(out, orders):
            self.assertEqual(after["channel"], "shop")
            self.assertEqual(after["id"], before["id"], "order and ids kept")

    def test_a_bad_config_fails(self):
        run = self.home.weft("plugin", "transform", "__NAME__", "--config", '{"field": "channel"}', stdin="[]")
        self.assertNotEqual(run.returncode, 0, "a config without 'value' must fail")
        self.assertIn("value", run.stderr)


if __name__ == "__main__":
    unittest.main()
