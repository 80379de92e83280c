"""Property tests: arbitrary or truncated input gives a frame or a PwmodelError naming the file."""

from __future__ import annotations

import tempfile
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pwmodel.errors import PwmodelError
from pwmodel.ingest import FORMATS, read
from pwmodel.ingest.derive import requester_windows, work_lifecycle

FX = Path(__file__).parent / "fixtures" / "ingest"
FIXTURES = sorted(p for p in FX.iterdir() if p.suffix in (".txt", ".csv"))
LINE_FORMATS = ("ftrace", "cyclictest", "oslat", "rtla-hist", "timerlat-top", "osnoise-top", "c2c")
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _check(path: Path, fmt: str | None) -> pl.DataFrame | None:
    try:
        df = read(path, fmt, tsc_hz=2.5e9)
    except PwmodelError as exc:
        assert exc.file == str(path), exc
        assert str(path) in str(exc)
        return None
    assert isinstance(df, pl.DataFrame)
    if fmt in (None, "ftrace") and "event" in df.columns:
        lc = work_lifecycle(df)  # derived tables must not crash either
        requester_windows(df, lc)
    return df


def _tmp(data: bytes, suffix: str = ".txt") -> Path:
    d = Path(tempfile.mkdtemp(prefix="pwmodel-fuzz-"))
    p = d / f"input{suffix}"
    p.write_bytes(data)
    return p


@SETTINGS
@given(data=st.binary(max_size=2000), fmt=st.sampled_from((None, *FORMATS)))
def test_arbitrary_bytes(data, fmt):
    _check(_tmp(data), fmt)


ftrace_like = st.lists(st.one_of(
    st.text(max_size=80),
    st.builds(lambda c, p, cpu, ts, ev, d: f"{c}-{p} [{cpu:03d}] ...1. {ts}: {ev}: {d}",
              st.text(min_size=1, max_size=12), st.integers(0, 10**12), st.integers(0, 9999),
              st.one_of(st.floats(0, 1e9, allow_nan=False).map(lambda x: f"{x:.6f}"),
                        st.integers(0, 10**20).map(str)),
              st.sampled_from(["workqueue_queue_work", "workqueue_execute_start", "workqueue_execute_end",
                               "tracing_mark_write", "ipi_send_cpu", "sched_switch", "x"]),
              st.text(max_size=60)),
), max_size=40)


@SETTINGS
@given(lines=ftrace_like, fmt=st.sampled_from(LINE_FORMATS))
def test_line_shaped_text(lines, fmt):
    _check(_tmp("\n".join(lines).encode("utf-8", "replace")), fmt)


@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda p: p.name)
@SETTINGS
@given(frac=st.floats(0, 1))
def test_truncated_fixture(fixture, frac):
    data = fixture.read_bytes()
    cut = data[: int(len(data) * frac)]
    p = _tmp(cut, fixture.suffix)
    try:
        read(p, None, tsc_hz=2.5e9)
    except PwmodelError as exc:
        assert exc.file == str(p)
        # a cut in the middle of an event line is reported at that line
        if exc.line is not None:
            assert 1 <= exc.line <= cut.count(b"\n") + 1


@pytest.mark.parametrize("fixture", [p for p in FIXTURES if p.name.startswith(("ftrace", "tracecmd"))],
                         ids=lambda p: p.name)
def test_truncated_trace_reports_line(fixture):
    lines = fixture.read_text().splitlines()
    last = max(i for i, ln in enumerate(lines) if ": " in ln and not ln.startswith("#"))
    text = "\n".join(lines[:last] + [lines[last][: len(lines[last]) // 3]])
    p = _tmp(text.encode())
    with pytest.raises(PwmodelError) as ei:
        read(p, "ftrace")
    assert ei.value.file == str(p) and ei.value.line == last + 1
