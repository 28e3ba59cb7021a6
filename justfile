# weft's commands. `just --list` shows them; the README's quick start uses
# `just demo` and `just test`.

set shell := ["bash", "-euo", "pipefail", "-c"]

# Everything builds in the release profile: wasmtime compiles once, and
# tests, benchmarks and the demo share the same artifacts.
cargo := "cargo"

# Install what building and testing need (idempotent, quick when done).
setup:
    rustup target add wasm32-wasip2 >/dev/null
    command -v cargo-nextest >/dev/null || {{cargo}} install cargo-nextest --locked
    # The official Kingdee Python SDK, which the K3Cloud simulator must satisfy.
    test -x .venv/bin/python || python3 -m venv .venv
    .venv/bin/pip install --quiet --disable-pip-version-check -r tests/sim/python/requirements.txt

# Build the plugins (WebAssembly components, wasm32-wasip2 only).
build-plugins: setup
    cd plugins && {{cargo}} build --release

# Build the host (the `weft` binary, the simulators) and the plugins.
build: build-plugins
    {{cargo}} build --release --workspace

# Run every test: host and end-to-end tests, then the plugins' native unit
# tests (signing vectors, request building, reply parsing).
test: build
    {{cargo}} nextest run --release --workspace --no-fail-fast
    cd plugins && {{cargo}} test --target x86_64-unknown-linux-gnu --workspace

# Lints as CI would run them.
lint:
    {{cargo}} fmt --all -- --check
    cd plugins && {{cargo}} fmt --all -- --check
    {{cargo}} clippy --release --workspace --all-targets -- -D warnings
    cd plugins && {{cargo}} clippy --release --workspace -- -D warnings

# Benchmarks: plugin call overhead (medians).
bench: build-plugins
    {{cargo}} bench -p weft-runtime --bench plugin_calls

# Install every first-party plugin into a throw-away WEFT_HOME and show them.
demo: build
    #!/usr/bin/env bash
    set -euo pipefail
    export WEFT_HOME="${WEFT_HOME:-$(mktemp -d)}"
    for wasm in plugins/target/wasm32-wasip2/release/{wdt,qimen,jst,jackyun,k3cloud,jdy,http_json}.wasm; do
        target/release/weft plugin install "$wasm"
    done
    target/release/weft plugin list
    target/release/weft plugin inspect http-json
    echo "WEFT_HOME=$WEFT_HOME"
