#!/bin/bash
# Integration test of receipt recovery and chain checkpoints with real
# nodes. A raw client with BRVO's key takes receipts from ALFA and never
# stores or acknowledges them. To ALFA this is the same as BRVO's node
# stopping after ALFA sent the reply. BRVO's node must then fetch,
# store and acknowledge each such receipt: when a checkpoint shows it is
# behind, when a later receipt skips a seq, on start and periodically.
# Last, edits to either ledger behind the API are found through the
# stored checkpoints.
set -u
cd "$(dirname "$0")/.."
. tests/lib/tap.sh
. tests/lib/cluster.sh
RAW=tests/lib/rawclient.py

cluster_init
cluster_directory_keys
cluster_supplier ALFA "Alfa Energy"
cluster_supplier BRVO "Bravo Power"
cluster_tariff ALFA BRVO
cluster_sim ALFA "$SDX_DATA/MAC000002.csv" || exit 1
MPAN=$(cluster_mpan ALFA MAC000002)
printf 'mpxn,supplier,from,to\n%s,BRVO,2013-01-01T00:00:00Z,\n' "$MPAN" \
    >"$CLUSTER_DIR/registrations.csv"
cluster_start_directory 60 || exit 1
ALFA_CONF="$CLUSTER_DIR/ALFA/node.conf"
BRVO_CONF="$CLUSTER_DIR/BRVO/node.conf"
cp "$ALFA_CONF" "$CLUSTER_DIR/ALFA.conf.base"
cp "$BRVO_CONF" "$CLUSTER_DIR/BRVO.conf.base"

# set_intervals MPID CHECKPOINT_SECONDS RECOVERY_SECONDS
set_intervals() {
    cp "$CLUSTER_DIR/$1.conf.base" "$CLUSTER_DIR/$1/node.conf"
    printf 'checkpoint-interval-seconds = %s\nrecovery-interval-seconds = %s\n' \
        "$2" "$3" >>"$CLUSTER_DIR/$1/node.conf"
}

# wait_for SECONDS COMMAND...: polls COMMAND every 0.1 s until it exits 0.
wait_for() {
    local tries=$(($1 * 10))
    shift
    for _ in $(seq "$tries"); do
        "$@" && return 0
        sleep 0.1
    done
    return 1
}

# start_node MPID: starts MPID's node only; ALFA's agent keeps running
# and joins the new node within a second or two, which this waits for.
start_node() {
    local name="$1-node-$RANDOM"
    cluster_start "$name" "$SDX_BIN/sdx-node" --home "$CLUSTER_DIR/$1" ||
        exit 1
    eval "$1_PID=$CLUSTER_LAST_PID"
    if [ "$1" = ALFA ]; then
        wait_for 10 grep -q 'agent joined' "$CLUSTER_DIR/$name.log" ||
            echo "# ALFA's agent did not join the restarted node"
    fi
}

quiet() { "$@" >/dev/null; }

sql() {
    sqlite3 -cmd '.timeout 5000' "$CLUSTER_DIR/$1/ledger.db" "$2"
}

# Counts of the ALFA->BRVO chain: receipts in a ledger, acknowledgements
# in a ledger, and receipts ALFA has without an acknowledgement.
receipts_in() { sql "$1" "SELECT count(*) FROM receipts WHERE serving = 'ALFA' AND requesting = 'BRVO'"; }
acks_in() { sql "$1" "SELECT count(*) FROM acks WHERE serving = 'ALFA' AND requesting = 'BRVO'"; }
unacked_at_alfa() {
    sql ALFA "SELECT count(*) FROM receipts r LEFT JOIN acks a USING (serving, requesting, seq) WHERE r.serving = 'ALFA' AND r.requesting = 'BRVO' AND a.seq IS NULL"
}

# in_step N: BRVO has N receipts and acknowledgements, and ALFA has no
# receipt without an acknowledgement.
in_step() {
    [ "$(receipts_in BRVO)" = "$1" ] && [ "$(acks_in BRVO)" = "$1" ] &&
        [ "$(acks_in ALFA)" = "$1" ] && [ "$(unacked_at_alfa)" = 0 ]
}

raw_read() {
    /usr/bin/python3 $RAW "$ALFA_ENDPOINT" "$CLUSTER_DIR/BRVO/node.cert" \
        "$CLUSTER_DIR/ALFA/node.cert" registers "$MPAN" | cut -d'|' -f1
}

# Phase 1: BRVO has no chain with ALFA yet, so only ALFA's checkpoint
# shows it that receipts wait for it. BRVO's node starts after the raw
# client's reads.
set_intervals ALFA 1 3600
set_intervals BRVO 3600 3600
cluster_start_node ALFA || exit 1
ALFA_PID=$NODE_PID
ALFA_ENDPOINT=$(sed -n 's/.*endpoint=//p' "$CLUSTER_DIR/ALFA-node.out")

tap_is "$(raw_read)" ok "raw client with BRVO's key is served"
tap_is "$(raw_read)" ok "raw client is served again"
tap_is "$(unacked_at_alfa)" 2 "ALFA holds two unacknowledged receipts"
/usr/bin/python3 $RAW "$ALFA_ENDPOINT" "$CLUSTER_DIR/BRVO/node.cert" \
    "$CLUSTER_DIR/ALFA/node.cert" pending >"$CLUSTER_DIR/pending.txt"
tap_is "$(cat "$CLUSTER_DIR/pending.txt")" "ok|2|2|1,2|False" \
    "receipt.pending lists both, oldest first"
start_node BRVO
tap_ok "a checkpoint brings BRVO both receipts" wait_for 15 in_step 2
tap_ok "ALFA logged the listing" grep -q 'pending receipts listed requester=BRVO' \
    "$CLUSTER_DIR"/ALFA-node.log
tap_ok "BRVO stored ALFA's checkpoint" \
    test "$(sql BRVO "SELECT count(*) FROM checkpoints WHERE serving = 'ALFA'")" -ge 1
tap_ok "ALFA stored its own checkpoints" \
    test "$(sql ALFA "SELECT count(*) FROM checkpoints")" -ge 1

# Phase 2: no checkpoints for now; a receipt taken by the raw client
# leaves a gap that BRVO's next own read finds.
cluster_stop_one "$ALFA_PID"
set_intervals ALFA 3600 3600
start_node ALFA
tap_is "$(raw_read)" ok "raw client takes seq 3"
sdx_as BRVO read registers "$MPAN" >"$CLUSTER_DIR/gap.txt" 2>"$CLUSTER_DIR/gap.err"
tap_is $? 0 "BRVO's read after the gap succeeds"
tap_ok "its receipt seq 4 waits for seq 3" grep -q 'receipt seq 4.*pending' \
    "$CLUSTER_DIR/gap.txt"
tap_ok "the note says the missing receipts are fetched" \
    grep -q 'arrived before seq 3' "$CLUSTER_DIR/gap.txt"
tap_ok "BRVO fetches seq 3 and files seq 4" wait_for 10 in_step 4
tap_is "$(sql BRVO "SELECT count(*) FROM disputes")" 0 "the gap is not a dispute"

# Phase 3: receipts taken while BRVO's node is down are fetched when it
# starts, and later ones by the periodic request.
cluster_stop_one "$BRVO_PID"
tap_is "$(raw_read)" ok "raw client takes seq 5 while BRVO is down"
set_intervals BRVO 3600 1
start_node BRVO
tap_ok "BRVO fetches seq 5 on start" wait_for 10 in_step 5
sleep 1.2
tap_is "$(raw_read)" ok "raw client takes seq 6"
tap_ok "the periodic request fetches seq 6" wait_for 10 in_step 6

# A retry of a request is never charged twice, recovered or not.
sdx_as BRVO read registers "$MPAN" >"$CLUSTER_DIR/first.txt" 2>/dev/null
id=$(sed -n 's/^request id: //p' "$CLUSTER_DIR/first.txt")
sdx_as BRVO read registers "$MPAN" --request-id "$id" --json \
    >"$CLUSTER_DIR/retry.json" 2>/dev/null
tap_ok "a retry is a duplicate" grep -q '"receipt_status":"duplicate"' \
    "$CLUSTER_DIR/retry.json"
tap_ok "seven receipts, all acknowledged" wait_for 10 in_step 7

# Phase 4: a new checkpoint covers the whole chain, and both ledgers and
# both statements agree.
cluster_stop_one "$ALFA_PID"
set_intervals ALFA 1 3600
start_node ALFA
newest() {
    [ "$(sql "$1" "SELECT max(seq) FROM checkpoints WHERE serving = 'ALFA' AND acked_seq = 7")" = 7 ]
}
tap_ok "ALFA issues a checkpoint of seq 7" wait_for 10 newest ALFA
tap_ok "BRVO stores it" wait_for 10 newest BRVO
sdx_as ALFA ledger verify >"$CLUSTER_DIR/verify-alfa.txt"
tap_is $? 0 "ALFA's ledger verifies"
tap_ok "with its checkpoints" grep -Eq ' [1-9][0-9]* checkpoints verified' \
    "$CLUSTER_DIR/verify-alfa.txt"
sdx_as BRVO ledger verify >"$CLUSTER_DIR/verify-brvo.txt"
tap_is $? 0 "BRVO's ledger verifies"
tap_ok "with its checkpoints" grep -Eq ' [1-9][0-9]* checkpoints verified' \
    "$CLUSTER_DIR/verify-brvo.txt"
today=$(date -u +%F)
tomorrow=$(date -u -d tomorrow +%F)
sdx_as ALFA statement --counterparty BRVO --role issued --from "$today" \
    --to "$tomorrow" --json >"$CLUSTER_DIR/issued.json"
sdx_as BRVO statement --counterparty ALFA --role received --from "$today" \
    --to "$tomorrow" --json >"$CLUSTER_DIR/received.json"
tap_ok "the issued and received statements are equal" \
    cmp -s "$CLUSTER_DIR/issued.json" "$CLUSTER_DIR/received.json"
tap_ok "the statement has seven receipts" \
    grep -q '"count": 7' "$CLUSTER_DIR/issued.json"

# Phase 5: rewrites behind the API. Each case edits a copy of a stopped
# node's ledger with the triggers dropped, and sdx ledger verify must
# name the checkpoint.
cluster_stop_one "$ALFA_PID"
cluster_stop_one "$BRVO_PID"
cp -r "$CLUSTER_DIR/BRVO" "$CLUSTER_DIR/BRVO.saved"
cp -r "$CLUSTER_DIR/ALFA" "$CLUSTER_DIR/ALFA.saved"
untrigger="DROP TRIGGER receipts_no_delete; DROP TRIGGER acks_no_delete;"

# BRVO drops its newest two receipts and their acknowledgements, as if
# they had never reached it: its chain alone still looks sound.
sql BRVO "$untrigger DELETE FROM acks WHERE seq >= 6; DELETE FROM receipts WHERE seq >= 6;"
sdx_as BRVO ledger verify >/dev/null 2>"$CLUSTER_DIR/cut-brvo.err"
tap_is $? 1 "BRVO's cut chain fails verify"
tap_ok "the error names a checkpoint and seq 6" \
    grep -Eq 'seq 6 \(acknowledgement\): checkpoint id [0-9]+ \(issued ' \
    "$CLUSTER_DIR/cut-brvo.err"

# ALFA drops its newest receipt and its acknowledgement.
sql ALFA "$untrigger DELETE FROM acks WHERE seq = 7; DELETE FROM receipts WHERE seq = 7;"
sdx_as ALFA ledger verify >/dev/null 2>"$CLUSTER_DIR/cut-alfa.err"
tap_is $? 1 "ALFA's cut chain fails verify"
tap_ok "the error names a checkpoint and seq 7" \
    grep -Eq 'chain ALFA->BRVO seq 7: checkpoint id [0-9]+ .*cut short' \
    "$CLUSTER_DIR/cut-alfa.err"

# ALFA rewrites receipt 7 with a new price, signed with its own key. Only
# the checkpoints show it: ALFA's own copy in ALFA's ledger, and BRVO,
# which rejects the next checkpoint that ALFA's node sends.
rm -rf "$CLUSTER_DIR/ALFA" "$CLUSTER_DIR/BRVO"
cp -r "$CLUSTER_DIR/ALFA.saved" "$CLUSTER_DIR/ALFA"
cp -r "$CLUSTER_DIR/BRVO.saved" "$CLUSTER_DIR/BRVO"
tap_ok "the saved ledgers verify again" quiet sdx_as BRVO ledger verify
/usr/bin/python3 - "$CLUSTER_DIR/ALFA" <<'PYTHON'
import hashlib, re, sqlite3, sys
import msgpack
from nacl.signing import SigningKey
home = sys.argv[1]
seed = re.search(r'secret-seed\s*=\s*"([0-9a-f]{64})"',
                 open(home + "/node.sign_secret").read()).group(1)
key = SigningKey(bytes.fromhex(seed))
db = sqlite3.connect(home + "/ledger.db")
db.executescript("DROP TRIGGER receipts_no_update; DROP TRIGGER acks_no_delete;")
(body,) = db.execute("SELECT body FROM receipts WHERE seq = 7").fetchone()
fields = msgpack.unpackb(body)
fields[10] = fields[10] + 1  # price
new = msgpack.packb(fields, use_bin_type=True)
sig = key.sign(b"sdx/v1/receipt\0" + new).signature
db.execute("DELETE FROM acks WHERE seq = 7")
db.execute("UPDATE receipts SET body = ?, sig = ?, hash = ?, price = ?"
           " WHERE seq = 7", (new, sig, hashlib.blake2b(new, digest_size=32)
                              .digest(), fields[10]))
db.commit()
PYTHON
tap_is $? 0 "receipt 7 rewritten and signed with ALFA's key"
sdx_as ALFA ledger verify >/dev/null 2>"$CLUSTER_DIR/rewrite.err"
tap_is $? 1 "ALFA's rewritten chain fails verify"
tap_ok "the error names the checkpoint and the rewritten seq" \
    grep -Eq 'chain ALFA->BRVO seq 7: checkpoint id [0-9]+ .*rewritten' \
    "$CLUSTER_DIR/rewrite.err"
# The rewritten ALFA issues a checkpoint of its new seq 7; BRVO keeps it
# as evidence and replies with a conflict.
sql ALFA "DROP TRIGGER checkpoints_no_delete; DELETE FROM checkpoints;"
set_intervals ALFA 1 3600
start_node ALFA
start_node BRVO
tap_ok "BRVO reports the conflict to ALFA" wait_for 10 \
    grep -q 'counterparty reports a checkpoint conflict requesting=BRVO' \
    "$CLUSTER_DIR"/ALFA-node-*.log
tap_ok "BRVO logs the conflict" grep -q 'checkpoint conflicts with the ledger sender=ALFA' \
    "$CLUSTER_DIR"/BRVO-node-*.log
sdx_as BRVO ledger verify >/dev/null 2>"$CLUSTER_DIR/conflict.err"
tap_is $? 1 "BRVO's ledger no longer agrees with what it stored"
tap_ok "the error names ALFA's conflicting checkpoint" \
    grep -Eq 'chain ALFA->BRVO seq 7: checkpoint id [0-9]+ .*rewritten' \
    "$CLUSTER_DIR/conflict.err"

tap_done
