"""validate --published: predictions from registry values only, roles stated, docs current."""

from __future__ import annotations

import math
from pathlib import Path

import polars as pl

from pwmodel import cli, published
from pwmodel import params as P

ROOT = Path(__file__).resolve().parents[1]


def test_docs_table_is_the_commands_output():
    assert (ROOT / "docs" / "published.md").read_text() == published.markdown()


def test_fast_path_predictions_are_reference_plus_registry_tax():
    df = published.table()
    d = P.defaults().values
    cyc = d["freq_hz"] * 1e-9
    row = df.filter(pl.col("source").str.contains("CONFIG_PREEMPT_DYNAMIC=y, patched, CONFIG_QPW=y, qpw=1"))
    want = 60 + (d["per_cpu_ptr_ns"] + d["static_key_ns"] + d["atomic_rmw_ns"]) * cyc
    assert math.isclose(row["predicted"][0], want, rel_tol=1e-12)
    assert math.isclose(row["error_pct"][0], (want / 75 - 1) * 100, rel_tol=1e-12)


def test_rows_that_set_parameters_are_not_counted_and_are_cited_by_them():
    df = published.table()
    setting = df.filter(pl.col("role") == "sets parameter")
    assert setting.height >= 3
    assert setting["error_pct"].is_nan().all() and setting["predicted"].is_nan().all()
    for names in setting["model"]:
        for name in (n.strip() for n in names.split(",")):
            src = P.PARAMS[name].source + P.PARAMS[name].range_source
            assert "pw_series_numbers.csv" in src, name
    pred = df.filter(pl.col("role") == "prediction")
    assert pred.height >= 10
    # every finite prediction has an error; a miss over 5 % names a mechanism
    for r in pred.iter_rows(named=True):
        if math.isfinite(r["predicted"]):
            assert math.isfinite(r["error_pct"])
            if abs(r["error_pct"]) > 5:
                assert r["mechanism"], r["source"]
    hung = pred.filter(pl.col("quantity") == "requester latency")
    assert math.isinf(hung["predicted"][0])


def test_cli_prints_and_writes(tmp_path, capsys):
    out = tmp_path / "p.md"
    assert cli.main(["validate", "--published", "--out", str(out)]) == 0
    assert "predicted" in capsys.readouterr().out
    assert out.read_text() == published.markdown()
