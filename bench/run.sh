#!/usr/bin/env bash
# Module commands beside their native counterparts, in one run, on one server with every built module.
# Usage: bench/run.sh [group ...]   (groups: string; default: all available)
# Env: PORT (7379), N requests per round (500000), P pipeline (16), C clients (50), ROUNDS (3), R keyspace (100000)
# Prints a markdown table: median requests/s over the rounds, and module/native ratio. Rounds alternate
# native and module so both see the same machine state.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${PORT:-7379}; N=${N:-500000}; P=${P:-16}; C=${C:-50}; ROUNDS=${ROUNDS:-3}; R=${R:-100000}
dir=$(mktemp -d); trap 'valkey-cli -p $PORT shutdown nosave >/dev/null 2>&1 || true; rm -rf "$dir"' EXIT
args=()
for m in tairstring tairhash tairzset tairdoc tairbloom tairgis; do
  f=target/release/lib$m.so; [ -f "$f" ] && args+=(--loadmodule "$PWD/$f")
done
valkey-server --port "$PORT" --dir "$dir" --save "" --appendonly no --daemonize yes \
  --logfile "$dir/log" "${args[@]}" >/dev/null
for _ in $(seq 100); do valkey-cli -p "$PORT" ping >/dev/null 2>&1 && break; sleep 0.05; done
cli() { valkey-cli -p "$PORT" "$@" >/dev/null; }

rps() { # prints requests/s of one valkey-benchmark run of the given command
  valkey-benchmark -p "$PORT" -P "$P" -c "$C" -n "$N" -r "$R" -q --csv "$@" 2>/dev/null \
    | awk -F'","' 'NR==2 {print $2+0}'
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

pair() { # label, native command..., --, module command...
  local label=$1; shift
  local native=() module=()
  while [ "$1" != "--" ]; do native+=("$1"); shift; done; shift
  module=("$@")
  local n=() m=()
  for _ in $(seq "$ROUNDS"); do n+=("$(rps "${native[@]}")"); m+=("$(rps "${module[@]}")"); done
  local nm mm; nm=$(printf '%s\n' "${n[@]}" | median); mm=$(printf '%s\n' "${m[@]}" | median)
  printf '| %s | %s | %.0f | %.0f | %.2f |\n' "$label" "${module[0]} vs ${native[0]}" "$nm" "$mm" \
    "$(awk -v a="$mm" -v b="$nm" 'BEGIN{print a/b}')"
}

groups=("$@"); [ ${#groups[@]} -gt 0 ] || groups=(string)
echo "valkey-benchmark -P $P -c $C -n $N -r $R, median of $ROUNDS rounds; $(nproc) cores"
echo
echo '| group | commands | native req/s | module req/s | ratio |'
echo '|---|---|---|---|---|'
for g in "${groups[@]}"; do
  case $g in
    string)
      # Fill both keyspaces so reads hit existing keys.
      rps SET s:__rand_int__ xxxxxxxxxxxxxxxx >/dev/null; rps EXSET e:__rand_int__ xxxxxxxxxxxxxxxx >/dev/null
      pair string SET s:__rand_int__ xxxxxxxxxxxxxxxx -- EXSET e:__rand_int__ xxxxxxxxxxxxxxxx
      pair string GET s:__rand_int__ -- EXGET e:__rand_int__
      ;;
    bloom)
      # One filter sized for the run (it never grows); the set holds the same items.
      cli DEL bl:s bl:f; cli TFBFRESERVE bl:f 0.01 1000000
      pair bloom SADD bl:s __rand_int__ -- TFBFADD bl:f __rand_int__
      pair bloom SISMEMBER bl:s __rand_int__ -- TFBFEXISTS bl:f __rand_int__
      ;;
    *) echo "unknown group $g" >&2; exit 2 ;;
  esac
done
