"""Speed of the fan-out model, this tree against an older code path, side by side in one run.

    python benchmarks/bench_model.py [--old REV] [--points 1000000] [--reps 5] [--no-old]

Measures, in a fresh process per tree (the old tree is ``git archive REV`` unpacked in a
temporary folder, so both run the same probe below against their own package), with the
runs of the two trees interleaved:

* the 8-metric fan-out model on arrays: requester mean and p99, victim (mean) and CPU
  time of both strategies, on a random grid of CPU counts, dirty fractions, rates and
  drain costs, *including* its per-point inputs (topology c2c latencies and the order
  statistics of the wake-up distribution) -- points per second;
* the requester pair only (mean of both strategies) on the same grid;
* ``evaluate()`` over N = 1..1024 for each bundled machine at three isolation levels
  (what users run: one scenario, all CPU counts) -- ms per call.

The expressions are the ones the evaluation uses (``evaluate.model_exprs``), not a list
kept here. Prints medians (shared machine), the ratios new/old, and ``uptime`` before
and after: only the ratios taken in one run mean much.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import _sidebyside as SBS

ROOT = Path(__file__).resolve().parents[1]
OLD_DEFAULT = "caf727a"     # main before the generated-code path of this benchmark

# Runs inside each tree (its own pwmodel first on sys.path); prints one JSON line.
PROBE = r'''
import json, statistics, sys, time
import numpy as np
from pwmodel import machine as M
from pwmodel import evaluate as E
from pwmodel.models import numeric_many
from pwmodel.models import wakeup as W

what, points, reps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
EIGHT = ("qw_mean", "rl_mean", "qw_p99", "rl_p99", "qw_victim", "rl_victim", "qw_cpu", "rl_cpu")


def grid(n, rng):
    return {"n_cpus": np.round(np.exp(rng.uniform(0, np.log(1024), n))),
            "dirty_fraction": rng.uniform(0.05, 1.0, n),
            "local_rate_hz": 10 ** rng.uniform(3, 7, n),
            "remote_rate_hz": 10 ** rng.uniform(-1, 3, n),
            "item_drain_ns": rng.uniform(20, 200, n)}


def full_model(sc, base, g, exprs):
    vals = dict(base)
    vals.update(g)
    n = g["n_cpus"]
    d = g["dirty_fraction"] * n
    dist = sc.wake_dist()
    m = sc.machine
    vals["c2c_mean_ns"] = m.mean_c2c_ns(n)
    vals["c2c_max_ns"] = m.max_c2c_ns(n)
    vals["c2c_var_ns2"] = m.var_c2c_ns2(n)
    vals["c2c_nbr_ns"] = m.neighbour_c2c_ns(n)
    if hasattr(E, "order_stats"):
        vals["wake_emax_ns"], vals["wake_qmax_ns"] = E.order_stats(dist, d)
    else:
        vals["wake_emax_ns"], vals["wake_qmax_ns"] = E.emax_of(dist, d), E.qmax_of(dist, d)
    if hasattr(E, "smax_of"):      # the slowest of D works queued t_q apart (newer trees)
        vals["wake_smax_ns"] = E.smax_of(dist, d, vals["queue_work_ns"])
    lo = dist.support()[0]
    vals["wake_min_ns"] = lo if np.isfinite(lo) else 0.0
    vals["wake_mean_ns"] = dist.mean_ns()
    if hasattr(E, "lrulock"):      # lru_lock queue inputs and pair classes (newer trees)
        vals.update(E.lrulock.class_values(dist, m, vals["dirty_fraction"]))
        vals.update(E.lrulock.derived_values(vals))
    if hasattr(E, "rlsum"):
        vals.update(E.rlsum.class_inputs(m, n))
    if hasattr(W, "owner_rate_expr"):
        vals["owner_rate_hz"] = vals["local_rate_hz"]
    return numeric_many(exprs, vals)


def median_time(f, reps):
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        f()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts)


out = {}
if what == "arrays":
    sc = E.Scenario(M.get("amd-epyc-7r13-2s"), "nohz_other")
    qc, rc = sc.configs
    ex = E.model_exprs(qc, rc, sc.pattern)
    base = dict(sc.params().values)
    g = grid(points, np.random.default_rng(1))
    for label, keys in (("eight", EIGHT), ("pair", EIGHT[:2])):
        exprs = [ex[k] for k in keys]
        full_model(sc, base, {k: v[:1000] for k, v in g.items()}, exprs)   # generate once
        t = median_time(lambda: full_model(sc, base, g, exprs), reps)
        out[label] = points / t
else:
    ns = list(range(1, 1025))
    for m in ("intel-xeon-8375c-2s", "amd-epyc-7r13-2s"):
        for iso in ("idle", "nohz_other", "nohz_fifo_dlserver"):
            sc = E.Scenario(M.get(m), iso)
            E.evaluate(sc, ns[:4])
            out[f"{m} {iso}"] = median_time(lambda: E.evaluate(sc, ns), reps) * 1e3
print(json.dumps(out))
'''


def _probe(tree: Path, what: str, points: int, reps: int) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    r = subprocess.run([sys.executable, "-c", PROBE, what, str(points), str(reps)], cwd=tree,
                       env=env, capture_output=True, text=True)
    if r.returncode:
        raise SystemExit(f"probe failed in {tree}:\n{r.stderr[-2000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    SBS.add_old_options(ap, OLD_DEFAULT)
    ap.add_argument("--points", type=int, default=1_000_000)
    ap.add_argument("--reps", type=int, default=5)
    a = ap.parse_args()
    print(f"uptime before: {SBS.uptime()}")
    with tempfile.TemporaryDirectory() as tmp:
        trees = SBS.trees(a, tmp)
        res: dict[str, dict[str, list[float]]] = {t: {} for t in trees}
        for what in ("arrays", "evaluate"):
            for _ in range(a.rounds):
                for t, path in trees.items():
                    for k, v in _probe(path, what, a.points, a.reps).items():
                        res[t].setdefault(k, []).append(v)
    med = {t: {k: statistics.median(v) for k, v in r.items()} for t, r in res.items()}
    old = med.get("old", {})
    print(f"\nfan-out model on arrays, {a.points} points (inputs included), median of "
          f"{a.rounds} x {a.reps}; old = {a.old}")
    for k, label in (("eight", "8 metrics (QW/RL mean, p99, victim, CPU time)"),
                     ("pair", "requester pair (QW/RL mean)")):
        new_v = med["new"][k]
        line = f"  {label:48s} new {new_v / 1e6:6.2f} M points/s"
        if k in old:
            line += f"   old {old[k] / 1e6:6.2f} M points/s   new/old x{new_v / old[k]:.2f}"
        print(line)
    print(f"\nevaluate() over N = 1..1024, ms per call (median of {a.rounds} x {a.reps})")
    for k, new_v in med["new"].items():
        if k in ("eight", "pair"):
            continue
        line = f"  {k:38s} new {new_v:8.1f} ms"
        if k in old:
            line += f"   old {old[k]:8.1f} ms   new/old {new_v / old[k]:6.3f}"
        print(line)
    print(f"\nuptime after: {SBS.uptime()}")


if __name__ == "__main__":
    main()
