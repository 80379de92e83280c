"""The grid of a sweep: flat point indices, groups, chunks and the per-point axis values.

Points are numbered in C order over the spec's axes (structural axes, then
parameters that shape the wake-up distribution, then the other parameters,
n_cpus fastest). A *group* fixes every axis that needs its own scenario
(structural axes and wake-shaping parameters); inside a group the remaining
axes are evaluated as arrays. A *chunk* is a run of ``chunk_points``
consecutive points, written as one parquet file; its number is its only
coordinate, so chunked and unchunked runs compute the same numbers.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Iterator

import numpy as np

from pwmodel import machine as M
from pwmodel.evaluate import Scenario
from pwmodel.sweep.spec import STRUCT_AXES, SweepSpec, group_params


@dataclass(frozen=True)
class Segment:
    """Points [lo, hi) (flat grid indices) of one group."""

    group: int
    lo: int
    hi: int

    @property
    def size(self) -> int:
        return self.hi - self.lo


@dataclass(frozen=True)
class Block:
    """Rows [r0, r1) of a group (a row = one value of each inner axis but n_cpus), each
    restricted to n_cpus indices [a, b): the points of a block form an (rows, b - a) array."""

    r0: int
    r1: int
    a: int
    b: int

    @property
    def shape(self) -> tuple[int, int]:
        return self.r1 - self.r0, self.b - self.a


class Grid:
    """Index arithmetic over a spec's axes (no per-point storage)."""

    def __init__(self, spec: SweepSpec, *, per_cell: bool = False) -> None:
        """``per_cell``: only n_cpus is inner (Monte-Carlo cells); else every axis
        that does not change the scenario's wake-up distribution is inner."""
        self.spec = spec
        names = list(spec.axes)
        gp = group_params()
        inner_from = len(names) - 1
        if not per_cell:
            for i, a in enumerate(names):
                if a not in STRUCT_AXES and a not in gp:
                    inner_from = i
                    break
        self.outer = tuple(names[:inner_from])
        self.inner = tuple(names[inner_from:])
        self.outer_shape = tuple(len(spec.axes[a]) for a in self.outer)
        self.inner_shape = tuple(len(spec.axes[a]) for a in self.inner)
        self.group_size = int(np.prod(self.inner_shape, dtype=np.int64))
        self.n_groups = int(np.prod(self.outer_shape, dtype=np.int64))
        self.n_points = self.group_size * self.n_groups
        self.chunk_points = spec.chunk_points
        if per_cell:  # Monte-Carlo chunks hold whole cells
            cells = max(1, spec.chunk_points // self.group_size)
            self.chunk_points = cells * self.group_size
        self.n_chunks = max(1, -(-self.n_points // self.chunk_points))

    # ---- groups ---------------------------------------------------------------------
    def group_values(self, g: int) -> dict[str, object]:
        """Value of each outer axis in group ``g``."""
        idx = np.unravel_index(g, self.outer_shape) if self.outer_shape else ()
        return {a: self.spec.axes[a][int(i)] for a, i in zip(self.outer, idx)}

    def scenario(self, g: int) -> Scenario:
        """The scenario of group ``g`` (fixed parameters and outer parameter axes as overrides)."""
        vals = self.group_values(g)
        over = dict(self.spec.fixed)
        over.update({k: float(v) for k, v in vals.items() if k not in STRUCT_AXES})  # type: ignore[arg-type]
        return Scenario(_machine(str(vals["machine"])),
                        isolation=str(vals.get("isolation", "nohz_other")),
                        preempt_model=vals.get("preempt_model"),  # type: ignore[arg-type]
                        callsite=str(vals.get("callsite", "lru_add_drain")),
                        qw_config=vals.get("qw_config"),  # type: ignore[arg-type]
                        rl_config=vals.get("rl_config"),  # type: ignore[arg-type]
                        overrides=over)

    # ---- chunks -----------------------------------------------------------------------
    def chunk_range(self, k: int) -> tuple[int, int]:
        lo = k * self.chunk_points
        return lo, min(lo + self.chunk_points, self.n_points)

    def segments(self, k: int) -> Iterator[Segment]:
        """The per-group pieces of chunk ``k``."""
        lo, hi = self.chunk_range(k)
        while lo < hi:
            g = lo // self.group_size
            end = min(hi, (g + 1) * self.group_size)
            yield Segment(g, lo, end)
            lo = end

    @property
    def row_axes(self) -> tuple[str, ...]:
        """Inner axes but n_cpus (they index the rows of a group)."""
        return self.inner[:-1]

    def blocks(self, seg: Segment, max_points: int = 1 << 16) -> Iterator[Block]:
        """Split a segment into rectangular blocks in grid order (partial first/last rows)."""
        L = self.inner_shape[-1]
        base = seg.group * self.group_size
        r0, a0 = divmod(seg.lo - base, L)
        r1, b1 = divmod(seg.hi - base, L)
        if r0 == r1:
            yield Block(r0, r0 + 1, a0, b1)
            return
        if a0:
            yield Block(r0, r0 + 1, a0, L)
            r0 += 1
        step = max(1, max_points // L)
        for r in range(r0, r1, step):
            yield Block(r, min(r + step, r1), 0, L)
        if b1:
            yield Block(r1, r1 + 1, 0, b1)

    def row_indices(self, blk: Block) -> dict[str, np.ndarray]:
        """Index on each row axis of the rows of ``blk`` (arrays of length rows)."""
        shape = self.inner_shape[:-1]
        idx = np.unravel_index(np.arange(blk.r0, blk.r1, dtype=np.int64), shape) if shape else ()
        return {a: np.asarray(i) for a, i in zip(self.row_axes, idx)}


@functools.lru_cache(maxsize=64)
def _machine(name: str) -> M.Machine:
    return M.get(name)
