#!/bin/bash
# The directory's change feed at the nodes, with real processes. Answers
# may be cached for 300 s, so only the feed explains each result. A change
# of supplier takes effect at the serving node within a second. A node
# started after a change decides by it at once. Changes made while the
# directory was down are caught up with dir.changes when it returns. A
# change dated a few seconds ahead flips the decision at its instant, and
# a withdrawn change restores the previous supplier and is in the audit
# trail.
set -u
cd "$(dirname "$0")/.."
. tests/lib/tap.sh
. tests/lib/cluster.sh

cluster_init
cluster_directory_keys
cluster_feed_endpoint
cluster_supplier ALFA "Alfa Energy"
cluster_supplier BRVO "Bravo Power"
cluster_supplier CHRL "Charlie Supply"
cluster_tariff ALFA BRVO
cluster_tariff ALFA CHRL
for mpid in ALFA BRVO CHRL; do
    cluster_node_feed "$mpid"
done
cluster_sim ALFA "$SDX_DATA/MAC000002.csv" || exit 1
MPAN=$(cluster_mpan ALFA MAC000002)
printf 'mpxn,supplier,from,to\n%s,BRVO,2013-01-01T00:00:00Z,\n' "$MPAN" \
    >"$CLUSTER_DIR/registrations.csv"
cluster_start_directory_feed 300 || exit 1
DB="$CLUSTER_DIR/directory/directory.db"
tap_ok "the directory's readiness line names the feed" \
    grep -q " feed=$DIRECTORY_FEED_ENDPOINT\$" "$CLUSTER_DIR/directory.out"

# ALFA, the installing supplier, logs at debug level so that the test can
# see each change it applies. Each start gets its own log.
ALFA_STARTS=0
start_alfa() {
    ALFA_STARTS=$((ALFA_STARTS + 1))
    ALFA_LOG="$CLUSTER_DIR/ALFA-node$ALFA_STARTS.log"
    cluster_start "ALFA-node$ALFA_STARTS" "$SDX_BIN/sdx-node" \
        --home "$CLUSTER_DIR/ALFA" -v || return 1
    ALFA_PID=$CLUSTER_LAST_PID
}
start_alfa || exit 1
cluster_start ALFA-agent "$SDX_BIN/sdx-agent-sim" run \
    --db "$CLUSTER_DIR/ALFA/sim.db" \
    --connect "ipc://$CLUSTER_DIR/ALFA/run/agents" --name ALFA-sim || exit 1
cluster_start_node BRVO || exit 1
cluster_start_node CHRL || exit 1

# read_as MPID: prints the exit status of a read of the registers by MPID:
# 0 served, 3 denied. A read that found no agent yet, just after ALFA
# started, is tried again for up to 3 s.
read_as() {
    local status
    for _ in $(seq 12); do
        sdx_as "$1" read registers "$MPAN" >/dev/null \
            2>"$CLUSTER_DIR/read-$1.err"
        status=$?
        grep -q no_agent "$CLUSTER_DIR/read-$1.err" || break
        sleep 0.25
    done
    echo "$status"
}

# change_supplier MPID TIME: records a change of supplier of MPAN and
# prints its number.
change_supplier() {
    "$SDX_BIN/sdx-directory" change-supplier --db "$DB" --mpxn "$MPAN" \
        --to "$1" --at "$2" | sed -n 's/.*(change \([0-9]*\))$/\1/p'
}

# now_iso: prints the time now in ISO 8601 with milliseconds, so that two
# changes in the same second get different times.
now_iso() { date -u +%Y-%m-%dT%H:%M:%S.%3NZ; }

# wait_for_log FILE TEXT: waits up to 5 s for TEXT to appear in FILE.
wait_for_log() {
    for _ in $(seq 50); do
        grep -q "$2" "$1" && return 0
        sleep 0.1
    done
    return 1
}

tap_ok "ALFA synchronises with the feed" \
    wait_for_log "$ALFA_LOG" "directory feed synchronised"

# A change of supplier at a node within one second.
tap_is "$(read_as BRVO)" 0 "BRVO, the registered supplier, is served"
tap_is "$(read_as CHRL)" 3 "CHRL is denied before the change"
change=$(change_supplier CHRL "$(now_iso)")
tap_ok "change-supplier to CHRL gives a change number" test -n "$change"
sleep 1
tap_is "$(read_as CHRL)" 0 "CHRL is served one second after the change"
tap_is "$(read_as BRVO)" 3 "BRVO is denied one second after the change"
tap_ok "the denial says not_registered" \
    grep -q not_registered "$CLUSTER_DIR/read-BRVO.err"
tap_ok "ALFA applied the change from the feed" \
    grep -q "directory change applied change=$change kind=change_of_supplier mpxn=$MPAN" \
    "$ALFA_LOG"

# A node that was down during a change decides by it when it starts.
cluster_stop_one "$ALFA_PID"
change=$(change_supplier BRVO "$(now_iso)")
tap_ok "change-supplier to BRVO while ALFA is down" test -n "$change"
start_alfa || exit 1
tap_is "$(read_as CHRL)" 3 "CHRL is denied at once after ALFA starts"
tap_is "$(read_as BRVO)" 0 "BRVO is served at once after ALFA starts"
tap_ok "the new ALFA synchronises with the feed" \
    wait_for_log "$ALFA_LOG" "directory feed synchronised"

# Changes made while the directory is down are caught up with dir.changes
# when it returns. ALFA's cached answer still says BRVO.
tap_is "$(read_as BRVO)" 0 "BRVO is served before the directory stops"
cluster_stop_one "$DIRECTORY_PID"
change=$(change_supplier CHRL "$(now_iso)")
tap_ok "change-supplier to CHRL while the directory is down" test -n "$change"
cluster_start_directory_feed 300 || exit 1
tap_ok "ALFA catches up with dir.changes" \
    wait_for_log "$ALFA_LOG" "caught up with dir.changes from=$((change - 1)) to=$change"
tap_is "$(read_as CHRL)" 0 "CHRL is served after the catch-up"
tap_is "$(read_as BRVO)" 3 "BRVO is denied after the catch-up"

# A change dated 4 s ahead flips the decision at that instant, with no
# restart and no new directory answer.
flip=$(($(date +%s) + 4))
future=$(change_supplier BRVO "$(date -u -d "@$flip" +%Y-%m-%dT%H:%M:%SZ)")
tap_ok "change-supplier to BRVO 4 s ahead" test -n "$future"
sleep 1
tap_is "$(read_as CHRL)" 0 "CHRL is still served before the instant"
tap_is "$(read_as BRVO)" 3 "BRVO is still denied before the instant"
tap_ok "the instant had not come during those reads" \
    test "$(date +%s)" -lt "$flip"
while [ "$(date +%s%N)" -lt "$((flip * 1000000000 + 300000000))" ]; do
    sleep 0.05
done
tap_is "$(read_as BRVO)" 0 "BRVO is served just after the instant"
tap_is "$(read_as CHRL)" 3 "CHRL is denied just after the instant"
tap_ok "ALFA kept running" kill -0 "$ALFA_PID"

# Withdrawing that change restores CHRL, and the audit trail shows both.
"$SDX_BIN/sdx-directory" withdraw-change --db "$DB" --change "$future" \
    --reason "entered for the wrong meter" >"$CLUSTER_DIR/withdraw.out"
tap_is $? 0 "withdraw-change succeeds"
tap_ok "it names the restored supplier" \
    grep -q "registered to CHRL again" "$CLUSTER_DIR/withdraw.out"
sleep 1
tap_is "$(read_as CHRL)" 0 "CHRL is served again after the withdrawal"
tap_is "$(read_as BRVO)" 3 "BRVO is denied again after the withdrawal"
"$SDX_BIN/sdx-directory" changes --db "$DB" --mpxn "$MPAN" \
    >"$CLUSTER_DIR/changes.out"
tap_is $? 0 "changes lists the supply point's changes"
tap_ok "the withdrawn change is marked with the reason" \
    grep -q "^ *$future .*\[withdrawn by change $((future + 1)): entered for the wrong meter\]" \
    "$CLUSTER_DIR/changes.out"
tap_ok "the withdrawal is listed" \
    grep -q "^ *$((future + 1)) .* withdrawal .*withdrawal of change $future" \
    "$CLUSTER_DIR/changes.out"
tap_is "$(grep -c change_of_supplier "$CLUSTER_DIR/changes.out")" 4 \
    "all four changes of supplier are listed"

tap_done
