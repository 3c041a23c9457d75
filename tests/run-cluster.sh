#!/usr/bin/env bash
# run-cluster.sh - start a local shoal cluster on loopback to try it by hand (`make run`).
#
# What it is for: starting shoal-node processes in a throwaway directory, making them one
# cluster that owns all 16384 slots, printing how to connect, and waiting. Ctrl-C or SIGTERM
# stops every node it started (by pid) and removes the directory.
#
# What it must never do: stop a process it did not start (no pkill, no killall), bind outside
# 127.0.0.1, pick a client port whose bus port (+10000) reaches 32768, or leave nodes behind.
#
# Two shapes of cluster:
#   - 6 nodes, 3 masters + 3 replicas, made by `redis-cli --cluster create`. This needs the
#     cluster bus (CLUSTER MEET).
#   - 1 node that owns every slot (CLUSTER ADDSLOTSRANGE 0 16383). Works without the bus.
# NODES=auto (default) probes whether CLUSTER MEET works on two scratch nodes and picks 6 if it
# does, 1 if it does not. NODES=1 or NODES=6 forces a shape.
#
# Environment: NODES (auto|1|6), PORT (first client port; default: first free block from
# 21000), SHOAL_NODE (binary), REDIS_CLI, NODE_ARGS (extra directives for every node, e.g.
# "--worker-threads 2"), KEEP_DIR=1 (keep the node directories and logs after stopping).
set -u

REPO="$(cd "$(dirname "$0")/.." && pwd)"
SHOAL_NODE="${SHOAL_NODE:-$REPO/bin/shoal-node}"
REDIS_CLI="${REDIS_CLI:-redis-cli}"
NODES="${NODES:-auto}"
NODE_ARGS="${NODE_ARGS:-}"
MAX_NODES=6              # the port block is always reserved for the largest shape
PORT_MIN=21000
PORT_MAX=22760           # the last client port; its bus port 32760 stays below 32768
START_TIMEOUT=15         # seconds for a node to answer PING
OK_TIMEOUT=30            # seconds for cluster_state:ok

PIDS=()                  # pids of the nodes this script started, nothing else
PORTS=()
WORKDIR=""

say() { printf '%s\n' "$*"; }
die() { printf 'run-cluster: %s\n' "$*" >&2; exit 1; }

# --- ports -------------------------------------------------------------------------------

# True when nothing on this machine uses local TCP port $1 (listening or connected).
port_free() {
    local p=$1
    if command -v ss >/dev/null 2>&1; then
        # TIME-WAIT leftovers of an earlier run do not stop a listener with SO_REUSEADDR.
        [ -z "$(ss -Htan exclude time-wait "sport = :$p" 2>/dev/null)" ]
    else
        # Without ss we can only see listeners: a connect that succeeds means taken.
        ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null
    fi
}

# Prints the first port P in [PORT_MIN, PORT_MAX] such that P..P+MAX_NODES-1 and their bus
# ports are all free; with PORT set, checks that block only.
pick_base_port() {
    local base i ok first=$PORT_MIN last=$((PORT_MAX - MAX_NODES + 1))
    if [ -n "${PORT:-}" ]; then first=$PORT; last=$PORT; fi
    for ((base = first; base <= last; base += 10)); do
        ok=1
        for ((i = 0; i < MAX_NODES; i++)); do
            if ! port_free $((base + i)) || ! port_free $((base + i + 10000)); then ok=0; break; fi
        done
        if [ $ok = 1 ]; then echo "$base"; return 0; fi
    done
    return 1
}

# --- nodes -------------------------------------------------------------------------------

cli() { local port=$1; shift; "$REDIS_CLI" -h 127.0.0.1 -p "$port" "$@" 2>&1; }

# start_nodes N: starts N nodes on BASE_PORT.. and waits until each answers PING.
start_nodes() {
    local n=$1 i port dir deadline
    for ((i = 0; i < n; i++)); do
        port=$((BASE_PORT + i))
        dir="$WORKDIR/$port"
        mkdir -p "$dir"
        # shellcheck disable=SC2086  # NODE_ARGS is a list of words on purpose
        "$SHOAL_NODE" --port "$port" --bind 127.0.0.1 --cluster-enabled yes \
            --cluster-config-file nodes.conf --dir "$dir" --logfile "" --daemonize no \
            $NODE_ARGS </dev/null >"$dir/node.log" 2>&1 &
        PIDS+=($!)
        PORTS+=("$port")
    done
    for ((i = 0; i < n; i++)); do
        port=${PORTS[$i]}
        deadline=$((SECONDS + START_TIMEOUT))
        until [ "$(cli "$port" ping)" = "PONG" ]; do
            if ! kill -0 "${PIDS[$i]}" 2>/dev/null; then
                tail -n 30 "$WORKDIR/$port/node.log" >&2
                die "node on port $port exited during startup (log above)"
            fi
            [ $SECONDS -lt "$deadline" ] || die "node on port $port not answering after ${START_TIMEOUT}s"
            sleep 0.05
        done
    done
}

# stop_nodes: SIGTERM every node we started, SIGKILL whatever is left after 5 s.
stop_nodes() {
    local pid i
    [ ${#PIDS[@]} -gt 0 ] || return 0
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
    for ((i = 0; i < 50; i++)); do
        local alive=0
        for pid in "${PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
        [ $alive = 1 ] || break
        sleep 0.1
    done
    for pid in "${PIDS[@]}"; do
        if kill -0 "$pid" 2>/dev/null; then
            say "run-cluster: pid $pid did not exit after SIGTERM; sending SIGKILL" >&2
            kill -KILL "$pid" 2>/dev/null
        fi
        wait "$pid" 2>/dev/null
    done
    PIDS=(); PORTS=()
}

cleanup() {
    trap - INT TERM EXIT
    stop_nodes
    if [ -n "$WORKDIR" ] && [ -d "$WORKDIR" ]; then
        if [ "${KEEP_DIR:-0}" = 1 ]; then say "node directories kept in $WORKDIR"
        else rm -rf -- "$WORKDIR"; fi
    fi
}

wait_cluster_ok() {
    local port deadline=$((SECONDS + OK_TIMEOUT))
    for port in "${PORTS[@]}"; do
        until cli "$port" cluster info | grep -q '^cluster_state:ok'; do
            [ $SECONDS -lt "$deadline" ] || die "cluster_state not ok on port $port after ${OK_TIMEOUT}s"
            sleep 0.1
        done
    done
}

# True when CLUSTER MEET is implemented: tried on two scratch nodes that are stopped and
# wiped afterwards, because a node that has met another is no longer empty for --cluster create.
meet_works() {
    local reply
    start_nodes 2
    reply=$(cli "${PORTS[0]}" cluster meet 127.0.0.1 "${PORTS[1]}")
    stop_nodes
    rm -rf -- "${WORKDIR:?}"/*
    [ "$reply" = "OK" ]
}

# --- the two shapes ------------------------------------------------------------------------

make_one_node_cluster() {
    start_nodes 1
    local r
    r=$(cli "${PORTS[0]}" cluster addslotsrange 0 16383)
    [ "$r" = "OK" ] || die "CLUSTER ADDSLOTSRANGE failed: $r"
    wait_cluster_ok
}

make_six_node_cluster() {
    local addrs=() port
    start_nodes 6
    for port in "${PORTS[@]}"; do addrs+=("127.0.0.1:$port"); done
    "$REDIS_CLI" --cluster create "${addrs[@]}" --cluster-replicas 1 --cluster-yes \
        || die "redis-cli --cluster create failed"
    wait_cluster_ok
}

# --- main --------------------------------------------------------------------------------

[ -x "$SHOAL_NODE" ] || die "$SHOAL_NODE is not built (run make)"
command -v "$REDIS_CLI" >/dev/null 2>&1 || die "$REDIS_CLI not found (make deps installs redis-tools)"
case "$NODES" in auto|1|6) ;; *) die "NODES must be auto, 1 or 6 (got $NODES)" ;; esac

BASE_PORT=$(pick_base_port) || die "no free block of $MAX_NODES ports (and bus ports) from ${PORT:-$PORT_MIN}"
WORKDIR=$(mktemp -d /tmp/shoal-run.XXXXXX) || die "cannot create a temp dir"
trap cleanup EXIT
trap 'say ""; say "stopping..."; exit 0' INT TERM

if [ "$NODES" = auto ]; then
    if meet_works; then NODES=6; else NODES=1; say "CLUSTER MEET is not available yet: starting one node"; fi
fi
if [ "$NODES" = 6 ]; then make_six_node_cluster; else make_one_node_cluster; fi

say ""
say "shoal cluster ready: $NODES node(s) on 127.0.0.1 ports ${PORTS[*]} (pids ${PIDS[*]})"
[ "$NODES" = 1 ] && say "  (one node owning all 16384 slots; NODES=6 needs CLUSTER MEET)"
say "  connect:  $REDIS_CLI -c -p ${PORTS[0]}"
say "  check:    $REDIS_CLI --cluster check 127.0.0.1:${PORTS[0]}"
say "  logs:     $WORKDIR/<port>/node.log"
say "Press Ctrl-C to stop the cluster."

# Wait until a signal arrives (the trap exits) or a node dies on its own.
while true; do
    wait -n "${PIDS[@]}"
    for i in "${!PIDS[@]}"; do
        if ! kill -0 "${PIDS[$i]}" 2>/dev/null; then
            tail -n 20 "$WORKDIR/${PORTS[$i]}/node.log" >&2
            die "node on port ${PORTS[$i]} (pid ${PIDS[$i]}) exited on its own (log above)"
        fi
    done
done
