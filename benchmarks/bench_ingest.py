"""Parse speed of ftrace text, in lines per second (target: >= 500k lines/s).

Builds a trace of ``--lines`` event lines (default 1.2 million) by repeating the
real tracefs capture in tests/fixtures/ingest with increasing timestamps, writes it
to a temporary file and times :func:`pwmodel.ingest.parse_ftrace` on it
(best of ``--repeat`` runs), reporting wall-clock lines/s and lines per CPU-second
(the latter is what to compare when the machine is shared with other load).  Run: ``python benchmarks/bench_ingest.py``.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

from pwmodel.ingest.ftrace import parse_ftrace

FIXTURE = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "ingest" / "ftrace_tracefs_local.txt"


def build_trace(path: Path, n_lines: int) -> int:
    lines = FIXTURE.read_text().splitlines()
    header = [ln for ln in lines if ln.startswith("#")]
    events = [ln for ln in lines if not ln.startswith("#")]
    out = list(header)
    base = 343.0
    k = 0
    while len(out) - len(header) < n_lines:
        shift = k * 0.01
        for ln in events:
            head, sep, rest = ln.partition(": ")
            cut = head.rstrip().rsplit(" ", 1)
            ts = float(cut[1]) - base + 1000.0 + shift
            out.append(f"{cut[0]} {ts:.6f}{sep}{rest}")
        k += 1
    out = out[: len(header) + n_lines]
    path.write_text("\n".join(out) + "\n")
    return n_lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=1_200_000)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "trace.txt"
        n = build_trace(path, a.lines)
        best = best_cpu = float("inf")
        for _ in range(a.repeat):
            t0, c0 = time.perf_counter(), time.process_time()
            df = parse_ftrace(path)
            best = min(best, time.perf_counter() - t0)
            best_cpu = min(best_cpu, time.process_time() - c0)
        assert df.height == n, (df.height, n)
        mb = path.stat().st_size / 1e6
    print(f"ftrace text: {n} lines ({mb:.0f} MB) parsed in {best:.3f} s (best of {a.repeat}): "
          f"{n / best:,.0f} lines/s wall; {best_cpu:.3f} CPU-s summed over threads "
          f"({n / best_cpu:,.0f} lines per CPU-second) on {platform.node()}, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
