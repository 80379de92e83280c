"""Registry, machine profiles and bad input: one clear error naming what and where."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pwmodel import dist as D, machine as M, params as P
from pwmodel.errors import PwmodelError
from pwmodel.evaluate import Scenario, evaluate

ROOT = Path(__file__).resolve().parents[1]


def test_every_parameter_has_unit_meaning_source_and_default_in_bounds():
    units = ("_ns", "_hz", "_fraction", "lines", "_items", "p_", "_bytes")
    for name, p in P.PARAMS.items():
        assert p.meaning and p.source and p.unit
        assert p.bounds[0] <= p.default <= p.bounds[1], name
        assert any(u in name for u in units), f"{name} has no unit in its name"
        src = p.source
        if "data/reference/" in src:
            f = src.split("data/reference/")[1].split(":")[0].split(" ")[0].rstrip(",)")
            assert (ROOT / "data" / "reference" / f).exists(), f


def test_bundled_profiles_load_and_cite_sources():
    names = M.bundled_names()
    assert {"amd-epyc-7r13-2s", "intel-xeon-8375c-2s", "hisilicon-kunpeng-920-6426"} <= set(names)
    archs = set()
    for m in M.bundled():
        archs.add(m.arch)
        assert all(lv.source for lv in m.levels)
        assert all(src for _, src in m.costs.values())
        # round trip through TOML
        m2 = M.from_dict(__import__("tomllib").loads(M.to_toml(m)), where="roundtrip")
        assert m2.levels == m.levels and m2.costs == m.costs and m2.n_cpus == m.n_cpus
    assert {"x86_64", "aarch64"} <= archs


def test_pair_classes_follow_linux_enumeration():
    epyc = M.get("amd-epyc-7r13-2s")
    assert epyc.n_cpus == 192
    assert epyc.pair_class(0, 96) == "smt_sibling"     # second thread numbered after all cores
    assert epyc.pair_class(0, 1) == "same_llc"
    assert epyc.pair_class(0, 8) == "same_socket"
    assert epyc.pair_class(0, 48) == "cross_socket"
    assert epyc.pair_class(5, 5) == "self" and epyc.pair_c2c_ns(5, 5) == 0.0
    kp = M.get("hisilicon-kunpeng-920-6426")
    assert kp.pair_class(0, 3) == "same_cluster" and kp.pair_class(0, 4) == "same_die"
    assert kp.pair_class(0, 32) == "cross_die"
    # class counts add up to N
    for n in (1, 7, 64, 1000):
        assert sum(float(v) for v in epyc.class_counts(n).values()) == pytest.approx(n)
    with pytest.raises(PwmodelError, match="CPU id"):
        epyc.pair_class(0, 192)


def _fake_sysfs(root: Path, sockets: int, cores: int, smt: int, llc_cores: int | None = None) -> None:
    """A /sys/devices/system/cpu tree with Linux x86 numbering (second threads last);
    ``llc_cores`` cores share a last-level cache (default: the whole package)."""
    n = sockets * cores * smt
    llc_cores = llc_cores or cores
    for cpu in range(n):
        thread, core = divmod(cpu, sockets * cores)
        sock = core // cores
        sib = [core + t * sockets * cores for t in range(smt)]
        pkg = [c for c in range(n) if (c % (sockets * cores)) // cores == sock]
        llc = [c for c in range(n) if (c % (sockets * cores)) // llc_cores == core // llc_cores]
        d = root / f"cpu{cpu}"
        (d / "topology").mkdir(parents=True)
        (d / "topology" / "thread_siblings_list").write_text(",".join(map(str, sib)) + "\n")
        (d / "topology" / "package_cpus_list").write_text(",".join(map(str, pkg)) + "\n")
        (d / "topology" / "physical_package_id").write_text(f"{sock}\n")
        (d / "topology" / "core_id").write_text(f"{core % cores}\n")
        idx = d / "cache" / "index3"
        idx.mkdir(parents=True)
        (idx / "level").write_text("3\n")
        (idx / "shared_cpu_list").write_text(",".join(map(str, llc)) + "\n")


def test_detect_reads_a_sysfs_topology(tmp_path):
    _fake_sysfs(tmp_path, sockets=2, cores=4, smt=2)
    c2c = {"smt_sibling": 8.0, "same_llc": 40.0, "same_socket": 40.0, "cross_socket": 120.0}
    m = M.detect(c2c, sysfs=tmp_path)
    assert m.n_cpus == 16
    assert [(lv.pair_class, lv.size) for lv in m.levels] == [
        ("smt_sibling", 2), ("same_llc", 4), ("cross_socket", 2)]
    assert m.pair_class(0, 8) == "smt_sibling"      # cpu 8 is cpu 0's second thread
    assert m.pair_class(0, 3) == "same_llc"
    assert m.pair_class(0, 4) == "cross_socket"
    assert m.pair_c2c_ns(1, 13) == 120.0
    with pytest.raises(PwmodelError, match="no measured c2c latency for pair class 'smt_sibling'"):
        M.detect({}, sysfs=tmp_path)


def test_one_sysfs_reader_and_one_pair_class_vocabulary(tmp_path):
    """The collectors' pair classes (from the metadata rows they store) agree with the
    detected profile's for every CPU pair, in the same vocabulary."""
    from pwmodel.collect.micro import pair_class as collect_pair_class
    from pwmodel.machine import sysfs
    _fake_sysfs(tmp_path, sockets=2, cores=4, smt=2, llc_cores=2)
    c2c = {"smt_sibling": 8.0, "same_llc": 40.0, "same_socket": 60.0, "cross_socket": 120.0}
    m = M.detect(c2c, sysfs=tmp_path)
    assert m.pair_classes == sysfs.PAIR_CLASSES
    rows = sysfs.read_cpus(tmp_path)
    meta = [r.metadata() for r in rows]
    assert meta[0] == {"cpu": 0, "package": "0", "core": "0", "siblings": "0,8",
                       "llc_cpus": "0-1,8-9"}
    for a in range(16):
        for b in range(16):
            if a != b:
                assert sysfs.pair_class(a, b, rows) == m.pair_class(a, b), (a, b)
                assert collect_pair_class(a, b, meta) == m.pair_class(a, b), (a, b)


def test_detect_reads_this_machine():
    topo = M.detect_topology()
    classes = ("smt_sibling", "same_llc", "same_socket", "cross_socket")
    m = M.detect({c: 50.0 for c in classes})
    assert m.n_cpus == len(topo["cpus"])


def _profile(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "m.toml"
    p.write_text(text)
    return p


GOOD = (ROOT / "pwmodel" / "profiles" / "intel-xeon-8375c-2s.toml").read_text()


@pytest.mark.parametrize("edit,match", [
    (lambda t: t.replace('hz = 1000', 'hz = 1000\nbogus_field = 3'), "unknown field 'bogus_field'"),
    (lambda t: t.replace("c2c_ns = 51.3", "c2c_ns = -51.3"), "negative value"),
    (lambda t: t.replace("c2c_ns = 51.3, ", ""), "missing field 'topology.levels\\[1\\].c2c_ns'"),
    (lambda t: t.replace("[costs]", "[costs]\nipi_nanos = { value = 1.0, source = 'x' }"), "unknown parameter 'ipi_nanos'"),
    (lambda t: t.replace('version = 1', 'version = 7'), "unsupported profile version"),
    (lambda t: t.replace('preempt_model = "voluntary"', 'preempt_model = "sometimes"'), "preempt_model"),
    (lambda t: t + "\n[broken\n", "malformed TOML"),
])
def test_bad_profiles_are_refused_naming_file_and_field(tmp_path, edit, match):
    p = _profile(tmp_path, edit(GOOD))
    with pytest.raises(PwmodelError, match=match) as ei:
        M.load(p)
    assert str(p) in str(ei.value)


def test_malformed_toml_names_the_line(tmp_path):
    p = _profile(tmp_path, GOOD.replace("hz = 1000", "hz = = 1000"))
    with pytest.raises(PwmodelError) as ei:
        M.load(p)
    assert ei.value.line is not None and f"{p}:{ei.value.line}" in str(ei.value)


def test_bad_parameters_and_scenarios():
    xeon = M.get("intel-xeon-8375c-2s")
    with pytest.raises(PwmodelError, match="did you mean 'ipi_ns'"):
        P.resolve(xeon, {"ipi_nsec": 1.0})
    with pytest.raises(PwmodelError, match="negative"):
        P.resolve(xeon, {"ipi_ns": -5})
    with pytest.raises(PwmodelError, match="finite"):
        P.resolve(xeon, {"ipi_ns": float("nan")})
    with pytest.raises(PwmodelError, match="CPU count"):
        evaluate(Scenario(xeon, "idle"), [0])
    with pytest.raises(PwmodelError, match="isolation"):
        evaluate(Scenario(xeon, "nohz_maybe"), [1])
    with pytest.raises(PwmodelError, match="unknown machine"):
        M.get("epyc")
    with pytest.raises(PwmodelError, match=">= 1"):
        D.LatencyDist([D.point(1.0)]).expected_max_ns(0)


@pytest.mark.parametrize("argv,match", [
    (["decide", "--isolation", "bogus"], "unknown isolation level 'bogus'"),
    (["decide", "--param", "ipi_nsec=3"], "unknown parameter 'ipi_nsec'"),
    (["decide", "--n-cpus", "0"], "CPU count must be >= 1"),
    (["decide", "--machine", "nope"], "unknown machine 'nope'"),
    (["machine", "check", "/nonexistent/x.toml"], "cannot read machine profile"),
])
def test_cli_errors_are_one_line_without_traceback(argv, match):
    r = subprocess.run([sys.executable, "-m", "pwmodel.cli", *argv], capture_output=True, text=True)
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
    assert match in r.stderr and r.stderr.count("\n") == 1


def test_cli_decide_runs():
    r = subprocess.run([sys.executable, "-m", "pwmodel.cli", "decide", "--isolation", "idle",
                        "--n-cpus", "1,64,1024"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "crossover N*: " in r.stdout
