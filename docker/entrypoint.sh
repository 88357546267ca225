#!/bin/sh
# tair-entrypoint: environment variables -> Valkey settings, then exec valkey-server (or a Sentinel).
#
#   docker run tair-modules                      valkey-server with /etc/valkey/valkey.conf
#   docker run tair-modules --maxmemory-policy noeviction   the same, extra arguments passed through
#   docker run tair-modules sentinel             a Sentinel (see below)
#   docker run tair-modules valkey-cli ...       any other command runs as given
#
# Server: TAIR_COMPAT=yes|no, VALKEY_PASSWORD (requirepass and masterauth), VALKEY_MAXMEMORY (e.g. 2gb),
# VALKEY_REPLICAOF ("host port"), VALKEY_ANNOUNCE_HOST (replica-announce-ip: a name other containers resolve).
# Sentinel: SENTINEL_MASTER_NAME (mymaster), SENTINEL_MONITOR_HOST (primary), SENTINEL_MONITOR_PORT (6379),
# SENTINEL_QUORUM (2), SENTINEL_DOWN_AFTER_MS (5000), SENTINEL_FAILOVER_TIMEOUT_MS (60000),
# VALKEY_PASSWORD (auth-pass towards the servers). Its state is kept in /data/sentinel.conf.
set -eu

BASE_CONF=${VALKEY_BASE_CONF:-/etc/valkey/valkey.conf}
RUN_DIR=/run/valkey
CONF=$RUN_DIR/valkey.conf

die() { echo "tair-entrypoint: $*" >&2; exit 1; }

# A value as a double-quoted config string (backslash and quote escaped).
quote() { printf '"%s"' "$(printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g')"; }

yes_no() {
  case "$(printf '%s' "$2" | tr 'A-Z' 'a-z')" in
    yes|true|1|on) echo yes ;;
    no|false|0|off|'') echo no ;;
    *) die "$1 must be yes or no, not '$2'" ;;
  esac
}

case "${1:-}" in
  sentinel)
    shift
    conf=/data/sentinel.conf
    if [ ! -s "$conf" ]; then
      {
        echo "port 26379"
        echo "bind * -::*"
        echo "protected-mode no"
        echo "daemonize no"
        echo 'logfile ""'
        echo "dir /data"
        echo "sentinel resolve-hostnames yes"
        echo "sentinel announce-hostnames yes"
        name=${SENTINEL_MASTER_NAME:-mymaster}
        echo "sentinel monitor $name ${SENTINEL_MONITOR_HOST:-primary} ${SENTINEL_MONITOR_PORT:-6379} ${SENTINEL_QUORUM:-2}"
        echo "sentinel down-after-milliseconds $name ${SENTINEL_DOWN_AFTER_MS:-5000}"
        echo "sentinel failover-timeout $name ${SENTINEL_FAILOVER_TIMEOUT_MS:-60000}"
        echo "sentinel parallel-syncs $name 1"
        if [ -n "${VALKEY_PASSWORD:-}" ]; then
          printf '%s%s\n' "sentinel auth-pass $name " "$(quote "$VALKEY_PASSWORD")"
        fi
      } >"$conf"
      chmod 600 "$conf"
    fi
    echo 26379 >"$RUN_DIR/health-port"
    exec valkey-server "$conf" --sentinel "$@"
    ;;
  valkey-server)
    shift
    ;;
  ''|-*)
    ;;
  *)
    exec "$@"
    ;;
esac

[ -r "$BASE_CONF" ] || die "cannot read $BASE_CONF"
compat=$(yes_no TAIR_COMPAT "${TAIR_COMPAT:-no}")
umask 077
{
  if [ "$compat" = yes ]; then
    # Only the modules that have Tair names take the argument (every module would accept it).
    sed -E 's@^(loadmodule[[:space:]]+[^[:space:]]*/lib(tairbloom|tairdoc)\.so)[[:space:]]*$@\1 tair-compat yes@' "$BASE_CONF"
  else
    cat "$BASE_CONF"
  fi
  echo
  echo "# --- from the environment (tair-entrypoint) ---"
  if [ -n "${VALKEY_PASSWORD:-}" ]; then
    printf '%s%s\n' "requirepass " "$(quote "$VALKEY_PASSWORD")"
    printf '%s%s\n' "masterauth " "$(quote "$VALKEY_PASSWORD")"
  fi
  if [ -n "${VALKEY_MAXMEMORY:-}" ]; then
    printf '%s%s\n' "maxmemory " "$(quote "$VALKEY_MAXMEMORY")"
  fi
  if [ -n "${VALKEY_ANNOUNCE_HOST:-}" ]; then
    printf '%s%s\n' "replica-announce-ip " "$(quote "$VALKEY_ANNOUNCE_HOST")"
  fi
  if [ -n "${VALKEY_REPLICAOF:-}" ]; then
    echo "replicaof $VALKEY_REPLICAOF"
  fi
} >"$CONF.tmp"
mv "$CONF.tmp" "$CONF"

# The healthcheck pings the port the server listens on (the last --port argument wins, as in valkey-server).
port=6379
prev=
for arg in "$@"; do
  [ "$prev" = --port ] && port=$arg
  prev=$arg
done
echo "$port" >"$RUN_DIR/health-port"

exec valkey-server "$CONF" "$@"
