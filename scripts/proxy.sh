#!/usr/bin/env bash
# `wscope proxy` between real peers at pinned versions, installed by this script: upstreams Node
# `ws` (echo, header report, a 403 refusal with a body), Python `websockets` (echo) and socket.io 4
# (scripts/proxy/upstream.js, upstream.py); clients Python `websockets`, Node `ws` and
# socket.io-client (client.py, client.js). With PROXY_BROWSER=1 (scripts/slow.sh sets it) headless
# Chromium loads a page from a local static server whose script connects through the proxy.
# Everything binds 127.0.0.1. Each scenario asserts what the proxy printed and what the upstream
# (and the client) received, prints PASS/FAIL, and the script exits non-zero on any FAIL.
#
# Environment: WSCOPE=path (use this binary instead of building target/release/wscope).
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
WS_VERSION=8.18.3          # npm ws
SOCKETIO_VERSION=4.8.1     # npm socket.io and socket.io-client
WEBSOCKETS_VERSION=15.0.1  # PyPI websockets
PY3=${PYTHON3:-$(command -v python3.11 || command -v python3)}
MODS=$ROOT/.tools/proxy-node/node_modules
T0=$(date +%s)

# --- installs (idempotent) ----------------------------------------------------------------------
set -e
version() { node -p "require('$MODS/$1/package.json').version" 2>/dev/null || true; }
if [[ "$(version ws)" != "$WS_VERSION" || "$(version socket.io)" != "$SOCKETIO_VERSION" \
      || "$(version socket.io-client)" != "$SOCKETIO_VERSION" ]]; then
    echo "== npm install ws, socket.io, socket.io-client into .tools/proxy-node"
    mkdir -p .tools/proxy-node
    npm install --silent --no-audit --no-fund --prefix .tools/proxy-node \
        "ws@$WS_VERSION" "socket.io@$SOCKETIO_VERSION" "socket.io-client@$SOCKETIO_VERSION"
fi
if [[ ! -d .tools/py/websockets-$WEBSOCKETS_VERSION.dist-info ]]; then
    echo "== pip install websockets==$WEBSOCKETS_VERSION into .tools/py"
    rm -rf .tools/py/websockets .tools/py/websockets-*.dist-info
    "$PY3" -m pip install -q --disable-pip-version-check --root-user-action=ignore \
        --target .tools/py "websockets==$WEBSOCKETS_VERSION"
fi
if [[ ${PROXY_BROWSER:-0} == 1 && ! -x /usr/bin/chromium ]]; then
    echo "== apt-get install chromium"
    # A new machine may have no package lists yet: fetch them once if the install fails.
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium > /dev/null ||
        { apt-get update -q > /dev/null &&
          DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium > /dev/null; }
fi
if [[ -n ${WSCOPE:-} ]]; then
    W=$WSCOPE
else
    cargo build --release --quiet
    W=$ROOT/target/release/wscope
fi
set +e

# --- peers ----------------------------------------------------------------------------------------
TMP=$(mktemp -d)
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$TMP"' EXIT
free_port() { "$PY3" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_for() { # FILE PATTERN
    for _ in $(seq 1 150); do grep -qE -- "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
    return 1
}
NODE_PORT=$(free_port)
NODE_PATH=$MODS node scripts/proxy/upstream.js "$NODE_PORT" > "$TMP/node.log" 2>&1 &
PIDS+=($!)
PY_PORT=$(free_port)
PYTHONPATH=$ROOT/.tools/py "$PY3" scripts/proxy/upstream.py "$PY_PORT" > "$TMP/python.log" 2>&1 &
PIDS+=($!)
wait_for "$TMP/node.log" listening || { echo "node upstream did not start"; cat "$TMP/node.log"; exit 1; }
wait_for "$TMP/python.log" listening || { echo "python upstream did not start"; cat "$TMP/python.log"; exit 1; }

# A proxy in front of URL, its output in $TMP/NAME.out and .err; sets PORT to where it listens.
start_proxy() { # NAME URL ARGS...
    local name=$1 url=$2; shift 2
    "$W" proxy 127.0.0.1:0 "$url" "$@" < /dev/null > "$TMP/$name.out" 2> "$TMP/$name.err" &
    PIDS+=($!)
    wait_for "$TMP/$name.err" '^proxying ' || { echo "proxy $name did not start"; cat "$TMP/$name.err"; exit 1; }
    PORT=$(sed -n 's|^proxying ws://127.0.0.1:\([0-9]*\)/.*|\1|p' "$TMP/$name.err")
}

FAILS=0
check() { # NAME FILE PATTERN...: every pattern (ERE) has a matching line in FILE
    local name=$1 file=$2; shift 2
    local why=""
    for p in "$@"; do wait_for "$file" "$p" || why="${why:+$why; }no line matching /$p/ in $(basename "$file")"; done
    if [[ -z $why ]]; then echo "PASS  $name"; else
        echo "FAIL  $name: $why"; sed 's/^/      /' "$file" | head -30; FAILS=$((FAILS + 1)); fi
}
refute() { # NAME FILE PATTERN: no line matches
    if grep -qE -- "$3" "$2"; then echo "FAIL  $1: a line matches /$3/"; grep -E -- "$3" "$2" | head -5; FAILS=$((FAILS + 1));
    else echo "PASS  $1"; fi
}

# --- scenarios ------------------------------------------------------------------------------------
# Python websockets client -> proxy -> Node ws echo: subprotocol, both message types, the close.
start_proxy node "ws://127.0.0.1:$NODE_PORT/"
PYTHONPATH=$ROOT/.tools/py "$PY3" scripts/proxy/client.py "ws://127.0.0.1:$PORT/echo?via=py" > "$TMP/c1.json" 2>&1
check "python client through the proxy to node ws: echoes and the upstream's subprotocol" "$TMP/c1.json" \
    '"subprotocol": "chat.v2", "ok": true'
check "the proxy shows both directions, tagged" "$TMP/node.out" \
    '^\[1\] c> hello from python$' '^\[1\] <s hello from python$' '^\[1\] c> 0001fe$'
check "the close is relayed with its code and reason" "$TMP/node.log" \
    '"event":"close","path":"/echo\?via=py","code":4000,"reason":"py done"'
check "the upstream got the client's headers, path and query" "$TMP/node.log" \
    '"path":"/echo\?via=py"' '"cookie":"py=1"' '"authorization":"Bearer py-token"' \
    '"origin":"http://py.test"' '"sec-websocket-protocol":"chat.v1, chat.v2"'
check "each hop negotiates permessage-deflate on its own" "$TMP/node.log" \
    '"extensions":"permessage-deflate"'

# Node ws client -> proxy -> Node ws header report: what the upstream saw, -H on top.
start_proxy hdr "ws://127.0.0.1:$NODE_PORT/" -H "X-Added: by-proxy"
NODE_PATH=$MODS node scripts/proxy/client.js ws "ws://127.0.0.1:$PORT/headers" > "$TMP/c2.json" 2>&1
check "node ws client: the upstream saw its headers and -H" "$TMP/c2.json" '"ok":true' \
    '"cookie":"node=1"' '"user-agent":"node-client/1"' '"x-trace":"abc"' '"x-added":"by-proxy"' \
    '"origin":"http://node.test"'
refute "the client's User-Agent goes on, not wscope's" "$TMP/c2.json" '"user-agent":"wscope'
check "node's close 4001 reaches the upstream" "$TMP/node.log" '"path":"/headers","code":4001,"reason":"node done"'

# A refusal with a body, passed back.
start_proxy ref "ws://127.0.0.1:$NODE_PORT/"
NODE_PATH=$MODS node scripts/proxy/client.js refused "ws://127.0.0.1:$PORT/refuse" > "$TMP/c3.json" 2>&1
check "node's 403 refusal reaches the client with its header and body" "$TMP/c3.json" \
    '"status":403,"reason":"test-refusal","body":"members only"'
check "the proxy says the client was refused" "$TMP/ref.err" '^\[1\] refused .* with 403'

# Python websockets upstream, Node ws client.
start_proxy pyup "ws://127.0.0.1:$PY_PORT/"
PYTHONPATH=$ROOT/.tools/py "$PY3" scripts/proxy/client.py "ws://127.0.0.1:$PORT/py" > "$TMP/c4.json" 2>&1
check "python client through the proxy to python websockets" "$TMP/c4.json" '"subprotocol": "chat.v2", "ok": true'
check "python websockets upstream saw the messages and the close" "$TMP/python.log" \
    '"event": "text", "data": "hello from python"' '"event": "close", "code": 4000, "reason": "py done"'

# socket.io 4 through the proxy, decoded by the lens.
start_proxy sio "ws://127.0.0.1:$NODE_PORT/" --lens socketio
NODE_PATH=$MODS node scripts/proxy/client.js sio "http://127.0.0.1:$PORT" > "$TMP/c5.json" 2>&1
check "socket.io client through the proxy to socket.io 4" "$TMP/c5.json" '"ok":true'
check "the socketio lens decodes both directions" "$TMP/sio.out" \
    '^\[1\] <s \[socketio\] event "welcome"' '^\[1\] c> \[socketio\] event "chat" \["hi from sio"\]' \
    '^\[1\] <s \[socketio\] event "echo"'

# --record through the proxy, replayed against the python upstream.
start_proxy rec "ws://127.0.0.1:$NODE_PORT/" --record "$TMP/rec.jsonl"
PYTHONPATH=$ROOT/.tools/py "$PY3" scripts/proxy/client.py "ws://127.0.0.1:$PORT/echo" > /dev/null 2>&1
wait_for "$TMP/rec.err" 'server disconnected' > /dev/null
"$W" replay "$TMP/rec.1.jsonl" "ws://127.0.0.1:$PY_PORT/replayed" --fast > "$TMP/replay.out" 2>&1
check "a proxy recording replays against another server" "$TMP/python.log" '"path": "/replayed"'

if [[ ${PROXY_BROWSER:-0} == 1 ]]; then
    # Headless Chromium loads a page from a static server; its script connects through the proxy.
    STATIC_PORT=$(free_port)
    (cd scripts/proxy && exec "$PY3" -m http.server "$STATIC_PORT" --bind 127.0.0.1) > /dev/null 2>&1 &
    PIDS+=($!)
    start_proxy browser "ws://127.0.0.1:$NODE_PORT/"
    sleep 0.5
    chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --user-data-dir="$(mktemp -d -p "$TMP")" \
        "http://127.0.0.1:$STATIC_PORT/page.html?ws=ws://127.0.0.1:$PORT/echo/browser" > "$TMP/chromium.log" 2>&1 &
    CHROMIUM=$!
    PIDS+=($CHROMIUM)
    check "chromium's page got its echo through the proxy (and said so)" "$TMP/browser.out" \
        '^\[1\] c> hello from chromium$' '^\[1\] <s hello from chromium$' \
        '^\[1\] c> got: hello from chromium proto: chat.v2$'
    check "the page's close is relayed" "$TMP/node.log" '"path":"/echo/browser","code":1000,"reason":"page done"'
    kill "$CHROMIUM" 2>/dev/null
    check "the upstream saw the page's Origin and Chrome's User-Agent" "$TMP/node.log" \
        "\"origin\":\"http://127.0.0.1:$STATIC_PORT\"" '"user-agent":"[^"]*Chrome'
fi

echo "proxy interop: $FAILS failed ($(( $(date +%s) - T0 )) s)"
[[ $FAILS == 0 ]]
