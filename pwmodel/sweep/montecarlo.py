"""Monte-Carlo sweep chunks: seeded simulations per cell, summarised as means and quantiles.

A *cell* fixes every axis but n_cpus; it is simulated by one call of a
simulator ``(scenario, n_cpus array, seed, n_rep) -> polars frame`` in tidy
form: columns ``n_cpus``, ``strategy`` ("QW"/"RL"), ``metric`` (one of
``MC_METRICS``: requester_ns, cpu_time_ns, victim_ns) and ``value_ns``, one
row per draw. The seed of a cell comes from
``SeedSequence(spec seed, spawn_key=hashes of its axis values)``, so the
numbers depend on the spec seed and the cell's coordinates only, never on
chunking, on the number of workers, or on the other values of an axis.
Output columns: axes, ``reps``, then per strategy and metric
``<s>_<metric>_mean_ns`` and ``<s>_<metric>_p<q>_ns`` (``requester_ns`` ->
``qw_requester_mean_ns``, ``qw_requester_p99_ns``); ``victim_ns`` counts the
replications where the victim CPU was dirty only.

The default simulator is :func:`simulate_fanout`, an adapter to the
mechanism-level Monte Carlo :func:`pwmodel.simulate.fanout.samples` (both
strategies). Without that module, :func:`qw_fanout_samples`, a minimal
Monte Carlo of the QW fan-out defined here, is used.
"""

from __future__ import annotations

import hashlib
from typing import Callable, Mapping

import numpy as np
import polars as pl

from pwmodel import evaluate as E
from pwmodel.models import fanout as F
from pwmodel.models import numeric, stagger
from pwmodel.sweep.analytic import enum_of, quantile_col
from pwmodel.sweep.grid import Grid
from pwmodel.sweep.spec import STRUCT_AXES, SweepSpec

Simulator = Callable[[E.Scenario, np.ndarray, int, int], pl.DataFrame]


def cell_seed(spec_seed: int, coords: Mapping[str, object]) -> int:
    """63-bit seed of the cell at ``coords`` (axis -> value, n_cpus excluded).

    ``SeedSequence(spec seed, spawn_key=(h(axis=value), ...))`` with h a 64-bit
    SHA-256 prefix: the seed depends on the spec seed and the cell's own axis
    values only, not on chunking, workers, or the other values of each axis.
    """
    key = tuple(int.from_bytes(hashlib.sha256(f"{a}={v!r}".encode()).digest()[:8], "little")
                for a, v in coords.items())
    ss = np.random.SeedSequence(spec_seed, spawn_key=key)
    return int(ss.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))


def _tidy(parts: list[tuple[float, str, str, np.ndarray]]) -> pl.DataFrame:
    sizes = [v.size for *_, v in parts]
    return pl.DataFrame({
        "n_cpus": np.repeat([p[0] for p in parts], sizes).astype(float),
        "strategy": np.repeat([p[1] for p in parts], sizes),
        "metric": np.repeat([p[2] for p in parts], sizes),
        "value_ns": np.concatenate([p[3] for p in parts]) if parts else np.empty(0)})


def simulate_fanout(sc: E.Scenario, n_cpus: np.ndarray, seed: int, n_rep: int) -> pl.DataFrame:
    """Draws of :func:`pwmodel.simulate.fanout.samples` for each CPU count, tidy (ns)."""
    from pwmodel.simulate import fanout as SF
    parts = []
    for n in np.asarray(n_cpus):
        x = SF.samples(sc, int(n), max(2, int(n_rep)), seed)
        for s in ("qw", "rl"):
            for metric, key in (("requester_ns", "requester"), ("cpu_time_ns", "cpu"),
                                ("victim_ns", "victim")):
                parts.append((float(n), s.upper(), metric, np.asarray(x[f"{s}_{key}"], dtype=float)))
    return _tidy(parts)


def qw_fanout_samples(sc: E.Scenario, n_cpus: np.ndarray, seed: int, n_rep: int) -> pl.DataFrame:
    """Minimal Monte Carlo of one QW lru_add_drain_all(): ``n_rep`` replications per CPU count.

    D = max(1, round(dirty_fraction * n)) works are queued t_q apart; the requester
    waits for the slowest: draws of max_i (W_i - i t_q) over D draws of the scenario's
    queue->start distribution (:func:`pwmodel.models.stagger.sample_max`) replace its
    expectation in the QW closed form (every other term as
    in :func:`pwmodel.models.fanout.qw_mean_expr`). Metric ``requester_ns`` only.
    """
    ps = sc.params()
    dist = sc.wake_dist(ps)
    n = np.asarray(n_cpus, dtype=float)
    vals = E.inputs(sc, n, ps)
    rng = np.random.Generator(np.random.PCG64(seed))
    expr = F.qw_mean_expr()
    parts = []
    for i, ni in enumerate(n):
        d = max(1, int(round(float(E.dirty_count(ps["dirty_fraction"], ni)))))
        wmax = stagger.sample_max(dist, rng, n_rep, d, ps["queue_work_ns"])
        v = {k: (x[i] if isinstance(x, np.ndarray) and x.ndim else x) for k, x in vals.items()}
        v["wake_smax_ns"] = wmax
        with np.errstate(invalid="ignore", over="ignore"):
            req = np.broadcast_to(numeric(expr, v), (n_rep,)).astype(float)
        parts.append((float(ni), "QW", "requester_ns", req))
    return _tidy(parts)


def default_simulator() -> tuple[Simulator, str]:
    """The project's fan-out simulator if present, else the minimal QW Monte Carlo."""
    try:
        from pwmodel.simulate import fanout as SF  # noqa: F401
        if callable(getattr(SF, "samples", None)):
            return simulate_fanout, "pwmodel.simulate.fanout.samples"
    except ImportError:
        pass
    return qw_fanout_samples, "pwmodel.sweep.montecarlo.qw_fanout_samples"


class MonteCarloChunker:
    """Computes chunk frames of a Monte-Carlo sweep (whole cells per chunk)."""

    def __init__(self, spec: SweepSpec, simulator: Simulator | None = None) -> None:
        self.spec = spec
        self.grid = Grid(spec, per_cell=True)
        self.simulate = simulator or default_simulator()[0]
        n = np.asarray(spec.axes["n_cpus"], dtype=float)
        self._n = n
        self._n_int = bool(np.all(n == np.round(n)))

    def chunk(self, k: int) -> pl.DataFrame:
        frames = [self.cell_frame(seg.group) for seg in self.grid.segments(k)]
        return frames[0] if len(frames) == 1 else pl.concat(frames)

    def cell_frame(self, cell: int) -> pl.DataFrame:
        """One row per n_cpus: axes, replications, means and quantiles of each metric."""
        spec, grid = self.spec, self.grid
        sc = grid.scenario(cell)
        raw = self.simulate(sc, self._n, cell_seed(spec.seed, grid.group_values(cell)), spec.reps)
        size = self._n.size
        labels = E.labels(sc)
        cols: dict[str, object] = {c: pl.Series(c, [labels[c]], dtype=enum_of(spec, c))
                                   .new_from_index(0, size) for c in STRUCT_AXES}
        gvals = grid.group_values(cell)
        for a in spec.param_axes:
            cols[a] = np.full(size, float(gvals[a]))  # type: ignore[arg-type]
        cols["n_cpus"] = self._n.astype(np.int64) if self._n_int else self._n
        cols["reps"] = np.full(size, max(2, spec.reps), dtype=np.int64)
        parts = raw.partition_by(["n_cpus", "strategy", "metric"], as_dict=True,
                                 maintain_order=True)
        for s in E.STRATEGIES:
            for m in spec.metrics:
                stem = m[:-3]
                mean = np.full(size, np.nan)
                qs = np.full((len(spec.quantiles), size), np.nan)
                for i, ni in enumerate(self._n):
                    part = parts.get((float(ni), s, m))
                    x = part["value_ns"].to_numpy() if part is not None else np.empty(0)
                    if x.size:
                        mean[i] = x.mean()
                        if spec.quantiles:
                            qs[:, i] = np.quantile(x, spec.quantiles)
                cols[E.wide_column(s, f"{stem}_mean_ns")] = mean
                for j, q in enumerate(spec.quantiles):
                    cols[E.wide_column(s, quantile_col(q).replace("requester", stem, 1))] = qs[j]
        return pl.DataFrame(cols)
