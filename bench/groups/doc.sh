# tairdoc group (sourced by bench/run.sh with pair/rps/cli): path read vs GET, whole-document set vs SET,
# and a point update in a 1 MB document vs in the 1 KB one. The document is the 976-byte benchmark shape.
DOC1K='{"owner":{"id":1001,"name":"Alice Example","email":"alice@example.com","tags":["vip","beta"]},"store":{"name":"Corner Books","address":{"street":"12 Long Road","city":"Hangzhou","zip":"310000"},"book":[{"category":"reference","author":"Nigel Rees","title":"Sayings of the Century","price":8.95,"isbn":"0-553-21311-1"},{"category":"fiction","author":"Evelyn Waugh","title":"Sword of Honour","price":12.99,"isbn":"0-553-21311-2"},{"category":"fiction","author":"Herman Melville","title":"Moby Dick","price":8.99,"isbn":"0-553-21311-3"},{"category":"fiction","author":"J. R. R. Tolkien","title":"The Lord of the Rings","price":22.99,"isbn":"0-395-19395-8"}],"bicycle":{"color":"red","price":19.95,"gears":21}},"updated":"2026-12-05T12:00:00Z","flags":{"open":true,"rating":4.5,"notes":null},"history":[{"at":"2026-01-01","what":"opened"},{"at":"2026-06-01","what":"renovated the front room and the cafe"}],"padding":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}'
cli SET doc:n "$DOC1K"
cli EXJSONSET doc:m '$' "$DOC1K"
pair doc-get GET doc:n -- EXJSONGET doc:m '$.store.book[1].title'
pair doc-set SET doc:n2 "$DOC1K" -- EXJSONSET doc:m2 '$' "$DOC1K"
# 1 MB document: the 1 KB shape plus a "bulk" array of 1,300 copies (787 KB) of its store.
# (sent on stdin with valkey-cli -x: too long for a command line)
python3 -c 'import json,sys; d=json.loads(sys.argv[1]); d["bulk"]=[d["store"]]*1300; print(json.dumps(d,separators=(",",":")))' "$DOC1K" \
  | valkey-cli -p "$PORT" -x EXJSONSET doc:big '$' >/dev/null
pair doc-incr EXJSONNUMINCRBY doc:m '$.owner.id' 1 -- EXJSONNUMINCRBY doc:big '$.owner.id' 1
