#!/usr/bin/env bash
# Lens interop: wscope's lenses against real peers at pinned versions, installed by this script:
# Node socket.io (Engine.IO 4 and 3) and graphql-ws over ws (scripts/lenses/server.js, into
# .tools/lens-node); Python python-socketio, a JSON-RPC server and MessagePack/CBOR/protobuf peers
# (scripts/lenses/py_server.py, PyPI packages into .tools/lens-py); Debian mosquitto with
# mosquitto_pub/mosquitto_sub (apt-get when missing; our own config, listeners on 127.0.0.1 only).
# RabbitMQ (STOMP, MQTT) is slower to start: scripts/slow.sh. Each scenario prints PASS/FAIL; the
# script exits non-zero on any FAIL.
#
# Environment: WSCOPE=path (use this binary instead of building target/debug/wscope).
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SOCKETIO_VERSION=4.8.1   # npm socket.io
GRAPHQL_WS_VERSION=6.0.6 # npm graphql-ws
GRAPHQL_VERSION=16.11.0  # npm graphql
WS_VERSION=8.18.3        # npm ws
PY3=${PYTHON3:-$(command -v python3)}
# PyPI, into .tools/lens-py
PY_PKGS="python-socketio==5.14.1 python-engineio==4.15.1 simple-websocket==1.1.0 werkzeug==3.1.3 websockets==15.0.1 msgpack==1.1.1 cbor2==5.6.5 protobuf==6.31.1"
MODS=$ROOT/.tools/lens-node/node_modules

# --- installs (idempotent) ----------------------------------------------------------------------
set -e
version() { node -p "require('$MODS/$1/package.json').version" 2>/dev/null || true; }
if [[ "$(version socket.io)" != "$SOCKETIO_VERSION" || "$(version graphql-ws)" != "$GRAPHQL_WS_VERSION" \
      || "$(version graphql)" != "$GRAPHQL_VERSION" || "$(version ws)" != "$WS_VERSION" ]]; then
    echo "== npm install socket.io, graphql-ws, graphql, ws into .tools/lens-node"
    mkdir -p .tools/lens-node
    npm install --silent --no-audit --no-fund --prefix .tools/lens-node \
        "socket.io@$SOCKETIO_VERSION" "graphql-ws@$GRAPHQL_WS_VERSION" "graphql@$GRAPHQL_VERSION" "ws@$WS_VERSION"
fi
if [[ "$(cat .tools/lens-py/.pinned 2>/dev/null)" != "$PY_PKGS" ]]; then
    echo "== pip install $PY_PKGS into .tools/lens-py"
    rm -rf .tools/lens-py
    # shellcheck disable=SC2086
    "$PY3" -m pip install -q --disable-pip-version-check --root-user-action=ignore --target .tools/lens-py $PY_PKGS
    echo "$PY_PKGS" > .tools/lens-py/.pinned
fi
if ! command -v mosquitto > /dev/null || ! command -v mosquitto_pub > /dev/null; then
    echo "== apt-get install mosquitto mosquitto-clients (the packaged service is not started)"
    # A new machine may have no package lists yet: fetch them once if the install fails.
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q mosquitto mosquitto-clients > /dev/null ||
        { apt-get update -q > /dev/null &&
          DEBIAN_FRONTEND=noninteractive apt-get install -y -q mosquitto mosquitto-clients > /dev/null; }
fi
if [[ -n ${WSCOPE:-} ]]; then
    W=$WSCOPE
else
    cargo build --quiet
    W=$ROOT/target/debug/wscope
fi
set +e

# --- the server ---------------------------------------------------------------------------------
TMP=$(mktemp -d)
PID= PYPID= MQPID=
trap 'for p in $PID $PYPID $MQPID; do kill "$p" 2>/dev/null; done; rm -rf "$TMP"' EXIT
free_port() { "$PY3" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PORT=$(free_port)
NODE_PATH=$MODS node scripts/lenses/server.js "$PORT" > "$TMP/server.log" 2>&1 &
PID=$!
for _ in $(seq 1 100); do grep -q '"listening"' "$TMP/server.log" && break; sleep 0.1; done
grep -q '"listening"' "$TMP/server.log" || { echo "server did not start:"; cat "$TMP/server.log"; exit 1; }
SIO=ws://127.0.0.1:$PORT/socket.io/
GQL=ws://127.0.0.1:$PORT/graphql

FAILS=0
check() { # NAME EXPECTED_EXIT GOT_EXIT FILE PATTERN...
    local name=$1 want=$2 got=$3 file=$4; shift 4
    local ok=0 why=""
    [[ $got == "$want" ]] || { ok=1; why="exit $got, wanted $want"; }
    for p in "$@"; do grep -qE -- "$p" "$file" || { ok=1; why="${why:+$why; }no line matching /$p/"; }; done
    if [[ $ok == 0 ]]; then echo "PASS  $name"; else
        echo "FAIL  $name: $why"; sed 's/^/      /' "$file" | head -40; FAILS=$((FAILS + 1)); fi
}
run() { # OUT ARGS...: stdout and stderr of wscope into OUT, its exit code in $RC
    local out=$1; shift
    "$W" "$@" < /dev/null > "$out" 2>&1
    RC=$?
}

# socket.io: chosen by the path, the namespace connected with --lens-auth, an event with its ack,
# a binary event with its attachment, pings answered for over 3 pingIntervals (300 ms).
run "$TMP/sio" "$SIO" --lens-auth '{"k":1}' \
    -x '/expect-json .type == "event" and .name == "welcome"' \
    -x '/emit chat "hi" {"n":1} --ack' -x '/expect-json .type == "ack" and .args[0] == "ok"' \
    -x '/emit bin' -x '/expect-json .type == "attachment" and .size == 4' \
    -x '/sleep 1.2' -x '/emit chat "still here"' -x '/expect-json .name == "echo" and .args[0] == "still here"'
check "socket.io: events, acks, binary attachments, pings kept" 0 "$RC" "$TMP/sio" \
    'lens socketio' '^\[socketio\] event "welcome" \[\{"n":1\}\]$' '^\[socketio\] ack 0 \["ok",2\] \(' \
    '^\[socketio\] event "blob" .*\(\+1 binary attachment\)$' '^\[socketio\] attachment 1/1 of "blob" \(4 bytes\)$'
grep -q '"auth":{"k":1}' "$TMP/server.log"; check "socket.io: --lens-auth reached the server" 0 $? "$TMP/server.log"

# socket.io: a namespace with auth, refused and accepted; --json carries the lens view.
run "$TMP/ns" "$SIO" --json -x '/ns /admin {"token":"bad"}' -x '/expect-json .type == "connect_error"' \
    -x '/emit bye' -x '/expect-close'
check "socket.io: a refused namespace, --json lens view" 0 "$RC" "$TMP/ns" \
    '"lens":\{"name":"socketio","summary":"connect_error \{\\"message\\":\\"not authorized\\"\} ns /admin"'
run "$TMP/ns2" "$SIO" -x '/ns /admin {"token":"s3cret"}' -x '/expect-json .ns == "/admin" and .name == "hello-admin"'
check "socket.io: /ns with auth" 0 "$RC" "$TMP/ns2" '^\[socketio\] event "hello-admin" \["root"\] ns /admin$'

# Engine.IO 3: the client pings.
run "$TMP/eio3" "${SIO}?EIO=3&transport=websocket" -x '/expect-json .name == "welcome"' -x '/sleep 1' -x '/emit chat x' -x '/expect-json .name == "echo"'
check "socket.io: Engine.IO 3, the client pings" 0 "$RC" "$TMP/eio3" '^\[socketio\] pong$'

# graphql-ws: chosen by the subprotocol, connection_init with --lens-auth, a subscription.
run "$TMP/gql" "$GQL" -s graphql-transport-ws --lens-auth '{"token":"t"}' \
    -x '/subscribe 1 subscription ($w: String) { greetings(who: $w) } {"w":"ann"}' \
    -x '/expect-json .type == "complete" and .id == "1"' -x '/subscribe 2 { hello }' -x '/expect-json .payload.data.hello == "world"'
check "graphql-ws: init, subscribe, next, complete" 0 "$RC" "$TMP/gql" 'lens graphql-ws' \
    '^\[graphql-ws\] next id 1 \{"data":\{"greetings":"hola ann"\}\}$' '^\[graphql-ws\] complete id 1$'
grep -q '"payload":{"token":"t"}' "$TMP/server.log" || grep -q '"graphql":"connection_init"' "$TMP/server.log"
check "graphql-ws: connection_init reached the server" 0 $? "$TMP/server.log"

# Passive: nothing sent by the lens, the server's namespace timeout closes us.
run "$TMP/passive" "$SIO" --lens-passive --json -w 0.4
check "socket.io --lens-passive decodes and sends nothing" 0 "$RC" "$TMP/passive" '"summary":"open sid'
if grep -q '"event":"sent"' "$TMP/passive"; then echo "FAIL  passive sent a message"; FAILS=$((FAILS + 1)); fi

# --- Python peers and mosquitto ------------------------------------------------------------------
source scripts/lenses/python_and_mosquitto.sh

echo "== lenses: $FAILS failed"
[[ $FAILS == 0 ]]
