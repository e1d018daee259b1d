# Sourced by the comparison scripts: starts a fresh real etcd 3.4 on $etcd_port (data in $work),
# leaving its pid in $etcd_pid; the caller stops it.
etcd --name bench --data-dir "$work/etcd" --listen-client-urls "http://127.0.0.1:$etcd_port" \
  --advertise-client-urls "http://127.0.0.1:$etcd_port" --listen-peer-urls "http://127.0.0.1:$((etcd_port + 1))" \
  --initial-advertise-peer-urls "http://127.0.0.1:$((etcd_port + 1))" \
  --initial-cluster "bench=http://127.0.0.1:$((etcd_port + 1))" --log-level error >"$work/etcd.log" 2>&1 &
etcd_pid=$!
