#!/usr/bin/env bash
# wscope benchmark against websocat 1.14.1 and wscat 6.1.0, on loopback. See docs/BENCHMARKS.md.
#
#   bench/run.sh            all of B1..B5 and the TCP floor (RUNS=7 alternated rounds)
#   RUNS=3 bench/run.sh     fewer rounds
#   ONLY="B1 B2" bench/run.sh
#   WSCOPE=path/to/wscope bench/run.sh   measure that binary instead of building this tree
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
RUNS=${RUNS:-7}
ONLY=${ONLY:-"B1 B2 B3 B4 B5"}
LINES=100000
mkdir -p "$OUT" "$TOOLS"

say() { printf '\033[1m== %s\033[0m\n' "$*" >&2; }
die() { printf 'bench: %s\n' "$*" >&2; exit 1; }
want() { [[ " $ONLY " == *" $1 "* ]]; }

# ---------------------------------------------------------------------------------------------
# Peers and tools (idempotent)
# ---------------------------------------------------------------------------------------------
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if ! command -v hyperfine >/dev/null; then
    say "installing hyperfine (Debian package)"
    as_root apt-get install -y hyperfine >/dev/null || { as_root apt-get update >/dev/null && as_root apt-get install -y hyperfine >/dev/null; }
fi
[ -x /usr/bin/time ] || { say "installing GNU time"; as_root apt-get install -y time >/dev/null; }

WEBSOCAT=$TOOLS/websocat/bin/websocat
if ! [ -x "$WEBSOCAT" ] || ! "$WEBSOCAT" --version | grep -q '1\.14\.1'; then
    say "installing websocat 1.14.1 (cargo install; several minutes)"
    nice -n 10 cargo install websocat --version 1.14.1 --root "$TOOLS/websocat"
fi

NODE_DIR=$TOOLS/node
WSCAT=$NODE_DIR/node_modules/.bin/wscat
if ! [ -x "$WSCAT" ] || ! [ -d "$NODE_DIR/node_modules/ws" ]; then
    say "installing wscat 6.1.0 and ws 8 (npm)"
    nice -n 10 npm install --prefix "$NODE_DIR" --no-audit --no-fund wscat@6.1.0 ws@8 >/dev/null
fi

FLOOR=$OUT/tcpfloor
if ! [ -x "$FLOOR" ] || [ "$ROOT/bench/tcpfloor.c" -nt "$FLOOR" ]; then
    cc -O2 -o "$FLOOR" "$ROOT/bench/tcpfloor.c"
fi

if [ -n "${WSCOPE:-}" ]; then
    say "using WSCOPE=$WSCOPE (no build)"
else
    say "cargo build --release"
    nice -n 10 cargo build --release --quiet
    WSCOPE=$ROOT/target/release/wscope
fi

# ---------------------------------------------------------------------------------------------
# Servers
# ---------------------------------------------------------------------------------------------
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

wait_file() { for _ in $(seq 100); do [ -s "$1" ] && return 0; sleep 0.05; done; die "server did not start ($1)"; }

start_node() { # kind -> prints the port; the pid goes to PIDS
    rm -f "$OUT/$1.port"
    NODE_PATH=$NODE_DIR/node_modules node "$ROOT/bench/echo-server.js" "$1" "$OUT/$1.port" &
    PIDS+=($!)
    eval "${1^^}_PID=$!"
    wait_file "$OUT/$1.port"
}
start_node ws;  WS_PORT=$(cat "$OUT/ws.port");   WS_URL=ws://127.0.0.1:$WS_PORT/
start_node tcp; TCP_PORT=$(cat "$OUT/tcp.port")

# wscope's own server (B5): port 0, the address is read back from its "listening on" line.
if want B5; then
    rm -f "$OUT/listen.err"
    "$WSCOPE" listen 0 --echo 2>"$OUT/listen.err" >/dev/null &
    LISTEN_PID=$!
    PIDS+=($LISTEN_PID)
    for _ in $(seq 100); do grep -q 'listening on' "$OUT/listen.err" 2>/dev/null && break; sleep 0.05; done
    LISTEN_URL=$(grep -o 'ws://[0-9.:]*/' "$OUT/listen.err" | head -1)
    [ -n "$LISTEN_URL" ] || die "wscope listen did not start: $(cat "$OUT/listen.err")"
fi

# CPU ticks (user+sys) used so far by a process: to charge each run's server work to it.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
TICK=$(getconf CLK_TCK)

# ---------------------------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------------------------
[ -s "$OUT/lines.txt" ] || awk -v n=$LINES 'BEGIN{for(i=1;i<=n;i++) printf "line %06d the quick brown fox jumps over the lazy dog\n", i}' >"$OUT/lines.txt"
[ -s "$OUT/16MiB.bin" ] || head -c $((16 * 1024 * 1024)) /dev/urandom >"$OUT/16MiB.bin"
# The same size as one text line, for the peers that only send text lines.
[ -s "$OUT/16MiB.txt" ] || { base64 -w0 <"$OUT/16MiB.bin" | head -c $((16 * 1024 * 1024)); echo; } >"$OUT/16MiB.txt"
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

B1_CMDS=(
    "wscope|$WS_PID|$WSCOPE $WS_URL --count $LINES"
    "websocat|$WS_PID|$WEBSOCAT -n --max-messages-rev $LINES $WS_URL"
    "floor|$TCP_PID|$FLOOR $TCP_PORT stream $LINES"
)
if want B4; then
    B1_CMDS+=("wscope-dump|$WS_PID|$WSCOPE $WS_URL --count $LINES --dump --dump-file $OUT/dump.txt")
fi
if want B5; then
    B1_CMDS+=(
        "wscope-vs-listen|$LISTEN_PID|$WSCOPE $LISTEN_URL --count $LINES"
        "websocat-vs-listen|$LISTEN_PID|$WEBSOCAT -n --max-messages-rev $LINES $LISTEN_URL"
    )
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

if want B2; then
    say "B2: one-shot hello (hyperfine via sh, shell spawn subtracted, warmup 5, $RUNS rounds of 10 runs, order rotated)"
    # Check each command's output once before timing it.
    "$WSCOPE" "$WS_URL" -x hello --once 2>/dev/null | grep -qx hello || die "wscope B2 did not print hello"
    "$WEBSOCAT" -1 "$WS_URL" <"$OUT/hello.txt" | grep -qx hello || die "websocat B2 did not print hello"
    "$WSCAT" -c "$WS_URL" -x hello -w 0 <>"$OUT/stdin.fifo" | grep -q hello || die "wscat B2 did not print hello"
    "$FLOOR" "$TCP_PORT" oneshot | grep -qx hello || die "floor B2 did not print hello"
    B2_CMDS=(
        "$WSCOPE $WS_URL -x hello --once"
        "$WEBSOCAT -1 $WS_URL < $OUT/hello.txt"
        "$WSCAT -c $WS_URL -x hello -w 0 <> $OUT/stdin.fifo"
        "$FLOOR $TCP_PORT oneshot"
    )
    B2_NAMES=(wscope websocat wscat floor)
    for r in $(seq "$RUNS"); do
        for k in 0 1 2 3; do
            i=$(((k + r) % 4))
            hyperfine --warmup 5 --runs 10 --style none --export-json "$OUT/b2.json" \
                "${B2_CMDS[$i]}" >/dev/null 2>&1
            # One row per timed run: wall, user+sys.
            node -e '
                const r = require(process.argv[1]).results[0];
                for (let j = 0; j < r.times.length; j++)
                    console.log(`${process.argv[2]}\t${r.times[j]}\t${(r.user + r.system)}\t0\t0`);
            ' "$OUT/b2.json" "b2-${B2_NAMES[$i]}" >>"$RAW"
        done
        printf '.' >&2
    done
    echo >&2
fi

if want B3; then
    say "B3: a 16 MiB message echoed back, $RUNS rounds"
    B3_CMDS=(
        "wscope-bin|$OUT/16MiB.bin|$WSCOPE $WS_URL --stdin-whole --binary --once"
        "wscope-text|$OUT/16MiB.txt|$WSCOPE $WS_URL --once"
        "websocat-bin|$OUT/16MiB.bin|$WEBSOCAT -b -n -1 -B 20000000 $WS_URL"
        "websocat-text|$OUT/16MiB.txt|$WEBSOCAT -n -1 -B 20000000 $WS_URL"
    )
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

# ---------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------
RES=$OUT/results.md
{
    echo "Run $(date -u '+%Y-%m-%d %H:%M UTC'), RUNS=$RUNS, $(nproc) cores, load average before the report: $(cut -d' ' -f1-3 /proc/loadavg)."
    echo "wscope built from $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src Cargo.toml Cargo.lock || echo ' plus uncommitted changes in src/'); websocat $("$WEBSOCAT" --version | cut -d' ' -f2), wscat $(node -p "require('$NODE_DIR/node_modules/wscat/package.json').version"), ws $(node -p "require('$NODE_DIR/node_modules/ws/package.json').version"), node $(node --version), $(hyperfine --version)."
    echo "Medians; spread = (max - min) / median over the runs."
    echo
    if want B1; then
        echo "### B1 throughput: $LINES lines piped, every echo printed (Node ws echo server)"
        echo
        echo "| tool | wall ms (spread) | client CPU ms (spread) | server CPU ms | peak RSS MiB |"
        echo "|---|---|---|---|---|"
        for t in wscope websocat floor; do
            echo "| $t | $(ms "$(med $t 2)") ($(spread $t 2)) | $(ms "$(med $t 3)") ($(spread $t 3)) | $(ms "$(med $t 5)") | $(mib "$(med $t 4)") |"
        done
        echo
        echo "- wscope / websocat: wall **$(ratio "$(med wscope 2)" "$(med websocat 2)")** (target <= 0.7), CPU **$(ratio "$(med wscope 3)" "$(med websocat 3)")** (target <= 0.5)"
        echo "- wscope / TCP floor: wall $(ratio "$(med wscope 2)" "$(med floor 2)")x"
        echo
    fi
    if want B2; then
        echo "### B2 one-shot: connect, send hello, print the echo, close (hyperfine via sh, its shell-spawn time subtracted)"
        echo
        echo "| tool | wall ms median (min - max) |"
        echo "|---|---|"
        for t in wscope websocat wscat floor; do
            read -r m lo hi < <(stat "b2-$t" 2)
            echo "| $t | $(ms "$m") ($(ms "$lo") - $(ms "$hi")) |"
        done
        echo
        echo "- wscope median $(ms "$(med b2-wscope 2)") ms (target <= 8 ms); websocat / wscope $(ratio "$(med b2-websocat 2)" "$(med b2-wscope 2)")x, wscat / wscope $(ratio "$(med b2-wscat 2)" "$(med b2-wscope 2)")x"
        echo
    fi
    if want B3; then
        echo "### B3 a 16 MiB message echoed back byte-identical"
        echo
        echo "| tool, input | peak RSS MiB (min - max) | wall ms (spread) | CPU ms |"
        echo "|---|---|---|---|"
        for t in wscope-bin wscope-text websocat-bin websocat-text; do
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
        for t in wscope websocat wscope-vs-listen websocat-vs-listen; do
            label=$t
            case $t in wscope | websocat) label="$t -> node ws" ;; *) label="${t%-vs-listen} -> wscope listen" ;; esac
            echo "| $label | $(ms "$(med $t 2)") ($(spread $t 2)) | $(ms "$(med $t 3)") | $(ms "$(med $t 5)") |"
        done
        echo
    fi
} >"$RES"
cat "$RES"
