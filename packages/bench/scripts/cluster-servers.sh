# Sourced by etcd-tool-compare.sh when MEMBERS > 1: starts a fresh MEMBERS-member real etcd 3.4
# cluster and a fresh MEMBERS-member Keyway cluster on loopback (member i on client port
# <base> + 10 i, peer port + 1; data in $work), stops both and removes $work on exit, waits until
# both have a leader, and sets $etcd_endpoints and $keyway_endpoints (comma-separated, the leader
# first, so one-connection workloads talk to the leader, as etcd's performance docs do).
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; wait "${pids[@]}" 2>/dev/null; rm -rf "$work"' EXIT

# Prints the --initial-cluster value for MEMBERS members from base port $1.
initial_cluster() {
  local list=()
  for i in $(seq 0 $((MEMBERS - 1))); do list+=("m$i=http://127.0.0.1:$(($1 + 10 * i + 1))"); done
  (IFS=,; echo "${list[*]}")
}

# Starts MEMBERS members of `$1` (etcd or keyway) from base port $2.
start_cluster() {
  local target=$1 base=$2 cluster
  cluster=$(initial_cluster "$base")
  for i in $(seq 0 $((MEMBERS - 1))); do
    local client=$((base + 10 * i)) peer=$((base + 10 * i + 1))
    local flags=(--name "m$i" --data-dir "$work/$target-m$i"
      --listen-client-urls "http://127.0.0.1:$client" --advertise-client-urls "http://127.0.0.1:$client"
      --listen-peer-urls "http://127.0.0.1:$peer" --initial-advertise-peer-urls "http://127.0.0.1:$peer"
      --initial-cluster "$cluster" --initial-cluster-token "bench-$target" --initial-cluster-state new)
    if [ "$target" = etcd ]; then
      etcd "${flags[@]}" --log-level error >"$work/$target-m$i.log" 2>&1 &
    else
      node packages/cli/bin/keyway.js serve "${flags[@]}" --log-level warn >"$work/$target-m$i.log" 2>&1 &
    fi
    pids+=($!)
  done
}

# Prints the members' endpoints from base port $1, the leader first.
endpoints_leader_first() {
  local all=() leader=""
  for i in $(seq 0 $((MEMBERS - 1))); do all+=("127.0.0.1:$(($1 + 10 * i))"); done
  until leader=$(etcdctl --endpoints="$(IFS=,; echo "${all[*]}")" endpoint status 2>/dev/null | awk -F', ' '$5 == "true" { print $1 }') && [ -n "$leader" ]; do
    sleep 0.2
  done
  local rest=()
  for e in "${all[@]}"; do [ "$e" = "$leader" ] || rest+=("$e"); done
  (IFS=,; echo "$leader,${rest[*]}")
}

start_cluster etcd "$etcd_port"
start_cluster keyway "$keyway_port"
etcd_endpoints=$(endpoints_leader_first "$etcd_port")
keyway_endpoints=$(endpoints_leader_first "$keyway_port")

# shellcheck source=median.sh
source "packages/bench/scripts/median.sh"
