"""Load the project's datasets as polars frames.

Dataset names:

- ``measured/<collection>/<table>`` (e.g. ``measured/drain_migrate_pages_fifo/lifecycle``):
  parquet tables written by :mod:`pwmodel.collect`; the metadata of the collection
  (machine, kernel, preemption model, date, exact command, settings) is the
  ``metadata.json`` next to them.  ``<collection>/<table>`` without the
  ``measured/`` prefix is accepted too.
- ``reference/<file stem>`` (e.g. ``reference/c2c_latency``): the published
  reference CSVs, each row with its ``source_url``; metadata comes from
  ``reference/SOURCES.md``.

The data folder is ``$PWMODEL_DATA`` if set, else ``data/`` next to the package.
See ``data/README.md`` for what each dataset is, and its schema and caveats.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import polars as pl

import pwmodel
from pwmodel.errors import PwmodelError


def data_dir() -> Path:
    """The data folder: ``$PWMODEL_DATA`` or ``<repo>/data``."""
    env = os.environ.get("PWMODEL_DATA")
    return Path(env) if env else Path(pwmodel.__file__).resolve().parents[1] / "data"


def list_datasets() -> list[str]:
    """Every loadable dataset name, sorted."""
    root = data_dir()
    names = []
    for p in sorted((root / "measured").glob("*/*.parquet")):
        names.append(f"measured/{p.parent.name}/{p.stem}")
    for p in sorted((root / "reference").glob("*.csv")):
        names.append(f"reference/{p.stem}")
    for p in sorted((root / "reference").glob("*.parquet")):
        names.append(f"reference/{p.stem}")
    return sorted(set(names))


def _resolve(name: str) -> Path:
    root = data_dir()
    key = name.strip().strip("/")
    if key.count("/") == 1 and not key.startswith(("measured/", "reference/")):
        key = "measured/" + key
    candidates = [root / f"{key}.parquet", root / f"{key}.csv"]
    for c in candidates:
        if c.is_file():
            return c
    known = list_datasets()
    shown = ", ".join(known) if known else "(none)"
    raise PwmodelError(f"unknown dataset {name!r}; known datasets: {shown}", field="name")


def load(name: str) -> pl.DataFrame:
    """The dataset ``name`` as a polars frame (see :func:`list_datasets`)."""
    path = _resolve(name)
    try:
        if path.suffix == ".parquet":
            return pl.read_parquet(path)
        return pl.read_csv(path, infer_schema_length=10_000)
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise PwmodelError(f"cannot read dataset: {str(exc).splitlines()[0][:200]}", file=str(path)) from None


def metadata(name: str) -> dict:
    """Provenance of dataset ``name``: the collection's metadata.json, or the reference sources."""
    path = _resolve(name)
    if path.parent.parent.name == "measured":
        meta_path = path.parent / "metadata.json"
        try:
            meta = json.loads(meta_path.read_text())
        except (OSError, ValueError) as exc:
            raise PwmodelError(f"unreadable metadata: {exc}", file=str(meta_path)) from None
        meta["dataset"] = name
        meta["path"] = str(path)
        return meta
    src = path.parent / "SOURCES.md"
    text = src.read_text() if src.exists() else ""
    row = next((ln for ln in text.splitlines() if ln.startswith(f"| {path.stem}")), None)
    return {"dataset": name, "path": str(path), "kind": "published reference",
            "description": row, "sources_file": str(src), "provenance": "source_url column, per row"}
