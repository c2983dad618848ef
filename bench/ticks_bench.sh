#!/usr/bin/env bash
# What sub-minute ticks ([MANAGER] man_ticks_per_minute) buy: each trace of ../shared/traces
# replayed by `sclman simulate` at --tick 60, 30, 15 and 10 s (1 to 6 ticks a minute), boot delay
# 180 s, through the threshold, hpa and target-tracking presets as they are, and through the
# threshold and target-tracking presets with their poll counts (sensitivity; out_datapoints and
# in_datapoints) multiplied by the ticks a minute, so that they span the same seconds ("x N"
# rows). Prints a Markdown table: cost/oracle, tau_U, instance-minutes and size changes.
#
# Caveats the table needs: simulate averages the trace per tick and measures each tick, so the
# oracle and tau_U are measured at the tick's resolution (a 10 s tick sees peaks a 60 s tick
# averages away; compare instance-minutes across ticks, and tau_U as "share of ticks short");
# a trace with a 1-minute (or 1-hour) step is constant within the minute, so shorter ticks there
# only move the decisions earlier within it.
#
# Usage: bench/ticks_bench.sh [--predictive]
#   SCLMAN=path/to/sclman   binary to use (default: build/release/cmd/sclman, a Release build)
#   TRACES=dir              trace directory (default: ../shared/traces next to the repository)
#   --predictive            also the predictive defaults, on the two short traces (slow)
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
traces=${TRACES:-$here/../shared/traces}
SCLMAN=${SCLMAN:-$here/build/release/cmd/sclman}
[ -x "$SCLMAN" ] || {
  echo "no $SCLMAN: cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release &&" \
    "cmake --build build/release -j2 --target sclman" >&2
  exit 1
}
predictive=no
[ "${1:-}" = --predictive ] && predictive=yes

boot=180
# trace file and capacity C (requests per second per instance): bench/policy_bench.sh's, and
# the Azure trace's of docs/BENCHMARKS.md.
runs=(
  "worldcup98_jun26-27_1s.csv 100"
  "azure_llm_code_nov2023_1s.csv 2"
  "nasa_ksc_jul1995_1min.csv 0.5"
  "wikipedia_de_dec2010_1h.csv 50"
  "worldcup98_1min.csv 200"
)
short="worldcup98_jun26-27_1s.csv azure_llm_code_nov2023_1s.csv"

# One table row per run of the simulate JSON on stdin.
rows=$(mktemp)
trap 'rm -f "$rows"' EXIT
cat > "$rows" <<'EOF'
import json, sys
trace, capacity, tick, n, seconds = sys.argv[1:]
for r in json.load(sys.stdin):
    name = r["policy"]
    config = r.get("config") or {}
    if int(n) > 1 and (config.get("sensitivity") == 3 * int(n)
                       or config.get("out_datapoints") == 3 * int(n)):
        name += " (polls x %s)" % n
    print("| %s (%s) | %s | %s | %.3f | %.2f | %.0f | %.0f | %d | %s |" % (
        trace.removesuffix(".csv"), capacity, name, tick, r["cost_vs_oracle"], r["tau_U"],
        r["instance_minutes"], r["oracle_minutes"], r["changes"], seconds))
EOF

# simulate TRACE C TICK N POLICY...: the table rows of one run of simulate; the last column is
# the run's wall time in seconds when it ran one policy (the predictive rows), else empty.
simulate() {
  local trace=$1 capacity=$2 tick=$3 n=$4 started json seconds=""
  shift 4
  started=$(date +%s%N)
  json=$("$SCLMAN" simulate --trace "$traces/$trace" --capacity "$capacity" --boot-delay "$boot" \
    --tick "$tick" --json "$@")
  [ $# -gt 2 ] || seconds=$(awk "BEGIN { printf \"%.1f\", ($(date +%s%N) - $started) / 1e9 }")
  python3 "$rows" "$trace" "$capacity" "$tick" "$n" "$seconds" <<< "$json"
}

echo "| trace (C) | policy | tick s | cost/oracle | tau_U % | instance-minutes | oracle minutes | changes | run s |"
echo "|---|---|---|---|---|---|---|---|---|"
for run in "${runs[@]}"; do
  read -r trace capacity <<< "$run"
  for tick in 60 30 15 10; do
    n=$((60 / tick))
    args=(--policy threshold --policy hpa --policy target-tracking)
    if [ "$n" -gt 1 ]; then
      # The presets' counts of polls, times n: the same span in seconds (3 and 15 polls).
      args+=(--policy "{\"preset\":\"threshold\",\"sensitivity\":$((3 * n))}")
      args+=(--policy "{\"preset\":\"target-tracking\",\"out_datapoints\":$((3 * n)),\"in_datapoints\":$((15 * n))}")
    fi
    simulate "$trace" "$capacity" "$tick" "$n" "${args[@]}"
    if [ $predictive = yes ] && [[ " $short " == *" $trace "* ]]; then
      simulate "$trace" "$capacity" "$tick" "$n" --policy predictive
    fi
  done
done
