#!/bin/bash
# bench/directory.sh at a few thousand supply points, so that the national
# scale benchmark keeps working: every figure line is printed, every
# generated row is loaded and every lookup is answered ok. No timing is
# checked.
set -u
cd "$(dirname "$0")/.."
. tests/lib/tap.sh
OUT=$(mktemp "${TMPDIR:-/tmp}/sdx-t0220.XXXXXX")
trap 'rm -f "$OUT"' EXIT

ROWS=3000
LOOKUPS=2000
SDX_DIRECTORY_ROWS=$ROWS SDX_DIRECTORY_LOOKUPS=$LOOKUPS \
    bench/directory.sh >"$OUT" 2>&1
tap_is "$?" 0 "bench/directory.sh exits 0"
sed 's/^/# /' "$OUT"

# line NAME: the figure line NAME.
line() { grep "^$1 " "$OUT" | head -1; }
# value NAME KEY: KEY's value in the figure line NAME.
value() { line "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
# positive TEXT: passes when TEXT is a number above 0.
positive() { awk -v x="$1" 'BEGIN { exit !(x + 0 > 0) }'; }

for name in directory_generate directory_import directory_import_memory \
    directory_db_size directory_lookup_in_process directory_lookup_curve \
    directory_lookup_curve_window1 directory_serve_memory; do
    tap_ok "figure $name printed" test -n "$(line $name)"
done

tap_is "$(value directory_generate supply_points)" $ROWS \
    "generated the supply points asked for"
tap_is "$(value directory_generate suppliers)" 60 "generated 60 suppliers"
registrations=$(value directory_generate registrations)
tap_ok "change-of-supplier history generated ($registrations)" \
    test "${registrations:-0}" -gt $ROWS
rows=$((60 + ROWS + ${registrations:-0}))
tap_is "$(value directory_import rows)" $rows "import read every row"
tap_is "$(value directory_import loaded)" $rows "import loaded every row"
tap_is "$(value directory_import rejected)" 0 "import rejected none"
tap_ok "import rows per second" \
    positive "$(value directory_import rows_per_s)"
tap_ok "import peak memory" \
    positive "$(value directory_import_memory peak_rss_kib)"
tap_ok "database size" positive "$(value directory_db_size bytes)"
for name in directory_lookup_in_process directory_lookup_curve \
    directory_lookup_curve_window1; do
    requests=$(value $name requests)
    tap_is "$(value $name ok)" "$requests" "$name: every lookup ok"
    tap_ok "$name: lookups per second" positive "$(value $name rps)"
    tap_ok "$name: p99 latency" test -n "$(value $name p99_us)"
done
tap_is "$(value directory_lookup_curve requests)" $LOOKUPS \
    "CURVE lookups timed"
tap_ok "serve peak memory" \
    positive "$(value directory_serve_memory peak_rss_kib)"

tap_done
