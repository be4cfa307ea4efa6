#!/bin/bash
# The sdx benchmark: receipted reads per second through real nodes, beside
# the machine's floor measured in the same run.
#
#   bench/run.sh            the full run (about 30 s on 2 cores)
#   bench/run.sh --smoke    a few hundred requests, for a test
#   BENCH_CLIENTS=N BENCH_WINDOW=W bench/run.sh
#                           N sockets with W requests in flight each
#                           (4 and 16 by default)
#
# It expects `make all` to have built build/bin and build/bench (`make
# bench` does both). It prints the machine, one line per figure
# (NAME rps=... p50_us=... p99_us=...), and the ratios of the end-to-end
# register figures to each floor. Every process it starts is stopped on exit.
# It exits 0 only when every timed request was acknowledged.
set -u
. "$(dirname "$0")/../tests/lib/cluster.sh"
BENCH_BIN="$SDX_ROOT/build/bench"

mode=full
case "${1:-}" in
--smoke) mode=smoke ;;
"") ;;
--help | -h)
    sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'
    exit 0
    ;;
*)
    echo "unknown option '$1': use --smoke or no option" >&2
    exit 2
    ;;
esac

# Sizes: clients x window requests in flight, and timed requests of each
# figure. BENCH_CLIENTS and BENCH_WINDOW override the first two.
CLIENTS=${BENCH_CLIENTS:-4}
WINDOW=${BENCH_WINDOW:-16}
if [ $mode = smoke ]; then
    FLOOR_REQUESTS=2000
    REGISTERS_REQUESTS=300
    PROFILE_REQUESTS=100
    NULL_AGENT_REQUESTS=300
else
    FLOOR_REQUESTS=40000
    REGISTERS_REQUESTS=8000
    PROFILE_REQUESTS=4000
    NULL_AGENT_REQUESTS=20000
fi

for program in "$SDX_BIN/sdx" "$SDX_BIN/sdx-node" "$SDX_BIN/sdx-directory" \
    "$SDX_BIN/sdx-agent-sim" "$BENCH_BIN/floor" "$BENCH_BIN/e2e" \
    "$BENCH_BIN/null_agent"; do
    if [ ! -x "$program" ]; then
        echo "bench: $program is missing: run 'make all' first" >&2
        exit 1
    fi
done

failures=0
RESULTS=""

# run_figure COMMAND...: runs a benchmark program, echoes its output and
# keeps its result lines for the ratios.
run_figure() {
    local output rc
    output=$("$@")
    rc=$?
    printf '%s\n' "$output"
    RESULTS+="$output"$'\n'
    if [ $rc -ne 0 ]; then
        echo "bench: FAILED (exit status $rc): $*" >&2
        failures=$((failures + 1))
    fi
}

# rps_of NAME: prints the rps of result line NAME, or nothing.
rps_of() {
    printf '%s' "$RESULTS" | awk -v n="$1" '$1 == n {
        for (i = 2; i <= NF; i++) if ($i ~ /^rps=/) print substr($i, 5) }'
}

# ratio NAME_A NAME_B: prints "NAME_A/NAME_B=R" with R to 3 decimals.
ratio() {
    local a b
    a=$(rps_of "$1")
    b=$(rps_of "$2")
    if [ -z "$a" ] || [ -z "$b" ] || [ "$b" = 0 ]; then
        echo "ratio $1/$2=unknown"
        return
    fi
    awk -v a="$a" -v b="$b" -v n="$1/$2" \
        'BEGIN { printf "ratio %s=%.3f\n", n, a / b }'
}

echo "== machine"
echo "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "nproc=$(nproc)"
echo "cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
echo "kernel=$(uname -r)"
echo "memory_mb=$(awk '/^MemTotal/ {print int($2 / 1024)}' /proc/meminfo)"
libraries=""
for library in libzmq libczmq libsodium sqlite3; do
    libraries+=" $library-$(pkg-config --modversion $library 2>/dev/null)"
done
echo "libraries=${libraries# }"
echo "load_average=$(cut -d' ' -f1-3 /proc/loadavg)"
echo "mode=$mode clients=$CLIENTS window=$WINDOW"

cluster_init

echo "== floor"
run_figure "$BENCH_BIN/floor" --clients $CLIENTS --window $WINDOW \
    --requests $FLOOR_REQUESTS

echo "== end to end"
# ALFA installed the meters and serves them from its sim agent; BRVO is
# their registered supplier for all of 2013 onwards and reads them.
cluster_directory_keys
cluster_supplier ALFA "Alfa Energy"
cluster_supplier BRVO "Bravo Power"
cluster_tariff ALFA BRVO
cluster_sim ALFA "$SDX_DATA/MAC000002.csv" "$SDX_DATA/MAC000005.csv" ||
    exit 1
printf 'mpxn,supplier,from,to\n' >"$CLUSTER_DIR/registrations.csv"
tail -n +2 "$CLUSTER_DIR/supply_points.csv" |
    awk -F, '{print $1",BRVO,2013-01-01T00:00:00Z,"}' \
        >>"$CLUSTER_DIR/registrations.csv"
cluster_start_directory 3600 || exit 1
cluster_start_node ALFA || exit 1
ALFA_AGENT_PID=$AGENT_PID
cluster_start_node BRVO || exit 1
MPAN1=$(cluster_mpan ALFA MAC000002)
MPAN2=$(cluster_mpan ALFA MAC000005)
echo "serving=ALFA requesting=BRVO mpans=$MPAN1,$MPAN2"

# e2e_figure NAME REQUESTS [E2E OPTIONS...]: BRVO reads both meters.
e2e_figure() {
    local name=$1 requests=$2
    shift 2
    run_figure "$BENCH_BIN/e2e" --home "$CLUSTER_DIR/BRVO" --mpxn "$MPAN1" \
        --mpxn "$MPAN2" --clients $CLIENTS --window $WINDOW \
        --requests "$requests" --name "$name" "$@"
}

e2e_figure e2e_read_registers $REGISTERS_REQUESTS
e2e_figure e2e_read_profile_day $PROFILE_REQUESTS --type read.profile \
    --from 2013-06-01T23:00:00Z --to 2013-06-02T23:00:00Z

# The same register reads with the sim agent replaced by one that replies
# from memory, which shows what the two nodes themselves sustain.
cluster_stop_one "$ALFA_AGENT_PID"
cluster_start null-agent "$BENCH_BIN/null_agent" \
    --connect "ipc://$CLUSTER_DIR/ALFA/run/agents" || exit 1
for _ in $(seq 50); do
    sdx_as BRVO read supply "$MPAN1" >/dev/null 2>&1 && break
    sleep 0.1
done
e2e_figure e2e_read_registers_null_agent $NULL_AGENT_REQUESTS

echo "== ratios"
for e2e in e2e_read_registers e2e_read_registers_null_agent; do
    ratio $e2e floor_curve_sign_verify
    ratio $e2e floor_curve_sign_verify_ack
done

cluster_stop
trap - EXIT
if [ $failures -ne 0 ]; then
    echo "bench: $failures figures FAILED" >&2
    exit 1
fi
