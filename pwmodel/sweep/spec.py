"""Sweep specifications: a TOML file naming the axes, metrics and quantiles of a sweep.

Format (every table but ``[axes]`` is optional)::

    [sweep]
    name = "crossover-map"          # free text, stored with the output
    kind = "analytic"               # "analytic" (closed forms) or "montecarlo"
    metrics = ["requester_mean_ns"] # ANALYTIC_METRICS, or MC_METRICS for montecarlo
    quantiles = [0.5, 0.99]         # requester quantiles: qw_/rl_requester_p50_ns, ..._p99_ns
                                    # (montecarlo: of every metric, from the draws)
    seed = 1                        # Monte-Carlo only (required): same seed, same numbers
    reps = 2000                     # Monte-Carlo only: replications per (cell, n_cpus)
    chunk_points = 1_000_000        # grid points per output chunk (one parquet file each)
    compression = "zstd"            # parquet codec: zstd, lz4, snappy, uncompressed

    [axes]                          # the Cartesian product of these is the grid
    machine = ["intel-xeon-8375c-2s"]            # bundled name or profile path (required)
    isolation = ["nohz_other", "idle"]           # default nohz_other
    callsite = ["lru_add_drain"]                 # default lru_add_drain
    preempt_model = ["voluntary"]                # default: the machine profile's
    qw_config = ["pwlocks0"]                     # default pwlocks0 (rt_pwlocks0 on RT)
    rl_config = ["pwlocks1"]                     # default pwlocks1 (rt_pwlocks1 on RT)
    n_cpus = { start = 1, stop = 1024, num = 11, scale = "log", integer = true }  # default 1..1024
    remote_rate_hz = { start = 1, stop = 1e5, num = 50, scale = "log" }
    dirty_fraction = [0.25, 0.5, 1.0]            # any registry parameter can be an axis

    [fixed]                         # registry parameters set for every point
    item_drain_ns = 60

A numeric axis is a list of numbers or a range table: ``start``, ``stop`` and
either ``num`` (with ``scale`` "linear" or "log", endpoints included) or
``step`` (linear, stop included when reached); ``integer = true`` rounds and
drops duplicates. Rows come in grid order: structural axes, then parameters
that shape the wake-up distribution, then the other parameters, n_cpus fastest.
Bad input raises PwmodelError naming the file, line and key.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from pwmodel import evaluate as E
from pwmodel import machine as M
from pwmodel import params as P
from pwmodel.errors import PwmodelError
from pwmodel.models import callsite as CS
from pwmodel.models import fastpath as FP
from pwmodel.models import wakeup as W

KINDS = ("analytic", "montecarlo")
ANALYTIC_METRICS = E.METRICS + ("dirty_cpus",)
MC_METRICS = ("requester_ns", "cpu_time_ns", "victim_ns")
STRUCT_AXES = E.LABELS   # the label columns of evaluate.wide()
SWEEP_KEYS = {"name": str, "description": str, "kind": str, "metrics": list, "quantiles": list,
              "seed": int, "reps": int, "chunk_points": int, "compression": str}
COMPRESSIONS = ("zstd", "lz4", "snappy", "uncompressed")
RANGE_KEYS = {"start", "stop", "num", "step", "scale", "integer"}
MAX_AXIS = 100_000_000
from pwmodel.limits import MAX_CHUNK, MAX_CPUS, MAX_POINTS, MAX_REPS  # noqa: E402


@dataclass(frozen=True)
class SweepSpec:
    """A validated sweep: ordered axes (structural first, then parameters, n_cpus last)."""

    name: str
    kind: str
    axes: Mapping[str, tuple]            # name -> values (str for structural, float otherwise)
    metrics: tuple[str, ...]
    quantiles: tuple[float, ...] = ()
    fixed: Mapping[str, float] = field(default_factory=dict)
    seed: int = 0
    reps: int = 1000
    chunk_points: int = 1_000_000
    compression: str = "zstd"
    description: str = ""
    path: str | None = None
    simulator: str = ""                  # Monte-Carlo: the simulator's name (part of the fingerprint)
    axis_defs: Mapping[str, Any] | None = None   # axes as written (lists or range tables)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(len(v) for v in self.axes.values())

    @property
    def n_points(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    @property
    def param_axes(self) -> tuple[str, ...]:
        return tuple(a for a in self.axes if a not in STRUCT_AXES and a != "n_cpus")

    def canonical(self) -> dict[str, Any]:
        """Everything the numbers depend on, JSON-serialisable (for fingerprints and the
        manifest): axes as their definitions (a range table stays a table), so the
        manifest stays small however many values a range expands to."""
        defs = self.axis_defs or {}
        axes = {k: (defs[k] if k in defs else list(v)) for k, v in self.axes.items()}
        return {"kind": self.kind, "axes": axes,
                "metrics": list(self.metrics), "quantiles": list(self.quantiles),
                "fixed": dict(self.fixed), "seed": self.seed, "reps": self.reps,
                "chunk_points": self.chunk_points, "compression": self.compression,
                "simulator": self.simulator}

    def fingerprint(self) -> str:
        blob = json.dumps(self.canonical(), sort_keys=True, default=str).encode()
        return hashlib.sha256(blob).hexdigest()[:16]

    def replace(self, **kw: Any) -> "SweepSpec":
        d = {f: getattr(self, f) for f in self.__dataclass_fields__}
        if "axes" in kw and "axis_defs" not in kw and self.axis_defs:
            # a definition describes the old values only: keep it for unchanged axes
            kw["axis_defs"] = {k: v for k, v in self.axis_defs.items()
                               if tuple(kw["axes"].get(k, ())) == tuple(self.axes.get(k, ()))}
        d.update(kw)
        return SweepSpec(**d)


@functools.lru_cache(maxsize=1)
def group_params() -> frozenset[str]:
    """Parameters read by the wake-up distribution (any isolation level), setting the
    number of dirty CPUs or shaping the lru_lock queue (``lrulock.params_read``): a sweep
    over them needs new order statistics and lock tables per value."""

    class _Recorder(dict):
        seen: set[str] = set()

        def __getitem__(self, k: str) -> float:
            _Recorder.seen.add(k)
            return dict.__getitem__(self, k)

    ps = P.ParamSet(_Recorder(P.defaults().values))
    for iso in W.ISOLATION:
        for pm in W.PREEMPT_MODELS:
            W.wake_dist(iso, pm, ps)
    from pwmodel.models import lrulock
    return frozenset(_Recorder.seen | {"dirty_fraction"} | lrulock.params_read())


# ---- locating keys in the text (tomllib gives no line numbers) ---------------------
_HDR = re.compile(r"^\s*\[\s*([A-Za-z0-9_.\-\"' ]+?)\s*\]\s*(#.*)?$")


def line_of(text: str, table: str | None, key: str | None = None) -> int | None:
    """1-based line of ``key`` inside ``[table]`` (or of the header if key is None)."""
    current: str | None = None
    header_line = None
    key_re = re.compile(r"^\s*[\"']?" + re.escape(key) + r"[\"']?\s*=") if key else None
    dotted = re.compile(r"^\s*" + re.escape(f"{table}.{key}") + r"\s*=") if key and table else None
    for i, raw in enumerate(text.splitlines(), 1):
        m = _HDR.match(raw)
        if m:
            current = m.group(1).strip().strip("\"'")
            if current == table:
                header_line = i
                if key is None:
                    return i
            continue
        if key_re is not None and current == table and key_re.match(raw):
            return i
        if dotted is not None and current is None and dotted.match(raw):
            return i
    return header_line


class _Where:
    """Builds errors naming the file, the line of a key and the key."""

    def __init__(self, text: str, path: str | None) -> None:
        self.text, self.path = text, path

    def err(self, msg: str, table: str | None, key: str | None = None) -> PwmodelError:
        fieldname = f"{table}.{key}" if table and key else (key or table)
        return PwmodelError(msg, file=self.path or "<spec>", line=line_of(self.text, table, key),
                            field=fieldname)


# ---- axis values ------------------------------------------------------------------
def _is_num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _numeric_axis(name: str, raw: Any, w: _Where) -> tuple[float, ...]:
    if isinstance(raw, list):
        if not raw:
            raise w.err("empty axis: give at least one value", "axes", name)
        bad = [v for v in raw if not _is_num(v)]
        if bad:
            raise w.err(f"expected numbers, found {bad[0]!r} ({type(bad[0]).__name__})", "axes", name)
        vals = np.asarray(raw, dtype=float)
    elif isinstance(raw, dict):
        vals = _range(name, raw, w)
    elif _is_num(raw):
        vals = np.asarray([raw], dtype=float)
    else:
        raise w.err(f"expected a list of numbers or a range table, found {type(raw).__name__} "
                    f"{raw!r}", "axes", name)
    if vals.size == 0:
        raise w.err("empty axis: the range holds no value", "axes", name)
    if vals.size > MAX_AXIS:
        raise w.err(f"axis of {vals.size} values is larger than {MAX_AXIS}", "axes", name)
    if not np.isfinite(vals).all():
        raise w.err("expected finite numbers", "axes", name)
    if name == "n_cpus":
        if np.any(vals < 1):
            raise w.err(f"CPU count must be >= 1, found {vals[vals < 1][0]:g}", "axes", name)
        if np.any(vals > MAX_CPUS):
            raise w.err(f"CPU count {vals.max():g} is larger than the limit {MAX_CPUS} "
                        "(pwmodel.limits.MAX_CPUS)", "axes", name)
    else:
        for v in np.unique(vals):
            try:
                P.check_value(name, v)
            except PwmodelError as exc:
                raise w.err(exc.message, "axes", name) from None
    return tuple(float(v) for v in vals)


def _range(name: str, raw: dict, w: _Where) -> np.ndarray:
    unknown = set(raw) - RANGE_KEYS
    if unknown:
        raise w.err(f"unknown range key '{sorted(unknown)[0]}' (known: {', '.join(sorted(RANGE_KEYS))})",
                    "axes", name)
    for k in ("start", "stop"):
        if k not in raw:
            raise w.err(f"range needs '{k}'", "axes", name)
        if not _is_num(raw[k]):
            raise w.err(f"range '{k}' must be a number, found {raw[k]!r}", "axes", name)
    a, b = float(raw["start"]), float(raw["stop"])
    scale = raw.get("scale", "linear")
    if scale not in ("linear", "log"):
        raise w.err(f"range 'scale' must be \"linear\" or \"log\", found {scale!r}", "axes", name)
    if ("num" in raw) == ("step" in raw):
        raise w.err("range needs exactly one of 'num' or 'step'", "axes", name)
    if "num" in raw:
        num = raw["num"]
        if not isinstance(num, int) or isinstance(num, bool) or num < 0:
            raise w.err(f"range 'num' must be an integer >= 0, found {num!r}", "axes", name)
        if num > MAX_AXIS:
            raise w.err(f"range 'num' {num} larger than {MAX_AXIS}", "axes", name)
        if scale == "log":
            if a <= 0 or b <= 0:
                raise w.err("a log range needs start > 0 and stop > 0", "axes", name)
            vals = np.geomspace(a, b, num)
        else:
            vals = np.linspace(a, b, num)
    else:
        step = raw["step"]
        if scale != "linear":
            raise w.err("'step' ranges are linear; use 'num' with scale = \"log\"", "axes", name)
        if not _is_num(step) or step <= 0 or b < a:
            raise w.err(f"range needs step > 0 and stop >= start, found step {step!r}", "axes", name)
        count = int(math.floor((b - a) / step + 1e-9)) + 1
        if count > MAX_AXIS:
            raise w.err(f"range of {count} values larger than {MAX_AXIS}", "axes", name)
        vals = a + step * np.arange(count)
    integer = raw.get("integer", False)
    if not isinstance(integer, bool):
        raise w.err(f"range 'integer' must be true or false, found {integer!r}", "axes", name)
    if integer:
        vals = np.unique(np.round(vals))
    return vals


def _string_axis(name: str, raw: Any, w: _Where) -> tuple[str, ...]:
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list):
        raise w.err(f"expected a list of names, found {type(raw).__name__} {raw!r}", "axes", name)
    if not raw:
        raise w.err("empty axis: give at least one value", "axes", name)
    bad = [v for v in raw if not isinstance(v, str)]
    if bad:
        raise w.err(f"expected names (strings), found {bad[0]!r}", "axes", name)
    if len(set(raw)) != len(raw):
        raise w.err("duplicate values in axis", "axes", name)
    check = {"machine": _check_machine, "callsite": CS.get,
             "isolation": lambda v: W.check(v, "voluntary"),
             "preempt_model": lambda v: W.check("idle", v),
             "qw_config": FP.check_config, "rl_config": FP.check_config}[name]
    for v in raw:
        try:
            check(v)
        except PwmodelError as exc:
            raise w.err(exc.message, "axes", name) from None
    return tuple(raw)


def _check_machine(name: str) -> None:
    M.get(name)


def _plain(raw: Any) -> Any:
    """An axis definition as JSON-able data (TOML values are already lists, dicts, numbers)."""
    return json.loads(json.dumps(raw, default=str))


def _axis_len(name: str, raw: Any) -> int | None:
    """Number of values an axis definition expands to (None: leave it to the full check)."""
    if isinstance(raw, list):
        return len(raw)
    if isinstance(raw, (str, int, float)) and not isinstance(raw, bool):
        return 1
    if isinstance(raw, dict) and _is_num(raw.get("start")) and _is_num(raw.get("stop")):
        if isinstance(raw.get("num"), int) and not isinstance(raw.get("num"), bool) and "step" not in raw:
            return max(int(raw["num"]), 0)
        st = raw.get("step")
        if "num" not in raw and _is_num(st) and st > 0 and raw["stop"] >= raw["start"]:
            return int(math.floor((raw["stop"] - raw["start"]) / st + 1e-9)) + 1
    return None


def _check_size(axes_raw: dict, sw: dict, w: _Where) -> None:
    """Refuse grids, replications and chunks beyond :mod:`pwmodel.limits` before any axis
    is expanded (a grid of 4e17 points is refused at once, not after minutes)."""
    sizes = {k: _axis_len(k, v) for k, v in axes_raw.items()}
    if "n_cpus" not in axes_raw:
        sizes["n_cpus"] = len(E.N_DEFAULT)
    if all(v is not None for v in sizes.values()):
        n = math.prod(sizes.values())
        if n > MAX_POINTS:
            shape = " x ".join(f"{k}[{v:,}]" for k, v in sizes.items())
            raise w.err(f"grid of {n:,} points ({shape}) is larger than the limit {MAX_POINTS:,} "
                        "(pwmodel.limits.MAX_POINTS)", "axes")
    if "reps" in sw and _is_num(sw["reps"]) and sw["reps"] > MAX_REPS:
        raise w.err(f"reps of {sw['reps']:,} is larger than the limit {MAX_REPS:,}", "sweep", "reps")
    if "chunk_points" in sw and _is_num(sw["chunk_points"]) and sw["chunk_points"] > MAX_CHUNK:
        raise w.err(f"chunk_points of {sw['chunk_points']:,} is larger than the limit {MAX_CHUNK:,} "
                    "(one chunk is held in memory)", "sweep", "chunk_points")


# ---- the whole spec -------------------------------------------------------------------
def parse(text: str, path: str | os.PathLike | None = None) -> SweepSpec:
    """Validate a TOML sweep spec given as text."""
    where = str(path) if path is not None else None
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+)", str(exc))
        raise PwmodelError(f"not valid TOML: {exc}", file=where or "<spec>",
                           line=int(m.group(1)) if m else None) from None
    w = _Where(text, where)
    unknown = set(doc) - {"sweep", "axes", "fixed"}
    if unknown:
        t = sorted(unknown)[0]
        raise w.err(f"unknown table '{t}' (known: sweep, axes, fixed)", t if isinstance(doc[t], dict)
                    else None, None if isinstance(doc[t], dict) else t)
    sw = doc.get("sweep", {})
    if not isinstance(sw, dict):
        raise w.err("'sweep' must be a table", None, "sweep")
    for k, v in sw.items():
        if k not in SWEEP_KEYS:
            raise w.err(f"unknown key '{k}' (known: {', '.join(SWEEP_KEYS)})", "sweep", k)
        if not isinstance(v, SWEEP_KEYS[k]) or isinstance(v, bool):
            raise w.err(f"expected {SWEEP_KEYS[k].__name__}, found {type(v).__name__} {v!r}", "sweep", k)
    kind = sw.get("kind", "analytic")
    if kind not in KINDS:
        raise w.err(f"unknown kind '{kind}' (known: {', '.join(KINDS)})", "sweep", "kind")
    known_metrics = ANALYTIC_METRICS if kind == "analytic" else MC_METRICS
    metrics = sw.get("metrics", ["requester_mean_ns"] if kind == "analytic" else ["requester_ns"])
    if not metrics:
        raise w.err("empty metrics list", "sweep", "metrics")
    for m in metrics:
        if m not in known_metrics:
            raise w.err(f"unknown metric {m!r} for a {kind} sweep (known: {', '.join(known_metrics)})",
                        "sweep", "metrics")
    quantiles = sw.get("quantiles", [] if kind == "analytic" else [0.5, 0.99])
    for q in quantiles:
        if not _is_num(q) or not 0 < q < 1:
            raise w.err(f"quantiles must be numbers in (0, 1), found {q!r}", "sweep", "quantiles")
    for k, lo in (("reps", 1), ("chunk_points", 1), ("seed", 0)):
        if k in sw and sw[k] < lo:
            raise w.err(f"'{k}' must be >= {lo}, found {sw[k]}", "sweep", k)
    comp = sw.get("compression", "zstd")
    if comp not in COMPRESSIONS:
        raise w.err(f"unknown compression '{comp}' (known: {', '.join(COMPRESSIONS)})", "sweep",
                    "compression")

    axes_raw = doc.get("axes")
    if not isinstance(axes_raw, dict) or not axes_raw:
        raise w.err("the spec needs an [axes] table with at least 'machine'", "axes")
    if "machine" not in axes_raw:
        raise w.err("axis 'machine' is required (bundled names: "
                    f"{', '.join(M.bundled_names())})", "axes")
    for name in axes_raw:
        if name not in STRUCT_AXES and name != "n_cpus" and name not in P.PARAMS:
            try:
                P.check_names([name])
            except PwmodelError as exc:
                raise w.err(f"unknown axis: {exc.message}; structural axes: "
                            f"{', '.join(STRUCT_AXES)}, n_cpus", "axes", name) from None
    _check_size(axes_raw, sw, w)
    axes: dict[str, tuple] = {}
    for name in STRUCT_AXES:
        if name in axes_raw:
            axes[name] = _string_axis(name, axes_raw[name], w)
    # parameters that shape the wake-up distribution or the dirty count vary per group
    # (outer), the others are evaluated as broadcast arrays (inner); n_cpus is fastest
    params = [n for n in axes_raw if n not in STRUCT_AXES and n != "n_cpus"]
    for name in sorted(params, key=lambda n: n not in group_params()):
        axes[name] = _numeric_axis(name, axes_raw[name], w)
    axes["n_cpus"] = (_numeric_axis("n_cpus", axes_raw["n_cpus"], w) if "n_cpus" in axes_raw
                      else tuple(float(n) for n in E.N_DEFAULT))

    fixed_raw = doc.get("fixed", {})
    if not isinstance(fixed_raw, dict):
        raise w.err("'fixed' must be a table of parameter = number", None, "fixed")
    fixed: dict[str, float] = {}
    for k, v in fixed_raw.items():
        try:
            P.check_names([k])
            if not _is_num(v):
                raise PwmodelError(f"expected a number, found {type(v).__name__} {v!r}")
            fixed[k] = P.check_value(k, v)
        except PwmodelError as exc:
            raise w.err(exc.message, "fixed", k) from None
        if k in axes:
            raise w.err(f"'{k}' is both an axis and fixed", "fixed", k)
    defs = {k: _plain(axes_raw[k]) for k in axes if k in axes_raw}
    spec = SweepSpec(axis_defs=defs, name=sw.get("name", Path(where).stem if where else "sweep"), kind=kind,
                     axes=axes, metrics=tuple(metrics), quantiles=tuple(float(q) for q in quantiles),
                     fixed=fixed, seed=sw.get("seed", 0), reps=sw.get("reps", 1000),
                     chunk_points=sw.get("chunk_points", 1_000_000), compression=comp,
                     description=sw.get("description", ""), path=where)
    if kind == "montecarlo" and "seed" not in sw:
        raise w.err("a montecarlo sweep needs an integer 'seed'", "sweep")
    if kind == "montecarlo":
        frac = [n for n in axes["n_cpus"] if n != round(n)]
        if frac:
            raise w.err(f"a montecarlo sweep simulates whole CPUs: n_cpus must be integers, "
                        f"found {frac[0]:g}", "axes", "n_cpus")
        if sw.get("reps", 1000) < 2:
            raise w.err("a montecarlo sweep needs reps >= 2", "sweep", "reps")
    return spec


def load(path: str | os.PathLike) -> SweepSpec:
    """Read and validate a TOML sweep spec file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")     # a byte-order mark is accepted
    except OSError as exc:
        raise PwmodelError(f"cannot read sweep spec: {exc.strerror}", file=str(p)) from None
    except UnicodeDecodeError as exc:
        raise PwmodelError(f"not UTF-8 text (byte {exc.start}): not a TOML sweep spec",
                           file=str(p)) from None
    return parse(text, p)
