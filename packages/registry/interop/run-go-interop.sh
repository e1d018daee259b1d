#!/usr/bin/env bash
# run-go-interop.sh - builds go-naming (etcd 3.4.23's Go naming packages from Debian's
# golang-etcd-server-dev, GOPATH mode, ~10 s with a warm Go cache) and runs go-interop.mjs against
# a throwaway etcd (or `keyway serve` with TARGET=keyway) on a free loopback port.
# Needs: go, /usr/share/gocode (apt-get install -y golang-go golang-etcd-server-dev), `tsc -b` done.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
WORK=$(mktemp -d /tmp/keyway-go-interop.XXXXXX)
mkdir -p "$WORK/gopath/src/keyway"
ln -s "$HERE/go-naming" "$WORK/gopath/src/keyway/go-naming"
(cd "$WORK/gopath/src/keyway/go-naming" &&
  GO111MODULE=off GOPATH="$WORK/gopath:/usr/share/gocode" GOCACHE="${GOCACHE:-$WORK/gocache}" GOFLAGS= \
    go build -o "$WORK/go-naming" .)
PORT=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
PEER=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
if [ "${TARGET:-etcd}" = keyway ]; then
  node "$ROOT/packages/cli/bin/keyway.js" serve --listen-client-urls "http://127.0.0.1:$PORT" --data-dir "$WORK/data" >"$WORK/server.log" 2>&1 &
else
  etcd --name interop --data-dir "$WORK/data" --listen-client-urls "http://127.0.0.1:$PORT" \
    --advertise-client-urls "http://127.0.0.1:$PORT" --listen-peer-urls "http://127.0.0.1:$PEER" \
    --initial-advertise-peer-urls "http://127.0.0.1:$PEER" --initial-cluster "interop=http://127.0.0.1:$PEER" \
    >"$WORK/server.log" 2>&1 &
fi
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null; wait "$SERVER" 2>/dev/null; rm -rf "$WORK"' EXIT
for _ in $(seq 100); do etcdctl --endpoints "127.0.0.1:$PORT" endpoint health >/dev/null 2>&1 && break; sleep 0.1; done
node "$HERE/go-interop.mjs" "http://127.0.0.1:$PORT" "$WORK/go-naming"
