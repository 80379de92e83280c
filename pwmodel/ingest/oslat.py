"""oslat text output -> tidy polars frames.

oslat prints, per measured CPU, how many loop gaps fell in each 1 us bucket.

:func:`parse_oslat` schema (one row per CPU and non-empty bucket):
    cpu (Int32), latency_ns (Int64, bucket label x 1000), count (Int64),
    includes_overflow (Boolean: the last bucket also counts everything above it)
:func:`parse_oslat_summary` schema: cpu (Int32), min_ns, avg_ns, max_ns, duration_ns (Int64)
"""

from __future__ import annotations

import os
import re

import polars as pl

from pwmodel.errors import PwmodelError
from pwmodel.ingest.ftrace import read_text
from pwmodel.ingest.cyclictest import _ints

_OSLAT_BUCKET = re.compile(r"^\s*(\d+)\s*\(us\):\s*(.*?)\s*(\(including overflows\))?\s*$")
_OSLAT_STAT = re.compile(r"^\s*(Minimum|Average|Maximum|Duration):\s*(.*)$")


def _oslat_lines(path):
    file = str(path)
    cores = None
    buckets: list[tuple[int, list[int], bool, int]] = []
    stats: dict[str, list[float]] = {}
    for no, ln in enumerate(read_text(path).splitlines(), 1):
        s = ln.strip()
        if s.startswith("Core:"):
            cores = _ints(s[5:].split(), file, no)
            continue
        m = _OSLAT_BUCKET.match(ln)
        if m and cores is not None:
            vals = _ints(m.group(2).split(), file, no)
            if len(vals) != len(cores):
                raise PwmodelError(f"expected {len(cores)} counts, found {len(vals)}", file=file, line=no)
            buckets.append((int(m.group(1)), vals, bool(m.group(3)), no))
            continue
        m = _OSLAT_STAT.match(ln)
        if m and cores is not None:
            toks = [t for t in m.group(2).replace("(us)", "").replace("(sec)", "").split() if t]
            try:
                stats[m.group(1)] = [float(t) for t in toks]
            except ValueError:
                raise PwmodelError(f"expected numbers after {m.group(1)}:", file=file, line=no) from None
            if len(stats[m.group(1)]) != len(cores):
                raise PwmodelError(f"expected {len(cores)} values", file=file, line=no)
    if cores is None or not buckets:
        raise PwmodelError("no oslat histogram (missing 'Core:' line or '(us):' buckets)", file=file)
    _check_trailer(cores, buckets, stats, file)
    return cores, buckets, stats


#: the summary oslat prints after the histogram (src/oslat/oslat.c in rt-tests);
#: without it the output was cut short and the last bucket may be cut too
TRAILER = ("Minimum", "Average", "Maximum", "Duration")


def _check_trailer(cores, buckets, stats, file: str) -> None:
    """The summary trailer is present and agrees with the histogram."""
    missing = [k for k in TRAILER if k not in stats]
    if missing:
        raise PwmodelError(f"truncated oslat output: no '{missing[0]}:' line in the summary "
                           f"after the histogram (the last bucket may be cut short too)", file=file)
    last_no = buckets[-1][3]
    for i, cpu in enumerate(cores):
        seen = [label for label, vals, over, _ in buckets if vals[i]]
        if not seen:
            continue
        lo, hi = min(seen), max(seen)
        # bucket N (us) holds gaps in [N-1, N) us; the last one also everything above it
        if stats["Maximum"][i] < hi - 1:
            raise PwmodelError(f"summary 'Maximum: {stats['Maximum'][i]:g} (us)' of CPU {cpu} is below "
                               f"its highest non-empty bucket {hi} (us): inconsistent output",
                               file=file, line=last_no)
        if stats["Minimum"][i] > lo:
            raise PwmodelError(f"summary 'Minimum: {stats['Minimum'][i]:g} (us)' of CPU {cpu} is above "
                               f"its lowest non-empty bucket {lo} (us): inconsistent output",
                               file=file, line=last_no)


def parse_oslat(path: str | os.PathLike) -> pl.DataFrame:
    """Histogram of an oslat run: per CPU, count of loop gaps per 1 us bucket (ns)."""
    cores, buckets, _ = _oslat_lines(path)
    rows = []
    for label, vals, over, _no in buckets:
        for cpu, c in zip(cores, vals):
            if c:
                rows.append((cpu, label * 1000, c, over))
    return pl.DataFrame(rows, orient="row", schema={"cpu": pl.Int32, "latency_ns": pl.Int64,
                                                     "count": pl.Int64, "includes_overflow": pl.Boolean})


def parse_oslat_summary(path: str | os.PathLike) -> pl.DataFrame:
    """Per-CPU minimum/average/maximum gap and run duration of an oslat run, in ns."""
    cores, _, stats = _oslat_lines(path)
    def col(name, scale):
        v = stats.get(name)
        return [round(x * scale) for x in v] if v else [None] * len(cores)
    return pl.DataFrame({"cpu": cores, "min_ns": col("Minimum", 1000), "avg_ns": col("Average", 1000),
                         "max_ns": col("Maximum", 1000), "duration_ns": col("Duration", 1e9)},
                        schema={"cpu": pl.Int32, "min_ns": pl.Int64, "avg_ns": pl.Int64,
                                "max_ns": pl.Int64, "duration_ns": pl.Int64})
