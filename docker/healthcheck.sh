#!/bin/sh
# tair-healthcheck: healthy when the server (or Sentinel) answers PING with PONG. Authenticates with
# VALKEY_PASSWORD when it is set (through REDISCLI_AUTH, so the password is not on a command line).
port=$(cat /run/valkey/health-port 2>/dev/null || echo 6379)
if [ -n "${VALKEY_PASSWORD:-}" ] && [ "$port" != 26379 ]; then
  export REDISCLI_AUTH="$VALKEY_PASSWORD"
fi
reply=$(valkey-cli --no-auth-warning -h 127.0.0.1 -p "$port" PING 2>&1) || exit 1
[ "$reply" = PONG ] || { echo "$reply"; exit 1; }
