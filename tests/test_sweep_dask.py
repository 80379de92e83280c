"""Monte-Carlo sweeps on Dask: same spec and seed, same numbers for any worker or chunk count."""

from __future__ import annotations

import textwrap

import numpy as np
import polars as pl
import pytest

from pwmodel import sweep as SW

MC = textwrap.dedent("""\
    [sweep]
    kind = "montecarlo"
    seed = 11
    reps = 64
    metrics = ["requester_ns", "victim_ns"]
    quantiles = [0.5, 0.99]
    chunk_points = 3

    [axes]
    machine = ["intel-xeon-8375c-2s"]
    isolation = ["busy_other", "nohz_fifo_throttle"]
    dirty_fraction = [0.5, 1.0]
    n_cpus = [1, 4, 16]
    """)


@pytest.fixture(scope="module")
def spec() -> SW.SweepSpec:
    return SW.parse(MC, "mc.toml")


@pytest.fixture(scope="module")
def local(spec) -> pl.DataFrame:
    return SW.run(spec, executor="local", workers=1).collect()


def test_one_vs_two_dask_workers_identical(spec, local, tmp_path):
    """1 worker: a local cluster started by run(); 2 workers: a cluster reached by address,
    which also runs an analytic sweep (two cluster start-ups keep the test short)."""
    from distributed import LocalCluster
    one = SW.run(spec, tmp_path / "w1", executor="dask", workers=1).collect()
    assert one.height == spec.n_points == 12
    assert one.equals(local)
    assert {"qw_requester_mean_ns", "rl_requester_p99_ns", "qw_victim_p50_ns"} <= set(one.columns)
    an = SW.parse(textwrap.dedent("""\
        [sweep]
        metrics = ["requester_mean_ns", "cpu_load_cpus"]
        chunk_points = 50
        [axes]
        machine = ["amd-epyc-7r13-2s"]
        remote_rate_hz = [1.0, 100.0, 1e4]
        n_cpus = { start = 1, stop = 256, num = 40, scale = "log", integer = true }
        """))
    ref = SW.run(an, executor="local").collect()
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None, silence_logs=50) as cluster:
        addr = cluster.scheduler_address
        two = SW.run(spec, tmp_path / "w2", scheduler=addr, chunk_points=6).collect()
        assert two.equals(one)
        assert SW.run(an, tmp_path / "an", scheduler=addr).collect().equals(ref)


def test_chunking_and_seed(spec, local):
    for chunk in (1, 7, 1000):         # whole cells per chunk: 1, 2 and all 4 cells
        assert SW.run(spec, chunk_points=chunk, executor="local", workers=2).collect().equals(local)
    other = SW.run(spec.replace(seed=12), executor="local").collect()
    assert not np.array_equal(other["qw_requester_mean_ns"].to_numpy(),
                              local["qw_requester_mean_ns"].to_numpy())
    # the simulated tail is ordered and the throttled fan-out is far slower than busy_other
    assert (local["qw_requester_p99_ns"] >= local["qw_requester_p50_ns"]).all()
    slow = local.filter(pl.col("isolation") == "nohz_fifo_throttle")["qw_requester_mean_ns"].max()
    fast = local.filter(pl.col("isolation") == "busy_other")["qw_requester_mean_ns"].max()
    assert slow > 100 * fast


def test_cell_seeds_depend_on_coordinates_only(spec, local):
    seeds = [SW.cell_seed(5, {"machine": "m", "remote_rate_hz": float(r)}) for r in range(50)]
    assert len(set(seeds)) == 50 and all(0 <= s < 2 ** 63 for s in seeds)
    c = {"machine": "m", "dirty_fraction": 0.5}
    assert SW.cell_seed(5, c) == SW.cell_seed(5, dict(c)) != SW.cell_seed(6, c)
    assert SW.cell_seed(5, {"a": 1.0}) != SW.cell_seed(5, {"b": 1.0})
    # dropping a value of an axis leaves the other cells' numbers unchanged
    sub = spec.replace(axes={**spec.axes, "isolation": ("nohz_fifo_throttle",)})
    got = SW.run(sub, executor="local").collect()
    assert got.equals(local.filter(pl.col("isolation") == "nohz_fifo_throttle"))
