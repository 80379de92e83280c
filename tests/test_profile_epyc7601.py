"""The amd-epyc-7601-2s profile: topology of the machine and every latency traced to a
published row (or stated as an assumption with a range)."""

from __future__ import annotations

import csv
import re
from pathlib import Path

from pwmodel import machine as M

ROOT = Path(__file__).resolve().parents[1]


def _c2c_rows() -> dict[tuple[str, str], dict[str, str]]:
    with open(ROOT / "data" / "reference" / "c2c_latency.csv", newline="") as f:
        return {(r["cpu_model"], r["pair_class"]): r for r in csv.DictReader(f)}


def test_topology_is_two_sockets_of_four_dies_of_two_ccx():
    m = M.get("amd-epyc-7601-2s")
    assert m.n_cpus == 128
    sizes = {lv.pair_class: lv.size for lv in m.levels}
    assert sizes == {"smt_sibling": 2, "same_llc": 4, "same_die": 2, "same_socket": 4,
                     "cross_socket": 2}
    # one NUMA node per die: CPUs sharing a die share the unit index at that level
    dies = {m.units(c)[2] for c in range(m.n_cpus)}
    assert len(dies) == 8
    # latencies grow outwards
    c2c = [lv.c2c_ns for lv in m.levels]
    assert c2c == sorted(c2c)


def test_every_latency_is_a_published_row_or_a_ranged_assumption():
    rows = _c2c_rows()
    m = M.get("amd-epyc-7601-2s")
    for lv in m.levels:
        if lv.source.startswith("assumption"):
            lo, hi = (float(x) for x in re.search(r"range (\d+)-(\d+) ns", lv.source).groups())
            assert lo <= lv.c2c_ns <= hi
            continue
        model = re.search(r"c2c_latency\.csv: (.+?) \(Zen1\) (\w+) median", lv.source)
        assert model, lv.source
        hits = [r for (cpu, cls), r in rows.items()
                if cpu.startswith(model.group(1)) and cls == model.group(2)]
        assert len(hits) == 1, lv.source
        assert float(hits[0]["latency_ns"]) == lv.c2c_ns
        assert hits[0]["source_url"].startswith("https://")


def test_decide_json_on_epyc7601_memcg_stock_for_any_dirty_fraction(capsys):
    import json
    import math

    import polars as pl

    from pwmodel import cli
    from pwmodel.evaluate import Scenario, evaluate
    keys = {"n_cpus", "qw_ns", "rl_ns", "qw_low_ns", "qw_high_ns", "rl_low_ns", "rl_high_ns",
            "winner"}
    m = M.get("amd-epyc-7601-2s")
    for f in (1e-9, 0.01, 0.37, 1.0):
        assert cli.main(["decide", "--machine", "amd-epyc-7601-2s", "--callsite", "memcg_stock",
                         "--n-cpus", "128", "--param", f"dirty_fraction={f}", "--json"]) == 0
        out = json.loads(capsys.readouterr().out)
        (row,) = out["rows"]
        assert keys <= set(row) and row["n_cpus"] == 128
        assert {"n_cpus", "low", "high"} <= set(out["crossover"])
        df = evaluate(Scenario(m, callsite="memcg_stock", overrides={"dirty_fraction": f}), [128])
        qw = df.filter(pl.col("strategy") == "QW")["requester_mean_ns"][0]
        assert math.isclose(row["qw_ns"], qw, rel_tol=1e-9)
        assert row["qw_low_ns"] <= row["qw_ns"] <= row["qw_high_ns"]
