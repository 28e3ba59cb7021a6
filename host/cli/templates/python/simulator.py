"""Test helpers: start weft-sim, run weft in a scratch WEFT_HOME, and fetch
JSON from the simulators. Standard library only."""

import json
import os
import shutil
import subprocess
import tempfile
import urllib.request

# The storefront's token in the simulators' default configuration.
SHOP_TOKEN = "weft-shop-token"


class Sim:
    """A running weft-sim; stop() ends it."""

    def __init__(self):
        self.process = subprocess.Popen(
            [os.environ.get("WEFT_SIM", "weft-sim"), "--port", "0", "--jackyun-trades", "25"],
            stdout=subprocess.PIPE,
            text=True,
        )
        first = self.process.stdout.readline().strip()
        prefix = "weft-sim listening on "
        if not first.startswith(prefix):
            self.stop()
            raise RuntimeError(f"unexpected first line from weft-sim: {first!r}")
        self.origin = first[len(prefix):]

    def get(self, path: str):
        request = urllib.request.Request(self.origin + path, headers={"Authorization": f"Bearer {SHOP_TOKEN}"})
        with urllib.request.urlopen(request) as reply:
            return json.load(reply)

    def stop(self):
        self.process.kill()
        self.process.wait()


class Home:
    """A scratch WEFT_HOME; remove() deletes it."""

    def __init__(self):
        self.path = tempfile.mkdtemp(prefix="weft-test-")

    def weft(self, *args, stdin=None):
        env = dict(os.environ, WEFT_HOME=self.path)
        return subprocess.run(
            [os.environ.get("WEFT", "weft"), *args], input=stdin, capture_output=True, text=True, env=env
        )

    def ok(self, *args, stdin=None) -> str:
        run = self.weft(*args, stdin=stdin)
        if run.returncode != 0:
            raise AssertionError(f"weft {' '.join(args)} failed:\n{run.stderr}")
        return run.stdout

    def install_plugin(self):
        self.ok("plugin", "install", os.environ.get("PLUGIN_WASM", "__CRATE__.wasm"))

    def remove(self):
        shutil.rmtree(self.path, ignore_errors=True)
