#!/usr/bin/env bash
# Build the libFuzzer targets with clang, ASan and UBSan, and run each for SECONDS (default 20)
# on its committed seed corpus (tests/fuzz/corpus/NAME, copied so the repository stays as it
# is). A crash fails the run and leaves the input in build/fuzz/crashes: turn it into a
# regression test before fixing it.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-20}
build=build/fuzz
# Every target, with its corpus in tests/fuzz/corpus/NAME. 13 x 15 s, two at a time on two
# cores, keeps the CI stage near 1 min 45 s of fuzzing.
targets=(config stub_status trace upstream policy_json log_message keystone nova chef sensu
         prometheus endpoint octavia)
# SCLMAN_FUZZ_TARGETS="chef sensu" runs only those.
if [ -n "${SCLMAN_FUZZ_TARGETS:-}" ]; then
  read -ra targets <<< "$SCLMAN_FUZZ_TARGETS"
fi
mkdir -p build
cmake -S . -B "$build" -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=Debug \
  -DSCLMAN_SANITIZE=ON -DSCLMAN_FUZZ=ON -DSCLMAN_TESTS=OFF > "$build.configure.log" 2>&1 \
  || { cat "$build.configure.log"; exit 1; }
cmake --build "$build" -j"$(nproc)" --target "${targets[@]/#/fuzz_}" > "$build.build.log" 2>&1 \
  || { tail -30 "$build.build.log"; exit 1; }
mkdir -p "$build/crashes"
# UBSan reports are findings too: stop at the first one (it would print and go on otherwise).
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
# One target per core at a time: each is single-threaded.
fuzz_one() {
  local target=$1 corpus="$build/corpus/$1"
  mkdir -p "$corpus"
  cp tests/fuzz/corpus/$target/* "$corpus/"
  "$build/tests/fuzz/fuzz_$target" -max_total_time="$seconds" -timeout=5 -rss_limit_mb=1024 \
    -artifact_prefix="$build/crashes/$target-" "$corpus" > "$build/fuzz_$target.log" 2>&1
}
jobs_max=$(nproc)
declare -A pids
for target in "${targets[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$jobs_max" ]; do
    wait -n || true
  done
  fuzz_one "$target" &
  pids[$target]=$!
done
failed=0
for target in "${targets[@]}"; do
  if wait "${pids[$target]}"; then
    runs=$(grep -oE 'Done [0-9]+ runs' "$build/fuzz_$target.log" | tail -1)
    echo "fuzz_$target: ok (${runs:-no summary}, ${seconds}s)"
  else
    echo "fuzz_$target: FAILED"
    tail -30 "$build/fuzz_$target.log"
    failed=1
  fi
done
exit $failed
