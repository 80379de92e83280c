"""Answers in a blink: wall and CPU times of the command line and of crossover solving, and
ratios against an older code path, side by side in one run.

    python benchmarks/bench_speed.py [--old REV] [--rounds 3] [--skip-report] [--no-old]

Measures, in fresh processes (interpreter start included), the runs of the two trees
interleaved (the old tree is ``git archive REV`` unpacked in a temporary folder):
``pwmodel --help``; ``pwmodel decide`` (one machine and level, with the crossover and its
interval) with an empty cache folder (cold: a first run after installing) and with the
cache folder its first run filled (warm: every later run); ``pwmodel report --out DIR``
(full and ``--text-only``, one run each, warm). Then, in one process per tree, N* of
every bundled machine x isolation level: one by one (``decide.crossover_n``) on the old
tree, in one vectorised call (``decide.crossovers``) on this one.

Prints medians of wall time and of CPU time (user + system of the child, all its
threads), the ratios new/old, and ``uptime`` before and after: on a shared machine the
CPU times and the ratios taken in one run mean more than the wall times.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _sidebyside as SBS

ROOT = Path(__file__).resolve().parents[1]
DECIDE = ["decide", "--machine", "amd-epyc-7r13-2s", "--isolation", "nohz_other"]


def _run(cmd: list[str], cwd: Path, cache: Path) -> tuple[float, float]:
    """(wall s, CPU s) of one fresh process."""
    env = {**os.environ, "PYTHONPATH": str(cwd), "PWMODEL_CACHE": str(cache)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    ap = argparse.ArgumentParser()
    SBS.add_old_options(ap, "d3b4a92")
    ap.add_argument("--skip-report", action="store_true")
    a = ap.parse_args()
    print(f"uptime before: {SBS.uptime()}")
    py = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        trees = SBS.trees(a, tmp, ("pwmodel", "data", "docs"))   # decide reads docs/validation
        caches = {k: Path(tmp) / f"cache-{k}" for k in trees}
        cases = [("--help", ["--help"], "warm", a.rounds),
                 ("decide (cold cache)", DECIDE, "cold", a.rounds),
                 ("decide (warm cache)", DECIDE, "warm", a.rounds)]
        if not a.skip_report:
            cases += [("report --text-only", ["report", "--text-only", "--out", "{out}"], "warm", 1),
                      ("report", ["report", "--out", "{out}"], "warm", 1)]
        for label, where in trees.items():      # fill the warm caches (not timed)
            _run([py, "-m", "pwmodel", *DECIDE], where, caches[label])
        rows = []
        for name, args, cache, rounds in cases:
            got: dict[str, list[tuple[float, float]]] = {k: [] for k in trees}
            for r in range(rounds):
                for label, where in trees.items():
                    c = caches[label]
                    if cache == "cold":
                        c = Path(tmp) / f"cold-{label}-{r}"
                        shutil.rmtree(c, ignore_errors=True)
                    out = str(Path(tmp) / f"out-{label}-{r}")
                    got[label].append(_run([py, "-m", "pwmodel", *[x.format(out=out) for x in args]],
                                           where, c))
            med = {k: (statistics.median(w for w, _ in v), statistics.median(c for _, c in v))
                   for k, v in got.items()}
            rows.append((name, med))
        print(f"\n{'':22s} {'new wall':>9s} {'new CPU':>9s}" +
              ("" if a.no_old else f" {'old wall':>9s} {'old CPU':>9s} {'CPU new/old':>12s}"))
        for name, med in rows:
            nw, nc = med["new"]
            line = f"{name:22s} {nw:8.2f}s {nc:8.2f}s"
            if "old" in med:
                ow, oc = med["old"]
                line += f" {ow:8.2f}s {oc:8.2f}s {nc / oc:12.3f}"
            print(line)
        code = ("import sys,time; sys.path.insert(0, sys.argv[1]);"
                "from pwmodel import machine as M, decide as D;"
                "from pwmodel.evaluate import Scenario;"
                "from pwmodel.models import wakeup as W;"
                "scs=[Scenario(m, i) for m in M.bundled() for i in W.ISOLATION];"
                "t=time.process_time();"
                "xs=(D.crossovers(scs) if sys.argv[2]=='batch' else [D.crossover_n(s) for s in scs]);"
                "print(time.process_time()-t, len(scs))")
        out = {}
        for label, mode in (("old", "single"), ("new", "batch")):
            if label not in trees:
                continue
            env = {**os.environ, "PWMODEL_CACHE": str(caches[label])}
            r = subprocess.run([py, "-c", code, str(trees[label]), mode], capture_output=True,
                               text=True, check=True, env=env)
            t, n = r.stdout.split()
            out[label] = float(t)
            how = "one by one" if mode == "single" else "one vectorised call"
            print(f"N* of {n} machine x level cells, {label} tree, {how}: {float(t):.2f} s CPU")
        if len(out) == 2:
            print(f"crossover CPU new/old: {out['new'] / out['old']:.4f}")
    print(f"\nuptime after: {SBS.uptime()}")


if __name__ == "__main__":
    main()
