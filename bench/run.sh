#!/usr/bin/env bash
# wscope benchmark against websocat 1.14.1 and wscat 6.1.0, on loopback. See docs/BENCHMARKS.md.
#
#   bench/run.sh            all of B1..B8, LS and the TCP floor (RUNS=7 alternated rounds)
#   RUNS=3 bench/run.sh     fewer rounds
#   ONLY="B1 B2" bench/run.sh
#   WSCOPE=path/to/wscope bench/run.sh   measure that binary instead of building this tree
#   PEERS=none bench/run.sh   wscope and the floor only: installs no websocat or wscat (their rows
#                             are left out), e.g. to compare two wscope builds
#   BENCH_SMOKE=1 bench/run.sh   CI's smoke: one round, small inputs, the debug build; installs no
#                                websocat, wscat or hyperfine (their rows are left out, but B7's
#                                wscat row runs where wscat is installed); checks outputs only
#
# Installs its peers itself (idempotent) into .tools/ and writes everything else into bench/out/
# (both git-ignored). The results table is bench/out/results.md; raw samples are bench/out/raw.tsv.
# A benchmark, not a test: it fails only when a tool's output is wrong (lost lines, bytes differ).
set -euo pipefail
export LC_ALL=C

cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=$ROOT/bench/out
TOOLS=$ROOT/.tools
SMOKE=${BENCH_SMOKE:-}
PEERS=${PEERS:-all}
if [ -n "$SMOKE" ]; then
    RUNS=1 LINES=1000 BIG_MIB=1 ONESHOTS=3
    OUT=$ROOT/bench/out/smoke
else
    RUNS=${RUNS:-7} LINES=100000 BIG_MIB=16 ONESHOTS=10
fi
ONLY=${ONLY:-"B1 B2 B3 B4 B5 B6 B7 B8 LS"}
BIG=$((BIG_MIB * 1024 * 1024))
mkdir -p "$OUT" "$TOOLS"

say() { printf '\033[1m== %s\033[0m\n' "$*" >&2; }
die() { printf 'bench: %s\n' "$*" >&2; exit 1; }
want() { [[ " $ONLY " == *" $1 "* ]]; }

# ---------------------------------------------------------------------------------------------
# Peers and tools (idempotent)
# ---------------------------------------------------------------------------------------------
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

apt_install() { # package...
    as_root apt-get install -y "$@" >/dev/null || { as_root apt-get update >/dev/null && as_root apt-get install -y "$@" >/dev/null; }
}
# The peers each part needs; the smoke leaves out websocat, wscat and hyperfine (minutes to install).
need_peers() { want B1 || want B2 || want B3 || want B4 || want B5; }
if [ -z "$SMOKE" ] && ! command -v hyperfine >/dev/null && { want B2 || want B6; }; then
    say "installing hyperfine (Debian package)"
    apt_install hyperfine
fi
[ -x /usr/bin/time ] || { say "installing GNU time"; apt_install time; }
if { want B6 || want B1; } && ! command -v openssl >/dev/null; then
    say "installing openssl (Debian package, for B6's test certificate)"
    apt_install openssl
fi

WEBSOCAT=$TOOLS/websocat/bin/websocat
if [ -z "$SMOKE" ] && [ "$PEERS" != none ] && need_peers && { ! [ -x "$WEBSOCAT" ] || ! "$WEBSOCAT" --version | grep -q '1\.14\.1'; }; then
    say "installing websocat 1.14.1 (cargo install; several minutes)"
    nice -n 10 cargo install websocat --version 1.14.1 --root "$TOOLS/websocat"
fi
have_websocat() { [ -z "$SMOKE" ] && [ "$PEERS" != none ] && [ -x "$WEBSOCAT" ]; }

# Pinned as scripts/interop.sh pins ws, and installed again only when the version differs.
NODE_DIR=$TOOLS/node WS_VERSION=8.18.3 WSCAT_VERSION=6.1.0
WSCAT=$NODE_DIR/node_modules/.bin/wscat
npm_version() { node -p "require('$NODE_DIR/node_modules/$1/package.json').version" 2>/dev/null || true; }
if [ -z "$SMOKE" ] && [ "$PEERS" != none ] && { want B2 || want B7; } && [ "$(npm_version wscat)" != "$WSCAT_VERSION" ]; then
    say "installing wscat $WSCAT_VERSION and ws $WS_VERSION (npm)"
    nice -n 10 npm install --silent --prefix "$NODE_DIR" --no-audit --no-fund "wscat@$WSCAT_VERSION" "ws@$WS_VERSION" >/dev/null
fi
if [ "$(npm_version ws)" != "$WS_VERSION" ]; then
    say "installing ws $WS_VERSION (npm, as scripts/interop.sh), the echo server's library"
    nice -n 10 npm install --silent --prefix "$NODE_DIR" --no-audit --no-fund "ws@$WS_VERSION" >/dev/null
fi
have_wscat() { [ -z "$SMOKE" ] && [ "$PEERS" != none ] && [ -x "$WSCAT" ]; }
# B7 runs wscat in the smoke too when it is there (the smoke installs nothing).
have_wscat_b7() { [ "$PEERS" != none ] && [ -x "$WSCAT" ]; }

FLOOR=$OUT/tcpfloor
if ! [ -x "$FLOOR" ] || [ "$ROOT/bench/tcpfloor.c" -nt "$FLOOR" ]; then
    cc -O2 -o "$FLOOR" "$ROOT/bench/tcpfloor.c"
fi

if [ -n "${WSCOPE:-}" ]; then
    say "using WSCOPE=$WSCOPE (no build)"
elif [ -n "$SMOKE" ]; then
    # The smoke checks the script and the outputs, not speed: the debug build CI has already made.
    say "cargo build (debug, smoke)"
    cargo build --quiet
    WSCOPE=$ROOT/target/debug/wscope
else
    # The binary as shipped: the dist profile (fat LTO, one codegen unit; Cargo.toml).
    say "cargo build --profile dist"
    nice -n 10 cargo build --profile dist --quiet
    WSCOPE=$ROOT/target/dist/wscope
fi

# ---------------------------------------------------------------------------------------------
# Servers
# ---------------------------------------------------------------------------------------------
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

wait_file() { for _ in $(seq 100); do [ -s "$1" ] && return 0; sleep 0.05; done; die "server did not start ($1)"; }

start_node() { # kind -> prints the port; the pid goes to PIDS
    rm -f "$OUT/$1.port" "$OUT/$1.port.conns"
    NODE_PATH=$NODE_DIR/node_modules node "$ROOT/bench/echo-server.js" "$1" "$OUT/$1.port" &
    PIDS+=($!)
    eval "${1^^}_PID=$!"
    wait_file "$OUT/$1.port"
}
start_node ws;  WS_PORT=$(cat "$OUT/ws.port");   WS_URL=ws://127.0.0.1:$WS_PORT/
start_node tcp; TCP_PORT=$(cat "$OUT/tcp.port")
# B7: the same echo with permessage-deflate on; it counts connections in wsz.port.conns.
if want B7; then start_node wsz; WSZ_URL=ws://127.0.0.1:$(cat "$OUT/wsz.port")/; fi

# wscope's own server (B5, B6): port 0, the address is read back from its "listening on" line.
# start_listen NAME ARGS... -> sets NAME_PID and NAME_URL
start_listen() {
    local name=$1 url; shift
    rm -f "$OUT/$name.err"
    # stdin from /dev/null: listen stays up when its stdin ends, until it is killed.
    "$WSCOPE" listen 0 --echo "$@" 2>"$OUT/$name.err" >/dev/null </dev/null &
    PIDS+=($!)
    eval "${name^^}_PID=$!"
    for _ in $(seq 100); do grep -q 'listening on' "$OUT/$name.err" 2>/dev/null && break; sleep 0.05; done
    url=$(grep -o 'wss\?://[0-9.:]*/' "$OUT/$name.err" | head -1)
    [ -n "$url" ] || die "wscope listen did not start: $(cat "$OUT/$name.err")"
    eval "${name^^}_URL=$url"
}
if want B5 || want B6 || want B8; then start_listen listen; fi
if want B6; then
    # A self-signed certificate for 127.0.0.1, made once; --ca trusts exactly it.
    CERT=$OUT/tls-cert.pem KEY=$OUT/tls-key.pem
    if ! [ -s "$CERT" ] || ! [ -s "$KEY" ]; then
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
            -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
            -keyout "$KEY.tmp" -out "$CERT.tmp" 2>/dev/null || die "openssl could not make B6's certificate"
        mv "$KEY.tmp" "$KEY" && mv "$CERT.tmp" "$CERT"
    fi
    start_listen tlslisten --tls-cert "$CERT" --tls-key "$KEY"
fi

# CPU ticks (user+sys) used so far by a process: to charge each run's server work to it.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
TICK=$(getconf CLK_TCK)

# ---------------------------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------------------------
# Each input is written to a temporary name and renamed when complete: an interrupted run never
# leaves a half-written input for the next one to trust.
make_input() { # file size command...
    local f=$1 size=$2; shift 2
    [ -f "$f" ] && [ "$(stat -c %s "$f")" = "$size" ] && return 0
    "$@" >"$f.tmp" && mv "$f.tmp" "$f"
}
make_input "$OUT/lines.txt" $((LINES * 56)) awk -v n=$LINES 'BEGIN{for(i=1;i<=n;i++) printf "line %06d the quick brown fox jumps over the lazy dog\n", i}'
BIN=$OUT/$BIG_MIB""MiB.bin TXT=$OUT/$BIG_MIB""MiB.txt
make_input "$BIN" "$BIG" head -c "$BIG" /dev/urandom
# One text line of the same size, for the peers that only send text lines: base64 of 3/4 of it is
# exactly that long (BIG is a multiple of 3 * 1024). No `base64 | head -c`: under pipefail the
# SIGPIPE it gives base64 ends the script (exit 141).
make_input "$TXT" $((BIG + 1)) sh -c 'head -c "$1" "$2" | base64 -w0 && echo' sh $((BIG / 4 * 3)) "$BIN"
# B7's compressible message: B1's line pattern run together into one text line of BIG bytes.
ZTXT=$OUT/$BIG_MIB""MiB-z.txt
make_input "$ZTXT" $((BIG + 1)) sh -c 'awk -v n=$(($1 / 56 + 1)) '"'"'BEGIN{for(i=1;i<=n;i++) printf "line %06d the quick brown fox jumps over the lazy dog ", i}'"'"' | head -c "$1"; echo' sh "$BIG"
echo hello >"$OUT/hello.txt"
# wscat exits as soon as its stdin ends (even with -x): give it a stdin that never ends, as a terminal
# would be, by opening a FIFO read-write.
[ -p "$OUT/stdin.fifo" ] || { rm -f "$OUT/stdin.fifo"; mkfifo "$OUT/stdin.fifo"; }

# ---------------------------------------------------------------------------------------------
# Measuring
# ---------------------------------------------------------------------------------------------
RAW=$OUT/raw.tsv
: >"$RAW"
# run NAME SERVER_PID STDIN STDOUT -- command...
# Records: name, wall s, client cpu s (user+sys), client peak RSS KiB, server cpu s.
run() {
    local name=$1 spid=$2 in=$3 out=$4; shift 5
    local s0 t0 t1 s1
    # Write back the last run's output (an 80 MB dump, say) now, untimed: otherwise the kernel's
    # writeback threads take a CPU away from whichever run comes next.
    sync
    s0=$(cpu_ticks "$spid")
    t0=$EPOCHREALTIME
    /usr/bin/time -f '%U %S %M' -o "$OUT/time.txt" "$@" <"$in" >"$out" 2>>"$OUT/stderr.log" || {
        echo "bench: $name exited $? (see bench/out/stderr.log)" >&2
    }
    t1=$EPOCHREALTIME
    s1=$(cpu_ticks "$spid")
    read -r u s m < <(tail -n 1 "$OUT/time.txt")
    printf '%s\t%s\t%s\t%s\t%s\n' "$name" \
        "$(awk -v a="$t1" -v b="$t0" 'BEGIN{print a-b}')" "$(awk -v a="$u" -v b="$s" 'BEGIN{print a+b}')" "$m" \
        "$(awk -v a="$s1" -v b="$s0" -v t="$TICK" 'BEGIN{print (a-b)/t}')" >>"$RAW"
}

# run_held NAME SERVER_PID CONNS_FILE IN OUT -- command...
# For a client that reads stdin before it is connected and drops what came too early, and that does
# not exit when its echoes are in (wscat: its line handler is attached on 'open', it exits at the
# end of stdin, and -x has no count). Its stdin is a FIFO held open read-write; IN is written once
# the server has counted the connection, and the client is stopped with SIGTERM once the last line
# of its output is IN's last line. Records what `run` does: wall from the first byte written to
# the last echo seen (polled every 20 ms), the whole process's CPU (start-up included) and peak RSS
# from GNU time, the server's CPU over the same wall.
conns_of() { local n; n=$(cat "$1" 2>/dev/null || true); echo "${n:-0}"; }
run_held() {
    local name=$1 spid=$2 conns=$3 in=$4 out=$5; shift 6
    local n0 tpid cpid s0 t0 t1 s1 last fifo=$OUT/held.fifo
    sync
    n0=$(conns_of "$conns")
    [ -p "$fifo" ] || { rm -f "$fifo"; mkfifo "$fifo"; }
    /usr/bin/time -f '%U %S %M' -o "$OUT/time.txt" "$@" <>"$fifo" >"$out" 2>>"$OUT/stderr.log" &
    tpid=$!
    for _ in $(seq 1000); do [ "$(conns_of "$conns")" -gt "$n0" ] && break; sleep 0.01; done
    [ "$(conns_of "$conns")" -gt "$n0" ] || die "$name did not connect in 10 s"
    last=$(tail -n 1 "$in")
    s0=$(cpu_ticks "$spid")
    t0=$EPOCHREALTIME
    cat "$in" >"$fifo"
    for _ in $(seq 30000); do # 600 s at most
        [ "$(tail -n 1 "$out" | sed 's/^\(> \)*//')" = "$last" ] && break
        sleep 0.02
    done
    t1=$EPOCHREALTIME
    s1=$(cpu_ticks "$spid")
    cpid=$(pgrep -P "$tpid" || true)
    [ -n "$cpid" ] && kill "$cpid"
    wait "$tpid" 2>/dev/null || true
    read -r u s m < <(tail -n 1 "$OUT/time.txt")
    printf '%s\t%s\t%s\t%s\t%s\n' "$name" \
        "$(awk -v a="$t1" -v b="$t0" 'BEGIN{print a-b}')" "$(awk -v a="$u" -v b="$s" 'BEGIN{print a+b}')" "$m" \
        "$(awk -v a="$s1" -v b="$s0" -v t="$TICK" 'BEGIN{print (a-b)/t}')" >>"$RAW"
}

check_lines() { # name file
    local n
    n=$(wc -l <"$2")
    [ "$n" -eq "$LINES" ] || die "$1 printed $n lines, not $LINES: not lossless"
}
check_same() { cmp -s "$2" "$3" || die "$1: the echo differs from what was sent ($2 vs $3)"; }

# Median, min and max of column $2 for rows named $1.
stat() { awk -F'\t' -v n="$1" -v c="$2" '$1==n{print $c}' "$RAW" | sort -g |
    awk '{v[NR]=$1} END{if(!NR){print "- - -"; exit} m=(NR%2)?v[(NR+1)/2]:(v[NR/2]+v[NR/2+1])/2; print m, v[1], v[NR]}'; }
med() { stat "$1" "$2" | cut -d' ' -f1; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (b>0) printf "%.2f", a/b; else print "-" }'; }
ms() { awk -v x="$1" 'BEGIN{printf "%.1f", x*1000}'; }
mib() { awk -v x="$1" 'BEGIN{printf "%.1f", x/1024}'; }
spread() { stat "$1" "$2" | awk '{ if ($1>0) printf "%.0f%%", ($3-$2)/$1*100; else print "-" }'; }

B1_CMDS=("wscope|$WS_PID|$WSCOPE $WS_URL --count $LINES")
have_websocat && B1_CMDS+=("websocat|$WS_PID|$WEBSOCAT -n --max-messages-rev $LINES $WS_URL")
B1_CMDS+=("floor|$TCP_PID|$FLOOR $TCP_PORT stream $LINES")
if want B4; then
    B1_CMDS+=("wscope-dump|$WS_PID|$WSCOPE $WS_URL --count $LINES --dump --dump-file $OUT/dump.txt")
fi
if want B5; then
    B1_CMDS+=("wscope-vs-listen|$LISTEN_PID|$WSCOPE $LISTEN_URL --count $LINES")
    have_websocat && B1_CMDS+=("websocat-vs-listen|$LISTEN_PID|$WEBSOCAT -n --max-messages-rev $LINES $LISTEN_URL")
fi

if want B1 || want B4 || want B5; then
    say "B1/B4/B5: $LINES lines piped and echoed, a warm-up round and $RUNS rounds, order rotated each round"
    n=${#B1_CMDS[@]}
    # Round 0 warms up the servers (Node's JIT) and is not counted: its rows are named warmup:*.
    for r in $(seq 0 "$RUNS"); do
        for k in $(seq 0 $((n - 1))); do
            IFS='|' read -r name spid cmd <<<"${B1_CMDS[$(((k + r) % n))]}"
            [ "$r" = 0 ] && name=warmup:$name
            # shellcheck disable=SC2086 # cmd is a word list on purpose
            run "$name" "$spid" "$OUT/lines.txt" "$OUT/b1.$name.out" -- $cmd
            check_lines "$name" "$OUT/b1.$name.out"
        done
        printf '.' >&2
    done
    echo >&2
fi

# oneshots NAME COMMAND: ONESHOTS timed runs of COMMAND (through sh) into RAW as NAME rows.
# hyperfine where it is installed (warm-up 5, its shell-spawn time subtracted); else, in the smoke,
# a plain loop timed with $EPOCHREALTIME (shell spawn included).
oneshots() {
    local name=$1 cmd=$2 t0 t1
    if command -v hyperfine >/dev/null; then
        hyperfine --warmup 5 --runs "$ONESHOTS" --style none --export-json "$OUT/oneshot.json" \
            "$cmd" >/dev/null 2>&1
        # One row per timed run: wall, user+sys.
        node -e '
            const r = require(process.argv[1]).results[0];
            for (let j = 0; j < r.times.length; j++)
                console.log(`${process.argv[2]}\t${r.times[j]}\t${(r.user + r.system)}\t0\t0`);
        ' "$OUT/oneshot.json" "$name" >>"$RAW"
    else
        for _ in $(seq "$ONESHOTS"); do
            t0=$EPOCHREALTIME
            sh -c "$cmd" >/dev/null 2>&1 || echo "bench: $name exited $?" >&2
            t1=$EPOCHREALTIME
            printf '%s\t%s\t0\t0\t0\n' "$name" "$(awk -v a="$t1" -v b="$t0" 'BEGIN{print a-b}')" >>"$RAW"
        done
    fi
}

# rotate PREFIX NAME=COMMAND...: RUNS rounds of oneshots over the commands, order rotated per round.
rotate() {
    local prefix=$1; shift
    local cmds=("$@") n=$# r k i
    for r in $(seq "$RUNS"); do
        for k in $(seq 0 $((n - 1))); do
            i=$(((k + r) % n))
            oneshots "$prefix-${cmds[$i]%%=*}" "${cmds[$i]#*=}"
        done
        printf '.' >&2
    done
    echo >&2
}

if want B2; then
    say "B2: one-shot hello ($ONESHOTS runs per command per round, $RUNS rounds, order rotated)"
    # Check each command's output once before timing it.
    "$WSCOPE" "$WS_URL" -x hello --once 2>/dev/null | grep -qx hello || die "wscope B2 did not print hello"
    "$FLOOR" "$TCP_PORT" oneshot | grep -qx hello || die "floor B2 did not print hello"
    B2_CMDS=("wscope=$WSCOPE $WS_URL -x hello --once")
    if have_websocat; then
        "$WEBSOCAT" -1 "$WS_URL" <"$OUT/hello.txt" | grep -qx hello || die "websocat B2 did not print hello"
        B2_CMDS+=("websocat=$WEBSOCAT -1 $WS_URL < $OUT/hello.txt")
    fi
    if have_wscat; then
        "$WSCAT" -c "$WS_URL" -x hello -w 0 <>"$OUT/stdin.fifo" | grep -q hello || die "wscat B2 did not print hello"
        B2_CMDS+=("wscat=$WSCAT -c $WS_URL -x hello -w 0 <> $OUT/stdin.fifo")
    fi
    B2_CMDS+=("floor=$FLOOR $TCP_PORT oneshot")
    rotate b2 "${B2_CMDS[@]}"
fi

if want B3; then
    say "B3: a $BIG_MIB MiB message echoed back, $RUNS rounds"
    B3_CMDS=(
        "wscope-bin|$BIN|$WSCOPE $WS_URL --stdin-whole --binary --once"
        "wscope-text|$TXT|$WSCOPE $WS_URL --once"
    )
    if have_websocat; then
        B3_CMDS+=(
            "websocat-bin|$BIN|$WEBSOCAT -b -n -1 -B 20000000 $WS_URL"
            "websocat-text|$TXT|$WEBSOCAT -n -1 -B 20000000 $WS_URL"
        )
    fi
    n=${#B3_CMDS[@]}
    for r in $(seq "$RUNS"); do
        for k in $(seq 0 $((n - 1))); do
            IFS='|' read -r name in cmd <<<"${B3_CMDS[$(((k + r) % n))]}"
            # shellcheck disable=SC2086
            run "b3-$name" "$WS_PID" "$in" "$OUT/b3.$name.out" -- $cmd
            check_same "b3-$name" "$in" "$OUT/b3.$name.out"
        done
        printf '.' >&2
    done
    echo >&2
fi

if want B6; then
    say "B6: one-shot hello over ws and wss against wscope listen ($ONESHOTS runs per command per round, $RUNS rounds)"
    "$WSCOPE" "$TLSLISTEN_URL" --ca "$CERT" -x hello --once 2>/dev/null | grep -qx hello || die "wscope B6 (wss --ca) did not print hello"
    "$WSCOPE" "$TLSLISTEN_URL" -k -x hello --once 2>/dev/null | grep -qx hello || die "wscope B6 (wss -k) did not print hello"
    rotate b6 \
        "ws=$WSCOPE $LISTEN_URL -x hello --once" \
        "wss-ca=$WSCOPE $TLSLISTEN_URL --ca $CERT -x hello --once" \
        "wss-k=$WSCOPE $TLSLISTEN_URL -k -x hello --once 2>/dev/null"
    # Where a wss one-shot's time goes, from one run's -v timings.
    "$WSCOPE" "$TLSLISTEN_URL" --ca "$CERT" -x hello --once -v 2>&1 >/dev/null |
        sed -n '/^Timings/,/total/p' >"$OUT/b6.timings"
fi

if want B7; then
    say "B7: permessage-deflate: $LINES lines and a $BIG_MIB MiB compressible message through a compressing echo server, a warm-up round and $RUNS rounds"
    WSZ_CONNS=$OUT/wsz.port.conns
    B7_CMDS=("wscope")
    have_wscat_b7 && B7_CMDS+=("wscat")
    n=${#B7_CMDS[@]}
    for r in $(seq 0 "$RUNS"); do
        for k in $(seq 0 $((n - 1))); do
            t=${B7_CMDS[$(((k + r) % n))]}
            name=b7-$t
            [ "$r" = 0 ] && name=warmup:$name
            if [ "$t" = wscope ]; then
                # Held open like wscat, so both walls start at the first line and count no start-up.
                run_held "$name" "$WSZ_PID" "$WSZ_CONNS" "$OUT/lines.txt" "$OUT/b7.$t.out" -- "$WSCOPE" "$WSZ_URL" --count "$LINES"
            else
                run_held "$name" "$WSZ_PID" "$WSZ_CONNS" "$OUT/lines.txt" "$OUT/b7.$t.out" -- "$WSCAT" -c "$WSZ_URL"
            fi
            # wscat writes its readline prompt ("> ") to stdout for every line it reads, even to a
            # pipe: taken off before the check.
            sed 's/^\(> \)*//' "$OUT/b7.$t.out" | cmp -s - "$OUT/lines.txt" || die "$name: the echo differs from what was sent (bench/out/b7.$t.out)"
        done
        [ "$r" = 0 ] && continue
        run b7-big "$WSZ_PID" "$ZTXT" "$OUT/b7.big.out" -- "$WSCOPE" "$WSZ_URL" --once
        check_same b7-big "$ZTXT" "$OUT/b7.big.out"
        printf '.' >&2
    done
    echo >&2
    # What the big message weighed on the wire each way, from one run's --json events.
    "$WSCOPE" "$WSZ_URL" --once --json <"$ZTXT" 2>/dev/null |
        node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{for(const l of s.split("\n")){if(!l)continue;const e=JSON.parse(l);if(e.event==="sent"||e.event==="received")console.log(e.event,e.size??"",e.wire_size,e.compressed)}})' >"$OUT/b7.wire" || true
    "$WSCOPE" "$WSZ_URL" -x hi --once -v 2>&1 >/dev/null | sed -n 's/^ *deflate  *//p' | head -n 1 >"$OUT/b7.agreed" || true
fi

# B8's peers (issue 29): artillery (npm, pinned, its `ws` engine) as the client against the same two
# echo servers, the same 64-byte text payload and 1 and 50 connections, closed loop (each `send`
# waits for its echo: a `capture` makes artillery's ws engine wait). Messages per client CPU-second
# from GNU time, as for bench; artillery's start-up (a run of one message per connection, measured
# the same way) is subtracted as well, both columns shown. thor (npm) is not run: its only release,
# 1.0.0, depends on git URLs (github.com/3rd-Eden/ws, node-faststats), which the registry alone cannot
# install. Then bench --http2 over 1 and 10 HTTP/2 connections. Writes $OUT/b8-peers.md; everything
# it needs is in this function (and bench/h2-echo-server.js).
b8_peers() {
    local dir=$TOOLS/loadgen ver=2.0.34 art server url spid c n yml out got base
    art=$dir/node_modules/artillery/bin/run
    if [ "$(node -p "require('$dir/node_modules/artillery/package.json').version" 2>/dev/null)" != "$ver" ]; then
        say "installing artillery $ver (npm, into .tools/loadgen; a few minutes)"
        mkdir -p "$dir"
        nice -n 10 npm install --silent --no-audit --no-fund --ignore-scripts --prefix "$dir" "artillery@$ver" >/dev/null
    fi
    local payload
    payload=$(head -c 64 /dev/zero | tr '\0' x)
    artillery_yml() { # url connections count -> yml on stdout
        printf 'config:\n  target: "%s"\n  phases:\n    - duration: 1\n      arrivalCount: %s\n' "$1" "$2"
        printf 'scenarios:\n  - engine: ws\n    flow:\n      - loop:\n'
        printf '          - send: {payload: "%s", capture: {regexp: "^(x+)$", as: "echo"}}\n' "$payload"
        printf '        count: %s\n' "$3"
    }
    rm -f "$OUT"/b8p.*.tsv
    say "B8 peers: artillery $ver, closed loop, at 1 and 50 connections against node ws and wscope listen ($RUNS rounds)"
    for r in $(seq 1 "$RUNS"); do
        for server in node listen; do
            if [ $server = node ]; then url=$WS_URL spid=$WS_PID; else url=$LISTEN_URL spid=$LISTEN_PID; fi
            for c in 1 50; do
                n=$((20000 / c)); [ -n "$SMOKE" ] && n=$((n / 10))
                for count in 1 "$n"; do
                    yml=$OUT/b8p.$server.$c.$count.yml out=$OUT/b8p.$server.$c.$count.json
                    artillery_yml "$url" "$c" "$count" >"$yml"
                    rm -f "$out"
                    run "b8p-$server-$c-$count" "$spid" /dev/null /dev/null -- node "$art" run --quiet --output "$out" "$yml"
                    got=$(node -p 'const r=JSON.parse(require("fs").readFileSync(process.argv[1])).aggregate.counters;
                        (r["websocket.messages_received"]||0)+"\t"+(r["vusers.completed"]||0)' "$out" 2>/dev/null || echo "0	0")
                    printf '%s\t%s\n' "$count" "$got" >>"$OUT/b8p.$server.$c.tsv"
                done
            done
        done
        printf '.' >&2
    done
    echo >&2
    {
        echo "### B8 peers: artillery $ver (ws engine) as the client, closed loop, 64-byte text (medians of $RUNS rounds)"
        echo
        echo "| server | connections | echoes received | VUs completed | client CPU s | start-up CPU s (1 message each) | msg per client CPU-s | the same, start-up subtracted | peak RSS MiB |"
        echo "|---|---|---|---|---|---|---|---|---|"
        for server in node listen; do
            for c in 1 50; do
                n=$((20000 / c)); [ -n "$SMOKE" ] && n=$((n / 10))
                read -r got done_ < <(awk -F'\t' -v n="$n" '$1==n{print $2, $3}' "$OUT/b8p.$server.$c.tsv" | sort -g | awk '{a[NR]=$0} END{print a[int((NR+1)/2)]}')
                local cpu cpu1
                cpu=$(med "b8p-$server-$c-$n" 3) cpu1=$(med "b8p-$server-$c-1" 3)
                echo "| $server | $c | $got | $done_ | $cpu | $cpu1 | $(awk -v n="$got" -v c="$cpu" 'BEGIN{ if (c>0) printf "%.0f", n/c; else print "-" }') | $(awk -v n="$got" -v c="$cpu" -v b="$cpu1" 'BEGIN{ if (c-b>0) printf "%.0f", n/(c-b); else print "-" }') | $(mib "$(med "b8p-$server-$c-$n" 4)") |"
            done
        done
        echo
    } >"$OUT/b8-peers.md"
    # bench --http2: 1,000 WebSockets as RFC 8441 streams over 1 and over 10 HTTP/2 connections,
    # against Node's http2 module (bench/h2-echo-server.js: extended CONNECT, a minimal frame echo).
    local h2port=$OUT/h2.port k
    rm -f "$h2port" "$h2port.sessions" "$OUT"/b8h2.*.tsv
    node "$ROOT/bench/h2-echo-server.js" "$h2port" &
    PIDS+=($!)
    local h2pid=$!
    wait_file "$h2port"
    say "B8 --http2: 1000 WebSockets over 1 and 10 HTTP/2 connections ($RUNS rounds)"
    for r in $(seq 1 "$RUNS"); do
        for k in 1 10; do
            run "b8h2-$k" "$h2pid" /dev/null "$OUT/b8h2.$k.json" -- "$WSCOPE" bench "ws://127.0.0.1:$(cat "$h2port")/" \
                -c 1000 -d 5 --http2-only --h2-connections "$k" --connect-timeout 30 --json
            node -p 'const r=JSON.parse(require("fs").readFileSync(process.argv[1]));
                [r.http2.connections, r.http2.websockets, r.replies.answered, r.replies.missing, r.round_trip_ms.p50, r.round_trip_ms.p99].join("\t")' \
                "$OUT/b8h2.$k.json" >>"$OUT/b8h2.$k.tsv" || true
        done
    done
    {
        echo "### B8 --http2: 1,000 WebSockets, closed loop, 64-byte text, 5 s (medians of $RUNS rounds)"
        echo
        echo "| --h2-connections | HTTP/2 connections | WebSockets | replies | missing | p50 ms | p99 ms | client CPU s | msg per client CPU-s | peak RSS MiB |"
        echo "|---|---|---|---|---|---|---|---|---|---|"
        for k in 1 10; do
            read -r hc ws n miss p50 p99 < <(sort -t$'\t' -k3 -g "$OUT/b8h2.$k.tsv" | awk 'NR==int((c+1)/2)' c="$(wc -l <"$OUT/b8h2.$k.tsv")")
            local cpu
            cpu=$(med "b8h2-$k" 3)
            echo "| $k | $hc | $ws | $n | $miss | $p50 | $p99 | $cpu | $(awk -v n="$n" -v c="$cpu" 'BEGIN{ if (c>0) printf "%.0f", n/c; else print "-" }') | $(mib "$(med "b8h2-$k" 4)") |"
        done
        echo
    } >>"$OUT/b8-peers.md"
}

if want B8; then
    # wscope bench as the client: its messages per client CPU-second, against the Node ws echo and
    # against wscope listen --echo, at 1 and 50 connections (closed loop, 64-byte text messages).
    if [ -n "$SMOKE" ]; then B8_SECS=1; else B8_SECS=5; fi
    rm -f "$OUT"/b8.*.tsv
    say "B8: wscope bench, $B8_SECS s at 1 and 50 connections against node ws and wscope listen ($RUNS rounds)"
    for r in $(seq 1 "$RUNS"); do
        for server in node listen; do
            if [ $server = node ]; then url=$WS_URL spid=$WS_PID; else url=$LISTEN_URL spid=$LISTEN_PID; fi
            for c in 1 50; do
                out=$OUT/b8.$server.$c.json
                run "b8-$server-$c" "$spid" /dev/null "$out" -- "$WSCOPE" bench "$url" -c "$c" -d "$B8_SECS" --json
                node -e 'const r=JSON.parse(require("fs").readFileSync(process.argv[1]));
                    if (r.connections.opened !== +process.argv[2] || r.replies.missing !== 0 || r.replies.answered < 1) process.exit(1);
                    console.log([r.replies.answered, r.received.messages_per_sec, r.round_trip_ms.p50, r.round_trip_ms.p99].join("\t"))' \
                    "$out" "$c" >>"$OUT/b8.$server.$c.tsv" || die "b8-$server-$c: not every connection opened or every message answered ($out)"
            done
        done
        printf '.' >&2
    done
    echo >&2
    if [ -z "$SMOKE" ]; then
        # 10,000 connections from one process, one message each, against the Node ws echo. All at
        # once: the server's accept backlog (511) overflows and the kernel retries the SYNs for
        # seconds, hence the long --connect-timeout.
        run b8-10k "$WS_PID" /dev/null "$OUT/b8.10k.json" -- "$WSCOPE" bench "$WS_URL" -c 10000 -n 1 --connect-timeout 60 --json
    fi
    if [ "$PEERS" != none ] && [ -z "$SMOKE" ]; then b8_peers; fi
fi

# H2 (issue 30): one-shot hello over h2c (RFC 8441 extended CONNECT) vs HTTP/1.1 Upgrade, both against
# Hypercorn with scripts/h2/echo_app.py (pinned as scripts/h2.sh pins it). Not in the default ONLY:
# `ONLY=H2 bench/run.sh`. Self-contained: its install, server, runs and report rows.
H2_HYPERCORN=0.18.0 H2_H2=4.3.0
bench_h2() {
    local py port
    py=$(command -v python3.11 || command -v python3)
    if [ ! -d "$TOOLS/h2py/hypercorn-$H2_HYPERCORN.dist-info" ]; then
        say "installing hypercorn $H2_HYPERCORN (PyPI) into .tools/h2py"
        "$py" -m pip install -q --disable-pip-version-check --root-user-action=ignore \
            --target "$TOOLS/h2py" "h2==$H2_H2" "hypercorn==$H2_HYPERCORN" || die "pip could not install hypercorn"
    fi
    port=$("$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    (cd "$ROOT/scripts/h2" && PYTHONPATH=$TOOLS/h2py exec "$py" -m hypercorn echo_app:app \
        --bind "127.0.0.1:$port") >"$OUT/h2.hypercorn.log" 2>&1 &
    PIDS+=($!)
    for _ in $(seq 100); do grep -q "Running on" "$OUT/h2.hypercorn.log" && break; sleep 0.1; done
    local url=ws://127.0.0.1:$port/bench
    say "H2: one-shot hello, HTTP/1.1 vs h2c, against hypercorn ($ONESHOTS runs per command per round, $RUNS rounds)"
    "$WSCOPE" "$url" -x hello --once 2>/dev/null | grep -qx hello || die "wscope H2 (HTTP/1.1) did not print hello"
    "$WSCOPE" "$url" --http2-only -x hello --once 2>/dev/null | grep -qx hello || die "wscope H2 (h2c) did not print hello"
    rotate h2 "http1=$WSCOPE $url -x hello --once" "h2c=$WSCOPE $url --http2-only -x hello --once"
    "$WSCOPE" "$url" --http2-only -x hello --once -v 2>&1 >/dev/null | sed -n '/^Timings/,/total/p' >"$OUT/h2.timings"
}
h2_report() {
    echo "### H2 one-shot hello against Hypercorn $H2_HYPERCORN: HTTP/1.1 Upgrade vs h2c (RFC 8441)"
    echo
    echo "| run | wall ms median (min - max) |"
    echo "|---|---|"
    for t in http1 h2c; do
        read -r m lo hi < <(stat "h2-$t" 2)
        echo "| $t | $(ms "$m") ($(ms "$lo") - $(ms "$hi")) |"
    done
    echo
    echo "- h2c / HTTP/1.1: **$(ratio "$(med h2-h2c 2)" "$(med h2-http1 2)")**; one h2c run's -v timings: $(awk 'NR>1{printf "%s%s %s %s", sep, $1 ($2 ~ /^[a-z]/ ? " " $2 : ""), $(NF-1), $NF; sep=", "}' "$OUT/h2.timings")"
    echo
}
if want H2; then bench_h2; fi

# ---------------------------------------------------------------------------------------------
# LS: `wscope listen --echo` holding many connections (issue 31)
# ---------------------------------------------------------------------------------------------
# listen_scale NAME CONNECTIONS RATE SECS: a fresh `wscope listen 0 --echo` (so its memory is
# these connections' alone), CONNECTIONS clients opened by bench/clients.js (one Node process,
# `ws`), each sending RATE 64-byte messages a second once all are open (0: idle). After SECS, the
# server's RSS (VmRSS) and its CPU over those SECS go into RAW as NAME (wall = SECS, client CPU
# column = echoes received / messages sent over the whole run, RSS = the server's, server CPU);
# its RSS before any connection as NAME-base.
listen_scale() {
    local name=$1 n=$2 rate=$3 secs=$4 ready=$OUT/ls.ready spid url cpid s0 s1 rss base
    rm -f "$ready" "$ready.done" "$OUT/ls.err"
    "$WSCOPE" listen 0 --echo 2>"$OUT/ls.err" >/dev/null </dev/null &
    spid=$!
    PIDS+=("$spid")
    for _ in $(seq 100); do grep -q 'listening on' "$OUT/ls.err" 2>/dev/null && break; sleep 0.05; done
    url=$(grep -o 'ws://[0-9.:]*/' "$OUT/ls.err" | head -1)
    [ -n "$url" ] || die "$name: wscope listen did not start: $(cat "$OUT/ls.err")"
    base=$(awk '/^VmRSS/{print $2}' "/proc/$spid/status")
    NODE_PATH=$NODE_DIR/node_modules node "$ROOT/bench/clients.js" "$url" "$n" "$rate" "$ready" 2>>"$OUT/stderr.log" &
    cpid=$!
    for _ in $(seq 1200); do [ -s "$ready" ] && break; sleep 0.1; done
    grep -q "^open $n\$" "$ready" 2>/dev/null || die "$name: not all $n connections opened: $(cat "$ready" 2>/dev/null) $(tail -n 3 "$OUT/ls.err")"
    sleep 1 # the last handshakes' events reach the hub
    s0=$(cpu_ticks "$spid")
    sleep "$secs"
    s1=$(cpu_ticks "$spid")
    rss=$(awk '/^VmRSS/{print $2}' "/proc/$spid/status")
    kill -TERM "$cpid"
    wait "$cpid" 2>/dev/null || true
    read -r _ echoes _ sent <"$ready.done"
    [ "$rate" = 0 ] || [ "$echoes" -gt 0 ] || die "$name: no echo came back ($sent sent)"
    kill "$spid" 2>/dev/null || true
    wait "$spid" 2>/dev/null || true
    printf '%s\t%s\t%s\t%s\t%s\n' "$name" "$secs" "$(awk -v e="$echoes" -v s="$sent" 'BEGIN{print (s>0)?e/s:0}')" "$rss" \
        "$(awk -v a="$s1" -v b="$s0" -v t="$TICK" 'BEGIN{print (a-b)/t}')" >>"$RAW"
    printf '%s-base\t0\t0\t%s\t0\n' "$name" "$base" >>"$RAW"
}

if want LS; then
    if [ -n "$SMOKE" ]; then LS_IDLE=200 LS_BUSY=50 LS_SECS=1; else LS_IDLE=${LS_IDLE:-10000} LS_BUSY=${LS_BUSY:-2000} LS_SECS=${LS_SECS:-10}; fi
    # Each connection is a descriptor in the server and one in the client process.
    ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
    [ "$(ulimit -n)" -gt $((LS_IDLE + 100)) ] || die "LS: the open-file limit ($(ulimit -n)) is below $LS_IDLE connections: raise ulimit -Hn"
    say "LS: wscope listen --echo with $LS_IDLE idle connections, then $LS_BUSY echoing 10 messages/s each ($LS_SECS s), $RUNS rounds"
    for r in $(seq "$RUNS"); do
        listen_scale ls-idle "$LS_IDLE" 0 2
        listen_scale ls-busy "$LS_BUSY" 10 "$LS_SECS"
        printf '.' >&2
    done
    echo >&2
fi

# ---------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------
RES=$OUT/results.md
# The names among $@ that have samples (the smoke has no websocat or wscat rows).
present() { local t; for t; do awk -F'\t' -v n="$t" '$1==n{f=1} END{exit !f}' "$RAW" && printf '%s ' "$t"; done; return 0; }
version_of() { # name command...: its version, or "absent"
    local name=$1; shift
    "$@" 2>/dev/null || echo "(absent)"
}
{
    echo "Run $(date -u '+%Y-%m-%d %H:%M UTC'), RUNS=$RUNS, $(nproc) cores, load average before the report: $(cut -d' ' -f1-3 /proc/loadavg)."
    [ -n "$SMOKE" ] && echo "SMOKE run (BENCH_SMOKE=1): $LINES lines, $BIG_MIB MiB, debug build unless WSCOPE is given; the numbers mean nothing."
    echo "wscope $WSCOPE built from $(git rev-parse --short HEAD 2>/dev/null || echo '(no git)')$(git diff --quiet HEAD -- src Cargo.toml Cargo.lock 2>/dev/null || echo ' plus uncommitted changes in src/'); websocat $(version_of websocat "$WEBSOCAT" --version | cut -d' ' -f2), wscat $(version_of wscat node -p "require('$NODE_DIR/node_modules/wscat/package.json').version"), ws $(node -p "require('$NODE_DIR/node_modules/ws/package.json').version"), node $(node --version), $(version_of hyperfine hyperfine --version)."
    echo "Medians; spread = (max - min) / median over the runs."
    echo
    if want B1; then
        echo "### B1 throughput: $LINES lines piped, every echo printed (Node ws echo server)"
        echo
        echo "| tool | wall ms (spread) | client CPU ms (spread) | server CPU ms | peak RSS MiB |"
        echo "|---|---|---|---|---|"
        for t in $(present wscope websocat floor); do
            echo "| $t | $(ms "$(med $t 2)") ($(spread $t 2)) | $(ms "$(med $t 3)") ($(spread $t 3)) | $(ms "$(med $t 5)") | $(mib "$(med $t 4)") |"
        done
        echo
        have_websocat && echo "- wscope / websocat: wall **$(ratio "$(med wscope 2)" "$(med websocat 2)")** (target <= 0.7), CPU **$(ratio "$(med wscope 3)" "$(med websocat 3)")** (target <= 0.5)"
        echo "- wscope / TCP floor: wall $(ratio "$(med wscope 2)" "$(med floor 2)")x"
        echo
    fi
    if want B2; then
        if command -v hyperfine >/dev/null; then how="hyperfine via sh, its shell-spawn time subtracted"; else how="a shell loop, shell spawn included"; fi
        echo "### B2 one-shot: connect, send hello, print the echo, close ($how)"
        echo
        echo "| tool | wall ms median (min - max) |"
        echo "|---|---|"
        for t in $(present b2-wscope b2-websocat b2-wscat b2-floor); do
            t=${t#b2-}
            read -r m lo hi < <(stat "b2-$t" 2)
            echo "| $t | $(ms "$m") ($(ms "$lo") - $(ms "$hi")) |"
        done
        echo
        echo "- wscope median $(ms "$(med b2-wscope 2)") ms (target <= 8 ms)$(have_websocat && echo "; websocat / wscope $(ratio "$(med b2-websocat 2)" "$(med b2-wscope 2)")x")$(have_wscat && echo ", wscat / wscope $(ratio "$(med b2-wscat 2)" "$(med b2-wscope 2)")x")"
        echo
    fi
    if want B3; then
        echo "### B3 a $BIG_MIB MiB message echoed back byte-identical"
        echo
        echo "| tool, input | peak RSS MiB (min - max) | wall ms (spread) | CPU ms |"
        echo "|---|---|---|---|"
        for t in $(present b3-wscope-bin b3-wscope-text b3-websocat-bin b3-websocat-text); do
            t=${t#b3-}
            read -r m lo hi < <(stat "b3-$t" 4)
            echo "| $t | $(mib "$m") ($(mib "$lo") - $(mib "$hi")) | $(ms "$(med "b3-$t" 2)") ($(spread "b3-$t" 2)) | $(ms "$(med "b3-$t" 3)") |"
        done
        echo
        echo "- wscope peak RSS $(mib "$(med b3-wscope-bin 4)") MiB (target <= 48 MiB)"
        echo
    fi
    if want B4; then
        echo "### B4 --dump --dump-file during B1"
        echo
        echo "| run | wall ms (spread) | client CPU ms |"
        echo "|---|---|---|"
        for t in wscope wscope-dump; do
            echo "| $t | $(ms "$(med $t 2)") ($(spread $t 2)) | $(ms "$(med $t 3)") |"
        done
        echo
        echo "- throughput with dump / without: **$(ratio "$(med wscope 2)" "$(med wscope-dump 2)")** (target >= 0.5); dump file $(wc -c <"$OUT/dump.txt") bytes"
        echo
    fi
    if want B5; then
        echo "### B5 \`wscope listen --echo\` as the B1 server, against the Node ws server"
        echo
        echo "| client -> server | wall ms (spread) | client CPU ms | server CPU ms |"
        echo "|---|---|---|---|"
        for t in $(present wscope websocat wscope-vs-listen websocat-vs-listen); do
            label=$t
            case $t in wscope | websocat) label="$t -> node ws" ;; *) label="${t%-vs-listen} -> wscope listen" ;; esac
            echo "| $label | $(ms "$(med $t 2)") ($(spread $t 2)) | $(ms "$(med $t 3)") | $(ms "$(med $t 5)") |"
        done
        echo
    fi
    if want B6; then
        echo "### B6 one-shot hello over ws and wss (\`wscope listen --echo\`, and with \`--tls-cert/--tls-key\`, a self-signed P-256 certificate)"
        echo
        echo "| run | wall ms median (min - max) |"
        echo "|---|---|"
        for t in ws wss-ca wss-k; do
            read -r m lo hi < <(stat "b6-$t" 2)
            echo "| $t | $(ms "$m") ($(ms "$lo") - $(ms "$hi")) |"
        done
        echo
        echo "- wss --ca / ws: **$(ratio "$(med b6-wss-ca 2)" "$(med b6-ws 2)")** (target <= 3), wss -k / ws: $(ratio "$(med b6-wss-k 2)" "$(med b6-ws 2)")"
        echo "- one wss --ca run's -v timings: $(awk 'NR>1{printf "%s%s %s %s", sep, $1 ($2 ~ /^[a-z]/ ? " " $2 : ""), $(NF-1), $NF; sep=", "}' "$OUT/b6.timings")"
        echo
    fi
    if want B7; then
        echo "### B7 permessage-deflate: the Node ws echo server with perMessageDeflate on (threshold 0: it compresses every echo)"
        echo
        echo "$LINES lines, wscope and wscat, each with its stdin held open until the last echo is in (wall from the first line written; CPU and RSS of the whole process):"
        echo
        echo "| tool | wall ms (spread) | client CPU ms (spread) | server CPU ms | peak RSS MiB |"
        echo "|---|---|---|---|---|"
        for t in $(present b7-wscope b7-wscat); do
            echo "| ${t#b7-} | $(ms "$(med $t 2)") ($(spread $t 2)) | $(ms "$(med $t 3)") ($(spread $t 3)) | $(ms "$(med $t 5)") | $(mib "$(med $t 4)") |"
        done
        echo
        have_wscat_b7 && echo "- wscope / wscat: CPU **$(ratio "$(med b7-wscope 3)" "$(med b7-wscat 3)")** (target <= 0.5), wall $(ratio "$(med b7-wscope 2)" "$(med b7-wscat 2)")"
        echo "- agreed (wscope -v): permessage-deflate, $(cat "$OUT/b7.agreed" 2>/dev/null)"
        echo
        echo "A $BIG_MIB MiB compressible text message (B1's line pattern run together) sent and echoed back byte-identical, wscope alone:"
        echo
        echo "| run | peak RSS MiB (min - max) | wall ms (spread) | CPU ms |"
        echo "|---|---|---|---|"
        read -r m lo hi < <(stat b7-big 4)
        echo "| wscope --once | $(mib "$m") ($(mib "$lo") - $(mib "$hi")) | $(ms "$(med b7-big 2)") ($(spread b7-big 2)) | $(ms "$(med b7-big 3)") |"
        echo
        echo "- wscope peak RSS $(mib "$(med b7-big 4)") MiB (target <= 64 MiB)"
        echo "- on the wire (payload bytes, --json): $(awk '{printf "%s%s %s bytes -> %s", sep, $1, $2, $3; sep="; "}' "$OUT/b7.wire" 2>/dev/null)"
        echo
    fi
    if want B8; then
        echo "### B8 \`wscope bench\` as the client: closed loop, 64-byte text, $B8_SECS s per run (medians of $RUNS rounds)"
        echo
        echo "| server | connections | replies | msg/s | p50 ms | p99 ms | client CPU s | msg per client CPU-s | peak RSS MiB |"
        echo "|---|---|---|---|---|---|---|---|---|"
        for server in node listen; do
            for c in 1 50; do
                t=b8-$server-$c
                read -r n rate p50 p99 < <(sort -t$'\t' -k2 -g "$OUT/b8.$server.$c.tsv" | awk 'NR==int((c+1)/2)' c="$(wc -l <"$OUT/b8.$server.$c.tsv")")
                cpu=$(med "$t" 3)
                echo "| $server | $c | $n | $rate | $p50 | $p99 | $cpu | $(awk -v n="$n" -v c="$cpu" 'BEGIN{ if (c>0) printf "%.0f", n/c; else print "-" }') | $(mib "$(med "$t" 4)") |"
            done
        done
        if [ -s "$OUT/b8.10k.json" ]; then
            echo
            echo "- 10,000 connections, one message each (node ws): $(node -p 'const r=JSON.parse(require("fs").readFileSync(process.argv[1]));`opened ${r.connections.opened}, answered ${r.replies.answered}`' "$OUT/b8.10k.json"), peak RSS $(mib "$(med b8-10k 4)") MiB (target < 300 MiB)"
        fi
        echo
        if [ -s "$OUT/b8-peers.md" ]; then cat "$OUT/b8-peers.md"; fi
    fi
    if want H2; then h2_report; fi
    if want LS; then
        echo "### LS \`wscope listen --echo\` holding many connections (bench/clients.js, one Node process)"
        echo
        echo "| run | connections | server RSS MiB (min - max) | KiB per connection | server CPU ms per s | echoes / sent |"
        echo "|---|---|---|---|---|---|"
        for t in $(present ls-idle ls-busy); do
            if [ $t = ls-idle ]; then c=$LS_IDLE; else c=$LS_BUSY; fi
            read -r m lo hi < <(stat $t 4)
            echo "| $t | $c | $(mib "$m") ($(mib "$lo") - $(mib "$hi")) | $(awk -v r="$m" -v b="$(med $t-base 4)" -v c="$c" 'BEGIN{printf "%.1f", (r-b)/c}') | $(awk -v s="$(med $t 5)" -v w="$(med $t 2)" 'BEGIN{printf "%.0f", s/w*1000}') | $(med $t 3) |"
        done
        echo
        echo "- the server's RSS with no connection: $(mib "$(med ls-idle-base 4)") MiB; target <= 100 MiB (10 KiB a connection) with 10,000 idle"
        echo
    fi
} >"$RES"
cat "$RES"

# B1L (issue 27): B1 with `--lens jsonrpc` on JSON-RPC traffic beside the same traffic without a
# lens; the goal is at most 25% more client CPU. Self-contained: its own input, rounds (order
# swapped each round, round 0 a warm-up) and table; needs B1's echo server: ONLY="B1 B1L".
b1_lens() {
    local f=$OUT/rpc-lines.txt r k name
    [ -s "$f" ] || awk -v n="$LINES" 'BEGIN{for (i = 1; i <= n; i++)
        printf "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"add\",\"params\":[%d,1]}\n", i, i}' >"$f"
    local cmds=("b1l-none|$WSCOPE $WS_URL --count $LINES --lens none" "b1l-jsonrpc|$WSCOPE $WS_URL --count $LINES --lens jsonrpc")
    for r in $(seq 0 "$RUNS"); do
        for k in 0 1; do
            IFS='|' read -r name cmd <<<"${cmds[$(((k + r) % 2))]}"
            [ "$r" = 0 ] && name=warmup:$name
            # shellcheck disable=SC2086 # cmd is a word list on purpose
            run "$name" "$WS_PID" "$f" "$OUT/$name.out" -- $cmd
            check_lines "$name" "$OUT/$name.out"
        done
    done
    echo
    echo "### B1L: $LINES JSON-RPC lines piped and echoed, --lens jsonrpc vs none (medians of $RUNS rounds)"
    echo
    echo "| run | wall ms (spread) | client CPU ms (spread) | peak RSS MiB |"
    echo "|---|---|---|---|"
    for name in b1l-none b1l-jsonrpc; do
        echo "| $name | $(ms "$(med "$name" 2)") ($(spread "$name" 2)) | $(ms "$(med "$name" 3)") ($(spread "$name" 3)) | $(mib "$(med "$name" 4)") |"
    done
    echo
    echo "- client CPU with the lens / without: $(ratio "$(med b1l-jsonrpc 3)" "$(med b1l-none 3)") (goal <= 1.25)"
}
if want B1L; then b1_lens | tee -a "$RES"; fi
# B1 through `wscope proxy` (issue 28): B1's lines sent by wscope through `wscope proxy` to the
# Node ws echo server, beside wscope direct, alternated each round. The proxy prints every message
# (to /dev/null); its CPU and peak RSS (VmHWM) are its own. Runs with B1, or alone: ONLY=B1P.
b1_proxy() {
    local err=$OUT/b1p.proxy.err ppid purl name url spid hwm r
    "$WSCOPE" proxy 0 "$WS_URL" </dev/null >/dev/null 2>"$err" &
    ppid=$!
    PIDS+=("$ppid")
    for _ in $(seq 100); do grep -q '^proxying' "$err" 2>/dev/null && break; sleep 0.05; done
    purl=$(sed -n 's|^proxying \(ws://[0-9.:]*/\).*|\1|p' "$err")
    [ -n "$purl" ] || die "wscope proxy did not start: $(cat "$err")"
    say "B1P: $LINES lines through wscope proxy and direct, a warm-up round and $RUNS rounds"
    for r in $(seq 0 "$RUNS"); do
        for name in $( ((r % 2)) && echo "b1p-proxy b1p-direct" || echo "b1p-direct b1p-proxy"); do
            if [ "$name" = b1p-proxy ]; then url=$purl spid=$ppid; else url=$WS_URL spid=$WS_PID; fi
            [ "$r" = 0 ] && name=warmup:$name
            run "$name" "$spid" "$OUT/lines.txt" "$OUT/b1p.out" -- "$WSCOPE" "$url" --count "$LINES"
            check_lines "$name" "$OUT/b1p.out"
        done
    done
    hwm=$(awk '/^VmHWM:/{print $2}' "/proc/$ppid/status")
    {
        echo "### B1 through \`wscope proxy\`: $LINES lines, wscope -> wscope proxy -> Node ws echo"
        echo
        echo "| path | wall ms (spread) | client CPU ms (spread) | server-side CPU ms |"
        echo "|---|---|---|---|"
        echo "| direct | $(ms "$(med b1p-direct 2)") ($(spread b1p-direct 2)) | $(ms "$(med b1p-direct 3)") ($(spread b1p-direct 3)) | Node $(ms "$(med b1p-direct 5)") |"
        echo "| through the proxy | $(ms "$(med b1p-proxy 2)") ($(spread b1p-proxy 2)) | $(ms "$(med b1p-proxy 3)") ($(spread b1p-proxy 3)) | proxy $(ms "$(med b1p-proxy 5)") |"
        echo
        echo "- through the proxy / direct: wall **$(ratio "$(med b1p-proxy 2)" "$(med b1p-direct 2)")** (target <= 1.5); the proxy's peak RSS over all rounds **$(mib "$hwm") MiB** (target < 20 MiB)"
        echo
    } | tee -a "$RES"
}
if want B1 || want B1P; then b1_proxy; fi
