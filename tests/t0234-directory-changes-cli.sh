#!/bin/bash
# sdx-directory withdraw-change and changes as the real program: usage
# errors (exit 2), rejected withdrawals (exit 1) with their reasons, the
# audit trail with --mpxn and --since, and serve's readiness line with
# --feed.
set -u
cd "$(dirname "$0")/.."
. tests/lib/tap.sh
DIRECTORY="$PWD/build/bin/sdx-directory"
SDX="$PWD/build/bin/sdx"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/sdx-t0234.XXXXXX")
SERVE_PID=""
cleanup() {
    [ -n "$SERVE_PID" ] && kill -TERM "$SERVE_PID" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT
[ -x "$DIRECTORY" ] || { echo "Bail out! $DIRECTORY not built"; exit 1; }

# run ARGS...: runs sdx-directory with stdout in $WORK/out and stderr in
# $WORK/err, and prints its exit status.
run() {
    "$DIRECTORY" "$@" >"$WORK/out" 2>"$WORK/err"
    echo $?
}
has() { grep -qF -- "$2" "$WORK/$1"; }

DB="$WORK/directory.db"
MPAN=1200023305967
OTHER=1200023305976
"$SDX" keygen --dir "$WORK" --name alfa >"$WORK/alfa.keys"
"$SDX" keygen --dir "$WORK" --name brvo >"$WORK/brvo.keys"
"$SDX" keygen --dir "$WORK" --name directory >/dev/null
row() { # row MPID KEYS_FILE: prints the supplier's CSV row
    local curve sign
    curve=$(sed -n 's/^curve_key=//p' "$2")
    sign=$(sed -n 's/^sign_key=//p' "$2")
    printf '%s,Supplier %s,tcp://127.0.0.1:9,"%s",%s\n' "$1" "$1" \
        "${curve//\"/\"\"}" "$sign"
}
{
    echo "mpid,name,endpoint,curve_key,sign_key"
    row ALFA "$WORK/alfa.keys"
    row BRVO "$WORK/brvo.keys"
} >"$WORK/suppliers.csv"
printf 'mpxn,fuel,meter_id,smart,installing,head_end\n%s,electricity,M1,true,ALFA,sim\n%s,electricity,M2,true,ALFA,sim\n' \
    "$MPAN" "$OTHER" >"$WORK/points.csv"
printf 'mpxn,supplier,from,to\n%s,ALFA,2013-01-01,\n%s,ALFA,2013-01-01,\n' \
    "$MPAN" "$OTHER" >"$WORK/registrations.csv"
"$DIRECTORY" init --db "$DB" >/dev/null
"$DIRECTORY" load --db "$DB" --suppliers "$WORK/suppliers.csv" \
    --supply-points "$WORK/points.csv" \
    --registrations "$WORK/registrations.csv" >/dev/null

# Usage errors.
tap_is "$(run withdraw-change --db "$DB" --reason x)" 2 \
    "withdraw-change without --change is a usage error"
tap_ok "it names the option" has err "missing option --change"
tap_is "$(run withdraw-change --db "$DB" --change 3)" 2 \
    "withdraw-change without --reason is a usage error"
tap_is "$(run withdraw-change --db "$DB" --change 3x --reason x)" 2 \
    "a change number with letters is a usage error"
tap_ok "it names the value" has err "invalid --change '3x'"
tap_is "$(run withdraw-change --db "$DB" --change -1 --reason x)" 2 \
    "a negative change number is a usage error"
tap_is "$(run changes --db "$DB" --since ten)" 2 \
    "changes --since ten is a usage error"
tap_is "$(run changes --db "$DB" --mpxn 1200023305968)" 2 \
    "changes with a bad check digit is a usage error"
tap_ok "it names the MPAN" has err "1200023305968"
tap_is "$(run changes --db "$DB" --to ALFA)" 2 \
    "changes rejects an option of another command"

# Rejected withdrawals.
tap_is "$(run withdraw-change --db "$DB" --change 1 --reason x)" 1 \
    "withdrawing a load fails"
tap_ok "it says only changes of supplier can be" \
    has err "change 1 is a load, not a change of supplier"
tap_is "$(run withdraw-change --db "$DB" --change 99 --reason x)" 1 \
    "withdrawing an unknown change fails"
tap_ok "it says there is none" has err "no change 99 in the change log"

"$DIRECTORY" change-supplier --db "$DB" --mpxn "$MPAN" --to BRVO \
    --at 2014-01-01 >/dev/null
"$DIRECTORY" change-supplier --db "$DB" --mpxn "$OTHER" --to BRVO \
    --at 2014-02-01 >/dev/null
"$DIRECTORY" change-supplier --db "$DB" --mpxn "$MPAN" --to ALFA \
    --at 2015-01-01 >/dev/null
tap_is "$(run withdraw-change --db "$DB" --change 4 --reason x)" 1 \
    "withdrawing a change with a later one fails"
tap_ok "it names the later change" has err "withdraw change 6 first"
tap_is "$(run withdraw-change --db "$DB" --change 6 --reason '')" 1 \
    "an empty reason fails"

# A withdrawal and the audit trail.
tap_is "$(run withdraw-change --db "$DB" --change 6 --reason 'read from the wrong form')" \
    0 "the latest change is withdrawn"
tap_is "$(cat "$WORK/out")" \
    "supply point $MPAN: change 6 withdrawn (change 7); registered to BRVO again" \
    "the output names the withdrawal and the supplier"
tap_is "$(run show --db "$DB" --mpxn "$MPAN")" 0 "show succeeds"
tap_ok "BRVO's registration is open again" \
    grep -q "BRVO  from 2014-01-01T00:00:00Z     to (open)" "$WORK/out"

tap_is "$(run changes --db "$DB")" 0 "changes lists the log"
tap_is "$(head -1 "$WORK/out" | tr -s ' ')" \
    "change recorded kind mpxn description" "with a header"
tap_is "$(tail -n +2 "$WORK/out" | wc -l)" 7 "and seven entries"
tap_ok "loads name no supply point" \
    grep -q "^ *1 .* load  *-  *loaded " "$WORK/out"
tap_ok "the withdrawn change is marked" \
    grep -qF "[withdrawn by change 7: read from the wrong form]" "$WORK/out"
tap_ok "the withdrawal names the change it withdrew" \
    grep -q "^ *7 .* withdrawal .*withdrawal of change 6 .*: read from the wrong form$" \
    "$WORK/out"

tap_is "$(run changes --db "$DB" --mpxn "$OTHER")" 0 "changes --mpxn"
tap_is "$(tail -n +2 "$WORK/out" | awk '{print $1}' | tr '\n' ' ')" "5 " \
    "lists only that supply point's change"
tap_is "$(run changes --db "$DB" --since 5)" 0 "changes --since 5"
tap_is "$(tail -n +2 "$WORK/out" | awk '{print $1}' | tr '\n' ' ')" "6 7 " \
    "lists the entries above 5"
tap_is "$(run changes --db "$DB" --since 7)" 0 "changes --since the last"
tap_is "$(tail -n +2 "$WORK/out" | wc -l)" 0 "lists nothing"

# serve with --feed prints both endpoints.
"$DIRECTORY" serve --db "$DB" --cert "$WORK/directory.cert" \
    --signing-key "$WORK/directory.sign_secret" \
    --bind "tcp://127.0.0.1:*" --feed "tcp://127.0.0.1:*" \
    >"$WORK/serve.out" 2>"$WORK/serve.log" &
SERVE_PID=$!
for _ in $(seq 100); do
    grep -q " ready " "$WORK/serve.out" && break
    sleep 0.1
done
tap_ok "serve --feed prints endpoint= and feed= with their ports" \
    grep -Eq '^sdx-directory ready endpoint=tcp://127\.0\.0\.1:[0-9]+ feed=tcp://127\.0\.0\.1:[0-9]+$' \
    "$WORK/serve.out"
kill -TERM "$SERVE_PID"
wait "$SERVE_PID"
tap_is $? 0 "serve stops cleanly on SIGTERM"
SERVE_PID=""
tap_ok "it logged the feed's endpoint" grep -q "feed=tcp://127.0.0.1:" \
    "$WORK/serve.log"

tap_done
