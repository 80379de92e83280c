"""Speed of the full fan-out model: points per second on a 10^6-point grid, and the
ratio against SymPy subs/evalf on a sample of the same points.

"Full model" = both strategies' requester mean and p99, victim interruption and CPU
time, including the per-point topology means (c2c) and the order statistics of
the wake-up distribution (interpolation tables built once per scenario).

    python benchmarks/bench_model.py [--points 1000000] [--sample 200]

Prints medians of 5 repetitions (shared 2-core machine: medians, not best runs).
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from pwmodel import machine as M
from pwmodel.evaluate import Scenario, emax_of, qmax_of
from pwmodel.models import evaluate_subs, fanout as F, numeric, numeric_many

EXPRS = [F.rl_mean_expr(), F.qw_mean_expr(), F.rl_p99_expr(), F.qw_p99_expr(),
         F.rl_victim_mean_expr(), F.qw_victim_expr(), F.rl_cpu_expr(), F.qw_cpu_expr()]


def grid(n_points: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    return {
        "n_cpus": np.round(np.exp(rng.uniform(0, np.log(1024), n_points))),
        "dirty_fraction": rng.uniform(0.05, 1.0, n_points),
        "local_rate_hz": 10 ** rng.uniform(3, 7, n_points),
        "remote_rate_hz": 10 ** rng.uniform(-1, 3, n_points),
        "item_drain_ns": rng.uniform(20, 200, n_points),
    }


def full_model(sc: Scenario, base: dict, g: dict[str, np.ndarray],
               exprs: list = EXPRS) -> list[np.ndarray]:
    vals = dict(base)
    vals.update(g)
    n = g["n_cpus"]
    d = g["dirty_fraction"] * n
    dist = sc.wake_dist()
    vals["c2c_mean_ns"] = sc.machine.mean_c2c_ns(n)
    vals["c2c_max_ns"] = sc.machine.max_c2c_ns(n)
    vals["c2c_var_ns2"] = sc.machine.var_c2c_ns2(n)
    vals["c2c_nbr_ns"] = sc.machine.neighbour_c2c_ns(n)
    vals["wake_emax_ns"] = emax_of(dist, d)
    vals["wake_qmax_ns"] = qmax_of(dist, d)
    vals["wake_min_ns"] = dist.support()[0]
    vals["wake_mean_ns"] = dist.mean_ns()
    return numeric_many(exprs, vals)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--points", type=int, default=1_000_000)
    ap.add_argument("--sample", type=int, default=200)
    ap.add_argument("--reps", type=int, default=5)
    a = ap.parse_args()
    sc = Scenario(M.get("amd-epyc-7r13-2s"), "idle")
    base = dict(sc.params().values)
    rng = np.random.default_rng(1)
    g = grid(a.points, rng)
    full_model(sc, base, {k: v[:10] for k, v in g.items()})  # warm: lambdify once
    times = []
    for _ in range(a.reps):
        t0 = time.perf_counter()
        full_model(sc, base, g)
        times.append(time.perf_counter() - t0)
    t_fast = statistics.median(times)
    pps = a.points / t_fast
    two = EXPRS[:2]   # requester mean of both strategies only
    full_model(sc, base, {k: v[:10] for k, v in g.items()}, two)
    times2 = []
    for _ in range(a.reps):
        t0 = time.perf_counter()
        full_model(sc, base, g, two)
        times2.append(time.perf_counter() - t0)
    pps2 = a.points / statistics.median(times2)
    # slow path: SymPy subs + evalf, same expressions, a sample of the points
    idx = rng.choice(a.points, a.sample, replace=False)
    small = {k: v[idx] for k, v in g.items()}
    vals = dict(base)
    vals.update({"c2c_mean_ns": sc.machine.mean_c2c_ns(small["n_cpus"]),
                 "c2c_max_ns": sc.machine.max_c2c_ns(small["n_cpus"]),
                 "c2c_var_ns2": sc.machine.var_c2c_ns2(small["n_cpus"]),
                 "c2c_nbr_ns": sc.machine.neighbour_c2c_ns(small["n_cpus"]),
                 "wake_emax_ns": emax_of(sc.wake_dist(), small["dirty_fraction"] * small["n_cpus"]),
                 "wake_qmax_ns": qmax_of(sc.wake_dist(), small["dirty_fraction"] * small["n_cpus"]),
                 "wake_min_ns": sc.wake_dist().support()[0], "wake_mean_ns": sc.wake_dist().mean_ns()})
    t0 = time.perf_counter()
    worst = 0.0
    fast_small = None
    for i in range(a.sample):
        pt = {k: (float(v[i]) if isinstance(v, np.ndarray) else v) for k, v in {**vals, **small}.items()}
        outs = [evaluate_subs(e, pt) for e in EXPRS]
        if fast_small is None:
            fast_small = [numeric(e, {**vals, **small}) for e in EXPRS]
        worst = max(worst, max(abs(o - float(f[i])) / max(abs(o), 1e-300) for o, f in zip(outs, fast_small)))
    t_slow = (time.perf_counter() - t0) / a.sample
    print(f"full fan-out model, {len(EXPRS)} expressions, {a.points} points, median of {a.reps}: "
          f"{t_fast:.3f} s = {pps / 1e6:.2f} million points/s")
    print(f"requester mean of both strategies only (2 expressions): "
          f"{pps2 / 1e6:.2f} million points/s")
    print(f"SymPy subs/evalf: {t_slow * 1e3:.2f} ms per point = {1 / t_slow:.0f} points/s")
    print(f"ratio lambdified / subs-evalf (8 expressions): {pps * t_slow:.0f}x   "
          f"(max relative difference {worst:.1e})")


if __name__ == "__main__":
    main()
