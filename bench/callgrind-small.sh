#!/usr/bin/env bash
# Instructions per request (callgrind, repeatable) of the small-keys throughput pairs of
# bench/groups/small.sh: each module command beside its native one, on R random keys filled first.
# Prints a markdown table: Ir/request inside processCommand() (lookup, ACL, the command, its reply:
# repeatable) for native and module, the native command's Ir/request in the whole server without
# serverCron (reading, parsing, event loop: the part both share, which varies a little with how the
# pipelined requests arrive), and the expected throughput ratio module/native = native all /
# (native all - native processCommand + module processCommand).
# Env: R keys (1000), N requests (20000), P pipeline (16). Uses bench/callgrind.sh (one server per row).
set -euo pipefail
cd "$(dirname "$0")/.."
R=${R:-1000}; export N=${N:-20000} P=${P:-16}
fill() { # prefix lua-body-using-k
  printf 'EVAL "for i=0,%d do local k=\\"%s\\"..string.format(\\"%%012d\\",i) %s end" 0' "$((R - 1))" "$1" "$2"
}
# "processCommand all-but-cron" of one command
ir() { R=$R bench/callgrind.sh -s "$1" -- "${@:2}" 2>/dev/null | sed -n 's/.*, \([0-9]*\) in processCommand(), .*, \([0-9]*\) in all but serverCron$/\1 \2/p'; }
row() { # label native-fill module-fill -- native cmd... -- module cmd...
  local label=$1 nf=$2 mf=$3; shift 3; shift
  local native=() module=()
  while [ "$1" != "--" ]; do native+=("$1"); shift; done; shift
  module=("$@")
  local npc nall mpc
  read -r npc nall <<<"$(ir "$nf" "${native[@]}")"; read -r mpc _ <<<"$(ir "$mf" "${module[@]}")"
  printf '| %s | %s | %s | %s | %s | %.2f |\n' "$label" "${native[0]}" "$npc" "$mpc" "$nall" \
    "$(awk -v a="$nall" -v n="$npc" -v m="$mpc" 'BEGIN{print a/(a-n+m)}')"
}
h3="redis.call(\\\"HSET\\\",k,\\\"f1\\\",\\\"value01\\\",\\\"f2\\\",\\\"value02\\\",\\\"f3\\\",\\\"value03\\\")"
eh3="redis.call(\\\"EXHSET\\\",k,\\\"f1\\\",\\\"value01\\\") redis.call(\\\"EXHSET\\\",k,\\\"f2\\\",\\\"value02\\\") redis.call(\\\"EXHSET\\\",k,\\\"f3\\\",\\\"value03\\\")"
z3="redis.call(\\\"ZADD\\\",k,1,\\\"member1\\\",2,\\\"member2\\\",3,\\\"member3\\\")"
ez3="redis.call(\\\"EXZADD\\\",k,1,\\\"member1\\\",2,\\\"member2\\\",3,\\\"member3\\\")"
echo "| case ($R random keys, N=$N, -P $P) | native | native processCommand Ir/req | module processCommand Ir/req | native whole server Ir/req | expected module/native throughput |"
echo "|---|---|---|---|---|---|"
row "hash, 3 fields: overwrite f2" "$(fill hs: "$h3")" "$(fill he: "$eh3")" -- HSET hs:__rand_int__ f2 value02 -- EXHSET he:__rand_int__ f2 value02
row "hash, 3 fields: read f2" "$(fill hs: "$h3")" "$(fill he: "$eh3")" -- HGET hs:__rand_int__ f2 -- EXHGET he:__rand_int__ f2
row "zset, 3 members: re-add member2" "$(fill zs: "$z3")" "$(fill ze: "$ez3")" -- ZADD zs:__rand_int__ 2 member2 -- EXZADD ze:__rand_int__ 2 member2
row "zset, 3 members: score of member2" "$(fill zs: "$z3")" "$(fill ze: "$ez3")" -- ZSCORE zs:__rand_int__ member2 -- EXZSCORE ze:__rand_int__ member2
row "set / bloom, 1 item: add it again" "$(fill bs: "redis.call(\\\"SADD\\\",k,\\\"item1\\\")")" "$(fill be: "redis.call(\\\"TFBFADD\\\",k,\\\"item1\\\")")" -- SADD bs:__rand_int__ item1 -- TFBFADD be:__rand_int__ item1
row "set / bloom, 1 item: test it" "$(fill bs: "redis.call(\\\"SADD\\\",k,\\\"item1\\\")")" "$(fill be: "redis.call(\\\"TFBFADD\\\",k,\\\"item1\\\")")" -- SISMEMBER bs:__rand_int__ item1 -- TFBFEXISTS be:__rand_int__ item1
row "string, 7 bytes: overwrite" "$(fill ss: "redis.call(\\\"SET\\\",k,\\\"value01\\\")")" "$(fill se: "redis.call(\\\"EXSET\\\",k,\\\"value01\\\")")" -- SET ss:__rand_int__ value01 -- EXSET se:__rand_int__ value01
row "string, 7 bytes: read" "$(fill ss: "redis.call(\\\"SET\\\",k,\\\"value01\\\")")" "$(fill se: "redis.call(\\\"EXSET\\\",k,\\\"value01\\\")")" -- GET ss:__rand_int__ -- EXGET se:__rand_int__
row "hash, 1 field with a TTL: rewrite it (big keyspace, new keys)" "" "" -- HSET hs:__rand_int__ field xxxxxxxxxxxxxxxx -- EXHSET ht:__rand_int__ field xxxxxxxxxxxxxxxx EX 100000
