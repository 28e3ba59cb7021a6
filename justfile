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
    # A venv copied or moved from elsewhere still installs into its old
    # place (its scripts name the old interpreter): make a new one.
    test "$(.venv/bin/python -c 'import sys; print(sys.prefix)' 2>/dev/null)" = "$PWD/.venv" \
        || { rm -rf .venv && python3 -m venv .venv; }
    .venv/bin/pip install --quiet --disable-pip-version-check -r tests/sim/python/requirements.txt

# Build the plugins (WebAssembly components, wasm32-wasip2 only).
build-plugins: setup
    cd plugins && {{cargo}} build --release

# Build the host (the `weft` binary, the simulators) and the plugins.
build: build-plugins
    {{cargo}} build --release --workspace

# The example plugins' toolchains, pinned: componentize-py into .venv
# (plugins/examples/python/requirements.txt) and componentize-js into
# plugins/examples/js/node_modules (package.json pins exact versions,
# package-lock.json the whole tree). Installs only when
# a pin changed, so a second run touches no registry.
setup-examples: setup
    #!/usr/bin/env bash
    set -euo pipefail
    req=plugins/examples/python/requirements.txt
    if ! cmp -s "$req" .venv/.examples-requirements; then
        .venv/bin/pip install --quiet --disable-pip-version-check -r "$req"
        cp "$req" .venv/.examples-requirements
    fi
    js=plugins/examples/js
    if ! cmp -s "$js/package-lock.json" "$js/node_modules/.weft-installed-lock"; then
        # `npm install --no-save` installs what the lockfile pins without
        # rewriting it; `npm ci` (npm 11) refuses this lockfile because
        # componentize's optional per-platform packages for other systems
        # are not in it.
        (cd "$js" && npm install --no-save --no-audit --no-fund --loglevel=error)
        cp "$js/package-lock.json" "$js/node_modules/.weft-installed-lock"
    fi

# Build the Python and JavaScript example plugins into
# plugins/target/examples/ (the Rust one builds with the other plugins).
# Idempotent: a component is rebuilt only when its sources, the WIT or its
# toolchain pin changed (componentize-py takes ~12 s per component).
build-examples: setup-examples
    #!/usr/bin/env bash
    set -euo pipefail
    out=plugins/target/examples
    mkdir -p "$out"
    stale() { # OUTPUT SOURCES...: missing, or older than a source
        local o=$1; shift
        [ ! -f "$o" ] || [ -n "$(find "$@" -type f -newer "$o" -not -path '*/__pycache__/*' -print -quit)" ]
    }
    py() { # WORLD DIR OUTPUT
        if stale "$3" "$2" wit plugins/examples/python/requirements.txt; then
            echo "componentize-py: $2 -> $3"
            .venv/bin/componentize-py -d wit -w "$1" componentize -p "$2" app -o "$3.part" >/dev/null
            mv "$3.part" "$3"
        fi
    }
    py transform plugins/examples/python/order-normalise "$out/order_normalise_py.wasm"
    py connector plugins/examples/python/shop "$out/shop_py.wasm"
    js=plugins/examples/js
    if stale "$out/order_normalise_js.wasm" "$js/order-normalise" wit "$js/package-lock.json"; then
        echo "componentize-js: $js/order-normalise -> $out/order_normalise_js.wasm"
        "$js/node_modules/.bin/componentize-js" --wit wit --world-name transform \
            --disable http fetch-event -o "$out/order_normalise_js.wasm.part" \
            "$js/order-normalise/normalise.js" >/dev/null
        mv "$out/order_normalise_js.wasm.part" "$out/order_normalise_js.wasm"
    fi

# Run every test: host and end-to-end tests (the example plugins in
# Python and JavaScript and the `weft plugin new` scaffolds included), then
# the plugins' native unit tests (signing vectors, request building, reply
# parsing) and the Python example's own unit tests.
test: build build-examples
    {{cargo}} nextest run --release --workspace --no-fail-fast
    cd plugins && {{cargo}} test --target x86_64-unknown-linux-gnu --workspace
    cd plugins/examples/python/order-normalise && python3 -m unittest --quiet

# Lints as CI would run them.
lint:
    {{cargo}} fmt --all -- --check
    cd plugins && {{cargo}} fmt --all -- --check
    {{cargo}} clippy --release --workspace --all-targets -- -D warnings
    cd plugins && {{cargo}} clippy --release --workspace -- -D warnings

# Benchmarks: plugin call overhead (medians), then end-to-end throughput of
# the purchase-order scheme (WEFT_BENCH_ORDERS, default 100000) and peak RSS.
bench: build build-examples
    {{cargo}} bench -p weft-runtime --bench plugin_calls
    {{cargo}} bench -p weft-tests --bench throughput
    {{cargo}} bench -p weft-tests --bench languages

# The same transform in Rust, Python and JavaScript: install time
# (validation and precompilation) and per-call latency on a 1,000-record
# page (medians).
bench-languages: build build-examples
    {{cargo}} bench -p weft-tests --bench languages

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
