"""Vectorised analytic evaluation of sweep chunks (the closed forms of pwmodel.models).

Per group (one scenario) the quantities that need the topology or the
wake-up distribution are tabulated once over the whole n_cpus axis
(mean/max c2c, E[max of D] and quantiles of the max, exactly as
:func:`pwmodel.evaluate.inputs` computes them); per chunk the lambdified
fan-out expressions run on NumPy arrays, other parameter axes broadcast.
The numbers equal :func:`pwmodel.evaluate.evaluate` for the same points
(same expressions, same tables, same arithmetic; checked in the tests).
Columns: axes, then ``qw_<metric>`` and ``rl_<metric>`` (the wide form of
:func:`pwmodel.evaluate.wide`, which gives the same row for one point); ns, Hz, CPUs.
"""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass
from typing import Mapping

import numpy as np
import polars as pl
import sympy as sp

from pwmodel import evaluate as E
from pwmodel.models import callsite as CS
from pwmodel.models import fastpath as FP
from pwmodel.models import numeric
from pwmodel.models import owner as OW
from pwmodel.models import dirty as DY
from pwmodel.models import requester as RQ
from pwmodel.models import rlsum
from pwmodel.models import wakeup as W
from pwmodel.sweep.grid import Block, Grid, Segment, _machine
from pwmodel.sweep.spec import STRUCT_AXES, SweepSpec

ENUMS: dict[str, pl.Enum] = {
    "isolation": pl.Enum(list(W.ISOLATION)),
    "preempt_model": pl.Enum(list(W.PREEMPT_MODELS)),
    "qw_config": pl.Enum(list(FP.CONFIGS)),
    "rl_config": pl.Enum(list(FP.CONFIGS)),
}


def enum_of(spec: SweepSpec, col: str) -> pl.Enum:
    if col == "machine":   # profile names (an axis value may be a profile path)
        return pl.Enum(list(dict.fromkeys(_machine(str(v)).name for v in spec.axes["machine"])))
    if col == "callsite":  # call-site names (an axis value may be a call-site file path)
        return pl.Enum(list(dict.fromkeys(CS.name_of(str(v))
                                          for v in spec.axes.get("callsite", ("lru_add_drain",)))))
    return ENUMS[col]


def quantile_col(q: float) -> str:
    """Column stem of a requester-latency quantile: 0.5 -> requester_p50_ns, 0.999 -> p99_9."""
    return "requester_p" + f"{q * 100:.10g}".replace(".", "_") + "_ns"


def metric_columns(spec: SweepSpec) -> list[str]:
    stems = list(spec.metrics) + [quantile_col(q) for q in spec.quantiles
                                  if quantile_col(q) not in spec.metrics]
    return E.wide_columns(stems)


@functools.lru_cache(maxsize=32)
def _quantile_exprs(pattern: str, q: float) -> tuple[sp.Expr, sp.Expr]:
    """(QW, RL) requester q-quantiles in ns (the model's own forms, built once per q)."""
    return RQ.quantile_exprs(pattern, q)


@dataclass
class GroupContext:
    """Per-scenario values: parameters, tables over the n_cpus axis, configurations."""

    spec: SweepSpec
    group: int
    values: dict[str, float]
    tables: dict[str, np.ndarray]       # n_cpus-axis tables (c2c, wake order statistics)
    qmax: dict[float, np.ndarray]       # quantile level -> wake_qmax table
    labels: dict[str, str]              # structural column values
    idle: bool
    pattern: str = "flush"              # the call site's requester pattern
    mix: object = None                  # the law of the dirty count (evaluate.mixing)

    @classmethod
    def build(cls, grid: Grid, g: int) -> "GroupContext":
        spec = grid.spec
        sc = grid.scenario(g)
        ps = sc.params()
        n = np.asarray(spec.axes["n_cpus"], dtype=float)
        base = E.inputs(sc, n, ps)                 # exactly evaluate()'s inputs
        dist = sc.wake_dist(ps)
        dirty = E.dirty_count(ps["dirty_fraction"], n)
        qmax = {0.99: np.asarray(base["wake_qmax_ns"], dtype=float)}
        for q in spec.quantiles:
            if q not in qmax:
                qmax[q] = E.qmax_of(dist, dirty, q)
        # every input that varies with n_cpus (c2c moments, wake order statistics) is a table
        tables = {k: np.asarray(x, dtype=float) for k, x in base.items()
                  if np.ndim(x) >= 1 and k != "wake_qmax_ns"}
        values = {k: float(x) for k, x in base.items() if np.ndim(x) == 0}
        return cls(spec, g, values, tables, qmax, E.labels(sc), OW.is_idle(sc.isolation), sc.pattern,
                   E.mixing(sc, ps))


def _ev(expr: sp.Expr, v: Mapping[str, object], shape: tuple[int, int]) -> np.ndarray:
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        return np.broadcast_to(numeric(expr, v), shape)   # a view: copied once into the output


def evaluate_block(ctx: GroupContext, grid: Grid, blk: Block) -> dict[str, np.ndarray]:
    """Metric arrays (shape rows x n-range) of one block, keyed by output column."""
    spec = ctx.spec
    shape = blk.shape
    v: dict[str, object] = dict(ctx.values)
    for a, idx in grid.row_indices(blk).items():
        v[a] = np.asarray(spec.axes[a], dtype=float)[idx].reshape(-1, 1)
    for k, t in ctx.tables.items():
        v[k] = t[blk.a:blk.b].reshape(1, -1)
    v["wake_qmax_ns"] = ctx.qmax[0.99][blk.a:blk.b].reshape(1, -1)
    n = v["n_cpus"]
    need = set(spec.metrics) | {quantile_col(q) for q in spec.quantiles}
    out: dict[str, np.ndarray] = {}

    def put(metric: str, qw: object, rl: object) -> None:
        if metric in need:
            out[E.wide_column("QW", metric)] = np.broadcast_to(np.asarray(qw, dtype=float), shape)
            out[E.wide_column("RL", metric)] = np.broadcast_to(np.asarray(rl, dtype=float), shape)

    qw_cfg, rl_cfg = ctx.labels["qw_config"], ctx.labels["rl_config"]
    # the one recipe of pwmodel.evaluate (bitwise-equal results)
    std = [m for m in E.METRICS if m in need]
    for m, (qw, rl) in E.metric_arrays(v, shape, idle=ctx.idle, qw_config=qw_cfg,
                                       rl_config=rl_cfg, need=std, pattern=ctx.pattern,
                                       mix=ctx.mix).items():
        put(m, qw, rl)
    v_rl = OW.owner_values(v, ctx.idle)
    for q in spec.quantiles:
        col = quantile_col(q)
        if col in out:
            continue
        wq = ctx.qmax[q][blk.a:blk.b].reshape(1, -1)
        qw_q, rl_q = _quantile_exprs(ctx.pattern, q)
        vq, vq_rl = {**v, "wake_qmax_ns": wq}, {**v_rl, "wake_qmax_ns": wq}
        qw_v, rl_v = _ev(qw_q, vq, shape), _ev(rl_q, vq_rl, shape)
        if ctx.mix is not None:      # the q-quantile of the mixture over the dirty count
            wake, rows_of = ctx.mix
            ex = E.model_exprs(qw_cfg, rl_cfg, ctx.pattern)
            # (the normal given-D laws read their sd off the 0.99 forms)
            qw_v = (DY.normal_quantile(ex["qw_mean"], ex["qw_p99"], q, qw_v, vq, shape, wake,
                                       rows_of) if ctx.pattern == "async" else
                    DY.quantile(qw_q, q, qw_v, vq, shape, wake, rows_of))
        # RL: a sum of D per-CPU terms, exact law at few dirty CPUs, in both conventions
        wake, rows_of = ctx.mix if ctx.mix is not None else (None, None)
        ex = E.model_exprs(qw_cfg, rl_cfg, ctx.pattern)
        rl_v = DY.normal_quantile(ex["rl_mean"], ex["rl_p99"], q, rl_v, vq_rl, shape, wake,
                                  rows_of, small=rlsum.SMALL, fixed=ctx.mix is None)
        put(col, qw_v, rl_v)
    if "dirty_cpus" in need:
        d = E.dirty_count(v["dirty_fraction"], n)
        put("dirty_cpus", d, d)
    return out


class AnalyticChunker:
    """Computes chunk frames of an analytic sweep; caches per-group contexts."""

    def __init__(self, spec: SweepSpec) -> None:
        self.spec = spec
        self.grid = Grid(spec)
        self._ctx: dict[int, GroupContext] = {}
        self._lock = threading.Lock()
        n = np.asarray(spec.axes["n_cpus"], dtype=float)
        self._n_int = bool(np.all(n == np.round(n)))

    def context(self, g: int) -> GroupContext:
        """The tables of group ``g`` (built once; the 16 most recent kept)."""
        with self._lock:
            ctx = self._ctx.get(g)
            if ctx is None:
                if len(self._ctx) >= 16:
                    self._ctx.pop(next(iter(self._ctx)))
                ctx = self._ctx[g] = GroupContext.build(self.grid, g)
            return ctx

    def chunk(self, k: int) -> pl.DataFrame:
        """The frame of chunk ``k``: one row per grid point, axes then metrics."""
        frames = [self.segment_frame(seg) for seg in self.grid.segments(k)]
        return frames[0] if len(frames) == 1 else pl.concat(frames)

    def segment_frame(self, seg: Segment) -> pl.DataFrame:
        """Rows of one group's segment: axis columns, then qw_*/rl_* metric columns."""
        ctx = self.context(seg.group)
        spec, grid = self.spec, self.grid
        size = seg.size
        mcols = metric_columns(spec)
        inner = [a for a in grid.row_axes]
        buf = {c: np.empty(size) for c in mcols + inner + ["n_cpus"]}
        pos = 0
        for blk in grid.blocks(seg):
            res = evaluate_block(ctx, grid, blk)
            rows, width = blk.shape
            end = pos + rows * width
            for c in mcols:
                buf[c][pos:end].reshape(rows, width)[...] = res[c]
            for a, idx in grid.row_indices(blk).items():
                buf[a][pos:end] = np.repeat(np.asarray(spec.axes[a], dtype=float)[idx], width)
            buf["n_cpus"][pos:end] = np.tile(ctx.tables["n_cpus"][blk.a:blk.b], rows)
            pos = end
        cols: dict[str, object] = {}
        for c in STRUCT_AXES:
            cols[c] = pl.Series(c, [ctx.labels[c]], dtype=enum_of(spec, c)).new_from_index(0, size)
        gvals = grid.group_values(seg.group)
        for a in spec.param_axes:
            cols[a] = buf[a] if a in buf else np.full(size, float(gvals[a]))  # type: ignore[arg-type]
        cols["n_cpus"] = buf["n_cpus"].astype(np.int64) if self._n_int else buf["n_cpus"]
        cols.update({c: buf[c] for c in mcols})
        return pl.DataFrame(cols)
