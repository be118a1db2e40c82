#!/usr/bin/env bash
# Autobahn|Testsuite 0.8.2 client conformance for wscope.
#
# Runs the suite's fuzzingserver (Python 2.7, loopback only) and connects wscope to every case as an
# echoing client (`--echo -w inf`), then reads the suite's own verdicts from its JSON report.
# Fails when any case of groups 1-7, 10, 12 or 13 is not OK/INFORMATIONAL (behaviour and close
# behaviour); group 9 (limits/performance) is run and reported only. Groups 12 and 13 are
# permessage-deflate: wscope makes its default offer (12.*, and 13.* where the fuzzingserver
# answers with each parameter combination in turn).
#
# Environment:
#   WSCOPE=path            use this binary instead of building target/release/wscope
#   PYTHON2=path           Python 2.7 interpreter (default: pyenv's 2.7.18)
#   AUTOBAHN_CASES='..'    space-separated case patterns (default: 1.* 2.* 3.* 4.* 5.* 6.* 7.* 9.* 10.* 12.* 13.*)
#   AUTOBAHN_OUT=dir       report directory (default: target/autobahn)
#   AUTOBAHN_CASE_TIMEOUT  seconds per case (default 60)
#   AUTOBAHN_ALLOW_NONSTRICT=1  do not fail on NON-STRICT verdicts (they are still listed)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

PREFIX=$ROOT/.tools/autobahn          # must be absolute: setup.py installs run from a temp cwd
SITE=$PREFIX/lib/python2.7/site-packages
OUT=${AUTOBAHN_OUT:-$ROOT/target/autobahn}
CASES=${AUTOBAHN_CASES:-"1.* 2.* 3.* 4.* 5.* 6.* 7.* 9.* 10.* 12.* 13.*"}
CASE_TIMEOUT=${AUTOBAHN_CASE_TIMEOUT:-60}
T0=$(date +%s)

# --- Python 2.7 and the pinned suite --------------------------------------------------------------
PY2=${PYTHON2:-}
if [[ -z $PY2 ]]; then
    for c in "$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")/versions/2.7.18/bin/python2.7" \
             /root/.pyenv/versions/2.7.18/bin/python2.7 "$(command -v python2.7 || true)"; do
        if [[ -n $c && -x $c ]]; then PY2=$c; break; fi
    done
fi
[[ -n $PY2 ]] || { echo "autobahn: no Python 2.7 found (set PYTHON2)" >&2; exit 1; }

# The last versions of everything that still runs on Python 2.7 (what pip resolves for
# autobahntestsuite 0.8.2 today), pinned so that a new release cannot break CI.
REQUIREMENTS="autobahntestsuite==0.8.2 autobahn==0.10.9 Twisted==20.3.0 txaio==2.1.0
zope.interface==5.5.2 Automat==22.10.0 PyHamcrest==1.10.1 Tubes==0.2.1 Werkzeug==1.0.1 klein==20.6.0
Jinja2==2.11.3 MarkupSafe==1.1.1 attrs==21.4.0 cffi==1.15.1 constantly==15.1.0 cryptography==3.3.2
enum34==1.1.10 hyperlink==21.0.0 idna==2.10 incremental==22.10.0 ipaddress==1.0.23 pyasn1==0.5.1
pyasn1-modules==0.3.0 pycparser==2.21 pyOpenSSL==21.0.0 service-identity==21.1.0 six==1.17.0
typing==3.10.0.0 ujson==2.0.3 unittest2==1.1.0 linecache2==1.0.0 traceback2==1.4.0 argparse==1.4.0
wsaccel==0.6.6"

if ! "$PY2" -c "import site; site.addsitedir('$SITE'); import autobahntestsuite, autobahn, wsaccel" 2>/dev/null; then
    echo "== installing autobahntestsuite 0.8.2 into $PREFIX"
    # shellcheck disable=SC2086
    "$PY2" -m pip install -q --disable-pip-version-check --no-warn-script-location \
        --prefix "$PREFIX" $REQUIREMENTS
fi

# --- wscope ----------------------------------------------------------------------------------------
if [[ -n ${WSCOPE:-} ]]; then
    W=$WSCOPE
else
    echo "== cargo build --release"
    cargo build --release --quiet
    W=$ROOT/target/release/wscope
fi

# --- fuzzingserver on 127.0.0.1 -------------------------------------------------------------------
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
rm -rf "$OUT"; mkdir -p "$OUT/reports" "$OUT/logs"
cases_json=$(printf '"%s",' $CASES); cases_json="[${cases_json%,}]"
cat > "$OUT/spec.json" <<SPEC
{"url": "ws://127.0.0.1:$PORT", "outdir": "$OUT/reports",
 "cases": $cases_json, "exclude-cases": [], "exclude-agent-cases": {}}
SPEC
(cd "$OUT" && exec "$PY2" "$ROOT/scripts/autobahn_server.py" "$SITE" "$OUT/spec.json") \
    > "$OUT/fuzzingserver.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT

for _ in $(seq 1 100); do
    if python3 -c "import socket,sys; socket.create_connection(('127.0.0.1',$PORT),1)" 2>/dev/null; then break; fi
    kill -0 $SERVER 2>/dev/null || { cat "$OUT/fuzzingserver.log" >&2; exit 1; }
    sleep 0.2
done

COUNT=$(timeout 10 "$W" "ws://127.0.0.1:$PORT/getCaseCount" -w inf 2>/dev/null | head -n1 || true)
[[ $COUNT =~ ^[0-9]+$ ]] || { echo "autobahn: no case count from the server" >&2; exit 1; }
echo "== $COUNT cases ($CASES) on ws://127.0.0.1:$PORT, wscope = $W"

# --- the cases ---------------------------------------------------------------------------------------
: > "$OUT/exit-codes.txt"
for i in $(seq 1 "$COUNT"); do
    rc=0
    timeout "$CASE_TIMEOUT" "$W" "ws://127.0.0.1:$PORT/runCase?case=$i&agent=wscope" \
        --echo -w inf --max-message-size 64M >/dev/null 2>"$OUT/logs/case-$i.log" || rc=$?
    echo "$i $rc" >> "$OUT/exit-codes.txt"
    if (( i % 50 == 0 )); then echo "   $i/$COUNT done ($(( $(date +%s) - T0 )) s)"; fi
done

timeout 60 "$W" "ws://127.0.0.1:$PORT/updateReports?agent=wscope" -w inf >/dev/null 2>&1 || true
echo "== done in $(( $(date +%s) - T0 )) s; reports in $OUT/reports"
python3 "$ROOT/scripts/autobahn_report.py" "$OUT/reports/index.json" "$OUT/fuzzingserver.log" "$OUT/exit-codes.txt"
