// Test helpers: start weft-sim, run weft in a scratch WEFT_HOME, and fetch
// JSON from the simulators. Node's standard library only.

import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";

// The storefront's token in the simulators' default configuration.
export const SHOP_TOKEN = "weft-shop-token";

export async function startSim() {
  const child = spawn(process.env.WEFT_SIM ?? "weft-sim", ["--port", "0", "--jackyun-trades", "25"], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const lines = createInterface({ input: child.stdout });
  const first = await new Promise((resolve, reject) => {
    lines.once("line", resolve);
    child.once("error", reject);
  });
  const prefix = "weft-sim listening on ";
  if (!first.startsWith(prefix)) {
    child.kill();
    throw new Error(`unexpected first line from weft-sim: ${first}`);
  }
  const origin = first.slice(prefix.length).trim();
  return {
    origin,
    async get(path) {
      const reply = await fetch(origin + path, { headers: { authorization: `Bearer ${SHOP_TOKEN}` } });
      if (!reply.ok) throw new Error(`GET ${path}: HTTP ${reply.status}`);
      return reply.json();
    },
    stop() {
      lines.close();
      child.kill();
    },
  };
}

export function scratchHome() {
  const path = mkdtempSync(join(tmpdir(), "weft-test-"));
  const weft = (args, input) =>
    spawnSync(process.env.WEFT ?? "weft", args, {
      env: { ...process.env, WEFT_HOME: path },
      input: input ?? "",
      encoding: "utf8",
    });
  return {
    path,
    weft,
    ok(args, input) {
      const run = weft(args, input);
      if (run.status !== 0) throw new Error(`weft ${args.join(" ")} failed:\n${run.stderr}`);
      return run.stdout;
    },
    installPlugin() {
      this.ok(["plugin", "install", process.env.PLUGIN_WASM ?? "__CRATE__.wasm"]);
    },
    remove() {
      rmSync(path, { recursive: true, force: true });
    },
  };
}
