"""Microbenchmarks of the costs the models need, run with ``csrc/pw_micro.c``.

Benchmarks (``bench`` column):

- ``c2c``: CAS ping-pong of one cache line between cpu_a and cpu_b (every
  ordered pair); ``ns_per_op`` = one-way transfer = round trip / 2
- ``atomic``: uncontended ``lock xadd`` on a private line, ns per operation
- ``spinlock``: uncontended test-and-set lock + release, ns per pair
- ``spinlock_remote``: lock + release on cpu_a of a lock line last written by
  cpu_b (the pwlocks case after a remote drain); per-sample p50/p99
- ``futex_roundtrip``: futex wake/wait ping-pong between threads on cpu_a and
  cpu_b, ns per round trip (two sleeps + two wake-ups, idle exits included)
- ``membarrier``: MEMBARRIER_CMD_PRIVATE_EXPEDITED from cpu_a while a thread
  spins on cpu_b: an IPI round trip proxy; ``membarrier_no_peer`` without it

Schema of the ``micro`` table: bench, cpu_a (Int32), cpu_b (Int32, null for
one-CPU benchmarks), pair_class (smt_sibling / same_llc / same_socket /
cross_socket as the guest kernel reports them, the machine profiles' names:
pwmodel.machine.sysfs.pair_class; null for one-CPU rows), run
(Int32), n_ops (Int64), ns_per_op, p50_ns, p99_ns (Float64; p50/p99 only for
per-sample benchmarks).
"""

from __future__ import annotations

import itertools
import os
import sys
import time
from pathlib import Path

import polars as pl

from pwmodel.collect import cbuild, machine, store
from pwmodel.collect.procs import Helpers, read_lines
from pwmodel.errors import PwmodelError
from pwmodel.machine import sysfs

SCHEMA = {"bench": pl.Utf8, "cpu_a": pl.Int32, "cpu_b": pl.Int32, "pair_class": pl.Utf8, "run": pl.Int32,
          "n_ops": pl.Int64, "ns_per_op": pl.Float64, "p50_ns": pl.Float64, "p99_ns": pl.Float64}
DEFAULT_N = {"c2c": 200_000, "atomic": 20_000_000, "spinlock": 20_000_000, "spinremote": 20_000,
             "futex": 20_000, "membarrier": 20_000}


def pair_class(a: int, b: int, topo: list[dict]) -> str:
    """Class of a CPU pair from the topology rows stored in the metadata
    (:func:`pwmodel.collect.machine.cpu_topology`), in the machine profiles' vocabulary."""
    return sysfs.pair_class(a, b, [sysfs.CpuTopology.from_metadata(x) for x in topo])


def plan(cpus: list[int], runs: int, scale: float = 1.0) -> list[tuple[str, list[str]]]:
    """The (benchmark, argv tail) list run by :func:`collect_micro`."""
    n = {k: max(1, int(v * scale)) for k, v in DEFAULT_N.items()}
    pairs = [(a, b) for a, b in itertools.permutations(cpus, 2)]
    a0, b0 = (pairs[0] if pairs else (cpus[0], cpus[0]))
    tasks = []
    for run in range(runs):
        for a, b in pairs:
            tasks.append(("c2c", [str(a), str(b), str(n["c2c"])]))
        for c in cpus:
            tasks.append(("atomic", [str(c), str(n["atomic"])]))
            tasks.append(("spinlock", [str(c), str(n["spinlock"])]))
        for a, b in pairs:
            tasks.append(("spinremote", [str(a), str(b), str(n["spinremote"])]))
        tasks.append(("futex", [str(a0), str(b0), str(n["futex"])]))
        tasks.append(("membarrier", [str(a0), str(b0), str(n["membarrier"])]))
        tasks.append(("membarrier", [str(a0), "-1", str(n["membarrier"])]))
    return tasks


def collect_micro(out_dir: str | Path, *, runs: int = 5, cpus: list[int] | None = None, scale: float = 1.0,
                  fifo_prio: int | None = 10, timeout_s: float = 60.0, progress: bool = True,
                  command: list[str] | None = None) -> dict:
    """Run every microbenchmark ``runs`` times on ``cpus`` and write the ``micro`` table.

    ``fifo_prio`` runs the benchmark threads SCHED_FIFO (so unrelated SCHED_OTHER
    load cannot preempt them; each run is well under RT throttling's 950 ms);
    None keeps SCHED_OTHER.
    """
    if sys.platform != "linux":
        raise PwmodelError("collectors need Linux")
    avail = sorted(os.sched_getaffinity(0))
    cpus = avail if cpus is None else cpus
    if len(cpus) < 2 or any(c not in avail for c in cpus):
        raise PwmodelError(f"need two or more available CPUs, got {cpus} (available {avail})", field="cpus")
    binary = cbuild.build("pw_micro")
    topo = machine.cpu_topology()
    tasks = plan(cpus, runs, scale)
    per_run = len(tasks) // runs
    rows = []
    from tqdm import tqdm
    bar = tqdm(total=len(tasks), desc="microbenchmarks", unit="bench", file=sys.stderr, disable=not progress)
    env = dict(os.environ)
    env.pop("PW_FIFO_PRIO", None)
    if fifo_prio:
        env["PW_FIFO_PRIO"] = str(fifo_prio)
    load_before = machine.loadavg()
    with Helpers() as helpers:
        for i, (bench, args) in enumerate(tasks):
            proc = helpers.start([str(binary), bench, *args], env=env)
            lines = list(read_lines(proc, time.monotonic() + timeout_s))
            rc = proc.wait(timeout=10)
            if rc != 0 or not lines:
                raise PwmodelError(f"pw_micro {bench} {' '.join(args)} failed (exit {rc}): "
                                   f"{proc.stderr.read().strip()[:300]}")
            f = lines[-1].split(",")
            a = int(f[1])
            b = int(f[2]) if f[2] else None
            rows.append({"bench": f[0], "cpu_a": a, "cpu_b": b,
                         "pair_class": pair_class(a, b, topo) if b is not None else None,
                         "run": i // per_run, "n_ops": int(f[3]), "ns_per_op": float(f[4]),
                         "p50_ns": float(f[5]) if f[5] else None, "p99_ns": float(f[6]) if f[6] else None})
            bar.update(1)
    bar.close()
    df = pl.DataFrame(rows, schema=SCHEMA)
    meta = machine.metadata(command, collector="pwmodel.collect.micro.collect_micro",
                            loadavg_before=load_before, loadavg_after=machine.loadavg(),
                            settings={"runs": runs, "cpus": cpus, "scale": scale, "fifo_prio": fifo_prio,
                                      "n_ops": {k: max(1, int(v * scale)) for k, v in DEFAULT_N.items()}})
    store.write_dataset(out_dir, {"micro": df}, meta)
    return meta


def summary(df: pl.DataFrame) -> pl.DataFrame:
    """Median over runs of ns_per_op (and p50) per benchmark and pair class."""
    return df.group_by(["bench", "pair_class"]).agg(
        pl.len().alias("n_rows"), pl.col("ns_per_op").median().alias("ns_per_op_median"),
        pl.col("p50_ns").median().alias("p50_ns_median"), pl.col("p99_ns").median().alias("p99_ns_median"),
    ).sort("bench")
