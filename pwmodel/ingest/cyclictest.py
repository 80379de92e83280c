"""cyclictest text output (``-h N`` histogram and summary lines) -> tidy polars frames.

cyclictest prints latency histograms in 1 us buckets; bucket labels become ns.

:func:`parse_cyclictest` schema (one row per thread and non-empty bucket):
    thread (Int32), latency_ns (Int64, bucket start = label x 1000), count (Int64)
:func:`parse_cyclictest_summary` schema (one row per thread):
    thread (Int32), samples (Int64), min_ns, avg_ns, max_ns (Int64), overflows (Int64, null
    when absent).  Also reads the ``T: 0 ( 1234) P:90 I:1000 C: ... Min: ... Avg: ... Max:``
    lines printed without ``-q``.
"""

from __future__ import annotations

import os
import re

import polars as pl

from pwmodel.errors import PwmodelError
from pwmodel.ingest.ftrace import read_text
_INT = re.compile(r"^\d+$")


def _ints(tokens: list[str], file: str, line: int) -> list[int]:
    out = []
    for t in tokens:
        if not _INT.match(t) or len(t) > 18:
            raise PwmodelError(f"expected an integer, found {t[:40]!r}", file=file, line=line)
        out.append(int(t))
    return out


def parse_cyclictest(path: str | os.PathLike) -> pl.DataFrame:
    """Histogram of a ``cyclictest -h N`` run (latency buckets of 1 us, in ns)."""
    file = str(path)
    rows: list[tuple[int, int, int]] = []
    nthreads = None
    for no, ln in enumerate(read_text(path).splitlines(), 1):
        s = ln.strip()
        if not s or s.startswith("#") or s.startswith("T:") or s.startswith("policy:"):
            continue
        toks = s.split()
        vals = _ints(toks, file, no)
        if len(vals) < 2:
            raise PwmodelError("histogram row needs a bucket and one count per thread",
                               file=file, line=no)
        if nthreads is None:
            nthreads = len(vals) - 1
        elif len(vals) - 1 != nthreads:
            raise PwmodelError(f"expected {nthreads} thread columns, found {len(vals) - 1}",
                               file=file, line=no)
        for t, c in enumerate(vals[1:]):
            if c:
                rows.append((t, vals[0] * 1000, c))
    if nthreads is None:
        raise PwmodelError("no histogram rows (was cyclictest run with -h?)", file=file)
    return pl.DataFrame(rows, schema={"thread": pl.Int32, "latency_ns": pl.Int64, "count": pl.Int64},
                        orient="row")


_T_LINE = re.compile(r"^T:\s*(\d+)\s*\(\s*\d+\)\s*P:\s*\d+\s*I:\s*\d+\s*C:\s*(\d+)\s*Min:\s*(\d+)"
                     r"\s*Act:\s*\d+\s*Avg:\s*(\d+)\s*Max:\s*(\d+)")


def parse_cyclictest_summary(path: str | os.PathLike) -> pl.DataFrame:
    """Per-thread totals of a cyclictest run (``# Total/Min/Avg/Max`` or ``T:`` lines), in ns."""
    file = str(path)
    keys = {"# Total:": "samples", "# Min Latencies:": "min_ns", "# Avg Latencies:": "avg_ns",
            "# Max Latencies:": "max_ns", "# Histogram Overflows:": "overflows"}
    cols: dict[str, list[int]] = {}
    t_rows = []
    for no, ln in enumerate(read_text(path).splitlines(), 1):
        for k, name in keys.items():
            if ln.startswith(k):
                vals = _ints(ln[len(k):].split(), file, no)
                cols[name] = [v * 1000 for v in vals] if name.endswith("_ns") else vals
        m = _T_LINE.match(ln.strip())
        if m:
            t, c, mn, avg, mx = (int(x) for x in m.groups())
            t_rows.append({"thread": t, "samples": c, "min_ns": mn * 1000, "avg_ns": avg * 1000,
                           "max_ns": mx * 1000, "overflows": None})
    schema = {"thread": pl.Int32, "samples": pl.Int64, "min_ns": pl.Int64, "avg_ns": pl.Int64,
              "max_ns": pl.Int64, "overflows": pl.Int64}
    if cols:
        n = max(len(v) for v in cols.values())
        if any(len(v) != n for v in cols.values()):
            raise PwmodelError("summary lines list different numbers of threads", file=file)
        data = {"thread": list(range(n))}
        for name in ("samples", "min_ns", "avg_ns", "max_ns", "overflows"):
            data[name] = cols.get(name, [None] * n)
        return pl.DataFrame(data, schema=schema)
    if t_rows:
        return pl.DataFrame(t_rows, schema=schema)
    raise PwmodelError("no cyclictest summary (# Total/# Max Latencies or T: lines)", file=file)
