#!/usr/bin/env bash
# The table of issue 15 ("decisions that generalize"): on every public trace and on the synthetic
# traces of bench/synthetic_traces.py, at boot 60, 180 and 300 s, predictive with its defaults
# against HPA (synced every 15 s) and AWS-style target tracking, each tuned with hindsight over
# its grid (simulate --sweep, the cheapest with tau_U <= 1 %).
#
# Held out: each trace is cut in two halves (a, b). The peers are tuned on half a and their best
# configuration is replayed, unchanged, on half b; predictive runs with its defaults on both
# (its constants were chosen on the a halves only). Columns "tuned on a, run on b" are the
# held-out result.
#
# Usage: bench/decision_table.sh [OUTDIR]
#   SCLMAN=path/to/sclman   binary to use (default: a Release build in build-bench/)
#   TRACES=dir              trace directory (default: ../shared/traces next to the repository)
#   BOOTS="60 180 300"      boot delays
#   JOBS=2                  replays at a time
# Writes OUTDIR/table.md (default OUTDIR: a temporary directory, printed) and prints it.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
traces=${TRACES:-$here/../shared/traces}
boots=${BOOTS:-60 180 300}
jobs=${JOBS:-2}
out=${1:-$(mktemp -d)}
mkdir -p "$out/traces" "$out/runs"

if [ -z "${SCLMAN:-}" ]; then
  SCLMAN=$here/build-bench/cmd/sclman
  if [ ! -x "$SCLMAN" ]; then
    cmake -S "$here" -B "$here/build-bench" -DCMAKE_BUILD_TYPE=Release -DSCLMAN_TESTS=OFF >/dev/null
    cmake --build "$here/build-bench" -j2 --target sclman >/dev/null
  fi
fi
py=/usr/bin/python3

# name file capacity (requests per second per instance), as in the other tables.
runs=(
  "nasa $traces/nasa_ksc_jul1995_1min.csv 0.5"
  "wikipedia $traces/wikipedia_de_dec2010_1h.csv 50"
  "wc98_1s $traces/worldcup98_jun26-27_1s.csv 100"
  "wc98_87d $traces/worldcup98_1min.csv 200"
  "azure $traces/azure_llm_code_nov2023_1s.csv 2"
  "daily_flash $out/traces/daily_flash.csv 100"
  "sawtooth $out/traces/sawtooth.csv 100"
  "outage_herd $out/traces/outage_herd.csv 100"
)
"$py" "$here/bench/synthetic_traces.py" "$out/traces" >/dev/null

# Cut each trace in two halves by rows, each half's time starting at 0.
for run in "${runs[@]}"; do
  set -- $run
  "$py" - "$2" "$out/traces/$1" <<'EOF'
import sys
src, dst = sys.argv[1], sys.argv[2]
with open(src) as f:
    header = f.readline()
    rows = [line.rstrip("\n").split(",") for line in f if line.strip()]
half = len(rows) // 2
for part, rs in (("a", rows[:half]), ("b", rows[half:])):
    t0 = float(rs[0][0])
    with open(f"{dst}_{part}.csv", "w") as o:
        o.write(header)
        for r in rs:
            o.write(f"{float(r[0]) - t0:g},{r[1]}\n")
EOF
done

# Every sweep (whole trace and half a) and predictive on half b, JOBS at a time.
tasks=()
for run in "${runs[@]}"; do
  set -- $run
  for boot in $boots; do
    tasks+=("$1 $boot whole $2 $3")
    tasks+=("$1 $boot a $out/traces/$1_a.csv $3")
    tasks+=("$1 $boot b $out/traces/$1_b.csv $3")
  done
done
run_task() {
  set -- $1
  local name=$1 boot=$2 part=$3 file=$4 cap=$5
  local common=(--trace "$file" --capacity "$cap" --boot-delay "$boot" --json)
  # Kept from an earlier run into the same OUTDIR.
  [ ! -s "$out/runs/$name.$boot.$part.json" ] || return 0
  if [ "$part" = b ]; then
    "$SCLMAN" simulate "${common[@]}" --policy predictive >"$out/runs/$name.$boot.b.json"
  else
    "$SCLMAN" simulate "${common[@]}" --sweep hpa --sweep target-tracking --budget 1 \
      >"$out/runs/$name.$boot.$part.json"
  fi
}
running=0
for t in "${tasks[@]}"; do
  run_task "$t" &
  running=$((running + 1))
  if [ "$running" -ge "$jobs" ]; then
    wait -n
    running=$((running - 1))
  fi
done
wait

# The peers tuned on half a, replayed unchanged on half b.
for run in "${runs[@]}"; do
  set -- $run
  for boot in $boots; do
    policies=$("$py" - "$out/runs/$1.$boot.a.json" <<'EOF'
import json, sys
for r in json.load(open(sys.argv[1])):
    if r["policy"].endswith("-tuned") and "config" in r:
        c = dict(r["config"], preset=r["policy"][: -len("-tuned")])
        c.pop("min", None)
        c.pop("max", None)
        print(json.dumps(c))
EOF
)
    args=()
    while IFS= read -r p; do
      [ -z "$p" ] || args+=(--policy "$p")
    done <<<"$policies"
    if [ ${#args[@]} -gt 0 ]; then
      "$SCLMAN" simulate --trace "$out/traces/$1_b.csv" --capacity "$3" --boot-delay "$boot" \
        --json "${args[@]}" >"$out/runs/$1.$boot.held.json"
    else
      echo '[]' >"$out/runs/$1.$boot.held.json"
    fi
  done
done

"$py" - "$out" "$boots" "${runs[@]}" >"$out/table.md" <<'EOF'
import json, sys
out, boots, runs = sys.argv[1], sys.argv[2].split(), [r.split()[0] for r in sys.argv[3:]]

def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except FileNotFoundError:
        return []

def pick(results, name):
    for r in results:
        if r["policy"] == name:
            return r
    return None

def cell(r):
    if r is None or "tau_U" not in r:
        return "none held 1 %", ""
    tau = f"{r['tau_U']:.2f}"
    if r["tau_U"] > 1.0:
        tau = f"**{tau}**"
    return tau, f"{r['cost_vs_oracle']:.3f}"

print("| trace | boot s | part | predictive: tau_U % | cost/oracle | HPA tuned: tau_U % | cost/oracle "
      "| target tracking tuned: tau_U % | cost/oracle |")
print("|---|---|---|---|---|---|---|---|---|")
for name in runs:
    for boot in boots:
        whole = load(f"{out}/runs/{name}.{boot}.whole.json")
        a = load(f"{out}/runs/{name}.{boot}.a.json")
        b = load(f"{out}/runs/{name}.{boot}.b.json")
        held = load(f"{out}/runs/{name}.{boot}.held.json")
        rows = [
            ("whole (peers tuned on it)", pick(whole, "predictive"), pick(whole, "hpa-tuned"),
             pick(whole, "target-tracking-tuned")),
            ("a (peers tuned on it)", pick(a, "predictive"), pick(a, "hpa-tuned"),
             pick(a, "target-tracking-tuned")),
            ("b (peers tuned on a)", pick(b, "predictive"), pick(held, "hpa"),
             pick(held, "target-tracking")),
        ]
        for part, p, h, t in rows:
            print(f"| {name} | {boot} | {part} | " + " | ".join(cell(p) + cell(h) + cell(t)) + " |")
EOF
cat "$out/table.md"
echo "results in $out" >&2
