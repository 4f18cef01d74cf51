"""Benchmark: the model computations the desk runs on every update, against their targets.

    .venv/bin/python bench/models.py              # default sizes, 50 repeats each
    .venv/bin/python bench/models.py --repeat 200

- exact P(Senate control) for 35 races (shared error: quadrature on the national error + the seat
  dynamic program), including rebuilding the model after one race's mean moved, as a live update
  does. Target < 2 ms.
- 100,000 joint Monte Carlo samples of the 35 races and control. Target < 50 ms.
- edges after fees for 500 markets (both sides, reasons), fee tables already built. Target < 5 ms.

Median and best of `--repeat` runs are printed; the verdict uses the median. Exact and Monte Carlo
control probabilities are cross-checked (the difference must be within 4.5 standard errors).
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # runnable from a checkout without install

import numpy as np  # noqa: E402

from console.domain.edges import EdgePolicy, Quote, evaluate  # noqa: E402
from console.domain.fees import KalshiFees  # noqa: E402
from console.models.montecarlo import Chamber, ElectionModel  # noqa: E402

TARGET_EXACT_S = 0.002
TARGET_MC_S = 0.050
TARGET_EDGES_S = 0.005
RACES = 35
SAMPLES = 100_000
MARKETS = 500


def build_model(seed: int) -> ElectionModel:
    rng = np.random.default_rng(seed)
    names = [f"SEN-{i:02d}" for i in range(RACES)]
    return ElectionModel.from_margins(names, rng.normal(0.5, 5.0, RACES), rng.uniform(2.0, 4.0, RACES), 2.8,
                                      {"senate": Chamber(tuple(names), 33, 51)})


def measure(fn, repeat: int) -> tuple[float, float]:
    fn()  # warm-up (fee tables, caches)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), min(times)


def report(name: str, median: float, best: float, target: float) -> bool:
    ok = median < target
    print(f"{name:<48} median {median * 1e3:8.3f} ms  best {best * 1e3:8.3f} ms  "
          f"target < {target * 1e3:g} ms: {'PASS' if ok else 'FAIL'}")
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    model = build_model(args.seed)
    ok = True

    exact = model.control_probability("senate")
    med, best = measure(lambda: model.control_probability("senate"), args.repeat)
    ok &= report(f"exact P(control), {RACES} races", med, best, TARGET_EXACT_S)
    moved = {"SEN-07": float(model.mean[7]) + 1.0}
    med, best = measure(lambda: model.with_means(moved).control_probability("senate"), args.repeat)
    ok &= report("  ... after a poll moved one race (rebuild)", med, best, TARGET_EXACT_S)

    rng = np.random.default_rng(args.seed)
    med, best = measure(lambda: model.sample(SAMPLES, rng), max(5, args.repeat // 5))
    ok &= report(f"Monte Carlo, {SAMPLES:,} joint samples", med, best, TARGET_MC_S)
    mc = float(model.sample(SAMPLES, rng).control["senate"].mean())
    se = math.sqrt(exact * (1 - exact) / SAMPLES)
    agree = abs(mc - exact) < 4.5 * se
    print(f"P(control): exact {exact:.5f}, Monte Carlo {mc:.5f} (se {se:.5f}): {'agree' if agree else 'DISAGREE'}")
    ok &= agree

    fees = [KalshiFees.resolve("quadratic_with_maker_fees", "1"), KalshiFees.resolve("quadratic", "0.5")]
    mrng = np.random.default_rng(args.seed + 1)
    quotes, probs = [], []
    for i in range(MARKETS):
        bid = int(mrng.integers(300, 9500))
        category = "Elections" if i % 2 else "Climate and Weather"
        ask = bid + int(mrng.integers(100, 400))
        quotes.append(Quote(f"MKT-{i:03d}", category, fees[i % 2], bid, int(mrng.integers(100, 5000)), ask,
                            int(mrng.integers(100, 5000))))
        # the model mostly agrees with the market: a few cents either side of the mid
        probs.append(float(np.clip(bid / 10_000 + mrng.normal(0.01, 0.03), 0.01, 0.99)))
    policy = EdgePolicy(min_edge_by_category={"Climate and Weather": 0.03})
    pairs = list(zip(quotes, probs, strict=True))
    med, best = measure(lambda: [evaluate(q, p, policy) for q, p in pairs], args.repeat)
    ok &= report(f"edges after fees, {MARKETS} markets", med, best, TARGET_EDGES_S)
    tradeable = sum(evaluate(q, p, policy).tradeable for q, p in pairs)
    print(f"({tradeable} of {MARKETS} generated markets tradeable)")
    print("all targets met" if ok else "SOME TARGETS MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
