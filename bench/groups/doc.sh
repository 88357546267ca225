# tairdoc group (sourced by bench/run.sh with pair/rps/cli): path read vs GET, whole-document set vs SET,
# and a point update in a 1 MB document vs in the 1 KB one. The document is the 976-byte benchmark shape.
DOC1K='{"owner":{"id":1001,"name":"Alice Example","email":"alice@example.com","tags":["vip","beta"]},"store":{"name":"Corner Books","address":{"street":"12 Long Road","city":"Hangzhou","zip":"310000"},"book":[{"category":"reference","author":"Nigel Rees","title":"Sayings of the Century","price":8.95,"isbn":"0-553-21311-1"},{"category":"fiction","author":"Evelyn Waugh","title":"Sword of Honour","price":12.99,"isbn":"0-553-21311-2"},{"category":"fiction","author":"Herman Melville","title":"Moby Dick","price":8.99,"isbn":"0-553-21311-3"},{"category":"fiction","author":"J. R. R. Tolkien","title":"The Lord of the Rings","price":22.99,"isbn":"0-395-19395-8"}],"bicycle":{"color":"red","price":19.95,"gears":21}},"updated":"2026-12-05T12:00:00Z","flags":{"open":true,"rating":4.5,"notes":null},"history":[{"at":"2026-01-01","what":"opened"},{"at":"2026-06-01","what":"renovated the front room and the cafe"}],"padding":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}'
# run.sh's rps, reading requests/s counted from the end of the CSV line: the document text holds `","`,
# which splits the quoted test name (the same figure for every other command).
rps() {
  local c0 c1 out
  c0=$(cpu)
  out=$($PIN_CLIENT valkey-benchmark -p "$PORT" -P "$P" -c "$C" -n "$N" -r "$R" -q --csv "$@" 2>/dev/null \
    | awk -F'","' 'NR==2 {print $(NF-6)+0}')
  c1=$(cpu)
  awk -v a="$c0" -v b="$c1" -v n="$N" 'BEGIN {printf "%.4f\n", (b - a) * 1e6 / n}' >> "$CPUFILE"
  echo "$out"
}
cli SET doc:n "$DOC1K"
cli EXJSONSET doc:m '$' "$DOC1K"
pair doc-get GET doc:n -- EXJSONGET doc:m '$.store.book[1].title'
pair doc-set SET doc:n2 "$DOC1K" -- EXJSONSET doc:m2 '$' "$DOC1K"
# 1 MB document: the 1 KB shape plus a "bulk" array of 1,300 copies (787 KB) of its store.
# (sent on stdin with valkey-cli -x: too long for a command line)
python3 -c 'import json,sys; d=json.loads(sys.argv[1]); d["bulk"]=[d["store"]]*1300; print(json.dumps(d,separators=(",",":")))' "$DOC1K" \
  | valkey-cli -p "$PORT" -x EXJSONSET doc:big '$' >/dev/null
pair doc-incr EXJSONNUMINCRBY doc:m '$.owner.id' 1 -- EXJSONNUMINCRBY doc:big '$.owner.id' 1
# Bytes per stored document: used_memory growth for 20,000 keys holding the 1 KB document, against its
# compact text length (the issue's bar: at most 2.0x), with SET of the same text beside it.
cli CONFIG SET lazyfree-lazy-user-del no
mem() { valkey-cli -p "$PORT" INFO memory | awk -F: '/^used_memory:/ {print $2+0}'; }
dfill() { # command prefix
  valkey-cli -p "$PORT" EVAL "for i = 1, 20000 do if ARGV[1] == 'SET' then redis.call('SET', ARGV[2] .. i, ARGV[3]) else redis.call(ARGV[1], ARGV[2] .. i, '\$', ARGV[3]) end end" 0 "$1" "$2" "$DOC1K" >/dev/null
}
b0=$(mem); dfill SET dms:; b1=$(mem)
b2=$(mem); dfill EXJSONSET dmj:; b3=$(mem)
len=$(printf '%s' "$DOC1K" | wc -c)
printf '| doc-mem | bytes/document, 20,000 x %s-byte text (EXJSONSET vs SET); module/text %.2f | %.1f | %.1f | %.2f | | | |\n' "$len" \
  "$(awk -v a="$b3" -v b="$b2" -v l="$len" 'BEGIN{print (a-b)/20000/l}')" \
  "$(awk -v a="$b1" -v b="$b0" 'BEGIN{print (a-b)/20000}')" "$(awk -v a="$b3" -v b="$b2" 'BEGIN{print (a-b)/20000}')" \
  "$(awk -v a="$b3" -v b="$b2" -v c="$b1" -v d="$b0" 'BEGIN{print (a-b)/(c-d)}')"
