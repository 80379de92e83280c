"""Sweep speed: analytic points per second, a 10^8-point sweep to parquet, Dask speed-up.

    python benchmarks/bench_sweep.py                 # all three (the 10^8 sweep takes ~1 min)
    python benchmarks/bench_sweep.py --skip-big      # without the 10^8-point sweep
    python benchmarks/bench_sweep.py --quick         # small sizes, a smoke run
    python benchmarks/bench_sweep.py --only dask     # one part: analytic, big or dask

1. Analytic points/s: chunks of ``sweeps/scale_1e8.toml`` computed in memory and
   discarded (no parquet), 1 and 2 threads, one metric and all metrics.
2. The whole ``sweeps/scale_1e8.toml`` (10^8 points, 4 machines x 1000 remote rates x
   25 local rates x 1000 CPU counts) to parquet in a temporary folder, deleted after.
   Target: under 60 s on 2 cores.
3. Dask: a Monte-Carlo sweep (16 cells x 3 CPU counts x 4096 replications on the
   fan-out simulator) on a local cluster of 1 and of 2 worker processes (one thread
   each). Timed after the cluster is up and the workers have imported the package;
   the results of both runs are checked equal. Target: speed-up >= 1.6. The workers'
   CPU seconds are printed too: on a shared machine they show how much CPU they got.
Times are wall-clock seconds; the machine load is printed with them.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

MC_SPEC = textwrap.dedent("""\
    [sweep]
    name = "bench_mc"
    kind = "montecarlo"
    seed = 1
    reps = {reps}
    metrics = ["requester_ns", "victim_ns"]
    quantiles = [0.5, 0.99]
    chunk_points = 3

    [axes]
    machine = ["intel-xeon-8375c-2s"]
    isolation = ["busy_other", "nohz_fifo_throttle"]
    preempt_model = ["voluntary", "lazy"]
    dirty_fraction = [0.5, 1.0]
    remote_rate_hz = [10.0, 1000.0]
    n_cpus = [16, 64, 256]
    """)


def load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def analytic_rate(n_chunks: int, threads: int, all_metrics: bool) -> tuple[float, int]:
    """Points per second computing chunks of scale_1e8 in memory (frames discarded)."""
    from pwmodel import sweep as SW
    spec = SW.load(ROOT / "sweeps" / "scale_1e8.toml")
    if all_metrics:
        spec = spec.replace(metrics=tuple(SW.ANALYTIC_METRICS))
    ch = SW.AnalyticChunker(spec)
    ch.chunk(0)                                   # warm caches (lambdify, group tables)
    ks = list(range(1, 1 + n_chunks))
    t0 = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        rows = sum(f.height for f in pool.map(ch.chunk, ks))
    return rows / (time.perf_counter() - t0), rows


def big_sweep(workers: int, quick: bool) -> dict[str, float]:
    """The whole scale_1e8 sweep to parquet in a temporary folder (deleted after)."""
    from pwmodel import sweep as SW
    spec = SW.load(ROOT / "sweeps" / "scale_1e8.toml")
    if quick:
        spec = spec.replace(axes={**spec.axes, "remote_rate_hz": spec.axes["remote_rate_hz"][:20]})
    tmp = Path(tempfile.mkdtemp(prefix="pwmodel-bench-sweep-"))
    try:
        t0 = time.perf_counter()
        lf = SW.run(spec, tmp / "out", executor="local", workers=workers, quiet=True)
        secs = time.perf_counter() - t0
        size = sum(p.stat().st_size for p in (tmp / "out").glob("part-*.parquet"))
        rows = lf.select("n_cpus").collect().height
        assert rows == spec.n_points, (rows, spec.n_points)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return {"points": spec.n_points, "seconds": secs, "points_per_s": spec.n_points / secs,
            "bytes": size, "chunks": -(-spec.n_points // spec.chunk_points)}


def _warm() -> None:
    """Import what the tasks use, on each worker, before the clock starts."""
    import pwmodel.simulate.fanout  # noqa: F401
    import pwmodel.sweep.runner  # noqa: F401


def dask_speedup(reps: int) -> dict[str, float]:
    """Warm timings of one Monte-Carlo sweep on 1 and on 2 local Dask workers."""
    import logging

    from distributed import Client, LocalCluster

    from pwmodel import sweep as SW
    spec = SW.parse(MC_SPEC.format(reps=reps))
    out: dict[str, float] = {"cells": spec.n_points // len(spec.axes["n_cpus"]), "reps": reps}
    frames = {}
    for n in (1, 2):
        t0 = time.perf_counter()
        with LocalCluster(n_workers=n, threads_per_worker=1, processes=True, host="127.0.0.1",
                          dashboard_address=None, silence_logs=logging.CRITICAL) as cluster, \
                Client(cluster) as client:
            client.run(_warm)
            up = time.perf_counter() - t0
            cpu0 = sum(client.run(time.process_time).values())
            t1 = time.perf_counter()
            frames[n] = SW.run(spec, scheduler=cluster.scheduler_address, quiet=True).collect()
            out[f"seconds_{n}w"] = time.perf_counter() - t1
            out[f"worker_cpu_s_{n}w"] = sum(client.run(time.process_time).values()) - cpu0
            out[f"startup_{n}w"] = up
    out["speedup"] = out["seconds_1w"] / out["seconds_2w"]
    for n in (1, 2):   # CPU the workers obtained: < n when other processes share the cores
        out[f"cores_{n}w"] = out[f"worker_cpu_s_{n}w"] / out[f"seconds_{n}w"]
    out["identical"] = float(frames[1].equals(frames[2]))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes (smoke run)")
    ap.add_argument("--skip-big", action="store_true", help="skip the 10^8-point sweep")
    ap.add_argument("--only", choices=["analytic", "big", "dask"], help="run one part only")
    ap.add_argument("--workers", type=int, default=2, help="threads for the big sweep")
    ap.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    args = ap.parse_args()
    res: dict[str, object] = {"cpus": os.cpu_count()}
    print(f"CPUs {os.cpu_count()}, {load()}")
    n_chunks = 1 if args.quick else 4
    for threads in ((1, 2) if args.only in (None, "analytic") else ()):
        for allm in (False, True):
            rate, rows = analytic_rate(n_chunks, threads, allm)
            key = f"analytic_{'all_metrics' if allm else 'requester_mean'}_{threads}t"
            res[key] = rate
            print(f"analytic {'9 metrics x 2 strategies' if allm else 'requester_mean_ns (QW, RL)':<28}"
                  f" {threads} thread(s): {rate / 1e6:7.2f} M points/s ({rows:,} points)  [{load()}]")
    if args.only == "big" or (args.only is None and not args.skip_big):
        b = big_sweep(args.workers, args.quick)
        res["big"] = b
        print(f"sweep to parquet: {b['points']:,.0f} points in {b['seconds']:.1f} s "
              f"({b['points_per_s'] / 1e6:.2f} M points/s, {b['chunks']:.0f} files, "
              f"{b['bytes'] / 1e9:.2f} GB, deleted)  [{load()}]")
    if args.only not in (None, "dask"):
        return _dump(args.json, res)
    d = dask_speedup(256 if args.quick else 4096)
    res["dask"] = d
    print(f"Dask Monte Carlo, {d['cells']:.0f} cells x 3 CPU counts x {d['reps']:.0f} reps: "
          f"1 worker {d['seconds_1w']:.1f} s, 2 workers {d['seconds_2w']:.1f} s, speed-up "
          f"{d['speedup']:.2f}x (cluster start {d['startup_1w']:.1f} / {d['startup_2w']:.1f} s; "
          f"identical results: {bool(d['identical'])}; worker CPU {d['worker_cpu_s_1w']:.1f} / "
          f"{d['worker_cpu_s_2w']:.1f} s, i.e. the workers got {d['cores_1w']:.2f} / "
          f"{d['cores_2w']:.2f} cores)  [{load()}]")
    _dump(args.json, res)


def _dump(path: str | None, res: dict) -> None:
    if path:
        Path(path).write_text(json.dumps(res, indent=1) + "\n")


if __name__ == "__main__":
    main()
