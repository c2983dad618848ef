#!/usr/bin/env python3
"""bench/peak_hold_floor.py: the tau_U a causal policy cannot go below on a short trace.

    python3 bench/peak_hold_floor.py TRACE CAPACITY [BOOT_S ...]

In the model of `sclman simulate` (docs/BENCHMARKS.md, "Model and metric definitions": 60 s
ticks averaged from the trace, D_t = ceil(rate_t / C), the run starting with max(1, D_0) in
service, an instance decided at the end of tick t serving from tick t + 1 + boot/60), replays
"peak hold": after each tick, grow to the highest demand seen so far and never shrink. No
policy that decides on the load it has seen can add capacity before the load first rises, and
none can have an instance serve sooner than the boot allows, so the ticks peak hold misses
while each new peak boots are missed by every such policy that keeps its starting size until
then. When the trace's highest demand comes in its first rise (as on the Azure trace), peak
hold's tau_U is that floor; its cost is what never scaling in costs.
"""
import csv
import math
import sys


def minute_demand(path, capacity):
    with open(path) as f:
        rows = [(float(t), float(r)) for t, r in list(csv.reader(f))[1:]]
    # The trace is constant over each of its steps; average it over 60 s ticks (1 s traces here).
    per_s = {}
    for k, (t, r) in enumerate(rows):
        end = rows[k + 1][0] if k + 1 < len(rows) else t + 1
        for s in range(int(t), int(end)):
            per_s[s] = r
    ticks = (max(per_s) + 1) // 60
    return [math.ceil(sum(per_s.get(t * 60 + s, 0) for s in range(60)) / 60 / capacity)
            for t in range(ticks)]


def peak_hold(demand, boot_s):
    lag = 1 + boot_s // 60
    desired = serving = max(1, demand[0])
    arriving = {}
    under = billed = 0
    for t, d in enumerate(demand):
        serving += arriving.pop(t, 0)
        under += d > serving
        billed += desired
        if d > desired:
            arriving[t + lag] = arriving.get(t + lag, 0) + d - desired
            desired = d
    return 100 * under / len(demand), billed / sum(demand)


def main():
    path, capacity = sys.argv[1], float(sys.argv[2])
    boots = [int(b) for b in sys.argv[3:]] or [60, 180, 300]
    demand = minute_demand(path, capacity)
    print(f"{len(demand)} ticks, oracle {sum(demand)} instance-minutes, demand {demand}")
    for b in boots:
        tau_u, cost = peak_hold(demand, b)
        print(f"boot {b} s: peak hold tau_U {tau_u:.2f} %, cost/oracle {cost:.3f}")


if __name__ == "__main__":
    main()
