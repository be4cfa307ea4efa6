# Shell helpers that start a small sdx exchange in a temporary folder: a
# directory, supplier nodes and their sim agents, all real processes on
# 127.0.0.1. Sourced by tests/demo.sh and the integration tests.
#
# Every process started with cluster_start is stopped (SIGTERM, then
# SIGKILL) when the calling shell exits.

: "${SDX_ROOT:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
SDX_BIN="$SDX_ROOT/build/bin"
SDX_DATA="$SDX_ROOT/data/lcl/halfhourly_2013"
CLUSTER_PIDS=()
CLUSTER_DIR=""

cluster_init() {
    CLUSTER_DIR=$(mktemp -d "${TMPDIR:-/tmp}/sdx-cluster.XXXXXX")
    trap cluster_stop EXIT
    trap 'exit 130' INT TERM
}

cluster_stop() {
    local pid
    for pid in "${CLUSTER_PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null
    done
    for pid in "${CLUSTER_PIDS[@]}"; do
        for _ in $(seq 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null
    done
    CLUSTER_PIDS=()
    if [ -n "$CLUSTER_DIR" ] && [ -z "${SDX_KEEP:-}" ]; then
        rm -rf "$CLUSTER_DIR"
    fi
}

# Prints a free TCP port on 127.0.0.1.
cluster_free_port() {
    /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# cluster_start NAME COMMAND...: starts COMMAND in the background with
# stdout in $CLUSTER_DIR/NAME.out and stderr in NAME.log, waits up to 15 s
# for its readiness line (" ready ") and sets CLUSTER_LAST_PID.
cluster_start() {
    local name=$1
    shift
    "$@" >"$CLUSTER_DIR/$name.out" 2>"$CLUSTER_DIR/$name.log" &
    CLUSTER_LAST_PID=$!
    CLUSTER_PIDS+=("$CLUSTER_LAST_PID")
    for _ in $(seq 150); do
        if grep -q " ready " "$CLUSTER_DIR/$name.out" 2>/dev/null; then
            return 0
        fi
        if ! kill -0 "$CLUSTER_LAST_PID" 2>/dev/null; then
            echo "cluster: $name exited before it was ready:" >&2
            cat "$CLUSTER_DIR/$name.log" >&2
            return 1
        fi
        sleep 0.1
    done
    echo "cluster: $name did not print its readiness line in 15 s" >&2
    cat "$CLUSTER_DIR/$name.log" >&2
    return 1
}

# cluster_stop_one PID: stops one process and waits for it to exit.
cluster_stop_one() {
    kill -TERM "$1" 2>/dev/null
    for _ in $(seq 50); do
        kill -0 "$1" 2>/dev/null || return 0
        sleep 0.1
    done
    kill -KILL "$1" 2>/dev/null
}

# cluster_directory_keys: makes the directory's keys in $CLUSTER_DIR/directory.
cluster_directory_keys() {
    mkdir -p "$CLUSTER_DIR/directory"
    "$SDX_BIN/sdx" keygen --dir "$CLUSTER_DIR/directory" --name directory \
        >/dev/null
    DIRECTORY_PORT=$(cluster_free_port)
    DIRECTORY_ENDPOINT="tcp://127.0.0.1:$DIRECTORY_PORT"
    printf 'mpid,name,endpoint,curve_key,sign_key\n' \
        >"$CLUSTER_DIR/suppliers.csv"
}

# cluster_supplier MPID NAME: makes a node home $CLUSTER_DIR/MPID with keys,
# node.conf and the directory's public keys, and adds the supplier to
# $CLUSTER_DIR/suppliers.csv.
cluster_supplier() {
    local mpid=$1 name=$2 home="$CLUSTER_DIR/$1" port keys
    mkdir -p "$home/tariffs"
    keys=$("$SDX_BIN/sdx" keygen --dir "$home")
    port=$(cluster_free_port)
    cp "$CLUSTER_DIR/directory/directory.cert" "$home/directory.cert"
    cp "$CLUSTER_DIR/directory/directory.sign" "$home/directory.sign"
    cat >"$home/node.conf" <<CONF
# $name's sdx node
mpid = $mpid
bind = tcp://127.0.0.1:$port
directory = $DIRECTORY_ENDPOINT
CONF
    local curve sign
    curve=$(printf '%s\n' "$keys" | sed -n 's/^curve_key=//p')
    sign=$(printf '%s\n' "$keys" | sed -n 's/^sign_key=//p')
    # Z85 keys may contain characters CSV must quote.
    printf '%s,%s,tcp://127.0.0.1:%s,"%s",%s\n' "$mpid" "$name" "$port" \
        "${curve//\"/\"\"}" "$sign" >>"$CLUSTER_DIR/suppliers.csv"
}

# cluster_tariff SERVING REQUESTING: writes the bilateral tariff for
# SERVING serving REQUESTING into both suppliers' tariffs/ folders.
cluster_tariff() {
    local serving=$1 requesting=$2 file="$CLUSTER_DIR/$1-$2.tariff"
    cat >"$file" <<TARIFF
# Bilateral tariff: $serving serves meter reads to $requesting.
# Prices in micro-units of GBP (1 GBP = 1000000).
tariff-id = $serving-$requesting-2026
serving = $serving
requesting = $requesting
currency = GBP
# price TYPE EFFECTIVE_FROM FIXED_MICRO PER_UNIT_MICRO
price meter.info     2026-01-01 1000  0
price read.registers 2026-01-01 20000 0
price read.daily     2026-01-01 5000  500
price read.profile   2026-01-01 10000 150
price read.supply    2026-01-01 2000  0
TARIFF
    cp "$file" "$CLUSTER_DIR/$serving/tariffs/"
    cp "$file" "$CLUSTER_DIR/$requesting/tariffs/"
}

# cluster_sim MPID FILE...: imports household files into MPID's sim
# database and appends its meters to $CLUSTER_DIR/supply_points.csv with
# MPID as the installing supplier.
cluster_sim() {
    local mpid=$1
    shift
    "$SDX_BIN/sdx-agent-sim" import --db "$CLUSTER_DIR/$mpid/sim.db" "$@" \
        >"$CLUSTER_DIR/$mpid-import.out" 2>"$CLUSTER_DIR/$mpid-import.log" ||
        return 1
    [ -f "$CLUSTER_DIR/supply_points.csv" ] ||
        printf 'mpxn,fuel,meter_id,smart,installing,head_end\n' \
            >"$CLUSTER_DIR/supply_points.csv"
    "$SDX_BIN/sdx-agent-sim" meters --db "$CLUSTER_DIR/$mpid/sim.db" --csv |
        tail -n +2 |
        awk -F, -v mpid="$mpid" '{print $1","$2","$3","$4","mpid","$5}' \
            >>"$CLUSTER_DIR/supply_points.csv"
}

# cluster_mpan MPID HOUSEHOLD: prints the MPAN the sim of MPID gave to a
# household (LCLid such as MAC000002).
cluster_mpan() {
    "$SDX_BIN/sdx-agent-sim" meters --db "$CLUSTER_DIR/$1/sim.db" --csv |
        awk -F, -v h="$2" '$6 == h {print $1}'
}

# cluster_load_directory: creates the directory database and loads the
# CSV files into it, unless it exists already.
cluster_load_directory() {
    local db="$CLUSTER_DIR/directory/directory.db"
    if [ ! -f "$db" ]; then
        "$SDX_BIN/sdx-directory" init --db "$db" >/dev/null || return 1
        "$SDX_BIN/sdx-directory" load --db "$db" \
            --suppliers "$CLUSTER_DIR/suppliers.csv" \
            --supply-points "$CLUSTER_DIR/supply_points.csv" \
            --registrations "$CLUSTER_DIR/registrations.csv" \
            >"$CLUSTER_DIR/directory-load.out" \
            2>"$CLUSTER_DIR/directory-load.log" || {
            cat "$CLUSTER_DIR/directory-load.out" \
                "$CLUSTER_DIR/directory-load.log" >&2
            return 1
        }
    fi
}

# cluster_start_directory [TTL_SECONDS]: loads the CSV files and starts
# sdx-directory; sets DIRECTORY_PID.
cluster_start_directory() {
    local db="$CLUSTER_DIR/directory/directory.db"
    cluster_load_directory || return 1
    cluster_start directory "$SDX_BIN/sdx-directory" serve --db "$db" \
        --cert "$CLUSTER_DIR/directory/directory.cert" \
        --signing-key "$CLUSTER_DIR/directory/directory.sign_secret" \
        --bind "$DIRECTORY_ENDPOINT" --ttl "${1:-60}" || return 1
    DIRECTORY_PID=$CLUSTER_LAST_PID
}

# cluster_feed_endpoint: picks the endpoint of the directory's change feed
# and sets DIRECTORY_FEED_ENDPOINT.
cluster_feed_endpoint() {
    DIRECTORY_FEED_ENDPOINT="tcp://127.0.0.1:$(cluster_free_port)"
}

# cluster_node_feed MPID: makes MPID's node subscribe to the change feed.
cluster_node_feed() {
    printf 'directory-feed = %s\n' "$DIRECTORY_FEED_ENDPOINT" \
        >>"$CLUSTER_DIR/$1/node.conf"
}

# cluster_start_directory_feed [TTL_SECONDS]: loads the CSV files and
# starts sdx-directory with its change feed at $DIRECTORY_FEED_ENDPOINT;
# sets DIRECTORY_PID. After the directory is stopped, calling it again
# restarts it on the same database and endpoints.
cluster_start_directory_feed() {
    local db="$CLUSTER_DIR/directory/directory.db"
    cluster_load_directory || return 1
    cluster_start directory "$SDX_BIN/sdx-directory" serve --db "$db" \
        --cert "$CLUSTER_DIR/directory/directory.cert" \
        --signing-key "$CLUSTER_DIR/directory/directory.sign_secret" \
        --bind "$DIRECTORY_ENDPOINT" --feed "$DIRECTORY_FEED_ENDPOINT" \
        --ttl "${1:-60}" || return 1
    DIRECTORY_PID=$CLUSTER_LAST_PID
}

# cluster_start_node MPID: starts MPID's node and, when it has a sim
# database, its sim agent; sets NODE_PID and AGENT_PID.
cluster_start_node() {
    local home="$CLUSTER_DIR/$1"
    cluster_start "$1-node" "$SDX_BIN/sdx-node" --home "$home" || return 1
    NODE_PID=$CLUSTER_LAST_PID
    AGENT_PID=""
    if [ -f "$home/sim.db" ]; then
        cluster_start "$1-agent" "$SDX_BIN/sdx-agent-sim" run \
            --db "$home/sim.db" --connect "ipc://$home/run/agents" \
            --name "$1-sim" || return 1
        AGENT_PID=$CLUSTER_LAST_PID
    fi
}

# sdx_as MPID ARGS...: runs the sdx CLI against MPID's node.
sdx_as() {
    local mpid=$1
    shift
    "$SDX_BIN/sdx" --home "$CLUSTER_DIR/$mpid" "$@"
}
