#!/usr/bin/env bash
# Smoke run of every fuzz target in fuzz/ (STYLE.md habit 8).
#
# Usage: scripts/fuzz-smoke.sh [SECONDS]    (default 20 seconds per target)
#
# Installs cargo-fuzz (and the nightly toolchain) if missing, builds every
# target on nightly (release, debug assertions, AddressSanitizer), then runs
# each one for SECONDS starting from its committed minimised corpus
# (fuzz/corpus/<target>/) and its seeds (fuzz/seeds/<target>/); new inputs
# go to fuzz/scratch/<target>/ (gitignored; scripts/fuzz-long.sh merges
# them into the corpus), crashes to fuzz/artifacts/<target>/.
# A target passes when libFuzzer exits 0. Ends with "N passed, N failed" and
# exits non-zero if any target failed. Needs no terminal (CI=true is fine).
set -uo pipefail

seconds="${1:-20}"
toolchain="${FUZZ_TOOLCHAIN:-nightly}"
cd "$(dirname "$0")/../fuzz"

if ! rustup run "$toolchain" rustc --version >/dev/null 2>&1; then
    rustup toolchain install "$toolchain" --profile minimal </dev/null || exit 1
fi
if ! cargo "+$toolchain" fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked </dev/null || exit 1
fi
if ! cargo "+$toolchain" fuzz build </dev/null; then
    echo "build failed"
    echo "0 passed, 1 failed"
    exit 1
fi

passed=0
failed=0
mkdir -p logs
for target in $(cargo "+$toolchain" fuzz list); do
    mkdir -p "corpus/$target" "scratch/$target" "seeds/$target"
    log="logs/$target.log"
    if cargo "+$toolchain" fuzz run "$target" "scratch/$target" "corpus/$target" "seeds/$target" -- \
        -max_total_time="$seconds" -max_len=8192 -print_final_stats=1 </dev/null >"$log" 2>&1; then
        passed=$((passed + 1))
        echo "PASS $target: $(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}') execs"
    else
        failed=$((failed + 1))
        echo "FAIL $target (log: fuzz/$log)"
        grep -E 'panicked at|SUMMARY|Test unit written' -A1 "$log" | head -20
    fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
