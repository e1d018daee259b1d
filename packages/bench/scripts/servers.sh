# Sourced by the comparison scripts: starts a fresh real etcd 3.4 on $etcd_port and a fresh Keyway
# on $keyway_port (data in $work), stops both and removes $work on exit, waits until both serve.
# shellcheck source=etcd-server.sh
source "packages/bench/scripts/etcd-server.sh"
node packages/cli/bin/keyway.js serve --data-dir "$work/keyway" --log-level warn \
  --listen-client-urls "http://127.0.0.1:$keyway_port" >"$work/keyway.log" 2>&1 &
keyway_pid=$!
trap 'kill $etcd_pid $keyway_pid 2>/dev/null; wait $etcd_pid $keyway_pid 2>/dev/null; rm -rf "$work"' EXIT
for port in $etcd_port $keyway_port; do
  until etcdctl --endpoints="127.0.0.1:$port" endpoint health >/dev/null 2>&1; do sleep 0.2; done
done

# shellcheck source=median.sh
source "packages/bench/scripts/median.sh"
