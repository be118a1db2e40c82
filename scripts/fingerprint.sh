#!/usr/bin/env bash
# `wscope probe --fingerprint` against every peer it knows, each started here on 127.0.0.1 at a
# pinned version: Node ws and engine.io (npm, into .tools/fp-node), Python websockets, aiohttp,
# uvicorn (with websockets and with wsproto), hypercorn and tornado (PyPI, into .tools/fp-py),
# Go gorilla/websocket (Debian's package, built offline into .tools/fp-go), libwebsockets'
# test server, nginx, haproxy and caddy in front of Node ws (Debian, configured here), and
# `wscope listen`. Each peer's fingerprint must name it (PASS/FAIL lines, exit 1 on any FAIL);
# then the rows of docs/CONFORMANCE.md's probe table are printed: what the default probe says
# about each peer and what --fingerprint names.
#
#   scripts/fingerprint.sh               check every peer is named
#   scripts/fingerprint.sh --regenerate  rewrite src/commands/probe/fingerprints.json from what
#                                        the peers answer now (then rebuild and run it again)
#
# Environment: WSCOPE=path (use this binary instead of building target/release/wscope);
# FINGERPRINT_PEERS="ws tornado ..." (only these peers: ids as in the PEERS list below).
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
MODE=check
[[ ${1:-} == --regenerate ]] && MODE=regenerate
if [[ $MODE == regenerate && -n ${FINGERPRINT_PEERS:-} ]]; then
    echo "--regenerate writes the whole table: run it without FINGERPRINT_PEERS" >&2
    exit 2
fi
WS_VERSION=8.18.3          # npm ws
ENGINE_IO_VERSION=6.6.4    # npm engine.io (socket.io's engine)
PY_PINS="websockets==15.0.1 aiohttp==3.11.18 uvicorn==0.34.2 wsproto==1.2.0 hypercorn==0.17.3 tornado==6.5.1"
DEBS="nginx haproxy caddy libwebsockets-test-server golang-go golang-github-gorilla-websocket-dev"
PY3=${PYTHON3:-$(command -v python3.11 || command -v python3)}
DATA=src/commands/probe/fingerprints.json
T0=$(date +%s)

# --- installs (idempotent) ----------------------------------------------------------------------
set -e
if [[ ! -f .tools/fp-node/pins || "$(cat .tools/fp-node/pins)" != "$WS_VERSION $ENGINE_IO_VERSION" ]]; then
    echo "== npm install ws@$WS_VERSION engine.io@$ENGINE_IO_VERSION into .tools/fp-node"
    rm -rf .tools/fp-node && mkdir -p .tools/fp-node
    npm install --silent --no-audit --no-fund --prefix .tools/fp-node \
        "ws@$WS_VERSION" "engine.io@$ENGINE_IO_VERSION"
    echo "$WS_VERSION $ENGINE_IO_VERSION" > .tools/fp-node/pins
fi
if [[ ! -f .tools/fp-py/pins || "$(cat .tools/fp-py/pins)" != "$PY_PINS" ]]; then
    echo "== pip install $PY_PINS into .tools/fp-py"
    rm -rf .tools/fp-py
    # shellcheck disable=SC2086
    "$PY3" -m pip install -q --disable-pip-version-check --root-user-action=ignore \
        --target .tools/fp-py $PY_PINS
    echo "$PY_PINS" > .tools/fp-py/pins
fi
missing=()
for c in nginx haproxy caddy libwebsockets-test-server go; do
    command -v "$c" > /dev/null || missing+=("$c")
done
[[ -d /usr/share/gocode/src/github.com/gorilla/websocket ]] || missing+=(gorilla)
if ((${#missing[@]})); then
    echo "== apt-get install $DEBS (missing: ${missing[*]})"
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $DEBS > /dev/null ||
        { apt-get update -q > /dev/null &&
          DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $DEBS > /dev/null; } ||
        { echo "could not install $DEBS (apt-get needs root): install them first" >&2; exit 1; }
    # Debian starts the daemons it installs, on every interface: these peers run here, on 127.0.0.1.
    for s in nginx haproxy caddy; do
        command -v systemctl > /dev/null && systemctl stop "$s" 2> /dev/null || true
        command -v service > /dev/null && service "$s" stop > /dev/null 2>&1 || true
    done
fi
if [[ ! -x .tools/fp-go/echo || scripts/fingerprint/echo.go -nt .tools/fp-go/echo ]]; then
    echo "== go build (gorilla/websocket from Debian, offline) into .tools/fp-go"
    mkdir -p .tools/fp-go
    (cd scripts/fingerprint && GO111MODULE=off GOPATH=/usr/share/gocode GOFLAGS= GOPROXY=off \
        GOCACHE="$ROOT/.tools/fp-go/cache" go build -o "$ROOT/.tools/fp-go/echo" echo.go)
fi
if [[ -n ${WSCOPE:-} ]]; then
    W=$WSCOPE
else
    echo "== cargo build --release"
    cargo build --release --quiet
    W=$ROOT/target/release/wscope
fi
set +e
echo "installs and build: $(($(date +%s) - T0)) s"

# --- peers ----------------------------------------------------------------------------------------
TMP=$(mktemp -d)
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$TMP"' EXIT
free_port() { "$PY3" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { # PORT NAME
    for _ in $(seq 1 150); do
        (exec 3<> "/dev/tcp/127.0.0.1/$1") 2> /dev/null && return 0
        sleep 0.1
    done
    echo "FAIL  $2 did not start on 127.0.0.1:$1:"; cat "$TMP/$2.log"
    return 1
}
PY_VERSIONS=$(cd .tools/fp-py && ls -d websockets-*.dist-info aiohttp-*.dist-info uvicorn-*.dist-info wsproto-*.dist-info hypercorn-*.dist-info tornado-*.dist-info)
pyv() { grep -o "^$1-[0-9]*\.[0-9]*" <<< "$PY_VERSIONS" | sed "s/^$1-//"; }
debv() { dpkg-query -W -f='${Version}' "$1" 2> /dev/null | sed -E 's/^[0-9]+://; s/^([0-9]+\.[0-9]+).*/\1/'; }
NODE_WS="Node ws ${WS_VERSION%.*}"

# id | name the fingerprint must give | how it is started (PORT: its port; WS_PORT: Node ws's) | path
PEERS=(
    "ws|$NODE_WS|node scripts/fingerprint/servers.js ws PORT|/"
    "engine.io|engine.io ${ENGINE_IO_VERSION%.*} (socket.io)|node scripts/fingerprint/servers.js engine.io PORT|/engine.io/?EIO=4&transport=websocket"
    "websockets|Python websockets $(pyv websockets)|$PY3 scripts/fingerprint/servers.py websockets PORT|/"
    "aiohttp|aiohttp $(pyv aiohttp)|$PY3 scripts/fingerprint/servers.py aiohttp PORT|/"
    "uvicorn-websockets|uvicorn $(pyv uvicorn) + websockets $(pyv websockets)|$PY3 scripts/fingerprint/servers.py uvicorn-websockets PORT|/"
    "uvicorn-wsproto|uvicorn $(pyv uvicorn) + wsproto $(pyv wsproto)|$PY3 scripts/fingerprint/servers.py uvicorn-wsproto PORT|/"
    "hypercorn|hypercorn $(pyv hypercorn) (wsproto)|$PY3 scripts/fingerprint/servers.py hypercorn PORT|/"
    "tornado|tornado $(pyv tornado)|$PY3 scripts/fingerprint/servers.py tornado PORT|/"
    "gorilla|Go gorilla/websocket $(debv golang-github-gorilla-websocket-dev)|.tools/fp-go/echo PORT|/"
    "libwebsockets|libwebsockets $(debv libwebsockets-test-server)|libwebsockets-test-server --port=PORT --interface=lo|/"
    "nginx|nginx $(debv nginx) in front of $NODE_WS|nginx -p TMP -c TMP/nginx.conf|/"
    "haproxy|haproxy $(debv haproxy) in front of $NODE_WS|haproxy -db -f TMP/haproxy.cfg|/"
    "caddy|caddy $(debv caddy) in front of $NODE_WS|caddy run --adapter caddyfile --config TMP/Caddyfile|/"
    "listen|wscope listen|$W listen 127.0.0.1:PORT --echo|/"
)
declare -A PORT
for p in "${PEERS[@]}"; do PORT[${p%%|*}]=$(free_port); done
WS_PORT=${PORT[ws]}
chosen() { [[ -z ${FINGERPRINT_PEERS:-} || " $FINGERPRINT_PEERS ws " == *" $1 "* ]]; }

# The fronts' configurations: 127.0.0.1 only, logs and temporary files in $TMP.
cat > "$TMP/nginx.conf" <<EOF
$( ((EUID == 0)) && echo "user root;")
daemon off;
worker_processes 1;
pid $TMP/nginx.pid;
error_log $TMP/nginx-error.log;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $TMP/nginx-body;
    proxy_temp_path $TMP/nginx-proxy;
    fastcgi_temp_path $TMP/nginx-fastcgi;
    uwsgi_temp_path $TMP/nginx-uwsgi;
    scgi_temp_path $TMP/nginx-scgi;
    server {
        listen 127.0.0.1:${PORT[nginx]};
        location / {
            proxy_pass http://127.0.0.1:$WS_PORT;
            proxy_http_version 1.1;
            proxy_set_header Upgrade \$http_upgrade;
            proxy_set_header Connection "upgrade";
        }
    }
}
EOF
cat > "$TMP/haproxy.cfg" <<EOF
global
    maxconn 256
defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
frontend fe
    bind 127.0.0.1:${PORT[haproxy]}
    default_backend be
backend be
    server ws 127.0.0.1:$WS_PORT
EOF
cat > "$TMP/Caddyfile" <<EOF
{
    admin off
    auto_https off
}
http://127.0.0.1:${PORT[caddy]} {
    bind 127.0.0.1
    reverse_proxy 127.0.0.1:$WS_PORT
}
EOF

STARTED=()
for p in "${PEERS[@]}"; do
    IFS='|' read -r id name cmd path <<< "$p"
    chosen "$id" || continue
    cmd=${cmd//PORT/${PORT[$id]}}
    cmd=${cmd//TMP/$TMP}
    # shellcheck disable=SC2086
    HOME=$TMP XDG_DATA_HOME=$TMP XDG_CONFIG_HOME=$TMP NODE_PATH=$ROOT/.tools/fp-node/node_modules \
        PYTHONPATH=$ROOT/.tools/fp-py $cmd < /dev/null > "$TMP/$id.log" 2>&1 &
    PIDS+=($!)
    STARTED+=("$p")
done
FAILS=0
READY=()
for p in "${STARTED[@]}"; do
    id=${p%%|*}
    if wait_port "${PORT[$id]}" "$id"; then READY+=("$p"); else FAILS=$((FAILS + 1)); fi
done
echo "peers up: $(($(date +%s) - T0)) s"

# --- probes: one at a time, so no peer answers under another's load --------------------------
PAIRS=()
for p in "${READY[@]}"; do
    IFS='|' read -r id name cmd path <<< "$p"
    "$W" probe "ws://127.0.0.1:${PORT[$id]}$path" --fingerprint --json > "$TMP/$id.json" 2> "$TMP/$id.err"
    PAIRS+=("$name=$TMP/$id.json")
done
"$PY3" scripts/fingerprint/table.py "$MODE" "$DATA" "${PAIRS[@]}" || FAILS=$((FAILS + 1))
echo "fingerprint: ${#READY[@]} peers in $(($(date +%s) - T0)) s, $FAILS failure(s)"
((FAILS == 0))
