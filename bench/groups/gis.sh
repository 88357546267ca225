# tairgis group (sourced by bench/run.sh with pair/rps/cli): "which zone holds this point?" over 10,000
# squares of 0.01 degree on a 100 x 100 grid (GIS.CONTAINS) beside the nearest of the 10,000 centres as
# GEO points (GEOSEARCH ... BYRADIUS 600 m ASC COUNT 1); the same GIS.CONTAINS over 1,000,000 squares
# (1000 x 1000 grid) against the 10,000; bytes per 5-vertex polygon member beside GEOADD's per point.
cli CONFIG SET lazyfree-lazy-user-del no
# key n side x0 y0 [cmd]: n squares (GIS.ADD) or their centres (GEOADD) row by row on a side-wide grid.
gisfill() {
  valkey-cli -p "$PORT" EVAL "
    local n, s, x0, y0 = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
    for i = 0, n - 1 do
      local x = x0 + (i % s) * 0.01
      local y = y0 + math.floor(i / s) * 0.01
      if ARGV[5] == 'GEOADD' then
        redis.call('GEOADD', KEYS[1], x + 0.005, y + 0.005, string.format('z:%d', i))
      else
        redis.call('GIS.ADD', KEYS[1], string.format('z:%d', i), string.format(
          'POLYGON((%.2f %.2f,%.2f %.2f,%.2f %.2f,%.2f %.2f,%.2f %.2f))',
          x, y, x + 0.01, y, x + 0.01, y + 0.01, x, y + 0.01, x, y))
      end
    end" 1 "$1" "$2" "$3" "$4" "$5" "${6:-GIS.ADD}" >/dev/null
}
cli DEL gis:zones gis:pts gis:big
gisfill gis:zones 10000 100 120 30
gisfill gis:pts 10000 100 120 30 GEOADD
pair gis-10k GEOSEARCH gis:pts FROMLONLAT 120.505 30.505 BYRADIUS 600 m ASC COUNT 1 \
  -- GIS.CONTAINS gis:zones 'POINT (120.505 30.505)'
# Logarithmic, not linear: the "native" column here is GIS.CONTAINS over 10,000 squares, the module
# column the same query over 1,000,000 (ratio = rate at 1M / rate at 10k).
gisfill gis:big 1000000 1000 100 20
pair gis-1M-vs-10k GIS.CONTAINS gis:zones 'POINT (120.505 30.505)' \
  -- GIS.CONTAINS gis:big 'POINT (105.005 25.005)'
cli DEL gis:zones gis:pts gis:big
# Bytes per member: used_memory growth for 1,000,000 members (8-10 byte names), GEOADD beside GIS.ADD of
# 5-vertex squares.
gismem() { valkey-cli -p "$PORT" INFO memory | awk -F: '/^used_memory:/ {print $2+0}'; }
b0=$(gismem); gisfill gis:mp 1000000 1000 100 20 GEOADD; b1=$(gismem); cli DEL gis:mp
b2=$(gismem); gisfill gis:mz 1000000 1000 100 20; b3=$(gismem); cli DEL gis:mz
printf '| gis-mem | bytes/member, 1M members (GIS.ADD 5-vertex polygon vs GEOADD point) | %.1f | %.1f | %.2f | | | |\n' \
  "$(awk -v a="$b1" -v b="$b0" 'BEGIN{print (a-b)/1e6}')" "$(awk -v a="$b3" -v b="$b2" 'BEGIN{print (a-b)/1e6}')" \
  "$(awk -v a="$b3" -v b="$b2" -v c="$b1" -v d="$b0" 'BEGIN{print (a-b)/(c-d)}')"
