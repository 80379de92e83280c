"""The dataset loader and the committed datasets' schemas and provenance."""

from __future__ import annotations

import polars as pl
import pytest

from pwmodel import data
from pwmodel.errors import PwmodelError

MEASURED = [n for n in data.list_datasets() if n.startswith("measured/")]


def test_reference_tables_keep_source_url():
    refs = [n for n in data.list_datasets() if n.startswith("reference/")]
    assert "reference/c2c_latency" in refs
    for name in refs:
        df = data.load(name)
        assert "source_url" in df.columns, name
        assert df["source_url"].null_count() == 0, name
        assert data.metadata(name)["dataset"] == name


def test_unknown_name_lists_known():
    with pytest.raises(PwmodelError) as ei:
        data.load("no_such_dataset")
    assert "reference/c2c_latency" in str(ei.value)


def test_env_override(tmp_path, monkeypatch):
    (tmp_path / "measured" / "x").mkdir(parents=True)
    pl.DataFrame({"cpu": [0], "latency_ns": [5]}).write_parquet(tmp_path / "measured" / "x" / "t.parquet")
    (tmp_path / "measured" / "x" / "metadata.json").write_text('{"machine": "m"}')
    monkeypatch.setenv("PWMODEL_DATA", str(tmp_path))
    assert data.list_datasets() == ["measured/x/t"]
    assert data.load("x/t")["latency_ns"].to_list() == [5]
    assert data.metadata("measured/x/t")["machine"] == "m"


@pytest.mark.skipif(not MEASURED, reason="no measured datasets committed")
@pytest.mark.parametrize("name", MEASURED)
def test_measured_dataset_metadata_and_units(name):
    df = data.load(name)
    meta = data.metadata(name)
    for key in ("machine", "kernel_release", "kernel_cmdline", "preempt_model", "date_utc", "command"):
        assert meta.get(key), (name, key)
    assert meta["command"].startswith("pwmodel collect")
    for c in df.columns:
        if c.endswith(("_ts", "_time", "_latency")):
            pytest.fail(f"{name}: column {c} has no unit")


def _lifecycle(state):
    name = f"measured/drain_migrate_pages_{state}/lifecycle"
    if name not in MEASURED:
        pytest.skip(f"{name} not collected")
    lc = data.load(name)
    return lc.filter((pl.col("function") == "lru_add_drain_per_cpu") & (pl.col("target_cpu") == 1)
                     & pl.col("window").is_not_null())


def test_starvation_is_visible_with_a_fifo_target():
    fifo = _lifecycle("fifo")["queue_to_start_ns"].drop_nulls()
    idle = _lifecycle("idle")["queue_to_start_ns"].drop_nulls()
    assert fifo.max() > 100_000_000  # some work items wait hundreds of ms
    assert idle.quantile(0.99) < 10_000_000
    assert fifo.quantile(0.5) > idle.quantile(0.5)
