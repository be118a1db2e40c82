# Sourced by scripts/lenses.sh (uses its W, TMP, PY3, free_port, run, check, FAILS, PYPID, MQPID):
# the Python peers (scripts/lenses/py_server.py) and mosquitto, each lens with auto-selection where
# the handshake can choose it, a round trip with its commands, a --json lens view, /expect-json on
# the view and a malformed packet; duties kept for over 3 ping intervals where the peer pings.

WSP=$(free_port); SIOP=$(free_port)
PYTHONPATH=$ROOT/.tools/lens-py "$PY3" scripts/lenses/py_server.py "$WSP" "$SIOP" > "$TMP/py.log" 2>&1 &
PYPID=$!
for _ in $(seq 1 100); do grep -q '"listening"' "$TMP/py.log" && break; sleep 0.1; done
grep -q '"listening"' "$TMP/py.log" || { echo "FAIL  python peers did not start:"; cat "$TMP/py.log"; FAILS=$((FAILS + 1)); }
PY=ws://127.0.0.1:$WSP

# python-socketio: chosen by the path; welcome before the namespace answer; an ack; a binary event;
# pings answered for 3.2 s at its 1 s pingInterval; a namespace with auth; the --json lens view.
run "$TMP/pysio" "ws://127.0.0.1:$SIOP/socket.io/" --json -x '/expect-json .name == "welcome"' \
    -x '/emit chat "hi" --ack' -x '/expect-json .type == "ack" and .args[0] == "ok"' \
    -x '/emit bin' -x '/expect-json .type == "attachment" and .size == 4' -x '/sleep 3.2' \
    -x '/ns /admin {"token":"s3cret"}' -x '/expect-json .ns == "/admin" and .name == "hello-admin"' -w 0
check "python-socketio: namespace, ack, binary event, 3 pingIntervals kept, --json view" 0 "$RC" "$TMP/pysio" \
    '"lens":\{"name":"socketio","summary":"event \\"welcome\\" \[\{\\"py\\":true\}\]"' \
    '"summary":"attachment 1/1 of \\"blob\\" \(4 bytes\)"' '"lens":\{"duty":true,"name":"socketio","summary":"pong"'
PONGS=$(grep -c '"summary":"pong"' "$TMP/pysio")
[[ $PONGS -ge 3 ]]; check "python-socketio: 3 pings or more answered in 3.2 s (got $PONGS)" 0 $? "$TMP/pysio"
run "$TMP/pysio2" "ws://127.0.0.1:$SIOP/socket.io/" -x '/ns /admin {"token":"bad"}' -x '/expect-json .type == "connect_error"' -w 0
check "python-socketio: a refused namespace" 0 "$RC" "$TMP/pysio2" '^\[socketio\] connect_error \{"message":"not authorized"\} ns /admin$'

# JSON-RPC: calls paired with their latency, an error, a batch, server notifications, bad JSON.
run "$TMP/rpc" "$PY/rpc" --lens jsonrpc -x '/call add [1,2]' -x '/expect-json .result == 3' \
    -x '/call nope' -x '/expect-json .error.code == -32601' -x '/notify log ["x"]' \
    -x '/call garbage' -x '/expect oops' -x '/expect-json .method == "tick"' -w 0
check "jsonrpc (Python): ids paired with latency, errors, notifications, not JSON" 0 "$RC" "$TMP/rpc" \
    '^\[jsonrpc\] result id 1 \([0-9.]+ ms\) 3$' '^\[jsonrpc\] error id 2 \([0-9.]+ ms\) -32601 "Method not found"$' \
    '^\[jsonrpc\] notify tick \[[0-9]+\]$' '^\[jsonrpc\] oops\{not json \(not a jsonrpc packet: '
run "$TMP/rpcj" "$PY/rpc" --lens jsonrpc --json -x '/call echo {"a":1}' -x '/expect-json .result.a == 1' -w 0
check "jsonrpc (Python): --json lens view" 0 "$RC" "$TMP/rpcj" '"lens":\{"name":"jsonrpc","summary":"result id 1 '

# MessagePack and CBOR: the server's value (bytes tagged), /send-json encoded and echoed, a bad byte.
for lens in msgpack cbor; do
    run "$TMP/$lens" "$PY/$lens" --lens "$lens" -x "/expect-json .hello == \"$lens\"" \
        -x '/send-json {"a":[1,2],"s":"x"}' -x '/expect-json .echo.a == [1,2] and .echo.s == "x"' -w 0
    check "$lens (Python $lens): decoded, /send-json round trip, a malformed message" 0 "$RC" "$TMP/$lens" \
        "^\[$lens\] .*\"bin\":\{\"\\\$bytes\":\"00ff\"\}" "^\[$lens\] .*\(not a $lens packet: " \
        "^\[$lens\] \{\"echo\":\{\"a\":\[1,2\],\"s\":\"x\"\}\}$"
done
run "$TMP/cborj" "$PY/cbor" --lens cbor --json -x '/expect-json .tag["$tag"][0] == 40000' -w 0
check "cbor (Python cbor2): a tag, --json lens view" 0 "$RC" "$TMP/cborj" '"\$tag":\[40000,7\]'

# protobuf: schema-less, then with chat.proto (the Python side built its descriptor by hand).
run "$TMP/pb" "$PY/protobuf" --lens protobuf -x '/expect-json .["2"] == "hi" and .["3"] == ["a","b"]' \
    -x '/send-json {"1":1,"2":"raw"}' -x '/expect-json .["2"] == "RAW"' -w 0
check "protobuf (Python protobuf): schema-less, /send-json, a malformed message" 0 "$RC" "$TMP/pb" \
    '^\[protobuf\] \{"1":150,"2":"hi","3":\["a","b"\]\}$' '^\[protobuf\] 0f00 \(not a protobuf packet: '
run "$TMP/pbs" "$PY/protobuf" --proto scripts/lenses/chat.proto --message demo.Chat --json \
    -x '/expect-json .user == "hi" and .tags == ["a","b"]' \
    -x '/send-json {"n":41,"user":"ann"}' -x '/expect-json .n == 42 and .user == "ANN"' -w 0
check "protobuf --proto (protox) against Python's message: --json lens view" 0 "$RC" "$TMP/pbs" \
    '"summary":"demo.Chat \{\\"n\\":42,\\"tags\\":\[\],\\"user\\":\\"ANN\\"\}"|"summary":"demo.Chat \{\\"n\\":42,\\"user\\":\\"ANN\\"\}"'

# mosquitto: our own config, listeners on 127.0.0.1 only (the packaged one binds every interface).
MQWS=$(free_port); MQTCP=$(free_port)
printf 'listener %s 127.0.0.1\nprotocol websockets\nlistener %s 127.0.0.1\nallow_anonymous true\npersistence false\n' \
    "$MQWS" "$MQTCP" > "$TMP/mosquitto.conf"
mosquitto -c "$TMP/mosquitto.conf" > "$TMP/mosquitto.log" 2>&1 &
MQPID=$!
for _ in $(seq 1 50); do mosquitto_pub -h 127.0.0.1 -p "$MQTCP" -t up -m 1 2> /dev/null && break; sleep 0.1; done
# wscope subscribes, mosquitto_pub publishes (QoS 1: the lens sends PUBACK); wscope publishes,
# mosquitto_sub receives.
(sleep 1.5; mosquitto_pub -h 127.0.0.1 -p "$MQTCP" -t s/t -m hello-from-pub -q 1) &
mosquitto_sub -h 127.0.0.1 -p "$MQTCP" -t s/x -C 1 -W 10 > "$TMP/mqsub" 2>&1 &
SUBPID=$!
sleep 0.5
run "$TMP/mq" "ws://127.0.0.1:$MQWS/" -s mqtt -x '/subscribe s/t --qos 1' \
    -x '/expect-json .type == "PUBLISH" and .payload == "hello-from-pub"' \
    -x '/publish s/x 21.5 --qos 1' -x '/expect-json .type == "PUBACK"' -w 0
wait "$SUBPID"
check "mosquitto: chosen by the subprotocol, SUBSCRIBE/PUBLISH both ways with QoS 1" 0 "$RC" "$TMP/mq" \
    'lens mqtt' '^\[mqtt\] CONNACK code 0 \(accepted\)$' '^\[mqtt\] PUBLISH s/t qos 1 id [0-9]+ "hello-from-pub"$'
check "mosquitto_sub received wscope's PUBLISH" 0 0 "$TMP/mqsub" '^21\.5$'
run "$TMP/mq5" "ws://127.0.0.1:$MQWS/" -s mqtt --mqtt-version 5 --json -x '/subscribe s/t' \
    -x '/expect-json .type == "SUBACK" and .codes == [0]' -w 0
check "mosquitto: MQTT 5 CONNACK properties, --json lens view" 0 "$RC" "$TMP/mq5" \
    '"summary":"CONNACK code 0 \(accepted\)","view":\{"code":0,"properties":\{"receive_maximum":'
run "$TMP/mqbad" "ws://127.0.0.1:$MQWS/" -s mqtt --json -x '/text not mqtt' -w 0.3
check "mosquitto: a malformed packet (text) is shown raw with why, the connection stays" 0 "$RC" "$TMP/mqbad" \
    '"event":"sent".*"lens":\{"error":"MQTT travels in binary messages, this is text","name":"mqtt"\}'
