"""Parsers on real captured snippets (tests/fixtures/ingest, see SOURCES.md there)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from pwmodel.errors import PwmodelError
from pwmodel.ingest import detect_format, ingest, read
from pwmodel.ingest import derive
from pwmodel.ingest.ftrace import SCHEMA, parse_ftrace, parse_ftrace_text

FX = Path(__file__).parent / "fixtures" / "ingest"
TSC_HZ = 2_596_146_000.0

EXPECTED_FORMAT = {
    "ftrace_tracefs_local.txt": "ftrace", "ftrace_tracefs_x86tsc.txt": "ftrace",
    "tracecmd_report.txt": "ftrace", "tracecmd_report_t.txt": "ftrace",
    "tracecmd_report_x86tsc.txt": "ftrace", "cyclictest_hist.txt": "cyclictest",
    "oslat.txt": "oslat", "rtla_timerlat_top.txt": "timerlat-top", "rtla_osnoise_top.txt": "osnoise-top",
    "rtla_timerlat_hist.txt": "rtla-hist", "rtla_osnoise_hist.txt": "rtla-hist", "c2c_i7-6700K.csv": "c2c",
}


@pytest.mark.parametrize("name,fmt", sorted(EXPECTED_FORMAT.items()))
def test_detect_format(name, fmt):
    assert detect_format(FX / name) == fmt


def test_ftrace_tracefs_schema_and_values():
    df = parse_ftrace(FX / "ftrace_tracefs_local.txt")
    assert dict(df.schema) == SCHEMA
    events = sum(1 for ln in (FX / "ftrace_tracefs_local.txt").read_text().splitlines() if not ln.startswith("#"))
    assert df.height == events
    first = df.row(0, named=True)
    assert (first["comm"], first["pid"], first["cpu"], first["flags"]) == ("bash", 3934, 0, "...1.")
    assert first["ts_ns"] == 343_623_088_000 and first["event"] == "ipi_send_cpu"
    assert df["ts_ns"].is_sorted()
    marks = df.filter(pl.col("event") == "tracing_mark_write")["details"].to_list()
    assert marks == ["pwmodel begin 0", "pwmodel end 0"]
    assert set(df["comm"]) >= {"<idle>", "kworker/0:1", "bash"}


def test_tracecmd_report_matches_tracefs_capture():
    """trace-cmd report of the same capture gives the same events (us vs ns precision)."""
    a = parse_ftrace(FX / "ftrace_tracefs_local.txt")
    b = parse_ftrace(FX / "tracecmd_report.txt")
    c = parse_ftrace(FX / "tracecmd_report_t.txt")
    assert a.height == b.height == c.height
    assert a["event"].to_list() == b["event"].to_list() == c["event"].to_list()
    assert a["ts_ns"].to_list() == b["ts_ns"].to_list()
    assert ((c["ts_ns"] - a["ts_ns"]).abs() <= 1000).all()
    assert set(b["instance"]) == {"probe"} and a["instance"].null_count() == a.height


def test_x86_tsc_needs_frequency():
    raw = parse_ftrace(FX / "ftrace_tracefs_x86tsc.txt")
    assert raw["ts_ns"].null_count() == raw.height
    assert raw["ts_raw"].min() > 10**11
    with pytest.raises(PwmodelError, match="counter ticks"):
        derive.work_lifecycle(raw)
    df = parse_ftrace(FX / "ftrace_tracefs_x86tsc.txt", tsc_hz=TSC_HZ)
    assert (df["ts_ns"] - (df["ts_raw"] / (TSC_HZ / 1e9)).round(0).cast(pl.Int64)).abs().max() == 0


def test_lifecycle_of_stat_refresh_capture():
    lc = ingest(FX / "tracecmd_report_t.txt")
    refresh = lc.filter(pl.col("function") == "refresh_vm_stats").sort("target_cpu")
    assert refresh["target_cpu"].to_list() == [0, 1]
    assert (refresh["window"] == "0").all()
    assert (refresh["queue_to_start_ns"] > 0).all()
    assert (refresh["queue_to_end_ns"] == refresh["queue_to_start_ns"] + refresh["exec_ns"]).all()
    assert refresh.filter(pl.col("target_cpu") == 1)["ipi_send_ts_ns"].is_not_null().all()
    win = derive.requester_windows(parse_ftrace(FX / "tracecmd_report_t.txt"))
    assert win.height == 1 and win["duration_ns"][0] == 233_085
    assert win["drain_ns"][0] <= win["duration_ns"][0]


def test_victim_gaps_classification():
    ev = parse_ftrace(FX / "ftrace_tracefs_local.txt")
    start = ev.filter(pl.col("event") == "workqueue_execute_start").filter(pl.col("cpu") == 1)["ts_ns"][0]
    gaps = pl.DataFrame({"cpu": [1, 1], "gap_start_ts_ns": [start - 10, 1], "gap_end_ts_ns": [start + 10, 2]})
    vg = derive.victim_gaps(gaps, ev).sort("gap_start_ts_ns")
    assert vg["cause"].to_list() == ["none", "work"]
    assert vg["work_function"][1] == "refresh_vm_stats"
    assert vg["gap_ns"].to_list() == [1, 20]


def test_cyclictest_histogram_matches_totals():
    h = read(FX / "cyclictest_hist.txt")
    from pwmodel.ingest import parse_cyclictest_summary
    s = parse_cyclictest_summary(FX / "cyclictest_hist.txt")
    per = h.group_by("thread").agg(pl.col("count").sum()).sort("thread")
    # cyclictest's "# Total" counts the histogram buckets; overflows are reported apart
    assert per["count"].to_list() == s["samples"].to_list()
    assert s["overflows"].to_list() == [2, 28]
    assert s["max_ns"].to_list() == [808_000, 6_113_000]
    assert h["latency_ns"].max() < 200_000


def test_oslat():
    h = read(FX / "oslat.txt")
    from pwmodel.ingest import parse_oslat_summary
    s = parse_oslat_summary(FX / "oslat.txt")
    assert set(h["cpu"]) == {1}
    assert h.filter(pl.col("includes_overflow"))["latency_ns"].to_list() == [32_000]
    assert s.row(0, named=True) == {"cpu": 1, "min_ns": 1000, "avg_ns": 1000, "max_ns": 2_898_000,
                                    "duration_ns": 2_998_000_000}


def test_rtla_outputs():
    h = read(FX / "rtla_timerlat_hist.txt")
    from pwmodel.ingest import parse_rtla_hist_summary
    s = parse_rtla_hist_summary(FX / "rtla_timerlat_hist.txt")
    tot = h.group_by(["cpu", "context"]).agg(pl.col("count").sum())
    j = tot.join(s, on=["cpu", "context"])
    assert j.height == 4 and (j["count"] == j["samples"]).all()
    assert s.filter((pl.col("cpu") == 1) & (pl.col("context") == "thread"))["max_ns"][0] == 58_000
    top = read(FX / "rtla_timerlat_top.txt")
    assert top.height == 23 and top.filter(pl.col("cpu") == 23)["thread_max_ns"][0] == 41_000
    osn = read(FX / "rtla_osnoise_top.txt")
    assert osn["runtime_ns"].to_list() == [53_100_000_000] * 4
    assert osn["cpu_available_pct"][0] == pytest.approx(99.4258)
    oh = read(FX / "rtla_osnoise_hist.txt")
    assert set(oh["context"]) == {"noise"} and oh["cpu"].n_unique() == 12


def test_c2c_matrix():
    df = read(FX / "c2c_i7-6700K.csv")
    assert df.height == 28  # 8 CPUs, lower triangle
    assert (df["cpu_a"] > df["cpu_b"]).all()
    smt = df.filter(pl.col("latency_ns") < 10)
    assert sorted(zip(smt["cpu_a"], smt["cpu_b"])) == [(1, 0), (3, 2), (5, 4), (7, 6)]


def test_unit_table_converts_to_ns(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("cpu,latency_us,rate_khz,note\n0,1.5,2,a\n1,3,4,b\n")
    df = read(p)
    assert df.columns == ["cpu", "latency_ns", "rate_hz", "note"]
    assert df["latency_ns"].to_list() == [1500.0, 3000.0] and df["rate_hz"].to_list() == [2000, 4000]
    pq = tmp_path / "t.parquet"
    df.write_parquet(pq)
    assert read(pq).equals(df)
    bad = tmp_path / "bad.csv"
    bad.write_text("cpu,latency\n0,1\n")
    with pytest.raises(PwmodelError) as ei:
        read(bad, "table")
    assert ei.value.file == str(bad) and ei.value.field == "latency"


def test_errors_name_file_and_line(tmp_path):
    p = tmp_path / "t.txt"
    good = (FX / "ftrace_tracefs_local.txt").read_text().splitlines()
    p.write_text("\n".join(good[:20] + ["this is not an event"] + good[20:]) + "\n")
    with pytest.raises(PwmodelError) as ei:
        parse_ftrace(p)
    assert ei.value.file == str(p) and ei.value.line == 21
    assert parse_ftrace(p, strict=False).height == len([g for g in good if not g.startswith("#")])
    c = tmp_path / "c.txt"
    c.write_text("# Histogram\n000000 000001 000002\n000001 000003\n")
    with pytest.raises(PwmodelError) as ei:
        read(c, "cyclictest")
    assert ei.value.line == 3
    with pytest.raises(PwmodelError, match="unknown format"):
        read(_write(tmp_path, "hello world\n"))


def _write(tmp_path, text):
    p = tmp_path / "x.txt"
    p.write_text(text)
    return p


def test_empty_trace_gives_empty_frame():
    assert parse_ftrace_text("# tracer: nop\n#\n").height == 0
    assert derive.work_lifecycle(parse_ftrace_text("")).height == 0


def test_lost_events_rows():
    text = ("            bash-1  [000] ...1.   1.000001: ipi_send_cpu: cpu=1\n"
            "CPU:1 [LOST 12 EVENTS]\n"
            "            bash-1  [001] ...1.   1.000002: ipi_send_cpu: cpu=0\n")
    df = parse_ftrace_text(text)
    lost = df.filter(pl.col("event") == "lost_events")
    assert lost["details"].to_list() == ["12"] and lost["cpu"].to_list() == [1] and lost["line"].to_list() == [2]
