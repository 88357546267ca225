#!/usr/bin/env bash
# Module commands beside their native counterparts, in one run, on one server with every built module.
# Usage: bench/run.sh [group ...]   (groups: string bloom zset hash, plus bench/groups/*.sh; default: all)
# Env: PORT (7379), N requests per round (500000), P pipeline (16), C clients (50), ROUNDS (5), R keyspace (100000),
#      REPLICA=1 to attach a replica (port PORT+1) first, so every write is propagated (module writes then
#      build their rewritten forms; with nothing listening they skip that, as the server skips its own),
#      PIN=0 to leave the processes unpinned.
# Prints a markdown table: median requests/s over the rounds, the median of the per-round module/native
# ratios (with their range), and the server's main-thread CPU time per request (INFO cpu) with the
# per-round native/module ratios (>= 1: the module command costs the server no more than the native one).
# Each round runs native then module back to back, so both see the same machine state.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${PORT:-7379}; N=${N:-500000}; P=${P:-16}; C=${C:-50}; ROUNDS=${ROUNDS:-5}; R=${R:-100000}
# With 2+ cores the server runs on CPU 0 and the load generator (and a replica) on CPU 1, so neither
# takes the other's core; PIN=0 turns this off.
PIN_SERVER=; PIN_CLIENT=
if [ "${PIN:-1}" = 1 ] && [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
  PIN_SERVER="taskset -c 0"; PIN_CLIENT="taskset -c 1"
fi
dir=$(mktemp -d); trap 'valkey-cli -p $PORT shutdown nosave >/dev/null 2>&1 || true; rm -rf "$dir"' EXIT
args=()
for m in tairstring tairhash tairzset tairdoc tairbloom tairgis; do
  f=${CARGO_TARGET_DIR:-$PWD/target}/release/lib$m.so; [ -f "$f" ] && args+=(--loadmodule "$f")
done
$PIN_SERVER valkey-server --port "$PORT" --dir "$dir" --save "" --appendonly no --daemonize yes \
  --logfile "$dir/log" "${args[@]}" >/dev/null
for _ in $(seq 100); do valkey-cli -p "$PORT" ping >/dev/null 2>&1 && break; sleep 0.05; done
if [ "${REPLICA:-0}" = 1 ]; then
  RPORT=$((PORT + 1)); mkdir -p "$dir/replica"
  $PIN_CLIENT valkey-server --port "$RPORT" --dir "$dir/replica" --save "" --appendonly no --daemonize yes \
    --logfile "$dir/replica/log" --replicaof 127.0.0.1 "$PORT" "${args[@]}" >/dev/null
  trap 'valkey-cli -p $RPORT shutdown nosave >/dev/null 2>&1 || true; valkey-cli -p $PORT shutdown nosave >/dev/null 2>&1 || true; rm -rf "$dir"' EXIT
  for _ in $(seq 200); do
    valkey-cli -p "$RPORT" INFO replication 2>/dev/null | grep -q "master_link_status:up" && break; sleep 0.05
  done
fi
cli() { valkey-cli -p "$PORT" "$@" >/dev/null; }

cpu() { # server main-thread CPU seconds (user + sys)
  valkey-cli -p "$PORT" INFO cpu | tr -d '\r' | awk -F: '/^used_cpu_(user|sys)_main_thread:/ {s += $2} END {printf "%.6f", s}'
}
CPUFILE=$(mktemp)
rps() { # prints requests/s of one valkey-benchmark run of the given command; server CPU us/request -> $CPUFILE
  local c0 c1 out
  c0=$(cpu)
  out=$($PIN_CLIENT valkey-benchmark -p "$PORT" -P "$P" -c "$C" -n "$N" -r "$R" -q --csv "$@" 2>/dev/null \
    | awk -F'","' 'NR==2 {print $2+0}')
  c1=$(cpu)
  awk -v a="$c0" -v b="$c1" -v n="$N" 'BEGIN {printf "%.4f\n", (b - a) * 1e6 / n}' >> "$CPUFILE"
  echo "$out"
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

pair() { # label, native command..., --, module command...
  local label=$1; shift
  local native=() module=()
  while [ "$1" != "--" ]; do native+=("$1"); shift; done; shift
  module=("$@")
  local n=() m=() nc=() mc=()
  for _ in $(seq "$ROUNDS"); do
    : > "$CPUFILE"; n+=("$(rps "${native[@]}")"); nc+=("$(cat "$CPUFILE")")
    : > "$CPUFILE"; m+=("$(rps "${module[@]}")"); mc+=("$(cat "$CPUFILE")")
  done
  # Each round runs native then module back to back, so a round's ratio compares like with like; the
  # table gives the medians and, for the ratios, the median of the per-round ratios with their range.
  local nm mm ncm mcm ratios=() cratios=()
  for i in "${!n[@]}"; do
    ratios+=("$(awk -v a="${m[$i]}" -v b="${n[$i]}" 'BEGIN{printf "%.4f", a/b}')")
    cratios+=("$(awk -v a="${nc[$i]}" -v b="${mc[$i]}" 'BEGIN{printf "%.4f", a/b}')")
  done
  nm=$(printf '%s\n' "${n[@]}" | median); mm=$(printf '%s\n' "${m[@]}" | median)
  ncm=$(printf '%s\n' "${nc[@]}" | median); mcm=$(printf '%s\n' "${mc[@]}" | median)
  range() { sort -n | awk '{a[NR]=$1} END {printf "%.2f (%.2f-%.2f)", a[int((NR+1)/2)], a[1], a[NR]}'; }
  printf '| %s | %s | %.0f | %.0f | %s | %.3f | %.3f | %s |\n' "$label" "${module[0]} vs ${native[0]}" \
    "$nm" "$mm" "$(printf '%s\n' "${ratios[@]}" | range)" \
    "$ncm" "$mcm" "$(printf '%s\n' "${cratios[@]}" | range)"
}

groups=("$@")
if [ ${#groups[@]} -eq 0 ]; then
  groups=(string bloom zset hash)
  for f in bench/groups/*.sh; do [ -f "$f" ] && groups+=("$(basename "$f" .sh)"); done
fi
echo "valkey-benchmark -P $P -c $C -n $N -r $R, median of $ROUNDS rounds; $(nproc) cores$([ "${REPLICA:-0}" = 1 ] && echo '; one replica attached')"
echo
echo '| group | commands | native req/s | module req/s | ratio | native server CPU us/req | module server CPU us/req | CPU ratio (native/module) |'
echo '|---|---|---|---|---|---|---|---|'
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
    zset)
      # Synchronous DEL, so memory figures do not move while a big set is freed in the background.
      cli CONFIG SET lazyfree-lazy-user-del no
      # Random members (up to R distinct) into one key per command; EXZADD with one and two dimensions.
      cli DEL zs:n zs:n2 zs:m zs:m2
      pair zset ZADD zs:n __rand_int__ m:__rand_int__ -- EXZADD zs:m __rand_int__ m:__rand_int__
      pair zset ZADD zs:n2 __rand_int__ m:__rand_int__ -- EXZADD zs:m2 __rand_int__#__rand_int__ m:__rand_int__
      pair zset ZSCORE zs:n m:__rand_int__ -- EXZSCORE zs:m m:__rand_int__
      pair zset ZRANGE zs:n 0 9 WITHSCORES -- EXZRANGE zs:m 0 9 WITHSCORES
      # Rank lookups on 10,000 and 1,000,000 members (m:<12-digit i>, as __rand_int__ writes them).
      fill() { # cmd key n dims
        valkey-cli -p "$PORT" EVAL "local s = ARGV[3] == '2' and '#7' or '' for i = 0, tonumber(ARGV[2]) - 1 do redis.call(ARGV[1], KEYS[1], tostring(i % 100003) .. (ARGV[1] == 'EXZADD' and s or ''), string.format('m:%012d', i)) end" 1 "$2" "$1" "$3" "$4" >/dev/null
      }
      cli DEL zr:n zr:m zr:N zr:M
      fill ZADD zr:n 10000 1; fill EXZADD zr:m 10000 1; fill ZADD zr:N 1000000 1; fill EXZADD zr:M 1000000 1
      R=10000 pair zset-10k ZRANK zr:n m:__rand_int__ -- EXZRANK zr:m m:__rand_int__
      R=1000000 pair zset-1M ZRANK zr:N m:__rand_int__ -- EXZRANK zr:M m:__rand_int__
      cli DEL zr:n zr:m zr:N zr:M zs:n zs:n2 zs:m zs:m2
      # Bytes per member: used_memory growth for 1,000,000 members (14-byte names), ZADD beside EXZADD.
      mem() { valkey-cli -p "$PORT" INFO memory | awk -F: '/^used_memory:/ {print $2+0}'; }
      for dims in 1 2; do
        b0=$(mem); fill ZADD zb:n 1000000 "$dims"; b1=$(mem); cli DEL zb:n
        b2=$(mem); fill EXZADD zb:m 1000000 "$dims"; b3=$(mem); cli DEL zb:m
        printf '| zset-mem | bytes/member, 1M members, %s dim (EXZADD vs ZADD) | %.1f | %.1f | %.2f | | | |\n' "$dims" \
          "$(awk -v a="$b1" -v b="$b0" 'BEGIN{print (a-b)/1e6}')" "$(awk -v a="$b3" -v b="$b2" 'BEGIN{print (a-b)/1e6}')" \
          "$(awk -v a="$b3" -v b="$b2" -v c="$b1" -v d="$b0" 'BEGIN{print (a-b)/(c-d)}')"
      done
      ;;
    hash)
      # Random keys, one field each (filled first so reads hit); EXHSET with a field TTL beside HSET.
      rps HSET hs:__rand_int__ field xxxxxxxxxxxxxxxx >/dev/null
      rps EXHSET he:__rand_int__ field xxxxxxxxxxxxxxxx >/dev/null
      pair hash HSET hs:__rand_int__ field xxxxxxxxxxxxxxxx -- EXHSET he:__rand_int__ field xxxxxxxxxxxxxxxx
      pair hash HGET hs:__rand_int__ field -- EXHGET he:__rand_int__ field
      pair hash-ttl HSET hs:__rand_int__ field xxxxxxxxxxxxxxxx -- EXHSET ht:__rand_int__ field xxxxxxxxxxxxxxxx EX 100000
      cli FLUSHALL SYNC
      # Bytes per field: used_memory growth for 1,000,000 fields (14-byte names, 16-byte values) in one
      # key: HSET, EXHSET, EXHSET with a TTL. Synchronous DEL, so the figures do not move meanwhile.
      cli CONFIG SET lazyfree-lazy-user-del no
      mem() { valkey-cli -p "$PORT" INFO memory | awk -F: '/^used_memory:/ {print $2+0}'; }
      hfill() { # key n command extra...
        valkey-cli -p "$PORT" EVAL "for i = 0, tonumber(ARGV[1]) - 1 do redis.call(ARGV[2], KEYS[1], string.format('f:%012d', i), 'xxxxxxxxxxxxxxxx', unpack(ARGV, 3)) end" 1 "$1" "$2" "${@:3}" >/dev/null
      }
      b0=$(mem); hfill hm:n 1000000 HSET; b1=$(mem); cli DEL hm:n
      for variant in plain ttl; do
        extra=(); [ $variant = ttl ] && extra=(EX 100000)
        b2=$(mem); hfill hm:m 1000000 EXHSET "${extra[@]}"; b3=$(mem); cli DEL hm:m
        printf '| hash-mem | bytes/field, 1M fields, %s (EXHSET vs HSET) | %.1f | %.1f | %.2f | | | |\n' "$variant" \
          "$(awk -v a="$b1" -v b="$b0" 'BEGIN{print (a-b)/1e6}')" "$(awk -v a="$b3" -v b="$b2" 'BEGIN{print (a-b)/1e6}')" \
          "$(awk -v a="$b3" -v b="$b2" -v c="$b1" -v d="$b0" 'BEGIN{print (a-b)/(c-d)}')"
      done
      ;;
    *)
      # A module's own group lives in bench/groups/<group>.sh, sourced here with every helper above.
      if [ -f "bench/groups/$g.sh" ]; then source "bench/groups/$g.sh"; else echo "unknown group $g" >&2; exit 2; fi
      ;;
  esac
done
