#!/usr/bin/env bash
# The slow interop checks, run alone (not by .ci/run): RabbitMQ (Debian rabbitmq-server, installed
# with apt-get when missing) with its rabbitmq_web_stomp and rabbitmq_web_mqtt plugins, for the
# stomp and mqtt lenses. The broker takes ~20 s to start. It is kept on loopback: the node, its
# distribution port, its own epmd and every listener on 127.0.0.1 and free ports, its data, logs,
# config and Erlang cookie in a temporary directory (the packaged service is never started).
# Readiness is "Server startup complete" in its output, not an open port (its listeners open before
# vhosts and permissions are loaded). Each scenario prints PASS/FAIL; exit non-zero on any FAIL.
#
# Environment: WSCOPE=path (use this binary instead of building target/debug/wscope).
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PY3=${PYTHON3:-$(command -v python3)}
T0=$(date +%s)

set -e
if [[ ! -x /usr/lib/rabbitmq/bin/rabbitmq-server ]]; then
    echo "== apt-get install rabbitmq-server (the packaged service is not started)"
    # A new machine may have no package lists yet: fetch them once if the install fails.
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q rabbitmq-server > /dev/null ||
        { apt-get update -q > /dev/null &&
          DEBIAN_FRONTEND=noninteractive apt-get install -y -q rabbitmq-server > /dev/null; }
fi
if [[ -n ${WSCOPE:-} ]]; then W=$WSCOPE; else cargo build --quiet; W=$ROOT/target/debug/wscope; fi
set +e

TMP=$(mktemp -d)
RPID=
stop() {
    [[ -n $RPID ]] || return 0
    HOME=$TMP RABBITMQ_NODENAME=$NODE ERL_EPMD_ADDRESS=127.0.0.1 ERL_EPMD_PORT=$EPMD /usr/lib/rabbitmq/bin/rabbitmqctl -q stop > /dev/null 2>&1 \
        || kill "$RPID" 2> /dev/null
    # The epmd the broker started for itself (`epmd -daemon`) on our port: found by that port.
    local e
    e=$(ss -ltnpH "sport = :$EPMD" 2> /dev/null | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2)
    [[ -n $e ]] && kill "$e" 2> /dev/null
    kill "$RPID" 2> /dev/null
    RPID=
}
trap 'stop; rm -rf "$TMP"' EXIT
free_port() { "$PY3" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
AMQP=$(free_port); DIST=$(free_port); EPMD=$(free_port)
STOMP_WS=$(free_port); MQTT_WS=$(free_port); STOMP_TCP=$(free_port); MQTT_TCP=$(free_port)
NODE=wscope-slow@localhost
cat > "$TMP/rabbitmq.conf" <<EOF
listeners.tcp.1 = 127.0.0.1:$AMQP
stomp.listeners.tcp.1 = 127.0.0.1:$STOMP_TCP
mqtt.listeners.tcp.1 = 127.0.0.1:$MQTT_TCP
web_stomp.tcp.ip = 127.0.0.1
web_stomp.tcp.port = $STOMP_WS
web_mqtt.tcp.ip = 127.0.0.1
web_mqtt.tcp.port = $MQTT_WS
EOF
echo '[rabbitmq_web_stomp,rabbitmq_web_mqtt].' > "$TMP/enabled_plugins"
echo "== rabbitmq-server on 127.0.0.1 (web-stomp :$STOMP_WS, web-mqtt :$MQTT_WS)"
env HOME="$TMP" RABBITMQ_NODENAME=$NODE RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 RABBITMQ_NODE_PORT=$AMQP \
    RABBITMQ_DIST_PORT=$DIST ERL_EPMD_ADDRESS=127.0.0.1 ERL_EPMD_PORT=$EPMD \
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}" \
    RABBITMQ_CONFIG_FILE="$TMP/rabbitmq" RABBITMQ_ENABLED_PLUGINS_FILE="$TMP/enabled_plugins" \
    RABBITMQ_MNESIA_BASE="$TMP/mnesia" RABBITMQ_LOG_BASE="$TMP/log" RABBITMQ_LOGS=- \
    /usr/lib/rabbitmq/bin/rabbitmq-server > "$TMP/rabbit.log" 2>&1 &
RPID=$!
for _ in $(seq 1 900); do grep -q "Server startup complete" "$TMP/rabbit.log" && break; sleep 0.1; done
if ! grep -q "Server startup complete" "$TMP/rabbit.log"; then
    echo "FAIL  rabbitmq did not start in 90 s:"; tail -30 "$TMP/rabbit.log"; exit 1
fi
echo "== rabbitmq ready after $(($(date +%s) - T0)) s"

FAILS=0
check() { # NAME EXPECTED_EXIT GOT_EXIT FILE PATTERN...
    local name=$1 want=$2 got=$3 file=$4; shift 4
    local ok=0 why=""
    [[ $got == "$want" ]] || { ok=1; why="exit $got, wanted $want"; }
    for p in "$@"; do grep -qE -- "$p" "$file" || { ok=1; why="${why:+$why; }no line matching /$p/"; }; done
    if [[ $ok == 0 ]]; then echo "PASS  $name"; else
        echo "FAIL  $name: $why"; sed 's/^/      /' "$file" | head -40; FAILS=$((FAILS + 1)); fi
}
run() { local out=$1; shift; "$W" "$@" < /dev/null > "$out" 2>&1; RC=$?; }

# STOMP: chosen by the subprotocol, CONNECT with --auth and the vhost from --lens-host, a
# subscription, a SEND with its receipt, heart-beats kept over 3 of the negotiated intervals.
run "$TMP/stomp" "ws://127.0.0.1:$STOMP_WS/ws" -s v12.stomp --auth guest:guest --lens-host / \
    -x '/subscribe /topic/news' -x '/send /topic/news hello' \
    -x '/expect-json .command == "MESSAGE" and .body == "hello"' -x '/expect-json .command == "RECEIPT"' -w 0
check "rabbitmq web-stomp: CONNECTED, SUBSCRIBE, SEND with receipt, MESSAGE" 0 "$RC" "$TMP/stomp" \
    'lens stomp' '^\[stomp\] CONNECTED ' '^\[stomp\] MESSAGE /topic/news .*"hello"'
run "$TMP/stompj" "ws://127.0.0.1:$STOMP_WS/ws" -s v12.stomp --auth guest:guest --lens-host / --json \
    -x '/send /queue/q x' -x '/expect-json .command == "RECEIPT"' -w 0
check "rabbitmq web-stomp: --json lens view" 0 "$RC" "$TMP/stompj" '"name":"stomp","summary":"RECEIPT receipt-id r0 \([0-9.]+ ms\)"'
run "$TMP/stompbad" "ws://127.0.0.1:$STOMP_WS/ws" -s v12.stomp --auth guest:wrong --lens-host / -w 5
check "rabbitmq web-stomp: a refused login is reported" 6 "$RC" "$TMP/stompbad" 'STOMP: the server refused CONNECT'

# MQTT over RabbitMQ's Web-MQTT (3.1.1).
run "$TMP/mqtt" "ws://127.0.0.1:$MQTT_WS/ws" -s mqtt --auth guest:guest \
    -x '/subscribe s/t --qos 1' -x '/publish s/t 21.5 --qos 1' \
    -x '/expect-json .type == "PUBLISH" and .payload == "21.5"' -w 0
check "rabbitmq web-mqtt: CONNACK, SUBSCRIBE, QoS 1 PUBLISH both ways" 0 "$RC" "$TMP/mqtt" \
    'lens mqtt' '^\[mqtt\] CONNACK code 0 \(accepted\)$' '^\[mqtt\] PUBLISH s/t qos 1 id [0-9]+ "21.5"$'
# RabbitMQ 3.10 answers a bad MQTT login with a WebSocket close 1002 "unauthenticated", not a CONNACK.
run "$TMP/mqttbad" "ws://127.0.0.1:$MQTT_WS/ws" -s mqtt --auth guest:wrong -w 5
check "rabbitmq web-mqtt: a refused login (close 1002 unauthenticated) is exit 6" 6 "$RC" "$TMP/mqttbad" 'unauthenticated'

# Loopback only: no listener of the broker or its epmd on another address (epmd adds [::1] itself).
ss -ltnp 2> /dev/null | grep -E '"(beam[^"]*|epmd)"' | awk '{print $4, $6}' | grep -vE '^(127\.0\.0\.1|\[::1\]):' > "$TMP/wide"
[[ ! -s $TMP/wide ]]; check "rabbitmq and its epmd listen on 127.0.0.1 only" 0 $? "$TMP/wide"

echo "== slow: $FAILS failed, $(($(date +%s) - T0)) s"
[[ $FAILS == 0 ]]
