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

# Benchmarks: plugin call overhead (medians), then end-to-end throughput of
# the purchase-order scheme (WEFT_BENCH_ORDERS, default 100000) and peak RSS.
bench: build
    {{cargo}} bench -p weft-runtime --bench plugin_calls
    {{cargo}} bench -p weft-tests --bench throughput

# The main job, end to end: start the simulators, install the plugins, create
# the demo tenant and its connections, run the four pulled seed schemes and
# check in the simulators that every document arrived exactly once.
# State lives in target/demo (wiped first); nothing else to install or start.
demo: build
    #!/usr/bin/env bash
    set -euo pipefail
    export WEFT_HOME="$PWD/target/demo/home"
    rm -rf target/demo && mkdir -p target/demo
    weft=target/release/weft
    target/release/weft-sim --port 0 --purchase-orders 500 --stockout-returns 200 \
        --refunds 300 --jackyun-trades 400 > target/demo/sim.log 2>&1 &
    sim=$!
    trap 'kill $sim 2>/dev/null || true' EXIT
    for _ in $(seq 100); do
        grep -q "listening on" target/demo/sim.log && break
        sleep 0.1
    done
    export SIM_ORIGIN=$(sed -n 's/^weft-sim listening on //p' target/demo/sim.log)
    test -n "$SIM_ORIGIN" || { cat target/demo/sim.log; exit 1; }
    echo "simulators at $SIM_ORIGIN; WEFT_HOME=$WEFT_HOME"
    for p in wdt qimen jst k3cloud jdy; do
        $weft plugin install plugins/target/wasm32-wasip2/release/$p.wasm
    done
    $weft tenant add demo
    $weft connection apply schemes/simulator-connections.yaml --tenant demo
    schemes=(wdt-purchase-order-to-k3cloud wdt-qimen-stockout-return-to-jdy
             jst-refund-to-k3cloud-return jackyun-trade-to-k3cloud-outstock)
    for s in "${schemes[@]}"; do
        $weft scheme apply "schemes/$s.yaml" --tenant demo
        $weft scheme run "$s" --tenant demo --json > "target/demo/$s.json"
    done
    python3 - "$SIM_ORIGIN" "${schemes[@]}" <<'PY'
    import json, sys, urllib.request
    origin, schemes = sys.argv[1], sys.argv[2:]
    get = lambda path: json.load(urllib.request.urlopen(origin + path))
    datasets = get("/_sim/health")["datasets"]
    # scheme -> (source dataset, target system, target form)
    routes = {
        "wdt-purchase-order-to-k3cloud": ("purchase-orders", "k3cloud", "PUR_PurchaseOrder"),
        "wdt-qimen-stockout-return-to-jdy": ("stockout-returns", "jdy", "pur_return"),
        "jst-refund-to-k3cloud-return": ("refunds", "k3cloud", "SAL_RETURNSTOCK"),
        "jackyun-trade-to-k3cloud-outstock": ("jackyun-trades", "k3cloud", "SAL_OUTSTOCK"),
    }
    print(f"\n{'scheme':36} {'pulled':>7} {'written':>7} {'failed':>6} {'secs':>6}  target check")
    ok = True
    for s in schemes:
        c = json.load(open(f"target/demo/{s}.json"))["counts"]
        dataset, system, form = routes[s]
        log = get(f"/_sim/received/{system}/{form}")
        accepted = [k for k, n in log["counts"].items() if n["accepted"] > 0]
        twice = [k for k, n in log["counts"].items() if n["accepted"] > 1]
        good = not twice and len(accepted) == datasets[dataset] and c["failed"] == 0
        ok &= good
        verdict = f"{len(accepted)}/{datasets[dataset]} {form} exactly once" if good else \
            f"FAILED: {len(accepted)} of {datasets[dataset]} arrived, {len(twice)} twice"
        print(f"{s:36} {c['pulled']:7} {c['written']:7} {c['failed']:6} {c['elapsed_secs']:6.2f}  {verdict}")
    sys.exit(0 if ok else 1)
    PY
