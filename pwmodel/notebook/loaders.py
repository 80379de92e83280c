"""Data loaders for the notebooks: published reference tables, measured collections, traces."""

from __future__ import annotations

import os
from pathlib import Path

import polars as pl

from pwmodel import data as DATA

REPO = Path(__file__).resolve().parents[2]


def reference(name: str) -> pl.DataFrame:
    """A published dataset from ``data/reference`` (``name`` without folder or ``.csv``)."""
    name = name.removeprefix("reference/").removesuffix(".csv")
    return DATA.load(f"reference/{name}")


EXAMPLE_TRACE = REPO / "tests" / "fixtures" / "ingest" / "ftrace_tracefs_local.txt"


def measured(table: str) -> pl.DataFrame | None:
    """Every measured collection's ``table`` (lifecycle, requester, victim_gaps, events),
    concatenated with a ``dataset`` column; None when no measured data is present."""
    names = [n for n in DATA.list_datasets()
             if n.startswith("measured/") and n.endswith(f"/{table}")]
    if not names:
        return None
    frames = [DATA.load(n).with_columns(dataset=pl.lit(n.split("/")[1])) for n in names]
    return pl.concat(frames, how="diagonal_relaxed")


def trace_lifecycle(path: str | os.PathLike, tsc_hz: float | None = None,
                    clock: str | None = None) -> pl.DataFrame:
    """Work-item lifecycle table (queue -> start -> end, ns) of an ftrace text file."""
    from pwmodel.ingest import derive, ftrace
    return derive.work_lifecycle(ftrace.parse_ftrace(path, tsc_hz=tsc_hz, clock=clock))
