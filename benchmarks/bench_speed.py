"""Answers in a blink: wall times of the command line and of crossover solving, and ratios
against an older code path (a git revision checked out into a temporary worktree).

    python benchmarks/bench_speed.py [--old REV] [--reps 3] [--skip-report]

Measures, in fresh processes (interpreter start included), side by side in one run:
``pwmodel --help``, ``pwmodel decide`` (one machine and level, crossover and intervals
on the new path), ``pwmodel report --out DIR`` (full and ``--text-only``); and in this
process: N* of every bundled machine x isolation level one by one on the old path
(``decide.crossover_n`` of REV) against one vectorised call (``decide.crossovers``).
Prints medians and new/old ratios, and the load (``os.getloadavg``) before and after:
on a shared machine only the ratios mean much.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _wall(cmd: list[str], cwd: Path, reps: int) -> float:
    env = {**os.environ, "PYTHONPATH": str(cwd)}
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        subprocess.run(cmd, cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--old", default="ee217ae", help="git revision of the old path")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--skip-report", action="store_true")
    a = ap.parse_args()
    print(f"load before: {os.getloadavg()}")
    py = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        old = Path(tmp) / "old"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(old), a.old],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            rows = []
            cmds = [("--help", ["-m", "pwmodel", "--help"]),
                    ("decide", ["-m", "pwmodel", "decide", "--machine", "amd-epyc-7r13-2s",
                                "--isolation", "nohz_other"])]
            if not a.skip_report:
                cmds += [("report --text-only", ["-m", "pwmodel", "report", "--text-only",
                                                 "--out", str(Path(tmp) / "r-{}")]),
                         ("report", ["-m", "pwmodel", "report", "--out", str(Path(tmp) / "f-{}")])]
            for name, args in cmds:
                reps = 1 if name.startswith("report") else a.reps
                t_old = _wall([py] + [x.format("old") for x in args], old, reps)
                t_new = _wall([py] + [x.format("new") for x in args], ROOT, reps)
                rows.append((name, t_old, t_new))
            for name, t_old, t_new in rows:
                print(f"{name:20s} old {t_old:8.2f} s  new {t_new:8.2f} s  "
                      f"new/old {t_new / t_old:6.3f}  (x{t_old / t_new:.1f} faster)")
            code = ("import sys,time; sys.path.insert(0, sys.argv[1]);"
                    "from pwmodel import machine as M, decide as D;"
                    "from pwmodel.evaluate import Scenario;"
                    "from pwmodel.models import wakeup as W;"
                    "scs=[Scenario(m, i) for m in M.bundled() for i in W.ISOLATION];"
                    "t=time.perf_counter();"
                    "xs=(D.crossovers(scs) if hasattr(D,'crossovers') and sys.argv[2]=='batch'"
                    " else [D.crossover_n(s) for s in scs]);"
                    "print(time.perf_counter()-t, len(scs))")
            out = {}
            for label, where, mode in (("old, one by one", old, "single"),
                                       ("new, vectorised", ROOT, "batch")):
                r = subprocess.run([py, "-c", code, str(where), mode], capture_output=True,
                                   text=True, check=True)
                t, n = r.stdout.split()
                out[label] = float(t)
                print(f"N* of {n} machine x level cells, {label}: {float(t):.2f} s")
            print(f"crossover ratio new/old: {out['new, vectorised'] / out['old, one by one']:.4f}")
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(old)],
                           check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    print(f"load after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
