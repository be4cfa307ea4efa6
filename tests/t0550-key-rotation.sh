#!/bin/bash
# Key lifecycle at the nodes, with real processes. A new CURVE key that
# overlaps the old one works alongside it, and a node moved to it keeps
# working. A new signing key overlaps the old one, the old one is retired,
# and sdx ledger verify still accepts the receipts it signed while valid.
# A revoked CURVE key is refused on the next message of a connection that
# is already open, within about a second. A signing key revoked from
# before its receipts makes sdx ledger verify fail.
set -u
cd "$(dirname "$0")/.."
. tests/lib/tap.sh
. tests/lib/cluster.sh
RAW=tests/lib/rawclient.py
HELD=tests/lib/heldclient.py
PY=/usr/bin/python3

cluster_init
cluster_directory_keys
cluster_feed_endpoint
cluster_supplier ALFA "Alfa Energy"
cluster_supplier BRVO "Bravo Power"
cluster_supplier CHRL "Charlie Supply"
cluster_tariff ALFA BRVO
cluster_node_feed ALFA
cluster_node_feed BRVO
cluster_sim ALFA "$SDX_DATA/MAC000002.csv" || exit 1
MPAN=$(cluster_mpan ALFA MAC000002)
printf 'mpxn,supplier,from,to\n%s,BRVO,2013-01-01T00:00:00Z,\n' "$MPAN" \
    >"$CLUSTER_DIR/registrations.csv"
cluster_start_directory_feed 300 || exit 1
DB="$CLUSTER_DIR/directory/directory.db"
STARTED=$(date -u -d '-2 seconds' +%Y-%m-%dT%H:%M:%SZ)

start_alfa() {
    cluster_start "ALFA-node$1" "$SDX_BIN/sdx-node" \
        --home "$CLUSTER_DIR/ALFA" || return 1
    ALFA_PID=$CLUSTER_LAST_PID
    ALFA_ENDPOINT=$(sed -n 's/.*endpoint=//p' "$CLUSTER_DIR/ALFA-node$1.out")
}
start_brvo() {
    cluster_start "BRVO-node$1" "$SDX_BIN/sdx-node" \
        --home "$CLUSTER_DIR/BRVO" || return 1
    BRVO_PID=$CLUSTER_LAST_PID
}
start_alfa 1 || exit 1
cluster_start ALFA-agent "$SDX_BIN/sdx-agent-sim" run \
    --db "$CLUSTER_DIR/ALFA/sim.db" \
    --connect "ipc://$CLUSTER_DIR/ALFA/run/agents" --name ALFA-sim || exit 1
start_brvo 1 || exit 1

# key_of FILE: prints the public key in a NAME.cert or NAME.sign file.
key_of() {
    sed -n 's/.*public-key = "\(.*\)"/\1/p' "$1"
}

# read_registers: reads the registers as BRVO and prints the receipt's
# status. A read just after ALFA started may find no agent yet, so it is
# tried for up to 3 s.
read_registers() {
    local out="$CLUSTER_DIR/read.out"
    for _ in $(seq 12); do
        if sdx_as BRVO read registers "$MPAN" --json >"$out" 2>/dev/null; then
            sed -n 's/.*"receipt_status":"\([a-z]*\)".*/\1/p' "$out"
            return 0
        fi
        sleep 0.25
    done
    echo "failed"
}

# probe_until CERT STATUS: probes ALFA's node with CERT for up to 3 s and
# prints the last status, stopping when it is STATUS.
probe_until() {
    local status=""
    for _ in $(seq 30); do
        status=$($PY "$RAW" "$ALFA_ENDPOINT" "$1" "$CLUSTER_DIR/ALFA/node.cert" \
            bad-mpan | cut -d'|' -f1)
        [ "$status" = "$2" ] && break
        sleep 0.1
    done
    echo "$status"
}

tap_is "$(read_registers)" acknowledged "a receipt under ALFA's first key"

# A second CURVE key for BRVO, valid from now alongside the first.
mkdir -p "$CLUSTER_DIR/BRVO-new"
"$SDX_BIN/sdx" keygen --dir "$CLUSTER_DIR/BRVO-new" >/dev/null
BRVO_OLD_CURVE=$(key_of "$CLUSTER_DIR/BRVO/node.cert")
BRVO_NEW_CURVE=$(key_of "$CLUSTER_DIR/BRVO-new/node.cert")
"$SDX_BIN/sdx-directory" add-key --db "$DB" --mpid BRVO \
    --curve-key "$BRVO_NEW_CURVE" --from now >/dev/null
tap_is $? 0 "add-key registers BRVO's second CURVE key"
tap_is "$(probe_until "$CLUSTER_DIR/BRVO-new/node.cert" invalid)" invalid \
    "ALFA's node admits the new key"
tap_is "$(probe_until "$CLUSTER_DIR/BRVO/node.cert" invalid)" invalid \
    "and still the old one"

# BRVO's node moves to the new CURVE key.
cluster_stop_one "$BRVO_PID"
cp "$CLUSTER_DIR/BRVO/node.cert" "$CLUSTER_DIR/BRVO/node-old.cert"
cp "$CLUSTER_DIR/BRVO/node.cert_secret" \
    "$CLUSTER_DIR/BRVO/node-old.cert_secret"
cp "$CLUSTER_DIR/BRVO-new/node.cert" "$CLUSTER_DIR/BRVO-new/node.cert_secret" \
    "$CLUSTER_DIR/BRVO/"
start_brvo 2 || exit 1
tap_is "$(read_registers)" acknowledged \
    "BRVO's node reads with its new CURVE key"
tap_is "$(probe_until "$CLUSTER_DIR/BRVO/node-old.cert" invalid)" invalid \
    "the old CURVE key still works while it is valid"

# The old CURVE key is retired two seconds ahead. ALFA's node admits it
# until then and refuses it from then, without another change.
END=$(date -u -d '+2 seconds' +%Y-%m-%dT%H:%M:%S.%3NZ)
"$SDX_BIN/sdx-directory" retire-key --db "$DB" --mpid BRVO \
    --key "$BRVO_OLD_CURVE" --at "$END" >/dev/null
tap_is $? 0 "retire-key ends BRVO's old CURVE key in two seconds"
sleep 0.5
tap_is "$($PY "$RAW" "$ALFA_ENDPOINT" "$CLUSTER_DIR/BRVO/node-old.cert" \
    "$CLUSTER_DIR/ALFA/node.cert" bad-mpan | cut -d'|' -f1)" invalid \
    "the old key is admitted until its end"
sleep 2
tap_is "$(probe_until "$CLUSTER_DIR/BRVO/node-old.cert" no-reply)" no-reply \
    "and refused once its end has passed"
tap_is "$(read_registers)" acknowledged "BRVO's node, on its new key, reads"

# A second signing key for ALFA, then ALFA's node moves to it and the old
# one is retired.
mkdir -p "$CLUSTER_DIR/ALFA-new"
"$SDX_BIN/sdx" keygen --dir "$CLUSTER_DIR/ALFA-new" >/dev/null
ALFA_OLD_SIGN=$(key_of "$CLUSTER_DIR/ALFA/node.sign")
ALFA_NEW_SIGN=$(key_of "$CLUSTER_DIR/ALFA-new/node.sign")
"$SDX_BIN/sdx-directory" add-key --db "$DB" --mpid ALFA \
    --sign-key "$ALFA_NEW_SIGN" --from now >/dev/null
tap_is $? 0 "add-key registers ALFA's second signing key"
tap_is "$(read_registers)" acknowledged \
    "a receipt under the old key in the overlap"
cluster_stop_one "$ALFA_PID"
cp "$CLUSTER_DIR/ALFA-new/node.sign" "$CLUSTER_DIR/ALFA-new/node.sign_secret" \
    "$CLUSTER_DIR/ALFA/"
start_alfa 2 || exit 1
tap_is "$(read_registers)" acknowledged "a receipt under the new key"
"$SDX_BIN/sdx-directory" retire-key --db "$DB" --mpid ALFA \
    --key "$ALFA_OLD_SIGN" --at now >/dev/null
tap_is $? 0 "retire-key ends ALFA's first signing key"
sleep 0.5
tap_is "$(read_registers)" acknowledged "a receipt after the retirement"

sdx_as BRVO ledger verify >"$CLUSTER_DIR/verify-brvo.out" 2>&1
tap_is $? 0 "BRVO's ledger verifies with the retired key's receipts"
tap_ok "all six receipts are verified" \
    grep -q "ledger intact: 1 chains, 6 receipts" "$CLUSTER_DIR/verify-brvo.out"
sdx_as ALFA ledger verify >"$CLUSTER_DIR/verify-alfa.out" 2>&1
tap_is $? 0 "ALFA's ledger verifies too"

# A statement holding receipts signed with the retired key reconciles:
# each receipt's signature is checked by the key valid at its served time.
sdx_as ALFA statement --counterparty BRVO --role issued \
    --from 2026-01-01 --to 2100-01-01 --out "$CLUSTER_DIR/rotated.stmt" \
    >/dev/null 2>&1
tap_is $? 0 "ALFA writes a statement after the rotation"
sdx_as BRVO reconcile "$CLUSTER_DIR/rotated.stmt" \
    >"$CLUSTER_DIR/reconcile-rotated.out" 2>&1
tap_is $? 0 "BRVO reconciles receipts signed with the retired key"
tap_ok "all six receipts match" \
    grep -qE '^ +matched +6$' "$CLUSTER_DIR/reconcile-rotated.out"
tap_ok "no signature is reported invalid" \
    grep -qE '^ +signature invalid +0$' "$CLUSTER_DIR/reconcile-rotated.out"

# CHRL's CURVE key is revoked while a connection with it is open.
CHRL_CURVE=$(key_of "$CLUSTER_DIR/CHRL/node.cert")
held=$($PY "$HELD" "$ALFA_ENDPOINT" "$CLUSTER_DIR/CHRL/node.cert" \
    "$CLUSTER_DIR/ALFA/node.cert" "$SDX_BIN/sdx-directory" revoke-key \
    --db "$DB" --mpid CHRL --key "$CHRL_CURVE" --reason "key file leaked")
tap_diag "held connection: $held"
tap_ok "the key is admitted before the revocation" \
    grep -q "before=invalid" <<<"$held"
tap_ok "its next messages on the open connection are dropped" \
    grep -q "after=no-reply" <<<"$held"
elapsed=$(sed -n 's/.*elapsed_ms=\([0-9-]*\).*/\1/p' <<<"$held")
tap_ok "within about a second of the revocation ($elapsed ms)" \
    test "${elapsed:-9999}" -ge 0 -a "${elapsed:-9999}" -le 1500
tap_ok "on the same connection, made once" grep -q "handshakes=1$" <<<"$held"
tap_is "$(probe_until "$CLUSTER_DIR/BRVO/node.cert" invalid)" invalid \
    "other suppliers' keys are still admitted"

# ALFA's first signing key is revoked from before its receipts: they are
# now refused.
"$SDX_BIN/sdx-directory" revoke-key --db "$DB" --mpid ALFA \
    --key "$ALFA_OLD_SIGN" --reason "found in a backup" \
    --at "$STARTED" >/dev/null
tap_is $? 0 "revoke-key revokes the retired key from the start"
sleep 0.5
sdx_as BRVO ledger verify >"$CLUSTER_DIR/verify-revoked.out" 2>&1
tap_is $? 1 "BRVO's ledger no longer verifies"
tap_ok "naming the revoked key at seq 1" \
    grep -q "seq 1: bad signature: .*revoked from" \
    "$CLUSTER_DIR/verify-revoked.out"
tap_done
