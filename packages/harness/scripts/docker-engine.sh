#!/usr/bin/env bash
# Starts or stops the Docker engine that the fault harness's container scenarios use.
#   docker-engine.sh start   installs Debian's docker.io and iptables if missing, starts dockerd by
#                            hand (no systemd; --iptables=false) and waits until it answers
#   docker-engine.sh stop    stops the dockerd this script started, by the PID in its pidfile
#   docker-engine.sh status  exits 0 when an engine answers
# An engine that already answers on the default socket is used as it is and never stopped here.
# Needs root (CI and the project's machines run as root).
set -euo pipefail

STATE_DIR="${KEYWAY_DOCKERD_DIR:-/var/run/keyway-dockerd}"
PIDFILE="$STATE_DIR/dockerd.pid"
LOGFILE="$STATE_DIR/dockerd.log"
# Debian's client matches Debian's engine; a newer client elsewhere on PATH may shadow it.
DOCKER="/usr/bin/docker"

engine_answers() {
  [ -x "$DOCKER" ] && timeout 10 "$DOCKER" info >/dev/null 2>&1
}

install_engine() {
  if [ -x /usr/sbin/dockerd ] && [ -x "$DOCKER" ] && command -v iptables >/dev/null && command -v nsenter >/dev/null; then
    return 0
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # docker.io brings containerd, runc and docker-init; iptables drives the one-way partitions.
  apt-get install -y -qq --no-install-recommends docker.io iptables util-linux >/dev/null
}

# A run that was killed (e.g. with the engine under it) cannot clean up; its containers and networks
# carry the harness's label, so the next start removes them before they hold names or subnets.
remove_leftovers() {
  local ids
  ids="$("$DOCKER" ps -aq --filter label=keyway.harness=true)"
  if [ -n "$ids" ]; then
    # shellcheck disable=SC2086
    "$DOCKER" rm -f $ids >/dev/null
  fi
  "$DOCKER" network prune -f --filter label=keyway.harness=true >/dev/null
}

start() {
  if engine_answers; then
    echo "docker-engine: an engine already answers; using it"
    return 0
  fi
  install_engine
  mkdir -p "$STATE_DIR"
  if [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
    echo "docker-engine: dockerd $(cat "$PIDFILE") is starting already"
  else
    # --iptables=false: no NAT or FORWARD rules on the host; containers talk only to each other and
    # to the host over the bridges the harness creates. setsid: the engine outlives this shell.
    setsid /usr/sbin/dockerd --iptables=false --pidfile="$PIDFILE" >"$LOGFILE" 2>&1 </dev/null &
  fi
  for _ in $(seq 1 120); do
    if engine_answers; then
      echo "docker-engine: dockerd $(cat "$PIDFILE") answers (log: $LOGFILE)"
      remove_leftovers
      return 0
    fi
    sleep 0.5
  done
  echo "docker-engine: dockerd did not answer within 60 s; its log:" >&2
  tail -n 50 "$LOGFILE" >&2 || true
  exit 1
}

stop() {
  if [ ! -f "$PIDFILE" ]; then
    echo "docker-engine: no dockerd started by this script"
    return 0
  fi
  local pid
  pid="$(cat "$PIDFILE")"
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for _ in $(seq 1 60); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.5
    done
    if kill -0 "$pid" 2>/dev/null; then
      echo "docker-engine: dockerd $pid ignored SIGTERM for 30 s; SIGKILL" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$PIDFILE"
  echo "docker-engine: dockerd $pid stopped"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) engine_answers ;;
  *)
    echo "usage: $0 start|stop|status" >&2
    exit 2
    ;;
esac
