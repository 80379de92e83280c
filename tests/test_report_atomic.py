"""The report folder is replaced whole: an interrupted run leaves the previous report, files
pwmodel did not write stay, and --text-only removes an earlier report's figures (stated rule:
the folder ends up with exactly the files of this report, plus the user's own files)."""

from __future__ import annotations

import hashlib
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


@pytest.fixture
def fake(monkeypatch):
    """Small stand-ins for the text and figure builders (the install logic is under test)."""
    state = {"version": "one", "fail_at": None}

    def texts(cfg):
        def make(name):
            def fn():
                if state["fail_at"] == name:
                    raise KeyboardInterrupt
                return f"{name} {state['version']}\n", Recorder()
            return fn
        return [("cover-letter.txt", make("cover-letter.txt")), ("table.txt", make("table.txt"))]

    def figs(cfg):
        def make(stem):
            def fn():
                if state["fail_at"] == stem:
                    raise KeyboardInterrupt
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
