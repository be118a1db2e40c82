#!/usr/bin/env bash
# Interop: wscope against the two most used WebSocket server stacks, at pinned versions:
# Node's `ws` (npm, into .tools/node) and Python's `websockets` (PyPI, into .tools/py).
# The servers (scripts/interop/server.js, server.py) log what they see as JSON lines; each
# scenario prints PASS/FAIL and the script exits non-zero on any FAIL. permessage-deflate is
# tried both ways: wscope against compressing servers (ws with perMessageDeflate, websockets by
# default), and `wscope listen` against compressing clients (scripts/interop/client.js, client.py).
#
# Environment: WSCOPE=path (use this binary instead of building target/release/wscope).
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
WS_VERSION=8.18.3          # npm ws
WEBSOCKETS_VERSION=15.0.1  # PyPI websockets
PY3=${PYTHON3:-$(command -v python3.11 || command -v python3)}
T0=$(date +%s)

# --- installs (idempotent) ----------------------------------------------------------------------
set -e
if [[ "$(node -p "require('$ROOT/.tools/node/node_modules/ws/package.json').version" 2>/dev/null)" != "$WS_VERSION" ]]; then
    echo "== npm install ws@$WS_VERSION into .tools/node"
    mkdir -p .tools/node
    npm install --silent --no-audit --no-fund --prefix .tools/node "ws@$WS_VERSION"
fi
if [[ ! -d .tools/py/websockets-$WEBSOCKETS_VERSION.dist-info ]]; then
    echo "== pip install websockets==$WEBSOCKETS_VERSION into .tools/py"
    rm -rf .tools/py/websockets .tools/py/websockets-*.dist-info
    "$PY3" -m pip install -q --disable-pip-version-check --root-user-action=ignore \
        --target .tools/py "websockets==$WEBSOCKETS_VERSION"
fi
if [[ -n ${WSCOPE:-} ]]; then
    W=$WSCOPE
else
    echo "== cargo build --release"
    cargo build --release --quiet
    W=$ROOT/target/release/wscope
fi
set +e

# --- servers --------------------------------------------------------------------------------------
TMP=$(mktemp -d)
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$TMP"' EXIT
free_port() { "$PY3" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_listening() { # LOG
    for _ in $(seq 1 100); do grep -q '"listening"' "$1" && return 0; sleep 0.1; done
    echo "server did not start:"; cat "$1"; exit 1
}

# A test CA and a server certificate for localhost/127.0.0.1, made fresh for each run.
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=wscope interop test CA" \
    -keyout "$TMP/ca.key" -out "$TMP/ca.pem" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
    -keyout "$TMP/server.key" -out "$TMP/server.csr" 2>/dev/null
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' > "$TMP/ext.cnf"
openssl x509 -req -in "$TMP/server.csr" -CA "$TMP/ca.pem" -CAkey "$TMP/ca.key" -CAcreateserial \
    -days 2 -extfile "$TMP/ext.cnf" -out "$TMP/server.pem" 2>/dev/null

NODE_PORT=$(free_port)
NODE_PATH=$ROOT/.tools/node/node_modules node scripts/interop/server.js "$NODE_PORT" > "$TMP/node.log" 2>&1 &
PIDS+=($!)
NODEZ_PORT=$(free_port)
NODE_PATH=$ROOT/.tools/node/node_modules node scripts/interop/server.js "$NODEZ_PORT" deflate > "$TMP/node-deflate.log" 2>&1 &
PIDS+=($!)
PY_PORT=$(free_port)
PYTHONPATH=$ROOT/.tools/py "$PY3" scripts/interop/server.py "$PY_PORT" > "$TMP/python.log" 2>&1 &
PIDS+=($!)
TLS_PORT=$(free_port)
PYTHONPATH=$ROOT/.tools/py "$PY3" scripts/interop/server.py "$TLS_PORT" "$TMP/server.pem" "$TMP/server.key" \
    > "$TMP/python-tls.log" 2>&1 &
PIDS+=($!)
wait_listening "$TMP/node.log"; wait_listening "$TMP/node-deflate.log"
wait_listening "$TMP/python.log"; wait_listening "$TMP/python-tls.log"

# --- scenarios ------------------------------------------------------------------------------------
FAILS=0
result() { # NAME OK(0/1) DETAIL
    if [[ $2 == 0 ]]; then echo "PASS  $1"; else echo "FAIL  $1${3:+: $3}"; FAILS=$((FAILS + 1)); fi
}
seen() { "$PY3" scripts/interop/check.py "$@"; }

for server in node python; do
    if [[ $server == node ]]; then port=$NODE_PORT; else port=$PY_PORT; fi
    log=$TMP/$server.log
    base=ws://127.0.0.1:$port

    # Subprotocol: offered in order, the server picks the one it supports.
    out=$("$W" "$base/record?s=1" -s nope -s chat.v1 -w 0 2>&1); rc=$?
    seen "$log" "/record?s=1" '{"event":"open","subprotocol":"chat.v1"}' \
        && [[ $rc == 0 && $out == *"subprotocol chat.v1"* ]]
    result "$server: subprotocol negotiated (-s nope -s chat.v1 -> chat.v1)" $? "rc=$rc $out"
    out=$("$W" "$base/record?s=2" -s nope --require-subprotocol -w 0 2>&1); rc=$?
    [[ $rc == 5 ]]
    result "$server: --require-subprotocol with none selected -> exit 5" $? "rc=$rc $out"

    # Custom headers reach the server as given.
    out=$("$W" "$base/record?h=1" -H 'X-Trace: abc 123' -H 'Authorization: Bearer t0k' -w 0 2>&1); rc=$?
    seen "$log" "/record?h=1" '{"event":"open","headers":{"x-trace":"abc 123","authorization":"Bearer t0k"}}' \
        && [[ $rc == 0 ]]
    result "$server: custom headers seen by the server (-H)" $? "rc=$rc $out"

    # Text, binary, ping and a close with a reason, as the server sees them.
    out=$("$W" "$base/record?f=1" -x 'hi' -x '/binary 00ff' -x '/ping p' -x '/close 4000 done' 2>&1); rc=$?
    seen "$log" "/record?f=1" '{"event":"text","data":"hi"}' '{"event":"binary","hex":"00ff"}' \
        '{"event":"ping","data":"p"}' '{"event":"close","code":4000,"reason":"done"}' && [[ $rc == 0 ]]
    result "$server: text, binary, ping, close 4000 'done' seen by the server (-x)" $? "rc=$rc $out"

    # Server-initiated close: a code other than 1000/1001 from the server exits 6 and is shown.
    out=$("$W" "$base/close" -w inf 2>&1); rc=$?
    [[ $rc == 6 && $out == *"4001"* && $out == *"server says bye"* ]]
    result "$server: server-initiated close 4001 -> exit 6, code and reason printed" $? "rc=$rc $out"

    # 20000 piped lines, echoed back, nothing lost or reordered.
    seq 20000 | "$W" "$base/echo?n=20000" --count 20000 -w 10 > "$TMP/echo.out" 2> "$TMP/echo.err"; rc=$?
    cmp -s "$TMP/echo.out" <(seq 20000)
    result "$server: 20000 piped lines echoed back losslessly (--count 20000)" $? \
        "rc=$rc, $(wc -l < "$TMP/echo.out") lines back; $(tail -n2 "$TMP/echo.err")"
done

# Expect scripting against python websockets: a login flow whose token is reused (issue 17).
base=ws://127.0.0.1:$PY_PORT
out=$("$W" "$base/login" -x 'login alice s3cret' -x '/expect-json .type == "token"' -x '/let token .token' \
    -x 'whoami ${token}' -x '/expect-json .type == "me" and .user == "alice"' -x 'bye' -x '/expect-close 4000' 2>&1); rc=$?
[[ $rc == 0 && $out == *'"user": "alice"'* ]]
result "python: login flow, token taken with /let and reused, /expect-close 4000 -> exit 0" $? "rc=$rc $out"
out=$("$W" "$base/login" -x 'login bob pw' -x '/expect --timeout 0.5 ^token-never$' 2>&1); rc=$?
[[ $rc == 7 && $out == *"/expect ^token-never\$ failed"* && $out == *"checking credentials"* ]]
result "python: an unmet /expect -> exit 7 with the pattern and the last messages" $? "rc=$rc $out"
# permessage-deflate, wscope as the client: both compressing servers, messages both ways.
LONG=$(printf 'compress me %.0s' $(seq 300))
json_ok() { # FILE: every received event compressed, data as sent, in order
    "$PY3" - "$1" "$LONG" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
got = [(r["data"], r["compressed"], r["wire_size"] < r["size"] or r["size"] < 64)
       for r in rows if r.get("event") == "received"]
want = [(sys.argv[2], True, True), ("short", True, True)]
sys.exit(0 if got == want else print(got) or 1)
PY
}
for server in node-deflate python; do
    if [[ $server == node-deflate ]]; then port=$NODEZ_PORT; else port=$PY_PORT; fi
    log=$TMP/$server.log
    base=ws://127.0.0.1:$port
    "$W" "$base/echo?z=1" --json -x "$LONG" -x short --count 2 -w 10 > "$TMP/z.json" 2> "$TMP/z.err"; rc=$?
    seen "$log" "/echo?z=1" '{"event":"open","headers":{"sec-websocket-extensions":"permessage-deflate; client_max_window_bits"}}' \
        && grep -q '"extensions":"permessage-deflate' "$log" && json_ok "$TMP/z.json" && [[ $rc == 0 ]]
    result "$server: permessage-deflate negotiated, both ways compressed (--json compressed, wire_size)" $? \
        "rc=$rc $(tail -n2 "$TMP/z.err")"
    seq 20000 | "$W" "$base/echo?z=2" --count 20000 -w 10 > "$TMP/echo.out" 2> "$TMP/echo.err"; rc=$?
    cmp -s "$TMP/echo.out" <(seq 20000)
    result "$server: 20000 lines echoed losslessly, compressed with context takeover" $? \
        "rc=$rc, $(wc -l < "$TMP/echo.out") lines back; $(tail -n2 "$TMP/echo.err")"
done
# The deflate sequence (issue 26 item 1: empty messages between others, 1 byte, 125/126,
# 65535/65536), text and binary, in each parameter set, echoed by both compressing servers.
DEFLATE_OFFERS=("client_max_window_bits" \
    "client_no_context_takeover; server_no_context_takeover" \
    "server_max_window_bits=9; client_max_window_bits=9" \
    "server_max_window_bits=12; client_max_window_bits=15; server_no_context_takeover")
N_SEQ=$("$PY3" scripts/interop/sequence.py lines | wc -l)
for server in node-deflate python; do
    if [[ $server == node-deflate ]]; then port=$NODEZ_PORT; else port=$PY_PORT; fi
    for offer in "${DEFLATE_OFFERS[@]}"; do
        for kind in text binary; do
            flag=(); [[ $kind == binary ]] && flag=(--binary)
            "$PY3" scripts/interop/sequence.py lines | "$W" "ws://127.0.0.1:$port/echo?seq=1" \
                --deflate "$offer" "${flag[@]}" --json --count "$N_SEQ" -w 10 \
                > "$TMP/seq.json" 2> "$TMP/seq.err"; rc=$?
            why=$("$PY3" scripts/interop/sequence.py check "$TMP/seq.json" "$kind"); ok=$?
            [[ $ok == 0 && $rc == 0 ]]
            result "$server: deflate sequence ($kind, '$offer') echoed as sent" $? \
                "rc=$rc $why $(tail -n2 "$TMP/seq.err")"
        done
    done
done
out=$("$W" "ws://127.0.0.1:$PY_PORT/echo?z=3" --no-deflate --json -x plain --once 2>&1); rc=$?
seen "$TMP/python.log" "/echo?z=3" '{"event":"open","extensions":null}' \
    && [[ $rc == 0 && $out == *'"compressed":false'* ]]
result "python: --no-deflate offers nothing, messages go uncompressed" $? "rc=$rc $out"

# permessage-deflate, wscope as the server: compressing clients against `wscope listen --echo`.
listen() { # LOG ARGS...: start `wscope listen` on a free port (killed on exit); its URL in $LISTEN
    local log=$1; shift
    local port; port=$(free_port)
    "$W" listen "127.0.0.1:$port" "$@" > /dev/null 2> "$log" &
    PIDS+=($!)
    for _ in $(seq 1 100); do grep -q listening "$log" && break; sleep 0.1; done
    LISTEN="ws://127.0.0.1:$port/"
}
listen "$TMP/listen.log" --echo
out=$(NODE_PATH=$ROOT/.tools/node/node_modules node scripts/interop/client.js "$LISTEN" 2>&1); rc=$?
[[ $rc == 0 && $out == *'"extensions":"permessage-deflate"'* && $out == *'"ok":true'* ]]
result "node client (perMessageDeflate) -> wscope listen --echo: negotiated, echoes equal" $? "rc=$rc $out"
out=$(PYTHONPATH=$ROOT/.tools/py "$PY3" scripts/interop/client.py "$LISTEN" 2>&1); rc=$?
[[ $rc == 0 && $out == *'"extensions": "permessage-deflate'* && $out == *'"ok": true'* ]]
result "python client (compression default) -> wscope listen --echo: negotiated, echoes equal" $? "rc=$rc $out"
# The deflate sequence from each compressing client, in each parameter set, to wscope's listen.
for opts in '{}' '{"clientNoContextTakeover":true,"serverNoContextTakeover":true}' \
    '{"serverMaxWindowBits":9,"clientMaxWindowBits":9}' '{"serverMaxWindowBits":12}'; do
    out=$(NODE_PATH=$ROOT/.tools/node/node_modules node scripts/interop/client.js "$LISTEN" seq "$opts" 2>&1); rc=$?
    [[ $rc == 0 && $out == *'"extensions":"permessage-deflate'* && $out == *'"ok":true'* ]]
    result "node client -> wscope listen --echo: deflate sequence $opts echoed as sent" $? "rc=$rc $out"
done
for opts in '{}' '{"client_no_context_takeover":true,"server_no_context_takeover":true}' \
    '{"server_max_window_bits":9,"client_max_window_bits":9}' '{"server_max_window_bits":12}'; do
    out=$(PYTHONPATH=$ROOT/.tools/py "$PY3" scripts/interop/client.py "$LISTEN" seq "$opts" 2>&1); rc=$?
    [[ $rc == 0 && $out == *'"extensions": "permessage-deflate'* && $out == *'"ok": true'* ]]
    result "python client -> wscope listen --echo: deflate sequence $opts echoed as sent" $? "rc=$rc $out"
done
listen "$TMP/listen-plain.log" --echo --no-deflate
out=$(PYTHONPATH=$ROOT/.tools/py "$PY3" scripts/interop/client.py "$LISTEN" 2>&1); rc=$?
[[ $rc == 0 && $out == *'"extensions": null'* && $out == *'"ok": true'* ]]
result "python client -> wscope listen --no-deflate: declined, echoes equal" $? "rc=$rc $out"

# wss with a test CA (python websockets over TLS).
out=$("$W" "wss://localhost:$TLS_PORT/echo" --ca "$TMP/ca.pem" -x 'over tls' --once 2>&1); rc=$?
[[ $rc == 0 && $out == *"over tls"* ]]
result "python: wss with a test CA (--ca) echoes" $? "rc=$rc $out"
out=$("$W" "wss://localhost:$TLS_PORT/echo" -x 'x' --once 2>&1); rc=$?
[[ $rc == 4 ]]
result "python: wss without the test CA -> TLS failure, exit 4" $? "rc=$rc $out"

# --- probe (issue 18) -----------------------------------------------------------------------------
# `wscope probe` against Node ws as usually deployed (conforming, any Origin) and Python websockets
# with an `origins` allow-list: the verdicts must tell them apart (scripts/interop/probe_server.*).
PROBE_NODE_PORT=$(free_port)
NODE_PATH=$ROOT/.tools/node/node_modules node scripts/interop/probe_server.js "$PROBE_NODE_PORT" \
    > "$TMP/probe-node.log" 2>&1 &
PIDS+=($!)
PROBE_PY_PORT=$(free_port)
PYTHONPATH=$ROOT/.tools/py "$PY3" scripts/interop/probe_server.py "$PROBE_PY_PORT" https://app.example.test \
    > "$TMP/probe-python.log" 2>&1 &
PIDS+=($!)
wait_listening "$TMP/probe-node.log"; wait_listening "$TMP/probe-python.log"
verdicts() { # FILE ID=STATUS...: the --json report has these statuses
    "$PY3" - "$@" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
got = {c["id"]: c["status"] for c in report["checks"]}
bad = [w for w in sys.argv[2:] if got.get(w.split("=")[0]) != w.split("=", 1)[1]]
sys.exit(0 if not bad else print("wanted", bad, "got", got) or 1)
PY
}
VIOLATIONS="utf8=pass unmasked=pass rsv=pass opcode=pass control-fragmented=pass control-oversized=pass"
start=$(date +%s%N)
"$W" probe "ws://127.0.0.1:$PROBE_NODE_PORT/" --json > "$TMP/probe-node.json" 2> "$TMP/probe.err"; rc=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
verdicts "$TMP/probe-node.json" origin-foreign=warn origin-null=warn origin-missing=pass ping=pass \
    close=pass max-message=pass $VIOLATIONS && [[ $rc == 0 && $ms -lt 5000 ]]
result "node: probe conforming, any Origin accepted (origin-foreign warn), exit 0 in $ms ms" $? \
    "rc=$rc $(cat "$TMP/probe.err")"
"$W" probe "ws://127.0.0.1:$PROBE_PY_PORT/" -o https://app.example.test --json \
    > "$TMP/probe-python.json" 2> "$TMP/probe.err"; rc=$?
verdicts "$TMP/probe-python.json" origin-foreign=pass origin-null=pass origin-missing=pass ping=pass \
    deflate=pass max-message=pass $VIOLATIONS \
    && grep -q '1 MiB; 4 MiB refused with 1009' "$TMP/probe-python.json" && [[ $rc == 0 ]]
result "python: probe with an origins allow-list: foreign and null Origins refused, 1009 above 1 MiB" $? \
    "rc=$rc $(cat "$TMP/probe.err")"
# Without an allowed Origin the baseline upgrade gets 403: still probed (SPEC "probe", issue 26
# item 2): the origin checks pass, the rest are n/a with the -o hint, exit 0, one JSON document.
"$W" probe "ws://127.0.0.1:$PROBE_PY_PORT/" --json > "$TMP/probe-python-403.json" 2> "$TMP/probe.err"
rc=$?
verdicts "$TMP/probe-python-403.json" origin-foreign=pass origin-null=pass origin-missing=pass \
    ping=n/a utf8=n/a max-message=n/a \
    && grep -q -- '-o with an Origin' "$TMP/probe-python-403.json" && [[ $rc == 0 ]]
result "python: probe without an allowed Origin: origin checks pass, the rest n/a naming -o, exit 0" $? \
    "rc=$rc $(cat "$TMP/probe.err")"
# --- end probe ------------------------------------------------------------------------------------
# --- record and replay ---------------------------------------------------------------------------
# A session recorded against each real server (--record), replayed against it (wscope replay) with
# its headers, subprotocol, types and order; the Chromium-shaped HAR fixture replayed too; and the
# transcript served back by `wscope listen --replay` to a wscope client.
for server in node python; do
    if [[ $server == node ]]; then port=$NODE_PORT; else port=$PY_PORT; fi
    log=$TMP/$server.log
    base=ws://127.0.0.1:$port
    rec=$TMP/$server-rec.jsonl
    out=$("$W" "$base/echo?rec=1" -s chat.v1 -H 'X-Trace: rr' -x first -x '/sleep 0.3' -x '/binary 00ff' \
        --record "$rec" --idle 0.5 2>&1); rc=$?
    "$PY3" - "$rec" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
s = rows[0]
sent = [(r["type"], r.get("data", r.get("hex"))) for r in rows if r["event"] == "sent"]
got = [(r["type"], r.get("data", r.get("hex"))) for r in rows if r["event"] == "received"]
ok = (s["event"] == "session" and s["subprotocol"] == "chat.v1"
      and {"name": "X-Trace", "value": "rr"} in s["headers"]
      and sent == got == [("text", "first"), ("binary", "00ff")])
sys.exit(0 if ok else print(rows) or 1)
PY
    ok=$?; [[ $ok == 0 && $rc == 0 && $(stat -c %a "$rec") == 600 ]]
    result "$server: --record wrote the session line and both messages each way (mode 600)" $? "rc=$rc $out"
    out=$("$W" replay "$rec" "$base/record?rp=1" --idle 0.5 2>&1); rc=$?
    seen "$log" "/record?rp=1" '{"event":"open","subprotocol":"chat.v1","headers":{"x-trace":"rr"}}' \
        '{"event":"text","data":"first"}' '{"event":"binary","hex":"00ff"}' && [[ $rc == 0 ]]
    result "$server: wscope replay of the transcript: same subprotocol, header, messages and types" $? "rc=$rc $out"
    out=$("$W" replay tests/fixtures/chromium.har "$base/record?har=1" --fast --idle 0.5 2>&1); rc=$?
    seen "$log" "/record?har=1" '{"event":"open","subprotocol":"chat.v2","headers":{"origin":"https://chat.example.test"}}' \
        '{"event":"text","data":"{\"type\":\"join\",\"name\":\"ada\"}"}' '{"event":"binary","hex":"000102ff"}' \
        && [[ $rc == 0 ]]
    result "$server: wscope replay of a Chromium HAR: Origin, subprotocol, text and base64 binary" $? "rc=$rc $out"
done
listen "$TMP/listen-replay.log" --replay "$TMP/node-rec.jsonl"
out=$("$W" "$LISTEN" -x one -x two --idle 0.5 2>/dev/null); rc=$?
[[ $rc == 0 && $out == $'first\n00ff' ]]
result "wscope listen --replay of the node transcript answers a client as node did" $? "rc=$rc $out"
# --- end of record and replay ---------------------------------------------------------------------
# --- reconnect ---
# A python websockets server is killed (SIGKILL: no close frame) while `wscope --reconnect` is
# connected, and started again on the same port a moment later: wscope dials again (refused while
# nothing listens), runs its -x script on the new server, and a SIGTERM then closes cleanly (exit 0).
RC_PORT=$(free_port)
start_rc_server() { # LOG
    : > "$1"
    PYTHONPATH=$ROOT/.tools/py "$PY3" scripts/interop/server.py "$RC_PORT" > "$1" 2>&1 &
    RC_PID=$!
    PIDS+=($RC_PID)
    wait_listening "$1"
}
wait_text() { # LOG TEXT
    for _ in $(seq 1 100); do grep -q "\"data\":\"$2\"" "$1" && return 0; sleep 0.1; done
    return 1
}
start_rc_server "$TMP/rc1.log"
"$W" "ws://127.0.0.1:$RC_PORT/record" --reconnect=inf -x 'hello again' -w -1 --json \
    > "$TMP/rc.out" 2> "$TMP/rc.err" &
RC_W=$!
PIDS+=($RC_W)
wait_text "$TMP/rc1.log" 'hello again'
kill -KILL "$RC_PID"; wait "$RC_PID" 2>/dev/null
sleep 1.5
start_rc_server "$TMP/rc2.log"
wait_text "$TMP/rc2.log" 'hello again'; again=$?
kill -TERM "$RC_W"; wait "$RC_W"; rc=$?
attempts=$(grep -c '"event":"reconnect"' "$TMP/rc.out")
[[ $rc == 0 && $again == 0 && $attempts -ge 2 ]] && grep -q 'Connection refused' "$TMP/rc.out" \
    && [[ $(grep -c '"event":"open"' "$TMP/rc.out") == 2 ]]
result "python server killed and restarted: --reconnect dials again, reruns -x, SIGTERM exits 0" $? \
    "rc=$rc attempts=$attempts $(cat "$TMP/rc.err")"
# --- end reconnect ---

echo "interop: $FAILS failure(s) in $(( $(date +%s) - T0 )) s"
[[ $FAILS == 0 ]]
