#!/usr/bin/env bash
# Builds the libFuzzer harnesses with the fuzzer and address sanitizers and runs each for a bounded time.
#
#   FuzzTesting/run.sh [SECONDS] [HARNESS ...]     (default: 45 s each, all four harnesses)
#
# Seeds come from Corpus/<Harness>/ (read only: new inputs go to a scratch folder); a crash, leak, timeout
# (-timeout=10 s per input) or memory blow-up (-rss_limit_mb=2048) is written to FailCases/<Harness>/ and makes
# the script exit 1. Commit what lands in FailCases: the main test suite replays it (FuzzReplayTests).
set -u
cd "$(dirname "$0")"
seconds=${1:-45}
shift || true
harnesses=("$@")
[ ${#harnesses[@]} -gt 0 ] || harnesses=(FuzzSafetensors FuzzTorchArchive FuzzImageDecode FuzzDatasetList)

flags=(-c release -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library)
swift build "${flags[@]}" || { echo "run.sh: build failed" >&2; exit 2; }
bin=$(swift build "${flags[@]}" --show-bin-path)

status=0
for harness in "${harnesses[@]}"; do
    scratch=$(mktemp -d)
    log="$scratch/log"
    mkdir -p "FailCases/$harness"
    "$bin/$harness" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
        -artifact_prefix="FailCases/$harness/" "$scratch" "Corpus/$harness" >"$log" 2>&1
    rc=$?
    execs=$(awk '/stat::number_of_executed_units/ {print $2}' "$log")
    echo "$harness: ${execs:-?} executions in ${seconds} s (exit $rc)"
    if [ $rc -ne 0 ]; then
        status=1
        tail -n 40 "$log"
    fi
    rm -rf "$scratch"
done
exit $status
