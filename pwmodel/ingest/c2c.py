"""core-to-core-latency result matrices (CSV) -> tidy polars.

The tool (github.com/nviennot/core-to-core-latency) writes one CSV per machine:
a lower-triangular (or full) matrix without header, row i / column j holding the
mean one-way cache-line transfer latency in ns between CPU i and CPU j (CAS
ping-pong round trip / 2); empty cells are pairs not measured.

Schema of :func:`parse_c2c_matrix` (one row per measured pair, i > j for a
triangular file, every off-diagonal cell for a full one):
    cpu_a (Int32, row), cpu_b (Int32, column), latency_ns (Float64, one-way)
"""

from __future__ import annotations

import math
import os

import polars as pl

from pwmodel.errors import PwmodelError
from pwmodel.ingest.ftrace import read_text


def parse_c2c_matrix(path: str | os.PathLike) -> pl.DataFrame:
    """Read a core-to-core latency matrix; every non-empty cell must be a finite number >= 0."""
    file = str(path)
    pairs: list[tuple[int, int, float]] = []
    width = None
    i = -1
    for no, ln in enumerate(read_text(path).splitlines(), 1):
        if not ln.strip():
            continue
        cells = [c.strip() for c in ln.split(",")]
        if width is None:
            width = len(cells)
        elif len(cells) != width:
            raise PwmodelError(f"expected {width} cells, found {len(cells)}", file=file, line=no)
        i += 1
        for j, c in enumerate(cells):
            if not c:
                continue
            try:
                v = float(c)
            except ValueError:
                raise PwmodelError(f"expected a latency in ns, found {c[:40]!r}", file=file, line=no) from None
            if not math.isfinite(v) or v < 0:
                raise PwmodelError(f"latency must be finite and >= 0, found {c[:40]!r}", file=file, line=no)
            if i != j:
                pairs.append((i, j, v))
    if width is None:
        raise PwmodelError("empty matrix", file=file)
    return pl.DataFrame(pairs, orient="row",
                        schema={"cpu_a": pl.Int32, "cpu_b": pl.Int32, "latency_ns": pl.Float64})

