"""Optional inputs measured on the project's own machine: used when present, never faked.

* requester latency of lru_add_drain_all() (``measured/drain_migrate_pages_<state>/requester``,
  column ``drain_ns``, rows with ``dirty_ok``), by target state idle / other / fifo;
* the target's interruptions by the drain kworker (``.../victim_gaps``, rows whose
  ``work_function`` is ``lru_add_drain_per_cpu``, column ``gap_ns``);
* a calibrated local machine profile (``pwmodel/profiles/local-*.toml``), else the
  detected topology with registry defaults, labelled uncalibrated.

Each function returns None when its input is missing; :func:`status` says which
inputs were found, for the text.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from pwmodel import machine as M
from pwmodel.errors import PwmodelError

# target state of the collector -> the model's isolation level for the same setup
STATES = {"idle": "idle", "other": "busy_other", "fifo": "nohz_fifo_dlserver"}
STATE_LABEL = {"idle": "target idle", "other": "target busy SCHED_OTHER",
               "fifo": "target busy SCHED_FIFO"}
WORK_FUNCTION = "lru_add_drain_per_cpu"


def _load(name: str) -> pl.DataFrame | None:
    try:
        from pwmodel import data
    except ImportError:
        return None
    try:
        if name not in data.list_datasets():
            return None
        return data.load(name)
    except (PwmodelError, OSError, ValueError):
        return None


def _meta(name: str) -> dict[str, Any]:
    try:
        from pwmodel import data
        return data.metadata(name)
    except Exception:  # noqa: BLE001 - metadata is decoration only
        return {}


def requester(state: str) -> pl.DataFrame | None:
    """Measured requester latency rows (n_target_cpus, drain_ns) for a target state."""
    df = _load(f"measured/drain_migrate_pages_{state}/requester")
    if df is None or "drain_ns" not in df.columns:
        return None
    if "dirty_ok" in df.columns:
        df = df.filter(pl.col("dirty_ok"))
    df = df.filter(pl.col("drain_ns").is_not_null())
    return df if df.height else None


def requester_n_cpus(state: str) -> int | None:
    """Online CPUs of the machine the requester data came from."""
    meta = _meta(f"measured/drain_migrate_pages_{state}/requester")
    n = meta.get("n_cpus")
    return int(n) if isinstance(n, (int, float)) else None


def victim_gaps(state: str) -> np.ndarray | None:
    """Measured interruptions (ns) of the target's task by the drain kworker, sorted."""
    df = _load(f"measured/drain_migrate_pages_{state}/victim_gaps")
    if df is None or "gap_ns" not in df.columns or "work_function" not in df.columns:
        return None
    g = df.filter(pl.col("work_function") == WORK_FUNCTION)["gap_ns"].drop_nulls().to_numpy()
    return np.sort(g.astype(float)) if g.size else None


def quantile_ns(state: str, q: float, kind: str = "requester") -> float:
    """A quantile (ns) of the measured requester latency or victim gap of a state."""
    if kind == "requester":
        df = requester(state)
        if df is None:
            raise PwmodelError(f"no measured requester data for '{state}'", field="state")
        return float(np.quantile(df["drain_ns"].to_numpy().astype(float), q))
    g = victim_gaps(state)
    if g is None:
        raise PwmodelError(f"no measured victim gaps for '{state}'", field="state")
    return float(np.quantile(g, q))


def count(state: str, kind: str = "requester") -> float:
    if kind == "requester":
        df = requester(state)
        return float(df.height) if df is not None else 0.0
    g = victim_gaps(state)
    return float(g.size) if g is not None else 0.0


def local_profile() -> str | None:
    """Name of a calibrated local profile among the bundled ones, if any."""
    names = [n for n in M.bundled_names() if n.startswith("local")]
    return sorted(names)[0] if names else None


def local_c2c_ns() -> dict[str, float]:
    """Mean measured c2c one-way latency (ns) per pair class (``measured/micro/micro``)."""
    df = _load("measured/micro/micro")
    if df is None or not {"bench", "pair_class", "ns_per_op"} <= set(df.columns):
        return {}
    g = (df.filter(pl.col("bench") == "c2c").drop_nulls("pair_class")
         .group_by("pair_class").agg(pl.col("ns_per_op").mean()).sort("pair_class"))
    return dict(zip(g["pair_class"].to_list(), g["ns_per_op"].to_list()))


def local_machine() -> tuple[M.Machine, bool]:
    """(machine, calibrated): the calibrated local profile, else the detected topology
    with the measured c2c latencies (registry c2c_ns for a class not measured)."""
    name = local_profile()
    if name is not None:
        return M.get(name), True
    c2c = local_c2c_ns()
    try:
        return M.detect(c2c, source="data/measured/micro c2c ping-pong mean"), False
    except PwmodelError:
        cls = [lv[0] for lv in M.detect_topology()["levels"]]
        from pwmodel import params as P
        fill = {c: c2c.get(c, P.PARAMS["c2c_ns"].default) for c in cls}
        return M.detect(fill, source="measured c2c where present, else registry c2c_ns"), False


def status() -> dict[str, bool]:
    """Which optional inputs exist."""
    out = {f"requester_{s}": requester(s) is not None for s in STATES}
    out.update({f"victim_{s}": victim_gaps(s) is not None for s in STATES})
    out["local_profile"] = local_profile() is not None
    return out
