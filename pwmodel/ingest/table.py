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
    exprs, names = [], {}
    for c in df.columns:
        suf = _unit_of(c)
        new = c
        if suf in TIME_SCALE and suf != "_ns":
            new = c[: -len(suf)] + "_ns"
        elif suf in FREQ_SCALE and suf != "_hz":
            new = c[: -len(suf)] + "_hz"
        if new in names:
            raise PwmodelError(f"columns {names[new]!r} and {c!r} both map to {new!r} (ns/Hz)",
                               field=c)
        names[new] = c
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
    return df.select(exprs)


def parse_table(path: str | os.PathLike) -> pl.DataFrame:
    """Read a unit-named CSV or parquet table and convert its units to ns / Hz."""
    import io

    from pwmodel.ingest.source import load
    file = str(path)
    data = load(path)
    try:
        if data[:4] == b"PAR1":
            df = pl.read_parquet(io.BytesIO(data))
        else:
            # the whole column decides its type, so a text cell far down is not a parse error
            # but a text column, refused below with its line
            df = pl.read_csv(io.BytesIO(data), infer_schema_length=None, encoding="utf8-lossy")
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
    df = force_numeric(df, file, header_lines=0 if data[:4] == b"PAR1" else 1)
    try:
        return to_ns_hz(df)
    except PwmodelError as exc:
        raise PwmodelError(exc.message, file=file, field=exc.field) from None


def force_numeric(df: pl.DataFrame, file: str, header_lines: int = 1) -> pl.DataFrame:
    """Columns whose name carries a unit hold numbers (``*_ns`` is never text): a text cell
    is an error naming the column and the line; empty cells are missing values (null)."""
    casts = []
    for c in df.columns:
        if _unit_of(c) is None or df.schema[c].is_numeric() or df.schema[c] == pl.Null:
            continue
        if df.schema[c] == pl.Boolean:
            raise PwmodelError(f"column {c!r} has a unit but holds true/false", file=file, field=c)
        s = df[c].cast(pl.Utf8).str.strip_chars()
        bad = (s.is_not_null() & (s != "") & s.cast(pl.Float64, strict=False).is_null())
        if bad.any():
            i = int(bad.arg_max())
            raise PwmodelError(f"column {c!r} must hold numbers (its name has a unit), found "
                               f"{s[i][:40]!r}", file=file, line=i + 1 + header_lines, field=c)
        casts.append(s.replace("", None).cast(pl.Float64).alias(c))
    return df.with_columns(casts) if casts else df
