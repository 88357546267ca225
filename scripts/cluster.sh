#!/usr/bin/env bash
# A local six-node Valkey Cluster (three primaries, one replica each) with every built module:
#   scripts/cluster.sh start [BASE_PORT]   nodes on BASE_PORT..BASE_PORT+5 (default 7000), data in data/cluster/
#   scripts/cluster.sh stop  [BASE_PORT]
# Then: valkey-cli -c -p 7000 EXSET k v
set -euo pipefail
cd "$(dirname "$0")/.."
action=${1:-start}
base=${2:-7000}
ports=$(seq "$base" $((base + 5)))
case "$action" in
start)
  mods=()
  for m in tairstring tairhash tairzset tairdoc tairbloom tairgis; do
    f="${CARGO_TARGET_DIR:-target}/release/lib$m.so"
    [ -f "$f" ] && mods+=(--loadmodule "$PWD/$f")
  done
  addrs=()
  for p in $ports; do
    dir="data/cluster/$p"
    mkdir -p "$dir"
    # The bus port is the node's port + 10000 (so BASE_PORT must stay below 55530).
    valkey-server --port "$p" --bind 127.0.0.1 --dir "$PWD/$dir" --daemonize yes \
      --logfile "$PWD/$dir/server.log" --cluster-enabled yes --cluster-config-file nodes.conf \
      --cluster-node-timeout 5000 --appendonly yes "${mods[@]}"
    addrs+=("127.0.0.1:$p")
  done
  for p in $ports; do
    for _ in $(seq 100); do valkey-cli -p "$p" ping >/dev/null 2>&1 && break; sleep 0.05; done
  done
  if [ "$(valkey-cli -p "$base" cluster info | tr -d '\r' | awk -F: '/cluster_known_nodes/{print $2}')" != 6 ]; then
    valkey-cli --cluster create "${addrs[@]}" --cluster-replicas 1 --cluster-yes
  fi
  for _ in $(seq 200); do
    valkey-cli -p "$base" cluster info | grep -q 'cluster_state:ok' && break
    sleep 0.05
  done
  valkey-cli -p "$base" cluster info | grep cluster_state
  echo "cluster up: valkey-cli -c -p $base"
  ;;
stop)
  for p in $ports; do valkey-cli -p "$p" shutdown nosave >/dev/null 2>&1 || true; done
  echo "stopped (data kept in data/cluster/; remove it for a fresh cluster)"
  ;;
*)
  echo "usage: $0 start|stop [BASE_PORT]" >&2
  exit 2
  ;;
esac
