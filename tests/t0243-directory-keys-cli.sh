#!/bin/bash
# The key commands of sdx-directory (add-key, retire-key, revoke-key and
# keys) with their checks, error messages and change log entries. Also
# the keys that a suppliers.csv row gives and replaces, and the upgrade of
# a schema version 2 database, whose suppliers get their keys.
set -u
cd "$(dirname "$0")/.."
. tests/lib/tap.sh
BIN=build/bin
PY=/usr/bin/python3
DIR=$(mktemp -d "${TMPDIR:-/tmp}/sdx-t0243.XXXXXX")
trap 'rm -rf "$DIR"' EXIT
DB="$DIR/directory.db"

# keys_of NAME: makes a key pair and prints "CURVE SIGN".
keys_of() {
    mkdir -p "$DIR/$1"
    "$BIN/sdx" keygen --dir "$DIR/$1" >"$DIR/$1/keys.txt"
    printf '%s %s\n' "$(sed -n 's/^curve_key=//p' "$DIR/$1/keys.txt")" \
        "$(sed -n 's/^sign_key=//p' "$DIR/$1/keys.txt")"
}
read -r ALFA_CURVE ALFA_SIGN <<<"$(keys_of alfa)"
read -r BRVO_CURVE BRVO_SIGN <<<"$(keys_of brvo)"
read -r NEW_CURVE NEW_SIGN <<<"$(keys_of alfa-new)"
read -r CSV_CURVE CSV_SIGN <<<"$(keys_of brvo-csv)"

# suppliers_csv BRVO_CURVE BRVO_SIGN: writes suppliers.csv.
suppliers_csv() {
    {
        echo "mpid,name,endpoint,curve_key,sign_key"
        printf 'ALFA,Alfa,tcp://127.0.0.1:7001,"%s",%s\n' \
            "${ALFA_CURVE//\"/\"\"}" "$ALFA_SIGN"
        printf 'BRVO,Bravo,tcp://127.0.0.1:7002,"%s",%s\n' \
            "${1//\"/\"\"}" "$2"
    } >"$DIR/suppliers.csv"
}
suppliers_csv "$BRVO_CURVE" "$BRVO_SIGN"
"$BIN/sdx-directory" init --db "$DB" >/dev/null
"$BIN/sdx-directory" load --db "$DB" --suppliers "$DIR/suppliers.csv" \
    >/dev/null

# listed FILE PATTERN KEY: true when a line of FILE matches the regular
# expression PATTERN and contains KEY, which is matched as plain text
# because Z85 keys contain characters that are special in a pattern.
listed() {
    grep "$2" "$1" | grep -qF -- " $3"
}

# run NAME ARGS...: runs sdx-directory with ARGS; out in NAME.out/.err.
run() {
    local name=$1
    shift
    "$BIN/sdx-directory" "$@" >"$DIR/$name.out" 2>"$DIR/$name.err"
}

run keys keys --db "$DB"
tap_is $? 0 "keys lists every key"
tap_is "$(tail -n +2 "$DIR/keys.out" | wc -l)" 4 "two keys a supplier"
tap_ok "a CSV key is valid from the start" \
    grep -q "^ALFA  curve  active   valid    1970-01-01T00:00:00Z      -  " \
    "$DIR/keys.out"
tap_ok "a signing key is listed in hex" \
    listed "$DIR/keys.out" "^ALFA  sign " "$ALFA_SIGN"

# add-key
run add add-key --db "$DB" --mpid ALFA --curve-key "$NEW_CURVE" --from now
tap_is $? 0 "add-key adds a CURVE key from now"
tap_ok "and names the change" grep -q "added to ALFA, valid from .* (change 2)" \
    "$DIR/add.out"
run add2 add-key --db "$DB" --mpid ALFA --sign-key "$NEW_SIGN" \
    --from 2030-01-01 --to 2031-01-01
tap_is $? 0 "add-key adds a signing key with an end"
run dup add-key --db "$DB" --mpid BRVO --curve-key "$NEW_CURVE" --from now
tap_is $? 1 "a key another supplier has is refused"
tap_ok "saying whose it is" grep -q "already listed for supplier ALFA" \
    "$DIR/dup.err"
run both add-key --db "$DB" --mpid ALFA --curve-key "$NEW_CURVE" \
    --sign-key "$NEW_SIGN" --from now
tap_is $? 2 "both key options is a usage error"
run bad add-key --db "$DB" --mpid ALFA --curve-key short --from now
tap_is $? 2 "a malformed CURVE key is a usage error"
tap_ok "naming the key" grep -q "invalid CURVE key 'short'" "$DIR/bad.err"
run badhex add-key --db "$DB" --mpid ALFA --sign-key abc --from now
tap_is $? 2 "a malformed signing key is a usage error"
run order add-key --db "$DB" --mpid ALFA --sign-key "$CSV_SIGN" \
    --from 2030-01-01 --to 2029-01-01
tap_is $? 1 "an end before the start is refused"
tap_ok "saying so" grep -q "is not after start" "$DIR/order.err"
run nobody add-key --db "$DB" --mpid ZZZZ --sign-key "$CSV_SIGN" --from now
tap_is $? 1 "an unknown supplier is refused"
run time add-key --db "$DB" --mpid ALFA --sign-key "$CSV_SIGN" \
    --from yesterday
tap_is $? 2 "a time that is neither ISO 8601 nor now is a usage error"

# retire-key
run retire retire-key --db "$DB" --mpid ALFA --key "$ALFA_CURVE" --at now
tap_is $? 0 "retire-key ends ALFA's first CURVE key now"
tap_ok "there is no warning, because the new key is valid" \
    test ! -s "$DIR/retire.err"
run again retire-key --db "$DB" --mpid ALFA --key "$ALFA_CURVE" --at now
tap_is $? 1 "a retired key cannot be retired again"
run past retire-key --db "$DB" --mpid BRVO --key "$BRVO_CURVE" \
    --at 2020-01-01T00:00:00Z
tap_is $? 1 "a retirement in the past is refused"
tap_ok "saying what it would break" grep -q "would stop verifying" \
    "$DIR/past.err"
run alone retire-key --db "$DB" --mpid BRVO \
    --key "$(tr a-f A-F <<<"$BRVO_SIGN")" --at 2099-01-01
tap_is $? 0 "a signing key given in upper-case hex is found"
tap_ok "retiring BRVO's only signing key warns" \
    grep -q "no other signing key valid at 2099-01-01" "$DIR/alone.err"
run unknown retire-key --db "$DB" --mpid BRVO --key "$NEW_SIGN" --at now
tap_is $? 1 "a key the supplier does not have is not found"

# revoke-key
run revoke revoke-key --db "$DB" --mpid ALFA --key "$ALFA_SIGN" \
    --reason "laptop stolen"
tap_is $? 0 "revoke-key revokes a key now"
run revoke2 revoke-key --db "$DB" --mpid ALFA --key "$ALFA_SIGN" \
    --reason "twice"
tap_is $? 1 "a revoked key cannot be revoked again"
run future revoke-key --db "$DB" --mpid ALFA --key "$NEW_CURVE" \
    --reason "later" --at 2099-01-01
tap_is $? 1 "a revocation in the future is refused"
tap_ok "pointing at retire-key" grep -q "use retire-key" "$DIR/future.err"
run noreason revoke-key --db "$DB" --mpid ALFA --key "$NEW_CURVE"
tap_is $? 2 "revoke-key needs --reason"

run list keys --db "$DB" --mpid ALFA
tap_ok "the retired key has ended" \
    listed "$DIR/list.out" "^ALFA  curve  retired  ended  " "$ALFA_CURVE"
tap_ok "the revoked key says when and why" \
    grep -q "^ALFA  sign   revoked  revoked .*revoked from .*: laptop stolen\$" \
    "$DIR/list.out"
tap_ok "the future signing key is not valid yet" \
    grep -q "^ALFA  sign   active   not_yet  2030-01-01T00:00:00Z" \
    "$DIR/list.out"
run changes changes --db "$DB"
tap_is "$(grep -c '  key  ' "$DIR/changes.out")" 5 \
    "each key change is in the change log as kind key"

# A later CSV row with other keys retires the replaced ones.
suppliers_csv "$CSV_CURVE" "$CSV_SIGN"
"$BIN/sdx-directory" load --db "$DB" --suppliers "$DIR/suppliers.csv" \
    >/dev/null
run csv keys --db "$DB" --mpid BRVO
tap_ok "the replaced CURVE key is retired" \
    listed "$DIR/csv.out" "^BRVO  curve  retired  ended " "$BRVO_CURVE"
tap_ok "the new one is valid from the load" \
    listed "$DIR/csv.out" "^BRVO  curve  active   valid    20" "$CSV_CURVE"

# A schema version 2 database gets its suppliers' keys when opened.
OLD="$DIR/version2.db"
"$BIN/sdx-directory" init --db "$OLD" >/dev/null
"$BIN/sdx-directory" load --db "$OLD" --suppliers "$DIR/suppliers.csv" \
    >/dev/null
$PY - "$OLD" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.executescript("""
    DROP TRIGGER supplier_keys_of_new_supplier;
    DROP TRIGGER supplier_keys_of_changed_supplier;
    DROP TABLE supplier_keys;
    ALTER TABLE changes DROP COLUMN mpid;
    PRAGMA user_version = 2;
""")
db.close()
PY
run upgraded keys --db "$OLD"
tap_is $? 0 "a version 2 database opens"
tap_is "$(tail -n +2 "$DIR/upgraded.out" | grep -c ' active   valid    1970')" 4 \
    "and its suppliers have their keys, valid from the start"
tap_is "$($PY -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("PRAGMA user_version").fetchone()[0])' "$OLD")" \
    3 "it is at schema version 3"
tap_done
