#!/usr/bin/env bash
# What the reclaim rule saves (issue 19): for each public trace and drain time, `sclman simulate
# --compare --drain D` replays the predictive defaults and the three reference peers with and
# without the rule (a scale-out takes draining instances back before it boots new ones), and this
# prints one markdown row per trace, drain and policy for docs/BENCHMARKS.md.
#
# Usage: bench/reclaim_bench.sh
#   SCLMAN=path/to/sclman   binary to use (default: a Release build in build-bench/)
#   TRACES=dir              trace directory (default: ../shared/traces next to the repository)
#   DRAINS="120 300"        drain times in seconds (one no longer than the tick reclaims nothing)
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
traces=${TRACES:-$here/../shared/traces}
drains=${DRAINS:-120 300}
if [ -z "${SCLMAN:-}" ]; then
  SCLMAN=$here/build-bench/cmd/sclman
  if [ ! -x "$SCLMAN" ]; then
    cmake -S "$here" -B "$here/build-bench" -DCMAKE_BUILD_TYPE=Release -DSCLMAN_TESTS=OFF >/dev/null
    cmake --build "$here/build-bench" -j2 --target sclman >/dev/null
  fi
fi

# trace file and capacity C (requests per second per instance), as in bench/policy_bench.sh.
runs=(
  "worldcup98_jun26-27_1s.csv 100"
  "nasa_ksc_jul1995_1min.csv 0.5"
  "wikipedia_de_dec2010_1h.csv 50"
  "worldcup98_1min.csv 200"
)

echo "| trace (C) | drain s | policy | taken back | boots without -> with | tau_U % without -> with | theta_U % without -> with | instance-minutes without -> with |"
echo "|---|---|---|---|---|---|---|---|"
for run in "${runs[@]}"; do
  read -r file cap <<< "$run"
  for drain in $drains; do
    "$SCLMAN" simulate --trace "$traces/$file" --capacity "$cap" --boot-delay 180 --tick 60 \
      --compare --drain "$drain" --json |
      jq -r --arg t "$file ($cap)" --arg d "$drain" '.[] | select(.policy != "oracle") |
        "| \($t) | \($d) | \(.policy) | \(.reclaimed) | \(.without_reclaim.boots) -> \(.boots) | \(.without_reclaim.tau_U * 100 | round / 100) -> \(.tau_U * 100 | round / 100) | \(.without_reclaim.theta_U * 100 | round / 100) -> \(.theta_U * 100 | round / 100) | \(.without_reclaim.instance_minutes | round) -> \(.instance_minutes | round) |"'
  done
done
