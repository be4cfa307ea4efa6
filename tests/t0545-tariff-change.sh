#!/bin/bash
# Integration test of bilateral tariffs with real nodes. A change of price
# at a date is applied on both sides of the date, by the serving node and
# by the requester's check. A receipt priced under a tariff that differs
# from the requester's copy is recorded as disputed and not acknowledged.
set -u
cd "$(dirname "$0")/.."
. tests/lib/tap.sh
. tests/lib/cluster.sh
PY=/usr/bin/python3

cluster_init
cluster_directory_keys
cluster_supplier ALFA "Alfa Energy"
cluster_supplier BRVO "Bravo Power"
cluster_supplier CHRL "Charlie Supply"
cluster_sim ALFA "$SDX_DATA/MAC000002.csv" "$SDX_DATA/MAC000005.csv" || exit 1
MPAN_B=$(cluster_mpan ALFA MAC000002)
MPAN_C=$(cluster_mpan ALFA MAC000005)
printf 'mpxn,supplier,from,to\n%s,BRVO,2013-01-01T00:00:00Z,\n%s,CHRL,2013-01-01T00:00:00Z,\n' \
    "$MPAN_B" "$MPAN_C" >"$CLUSTER_DIR/registrations.csv"
cluster_start_directory || exit 1

# The new prices take effect CHANGE_AT, a whole second about 9 s from now:
# after the nodes have started, before the first reads are done.
CHANGE_MS=$($PY -c 'import time; print((int(time.time()) + 9) * 1000)')
CHANGE_AT=$($PY -c 'import sys, datetime; print(datetime.datetime.fromtimestamp(int(sys.argv[1]) // 1000, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"))' "$CHANGE_MS")
tap_diag "tariff change at $CHANGE_AT"
cat >"$CLUSTER_DIR/ALFA-BRVO.tariff" <<TARIFF
tariff-id = ALFA-BRVO-2026
serving = ALFA
requesting = BRVO
currency = GBP
# price TYPE EFFECTIVE_FROM FIXED_MICRO PER_UNIT_MICRO
price read.registers 2026-01-01 20000 0
price read.registers $CHANGE_AT 35000 0
price read.profile   2026-01-01 10000 150
price read.profile   $CHANGE_AT 12000 200
TARIFF
cp "$CLUSTER_DIR/ALFA-BRVO.tariff" "$CLUSTER_DIR/ALFA/tariffs/"
cp "$CLUSTER_DIR/ALFA-BRVO.tariff" "$CLUSTER_DIR/BRVO/tariffs/"
# ALFA and CHRL hold different copies of their tariff: CHRL's has another
# price, so its hash differs from the one ALFA names in its receipts.
cat >"$CLUSTER_DIR/ALFA/tariffs/ALFA-CHRL.tariff" <<TARIFF
tariff-id = ALFA-CHRL-2026
serving = ALFA
requesting = CHRL
currency = GBP
price read.registers 2026-01-01 20000 0
TARIFF
sed 's/20000 0/25000 0/' "$CLUSTER_DIR/ALFA/tariffs/ALFA-CHRL.tariff" \
    >"$CLUSTER_DIR/CHRL/tariffs/ALFA-CHRL.tariff"

cluster_start_node ALFA || exit 1
cluster_start_node BRVO || exit 1
cluster_start_node CHRL || exit 1

now_ms() { $PY -c 'import time; print(int(time.time() * 1000))'; }
if [ "$(now_ms)" -ge $((CHANGE_MS - 1500)) ]; then
    tap_ok "nodes started in time for reads before the change" false
    tap_done
    exit 1
fi

# Before the change.
sdx_as BRVO read registers "$MPAN_B" >/dev/null
tap_is $? 0 "register read before the change"
sdx_as BRVO read profile "$MPAN_B" --from 2013-07-01 --to 2013-07-02 >/dev/null
tap_is $? 0 "profile read before the change"
# After it.
$PY -c 'import sys, time; time.sleep(max(0, int(sys.argv[1]) / 1000 - time.time() + 0.2))' \
    "$CHANGE_MS"
sdx_as BRVO read registers "$MPAN_B" >/dev/null
tap_is $? 0 "register read after the change"
sdx_as BRVO read profile "$MPAN_B" --from 2013-07-01 --to 2013-07-02 >/dev/null
tap_is $? 0 "profile read after the change"

# check_prices MPID: prints one line per receipt of the ALFA->BRVO chain:
# "side type price expected acknowledged". side is "before" or "after"
# the change by served_at, and expected is the price the tariff gives.
check_prices() {
    sdx_as "$1" export receipts --from 2026-01-01 --to 2100-01-01 --json \
        --counterparty "$2" 2>/dev/null | $PY -c '
import json, sys
change = int(sys.argv[1])
lines = {"read.registers": [(20000, 0), (35000, 0)],
         "read.profile": [(10000, 150), (12000, 200)]}
for r in json.load(sys.stdin):
    if r["serving"] != "ALFA" or r["requesting"] != "BRVO":
        continue
    after = r["served_at_ms"] >= change
    fixed, per_unit = lines[r["type"]][after]
    print("after" if after else "before", r["type"], r["price_micro"],
          fixed + per_unit * r["units"], r["acknowledged"])
' "$CHANGE_MS"
}
# The requester's acknowledgement reaches the serving node after the CLI
# has its reply, so wait (at most 5 s) until ALFA holds all four.
for _ in $(seq 50); do
    [ "$(check_prices ALFA BRVO | grep -c ' True$')" -eq 4 ] && break
    sleep 0.1
done
for mpid in ALFA BRVO; do
    other=$([ $mpid = ALFA ] && echo BRVO || echo ALFA)
    check_prices $mpid $other >"$CLUSTER_DIR/prices-$mpid.txt"
    tap_is "$(wc -l <"$CLUSTER_DIR/prices-$mpid.txt")" 4 \
        "$mpid's ledger has the four receipts"
    tap_is "$(grep -c '^before' "$CLUSTER_DIR/prices-$mpid.txt")" 2 \
        "$mpid: two served before the change"
    tap_is "$(grep -c '^after' "$CLUSTER_DIR/prices-$mpid.txt")" 2 \
        "$mpid: two served after it"
    tap_is "$(awk '$3 != $4' "$CLUSTER_DIR/prices-$mpid.txt")" "" \
        "$mpid: every receipt has the price of its side of the date"
    tap_is "$(grep -c ' True$' "$CLUSTER_DIR/prices-$mpid.txt")" 4 \
        "$mpid: every receipt is acknowledged"
done
tap_ok "the register price changed from 20000 to 35000" \
    bash -c "grep -q '^before read.registers 20000 ' '$CLUSTER_DIR/prices-ALFA.txt' &&
             grep -q '^after read.registers 35000 ' '$CLUSTER_DIR/prices-ALFA.txt'"

# A tariff copy that differs: disputed, not acknowledged.
sdx_as CHRL read registers "$MPAN_C" >"$CLUSTER_DIR/chrl.txt" 2>&1
tap_is $? 1 "a receipt under another copy of the tariff fails the read"
tap_ok "the requester reports it disputed" grep -q 'disputed' "$CLUSTER_DIR/chrl.txt"
tap_ok "the reason names the tariff" grep -q "tariff 'ALFA-CHRL-2026' with another hash" \
    "$CLUSTER_DIR/chrl.txt"
tap_ok "the error line gives the dispute reason" \
    grep -q "^sdx: receipt disputed and not acknowledged: .*another hash" \
    "$CLUSTER_DIR/chrl.txt"
# Recovery may fetch the receipt again and record it again, so the check
# is for at least one dispute.
disputes=$($PY -c 'import sqlite3, sys; db = sqlite3.connect("file:" + sys.argv[1] + "?mode=ro", uri=True); print(db.execute("select count(*) > 0 from disputes where serving = ? and requesting = ?", ("ALFA", "CHRL")).fetchone()[0], db.execute("select count(*) from receipts where serving = ?", ("ALFA",)).fetchone()[0])' \
    "$CLUSTER_DIR/CHRL/ledger.db")
tap_is "$disputes" "1 0" "CHRL records a dispute and stores no receipt"
sdx_as ALFA export receipts --from 2026-01-01 --to 2100-01-01 --csv \
    --counterparty CHRL >"$CLUSTER_DIR/alfa-chrl.csv" 2>/dev/null
tap_is "$(tail -n +2 "$CLUSTER_DIR/alfa-chrl.csv" | cut -d, -f7,14,21 | tr -d '\r')" \
    "read.registers,20000,false" \
    "ALFA's receipt is priced by its copy and never acknowledged"

# CHRL's reconcile of ALFA's statement shows the same dispute.
month=$(cut -d, -f16 "$CLUSTER_DIR/alfa-chrl.csv" | sed -n 2p | cut -c1-7)
sdx_as ALFA statement --counterparty CHRL --period "$month" --role issued \
    --out "$CLUSTER_DIR/alfa-chrl.stmt" >/dev/null 2>&1
tap_is $? 0 "ALFA writes its statement to CHRL"
sdx_as CHRL reconcile "$CLUSTER_DIR/alfa-chrl.stmt" >"$CLUSTER_DIR/rec.txt" \
    2>/dev/null
tap_is $? 1 "CHRL's ledger does not agree with it"
tap_ok "the receipt is missing on CHRL's side as a dispute" \
    grep -q 'missing on our side: .*held in this ledger as a dispute' \
    "$CLUSTER_DIR/rec.txt"
tap_ok "and not acknowledged" grep -qE '^  not acknowledged +1$' "$CLUSTER_DIR/rec.txt"

cluster_stop
trap - EXIT
tap_done
