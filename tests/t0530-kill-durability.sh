#!/bin/bash
# Durability under SIGKILL: a stream of reads from BRVO to ALFA runs while
# a loop kills ALFA's node (serving) or BRVO's node (requesting) at random
# moments and starts it again. Once both run and recovery has caught up,
# the two ledgers must agree. Every receipt that reached BRVO is in ALFA's
# ledger and every acknowledgement ALFA stored is in BRVO's. No receipt
# is left unacknowledged, both ledgers verify and the two statements are
# equal.
#
# SDX_KILLS sets the number of kills (default 50; `make soak` sets more)
# and SDX_SEED the seed of the random choices.
set -u
cd "$(dirname "$0")/.."
. tests/lib/tap.sh
. tests/lib/cluster.sh

KILLS=${SDX_KILLS:-50}
SEED=${SDX_SEED:-$$}
STREAMS=3
RANDOM=$SEED
started=$(date +%s)

cluster_init
cluster_directory_keys
cluster_supplier ALFA "Alfa Energy"
cluster_supplier BRVO "Bravo Power"
cluster_tariff ALFA BRVO
cluster_sim ALFA "$SDX_DATA/MAC000002.csv" || exit 1
MPAN=$(cluster_mpan ALFA MAC000002)
printf 'mpxn,supplier,from,to\n%s,BRVO,2013-01-01T00:00:00Z,\n' "$MPAN" \
    >"$CLUSTER_DIR/registrations.csv"
for mpid in ALFA BRVO; do
    printf '%s\n' 'checkpoint-interval-seconds = 2' \
        'recovery-interval-seconds = 2' 'request-timeout-ms = 2000' \
        >>"$CLUSTER_DIR/$mpid/node.conf"
done
cluster_start_directory 60 || exit 1
cluster_start_node ALFA || exit 1
ALFA_PID=$NODE_PID
cluster_start_node BRVO || exit 1
BRVO_PID=$NODE_PID
tap_diag "seed $SEED, $KILLS kills, $STREAMS request streams"

sql() {
    sqlite3 -readonly -cmd '.timeout 5000' "$CLUSTER_DIR/$1/ledger.db" "$2"
}

# Runs a query (the argument, or standard input without one) over both
# ledgers, attached as a (ALFA) and b (BRVO).
sql_both() {
    sqlite3 -cmd '.timeout 5000' \
        -cmd "ATTACH '$CLUSTER_DIR/ALFA/ledger.db' AS a" \
        -cmd "ATTACH '$CLUSTER_DIR/BRVO/ledger.db' AS b" ':memory:' "$@"
}

# forget_pid PID: drops a killed process from the cleanup list, so that
# the cleanup never signals a process id the system has reused.
forget_pid() {
    local kept=() pid
    for pid in "${CLUSTER_PIDS[@]}"; do
        [ "$pid" = "$1" ] || kept+=("$pid")
    done
    CLUSTER_PIDS=("${kept[@]}")
}

# stream N: reads until the stop file exists. A failed read is retried
# with the same request id, as a client must. Each read that succeeds
# appends "id seq receipt_status attempt" to stream-N.txt.
stream() {
    local n=$1 id attempt code out="$CLUSTER_DIR/stream-$1.json"
    while [ ! -e "$CLUSTER_DIR/stop" ]; do
        id=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
        for attempt in 1 2 3 4 5; do
            sdx_as BRVO read registers "$MPAN" --request-id "$id" \
                --timeout-ms 3000 --json >"$out" 2>/dev/null
            code=$?
            if [ "$code" = 0 ]; then
                printf '%s %s %s %s\n' "$id" \
                    "$(grep -o '"seq":[0-9]*' "$out" | head -1 | cut -d: -f2)" \
                    "$(grep -o '"receipt_status":"[a-z]*"' "$out" | cut -d'"' -f4)" \
                    "$attempt" >>"$CLUSTER_DIR/stream-$n.txt"
                break
            fi
            [ -e "$CLUSTER_DIR/stop" ] && break
            sleep 0.2
        done
    done
}

STREAM_PIDS=()
for n in $(seq $STREAMS); do
    stream "$n" &
    CLUSTER_PIDS+=("$!")
    STREAM_PIDS+=("$!")
done

# The kill loop: a random pause of 0.2 to 1.0 s, then SIGKILL to one of
# the two nodes, and a restart that waits for its readiness line.
alfa_kills=0
brvo_kills=0
for i in $(seq "$KILLS"); do
    sleep "0.$((RANDOM % 9 + 2))"
    if [ $((RANDOM % 2)) = 0 ]; then
        victim=ALFA pid=$ALFA_PID alfa_kills=$((alfa_kills + 1))
    else
        victim=BRVO pid=$BRVO_PID brvo_kills=$((brvo_kills + 1))
    fi
    kill -KILL "$pid"
    wait "$pid" 2>/dev/null
    forget_pid "$pid"
    cluster_start "$victim-node-$i" "$SDX_BIN/sdx-node" \
        --home "$CLUSTER_DIR/$victim" || {
        tap_ok "$victim's node restarts after kill $i" false
        break
    }
    if [ "$victim" = ALFA ]; then
        ALFA_PID=$CLUSTER_LAST_PID
    else
        BRVO_PID=$CLUSTER_LAST_PID
    fi
done
kills=$((alfa_kills + brvo_kills))
touch "$CLUSTER_DIR/stop"
for pid in "${STREAM_PIDS[@]}"; do
    wait "$pid"
    forget_pid "$pid"
done
tap_diag "kills: $alfa_kills of ALFA's node, $brvo_kills of BRVO's node, in $(($(date +%s) - started)) s"
tap_is "$kills" "$KILLS" "every planned kill was done"
tap_ok "ALFA's node was killed" test "$alfa_kills" -gt 0
tap_ok "BRVO's node was killed" test "$brvo_kills" -gt 0

# Recovery: both nodes run. Wait until ALFA has no unacknowledged receipt
# and both ledgers have the same number of receipts and acknowledgements.
unacked_at_alfa() {
    sql ALFA "SELECT count(*) FROM receipts r LEFT JOIN acks a USING (serving, requesting, seq) WHERE r.serving = 'ALFA' AND a.seq IS NULL"
}
settled() {
    [ "$(unacked_at_alfa)" = 0 ] &&
        [ "$(sql ALFA 'SELECT count(*) FROM receipts')" = \
            "$(sql BRVO 'SELECT count(*) FROM receipts')" ] &&
        [ "$(sql ALFA 'SELECT count(*) FROM acks')" = \
            "$(sql BRVO 'SELECT count(*) FROM acks')" ]
}
recovery_started=$(date +%s)
for _ in $(seq 300); do
    settled && break
    sleep 0.2
done
tap_ok "recovery leaves no receipt unacknowledged" settled
tap_diag "recovery took $(($(date +%s) - recovery_started)) s"
cluster_stop_one "$ALFA_PID"
cluster_stop_one "$BRVO_PID"

receipts=$(sql ALFA "SELECT count(*) FROM receipts")
reads=$(cat "$CLUSTER_DIR"/stream-*.txt 2>/dev/null | wc -l)
retried=$(cat "$CLUSTER_DIR"/stream-*.txt 2>/dev/null | awk '$4 > 1' | wc -l)
recovered=$(cat "$CLUSTER_DIR"/BRVO-node*.log |
    sed -n 's/.*pending receipts filed serving=ALFA count=\([0-9]*\).*/\1/p' |
    awk '{n += $1} END {print n + 0}')
tap_diag "$receipts receipts; $reads reads succeeded, $retried of them after a retry; $recovered receipts filed through recovery"
tap_ok "the stream produced receipts" test "$receipts" -ge 10
tap_is "$(sql ALFA 'SELECT count(*) FROM receipts WHERE requesting != '"'BRVO'")" 0 \
    "ALFA's ledger has only the ALFA->BRVO chain"

# Every receipt that reached BRVO is in ALFA's ledger, byte for byte, and
# after recovery the reverse is true too.
tap_is "$(sql_both "SELECT count(*) FROM b.receipts br LEFT JOIN a.receipts ar USING (serving, requesting, seq) WHERE ar.body IS NULL OR ar.body != br.body OR ar.sig != br.sig")" 0 \
    "every receipt BRVO has is ALFA's, byte for byte"
tap_is "$(sql_both "SELECT count(*) FROM a.receipts ar LEFT JOIN b.receipts br USING (serving, requesting, seq) WHERE br.body IS NULL")" 0 \
    "every receipt ALFA issued reached BRVO"
# Every acknowledgement ALFA stored is in BRVO's ledger, byte for byte.
tap_is "$(sql_both "SELECT count(*) FROM a.acks aa LEFT JOIN b.acks ba USING (serving, requesting, seq) WHERE ba.body IS NULL OR ba.body != aa.body OR ba.sig != aa.sig")" 0 \
    "every acknowledgement ALFA has is BRVO's, byte for byte"
tap_is "$(sql_both "SELECT count(*) FROM b.acks ba LEFT JOIN a.acks aa USING (serving, requesting, seq) WHERE aa.body IS NULL")" 0 \
    "every acknowledgement BRVO made reached ALFA"
tap_is "$(unacked_at_alfa)" 0 "no receipt is unacknowledged on ALFA"
tap_is "$(sql BRVO 'SELECT count(*) FROM disputes')" 0 "BRVO recorded no dispute"

# Every read that succeeded is charged once, in both ledgers, at the seq
# the CLI reported.
cat "$CLUSTER_DIR"/stream-*.txt 2>/dev/null |
    awk 'BEGIN {print "CREATE TEMP TABLE reads (id TEXT, seq INTEGER);"}
         {printf "INSERT INTO reads VALUES (upper(\x27%s\x27), %d);\n", $1, $2}' \
        >"$CLUSTER_DIR/reads.sql"
cat >>"$CLUSTER_DIR/reads.sql" <<'SQL'
SELECT count(*) FROM reads r WHERE (SELECT count(*) FROM a.receipts ar
    JOIN b.receipts br USING (serving, requesting, seq)
    WHERE ar.seq = r.seq AND hex(ar.request_id) = r.id) != 1;
SQL
unmatched=$(sql_both <"$CLUSTER_DIR/reads.sql")
tap_is "$unmatched" 0 "every successful read is one receipt in both ledgers"
tap_is "$(sql ALFA "SELECT count(*) - count(DISTINCT request_id) FROM receipts")" 0 \
    "no request id is charged twice"
tap_is "$(sql ALFA "SELECT max(seq) FROM receipts")" "$receipts" \
    "ALFA's chain has no gap in seq"

tap_ok "ALFA's ledger verifies" bash -c \
    "'$SDX_BIN/sdx' --home '$CLUSTER_DIR/ALFA' ledger verify >'$CLUSTER_DIR/verify-alfa.txt'"
tap_ok "BRVO's ledger verifies" bash -c \
    "'$SDX_BIN/sdx' --home '$CLUSTER_DIR/BRVO' ledger verify >'$CLUSTER_DIR/verify-brvo.txt'"
tap_diag "ALFA: $(cat "$CLUSTER_DIR/verify-alfa.txt")"
tap_diag "BRVO: $(cat "$CLUSTER_DIR/verify-brvo.txt")"
tap_is "$(cat "$CLUSTER_DIR"/ALFA-node*.log | grep -c 'checkpoint conflict')" 0 \
    "no checkpoint conflict was reported"

from=$(date -u -d @"$started" +%F)
to=$(date -u -d tomorrow +%F)
sdx_as ALFA statement --counterparty BRVO --role issued --from "$from" \
    --to "$to" --json >"$CLUSTER_DIR/issued.json"
sdx_as BRVO statement --counterparty ALFA --role received --from "$from" \
    --to "$to" --json >"$CLUSTER_DIR/received.json"
tap_ok "the issued and received statements are equal" \
    cmp -s "$CLUSTER_DIR/issued.json" "$CLUSTER_DIR/received.json"
tap_ok "the statement counts every receipt" \
    grep -q "\"count\": $receipts" "$CLUSTER_DIR/issued.json"

tap_diag "whole test: $(($(date +%s) - started)) s"
tap_done
