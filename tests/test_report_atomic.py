"""The report folder is replaced whole: an interrupted run leaves the previous report, files
pwmodel did not write stay, and --text-only removes an earlier report's figures (stated rule:
the folder ends up with exactly the files of this report, plus the user's own files)."""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import signal
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from pwmodel.report import build as B  # noqa: E402
from pwmodel.report import results as R  # noqa: E402
from pwmodel.report.text import Recorder  # noqa: E402


def _tree(d: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(d.iterdir())}


@pytest.fixture(params=["never", "always"])
def fake(stand_ins, monkeypatch, request):
    """:func:`stand_ins`, the figures drawn here and in a second process."""
    monkeypatch.setattr(B, "FIGURE_PROCESS", request.param)
    return stand_ins


@pytest.fixture
def stand_ins(monkeypatch):
    """Small stand-ins for the text and figure builders (the install logic is under test)."""
    monkeypatch.setattr(R, "crossover_keys", lambda cfg: [])   # (the stand-ins use none)
    state = {"version": "one", "fail_at": None}

    def texts(cfg):
        def make(name):
            def fn():
                if state["fail_at"] == name:
                    raise KeyboardInterrupt
                if state.get("child_drew"):            # the figure process has taken one
                    for _ in range(600):
                        if state["child_drew"].exists():
                            break
                        time.sleep(0.1)
                return f"{name} {state['version']}\n", Recorder()
            return fn
        return [("cover-letter.txt", make("cover-letter.txt")), ("table.txt", make("table.txt"))]

    def figs(cfg):
        def make(stem):
            def fn():
                if state["fail_at"] == stem:
                    raise KeyboardInterrupt
                if os.getpid() != state.get("parent", os.getpid()):    # in the figure process
                    state["child_drew"].touch()
                    if state.get("child_error"):
                        raise state["child_error"]
                    if state.get("kill"):
                        os.kill(os.getpid(), signal.SIGKILL)
                fig, ax = plt.subplots(figsize=(1, 1))
                ax.set_title(state["version"])
                return fig
            return fn
        return [("breakdown", make("breakdown")), ("sensitivity", make("sensitivity"))]

    monkeypatch.setattr(B, "text_specs", texts)
    monkeypatch.setattr(B, "figure_specs", figs)
    return state


def test_interrupted_rebuild_leaves_the_previous_report(fake, tmp_path):
    out = tmp_path / "report"
    B.build(R.Config(machines=("intel-xeon-8375c-2s",)), out)
    (out / "notes.txt").write_text("mine")
    before = _tree(out)
    assert {"cover-letter.txt", "table.txt", "breakdown.png", "breakdown.svg"} <= set(before)
    for where in ("table.txt", "sensitivity"):
        fake.update(version="two", fail_at=where)
        with pytest.raises(KeyboardInterrupt):
            B.build(R.Config(machines=("intel-xeon-8375c-2s",)), out)
        assert _tree(out) == before, where
        assert sorted(p.name for p in tmp_path.iterdir()) == ["report"], "temporary folder left"


def test_rebuild_replaces_whole_and_keeps_user_files(fake, tmp_path):
    out = tmp_path / "report"
    B.build(R.Config(machines=("intel-xeon-8375c-2s",)), out)
    fake.update(version="two")
    rep = B.build(R.Config(machines=("intel-xeon-8375c-2s",)), out)
    assert (out / "table.txt").read_text() == "table.txt two\n"
    assert all(p.exists() for p in rep.files)
    (out / "notes.txt").write_text("mine")
    fake.update(version="three")
    B.build(R.Config(machines=("intel-xeon-8375c-2s",), text_only=True), out)
    names = {p.name for p in out.iterdir()}
    assert "notes.txt" in names and (out / "notes.txt").read_text() == "mine"
    assert not any(n.endswith((".png", ".svg")) for n in names), names   # the stated rule
    assert B.INCOMPLETE not in names
    assert (out / "cover-letter.txt").read_text() == "cover-letter.txt three\n"


def test_text_only_into_a_pure_report_folder_drops_its_figures(fake, tmp_path):
    out = tmp_path / "report"
    B.build(R.Config(machines=("intel-xeon-8375c-2s",)), out)
    B.build(R.Config(machines=("intel-xeon-8375c-2s",), text_only=True), out)
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["cover-letter.txt", "table.txt", B.MANIFEST])


def _no_child_left() -> None:
    assert not multiprocessing.active_children()


def test_a_figure_failing_in_the_figure_process_raises_here(stand_ins, tmp_path, monkeypatch):
    monkeypatch.setattr(B, "FIGURE_PROCESS", "always")
    out = tmp_path / "report"
    B.build(R.Config(machines=("intel-xeon-8375c-2s",)), out)
    before = _tree(out)
    stand_ins.update(version="two", child_error=ValueError("no such panel"), parent=os.getpid(),
                     child_drew=tmp_path / "drew")
    with pytest.raises(ValueError, match="no such panel") as info:
        B.build(R.Config(machines=("intel-xeon-8375c-2s",)), out)
    assert "no such panel" in str(info.value.__cause__)     # the child's traceback comes along
    assert "Traceback" in str(info.value.__cause__)
    assert _tree(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["drew", "report"], "temporary folder left"
    _no_child_left()


def test_a_killed_figure_process_is_a_clear_error(stand_ins, tmp_path, monkeypatch):
    monkeypatch.setattr(B, "FIGURE_PROCESS", "always")
    out = tmp_path / "report"
    stand_ins.update(kill=True, parent=os.getpid(), child_drew=tmp_path / "drew")
    with pytest.raises(B.FigureProcessError, match="ended unexpectedly"):
        B.build(R.Config(machines=("intel-xeon-8375c-2s",)), out)
    assert [p.name for p in tmp_path.iterdir()] == ["drew"], "files left"
    _no_child_left()


def test_figure_process_gives_the_same_files(stand_ins, tmp_path, monkeypatch):
    cfg = R.Config(machines=("intel-xeon-8375c-2s",))
    monkeypatch.setattr(B, "FIGURE_PROCESS", "never")
    rep = B.build(cfg, tmp_path / "a")
    monkeypatch.setattr(B, "FIGURE_PROCESS", "always")
    other = B.build(cfg, tmp_path / "b")
    assert _tree(tmp_path / "a") == _tree(tmp_path / "b")
    assert [p.name for p in rep.files] == [p.name for p in other.files] == [
        "cover-letter.txt", "table.txt", "breakdown.png", "breakdown.svg", "sensitivity.png",
        "sensitivity.svg"]
    assert list(rep.axis_labels) == list(other.axis_labels) == ["breakdown", "sensitivity"]
    _no_child_left()
