"""RU and SKIP beside QW and RL: identities of their forms, what each objective can rank,
and decide's JSON."""

from __future__ import annotations

import json
import math

import numpy as np
import polars as pl

from pwmodel import cli, strategies as ST
from pwmodel import machine as M
from pwmodel.evaluate import Scenario, evaluate

EPYC = M.get("amd-epyc-7601-2s")


def _get(df: pl.DataFrame, s: str, col: str) -> np.ndarray:
    return df.filter(pl.col("strategy") == s).sort("n_cpus")[col].to_numpy()


def test_forms_and_their_identities():
    sc = Scenario(EPYC, "nohz_other", callsite="lru_add_drain")
    n = [2, 16, 128]
    df = ST.evaluate_all(sc, n)
    ps = sc.params()
    base = evaluate(sc, n)
    for s in ("QW", "RL"):               # QW and RL exactly as evaluate() gives them
        for c in ("requester_mean_ns", "victim_mean_ns", "cpu_load_cpus"):
            assert np.array_equal(_get(df, s, c), _get(base, s, c))
    d = ps["dirty_fraction"] * np.array(n, dtype=float)
    # RU = SKIP + one flag write per dirty CPU; SKIP never touches a target
    assert np.allclose(_get(df, "RU", "requester_mean_ns") - _get(df, "SKIP", "requester_mean_ns"),
                       d * EPYC.mean_c2c_ns(np.array(n, dtype=float)), rtol=1e-12)
    assert np.all(_get(df, "SKIP", "victim_worst_ns") == 0)
    assert np.allclose(_get(df, "SKIP", "stranded_bytes"), ps["batch_items"] * ps["item_bytes"])
    # RU's task pays the hot local drain at its next exit, no interrupt or switch
    assert np.allclose(_get(df, "RU", "victim_mean_ns"), ps["batch_items"] * ps["item_drain_ns"])
    assert np.all(_get(df, "RU", "victim_mean_ns") < _get(df, "QW", "victim_mean_ns"))
    assert np.allclose(_get(df, "RU", "dirty_window_ns"), 1e9 / ps["kernel_exit_rate_hz"])
    never = ST.evaluate_all(Scenario(EPYC, "nohz_other", overrides={"kernel_exit_rate_hz": 0.0}), [8])
    assert math.isinf(_get(never, "RU", "dirty_window_ns")[0])


def test_what_each_objective_can_rank():
    flush = Scenario(EPYC, "nohz_other", callsite="lru_add_drain")
    asyn = Scenario(EPYC, "nohz_other", callsite="memcg_stock")
    assert ST.applicable(flush, "requester_mean") == ("QW", "RL")
    assert ST.applicable(asyn, "requester_mean") == ("QW", "RL", "RU", "SKIP")
    assert ST.applicable(asyn, "requester_p99") == ("QW", "RL")
    assert ST.applicable(flush, "victim_mean") == ("QW", "RL", "RU", "SKIP")
    idle = Scenario(EPYC, "idle", callsite="memcg_stock")
    assert ST.applicable(idle, "cpu_time") == ("QW", "RL")
    assert set(ST.evaluate_all(idle, [8])["strategy"]) == {"QW", "RL"}
    iso = Scenario(EPYC, "isolcpus_other", callsite="memcg_stock")
    assert ST.applicable(iso, "cpu_time") == ("QW", "RL", "SKIP")
    for r in ST.ranking(asyn, "cpu_time", [8, 128]):
        vals = [r["values"][s] for s in r["order"]]
        assert vals == sorted(vals)


def test_decide_json_keeps_its_shape_and_adds_all_strategies(capsys):
    assert cli.main(["decide", "--machine", "amd-epyc-7601-2s", "--callsite", "memcg_stock",
                     "--n-cpus", "8,128", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["strategies"] == ["QW", "RL"]
    assert {"n_cpus", "qw_ns", "rl_ns", "winner"} <= set(out["rows"][0])
    al = out["all_strategies"]
    assert al["applicable"] == ["QW", "RL", "RU", "SKIP"]
    assert [r["n_cpus"] for r in al["rows"]] == [8, 128]
    assert al["rows"][0]["stranded_bytes"] > 0


def test_report_compares_all_four(tmp_path):
    out = tmp_path / "r"
    assert cli.main(["report", "--out", str(out), "--machine", "amd-epyc-7601-2s", "--callsite",
                     "memcg_stock", "--isolation", "nohz_other", "--text-only", "--quiet"]) == 0
    q8 = (out / "cover-letter.txt").read_text().split("Q8.")[1].split("Assumptions")[0]
    for s in ("QW", "RL", "RU", "SKIP"):
        assert f"\n  {s} " in q8
    assert "KiB left in each dirty isolated CPU" in " ".join(q8.split())
