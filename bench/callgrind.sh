#!/usr/bin/env bash
# Instructions per request of one command, counted by callgrind (repeatable: the same binary, inputs and
# workload give the same count whatever else the machine does; use it where req/s is too noisy to decide).
# Usage: bench/callgrind.sh [-m DIR] [-s SETUP_CMD]... -- COMMAND ARGS...
#   -m DIR    directory of lib<module>.so files (default target/release); every module found there is loaded
#   -s CMD    a command run (through valkey-cli) before the measured one, e.g. -s "EXHSET big f v"
# Env: N requests (20000), P pipeline (16), R keyspace for __rand_int__ (100000), PORT (7390), REPLICA=1 to
# attach a replica (port PORT+1, not under valgrind) first, so every write is propagated.
# Prints Ir/request inside the server's call() (the command itself, reply included), inside processCommand()
# (lookup, ACL, call) and for the whole process (network, parsing, event loop), over the N measured requests
# (counters zeroed after a warm-up run of the same workload), and for the process without serverCron (whose
# allocator statistics vary from run to run: compare that figure between commands). KEEP=1 keeps the files.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=target/release; setup=()
while [ $# -gt 0 ]; do
  case $1 in
    -m) dir=$2; shift 2 ;;
    -s) setup+=("$2"); shift 2 ;;
    --) shift; break ;;
    *) break ;;
  esac
done
N=${N:-20000}; P=${P:-16}; R=${R:-100000}; PORT=${PORT:-7390}
work=$(mktemp -d); trap 'valkey-cli -p $PORT shutdown nosave >/dev/null 2>&1 || true; [ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
args=()
for m in tairstring tairhash tairzset tairdoc tairbloom tairgis; do
  [ -f "$dir/lib$m.so" ] && args+=(--loadmodule "$(realpath "$dir/lib$m.so")")
done
valgrind --tool=callgrind --callgrind-out-file="$work/cg.%p" --dump-instr=no --collect-atstart=yes \
  valkey-server --port "$PORT" --dir "$work" --save "" --appendonly no "${args[@]}" >"$work/log" 2>&1 &
for _ in $(seq 400); do valkey-cli -p "$PORT" ping >/dev/null 2>&1 && break; sleep 0.05; done
if [ "${REPLICA:-0}" = 1 ]; then # a replica (not under valgrind), so every write is propagated
  RPORT=$((PORT + 1)); mkdir -p "$work/replica"
  valkey-server --port "$RPORT" --dir "$work/replica" --save "" --appendonly no --daemonize yes \
    --logfile "$work/replica/log" --replicaof 127.0.0.1 "$PORT" "${args[@]}" >/dev/null
  trap 'valkey-cli -p $RPORT shutdown nosave >/dev/null 2>&1 || true; valkey-cli -p $PORT shutdown nosave >/dev/null 2>&1 || true; [ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
  for _ in $(seq 600); do
    valkey-cli -p "$RPORT" INFO replication 2>/dev/null | grep -q "master_link_status:up" && break; sleep 0.1
  done
fi
for c in "${setup[@]}"; do eval "valkey-cli -p $PORT $c" >/dev/null; done
bench() { valkey-benchmark -p "$PORT" -n "$N" -c 1 -P "$P" -r "$R" -q "$@" >/dev/null 2>&1; }
bench "$@"                                  # warm-up (keys created, tables grown)
valkey-cli -p "$PORT" ping >/dev/null
pid=$(pgrep -f "valgrind.*--port $PORT" | head -1)
callgrind_control -z "$pid" >/dev/null   # zero the counters
bench "$@"
callgrind_control -d measured "$pid" >/dev/null; sleep 0.5
f=$(ls "$work"/cg.*.1 | head -1 || true)
ann=$(callgrind_annotate --inclusive=yes "$f" 2>/dev/null)
ir() { awk -v fn="$1" '$3 ~ ("^[^ ]*:" fn "$") || $2 ~ ("^[^ ]*:" fn "$") {gsub(",", "", $1); print $1; exit}' <<<"$ann"; }
total=$(awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1; exit}' <<<"$ann")
per() { awk -v a="${1:-0}" -v n="$N" 'BEGIN{printf "%.0f", a/n}'; }
cron=$(ir serverCron)
printf '%s: %s Ir/request in call(), %s in processCommand(), %s in all, %s in all but serverCron\n' "$*" \
  "$(per "$(ir call)")" "$(per "$(ir processCommand)")" "$(per "$total")" "$(per "$((total - ${cron:-0}))")"
