#!/usr/bin/env bash
# Installs Debian's etcd 3.4 server and client, the oracle of the compatibility suites, when they
# are missing. Needs root (CI and the project's machines run as root).
set -euo pipefail
if command -v etcd >/dev/null && command -v etcdctl >/dev/null; then
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq etcd-server etcd-client >/dev/null
# Debian starts the packaged etcd as a service where an init system runs; tests start their own.
