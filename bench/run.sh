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
        printf '| zset-mem | bytes/member, 1M members, %s dim (EXZADD vs ZADD) | %.1f | %.1f | %.2f |\n' "$dims" \
          "$(awk -v a="$b1" -v b="$b0" 'BEGIN{print (a-b)/1e6}')" "$(awk -v a="$b3" -v b="$b2" 'BEGIN{print (a-b)/1e6}')" \
          "$(awk -v a="$b3" -v b="$b2" -v c="$b1" -v d="$b0" 'BEGIN{print (a-b)/(c-d)}')"
      done
      ;;
    *) echo "unknown group $g" >&2; exit 2 ;;
  esac
done
