#!/bin/bash
# Integration test of the whole exchange: a directory, three nodes and two
# sim agents as real processes on 127.0.0.1, exercising permission,
# clipping, retries, hostile input and failure of the directory and agent.
set -u
cd "$(dirname "$0")/.."
. tests/lib/tap.sh
. tests/lib/cluster.sh
RAW=tests/lib/rawclient.py

cluster_init
cluster_directory_keys
cluster_supplier ALFA "Alfa Energy"
cluster_supplier BRVO "Bravo Power"
cluster_supplier CHRL "Charlie Supply"
cluster_tariff ALFA BRVO
cluster_tariff ALFA CHRL
cluster_sim ALFA "$SDX_DATA/MAC000002.csv" "$SDX_DATA/MAC000016.csv" ||
    exit 1
MPAN=$(cluster_mpan ALFA MAC000002)
MPAN_SHORT=$(cluster_mpan ALFA MAC000016)
# MAC000002: installed by ALFA, supplied by CHRL, then BRVO from the
# settlement day 2013-07-15 (local midnight is 23:00 UTC in summer).
printf 'mpxn,supplier,from,to\n%s,CHRL,2013-01-01T00:00:00Z,\n%s,BRVO,2013-01-01T00:00:00Z,\n' \
    "$MPAN" "$MPAN_SHORT" >"$CLUSTER_DIR/registrations.csv"
cluster_start_directory 2 || exit 1
"$SDX_BIN/sdx-directory" change-supplier --db \
    "$CLUSTER_DIR/directory/directory.db" --mpxn "$MPAN" --to BRVO \
    --at 2013-07-14T23:00:00Z >/dev/null
cluster_start_node ALFA || exit 1
ALFA_AGENT=$AGENT_PID
cluster_start_node BRVO || exit 1
cluster_start_node CHRL || exit 1
ALFA_ENDPOINT=$(sed -n 's/.*endpoint=//p' "$CLUSTER_DIR/ALFA-node.out")
BRVO_CERT="$CLUSTER_DIR/BRVO/node.cert"
ALFA_CERT="$CLUSTER_DIR/ALFA/node.cert"

quiet() { "$@" >/dev/null; }

receipt_count() {
    sdx_as "$1" receipts --csv | tail -n +2 | wc -l
}

# The registered supplier reads.
sdx_as BRVO read registers "$MPAN" >"$CLUSTER_DIR/reg.txt"
tap_is $? 0 "registered supplier reads registers"
tap_ok "the receipt is acknowledged" grep -q 'acknowledged' "$CLUSTER_DIR/reg.txt"

# A ranged read from before the requester's start is clipped.
sdx_as BRVO read profile "$MPAN" --from 2013-07-10 --to 2013-07-16 \
    --csv >"$CLUSTER_DIR/clip.csv" 2>"$CLUSTER_DIR/clip.err"
tap_is $? 0 "ranged read across the change is served"
first=$(sed -n 2p "$CLUSTER_DIR/clip.csv" | cut -d, -f1)
tap_is "$first" "2013-07-14T23:00:00Z" "served data starts at BRVO's registration"
tap_is "$(tail -n +2 "$CLUSTER_DIR/clip.csv" | wc -l)" 50 \
    "one settlement day and one hour served"
tap_ok "the reply says it was clipped" grep -q 'clipped from the requested' \
    "$CLUSTER_DIR/clip.err"
request_id=$(sed -n 's/^request id: //p' "$CLUSTER_DIR/clip.err")

# A retry with the same id returns the same receipt and charges nothing.
before_alfa=$(receipt_count ALFA)
before_brvo=$(receipt_count BRVO)
sdx_as BRVO read profile "$MPAN" --from 2013-07-10 --to 2013-07-16 \
    --request-id "$request_id" --json >"$CLUSTER_DIR/retry.json"
tap_is $? 0 "retry succeeds"
tap_ok "retry is reported as a duplicate" grep -q '"receipt_status":"duplicate"' \
    "$CLUSTER_DIR/retry.json"
tap_is "$(receipt_count ALFA)" "$before_alfa" "server ledger has no new receipt"
tap_is "$(receipt_count BRVO)" "$before_brvo" "requester ledger has no new receipt"

# A long profile (90 days of UTC time, 4320 periods) fits in one reply and
# is received and acknowledged.
sdx_as BRVO read profile "$MPAN" --from 2013-08-01 --to 2013-10-30 --csv \
    >"$CLUSTER_DIR/long.csv" 2>"$CLUSTER_DIR/long.err"
tap_is $? 0 "90-day profile read succeeds"
tap_is "$(tail -n +2 "$CLUSTER_DIR/long.csv" | wc -l)" 4320 \
    "every half hour of 90 days served"
tap_is "$(grep -c ',2013-10-27,' "$CLUSTER_DIR/long.csv")" 50 \
    "the clock-change day inside it has 50 periods"
tap_ok "90-day receipt acknowledged" grep -q 'acknowledged' "$CLUSTER_DIR/long.err"

# The same id for a different request is rejected, not answered with the
# first request's data.
before_alfa=$(receipt_count ALFA)
sdx_as BRVO read profile "$MPAN" --from 2013-07-20 --to 2013-07-22 \
    --request-id "$request_id" >/dev/null 2>"$CLUSTER_DIR/reuse.err"
tap_is $? 4 "a reused id for another range is rejected (exit 4)"
tap_ok "the error says the id was reused" grep -q 'id_reused' \
    "$CLUSTER_DIR/reuse.err"
tap_is "$(receipt_count ALFA)" "$before_alfa" "the rejected reuse is not charged"

# The previous supplier after the change is denied, with the reason.
sdx_as CHRL read registers "$MPAN" 2>"$CLUSTER_DIR/prev.err"
tap_is $? 3 "previous supplier is denied (exit 3)"
tap_ok "denial says not_registered" grep -q 'not_registered' "$CLUSTER_DIR/prev.err"
sdx_as CHRL read profile "$MPAN" --from 2013-03-01 --to 2013-03-02 \
    2>/dev/null
tap_is $? 3 "previous supplier is denied even for its own old period"
tap_ok "the denial is in the serving node's audit log" \
    grep -q '"requester":"CHRL".*"decision":"deny","code":"not_registered"' \
    "$CLUSTER_DIR/ALFA/audit.log"
tap_ok "the allowed read is in the audit log" \
    grep -q '"requester":"BRVO".*"decision":"allow"' "$CLUSTER_DIR/ALFA/audit.log"

# A known supplier that is not the registered one is denied.
sdx_as CHRL read registers "$MPAN_SHORT" 2>/dev/null
tap_is $? 3 "a supplier that never held the meter is denied"

# Bad input from the CLI is a usage error naming the value.
sdx_as BRVO read registers 2499999999990 2>"$CLUSTER_DIR/bad.err"
tap_is $? 2 "invalid MPAN is a usage error"
tap_ok "error names the MPAN" grep -q '2499999999990' "$CLUSTER_DIR/bad.err"
sdx_as BRVO read profile "$MPAN" --from 2013-07-16 --to 2013-07-10 2>/dev/null
tap_is $? 2 "reversed range is a usage error"

# Hostile frames over CURVE, sent with BRVO's real key.
garbage=$(/usr/bin/python3 $RAW "$ALFA_ENDPOINT" "$BRVO_CERT" "$ALFA_CERT" garbage)
tap_is "$(echo "$garbage" | grep -c '^invalid|')" 4 "undecodable frames get invalid"
hostile=$(/usr/bin/python3 $RAW "$ALFA_ENDPOINT" "$BRVO_CERT" "$ALFA_CERT" hostile "$MPAN")
tap_is "$(echo "$hostile" | sed -n 4p | cut -d'|' -f1)" unsupported \
    "unknown request type is unsupported"
tap_is "$(echo "$hostile" | grep -c '^invalid|')" 3 "wrong header fields get invalid"
missing=$(/usr/bin/python3 $RAW "$ALFA_ENDPOINT" "$BRVO_CERT" "$ALFA_CERT" missing-mpxn "$MPAN")
tap_is "$missing" "invalid||missing key 'mpxn'" "a missing key is named"
stale=$(/usr/bin/python3 $RAW "$ALFA_ENDPOINT" "$BRVO_CERT" "$ALFA_CERT" stale "$MPAN")
tap_is "$(echo "$stale" | cut -d'|' -f1)" stale "a 10-minute-old ts is stale"
badmpan=$(/usr/bin/python3 $RAW "$ALFA_ENDPOINT" "$BRVO_CERT" "$ALFA_CERT" bad-mpan)
tap_ok "a bad check digit is invalid and named" \
    bash -c "echo '$badmpan' | grep -q '^invalid|.*2499999999990'"
sdx_as BRVO read registers "$MPAN" >/dev/null
tap_is $? 0 "the node still serves after hostile input"

# An unknown CURVE key is not admitted.
mkdir "$CLUSTER_DIR/stranger"
"$SDX_BIN/sdx" keygen --dir "$CLUSTER_DIR/stranger" >/dev/null
stranger=$(/usr/bin/python3 $RAW "$ALFA_ENDPOINT" \
    "$CLUSTER_DIR/stranger/node.cert" "$ALFA_CERT" registers "$MPAN")
tap_is "$stranger" "no-reply" "an unknown CURVE key gets no reply"

# The agent gone: unavailable, and no receipt.
before_alfa=$(receipt_count ALFA)
cluster_stop_one "$ALFA_AGENT"
sleep 3.5
sdx_as BRVO read registers "$MPAN" 2>"$CLUSTER_DIR/agent.err"
tap_is $? 1 "agent gone is a failure (exit 1)"
tap_ok "the error says no agent" grep -q 'no_agent' "$CLUSTER_DIR/agent.err"
tap_is "$(receipt_count ALFA)" "$before_alfa" "a failed request has no receipt"
cluster_start ALFA-agent2 "$SDX_BIN/sdx-agent-sim" run \
    --db "$CLUSTER_DIR/ALFA/sim.db" --connect "ipc://$CLUSTER_DIR/ALFA/run/agents"
sdx_as BRVO read registers "$MPAN" >/dev/null
tap_is $? 0 "service resumes when an agent returns"

# The serving node keeps the signed directory answer behind each receipt.
sdx_as ALFA evidence --counterparty BRVO --seq 2 >"$CLUSTER_DIR/evidence.txt"
tap_is $? 0 "evidence of receipt 2 verifies"
tap_ok "evidence signature is valid" grep -q 'directory signature: valid' \
    "$CLUSTER_DIR/evidence.txt"
tap_ok "evidence shows the registration that allowed it" \
    grep -q 'registered BRVO from 2013-07-14T23:00:00Z' "$CLUSTER_DIR/evidence.txt"
tap_ok "evidence repeats the decision" grep -q 'decision at the served time: allowed' \
    "$CLUSTER_DIR/evidence.txt"
sdx_as ALFA evidence --counterparty BRVO --seq 999 2>/dev/null
tap_is $? 4 "evidence of a missing receipt is not found (exit 4)"

tap_ok "ALFA's ledger verifies" quiet sdx_as ALFA ledger verify
tap_ok "BRVO's ledger verifies" quiet sdx_as BRVO ledger verify

# The directory down: cached answers expire (TTL 2 s), then both sides
# deny with unavailable.
cluster_stop_one "$DIRECTORY_PID"
sleep 2.5
direct=$(/usr/bin/python3 $RAW "$ALFA_ENDPOINT" "$BRVO_CERT" "$ALFA_CERT" registers "$MPAN")
tap_is "$(echo "$direct" | cut -d'|' -f1-2)" "unavailable|directory_unavailable" \
    "serving node denies when the directory is down"
sdx_as BRVO read registers "$MPAN" 2>"$CLUSTER_DIR/dirdown.err"
tap_is $? 1 "requesting node fails when the directory is down"
tap_ok "the error says the directory is unavailable" \
    grep -q 'directory' "$CLUSTER_DIR/dirdown.err"
cluster_start directory2 "$SDX_BIN/sdx-directory" serve \
    --db "$CLUSTER_DIR/directory/directory.db" \
    --cert "$CLUSTER_DIR/directory/directory.cert" \
    --signing-key "$CLUSTER_DIR/directory/directory.sign_secret" \
    --bind "$DIRECTORY_ENDPOINT" --ttl 2
sdx_as BRVO read registers "$MPAN" >/dev/null 2>&1
tap_is $? 0 "service resumes by itself when the directory returns"

tap_done
