// The transform on orders from weft's simulators, through the weft binary.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { scratchHome, startSim } from "./simulator.mjs";

let sim;
let home;

before(async () => {
  sim = await startSim();
  home = scratchHome();
  home.installPlugin();
});

after(() => {
  sim?.stop();
  home?.remove();
});

test("stamps every order from the simulators", async () => {
  const { orders } = await sim.get("/shop/v1/orders?per_page=10");
  const out = JSON.parse(
    home.ok(["plugin", "transform", "__NAME__", "--config", '{"field": "channel", "value": "shop"}'], JSON.stringify(orders)),
  );
  assert.equal(out.length, orders.length);
  out.forEach((record, i) => {
    assert.equal(record.channel, "shop");
    assert.equal(record.id, orders[i].id, "order and ids kept");
  });
});

test("a bad config fails", () => {
  const run = home.weft(["plugin", "transform", "__NAME__", "--config", '{"field": "channel"}'], "[]");
  assert.notEqual(run.status, 0, "a config without 'value' must fail");
  assert.match(run.stderr, /value/);
});
