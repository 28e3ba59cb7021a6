// The connector against weft's simulators, through the weft binary.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { SHOP_TOKEN, scratchHome, startSim } from "./simulator.mjs";

let sim;
let home;

before(async () => {
  sim = await startSim();
  home = scratchHome();
  home.installPlugin();
  home.ok(["tenant", "add", "dev"]);
});

after(() => {
  sim?.stop();
  home?.remove();
});

// The simulators run on loopback, which the sandbox refuses unless the
// connection allows it.
const addConnection = (name, token) =>
  home.ok([
    "connection", "add", name, "--tenant", "dev", "--plugin", "__NAME__",
    "--set", `base_url=${sim.origin}`, "--secret", `token=${token}`, "--allow-address", "127.0.0.1",
  ]);

test("reads every order, page by page", async () => {
  addConnection("shop", SHOP_TOKEN);
  home.ok(["connection", "check", "shop", "--tenant", "dev"]);
  const read = JSON.parse(
    home.ok(["connection", "read", "shop", "--tenant", "dev", "--operation", "orders", "--params", '{"page_size": 7}', "--pages", "0"]),
  );
  const { total } = await sim.get("/shop/v1/orders?per_page=1");
  const ids = read.records.map((r) => r.id);
  assert.equal(ids.length, total, "every order");
  assert.equal(new Set(ids).size, total, "no order twice");
  assert.equal(read.pages, Math.ceil(total / 7));
});

test("a wrong token is an auth error", () => {
  addConnection("wrong", "not-the-token");
  const run = home.weft(["connection", "check", "wrong", "--tenant", "dev"]);
  assert.notEqual(run.status, 0);
  assert.match(run.stderr, /auth/);
});
