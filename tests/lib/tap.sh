# TAP output for shell tests: ok/not ok lines, then the plan at exit.
TAP_COUNT=0
TAP_FAILED=0

# tap_ok DESCRIPTION COMMAND...: passes when COMMAND exits 0.
tap_ok() {
    local description=$1
    shift
    TAP_COUNT=$((TAP_COUNT + 1))
    if "$@"; then
        echo "ok $TAP_COUNT - $description"
    else
        echo "not ok $TAP_COUNT - $description"
        echo "#   command: $*"
        TAP_FAILED=$((TAP_FAILED + 1))
    fi
}

# tap_is GOT EXPECTED DESCRIPTION: passes when the two strings are equal.
tap_is() {
    TAP_COUNT=$((TAP_COUNT + 1))
    if [ "$1" = "$2" ]; then
        echo "ok $TAP_COUNT - $3"
    else
        echo "not ok $TAP_COUNT - $3"
        echo "#          got: '$1'"
        echo "#     expected: '$2'"
        TAP_FAILED=$((TAP_FAILED + 1))
    fi
}

tap_diag() { echo "# $*"; }

# tap_done: prints the plan; use as the last command of the test.
tap_done() {
    echo "1..$TAP_COUNT"
    [ "$TAP_FAILED" -eq 0 ]
}
