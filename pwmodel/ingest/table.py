"""Plain CSV / parquet tables whose column names carry their unit -> polars, in ns and Hz.

Every column must either end in a unit suffix or be a known unit-less name.
Time columns in us/ms/s are converted to ns and frequency columns in kHz/MHz/GHz
to Hz at this edge (the name changes with the unit: ``latency_us`` ->
``latency_ns``); all other columns are kept as read.

Unit suffixes accepted: ``_ns _us _ms _s _hz _khz _mhz _ghz _pct _cycles
_bytes _count _pages _lines``; unit-less names: see :data:`UNITLESS`.
"""

from __future__ import annotations

import os
from pathlib import Path

import polars as pl

from pwmodel.errors import PwmodelError

TIME_SCALE = {"_ns": 1, "_us": 1_000, "_ms": 1_000_000, "_s": 1_000_000_000}
FREQ_SCALE = {"_hz": 1, "_khz": 1_000, "_mhz": 1_000_000, "_ghz": 1_000_000_000}
OTHER_UNITS = ("_pct", "_cycles", "_bytes", "_count", "_pages", "_lines", "_ratio")
UNITLESS = {
    "cpu", "cpu_a", "cpu_b", "pid", "tid", "comm", "thread", "event", "function", "workqueue",
    "name", "label", "state", "target_state", "kind", "class", "pair_class", "run", "trigger",
    "source_url", "note", "method", "machine", "kernel", "config", "variant", "op", "line",
    "context", "window", "cause", "source", "file", "node", "n", "count", "samples",
}


def _unit_of(col: str) -> str | None:
    low = col.lower()
    for suf in (*FREQ_SCALE, *TIME_SCALE, *OTHER_UNITS):
        if low.endswith(suf):
            return suf
    return None


def check_unit_names(columns: list[str], file: str) -> None:
    """Raise when a column name has no unit suffix and is not a known unit-less name."""
    for c in columns:
        if _unit_of(c) is None and c.lower() not in UNITLESS and not c.lower().startswith(("is_", "has_", "n_")):
            raise PwmodelError(
                f"column has no unit in its name (expected a suffix like _ns, _us, _hz, _pct, "
                f"or a unit-less name like cpu), found {c!r}", file=file, line=1, field=c)


def to_ns_hz(df: pl.DataFrame) -> pl.DataFrame:
    """Rename and scale time columns to ``_ns`` and frequency columns to ``_hz``."""
    exprs = []
    for c in df.columns:
        suf = _unit_of(c)
        numeric = df.schema[c].is_numeric()
        if numeric and suf in TIME_SCALE and suf != "_ns":
            new = c[: -len(suf)] + "_ns"
            exprs.append((pl.col(c) * TIME_SCALE[suf]).alias(new))
        elif numeric and suf in FREQ_SCALE and suf != "_hz":
            new = c[: -len(suf)] + "_hz"
            exprs.append((pl.col(c) * FREQ_SCALE[suf]).alias(new))
        else:
            exprs.append(pl.col(c))
    out = df.select(exprs)
    if len(set(out.columns)) != len(out.columns):
        raise PwmodelError("two columns map to the same ns/Hz name")
    return out


def parse_table(path: str | os.PathLike) -> pl.DataFrame:
    """Read a unit-named CSV or parquet table and convert its units to ns / Hz."""
    path = Path(path)
    file = str(path)
    try:
        head = path.open("rb").read(4)
    except OSError as exc:
        raise PwmodelError(f"cannot read: {exc.strerror}", file=file) from None
    try:
        if head == b"PAR1":
            df = pl.read_parquet(path)
        else:
            df = pl.read_csv(path, infer_schema_length=10_000, encoding="utf8-lossy")
    except pl.exceptions.PolarsError as exc:
        msg = str(exc).splitlines()[0][:200]
        line = None
        import re
        m = re.search(r"line (\d+)", str(exc))
        if m:
            line = int(m.group(1))
        raise PwmodelError(f"not a readable table: {msg}", file=file, line=line) from None
    except (OSError, ValueError) as exc:
        raise PwmodelError(f"not a readable table: {str(exc)[:200]}", file=file) from None
    check_unit_names(df.columns, file)
    try:
        return to_ns_hz(df)
    except PwmodelError as exc:
        raise PwmodelError(exc.message, file=file) from None
