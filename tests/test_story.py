"""The story a reader sees: executed notebooks (full size) print formatted numbers only,
their readings agree with their tables, and N* is the same on every surface.

Surfaces compared for N* (every bundled machine and isolation level): notebook 01 (run
once per machine, PWMODEL_MACHINE), notebook 05's crossover table, the explorer's
summary, the cover letter's answer table and ``pwmodel decide``.
"""

from __future__ import annotations

import contextlib
import html
import io
import re
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
pytest.importorskip("nbclient")

from pwmodel import fmt  # noqa: E402
from pwmodel import machine as M  # noqa: E402
from pwmodel.models import wakeup as W  # noqa: E402

from nbrun import INLINE, NB_DIR, NOTEBOOKS, environ, execute  # noqa: E402

# the notebooks executed once (module fixture) serve every test here: one worker under xdist
pytestmark = pytest.mark.xdist_group("story")

RAW = "# raw data"          # cells whose tables are raw rows (published or parsed), not model output
FLOAT = re.compile(r"(?<![\w.])-?(\d+\.\d+)(?:e[+-]?\d+)?(?![\w.])")
BAD = re.compile(r"(?<![\w-])(inf|-inf|nan|NaN)(?![\w-])")
NSTAR = re.compile(r"N\* = (> \d+|none|\d+)")


def _execute(path: Path, env: dict[str, str]) -> "nbformat.NotebookNode":
    # full size (PWMODEL_SMALL unset)
    with environ(PWMODEL_SMALL=None, MPLBACKEND=INLINE, **env):
        return execute(nbformat.read(path, as_version=4), timeout=600)


@pytest.fixture(scope="module")
def executed() -> dict[str, "nbformat.NotebookNode"]:
    return {p.name[:2]: _execute(p, {}) for p in NOTEBOOKS}


def _texts(cell) -> list[str]:
    out = []
    for o in cell.get("outputs", []):
        data = o.get("data", {})
        for kind in ("text/plain", "text/html", "text/markdown"):
            if kind in data:
                out.append(str(data[kind]))
        if "text" in o:
            out.append(str(o["text"]))
    return out


def _sig(tok: str) -> int:
    return len(tok.replace(".", "").replace("-", "").lstrip("0"))


@pytest.mark.parametrize("key", [p.name[:2] for p in NOTEBOOKS])
def test_outputs_have_no_long_floats_and_no_inf_or_nan(executed, key):
    nb = executed[key]
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or RAW in cell.source:
            continue
        for text in _texts(cell):
            text = re.sub(r"<style.*?</style>", "", text, flags=re.S)
            text = html.unescape(re.sub(r"<[^>]+>", " ", text))
            for m in FLOAT.finditer(text):
                assert _sig(m.group(1)) <= 4, f"{key} cell {i}: '{m.group()}' has more than 4 " \
                                              f"significant digits: ...{text[max(m.start() - 60, 0):m.end() + 20]}"
            bad = BAD.search(text)
            assert not bad, f"{key} cell {i} shows '{bad.group()}': ...{text[max(bad.start() - 80, 0):bad.end() + 20]}"


# ---- readings against their tables -----------------------------------------------------
def _parse_time(s: str) -> float:
    num, unit = s.split()
    return float(num) * {"ns": 1, "us": 1e3, "ms": 1e6, "s": 1e9}[unit]


def _cell_with(nb, needle: str):
    return next(c for c in nb.cells if c.cell_type == "code" and needle in c.source)


def test_notebook_01_reading_matches_its_tables(executed):
    nb = executed["01"]
    costs = " ".join(_texts(_cell_with(nb, "qw_victim_worst_ns")))
    reading = " ".join(_texts(_cell_with(nb, "answer_reading")))
    assert "Victim interruption" in reading
    for t in re.findall(r"\d+(?:\.\d+)? (?:ns|us|ms)\b", reading):
        assert t in costs, f"reading quotes {t}, not in the costs table"
    m = re.search(r"RL's worst interruption per drain is at most (\S+ \S+)", reading)
    col = re.findall(r"(\d+(?:\.\d+)? (?:ns|us|ms))", costs)
    assert m and _parse_time(m.group(1)) <= max(_parse_time(c) for c in col)


def test_notebook_04_reading_claims_follow_their_tables(executed):
    nb = executed["04"]
    cell = _cell_with(nb, "wake_reading")
    texts = _texts(cell)
    if not any("measured median" in t for t in texts):
        pytest.skip("no measured data present")
    reading = next(t for t in texts if "measured median" in t)
    for m in re.finditer(r"measured median (\S+ \S+) \(n = \d+\) against (\S+ \S+) for the "
                         r"model \S+: ([^;]+);", reading):
        meas, model, claim = _parse_time(m.group(1)), _parse_time(m.group(2)), m.group(3)
        r = meas / model
        if "within" in claim:
            assert 0.8 <= r <= 1.25, m.group()
        elif "above" in claim:
            assert r > 1.25, m.group()
            assert "several times" not in claim
        elif "below" in claim:
            assert r < 0.8, m.group()
    assert "several times the model" not in " ".join(" ".join(_texts(c)) + c.source
                                                    for c in nb.cells)
    load = " ".join(_texts(_cell_with(nb, "target_load")))
    if "idle" in load:
        assert "not a C-state" in load


# ---- N* agreement -----------------------------------------------------------------------
def _table_cells(html_text: str) -> list[list[str]]:
    rows = []
    for tr in re.findall(r"<tr>(.*?)</tr>", html_text, flags=re.S):
        cells = [html.unescape(re.sub(r"<[^>]+>", "", c)).strip().strip('"')
                 for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", tr, flags=re.S)]
        rows.append(cells)
    return rows


def _html(cell) -> str:
    return next(o["data"]["text/html"] for o in cell.outputs if "text/html" in o.get("data", {}))


def _default_machine(nb) -> str:
    """The machine notebook 01 models when PWMODEL_MACHINE is not set, as its source reads it
    and as its output shows it."""
    cell = _cell_with(nb, "PWMODEL_MACHINE")
    name = re.search(r'os\.environ\.get\("PWMODEL_MACHINE", "([^"]+)"\)', cell.source).group(1)
    assert M.get(name).summary() in " ".join(_texts(cell)), name
    return name


def test_n_star_is_the_same_on_every_surface(executed):
    from pwmodel import cli
    from pwmodel.notebook import WhatIfState, whatif
    from pwmodel.report import cover, results as R
    machines = [m.name for m in M.bundled()]
    isos = list(W.ISOLATION)
    seen: dict[tuple[str, str], dict[str, str]] = {(m, i): {} for m in machines for i in isos}
    # notebook 05: machine x isolation pivot of n_star
    rows = _table_cells(_html(_cell_with(executed["05"], 'values="n_star"')))
    head = next(r for r in rows if "machine" in r)
    for r in rows:
        if r and r[0] in machines:
            for iso, val in zip(head[1:], r[1:]):
                seen[(r[0], iso)]["notebook 05"] = val
    # notebook 01, once per machine: the run without PWMODEL_MACHINE (the fixture's) is the
    # run for the notebook's default machine, which its first output names
    default = _default_machine(executed["01"])
    for m in machines:
        nb = (executed["01"] if m == default
              else _execute(NB_DIR / "01_the_answer.ipynb", {"PWMODEL_MACHINE": m}))
        for r in _table_cells(_html(_cell_with(nb, '"n_star", "strategy"'))):
            if r and r[0] in isos:
                seen[(m, r[0])]["notebook 01"] = r[2]
    # explorer summary, pwmodel decide
    for m in machines:
        for iso in isos:
            s = whatif(WhatIfState(machine=m, isolation=iso, n_cpus=M.get(m).n_cpus))
            seen[(m, iso)]["explorer"] = NSTAR.search(s.summary).group(1)
            buf = io.StringIO()
            with contextlib.redirect_stdout(buf):
                cli.main(["decide", "--machine", m, "--isolation", iso, "--draws", "0"])
            line = next(ln for ln in buf.getvalue().splitlines() if ln.startswith("crossover N*: "))
            seen[(m, iso)]["decide"] = re.match(r"crossover N\*: (> \d+|none|\d+)", line).group(1)
    # cover letter: the answer section's table
    text, _ = cover.build_cover(R.Config(machines=tuple(machines), text_only=True))
    answer = text.split("Per machine and isolation level", 1)[1].split("\nQ1.", 1)[0]
    blocks = [b for b in answer.split("\n\n") if "isolation" in b and "---" in b]
    col = 0
    for b in blocks:
        lines = [ln for ln in b.splitlines() if ln.strip()]
        ncols = len(re.findall(r"N\* ", lines[2]))
        for ln in lines[2:]:
            iso = ln.split()[0]
            for k, v in enumerate(re.findall(r"N\* (> \d+|none|\d+)", ln)):
                seen[(machines[col + k], iso)]["cover letter"] = v
        col += ncols
    for key, by in seen.items():
        assert len(by) == 5, f"{key}: only {sorted(by)} printed N*"
        assert len(set(by.values())) == 1, f"{key}: N* differs: {by}"
    assert fmt.N_MAX == 1024
