#!/bin/bash
# sdx-directory import killed with SIGKILL half way. The database then
# contains whole batches only, exactly the first rows of the file, and
# running the same import again completes it as if it had never stopped.
set -u
cd "$(dirname "$0")/.."
. tests/lib/tap.sh
DIRECTORY=build/bin/sdx-directory
GEN=build/bench/gen_register
PYTHON=/usr/bin/python3
WORK=$(mktemp -d "${TMPDIR:-/tmp}/sdx-t0222.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

for program in "$DIRECTORY" "$GEN"; do
    [ -x "$program" ] || { echo "Bail out! $program not built"; exit 1; }
done

ROWS=200000
BATCH=500
# The kill comes once this many supply points are committed.
KILL_AT=40000
$GEN --out "$WORK" --rows $ROWS >/dev/null
SUPPLIERS=$(($(grep -c '' "$WORK/suppliers.csv") - 1))
REGISTRATIONS=$(($(grep -c '' "$WORK/registrations.csv") - 1))
DB="$WORK/d.db"
"$DIRECTORY" init --db "$DB" >/dev/null
IMPORT=("$DIRECTORY" import --db "$DB" --batch $BATCH
    --suppliers "$WORK/suppliers.csv"
    --supply-points "$WORK/supply_points.csv"
    --registrations "$WORK/registrations.csv")
count() { sqlite3 "$DB" "SELECT count(*) FROM $1"; }

# Runs the import, reads the database while it writes (WAL lets it), and
# kills it with SIGKILL as soon as KILL_AT supply points are committed.
# Prints the import's exit status and the supply points seen.
$PYTHON -c '
import signal, sqlite3, subprocess, sys, time
path, kill_at, command = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
child = subprocess.Popen(command, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
seen = 0
deadline = time.time() + 60
while child.poll() is None and time.time() < deadline:
    try:
        db = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
        seen = db.execute("SELECT count(*) FROM supply_points").fetchone()[0]
        db.close()
    except sqlite3.Error:
        pass
    if seen >= kill_at:
        child.send_signal(signal.SIGKILL)
        break
    time.sleep(0.002)
print(child.wait(), seen)' "$DB" $KILL_AT "${IMPORT[@]}" >"$WORK/killed"
read -r status seen <"$WORK/killed"
tap_is "$status" -9 "import was killed by SIGKILL"
tap_diag "supply points seen before the kill: $seen"

points=$(count supply_points)
registrations=$(count registrations)
tap_is "$(sqlite3 "$DB" "PRAGMA integrity_check")" ok "database is intact"
tap_is "$(count suppliers)" "$SUPPLIERS" "suppliers file completed"
tap_ok "import stopped half way ($points of $ROWS supply points)" \
    test "$points" -lt $ROWS -a "$registrations" -eq 0
tap_is "$((points % BATCH))" 0 "only whole batches of supply points"
# The rows held are the first lines of the file, none from a later batch.
$PYTHON -c '
import csv, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
held = set(r[0] for r in db.execute("SELECT mpxn FROM supply_points"))
rows = list(csv.reader(open(sys.argv[2])))[1:]
first = set(r[0] for r in rows[:len(held)])
sys.exit(0 if held == first else 1)' "$DB" "$WORK/supply_points.csv"
tap_is "$?" 0 "the rows held are the first $points of the file"
batches=$((1 + points / BATCH))
tap_is "$(count changes)" "$batches" "one change-log entry per committed batch"
leftovers=$(ls "$WORK" | grep -v -e '\.csv$' -e '^d\.db' -e '^out$' \
    -e '^killed$')
tap_is "$leftovers" "" "no temporary files left beside the database"

# The same import again completes it.
"${IMPORT[@]}" >"$WORK/out" 2>&1
tap_is "$?" 0 "re-run exits 0"
total=$((SUPPLIERS + ROWS + REGISTRATIONS))
present=$((SUPPLIERS + points))
tap_ok "re-run counts the committed rows as already present" \
    grep -q "^loaded $total rows: $((total - present)) added, 0 updated, $present already present$" \
    "$WORK/out"
tap_is "$(count supply_points)" $ROWS "every supply point loaded"
tap_is "$(count registrations)" "$REGISTRATIONS" "every registration loaded"
# The re-run's batches start at the same lines, so the change log ends as
# one clean import would leave it.
clean=$((1 + (ROWS + BATCH - 1) / BATCH + (REGISTRATIONS + BATCH - 1) / BATCH))
tap_is "$(count changes)" "$clean" "change log as after one clean import"
tap_is "$(sqlite3 "$DB" "PRAGMA integrity_check")" ok "database still intact"

tap_done
