#!/bin/bash
# sdx-directory import. Rows are rejected for each reason and listed with
# their file, line, reason and raw text in the rejects file. Also checked:
# the report, a re-run that changes nothing, the change-log entry of each
# batch, the progress line (on a terminal only) and usage errors.
set -u
cd "$(dirname "$0")/.."
. tests/lib/tap.sh
DIRECTORY=build/bin/sdx-directory
GEN=build/bench/gen_register
PYTHON=/usr/bin/python3
WORK=$(mktemp -d "${TMPDIR:-/tmp}/sdx-t0221.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

for program in "$DIRECTORY" "$GEN"; do
    [ -x "$program" ] || { echo "Bail out! $program not built"; exit 1; }
done

# mpan DIGITS12: the MPAN core with its check digit.
mpan() {
    $PYTHON -c '
import sys
d = sys.argv[1]
w = [3, 5, 7, 13, 17, 19, 23, 29, 31, 37, 41, 43]
print(d + str(sum(int(c) * x for c, x in zip(d, w)) % 11 % 10))' "$1"
}
# mprn BODY: the MPRN with its two check digits.
mprn() {
    $PYTHON -c '
import sys
b = sys.argv[1]
print(b + "%02d" % (sum(int(c) * (len(b) - i) for i, c in enumerate(b)) % 11))' "$1"
}
# wrong CODE: CODE with its last digit changed, so its check fails.
wrong() { echo "${1:0:-1}$(( (${1: -1} + 1) % 10 ))"; }

A=$(mpan 120002330596)
B=$(mprn 12345678)
C=$(mpan 120002330597)
D=$(mpan 120002330598)
E=$(mpan 120002330599)
G=$(mpan 120002330600)

# Three suppliers with real keys, then the rows each check rejects.
$GEN --out "$WORK" --rows 1 --suppliers 3 >/dev/null
{
    cat "$WORK/suppliers.csv"
    sed -n 2p "$WORK/suppliers.csv" # line 5: S001 again
    echo "bad,Bad Energy,tcp://10.0.0.9:7001,x,y" # line 6
    echo "S009,Short Row,tcp://10.0.0.9:7001" # line 7
} >"$WORK/s.csv"
cat >"$WORK/p.csv" <<EOF
mpxn,fuel,meter_id,smart,installing,head_end
$A,electricity,M-A,true,S001,sim
$(wrong "$A"),electricity,M-X,true,S001,sim
$B,gas,M-B,false,S002,sim
$(wrong "$B"),gas,M-Y,true,S002,sim
$C,electricity,M-C,true,ZZZZ,sim
$A,electricity,M-A2,true,S002,sim
$D,gas,M-D,true,S001,sim
12"34,electricity,M-Q,true,S001,sim
$E,electricity,M-E,true,S001
$G,electricity,"M-G
second line",true,S003,sim
$(wrong "$E"),electricity,M-Z,true,S001,sim
EOF
cat >"$WORK/r.csv" <<EOF
mpxn,supplier,from,to
$A,S001,2013-01-01,2014-01-01
$A,S002,2014-01-01,
$A,S003,2013-06-01,2013-09-01
$B,S001,2015-01-01,2014-01-01
$A,S001,2013-01-01,2014-01-01
$C,S001,2013-01-01,
$B,ZZZZ,2013-01-01,
$(wrong "$B"),S001,2013-01-01,
$B,S001,not-a-date,
$B,S001,2013-01-01,2013-01-01
$B,S002,2013-01-01,
EOF

"$DIRECTORY" init --db "$WORK/d.db" >/dev/null
import() {
    "$DIRECTORY" import --db "$WORK/d.db" --suppliers "$WORK/s.csv" \
        --supply-points "$WORK/p.csv" --registrations "$WORK/r.csv" "$@"
}
changes() { sqlite3 "$WORK/d.db" "SELECT count(*) FROM changes"; }
has() { grep -qF -- "$2" "$1" || { sed 's/^/#   /' "$1"; return 1; }; }

import --rejects "$WORK/rejects.csv" --batch 4 >"$WORK/out" 2>"$WORK/err"
tap_is "$?" 1 "import with rejected rows exits 1"
tap_is "$(cat "$WORK/err")" "" "nothing on stderr with --rejects"

# The rejects file: file, line and reason of each rejected row.
triples() {
    $PYTHON -c '
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline="")))
assert rows[0] == ["file", "line", "reason", "message", "raw"], rows[0]
for row in rows[1:]:
    print("%s:%s:%s" % (row[0].rsplit("/", 1)[-1], row[1], row[2]))' "$1"
}
# Overlapping registrations are retried after the rest of their file, so
# the ones that still overlap come last.
expected="s.csv:5:duplicate
s.csv:6:invalid_value
s.csv:7:malformed
p.csv:3:check_digit
p.csv:5:check_digit
p.csv:6:unknown_supplier
p.csv:7:duplicate
p.csv:8:invalid_value
p.csv:9:malformed
p.csv:10:malformed
p.csv:13:check_digit
r.csv:5:end_before_start
r.csv:6:duplicate
r.csv:7:unknown_supply_point
r.csv:8:unknown_supplier
r.csv:9:check_digit
r.csv:10:invalid_value
r.csv:11:end_before_start
r.csv:4:overlap"
tap_is "$(triples "$WORK/rejects.csv")" "$expected" \
    "every rejected row with its line and reason"

# field LINE COLUMN: a field of the rejects file's row for p.csv or r.csv.
field() {
    $PYTHON -c '
import csv, sys
for row in csv.reader(open(sys.argv[1], newline="")):
    if row[0].endswith(sys.argv[2]) and row[1] == sys.argv[3]:
        print(row[int(sys.argv[4])])' "$WORK/rejects.csv" "$1" "$2" "$3"
}
tap_is "$(field p.csv 3 4)" "$(sed -n 3p "$WORK/p.csv")" \
    "raw text of a rejected row"
tap_is "$(field p.csv 10 4)" "$(sed -n 10p "$WORK/p.csv")" \
    "raw text of a short row"
tap_ok "check digit message names the value" \
    grep -q "check digit is" <<<"$(field p.csv 3 3)"
tap_ok "duplicate message names the earlier line" \
    grep -q "already on line 2 of this file" <<<"$(field p.csv 7 3)"
tap_ok "overlap message names the other registration" \
    grep -q "overlaps its registration to S001" <<<"$(field r.csv 4 3)"
tap_ok "multi-line record counted for later lines" \
    grep -q "^$(wrong "$E"),electricity" <<<"$(field p.csv 13 4)"

# The report.
tap_ok "suppliers summary" has "$WORK/out" \
    "s.csv: 3 added, 0 updated, 0 already present, 3 rejected"
tap_ok "supply points summary" has "$WORK/out" \
    "p.csv: 3 added, 0 updated, 0 already present, 8 rejected"
tap_ok "registrations summary" has "$WORK/out" \
    "r.csv: 3 added, 0 updated, 0 already present, 8 rejected"
tap_ok "rows read" has "$WORK/out" "imported 28 rows in"
tap_ok "rows loaded" has "$WORK/out" \
    "loaded 9 rows: 9 added, 0 updated, 0 already present"
tap_ok "rows rejected" has "$WORK/out" "rejected 19 rows, by reason"
# reason LABEL: the count the report gives for a reason.
reason() { sed -n "s/^  $1  *\([0-9]*\)$/\1/p" "$WORK/out"; }
tap_is "$(reason "invalid MPAN or MPRN check digit")" 4 "check digit count"
tap_is "$(reason "unknown supplier")" 2 "unknown supplier count"
tap_is "$(reason "unknown supply point")" 1 "unknown supply point count"
tap_is "$(reason "overlapping registration periods")" 1 "overlap count"
tap_is "$(reason "end before start")" 2 "end before start count"
tap_is "$(reason duplicate)" 3 "duplicate count"
tap_is "$(reason "invalid value")" 3 "invalid value count"
tap_is "$(reason "malformed row")" 3 "malformed count"

# What the database holds.
tap_is "$(sqlite3 "$WORK/d.db" "SELECT meter_id FROM supply_points \
    WHERE mpxn = '$A'")" "M-A" "first of two duplicate rows kept"
tap_is "$(sqlite3 "$WORK/d.db" "SELECT meter_id FROM supply_points \
    WHERE mpxn = '$G'")" "M-G
second line" "quoted line break stored"
tap_is "$(sqlite3 "$WORK/d.db" "SELECT count(*) FROM registrations")" 3 \
    "three registrations stored"
# Batches of 4 rows: of the suppliers' 2 batches the first adds rows, of
# the supply points' 3 and the registrations' 3 the first and the last.
tap_is "$(changes)" 5 "one change-log entry per batch that added rows"
tap_ok "change describes its batch" has <(sqlite3 "$WORK/d.db" \
    "SELECT description FROM changes WHERE number = 1") \
    "imported $WORK/s.csv lines 2 to 5: 3 added"

# Running it again changes nothing.
cp "$WORK/rejects.csv" "$WORK/rejects.first"
import --rejects "$WORK/rejects.csv" --batch 4 >"$WORK/out" 2>"$WORK/err"
tap_is "$?" 1 "re-run still exits 1 for the rejected rows"
tap_ok "re-run: every row already present" has "$WORK/out" \
    "loaded 9 rows: 0 added, 0 updated, 9 already present"
tap_ok "re-run: same rejects" cmp -s "$WORK/rejects.first" "$WORK/rejects.csv"
tap_is "$(changes)" 5 "re-run records no change"

# An updated row counts as updated and records a change.
sed -i "s/^$A,S002,2014-01-01,$/$A,S002,2014-01-01,2015-01-01/" "$WORK/r.csv"
"$DIRECTORY" import --db "$WORK/d.db" --registrations "$WORK/r.csv" \
    >"$WORK/out" 2>/dev/null
tap_ok "new end counts as updated" has "$WORK/out" \
    "r.csv: 0 added, 1 updated, 2 already present, 8 rejected"
tap_is "$(changes)" 6 "the update records one change"

# A row that overlaps an open registration which a later row of the file
# ends is accepted on the first run, so a second run changes nothing.
mkdir "$WORK/o"
$GEN --out "$WORK/o" --rows 1 --suppliers 5 >/dev/null
H=1000003420090
cat >"$WORK/o/p.csv" <<EOF
mpxn,fuel,meter_id,smart,installing,head_end
$H,electricity,M-H,true,S002,sim
EOF
printf 'mpxn,supplier,from,to\n%s,S002,2014-05-15,\n' "$H" >"$WORK/o/open.csv"
cat >"$WORK/o/r.csv" <<EOF
mpxn,supplier,from,to
$H,S005,2020-01-01,
$H,S002,2014-05-15,2018-01-01
EOF
"$DIRECTORY" init --db "$WORK/o.db" >/dev/null
"$DIRECTORY" import --db "$WORK/o.db" --suppliers "$WORK/o/suppliers.csv" \
    --supply-points "$WORK/o/p.csv" --registrations "$WORK/o/open.csv" \
    >/dev/null 2>"$WORK/err"
tap_is "$?" 0 "open registration imported"
periods() {
    sqlite3 "$WORK/o.db" "SELECT supplier, from_ms, to_ms FROM registrations \
        WHERE mpxn = '$H' ORDER BY from_ms"
}
ochanges() { sqlite3 "$WORK/o.db" "SELECT count(*) FROM changes"; }
reimport() {
    "$DIRECTORY" import --db "$WORK/o.db" --registrations "$WORK/o/r.csv" \
        --rejects "$WORK/o/rejects.csv" --batch 1
}
reimport >"$WORK/out" 2>"$WORK/err"
tap_is "$?" 0 "ended registration: first run exits 0"
tap_ok "ended registration: first run accepts both rows" has "$WORK/out" \
    "r.csv: 1 added, 1 updated, 0 already present, 0 rejected"
tap_is "$(grep -c '' "$WORK/o/rejects.csv")" 1 \
    "ended registration: no row in the rejects file"
tap_is "$(sqlite3 "$WORK/o.db" "SELECT supplier FROM registrations \
    WHERE mpxn = '$H' ORDER BY from_ms" | tr '\n' ' ')" "S002 S005 " \
    "ended registration: S005 registered after S002"
tap_ok "retry batch recorded in the change log" has <(sqlite3 "$WORK/o.db" \
    "SELECT description FROM changes ORDER BY number DESC LIMIT 1") \
    "retried overlapping rows of $WORK/o/r.csv lines 2 to 2: 1 added"
first_periods=$(periods)
first_changes=$(ochanges)
reimport >"$WORK/out" 2>"$WORK/err"
tap_is "$?" 0 "ended registration: second run exits 0"
tap_ok "ended registration: second run changes nothing" has "$WORK/out" \
    "r.csv: 0 added, 0 updated, 2 already present, 0 rejected"
tap_is "$(periods)" "$first_periods" \
    "ended registration: same registrations after the second run"
tap_is "$(ochanges)" "$first_changes" \
    "ended registration: second run records no change"

# Without --rejects, rejected rows go to stderr as FILE:LINE: message.
"$DIRECTORY" import --db "$WORK/d.db" --supply-points "$WORK/p.csv" \
    >"$WORK/out" 2>"$WORK/err"
tap_ok "stderr lists rejected rows" has "$WORK/err" \
    "$WORK/p.csv:3: invalid MPAN core"
tap_is "$(grep -c '' "$WORK/err")" 8 "one stderr line per rejected row"

# A clean import exits 0; the progress line only appears on a terminal.
mkdir "$WORK/big"
$GEN --out "$WORK/big" --rows 20000 >/dev/null
"$DIRECTORY" init --db "$WORK/big.db" >/dev/null
big() {
    "$DIRECTORY" import --db "$WORK/big.db" \
        --suppliers "$WORK/big/suppliers.csv" \
        --supply-points "$WORK/big/supply_points.csv" \
        --registrations "$WORK/big/registrations.csv" "$@"
}
big >"$WORK/out" 2>"$WORK/err"
tap_is "$?" 0 "clean import exits 0"
tap_is "$(cat "$WORK/err")" "" "no progress line on a pipe"
tap_ok "report on a pipe" has "$WORK/out" "rejected 0 rows"
# On a terminal (a pseudo-terminal here), stderr gets the progress line.
$PYTHON -c '
import os, pty, subprocess, sys
master, slave = pty.openpty()
child = subprocess.Popen(sys.argv[1:], stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=slave)
os.close(slave)
data = b""
while True:
    try:
        chunk = os.read(master, 65536)
    except OSError:
        break
    if not chunk:
        break
    data += chunk
child.wait()
sys.stdout.buffer.write(data)' "$DIRECTORY" import --db "$WORK/big.db" \
    --supply-points "$WORK/big/supply_points.csv" >"$WORK/tty"
tap_ok "progress line on a terminal" has "$WORK/tty" "rows/s"
tap_ok "progress line estimates the time left" \
    grep -Eq '[0-9]+%, [0-9hms]+ left' "$WORK/tty"
tap_ok "progress line is rewritten in place" grep -q $'\r' "$WORK/tty"

# Usage errors exit 2.
"$DIRECTORY" import --db "$WORK/d.db" >/dev/null 2>"$WORK/err"
tap_is "$?" 2 "no file exits 2"
"$DIRECTORY" import --db "$WORK/d.db" --suppliers "$WORK/s.csv" \
    --batch 0 >/dev/null 2>"$WORK/err"
tap_is "$?" 2 "--batch 0 exits 2"
tap_ok "--batch error names the value" has "$WORK/err" "invalid --batch '0'"
"$DIRECTORY" import --db "$WORK/d.db" --suppliers "$WORK/s.csv" \
    --rejects "$WORK/no/such/dir/r.csv" >/dev/null 2>"$WORK/err"
tap_is "$?" 1 "unwritable rejects file exits 1"
tap_ok "error names the rejects file" has "$WORK/err" "cannot create rejects"
printf 'wrong,header\n' >"$WORK/bad.csv"
"$DIRECTORY" import --db "$WORK/d.db" --suppliers "$WORK/bad.csv" \
    >"$WORK/out" 2>"$WORK/err"
tap_is "$?" 1 "wrong header exits 1"
tap_ok "wrong header named" has "$WORK/err" "expected the header row"
"$DIRECTORY" import --help >"$WORK/out"
tap_ok "help names the reasons" has "$WORK/out" "unknown_supply_point"

tap_done
