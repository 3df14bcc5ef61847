#!/usr/bin/env bash
# Long fuzzing of every target in fuzz/, then corpus minimisation and the
# rows of fuzz/README.md's table.
#
# Usage: scripts/fuzz-long.sh [MINUTES] [EXECS] [TARGET...]
#   MINUTES  time per target (default 30)
#   EXECS    executions per target; the run stops at whichever limit comes
#            first (default 10000000; 0: no limit on executions)
#   TARGET   only these targets (default: all of `cargo fuzz list`)
# Environment: FUZZ_TOOLCHAIN (default nightly), FUZZ_MAX_LEN (default 8192),
#   FUZZ_ARGS (more libFuzzer flags, e.g. "-fork=2" to use two cores).
#
# Each target starts from its committed minimised corpus (fuzz/corpus/T)
# and its seeds (fuzz/seeds/T); new inputs go to fuzz/scratch/T
# (gitignored). Afterwards the three are merged into a new minimal corpus
# with libFuzzer's -set_cover_merge=1 (like `cargo fuzz cmin`'s -merge=1,
# which keeps the same edges and features in about a third more files),
# which replaces fuzz/corpus/T: commit it. Crashes land in fuzz/artifacts/T. Prints one
# Markdown row per target (execs, time, edges and features covered by the
# minimised corpus, its size) and "N passed, N failed"; exits non-zero if
# any target failed.
set -uo pipefail

minutes="${1:-30}"
execs="${2:-10000000}"
shift $(( $# > 2 ? 2 : $# ))
toolchain="${FUZZ_TOOLCHAIN:-nightly}"
max_len="${FUZZ_MAX_LEN:-8192}"
cd "$(dirname "$0")/../fuzz"

if ! rustup run "$toolchain" rustc --version >/dev/null 2>&1; then
    rustup toolchain install "$toolchain" --profile minimal </dev/null || exit 1
fi
if ! cargo "+$toolchain" fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked </dev/null || exit 1
fi
cargo "+$toolchain" fuzz build </dev/null || { echo "0 passed, 1 failed"; exit 1; }

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    mapfile -t targets < <(cargo "+$toolchain" fuzz list)
fi

passed=0
failed=0
rows=()
mkdir -p logs
for target in "${targets[@]}"; do
    mkdir -p "corpus/$target" "scratch/$target" "seeds/$target"
    log="logs/$target-long.log"
    runs=()
    [ "$execs" -gt 0 ] && runs=(-runs="$execs")
    # shellcheck disable=SC2086
    if cargo "+$toolchain" fuzz run "$target" "scratch/$target" "corpus/$target" "seeds/$target" -- \
        -max_total_time=$((minutes * 60)) "${runs[@]}" -max_len="$max_len" \
        -print_final_stats=1 ${FUZZ_ARGS:-} </dev/null >"$log" 2>&1; then
        status=ok
        passed=$((passed + 1))
    else
        status=FAILED
        failed=$((failed + 1))
        echo "FAIL $target (log: fuzz/$log)"
        grep -E 'panicked at|SUMMARY|Test unit written' -A1 "$log" | head -20
    fi
    done_execs="$(grep -E '^stat::number_of_executed_units' "$log" | tail -1 | awk '{print $2}')"
    seconds="$(grep -E '^stat::average_exec_per_sec' "$log" | tail -1 | awk '{print $2}')"
    if [ -n "$done_execs" ] && [ -n "$seconds" ] && [ "$seconds" -gt 0 ]; then
        seconds=$((done_execs / seconds))
    else
        seconds="?"
    fi
    # Minimise: everything that adds coverage, from the old corpus, the new
    # inputs and the seeds, into a fresh directory that replaces the corpus.
    min="$(mktemp -d)"
    cargo "+$toolchain" fuzz run "$target" "$min" "corpus/$target" "scratch/$target" "seeds/$target" -- \
        -set_cover_merge=1 -max_len="$max_len" </dev/null >"logs/$target-merge.log" 2>&1
    if [ -n "$(ls -A "$min")" ]; then
        rm -rf "corpus/$target"
        mv "$min" "corpus/$target"
        rm -rf "scratch/$target"
    else
        rm -rf "$min"
        echo "merge of $target produced nothing (log: fuzz/logs/$target-merge.log); corpus kept"
    fi
    # Coverage of the minimised corpus: one pass over it.
    cargo "+$toolchain" fuzz run "$target" "corpus/$target" -- -runs=0 -max_len="$max_len" \
        </dev/null >"logs/$target-cov.log" 2>&1
    cov="$(grep -oE 'cov: [0-9]+' "logs/$target-cov.log" | tail -1 | awk '{print $2}')"
    ft="$(grep -oE 'ft: [0-9]+' "logs/$target-cov.log" | tail -1 | awk '{print $2}')"
    files="$(find "corpus/$target" -type f | wc -l)"
    kib="$(( $(find "corpus/$target" -type f -exec cat {} + | wc -c) / 1024 ))"
    rows+=("| \`$target\` | ${done_execs:-?} | ${seconds} s | ${cov:-?} | ${ft:-?} | $files files, $kib KiB | $status |")
done

echo
echo "| target | execs | time | edges (cov) | features (ft) | minimised corpus | result |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
printf '%s\n' "${rows[@]}"
echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
