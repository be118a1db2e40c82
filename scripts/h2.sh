#!/usr/bin/env bash
# WebSockets over HTTP/2 (RFC 8441) against real peers, at pinned versions (issue 30):
#  - Hypercorn (PyPI) with a small ASGI echo app (scripts/h2/echo_app.py), over h2c prior knowledge and
#    over TLS (ALPN h2): wscope's client runs the interop message matrix through it;
#  - a client written with Python's `h2` package (scripts/h2/client.py: prior knowledge or ALPN h2,
#    CONNECT :protocol websocket, masked frames) runs its matrix against `wscope listen --http2 --echo`;
#  - headless Chromium against `wscope listen --http2 --tls-cert`: whether it opens the WebSocket as
#    an extended CONNECT stream (docs/CONFORMANCE.md, "RFC 8441", says what it does).
# Each scenario prints PASS/FAIL; the script exits non-zero on any FAIL.
#
# Environment: WSCOPE=path (use this binary instead of building target/release/wscope).
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
H2_VERSION=4.3.0          # PyPI h2
HYPERCORN_VERSION=0.18.0  # PyPI hypercorn
PY3=${PYTHON3:-$(command -v python3.11 || command -v python3)}

# --- installs (idempotent) ----------------------------------------------------------------------
set -e
if [[ ! -d .tools/h2py/hypercorn-$HYPERCORN_VERSION.dist-info || ! -d .tools/h2py/h2-$H2_VERSION.dist-info ]]; then
    echo "== pip install h2==$H2_VERSION hypercorn==$HYPERCORN_VERSION into .tools/h2py"
    rm -rf .tools/h2py
    "$PY3" -m pip install -q --disable-pip-version-check --root-user-action=ignore \
        --target .tools/h2py "h2==$H2_VERSION" "hypercorn==$HYPERCORN_VERSION"
fi
if [[ -n ${WSCOPE:-} ]]; then
    W=$WSCOPE
else
    echo "== cargo build --release"
    cargo build --release --quiet
    W=$ROOT/target/release/wscope
fi
set +e
PYH2=(env "PYTHONPATH=$ROOT/.tools/h2py" "$PY3")

TMP=$(mktemp -d)
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$TMP"' EXIT
free_port() { "$PY3" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_for() { # LOG TEXT
    for _ in $(seq 1 150); do grep -q "$2" "$1" && return 0; sleep 0.1; done
    echo "never saw '$2' in $1:"; cat "$1"; exit 1
}
FAILS=0
result() { # NAME OK(0/1) DETAIL
    if [[ $2 == 0 ]]; then echo "PASS  $1"; else echo "FAIL  $1${3:+: $3}"; FAILS=$((FAILS + 1)); fi
}

# A test CA and a server certificate for localhost/127.0.0.1, made fresh for each run.
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=wscope h2 test CA" \
    -keyout "$TMP/ca.key" -out "$TMP/ca.pem" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
    -keyout "$TMP/server.key" -out "$TMP/server.csr" 2>/dev/null
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' > "$TMP/ext.cnf"
openssl x509 -req -in "$TMP/server.csr" -CA "$TMP/ca.pem" -CAkey "$TMP/ca.key" -CAcreateserial \
    -days 2 -extfile "$TMP/ext.cnf" -out "$TMP/server.pem" 2>/dev/null

# --- Hypercorn: h2c and TLS -----------------------------------------------------------------------
HC_PORT=$(free_port)
HCS_PORT=$(free_port)
(cd scripts/h2 && exec "${PYH2[@]}" -m hypercorn echo_app:app --bind "127.0.0.1:$HC_PORT") \
    > "$TMP/hc.log" 2>&1 &
PIDS+=($!)
(cd scripts/h2 && exec "${PYH2[@]}" -m hypercorn echo_app:app --bind "127.0.0.1:$HCS_PORT" \
    --certfile "$TMP/server.pem" --keyfile "$TMP/server.key") > "$TMP/hcs.log" 2>&1 &
PIDS+=($!)
wait_for "$TMP/hc.log" "Running on"; wait_for "$TMP/hcs.log" "Running on"
seen() { grep -c "$2" "$1"; }

base=ws://127.0.0.1:$HC_PORT
out=$("$W" inspect "$base/inspect" --http2-only 2>&1); rc=$?
[[ $rc == 0 && $out == *"ENABLE_CONNECT_PROTOCOL=1"* && $out == *"< :status: 200"* && $out == *"server: hypercorn-h2"* ]]
result "hypercorn h2c: inspect --http2-only: the setting, :status 200, all checks pass" $? "rc=$rc $out"

out=$("$W" "$base/f1" --http2-only -x hi -x '/binary 00ff' -x '/ping p' -x '/close 4000 done' 2>&1); rc=$?
[[ $rc == 0 && $out == *'< close 4000 (private use) "done"'* ]] \
    && grep -q '"event": "text", "size": 2, "path": "/f1"' "$TMP/hc.log" \
    && grep -q '"event": "binary", "size": 2, "path": "/f1"' "$TMP/hc.log"
result "hypercorn h2c: text, binary, ping, close 4000 'done' answered with 4000" $? "rc=$rc $out"

out=$("$W" "$base/close" --http2-only -w inf 2>&1); rc=$?
[[ $rc == 6 && $out == *"4001"* && $out == *"server says bye"* ]]
result "hypercorn h2c: server-initiated close 4001 -> exit 6, code and reason printed" $? "rc=$rc $out"

N_SEQ=$("$PY3" scripts/interop/sequence.py lines | wc -l)
for kind in text binary; do
    flag=(); [[ $kind == binary ]] && flag=(--binary)
    "$PY3" scripts/interop/sequence.py lines | "$W" "$base/seq-$kind" --http2-only "${flag[@]}" --json \
        --count "$N_SEQ" -w 10 > "$TMP/seq.json" 2> "$TMP/seq.err"; rc=$?
    why=$("$PY3" scripts/interop/sequence.py check "$TMP/seq.json" "$kind"); ok=$?
    [[ $ok == 0 && $rc == 0 ]]
    result "hypercorn h2c: sizes 0..65536 ($kind, permessage-deflate) echoed as sent" $? \
        "rc=$rc $why $(tail -n2 "$TMP/seq.err")"
done
"$PY3" -c 'print("y" * 300000)' | "$W" "$base/big" --http2-only --no-deflate --once > "$TMP/big.out" 2> "$TMP/big.err"; rc=$?
[[ $rc == 0 && $(wc -c < "$TMP/big.out") == 300001 ]]
result "hypercorn h2c: a 300 KB message crosses the 64 KiB window both ways" $? "rc=$rc $(tail -n2 "$TMP/big.err")"
seq 20000 | "$W" "$base/many" --http2-only --count 20000 -w 10 > "$TMP/echo.out" 2> "$TMP/echo.err"; rc=$?
cmp -s "$TMP/echo.out" <(seq 20000)
result "hypercorn h2c: 20000 piped lines echoed back losslessly" $? \
    "rc=$rc, $(wc -l < "$TMP/echo.out") lines back; $(tail -n2 "$TMP/echo.err")"

out=$("$W" "wss://localhost:$HCS_PORT/tls" --http2-only --ca "$TMP/ca.pem" -v -x 'over h2 and tls' -w 5 --count 1 2>&1); rc=$?
[[ $rc == 0 && $out == *"ALPN:    h2"* && $out == *"over h2 and tls"* ]]
result "hypercorn TLS: ALPN h2, extended CONNECT, echo" $? "rc=$rc $out"

# --- the Python h2 client against wscope listen --http2 --echo ---------------------------------------
listen() { # LOG ARGS...: `wscope listen --http2 --echo` on a free port (killed on exit)
    local log=$1; shift
    LPORT=$(free_port)
    "$W" listen "127.0.0.1:$LPORT" --http2 --echo -v "$@" > "$log.out" 2> "$log" &
    PIDS+=($!)
    wait_for "$log" listening
}
listen "$TMP/listen.log"
out=$("${PYH2[@]}" scripts/h2/client.py "ws://127.0.0.1:$LPORT/matrix" 2>&1); rc=$?
[[ $rc == 0 && $out == *'{"ok": true}'* ]] && grep -q "< :protocol: websocket" "$TMP/listen.log"
result "python h2 client (h2c prior knowledge) -> listen --http2 --echo: message matrix" $? "rc=$rc $out"
listen "$TMP/listens.log" --tls-cert "$TMP/server.pem" --tls-key "$TMP/server.key"
out=$("${PYH2[@]}" scripts/h2/client.py "wss://localhost:$LPORT/matrix" 2>&1); rc=$?
[[ $rc == 0 && $out == *'{"ok": true}'* ]] && grep -q "< :scheme: https" "$TMP/listens.log"
result "python h2 client (TLS, ALPN h2) -> listen --http2 --tls-cert --echo: message matrix" $? "rc=$rc $out"

# --- Chromium against listen --http2 --tls-cert ------------------------------------------------------
# Chromium opens a WebSocket over HTTP/2 only on an HTTP/2 connection it already has to that origin
# (with the setting): the page first fetches from the server (credentials included: a no-credentials
# fetch lands in another socket pool), then opens the WebSocket.
if ! command -v chromium > /dev/null; then
    echo "== apt-get install chromium"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) > /dev/null 2>&1
fi
if command -v chromium > /dev/null; then
    listen "$TMP/chromium.log" --tls-cert "$TMP/server.pem" --tls-key "$TMP/server.key"
    cat > "$TMP/page.html" <<EOF
<html><body><script>
fetch('https://localhost:$LPORT/warm', {mode: 'no-cors', credentials: 'include'}).catch(() => {}).finally(() => {
  const ws = new WebSocket('wss://localhost:$LPORT/chromium');
  ws.onopen = () => ws.send('hello from chromium');
});
</script></body></html>
EOF
    PROFILE=$(mktemp -d)
    HOME=$PROFILE timeout 60 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync --disable-default-apps \
        --disable-extensions --disable-domain-reliability --no-pings --dns-prefetch-disable \
        '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1' \
        --user-data-dir="$PROFILE" --ignore-certificate-errors --virtual-time-budget=5000 \
        --dump-dom "file://$TMP/page.html" > /dev/null 2>&1
    rm -rf "$PROFILE"
    sleep 0.5
    grep -q "< :protocol: websocket" "$TMP/chromium.log" && grep -q "< :path: /chromium" "$TMP/chromium.log"
    result "chromium -> listen --http2 --tls-cert: the WebSocket is an extended CONNECT on its HTTP/2 connection" $? \
        "$(grep -E '\] (<|>) (:|GET)|connected|refused' "$TMP/chromium.log" | head -20)"
else
    echo "SKIP  chromium: not installed and apt-get could not install it"
fi

echo
echo "$FAILS failed"
[[ $FAILS == 0 ]]
