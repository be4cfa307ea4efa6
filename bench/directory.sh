#!/bin/bash
# The central lookup at national scale: generates a synthetic register,
# imports it with `sdx-directory import`, and measures lookups on it, over
# CURVE from one node and in-process on the database.
#
#   bench/directory.sh        30 million supply points (make bench-directory)
#   SDX_DIRECTORY_ROWS=N      supply points to generate (default 30000000)
#   SDX_DIRECTORY_LOOKUPS=N   timed lookups of each lookup figure (200000)
#   SDX_DIRECTORY_WINDOW=W    CURVE requests in flight (default 64)
#   SDX_DIRECTORY_DIR=DIR     folder for the files and sqlite's temporary
#                             files (default $TMPDIR or /tmp); 30 million
#                             rows need about 12 GB there
#   SDX_KEEP=1                keep the files afterwards
#
# It expects `make all` to have built build/bin and build/bench. It prints
# the machine, then one line per figure, NAME key=value...:
#   directory_generate   seconds, rows of each file, bytes
#   directory_import     seconds, rows_per_s, rows, loaded, rejected,
#                        batches
#   directory_import_memory  peak_rss_kib of the import
#   directory_db_size    bytes of the database after the import
#   directory_lookup_in_process, directory_lookup_curve,
#   directory_lookup_curve_window1   rps, p50_us, p99_us, requests, ok
#   directory_serve_memory   peak_rss_kib (VmHWM) of sdx-directory serve
# and exits 0 only when every row loaded and every lookup was answered ok.
set -u
. "$(dirname "$0")/../tests/lib/cluster.sh"
BENCH_BIN="$SDX_ROOT/build/bench"

case "${1:-}" in
--help | -h)
    sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'
    exit 0
    ;;
"") ;;
*)
    echo "bench/directory.sh: unknown argument '$1': use --help" >&2
    exit 2
    ;;
esac

ROWS=${SDX_DIRECTORY_ROWS:-30000000}
LOOKUPS=${SDX_DIRECTORY_LOOKUPS:-200000}
WINDOW=${SDX_DIRECTORY_WINDOW:-64}
SEED=1
[ -n "${SDX_DIRECTORY_DIR:-}" ] && export TMPDIR=$SDX_DIRECTORY_DIR

for program in "$SDX_BIN/sdx" "$SDX_BIN/sdx-directory" \
    "$BENCH_BIN/gen_register" "$BENCH_BIN/dir_lookups" \
    "$BENCH_BIN/peak_rss"; do
    if [ ! -x "$program" ]; then
        echo "bench/directory.sh: $program is missing: run 'make all'" >&2
        exit 1
    fi
done

failures=0
fail() {
    echo "bench/directory.sh: FAILED: $*" >&2
    failures=$((failures + 1))
}

# now: seconds since the epoch with nanoseconds.
now() { date +%s.%N; }
# elapsed START: seconds since START, to 3 decimals.
elapsed() { awk -v s="$1" -v e="$(now)" 'BEGIN { printf "%.3f", e - s }'; }
# field KEY TEXT: the value of KEY=VALUE in TEXT.
field() { printf '%s\n' "$2" | tr ' ' '\n' | sed -n "s/^$1=//p" | head -1; }

echo "== machine"
echo "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "nproc=$(nproc)"
echo "cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
echo "memory_kib=$(sed -n 's/^MemTotal:[[:space:]]*\([0-9]*\) kB/\1/p' \
    /proc/meminfo)"
echo "kernel=$(uname -r)"
echo "load_average=$(cut -d' ' -f1-3 /proc/loadavg)"

cluster_init
WORK=$CLUSTER_DIR
echo "rows=$ROWS lookups=$LOOKUPS window=$WINDOW dir=$WORK"
echo "== figures"

# Generate
mkdir -p "$WORK/keys"
start=$(now)
generated=$("$BENCH_BIN/gen_register" --out "$WORK" --rows "$ROWS" \
    --seed $SEED --keys "$WORK/keys") || {
    echo "bench/directory.sh: gen_register failed" >&2
    exit 1
}
suppliers=$(field suppliers "$generated")
points=$(field supply_points "$generated")
registrations=$(field registrations "$generated")
echo "directory_generate seconds=$(elapsed "$start") suppliers=$suppliers" \
    "supply_points=$points registrations=$registrations" \
    "bytes=$(field bytes "$generated")"
expected=$((suppliers + points + registrations))

# Import
DB="$WORK/directory.db"
"$SDX_BIN/sdx-directory" init --db "$DB" >/dev/null || exit 1
start=$(now)
"$BENCH_BIN/peak_rss" --output "$WORK/import.rss" \
    "$SDX_BIN/sdx-directory" import --db "$DB" \
    --suppliers "$WORK/suppliers.csv" \
    --supply-points "$WORK/supply_points.csv" \
    --registrations "$WORK/registrations.csv" \
    --rejects "$WORK/rejects.csv" >"$WORK/import.out" 2>"$WORK/import.err" ||
    fail "sdx-directory import exited $?: $(cat "$WORK/import.err")"
seconds=$(elapsed "$start")
loaded=$(sed -n 's/^loaded \([0-9]*\) rows.*/\1/p' "$WORK/import.out")
rejected=$(sed -n 's/^rejected \([0-9]*\) rows.*/\1/p' "$WORK/import.out")
batches=$(sed -n 's/^imported .*, \([0-9]*\) batches$/\1/p' "$WORK/import.out")
per_second=$(awk -v n="$expected" -v s="$seconds" \
    'BEGIN { printf "%.0f", (s > 0 ? n / s : 0) }')
echo "directory_import seconds=$seconds rows_per_s=$per_second" \
    "rows=$expected loaded=${loaded:-0} rejected=${rejected:-unknown}" \
    "batches=${batches:-0}"
[ "${loaded:-0}" = "$expected" ] ||
    fail "import loaded ${loaded:-0} rows of the $expected generated"
echo "directory_import_memory $(cat "$WORK/import.rss")"
echo "directory_db_size bytes=$(stat -c %s "$DB")" \
    "bytes_per_supply_point=$(($(stat -c %s "$DB") / ROWS))"

# Lookups: a sample of the generated supply points, used in turn.
sample=$((LOOKUPS < 100000 ? LOOKUPS : 100000))
"$BENCH_BIN/gen_register" --sample "$sample" --rows "$ROWS" --seed $SEED \
    >"$WORK/mpxns.txt"
"$BENCH_BIN/dir_lookups" --mpxns "$WORK/mpxns.txt" --db "$DB" \
    --requests "$LOOKUPS" --name directory_lookup_in_process ||
    fail "in-process lookups"

mkdir -p "$WORK/directory"
"$SDX_BIN/sdx" keygen --dir "$WORK/directory" --name directory >/dev/null ||
    exit 1
cluster_start directory "$SDX_BIN/sdx-directory" serve --db "$DB" \
    --cert "$WORK/directory/directory.cert" \
    --signing-key "$WORK/directory/directory.sign_secret" \
    --bind "tcp://127.0.0.1:*" --ttl 3600 || exit 1
SERVE_PID=$CLUSTER_LAST_PID
ENDPOINT=$(sed -n 's/.* ready endpoint=//p' "$WORK/directory.out")

# curve_lookups NAME WINDOW REQUESTS: lookups from one node, as S001.
curve_lookups() {
    "$BENCH_BIN/dir_lookups" --mpxns "$WORK/mpxns.txt" \
        --endpoint "$ENDPOINT" --cert "$WORK/keys/S001.cert" \
        --directory-cert "$WORK/directory/directory.cert" \
        --directory-sign "$WORK/directory/directory.sign" \
        --window "$2" --requests "$3" --name "$1" || fail "$1"
}
curve_lookups directory_lookup_curve "$WINDOW" "$LOOKUPS"
curve_lookups directory_lookup_curve_window1 1 $((LOOKUPS / 10 + 1))
echo "directory_serve_memory peak_rss_kib=$(sed -n \
    's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$SERVE_PID/status")"

echo "== end"
echo "load_average=$(cut -d' ' -f1-3 /proc/loadavg)"

cluster_stop
trap - EXIT
if [ $failures -ne 0 ]; then
    echo "bench/directory.sh: $failures figures FAILED" >&2
    exit 1
fi
