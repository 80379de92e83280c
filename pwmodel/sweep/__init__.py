"""Parameter sweeps at scale: a TOML spec, chunked evaluation, parquet output, Dask.

    spec = pwmodel.sweep.load("sweeps/crossover_n.toml")
    lf = pwmodel.sweep.run(spec, "out/crossover_n")      # polars LazyFrame
    lf = pwmodel.sweep.run(spec)                          # in memory

Analytic sweeps evaluate the closed forms of :mod:`pwmodel.models` on NumPy
arrays (the same numbers as :func:`pwmodel.evaluate.evaluate`); Monte-Carlo
sweeps run a seeded simulator per cell on Dask. See :mod:`pwmodel.sweep.spec`
for the file format and :mod:`pwmodel.sweep.store` for the output layout.
"""

from pwmodel.sweep.analytic import AnalyticChunker, metric_columns, quantile_col
from pwmodel.sweep.montecarlo import MonteCarloChunker, cell_seed, default_simulator, qw_fanout_samples
from pwmodel.sweep.runner import EXECUTORS, chunker, resume_info, run
from pwmodel.sweep.spec import ANALYTIC_METRICS, MC_METRICS, SweepSpec, load, parse
from pwmodel.sweep.store import scan

__all__ = ["ANALYTIC_METRICS", "MC_METRICS", "EXECUTORS", "SweepSpec", "AnalyticChunker",
           "MonteCarloChunker", "cell_seed", "chunker", "default_simulator", "load",
           "metric_columns", "parse", "qw_fanout_samples", "quantile_col", "resume_info", "run",
           "scan"]
