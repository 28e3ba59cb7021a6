"""The connector against weft's simulators, through the weft binary."""

import json
import unittest

from simulator import SHOP_TOKEN, Home, Sim


class AgainstTheSimulators(unittest.TestCase):
    def setUp(self):
        self.sim = Sim()
        self.addCleanup(self.sim.stop)
        self.home = Home()
        self.addCleanup(self.home.remove)
        self.home.install_plugin()
        self.home.ok("tenant", "add", "dev")

    def add_connection(self, name, token):
        # The simulators run on loopback, which the sandbox refuses unless
        # the connection allows it.
        self.home.ok(
            "connection", "add", name, "--tenant", "dev", "--plugin", "__NAME__",
            "--set", f"base_url={self.sim.origin}", "--secret", f"token={token}",
            "--allow-address", "127.0.0.1",
        )

    def test_reads_every_order_page_by_page(self):
        self.add_connection("shop", SHOP_TOKEN)
        self.home.ok("connection", "check", "shop", "--tenant", "dev")
        read = json.loads(self.home.ok(
            "connection", "read", "shop", "--tenant", "dev", "--operation", "orders",
            "--params", '{"page_size": 7}', "--pages", "0",
        ))
        total = self.sim.get("/shop/v1/orders?per_page=1")["total"]
        ids = [r["id"] for r in read["records"]]
        self.assertEqual(len(ids), total, "every order")
        self.assertEqual(len(set(ids)), total, "no order twice")
        self.assertEqual(read["pages"], -(-total // 7))

    def test_a_wrong_token_is_an_auth_error(self):
        self.add_connection("wrong", "not-the-token")
        run = self.home.weft("connection", "check", "wrong", "--tenant", "dev")
        self.assertNotEqual(run.returncode, 0)
        self.assertIn("auth", run.stderr)


if __name__ == "__main__":
    unittest.main()
