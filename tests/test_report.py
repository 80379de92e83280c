"""pwmodel report: text layout, recorded numbers, determinism, figures."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

from pwmodel import cli
from pwmodel.report import build as B
from pwmodel.report import results as R
from pwmodel.report import text as T

# one built report (module fixture) serves every test here: one worker under xdist
pytestmark = pytest.mark.xdist_group("report")

MACHINES = ("intel-xeon-8375c-2s", "aws-graviton2-64c")
NUM = T.NUMBER


def report_cfg(**kw) -> R.Config:
    return R.Config(machines=MACHINES, **kw)


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> B.Report:
    with pytest.MonkeyPatch.context() as mp:     # the figures drawn in this process
        mp.setattr(B, "FIGURE_PROCESS", "never")
        return B.build(report_cfg(), tmp_path_factory.mktemp("report"))


# the command in a fresh process, saying whether its figures were drawn in a second one
RUN = ("import sys; from pwmodel.report import build as B; from pwmodel import cli\n"
       "init = B.Figures.__init__\n"
       "def spy(self, *a):\n"
       "    init(self, *a); print('figure process', self.proc is not None, file=sys.stderr)\n"
       "B.Figures.__init__ = spy\n"
       "sys.exit(cli.main(sys.argv[1:]))\n")


def _command(out, *args: str, **kw):
    import os
    import subprocess
    import sys
    env = {**os.environ, "PYTHONPATH": str(Path(B.__file__).parents[2])}
    argv = [sys.executable, "-c", RUN, "report", "--quiet", "--out", str(out), *args]
    return subprocess.Popen(argv, env=env, stderr=subprocess.PIPE, text=True, **kw)


def test_figure_process_gives_the_same_bytes(report, tmp_path):
    """A fresh ``pwmodel report`` draws the figures in a second process (forked before any
    polars query) while it writes the text: the same files, byte for byte, as here."""
    proc = _command(tmp_path / "r", *[a for m in MACHINES for a in ("--machine", m)])
    _, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err
    assert "figure process True" in err
    names = sorted(p.name for p in report.out_dir.iterdir())
    assert sorted(p.name for p in (tmp_path / "r").iterdir()) == names
    for n in names:
        assert (tmp_path / "r" / n).read_bytes() == (report.out_dir / n).read_bytes(), n


def test_ctrl_c_leaves_no_process_and_no_files(tmp_path):
    """Ctrl-C (SIGINT to the process group, as a terminal sends it) while both processes
    work: exit code 130, both processes gone, no output folder and no temporary folder."""
    import os
    import signal
    import time
    proc = _command(tmp_path / "r", "--machine", MACHINES[0], start_new_session=True)
    line = proc.stderr.readline()
    assert "figure process True" in line, line
    time.sleep(1.0)                                  # both at work
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "interrupted" in err
    with pytest.raises(ProcessLookupError):           # the figure process ended (and reaped)
        os.killpg(proc.pid, 0)
    assert not list(tmp_path.iterdir())


def _text_files(rep: B.Report) -> list[str]:
    return sorted(rep.texts)


def test_text_is_ascii_and_narrow(report):
    assert _text_files(report)
    for name in _text_files(report):
        raw = (report.out_dir / name).read_bytes()
        assert raw.isascii(), name
        for i, line in enumerate(raw.decode().splitlines(), 1):
            assert len(line) <= T.WIDTH, f"{name}:{i} has {len(line)} columns"


def test_recorded_numbers_recompute(report):
    R.clear_caches()
    for name in _text_files(report):
        rec = report.records[name]
        assert rec.nums, name
        for num in rec.nums:
            again = num.recompute()
            same = (T.render(again, num.scale, num.decimals) == num.printed
                    or (math.isfinite(again) and abs(again - num.value) <= 1e-9 * abs(num.value)))
            assert same, f"{name}: {num.fn.__name__}{num.args} printed {num.printed}, now {again}"
            assert T.render(num.value, num.scale, num.decimals) == num.printed


def test_every_number_in_text_is_accounted_for(report):
    for name in _text_files(report):
        rec = report.records[name]
        known = {n.printed for n in rec.nums} | rec.literals
        cont = False
        for i, line in enumerate(report.texts[name].splitlines(), 1):
            if line.startswith(T.QUOTE) or line.startswith(T.COMMAND) or cont:
                cont = line.endswith("\\")
                continue
            for tok in NUM.findall(line):
                assert tok in known, f"{name}:{i}: '{tok}' not from a recorded call: {line!r}"


def test_same_input_same_bytes(report, tmp_path):
    B.build(report_cfg(text_only=True), tmp_path)
    for name in _text_files(report):
        assert (tmp_path / name).read_bytes() == (report.out_dir / name).read_bytes(), name
    assert not list(tmp_path.glob("*.png"))


def test_figures_written_with_units(report):
    pngs = sorted(report.out_dir.glob("*.png"))
    svgs = sorted(report.out_dir.glob("*.svg"))
    assert pngs and len(pngs) == len(svgs)
    for p in pngs + svgs:
        assert p.stat().st_size > 1000, p
    for p in svgs:
        assert b"<dc:date>" not in p.read_bytes(), p


def test_figure_axes_have_units(report):
    assert set(report.axis_labels) == {stem for stem, _ in B.figure_specs(report_cfg())}
    for stem, labels in report.axis_labels.items():
        assert any(x for x, _ in labels) and any(y for _, y in labels), stem
        for xl, yl in labels:
            for lab in (xl, yl):
                if lab:
                    first = lab.splitlines()[0]
                    assert re.search(r"\([^()]+\)\s*$", first), f"{stem}: label {lab!r} lacks a unit"


def test_cli_bad_input_exits_2(tmp_path, capsys):
    assert cli.main(["report", "--out", str(tmp_path), "--machine", "no-such-box"]) == 2
    assert cli.main(["report", "--out", str(tmp_path), "--param", "ipi_ns=-5"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err and all(e.startswith("pwmodel: error:") for e in err)


def test_rl_victim_tail_has_the_model_mean():
    import numpy as np
    sc = R.scenario(MACHINES[0], "nohz_other")
    n = R.machine(MACHINES[0]).n_cpus
    x = np.linspace(0.0, 50_000.0, 500_001)
    mean = float(np.trapezoid(R.rl_victim_ccdf(sc, x, n), x))
    want = R.metric(MACHINES[0], "nohz_other", None, "lru_add_drain", (), n, "RL", "victim_mean_ns")
    assert mean == pytest.approx(want, rel=1e-4)
