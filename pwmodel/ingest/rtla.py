"""rtla timerlat/osnoise ``top`` and ``hist`` text output -> polars.

Times are printed in us (default) or ns (``-n``/``--nano``); both become ns.

:func:`parse_rtla_hist` (timerlat hist and osnoise hist), one row per column and
non-empty bucket:
    cpu (Int32), context (Utf8: ``irq``, ``thread``, ``user`` for timerlat;
    ``noise`` for osnoise), latency_ns (Int64, bucket start), count (Int64)
:func:`parse_rtla_hist_summary`: cpu, context, over (Int64), samples (Int64),
    min_ns, avg_ns, max_ns (Int64)
:func:`parse_timerlat_top`: cpu (Int32), samples (Int64), then for ctx in irq,
    thread (and user when printed): ``{ctx}_cur_ns``, ``{ctx}_min_ns``,
    ``{ctx}_avg_ns``, ``{ctx}_max_ns`` (Int64)
:func:`parse_osnoise_top`: cpu (Int32), periods (Int64), runtime_ns, noise_ns (Int64),
    cpu_available_pct (Float64), max_noise_ns, max_single_noise_ns (Int64),
    hw_count, nmi_count, irq_count, softirq_count, thread_count (Int64)
"""

from __future__ import annotations

import os
import re

import polars as pl

from pwmodel.errors import PwmodelError
from pwmodel.ingest.ftrace import read_text

_CTX = {"IRQ": "irq", "Thr": "thread", "Usr": "user", "CPU": "noise"}


def _scale(text: str) -> int:
    """ns per printed time unit: 1 for nanoseconds, 1000 for microseconds."""
    return 1 if re.search(r"time is in ns|Time unit is nanoseconds|\(ns\)", text) else 1000


def _num(tok: str, file: str, line: int) -> float:
    try:
        v = float(tok)
    except ValueError:
        raise PwmodelError(f"expected a number, found {tok[:40]!r}", file=file, line=line) from None
    if v != v or abs(v) > 1e17:
        raise PwmodelError(f"number out of range: {tok[:40]!r}", file=file, line=line)
    return v


def _hist_table(path):
    file = str(path)
    text = read_text(path)
    scale = _scale(text)
    header = None
    rows, summary = [], {}
    for no, ln in enumerate(text.splitlines(), 1):
        s = ln.strip()
        if not s or s.startswith("#"):
            continue
        toks = s.split()
        if toks[0] == "Index":
            header = []
            for t in toks[1:]:
                m = re.match(r"^(IRQ|Thr|Usr|CPU)-(\d+)$", t)
                if not m:
                    raise PwmodelError(f"unknown histogram column {t[:40]!r}", file=file, line=no)
                header.append((int(m.group(2)), _CTX[m.group(1)]))
            continue
        if header is None:
            continue
        if len(toks) - 1 != len(header):
            if toks[0].endswith(":") or not toks[0].isdigit():
                continue  # auto-analysis or other trailer text
            raise PwmodelError(f"expected {len(header)} columns, found {len(toks) - 1}", file=file, line=no)
        if toks[0].endswith(":"):
            summary[toks[0][:-1]] = [_num(t, file, no) for t in toks[1:]]
            continue
        if not toks[0].isdigit():
            raise PwmodelError(f"expected a bucket index, found {toks[0][:40]!r}", file=file, line=no)
        b = int(toks[0])
        rows.append((b, [_num(t, file, no) for t in toks[1:]], no))
    if header is None:
        raise PwmodelError("no 'Index' header line: not rtla hist output", file=file)
    return header, rows, summary, scale


def parse_rtla_hist(path: str | os.PathLike) -> pl.DataFrame:
    """Histogram rows of ``rtla timerlat hist`` / ``rtla osnoise hist`` (bucket start in ns)."""
    header, rows, _, scale = _hist_table(path)
    out = []
    for b, vals, _ in rows:
        for (cpu, ctx), c in zip(header, vals):
            if c:
                out.append((cpu, ctx, b * scale, int(c)))
    return pl.DataFrame(out, orient="row", schema={"cpu": pl.Int32, "context": pl.Utf8,
                                                    "latency_ns": pl.Int64, "count": pl.Int64})


def parse_rtla_hist_summary(path: str | os.PathLike) -> pl.DataFrame:
    """over/count/min/avg/max trailer of an rtla hist, one row per column (times in ns)."""
    header, _, summary, scale = _hist_table(path)
    def col(name, s):
        v = summary.get(name)
        return [round(x * s) for x in v] if v else [None] * len(header)
    return pl.DataFrame({
        "cpu": [c for c, _ in header], "context": [x for _, x in header],
        "over": col("over", 1), "samples": col("count", 1),
        "min_ns": col("min", scale), "avg_ns": col("avg", scale), "max_ns": col("max", scale),
    }, schema={"cpu": pl.Int32, "context": pl.Utf8, "over": pl.Int64, "samples": pl.Int64,
               "min_ns": pl.Int64, "avg_ns": pl.Int64, "max_ns": pl.Int64})


def parse_timerlat_top(path: str | os.PathLike) -> pl.DataFrame:
    """Per-CPU rows of ``rtla timerlat top`` (cur/min/avg/max per context, in ns)."""
    file = str(path)
    text = read_text(path)
    scale = _scale(text)
    ctxs: list[str] = []
    rows = []
    for no, ln in enumerate(text.splitlines(), 1):
        if "Timer Latency" in ln and "|" in ln:
            ctxs = [("irq" if "IRQ" in p else "user" if "User" in p or "Usr" in p else "thread")
                    for p in ln.split("|")[1:] if p.strip()]
            continue
        m = re.match(r"^\s*(\d+)\s+#(\d+)\s*\|(.*)$", ln)
        if not m:
            continue
        if not ctxs:
            raise PwmodelError("CPU row before the 'Timer Latency' header", file=file, line=no)
        parts = [p.split() for p in m.group(3).split("|")]
        if len(parts) != len(ctxs) or any(len(p) != 4 for p in parts):
            raise PwmodelError("expected cur/min/avg/max for each context", file=file, line=no)
        row = {"cpu": int(m.group(1)), "samples": int(m.group(2))}
        for ctx, p in zip(ctxs, parts):
            for k, t in zip(("cur", "min", "avg", "max"), p):
                row[f"{ctx}_{k}_ns"] = round(_num(t, file, no) * scale)
        rows.append(row)
    if not rows:
        raise PwmodelError("no per-CPU rows: not rtla timerlat top output", file=file)
    schema = {"cpu": pl.Int32, "samples": pl.Int64}
    for ctx in ctxs:
        for k in ("cur", "min", "avg", "max"):
            schema[f"{ctx}_{k}_ns"] = pl.Int64
    return pl.DataFrame(rows, schema=schema)


_OSN_COLS = ["periods", "runtime_ns", "noise_ns", "cpu_available_pct", "max_noise_ns",
             "max_single_noise_ns", "hw_count", "nmi_count", "irq_count", "softirq_count", "thread_count"]


def parse_osnoise_top(path: str | os.PathLike) -> pl.DataFrame:
    """Per-CPU rows of ``rtla osnoise top`` (noise and runtime in ns, interference counts)."""
    file = str(path)
    text = read_text(path)
    scale = _scale(text)
    rows = []
    for no, ln in enumerate(text.splitlines(), 1):
        m = re.match(r"^\s*(\d+)\s+#(\d+)\s+(.*)$", ln)
        if not m:
            continue
        toks = m.group(3).split()
        if len(toks) != 10:
            raise PwmodelError(f"expected 11 values after the CPU, found {len(toks) + 1}", file=file, line=no)
        v = [_num(t, file, no) for t in toks]
        row = {"cpu": int(m.group(1)), "periods": int(m.group(2)),
               "runtime_ns": round(v[0] * scale), "noise_ns": round(v[1] * scale),
               "cpu_available_pct": v[2], "max_noise_ns": round(v[3] * scale),
               "max_single_noise_ns": round(v[4] * scale)}
        for k, x in zip(_OSN_COLS[6:], v[5:]):
            row[k] = int(x)
        rows.append(row)
    if not rows:
        raise PwmodelError("no per-CPU rows: not rtla osnoise top output", file=file)
    schema = {"cpu": pl.Int32} | {k: (pl.Float64 if k.endswith("_pct") else pl.Int64) for k in _OSN_COLS}
    return pl.DataFrame(rows, schema=schema)
