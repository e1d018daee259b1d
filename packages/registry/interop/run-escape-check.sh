#!/usr/bin/env bash
# run-escape-check.sh - checks the Dubbo layout's key escaping against the real encoders: Java's
# java.net.URLEncoder (Java Dubbo's URL.encode) and Go's url.QueryEscape (dubbo-go). Needs java
# and go; run `tsc -b` first.
set -euo pipefail
HERE=$(cd "$(dirname "$0")/escapes" && pwd)
WORK=$(mktemp -d /tmp/keyway-escapes.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
javac -d "$WORK" "$HERE/Escapes.java"
java -cp "$WORK" Escapes <"$HERE/inputs.txt" >"$WORK/java.txt"
(cd "$HERE" && GO111MODULE=off GOPATH="$WORK/gopath" GOCACHE="${GOCACHE:-$WORK/gocache}" GOFLAGS= go run escapes.go) \
  <"$HERE/inputs.txt" >"$WORK/go.txt"
node "$HERE/check-escapes.mjs" "$WORK/java.txt" "$WORK/go.txt" "$HERE/inputs.txt"
