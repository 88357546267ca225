# Many small keys (sourced by bench/run.sh with pair/rps/cli): bytes per key of 1,000,000 keys of each
# small case beside the native type in the same server (used_memory growth, the key itself included),
# then throughput on random keys of those sizes (keys filled first, so reads hit and writes overwrite).
# SMALL_KEYS overrides the 1,000,000; SMALL_THROUGHPUT=0 gives the memory rows only.
cli CONFIG SET lazyfree-lazy-user-del no
cli FLUSHALL SYNC
SK=${SMALL_KEYS:-1000000}
mem() { valkey-cli -p "$PORT" INFO memory | awk -F: '/^used_memory:/ {print $2+0}'; }
# kfill prefix n 'lua body using k (the key) and i': n keys, in chunks of 100,000 per script.
kfill() {
  local prefix=$1 n=$2 body=$3 from=0
  while [ "$from" -lt "$n" ]; do
    valkey-cli -p "$PORT" EVAL "for i = tonumber(ARGV[2]), math.min(tonumber(ARGV[2]) + 99999, tonumber(ARGV[3]) - 1) do local k = ARGV[1] .. string.format('%012d', i) $body end" 0 "$prefix" "$from" "$n" >/dev/null
    from=$((from + 100000))
  done
}
# smem label 'native lua' 'module lua' [note]: bytes/key of each over SK keys; both sets then removed.
smem() {
  local b0 b1 b2 b3
  b0=$(mem); kfill sn: "$SK" "$2"; b1=$(mem)
  b2=$(mem); kfill sm: "$SK" "$3"; b3=$(mem)
  cli FLUSHALL SYNC
  printf '| small-mem | bytes/key, %s keys: %s | %.1f | %.1f | %.2f | | | |\n' "$SK" "$1" \
    "$(awk -v a="$b1" -v b="$b0" -v n="$SK" 'BEGIN{print (a-b)/n}')" "$(awk -v a="$b3" -v b="$b2" -v n="$SK" 'BEGIN{print (a-b)/n}')" \
    "$(awk -v a="$b3" -v b="$b2" -v c="$b1" -v d="$b0" 'BEGIN{print (a-b)/(c-d)}')"
}
smem "hash 1 field (EXHSET vs HSET)" \
  "redis.call('HSET', k, 'f1', 'value01')" "redis.call('EXHSET', k, 'f1', 'value01')"
smem "hash 3 fields (EXHSET vs HSET)" \
  "redis.call('HSET', k, 'f1', 'value01', 'f2', 'value02', 'f3', 'value03')" \
  "redis.call('EXHSET', k, 'f1', 'value01') redis.call('EXHSET', k, 'f2', 'value02') redis.call('EXHSET', k, 'f3', 'value03')"
smem "hash 3 fields each with a TTL (EXHSET EX vs HSET without)" \
  "redis.call('HSET', k, 'f1', 'value01', 'f2', 'value02', 'f3', 'value03')" \
  "redis.call('EXHSET', k, 'f1', 'value01', 'EX', 100000) redis.call('EXHSET', k, 'f2', 'value02', 'EX', 100000) redis.call('EXHSET', k, 'f3', 'value03', 'EX', 100000)"
smem "sorted set 1 member (EXZADD vs ZADD)" \
  "redis.call('ZADD', k, i % 1000, 'member1')" "redis.call('EXZADD', k, i % 1000, 'member1')"
smem "sorted set 3 members (EXZADD vs ZADD)" \
  "redis.call('ZADD', k, 1, 'member1', 2, 'member2', 3, 'member3')" \
  "redis.call('EXZADD', k, 1, 'member1', 2, 'member2', 3, 'member3')"
smem "string, 7-byte value (EXSET vs SET)" \
  "redis.call('SET', k, 'value01')" "redis.call('EXSET', k, 'value01')"
smem "Bloom filter, capacity 100, one item (TFBFADD vs SADD)" \
  "redis.call('SADD', k, 'item1')" "redis.call('TFBFADD', k, 'item1')"
# The bit array of a default filter (capacity 100 at the default error rate), for the bar "bits + 96 B".
cli TFBFADD bloom:probe item1
printf '| small-mem | a default filter'"'"'s bit array (TFBF.INFO / MEMORY USAGE): %s bytes; MEMORY USAGE %s | | | | | | |\n' \
  "$(valkey-cli -p "$PORT" TFBFINFO bloom:probe 2>/dev/null | awk 'p {print; exit} /^Size$/ {p=1}')" \
  "$(valkey-cli -p "$PORT" MEMORY USAGE bloom:probe SAMPLES 0)"
cli DEL bloom:probe
# Throughput on random small keys: R keys of each case, filled first (SMALL_THROUGHPUT=0 skips it).
if [ "${SMALL_THROUGHPUT:-1}" = 1 ]; then
RS=${SMALL_R:-100000}
kfill hs: "$RS" "redis.call('HSET', k, 'f1', 'value01', 'f2', 'value02', 'f3', 'value03')"
kfill he: "$RS" "redis.call('EXHSET', k, 'f1', 'value01') redis.call('EXHSET', k, 'f2', 'value02') redis.call('EXHSET', k, 'f3', 'value03')"
kfill zs: "$RS" "redis.call('ZADD', k, 1, 'member1', 2, 'member2', 3, 'member3')"
kfill ze: "$RS" "redis.call('EXZADD', k, 1, 'member1', 2, 'member2', 3, 'member3')"
kfill bs: "$RS" "redis.call('SADD', k, 'item1')"
kfill be: "$RS" "redis.call('TFBFADD', k, 'item1')"
kfill ss: "$RS" "redis.call('SET', k, 'value01')"
kfill se: "$RS" "redis.call('EXSET', k, 'value01')"
R=$RS pair small HSET hs:__rand_int__ f2 value02 -- EXHSET he:__rand_int__ f2 value02
R=$RS pair small HGET hs:__rand_int__ f2 -- EXHGET he:__rand_int__ f2
R=$RS pair small ZADD zs:__rand_int__ 2 member2 -- EXZADD ze:__rand_int__ 2 member2
R=$RS pair small ZSCORE zs:__rand_int__ member2 -- EXZSCORE ze:__rand_int__ member2
R=$RS pair small SADD bs:__rand_int__ item1 -- TFBFADD be:__rand_int__ item1
R=$RS pair small SISMEMBER bs:__rand_int__ item1 -- TFBFEXISTS be:__rand_int__ item1
R=$RS pair small SET ss:__rand_int__ value01 -- EXSET se:__rand_int__ value01
R=$RS pair small GET ss:__rand_int__ -- EXGET se:__rand_int__
cli FLUSHALL SYNC
fi
