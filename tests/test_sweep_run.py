"""Analytic sweeps: equal to evaluate(), chunk-size independent, resumable, atomic output."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from pwmodel import evaluate as E
from pwmodel import machine as M
from pwmodel import sweep as SW
from pwmodel.cli import main as cli_main
from pwmodel.errors import PwmodelError

# one whole sweep (module fixture) serves the tests here: one worker under xdist
pytestmark = pytest.mark.xdist_group("sweep_run")

SPEC = textwrap.dedent("""\
    [sweep]
    name = "small"
    metrics = ["requester_mean_ns", "requester_p99_ns", "victim_mean_ns", "victim_worst_ns",
               "cpu_time_ns", "fastpath_tax_ns", "fastpath_extra_ns", "cpu_load_cpus",
               "dirty_cpus"]
    quantiles = [0.5, 0.999]
    chunk_points = 1000000

    [axes]
    machine = ["intel-xeon-8375c-2s", "aws-graviton2-64c"]
    isolation = ["idle", "nohz_fifo_throttle"]
    dirty_fraction = [0.25, 1.0]
    remote_rate_hz = [1.0, 1000.0, 1e5]
    local_rate_hz = [0.0, 1e6]
    n_cpus = { start = 1, stop = 1024, num = 70, scale = "log", integer = true }

    [fixed]
    item_drain_ns = 60
    """)


@pytest.fixture(scope="module")
def spec() -> SW.SweepSpec:
    return SW.parse(SPEC, "small.toml")


@pytest.fixture(scope="module")
def whole(spec) -> pl.DataFrame:
    return SW.run(spec, executor="local", workers=1).collect()


def _scenarios(whole: pl.DataFrame):
    """(group key, its rows, the scenario evaluate() takes for it) of each point group."""
    for key, got in whole.group_by(
            ["machine", "isolation", "dirty_fraction", "remote_rate_hz", "local_rate_hz"],
            maintain_order=True):
        m, iso, dfr, rr, lr = key
        yield key, got, E.Scenario(M.get(m), isolation=iso, overrides={
            "item_drain_ns": 60.0, "dirty_fraction": dfr, "remote_rate_hz": rr,
            "local_rate_hz": lr})


def test_equals_evaluate_bitwise(spec, whole):
    n = np.asarray(spec.axes["n_cpus"])
    assert whole.height == spec.n_points
    checked = 0
    for (m, iso, dfr, rr, lr), got, sc in _scenarios(whole):
        ref = E.evaluate(sc, n)
        assert got["n_cpus"].to_list() == n.astype(int).tolist()
        for strat in ("QW", "RL"):
            r = ref.filter(pl.col("strategy") == strat)
            for metric in E.METRICS + ("dirty_cpus",):
                a = r[metric].to_numpy()
                b = got[f"{strat.lower()}_{metric}"].to_numpy()
                assert np.array_equal(a, b, equal_nan=True), (m, iso, dfr, rr, lr, strat, metric)
            assert (got[f"{strat.lower()}_config"].cast(str) == r["config"]).all()
        checked += 1
    assert checked == 2 * 2 * 2 * 3 * 2


def test_evaluate_wide_is_the_sweeps_form(spec, whole):
    """evaluate.wide() and an analytic sweep write one form: the same label and metric
    columns in the same order, the same numbers for the same points; evaluate()'s long
    rows hold the same numbers."""
    n = np.asarray(spec.axes["n_cpus"])
    metrics = [c for c in whole.columns if c.startswith(("qw_", "rl_"))
               and c not in ("qw_config", "rl_config")]
    for _, got, sc in _scenarios(whole):
        w = E.wide(sc, n)
        assert w.columns == [*E.LABELS, "n_cpus", *E.wide_columns()]
        assert [c for c in got.columns if c in w.columns] == w.columns
        wm = [c for c in metrics if c in w.columns]
        assert len(wm) == len(E.wide_columns())
        assert got.select(wm).equals(w.select(wm))
        assert got.select(E.LABELS).cast(pl.String).equals(w.select(E.LABELS))
        long = E.evaluate(sc, n)
        for strat in E.STRATEGIES:
            r = long.filter(pl.col("strategy") == strat)
            for metric in E.WIDE_METRICS:
                assert np.array_equal(r[metric].to_numpy(), w[E.wide_column(strat, metric)].to_numpy(),
                                      equal_nan=True)


def test_quantile_columns(spec, whole):
    # p99.9 of the max is above its p50, and the QW p50 is the median of the max of D draws
    assert (whole["qw_requester_p99_9_ns"] >= whole["qw_requester_p50_ns"]).all()
    assert (whole["rl_requester_p99_9_ns"] >= whole["rl_requester_p50_ns"]).all()
    assert (whole["rl_requester_p99_9_ns"] >= whole["rl_requester_p99_ns"]).all()
    row = whole.filter((pl.col("isolation") == "nohz_fifo_throttle") & (pl.col("n_cpus") == 1)
                       & (pl.col("dirty_fraction") == 1.0)).row(0, named=True)
    sc = E.Scenario(M.get(row["machine"]), isolation="nohz_fifo_throttle",
                    overrides={"item_drain_ns": 60.0, "dirty_fraction": 1.0})
    q50 = E.qmax_of(sc.wake_dist(), np.array([1.0]), 0.5)[0]
    base = E.evaluate(sc, [1])
    qw = base.filter(pl.col("strategy") == "QW")
    # the p50 column differs from the p99 column only by the wake quantile used
    assert row["qw_requester_p50_ns"] - qw["requester_p99_ns"][0] == pytest.approx(
        q50 - E.qmax_of(sc.wake_dist(), np.array([1.0]), 0.99)[0], rel=1e-9)


@pytest.mark.parametrize("chunk", [13, 97, 1000, 4479])
def test_chunked_equals_unchunked(spec, whole, chunk, tmp_path):
    lf = SW.run(spec, tmp_path / "out", chunk_points=chunk, executor="local", workers=2)
    got = lf.collect()
    assert got.equals(whole)
    n_files = len(list((tmp_path / "out").glob("part-*.parquet")))
    assert n_files == -(-spec.n_points // chunk)


def test_one_point_chunks_in_memory(spec, whole):
    few = spec.replace(axes={**spec.axes, "n_cpus": spec.axes["n_cpus"][::17]})
    ref = SW.run(few).collect()
    assert SW.run(few, chunk_points=1, workers=2).collect().equals(ref)
    keep = pl.col("n_cpus").is_in([int(x) for x in few.axes["n_cpus"]])
    assert ref.columns == whole.columns and ref.height == whole.filter(keep).height


class Boom(Exception):
    pass


def test_resume_after_injected_failure(spec, whole, tmp_path):
    out = tmp_path / "out"
    seen: list[int] = []

    def fail_after_3(k: int, rows: int) -> None:
        seen.append(k)
        if len(seen) == 3:
            raise Boom()

    with pytest.raises(Boom):
        SW.run(spec, out, chunk_points=500, executor="local", workers=1, on_chunk=fail_after_3)
    assert not (out / "_SUCCESS.json").exists()
    done, total = SW.resume_info(out, spec.replace(chunk_points=500))
    assert 3 <= done < total
    before = {p.name: p.stat().st_mtime_ns for p in out.glob("part-*.parquet")}
    recomputed: list[int] = []
    got = SW.run(spec, out, chunk_points=500, executor="local", workers=2,
                 on_chunk=lambda k, r: recomputed.append(k)).collect()
    assert got.equals(whole)
    assert len(recomputed) == total - done            # finished chunks not recomputed
    for name, mt in before.items():
        assert (out / name).stat().st_mtime_ns == mt   # nor rewritten
    assert SW.scan(out).collect().equals(whole)


def test_resume_after_killed_process(spec, whole, tmp_path):
    """SIGKILL a sweep mid-run (possibly mid-write), then resume."""
    spec_file = tmp_path / "small.toml"
    spec_file.write_text(SPEC)
    out = tmp_path / "out"
    code = textwrap.dedent(f"""\
        import sys, time
        from pwmodel import sweep as SW
        spec = SW.load({str(spec_file)!r})
        def slow(k, rows):
            print(k, flush=True)
            time.sleep(0.05)
        SW.run(spec, {str(out)!r}, chunk_points=100, executor="local", workers=1, on_chunk=slow)
        """)
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, env=env, text=True)
    try:
        lines = 0
        deadline = time.monotonic() + 60
        while lines < 5 and time.monotonic() < deadline:
            if proc.stdout.readline():
                lines += 1
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
    assert lines == 5
    done, total = SW.resume_info(out, spec.replace(chunk_points=100))
    assert 5 <= done < total
    got = SW.run(spec, out, chunk_points=100, executor="local", workers=2).collect()
    assert got.equals(whole)
    assert not list(out.glob(".part-*"))              # no temp file left behind


def test_other_sweep_in_folder_refused(spec, tmp_path):
    out = tmp_path / "out"
    small = spec.replace(axes={**spec.axes, "n_cpus": (1.0, 2.0)})
    SW.run(small, out)
    with pytest.raises(PwmodelError, match="another sweep"):
        SW.run(small.replace(axes={**small.axes, "n_cpus": (1.0, 4.0)}), out)
    lf = SW.run(small.replace(axes={**small.axes, "n_cpus": (1.0, 4.0)}), out, force=True)
    assert sorted(lf.select("n_cpus").unique().collect()["n_cpus"].to_list()) == [1, 4]


def test_cli_sweep_and_bad_spec(tmp_path, capsys):
    f = tmp_path / "s.toml"
    f.write_text(SPEC.replace('num = 70', 'num = 5'))
    assert cli_main(["sweep", str(f), "--check"]) == 0
    assert "analytic sweep 'small'" in capsys.readouterr().out
    assert cli_main(["sweep", str(f), "--out", str(tmp_path / "o"), "--quiet"]) == 0
    df = SW.scan(tmp_path / "o").collect()
    assert df.height == SW.load(f).n_points
    assert all(c.endswith(("_ns", "_hz", "_cpus", "_fraction", "_config")) or c in (
        "machine", "callsite", "isolation", "preempt_model") for c in df.columns)
    bad = tmp_path / "bad.toml"
    bad.write_text(SPEC.replace('local_rate_hz = [0.0, 1e6]', 'local_rate = [0.0, 1e6]'))
    assert cli_main(["sweep", str(bad), "--out", str(tmp_path / "o2")]) == 2
    err = capsys.readouterr().err
    assert f"{bad}:14" in err and "local_rate" in err
    assert not (tmp_path / "o2").exists()


def test_resume_with_other_chunk_size_explained(spec, tmp_path):
    small = spec.replace(axes={**spec.axes, "n_cpus": (1.0, 2.0, 3.0)})
    SW.run(small, tmp_path / "o", chunk_points=10)
    with pytest.raises(PwmodelError, match="--chunk-points 10"):
        SW.run(small, tmp_path / "o", chunk_points=20)


def test_machine_axis_takes_profile_paths(tmp_path):
    import pwmodel
    prof = Path(pwmodel.__file__).parent / "profiles" / "aws-graviton2-64c.toml"
    sp = SW.parse(f'[axes]\nmachine = ["{prof}", "intel-xeon-8375c-2s"]\nn_cpus = [1, 8]\n')
    df = SW.run(sp).collect()
    assert df["machine"].cast(str).to_list() == ["aws-graviton2-64c"] * 2 + ["intel-xeon-8375c-2s"] * 2
