"""Live collectors (root on Linux): LRU drain experiments, stat_refresh fan-out, microbenchmarks.

Every collector is time-bounded, restores what it touches (tracefs mount and
instance, scheduling policy, affinity) and stops every process it starts, also
on Ctrl-C, error or timeout.  Results are datasets under ``data/measured/``
(parquet tables + ``metadata.json``), see :mod:`pwmodel.collect.store`.
"""
