#!/usr/bin/env bash
# Regenerate the policy table of docs/BENCHMARKS.md (issue 3, "the bar"): for each trace, the
# cheapest HPA and AWS-style target-tracking configurations whose tau_U stays at or under 1 %,
# against the predictive policy with its defaults (the same configuration on every trace) and
# against the cheapest of a small per-trace sweep of predictive's own knobs.
#
# Usage: bench/policy_bench.sh [--quick]
#   SCLMAN=path/to/sclman   binary to use (default: a Release build in build-bench/)
#   TRACES=dir              trace directory (default: ../shared/traces next to the repository)
#   --quick                 a coarser sweep (for a smoke test)
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
traces=${TRACES:-$here/../shared/traces}
quick=no
[ "${1:-}" = --quick ] && quick=yes

if [ -z "${SCLMAN:-}" ]; then
  SCLMAN=$here/build-bench/cmd/sclman
  if [ ! -x "$SCLMAN" ]; then
    cmake -S "$here" -B "$here/build-bench" -DCMAKE_BUILD_TYPE=Release -DSCLMAN_TESTS=OFF >/dev/null
    cmake --build "$here/build-bench" -j2 --target sclman >/dev/null
  fi
fi

boot=180
tick=60
# trace file and capacity C (requests per second per instance), as in the issue.
runs=(
  "worldcup98_jun26-27_1s.csv 100"
  "nasa_ksc_jul1995_1min.csv 0.5"
  "wikipedia_de_dec2010_1h.csv 50"
  "worldcup98_1min.csv 200"
)

if [ $quick = yes ]; then
  targets="50 70 90"
  windows="0 300"
  tolerances="0.1"
  in_cooldowns="300"
else
  targets="30 35 40 45 50 55 60 65 70 75 80 85 90 95"
  windows="0 60 120 180 300 600"
  tolerances="0 0.05 0.1"
  in_cooldowns="0 60 300"
fi

# The sweeps: every HPA knob that changes cost here (target, tolerance, scale-down window), and
# every target-tracking knob AWS lets one set (target, scale-in cooldown; its alarms are fixed).
hpa_args=()
for t in $targets; do
  for w in $windows; do
    for tol in $tolerances; do
      hpa_args+=(--policy "{\"preset\":\"hpa\",\"target\":$t,\"down_stabilization\":$w,\"tolerance\":$tol}")
    done
  done
done
tt_args=()
for t in $targets; do
  for cd in $in_cooldowns; do
    tt_args+=(--policy "{\"preset\":\"target-tracking\",\"target\":$t,\"scale_in_cooldown\":$cd}")
  done
done

# Predictive is run twice: with its defaults (one configuration for every trace), and swept per
# trace like the peers. The sweep is small, because a predictive run costs 100 to 400 times an
# HPA run: a cheaper family that spends the whole under-provisioning budget (quantile_low 0.5,
# under_budget 1 %, a 60 s or 120 s hold, scale-in covering only the lead poll) at quantile 0.8
# or 0.85 with a 1 h or 2 h lookback, 8 configurations; the cheapest of them and the defaults
# with tau_U <= 1 % is reported.
if [ $quick = yes ]; then
  pred_quantiles="0.85"
  pred_lookbacks="3600"
  pred_holds="60"
else
  pred_quantiles="0.8 0.85"
  pred_lookbacks="3600 7200"
  pred_holds="60 120"
fi
pred_args=()
for q in $pred_quantiles; do
  for lb in $pred_lookbacks; do
    for hold in $pred_holds; do
      pred_args+=(--policy "{\"preset\":\"predictive\",\"quantile\":$q,\"quantile_low\":0.5,\"under_budget\":1,\"lookback\":$lb,\"hold\":$hold,\"scale_in_cover\":\"lead\"}")
    done
  done
done

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for run in "${runs[@]}"; do
  set -- $run
  file=$1
  cap=$2
  common=(--trace "$traces/$file" --capacity "$cap" --boot-delay $boot --tick $tick --json)
  "$SCLMAN" simulate "${common[@]}" "${hpa_args[@]}" >"$out/$file.hpa.json"
  "$SCLMAN" simulate "${common[@]}" "${tt_args[@]}" >"$out/$file.tt.json"
  "$SCLMAN" simulate "${common[@]}" --policy predictive --policy hpa --policy target-tracking \
    >"$out/$file.ours.json" &
  "$SCLMAN" simulate "${common[@]}" "${pred_args[@]}" >"$out/$file.pred.json" &
  wait
done

python3 - "$out" "${runs[@]}" <<'EOF'
import json, sys
out = sys.argv[1]
runs = [r.split() for r in sys.argv[2:]]

def load(path):
    with open(path) as f:
        return json.load(f)

def cheapest(results):
    ok = [r for r in results if r["tau_U"] <= 1.0]
    return min(ok, key=lambda r: r["cost_vs_oracle"]) if ok else None

def knobs(r, keys):
    c = r["config"]
    return ", ".join(f"{k} {c[k]}" for k in keys)

def cell(r):
    return f'{r["cost_vs_oracle"]:.3f} | {r["tau_U"]:.2f}'

def closed_bar(pred, best):
    closed = (best - pred["cost_vs_oracle"]) / (best - 1) * 100 if best > 1 else float("nan")
    bar = "yes" if pred["tau_U"] <= 1.0 and pred["cost_vs_oracle"] < best else "NO"
    return f"{closed:.0f} % (bar met: {bar})"

print("| trace (C) | HPA tuned: cost/oracle | tau_U % | target tracking tuned: cost/oracle"
      " | tau_U % | predictive defaults: cost/oracle | tau_U % | gap closed"
      " | predictive tuned: cost/oracle | tau_U % | gap closed |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
details = []
for file, cap in runs:
    hpa = cheapest(load(f"{out}/{file}.hpa.json"))
    tt = cheapest(load(f"{out}/{file}.tt.json"))
    ours = load(f"{out}/{file}.ours.json")
    pred = ours[0]
    tuned = cheapest(load(f"{out}/{file}.pred.json") + [pred])
    peers = [r for r in (hpa, tt) if r]
    best = min(r["cost_vs_oracle"] for r in peers) if peers else float("nan")
    print(f"| {file} ({cap}) | {cell(hpa) if hpa else 'none | -'} | {cell(tt) if tt else 'none | -'}"
          f" | {cell(pred)} | {closed_bar(pred, best)}"
          f" | {cell(tuned) if tuned else 'none | -'} | {closed_bar(tuned, best) if tuned else '-'} |")
    details.append((file, hpa, tt, ours, tuned))

print()
print("Cheapest configurations with tau_U <= 1 %, and the defaults for reference:")
print()
for file, hpa, tt, ours, tuned in details:
    print(f"- `{file}`:")
    if hpa:
        print(f"  HPA {knobs(hpa, ['target', 'tolerance_out', 'down_stabilization'])};"
              f" target tracking " + (knobs(tt, ['target', 'scale_in_cooldown']) if tt else "none") + ".")
    if tuned:
        print(f"  predictive tuned: {knobs(tuned, ['quantile', 'quantile_low', 'under_budget', 'lookback', 'hold', 'scale_in_cover'])};"
              f" tau_U {tuned['tau_U']:.2f} %, instability {tuned['instability']:.1f} %,"
              f" changes {tuned['changes']}.")
    for r in ours:
        print(f"  {r['policy']} (defaults): cost/oracle {r['cost_vs_oracle']:.3f},"
              f" tau_U {r['tau_U']:.2f} %, theta_U {r['theta_U']:.2f} %,"
              f" tau_O {r['tau_O']:.1f} %, instability {r['instability']:.1f} %,"
              f" changes {r['changes']}.")
EOF
