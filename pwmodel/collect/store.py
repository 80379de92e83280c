"""Dataset folders: one parquet file per table plus ``metadata.json`` (written atomically)."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from pwmodel.atomic import write_text, write_with


def write_dataset(folder: str | Path, tables: dict[str, pl.DataFrame], meta: dict) -> list[Path]:
    """Write ``<folder>/<table>.parquet`` for each table and ``<folder>/metadata.json``."""
    folder = Path(folder)
    out = []
    for name, df in tables.items():
        path = folder / f"{name}.parquet"
        write_with(path, lambda tmp, df=df: df.write_parquet(tmp, compression="zstd"))
        out.append(path)
    meta = dict(meta)
    meta["tables"] = {name: {"rows": df.height, "columns": {c: str(t) for c, t in df.schema.items()}}
                      for name, df in tables.items()}
    write_text(folder / "metadata.json", json.dumps(meta, indent=1, sort_keys=True, default=str) + "\n")
    out.append(folder / "metadata.json")
    return out
