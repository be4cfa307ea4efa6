#!/bin/bash
# The sdx demo: a whole exchange on the real London household data.
#
# In a temporary folder it starts a directory, three suppliers' nodes
# (ALFA, BRVO and CHRL, fictional MPIDs) and the sim agents of the two
# that installed meters, records a change of supplier part-way through
# 2013, and then shows the gaining supplier's reads, a denial, a retry and
# both sides' statements. It exits 0 only when every step behaved as
# expected, and stops every process it started.
set -u
. "$(dirname "$0")/lib/cluster.sh"

failures=0
step() { printf '\n== %s\n' "$*"; }
check() {
    # check DESCRIPTION COMMAND...: runs COMMAND, reports pass or fail.
    local description=$1
    shift
    if "$@"; then
        echo "   [ok] $description"
    else
        echo "   [FAILED] $description"
        failures=$((failures + 1))
    fi
}

cluster_init
step "Setting up in $CLUSTER_DIR"
cluster_directory_keys
cluster_supplier ALFA "Alfa Energy"
cluster_supplier BRVO "Bravo Power"
cluster_supplier CHRL "Charlie Supply"
cluster_tariff ALFA BRVO
cluster_tariff BRVO ALFA
cluster_tariff ALFA CHRL
cluster_tariff BRVO CHRL

echo "Importing the London household data into the sim agents..."
alfa_files=()
for h in MAC000002 MAC000005 MAC000006 MAC000008 MAC000010 MAC000014 \
    MAC000017 MAC000018; do
    alfa_files+=("$SDX_DATA/$h.csv")
done
brvo_files=()
for h in MAC000027 MAC000040 MAC000044 MAC000048 MAC000049 MAC000060; do
    brvo_files+=("$SDX_DATA/$h.csv")
done
cluster_sim ALFA "${alfa_files[@]}" || exit 1
cluster_sim BRVO "${brvo_files[@]}" || exit 1
echo "ALFA installed $(grep -c ',ALFA,' "$CLUSTER_DIR/supply_points.csv") meters, BRVO $(grep -c ',BRVO,' "$CLUSTER_DIR/supply_points.csv")."

# Every meter starts 2013 registered to the supplier that installed it.
printf 'mpxn,supplier,from,to\n' >"$CLUSTER_DIR/registrations.csv"
tail -n +2 "$CLUSTER_DIR/supply_points.csv" |
    awk -F, '{print $1","$5",2013-01-01T00:00:00Z,"}' \
        >>"$CLUSTER_DIR/registrations.csv"
cluster_start_directory || exit 1
echo "Directory serving at $DIRECTORY_ENDPOINT"

MPAN=$(cluster_mpan ALFA MAC000002)
MPAN2=$(cluster_mpan ALFA MAC000005)
MPAN_B=$(cluster_mpan BRVO MAC000027)
DB="$CLUSTER_DIR/directory/directory.db"
# A change of supplier takes effect at the start of a settlement day, local
# midnight, which is 23:00 UTC the evening before in summer time.
step "Change of supplier: $MPAN and $MPAN2 move from ALFA to BRVO on 2013-07-15; $MPAN_B moves from BRVO to ALFA on 2013-09-01"
"$SDX_BIN/sdx-directory" change-supplier --db "$DB" --mpxn "$MPAN" --to BRVO \
    --at 2013-07-14T23:00:00Z
"$SDX_BIN/sdx-directory" change-supplier --db "$DB" --mpxn "$MPAN2" \
    --to BRVO --at 2013-07-14T23:00:00Z
"$SDX_BIN/sdx-directory" change-supplier --db "$DB" --mpxn "$MPAN_B" \
    --to ALFA --at 2013-08-31T23:00:00Z
"$SDX_BIN/sdx-directory" show --db "$DB" --mpxn "$MPAN"

for mpid in ALFA BRVO CHRL; do
    cluster_start_node $mpid || exit 1
    echo "$mpid node: $(cat "$CLUSTER_DIR/$mpid-node.out")"
done

step "BRVO (the gaining supplier) reads the registers of $MPAN from ALFA's node"
check "register read served" sdx_as BRVO read registers "$MPAN"

step "BRVO reads a week of profile across the change date (2013-07-11 to 2013-07-18)"
sdx_as BRVO read profile "$MPAN" --from 2013-07-11 --to 2013-07-18 \
    >"$CLUSTER_DIR/week.txt"
week_rc=$?
sed -n '1,4p' "$CLUSTER_DIR/week.txt"
echo "   ... (first and last rows)"
grep -E '^[0-9]{4}-' "$CLUSTER_DIR/week.txt" | sed -n '1p;$p'
check "week read served" test $week_rc -eq 0
check "only BRVO's own period served: first row is 2013-07-15 period 1" \
    grep -qE '^2013-07-14T23:00:00Z +2013-07-15 +1 ' "$CLUSTER_DIR/week.txt"
check "nothing before the change date was served" \
    bash -c "! grep -qE '^2013-07-1[0-3]T' '$CLUSTER_DIR/week.txt'"
check "3 days and 1 hour served up to 2013-07-18T00:00Z (146 periods)" \
    test "$(grep -cE '^[0-9]{4}-' "$CLUSTER_DIR/week.txt")" -eq 146
request_id=$(sed -n 's/^request id: //p' "$CLUSTER_DIR/week.txt")

step "BRVO reads the day the clocks went back (2013-10-27, local)"
sdx_as BRVO read profile "$MPAN" --from 2013-10-26T23:00:00Z \
    --to 2013-10-28T00:00:00Z >"$CLUSTER_DIR/clock.txt"
clock_rc=$?
sed -n '1,3p' "$CLUSTER_DIR/clock.txt"
grep -E '^2013-10-27T0[0-2]' "$CLUSTER_DIR/clock.txt"
check "clock-change read served" test $clock_rc -eq 0
check "2013-10-27 has 50 settlement periods" \
    test "$(grep -cE '^[0-9T:Z-]+ +2013-10-27 ' "$CLUSTER_DIR/clock.txt")" -eq 50
check "period 50 exists" grep -qE '^[0-9T:Z-]+ +2013-10-27 +50 ' \
    "$CLUSTER_DIR/clock.txt"

step "CHRL (not the registered supplier) asks for the same meter"
sdx_as CHRL read registers "$MPAN" 2>"$CLUSTER_DIR/denied.txt"
denied_rc=$?
cat "$CLUSTER_DIR/denied.txt"
check "CHRL is denied (exit status 3)" test $denied_rc -eq 3
check "the denial names the reason" grep -q 'not_registered' \
    "$CLUSTER_DIR/denied.txt"

step "BRVO retries the week read with the same request id $request_id"
sdx_as BRVO read profile "$MPAN" --from 2013-07-11 --to 2013-07-18 \
    --request-id "$request_id" >"$CLUSTER_DIR/retry.txt"
sed -n '1,2p' "$CLUSTER_DIR/retry.txt"
check "the retry returns the same receipt, not charged again" \
    grep -q 'duplicate' "$CLUSTER_DIR/retry.txt"

step "ALFA reads daily registers of $MPAN_B from BRVO's node (ALFA gained it on 2013-09-01)"
check "daily read served" sdx_as ALFA read daily "$MPAN_B" --from 2013-08-28 \
    --to 2013-09-04

step "Receipts in BRVO's ledger"
sdx_as BRVO receipts

step "Statements: what ALFA issued to BRVO, and what BRVO received from ALFA"
year_from=2026-01-01
year_to=2100-01-01
sdx_as ALFA statement --counterparty BRVO --role issued --from $year_from \
    --to $year_to
sdx_as BRVO statement --counterparty ALFA --role received --from $year_from \
    --to $year_to
sdx_as ALFA statement --counterparty BRVO --role issued --from $year_from \
    --to $year_to --csv >"$CLUSTER_DIR/alfa.csv"
sdx_as BRVO statement --counterparty ALFA --role received --from $year_from \
    --to $year_to --csv >"$CLUSTER_DIR/brvo.csv"
check "both sides' statements agree to the micro-unit" \
    cmp -s "$CLUSTER_DIR/alfa.csv" "$CLUSTER_DIR/brvo.csv"
check "the statement is not empty" \
    grep -q ',total,[1-9]' "$CLUSTER_DIR/alfa.csv"

step "Ledger verification"
check "ALFA's ledger verifies" sdx_as ALFA ledger verify
check "BRVO's ledger verifies" sdx_as BRVO ledger verify

step "Settlement: ALFA and BRVO exchange signed statements of what each served the other"
period=$(sdx_as ALFA export receipts --from $year_from --to $year_to --json \
    2>/dev/null | /usr/bin/python3 -c \
    'import json, sys; print(json.load(sys.stdin)[0]["served_at"][:7])')
echo "Period: the calendar month $period (UTC)"
check "ALFA signs its statement of receipts issued to BRVO" \
    sdx_as ALFA statement --counterparty BRVO --period "$period" \
    --role issued --out "$CLUSTER_DIR/alfa-to-brvo.stmt"
check "BRVO signs its statement of receipts issued to ALFA" \
    sdx_as BRVO statement --counterparty ALFA --period "$period" \
    --role issued --out "$CLUSTER_DIR/brvo-to-alfa.stmt"

step "Each side reconciles the other's statement with its own ledger"
check "BRVO's ledger agrees with ALFA's statement" \
    sdx_as BRVO reconcile "$CLUSTER_DIR/alfa-to-brvo.stmt"
check "ALFA's ledger agrees with BRVO's statement" \
    sdx_as ALFA reconcile "$CLUSTER_DIR/brvo-to-alfa.stmt"

step "Both accept: countersign, return and store the agreed statements"
check "BRVO countersigns ALFA's statement" \
    sdx_as BRVO reconcile --accept --out "$CLUSTER_DIR/alfa-agreed.stmt" \
    "$CLUSTER_DIR/alfa-to-brvo.stmt" >/dev/null
check "ALFA countersigns BRVO's statement" \
    sdx_as ALFA reconcile --accept --out "$CLUSTER_DIR/brvo-agreed.stmt" \
    "$CLUSTER_DIR/brvo-to-alfa.stmt" >/dev/null
check "ALFA stores its statement as BRVO returned it" \
    sdx_as ALFA statements --import "$CLUSTER_DIR/alfa-agreed.stmt"
check "BRVO stores its statement as ALFA returned it" \
    sdx_as BRVO statements --import "$CLUSTER_DIR/brvo-agreed.stmt"
check "the doubly-signed statement shows with both signatures valid" \
    sdx_as ALFA statement --show "$CLUSTER_DIR/alfa-agreed.stmt"
sdx_as ALFA statements

step "Net position for $period"
sdx_as ALFA settle --counterparty BRVO --period "$period"
net_of() {
    sdx_as "$1" settle --counterparty "$2" --period "$period" --json \
        2>/dev/null | /usr/bin/python3 -c \
        'import json, sys; r = json.load(sys.stdin); print(r["net_micro"], r["debtor"])'
}
alfa_net=$(net_of ALFA BRVO)
check "ALFA and BRVO compute the same net position ($alfa_net)" \
    test -n "$alfa_net" -a "$alfa_net" = "$(net_of BRVO ALFA)"

step "Stopping every process"
cluster_stop
trap - EXIT
if [ $failures -ne 0 ]; then
    echo "demo: $failures checks FAILED" >&2
    exit 1
fi
echo "demo: every step behaved as expected"
