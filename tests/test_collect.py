"""Live collection (root + tracefs only): a short real run, and cleanup after a forced failure."""

from __future__ import annotations

import os
import time
from pathlib import Path

import polars as pl
import pytest

from pwmodel.errors import PwmodelError

tracefs = pytest.importorskip("pwmodel.collect.tracefs")

WHY = tracefs.available()
if WHY is None and len(os.sched_getaffinity(0)) < 2:
    WHY = "needs two CPUs"
if WHY is None:
    from pwmodel.collect.cbuild import find_compiler
    try:
        find_compiler()
    except PwmodelError as exc:
        WHY = str(exc)
live = pytest.mark.skipif(WHY is not None, reason=f"live collection unavailable: {WHY}")
# the live tests change machine-wide state (tracefs, kernel sysctls) and assert it restored:
# one worker runs them all, one at a time, under xdist
pytestmark = [pytest.mark.root, pytest.mark.xdist_group("tracefs")]


def _cpus():
    c = sorted(os.sched_getaffinity(0))
    return c[0], c[1]


def _children_of(pid: int) -> list[int]:
    """Child processes of ``pid``, sorted. Compared with the list taken before a collection:
    a process that earlier tests in the same worker left on purpose (multiprocessing's
    resource tracker, started by the first process pool) is not the collector's."""
    out = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                stat = (d / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(d.name))
    return sorted(out)


def _processes_running(folder: Path) -> list[int]:
    """Processes whose executable lives in ``folder`` (this test's private build cache)."""
    out = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                if str(Path(os.readlink(d / "exe"))).startswith(str(folder)):
                    out.append(int(d.name))
            except OSError:
                pass
    return out


def _own_instances() -> list[str]:
    """This process's tracefs instances still present (none can be when tracefs is unmounted,
    as it is again after a collection on a machine where it was not mounted before)."""
    if not tracefs.is_mounted():
        return []
    return [d.name for d in (tracefs.ROOT / "instances").iterdir()
            if d.name.startswith(f"pwmodel-{os.getpid()}-")]


@live
def test_short_real_collection_passes_schema_checks(tmp_path):
    from pwmodel.collect.lru import collect_drain
    from pwmodel.ingest.derive import LIFECYCLE_SCHEMA
    req, tgt = _cpus()
    before = tracefs.toplevel_state()
    meta = collect_drain(tmp_path, target_state="other", duration_s=2.0, triggers=20, interval_ms=20,
                         target_cpu=tgt, requester_cpu=req, progress=False, command=["test"])
    assert tracefs.toplevel_state() == before
    lc = pl.read_parquet(tmp_path / "lifecycle.parquet")
    assert {k: v for k, v in lc.schema.items() if k != "target_state"} == LIFECYCLE_SCHEMA
    drains = lc.filter((pl.col("function") == "lru_add_drain_per_cpu") & (pl.col("target_cpu") == tgt)
                       & pl.col("window").is_not_null())
    assert drains.height >= 10  # the dirtied target gets a drain item for (nearly) every trigger
    done = drains.drop_nulls(["queue_ts_ns", "start_ts_ns", "end_ts_ns"])
    assert (done["queue_ts_ns"] <= done["start_ts_ns"]).all() and (done["start_ts_ns"] <= done["end_ts_ns"]).all()
    rq = pl.read_parquet(tmp_path / "requester.parquet")
    assert rq.height >= 10 and (rq["syscall_ns"] > 0).all() and (rq["rc"] == 0).all()
    vg = pl.read_parquet(tmp_path / "victim_gaps.parquet")
    assert set(vg["cause"]) <= {"work", "ipi", "timer", "irq", "sched", "none"}
    assert (vg["gap_ns"] >= 2000 - 1).all()
    assert meta["kernel_release"] and meta["command"] == "test" and meta["tsc_hz"] > 1e8
    assert _own_instances() == []


@live
def test_cleanup_after_forced_failure(tmp_path, monkeypatch):
    from pwmodel.collect.lru import collect_drain
    cache = tmp_path / "cache"
    monkeypatch.setenv("PWMODEL_CACHE", str(cache))
    out = tmp_path / "out"
    req, tgt = _cpus()
    before = tracefs.toplevel_state()
    affinity = os.sched_getaffinity(0)
    children = _children_of(os.getpid())
    with pytest.raises(PwmodelError, match="forced failure"):
        collect_drain(out, target_state="fifo", duration_s=5.0, triggers=5, target_cpu=tgt,
                      requester_cpu=req, progress=False, _fail_after_start=True)
    time.sleep(0.2)
    assert list(cache.iterdir()), "the helper was built in the private cache"
    assert _processes_running(cache) == []  # the SCHED_FIFO loop and the requester are gone
    assert _children_of(os.getpid()) == children
    assert tracefs.toplevel_state() == before
    assert os.sched_getaffinity(0) == affinity
    assert _own_instances() == []
    assert not out.exists() or not list(out.iterdir())  # nothing half-written


def test_compiler_missing_is_a_clear_error(monkeypatch):
    from pwmodel.collect import cbuild
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.delenv("CC", raising=False)
    with pytest.raises(PwmodelError, match="no C compiler"):
        cbuild.find_compiler()


def test_pair_class_from_topology():
    from pwmodel.collect.micro import pair_class
    topo = [{"cpu": 0, "package": "0", "core": "0", "siblings": "0,2", "llc_cpus": "0-3"},
            {"cpu": 1, "package": "0", "core": "1", "siblings": "1,3", "llc_cpus": "0-3"},
            {"cpu": 2, "package": "0", "core": "0", "siblings": "0,2", "llc_cpus": "0-3"},
            {"cpu": 4, "package": "1", "core": "0", "siblings": "4", "llc_cpus": "4-7"},
            {"cpu": 5, "package": "0", "core": "5", "siblings": "5", "llc_cpus": "5"}]
    assert pair_class(0, 2, topo) == "smt_sibling"
    assert pair_class(0, 1, topo) == "same_llc"
    assert pair_class(0, 5, topo) == "same_socket"
    assert pair_class(0, 4, topo) == "cross_socket"


def test_collector_refuses_bad_settings(tmp_path):
    from pwmodel.collect.lru import collect_drain
    with pytest.raises(PwmodelError, match="target_state"):
        collect_drain(tmp_path, target_state="busy")
    with pytest.raises(PwmodelError, match="trigger"):
        collect_drain(tmp_path, trigger="reboot")


AUTOGROUP = Path("/proc/sys/kernel/sched_autogroup_enabled")


@live
def test_fair_knobs_short_run_restores_the_sysctl(tmp_path):
    from pwmodel.collect.lru import collect_drain
    req, tgt = _cpus()
    before = AUTOGROUP.read_text() if AUTOGROUP.exists() else None
    flip = {"kernel.sched_autogroup_enabled": "0" if (before or "1").strip() == "1" else "1"} if before else {}
    meta = collect_drain(tmp_path, target_state="other", duration_s=2.0, triggers=10, interval_ms=20,
                         target_cpu=tgt, requester_cpu=req, policy="batch", nice=5, slice_ns=200_000,
                         busy_tasks=2, sysctls=flip, progress=False, command=["test"])
    st = meta["settings"]
    assert (st["policy"], st["nice"], st["slice_ns"], st["busy_tasks"]) == ("batch", 5, 200_000, 2)
    assert st["sysctls"] == flip                       # the value read back while the run held it
    if before is not None:
        assert AUTOGROUP.read_text() == before          # restored
    assert meta["config_hz"] in (100, 250, 300, 1000, None)
    share = meta["cpu_time_share"][f"cpu{tgt}"]
    assert 0 <= share["steal_pct"] <= 100 and share["elapsed_ticks"] > 0
    assert _own_instances() == []


@live
def test_fair_knobs_cleanup_after_forced_failure(tmp_path, monkeypatch):
    from pwmodel.collect.lru import collect_drain
    cache = tmp_path / "cache"
    monkeypatch.setenv("PWMODEL_CACHE", str(cache))
    req, tgt = _cpus()
    before = AUTOGROUP.read_text() if AUTOGROUP.exists() else None
    flip = {"kernel.sched_autogroup_enabled": "0" if (before or "1").strip() == "1" else "1"} if before else {}
    tf_before = tracefs.toplevel_state()
    children = _children_of(os.getpid())
    with pytest.raises(PwmodelError, match="forced failure"):
        collect_drain(tmp_path / "out", target_state="other", duration_s=5.0, triggers=5, target_cpu=tgt,
                      requester_cpu=req, nice=-5, busy_tasks=3, policy="idle", sysctls=flip,
                      progress=False, _fail_after_start=True)
    time.sleep(0.2)
    assert _processes_running(cache) == []            # the three busy loops and the requester are gone
    assert _children_of(os.getpid()) == children
    if before is not None:
        assert AUTOGROUP.read_text() == before
    assert tracefs.toplevel_state() == tf_before
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


def test_collector_refuses_bad_fair_knobs(tmp_path):
    from pwmodel.collect.lru import collect_drain, sysctl_path
    for kw, field in [({"policy": "rr"}, "policy"), ({"nice": 30}, "nice"), ({"slice_ns": 5}, "slice_ns"),
                      ({"busy_tasks": 0}, "busy_tasks"), ({"target_state": "idle", "nice": 3}, "target_state")]:
        with pytest.raises(PwmodelError) as e:
            collect_drain(tmp_path, **({"target_state": "other"} | kw))
        assert e.value.field == field
    with pytest.raises(PwmodelError, match="only kernel"):
        sysctl_path("vm.drop_caches")
    with pytest.raises(PwmodelError, match="only kernel"):
        sysctl_path("kernel.../../x")


def test_sysctl_context_restores_on_error(tmp_path):
    from pwmodel.collect.lru import Sysctls
    f = tmp_path / "knob"
    f.write_text("1\n")
    with pytest.raises(RuntimeError):
        with Sysctls({f: "0"}) as sc:
            assert f.read_text().strip() == "0" and sc.applied
            raise RuntimeError("boom")
    assert f.read_text().strip() == "1"
