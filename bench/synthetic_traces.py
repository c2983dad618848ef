#!/usr/bin/env python3
"""Write the synthetic load traces of issue 15 (CSV, t_seconds,requests_per_second, one row a
minute), each from its own seed, so that anyone gets the same files:

  daily_flash.csv   14 days: a daily pattern (200 at night, 600 by day) with a flash crowd
                    that comes back at 20:00 each day (x4 in 3 minutes, 20 minutes long).
  sawtooth.csv      7 days: ramps from 100 to 1,500 over 45 minutes, then a drop to 100.
  outage_herd.csv   7 days: a daily pattern; on day 4 an outage (rate 0 for 30 minutes), then
                    the clients that waited come back at once (x3 the usual rate, decaying over
                    15 minutes).

Each has Poisson-like noise (a normal approximation, seeded). Usage:

    bench/synthetic_traces.py OUTDIR
"""
import math
import os
import random
import sys

MINUTE = 60
DAY = 1440  # minutes


def daily(minute, low, high):
    """A smooth day: `low` at 04:00, `high` at 16:00."""
    phase = 2 * math.pi * ((minute % DAY) - 240) / DAY
    return low + (high - low) * (1 - math.cos(phase)) / 2


def noisy(rng, rate):
    """The rate of a minute with counting noise: sd sqrt(count) over 60 s."""
    if rate <= 0:
        return 0.0
    count = rate * MINUTE
    return max(0.0, rng.gauss(count, math.sqrt(count))) / MINUTE


def daily_flash(rng):
    out = []
    for m in range(14 * DAY):
        rate = daily(m, 200, 600)
        into = (m % DAY) - 20 * 60
        if 0 <= into < 20:
            rise = min(1.0, (into + 1) / 3)
            rate *= 1 + 3 * rise
        out.append(noisy(rng, rate))
    return out


def sawtooth(rng):
    out = []
    for m in range(7 * DAY):
        into = m % 46
        rate = 100 + 1400 * into / 45 if into < 45 else 100
        out.append(noisy(rng, rate))
    return out


def outage_herd(rng):
    out = []
    outage = 3 * DAY + 14 * 60  # day 4, 14:00
    for m in range(7 * DAY):
        rate = daily(m, 150, 500)
        if outage <= m < outage + 30:
            rate = 0
        elif outage + 30 <= m < outage + 45:
            rate *= 1 + 2 * (outage + 45 - m) / 15
        out.append(noisy(rng, rate))
    return out


TRACES = {
    "daily_flash.csv": (daily_flash, 1501),
    "sawtooth.csv": (sawtooth, 1502),
    "outage_herd.csv": (outage_herd, 1503),
}


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    for name, (make, seed) in TRACES.items():
        rates = make(random.Random(seed))
        with open(os.path.join(outdir, name), "w") as f:
            f.write("t_seconds,requests_per_second\n")
            for i, r in enumerate(rates):
                f.write(f"{i * MINUTE},{r:.4f}\n")
        print(f"{name}: {len(rates)} minutes, seed {seed}, mean {sum(rates) / len(rates):.1f}, "
              f"max {max(rates):.1f}")


if __name__ == "__main__":
    main()
