#!/usr/bin/env bash
# Runs every cargo-fuzz target of fuzz/ (one project, all modules) for a while and fails if any of them
# finds a crash, a failed check, a leak or a hang.
#
#   scripts/fuzz.sh [seconds] [target...]     seconds per target: $1, else $FUZZ_SECONDS, else 30
#
# FUZZ_JOBS targets run at a time (default 2). The fuzzers work on a temporary copy of the seed corpus
# (fuzz/corpus/<target>), so the tree stays clean; set FUZZ_KEEP_CORPUS=1 to merge what they found back.
# A failing input is kept under fuzz/artifacts/<target>/ (ignored by git; reproduce it with
# `RUSTC_BOOTSTRAP=1 cargo fuzz run <target> <file>`); keep it as a regression under
# fuzz/regressions/<target>/ once the bug is fixed (every file there is run first).
# Needs: the stable toolchain (RUSTC_BOOTSTRAP enables the -Z flags cargo-fuzz uses) and cargo-fuzz,
# installed here when missing.
set -euo pipefail

secs=${1:-${FUZZ_SECONDS:-30}}
[ $# -gt 0 ] && shift
jobs_max=${FUZZ_JOBS:-2}
root=$(cd "$(dirname "$0")/.." && pwd)
export RUSTC_BOOTSTRAP=1
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_odr_violation=0}

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "== installing cargo-fuzz"
    cargo install cargo-fuzz --locked
fi

cd "$root"
if [ $# -gt 0 ]; then
    targets="$*"
else
    targets=$(cargo fuzz list)
fi
echo "== building $(echo $targets | wc -w) fuzz targets"
# Optimised, with debug assertions (overflow checks) on: cargo-fuzz's default.
cargo fuzz build
triple=$(rustc -vV | sed -n 's/^host: //p')
bins="$root/fuzz/target/$triple/release"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

run_one() {
    local t=$1 corpus="$work/corpus/$1" log="$work/$1.log" res="$work/$1.result"
    mkdir -p "$corpus" "$root/fuzz/artifacts/$t"
    if [ -d "fuzz/corpus/$t" ]; then cp -R "fuzz/corpus/$t/." "$corpus/"; fi
    local status=0
    # Known regressions first (each must now pass), then the timed run.
    if [ -d "fuzz/regressions/$t" ] && [ -n "$(ls -A "fuzz/regressions/$t")" ]; then
        "$bins/$t" -runs=0 "fuzz/regressions/$t"/* >"$log.reg" 2>&1 || status=$?
        if [ $status -ne 0 ]; then
            echo "FAIL regression (see below)" >"$res"
            cat "$log.reg" >>"$log"
            return
        fi
    fi
    "$bins/$t" -max_total_time="$secs" -timeout=25 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$root/fuzz/artifacts/$t/" "$corpus" >"$log" 2>&1 || status=$?
    local runs
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    if [ $status -eq 0 ]; then
        echo "ok ${runs:-?} executions, corpus $(ls "$corpus" | wc -l)" >"$res"
        if [ "${FUZZ_KEEP_CORPUS:-0}" = 1 ]; then
            "$bins/$t" -merge=1 "fuzz/corpus/$t" "$corpus" >/dev/null 2>&1 || true
        fi
    else
        echo "FAIL (exit $status) after ${runs:-?} executions: $(ls "$root/fuzz/artifacts/$t" | tr '\n' ' ')" >"$res"
    fi
}

echo "== running each target for ${secs}s, $jobs_max at a time"
for t in $targets; do
    while [ "$(jobs -rp | wc -l)" -ge "$jobs_max" ]; do
        wait -n || true
    done
    run_one "$t" &
done
wait

failed=0
for t in $targets; do
    r=$(cat "$work/$t.result" 2>/dev/null || echo "FAIL (no result)")
    printf '%-22s %s\n' "$t" "$r"
    case $r in
        ok*) ;;
        *)
            failed=1
            echo "---- $t: the finding (full log: run the target on the input)"
            grep -E -A3 'Running: |panicked at|ERROR: AddressSanitizer|ERROR: LeakSanitizer|ERROR: libFuzzer|Test unit written|^SUMMARY' \
                "$work/$t.log" 2>/dev/null | head -n 40 || true
            ;;
    esac
done
if [ $failed -ne 0 ]; then
    echo "== fuzzing found failures (new inputs under fuzz/artifacts/<target>/, known ones under fuzz/regressions/<target>/)"
    exit 1
fi
echo "== all fuzz targets passed"
