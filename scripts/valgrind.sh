#!/usr/bin/env bash
# Valgrind memcheck of every module inside valkey-server (issue 15); see scripts/valgrind.md.
#
# Builds the six modules with the `system-alloc` feature into target/valgrind (their allocations then go
# through malloc, which memcheck tracks), then runs the ignored test tests/tests/valgrind.rs: a workload of
# every command of every module, SAVE / DEBUG RELOAD / AOF rewrite + restart, a replica, all under
# `valgrind --tool=memcheck --leak-check=full`. The test reads the memcheck logs and fails on any error or
# definite/indirect leak with a frame in module code; server-only noise is counted and reported.
#
# Env: VALKEY_BIN (default: valkey-server on PATH), SKIP_BUILD=1 (reuse target/valgrind).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
modules=(tairstring tairhash tairzset tairbloom tairdoc tairgis)
target="$root/target/valgrind"
command -v valgrind >/dev/null || { echo "valgrind.sh: install valgrind (apt-get install valgrind)" >&2; exit 1; }
server=$(command -v "${VALKEY_BIN:-valkey-server}") || { echo "valgrind.sh: no valkey-server" >&2; exit 1; }

if [ -z "${SKIP_BUILD:-}" ]; then
  pkgs=(); feats=()
  for m in "${modules[@]}"; do pkgs+=(-p "$m"); feats+=("$m/system-alloc"); done
  CARGO_TARGET_DIR="$target" cargo build --release "${pkgs[@]}" --features "$(IFS=,; echo "${feats[*]}")"
fi

# Debian's valkey-server links the system jemalloc and calls its sdallocx/nallocx besides malloc/free.
# Memcheck replaces malloc/free/malloc_usable_size (soname synonym below) but not those two, and jemalloc
# then crashes on a pointer it never allocated; this preload routes them to the replaced free/size.
mkdir -p "$target/valgrind-run"
shim="$target/valgrind-run/jemalloc-shim.so"
cat >"$target/valgrind-run/jemalloc-shim.c" <<'C'
#include <stdlib.h>
void sdallocx(void *ptr, size_t size, int flags) { (void)size; (void)flags; free(ptr); }
size_t nallocx(size_t size, int flags) { (void)flags; return size; }
C
cc -O2 -shared -fPIC -o "$shim" "$target/valgrind-run/jemalloc-shim.c"

# The server's own known false positive (as in Valkey's src/valgrind.sup): LZF reads its hash table
# uninitialised by design, under every compressed RDB string (module strings included).
supp="$target/valgrind-run/server.supp"
: >"$supp"
for kind in Cond Value4 Value8; do
  printf '{\n   lzf_uninitialized_hash_table\n   Memcheck:%s\n   fun:lzf_compress\n}\n' "$kind" >>"$supp"
done

logs="$target/valgrind-run/logs"
rm -rf "$logs"; mkdir -p "$logs"
wrapper="$target/valgrind-run/valkey-server-memcheck"
cat >"$wrapper" <<SH
#!/bin/sh
LD_PRELOAD="$shim" exec valgrind --tool=memcheck --soname-synonyms='somalloc=libjemalloc.so*' \\
  --leak-check=full --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect \\
  --suppressions="$supp" --num-callers=40 --log-file="$logs/memcheck.%p.log" "$server" "\$@"
SH
chmod +x "$wrapper"

VALKEY_SERVER="$wrapper" TAIR_MODULE_DIR="$target/release" TAIR_VALGRIND_LOGS="$logs" \
  cargo test --release -p tair-tests --test valgrind -- --ignored --nocapture --test-threads=1
echo "memcheck logs: $logs"
