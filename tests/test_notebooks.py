"""The numbered notebooks: committed without outputs, and each runs top to bottom (small size)."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")

from nbrun import INLINE, NOTEBOOKS, environ, execute  # noqa: E402

# the notebooks executed once (module fixture) serve every test here: one worker under xdist
pytestmark = pytest.mark.xdist_group("notebooks")
EXPECTED = ("01", "02", "03", "04", "05", "06", "07")


def test_every_numbered_notebook_exists() -> None:
    prefixes = sorted(p.name[:2] for p in NOTEBOOKS)
    assert tuple(prefixes) == EXPECTED, f"expected notebooks {EXPECTED}, found {prefixes}"
    for p in NOTEBOOKS:
        assert re.fullmatch(r"0\d_[a-z0-9_]+\.ipynb", p.name), f"bad notebook name {p.name}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_committed_without_outputs(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        assert cell.get("outputs", []) == [], f"{path.name} cell {i} has outputs: clear them"
        assert cell.get("execution_count") is None, f"{path.name} cell {i} has an execution count"
        assert "execution" not in cell.get("metadata", {}), f"{path.name} cell {i} has timing metadata"
    assert "widgets" not in nb.metadata, f"{path.name} stores widget state: clear it"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_is_thin(path: Path) -> None:
    """Logic lives in pwmodel/: no function or class definitions in notebooks, short cells."""
    nb = nbformat.read(path, as_version=4)
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    assert code, f"{path.name} has no code"
    assert any("pwmodel" in s for s in code), f"{path.name} does not use the package"
    for s in code:
        assert not re.search(r"^\s*(def|class)\s", s, re.M), f"{path.name} defines logic:\n{s}"
        assert s.count("\n") < 40, f"{path.name} has a cell of {s.count(chr(10))} lines"
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# 0"), \
        f"{path.name} must open with its numbered title and question"


WORKERS = 2              # notebooks run two at a time (each in its own kernel)


def _run(path: Path) -> tuple["nbformat.NotebookNode", float]:
    pytest.importorskip("nbclient")
    t0 = time.perf_counter()
    nb = nbformat.read(path, as_version=4)
    try:
        execute(nb, timeout=120)
    except Exception as exc:  # reported per notebook below, with the cell's error
        nb.metadata["pwmodel_test_error"] = f"{type(exc).__name__}: {str(exc)[-3000:]}"
    return nb, time.perf_counter() - t0


@pytest.fixture(scope="module")
def executed() -> dict[str, object]:
    """Run every notebook once, small size, two at a time; wall time in ``_total_s``."""
    from concurrent.futures import ThreadPoolExecutor
    t0 = time.perf_counter()
    with environ(PWMODEL_SMALL="1", MPLBACKEND=INLINE), ThreadPoolExecutor(WORKERS) as ex:
        results = dict(zip([p.name for p in NOTEBOOKS], ex.map(_run, NOTEBOOKS)))
    return {**results, "_total_s": time.perf_counter() - t0}


def _outputs(nb: "nbformat.NotebookNode") -> list[dict]:
    return [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs(path: Path, executed: dict) -> None:
    nb, seconds = executed[path.name]
    assert "pwmodel_test_error" not in nb.metadata, f"{path.name}: {nb.metadata.get('pwmodel_test_error')}"
    outs = _outputs(nb)
    errors = [o for o in outs if o.get("output_type") == "error"]
    assert not errors, f"{path.name}: {errors[0].get('ename')}: {errors[0].get('evalue')}"
    text = "\n".join(str(o.get("data", {}).get("text/plain", "")) + str(o.get("text", ""))
                     for o in outs)
    assert "Traceback" not in text
    kinds = {k for o in outs for k in o.get("data", {})}
    if path.name[:2] != "07":
        assert "image/png" in kinds, f"{path.name} draws no figure"
        assert "text/html" in kinds, f"{path.name} shows no table"
    if path.name[:2] in ("01", "02", "03", "04", "05"):
        assert "text/latex" in kinds, f"{path.name} renders no symbolic result"
    if path.name[:2] == "07":
        assert "application/vnd.jupyter.widget-view+json" in kinds, "explorer widgets not displayed"
        assert "N = 64 CPUs" in text
