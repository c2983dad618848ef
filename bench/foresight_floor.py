#!/usr/bin/env python3
"""What perfect foresight costs in simulate's model: the floor under every policy's cost.

simulate bills an instance from the tick after the decision that launches it and lets it serve
from the first tick that starts boot_delay later; a scale-in takes effect at the next tick (no
drain). A policy that knows the future launches each instance exactly boot ticks (b) before the
first tick that needs it and removes it as soon as no tick of the next b needs it, so at tick t
it bills max(1, the demand of ticks t .. t + b). With a miss budget it may also leave some ticks
short; which ticks to leave short is chosen greedily here (the run of 1 to b + 1 ticks whose
demand it can drop with the most instance-ticks saved per tick, until the budget is spent), so
that number is reachable with foresight (the best such schedule is at most as dear), not a
bound below it. Dropped ticks count as misses even when the schedule happens to serve them.

The demand is simulate's own (its --series output), so the oracle is the same as in every
table of docs/BENCHMARKS.md.

Usage: bench/foresight_floor.py SCLMAN BUDGET_PERCENT NAME:TRACE:CAPACITY ...
Prints one row a trace and boot delay (60, 180, 300 s; BOOTS="..." to change).
"""
import csv
import heapq
import os
import subprocess
import sys
import tempfile


def demand_of(sclman, trace, capacity, boot):
    with tempfile.NamedTemporaryFile(suffix=".csv") as series:
        subprocess.run([sclman, "simulate", "--trace", trace, "--capacity", str(capacity),
                        "--boot-delay", str(boot), "--policy", "threshold", "--series",
                        series.name], check=True, stdout=subprocess.DEVNULL)
        with open(series.name) as f:
            return [int(r["demand"]) for r in csv.DictReader(f)]


def billed_at(req, t, b):
    """The foresight schedule's size at tick t: the most any of ticks t .. t + b needs."""
    return max([1] + [r for r in req[t:t + b + 1] if r is not None])


def run_saving(req, s, length, b):
    """Instance-ticks saved by dropping ticks s .. s + length - 1 (None: dropped already)."""
    if any(req[i] is None for i in range(s, s + length)):
        return 0
    lo, hi = max(0, s - b), min(len(req), s + length)
    before = sum(billed_at(req, t, b) for t in range(lo, hi))
    kept = req[s:s + length]
    req[s:s + length] = [None] * length
    after = sum(billed_at(req, t, b) for t in range(lo, hi))
    req[s:s + length] = kept
    return before - after


def floors(demand, b, budget_ticks):
    req = list(demand)
    n = len(req)
    zero = sum(billed_at(req, t, b) for t in range(n))
    # Lazy greedy on the saving per dropped tick.
    heap = []
    for s in range(n):
        for length in range(1, b + 2):
            if s + length <= n:
                gain = run_saving(req, s, length, b)
                if gain > 0:
                    heap.append((-gain / length, s, length))
    heapq.heapify(heap)
    dropped = 0
    saved = 0
    while heap and dropped < budget_ticks:
        neg, s, length = heapq.heappop(heap)
        if dropped + length > budget_ticks:
            continue
        gain = run_saving(req, s, length, b)
        if gain <= 0:
            continue
        if heap and gain / length < -heap[0][0]:
            heapq.heappush(heap, (-gain / length, s, length))
            continue
        req[s:s + length] = [None] * length
        dropped += length
        saved += gain
    return zero, zero - saved, dropped


def main():
    if len(sys.argv) < 4:
        print(__doc__, file=sys.stderr)
        return 2
    sclman, budget = sys.argv[1], float(sys.argv[2])
    boots = [int(x) for x in os.environ.get("BOOTS", "60 180 300").split()]
    print(f"| trace | boot s | oracle inst-min | foresight, no miss | foresight, "
          f"{budget:g} % of ticks missed (greedy) | ticks missed |")
    print("|---|---:|---:|---:|---:|---:|")
    for spec in sys.argv[3:]:
        name, trace, capacity = spec.rsplit(":", 2)
        for boot in boots:
            demand = demand_of(sclman, trace, capacity, boot)
            b = -(-boot // 60)
            oracle = sum(demand)
            zero, spent, dropped = floors(demand, b, int(len(demand) * budget / 100))
            print(f"| {name} | {boot} | {oracle} | {zero / oracle:.4f} | {spent / oracle:.4f} "
                  f"| {100 * dropped / len(demand):.2f} % |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
