"""Parsers for the formats kernel developers already have, to polars frames in ns.

:func:`read` detects the format (see :mod:`pwmodel.ingest.detect`) and returns
the parsed table; :func:`ingest` returns the derived per-work-item lifecycle
table for traces (:func:`pwmodel.ingest.derive.work_lifecycle`) and the parsed
table for the other formats.  Every bad input raises
:class:`pwmodel.errors.PwmodelError` naming the file (and line where known).
"""

from __future__ import annotations

import os

import polars as pl

from pwmodel.errors import PwmodelError
from pwmodel.ingest.c2c import parse_c2c_matrix
from pwmodel.ingest.cyclictest import parse_cyclictest, parse_cyclictest_summary
from pwmodel.ingest.detect import FORMATS, detect_format
from pwmodel.ingest.ftrace import parse_ftrace, parse_ftrace_text
from pwmodel.ingest.oslat import parse_oslat, parse_oslat_summary
from pwmodel.ingest.rtla import parse_osnoise_top, parse_rtla_hist, parse_rtla_hist_summary, parse_timerlat_top
from pwmodel.ingest.table import parse_table

__all__ = ["FORMATS", "detect_format", "read", "ingest", "parse_ftrace", "parse_ftrace_text",
           "parse_cyclictest", "parse_cyclictest_summary", "parse_oslat", "parse_oslat_summary",
           "parse_timerlat_top", "parse_osnoise_top", "parse_rtla_hist", "parse_rtla_hist_summary",
           "parse_c2c_matrix", "parse_table"]

_PARSERS = {
    "cyclictest": parse_cyclictest,
    "oslat": parse_oslat,
    "timerlat-top": parse_timerlat_top,
    "osnoise-top": parse_osnoise_top,
    "rtla-hist": parse_rtla_hist,
    "c2c": parse_c2c_matrix,
    "table": parse_table,
}


def read(path: str | os.PathLike, format: str | None = None, *, tsc_hz: float | None = None,
         clock: str | None = None) -> pl.DataFrame:
    """Parse ``path`` (format detected unless given) into its documented table.

    The file is read once (a named pipe too; Ctrl-C stops the read) and may be
    compressed (gzip, xz, bzip2, zstd); see :mod:`pwmodel.ingest.source`.
    """
    from pwmodel.ingest.ftrace import check_clock
    from pwmodel.ingest.source import held
    if format is not None and format not in FORMATS:
        raise PwmodelError(f"unknown format {format!r}; known: {', '.join(FORMATS)}", field="format")
    check_clock(clock, tsc_hz, str(path))
    with held(path):
        fmt = format or detect_format(path)
        if fmt == "ftrace":
            return parse_ftrace(path, tsc_hz=tsc_hz, clock=clock)
        return _PARSERS[fmt](path)


def ingest(path: str | os.PathLike, format: str | None = None, *, tsc_hz: float | None = None,
           clock: str | None = None) -> pl.DataFrame:
    """Per-work-item lifecycle table for traces, the parsed table for other formats."""
    from pwmodel.ingest.source import held
    with held(path):
        fmt = format or detect_format(path)
        df = read(path, fmt, tsc_hz=tsc_hz, clock=clock)
    if fmt == "ftrace":
        from pwmodel.ingest.derive import work_lifecycle
        try:
            return work_lifecycle(df)
        except PwmodelError as exc:
            raise PwmodelError(exc.message, file=str(path), field=exc.field) from None
    return df
