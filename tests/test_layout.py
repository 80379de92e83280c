"""Package layout rules that a drifting copy would break: one meaning per module alias,
no import circle in pwmodel.fit, and docs/model.md generated from the model itself."""

from __future__ import annotations

import ast
import importlib
import importlib.util
import re
from pathlib import Path

import pwmodel

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted([*ROOT.joinpath("pwmodel").rglob("*.py"), *ROOT.joinpath("tests").glob("*.py"),
                  *ROOT.joinpath("benchmarks").glob("*.py")])


def _alias_table() -> dict[str, str]:
    """The table in pwmodel's docstring: alias -> module."""
    table = pwmodel.__doc__.split("Module aliases", 1)[1].split("``S``", 1)[0]
    return dict(re.findall(r"\b([A-Z]+)\s+(pwmodel[\w.]*)", table))


def _imports(path: Path):
    """(alias, full module name) of every ``import x as A`` / ``from y import x as A``."""
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("pwmodel"):
            for a in node.names:
                if a.asname:
                    yield a.asname, f"{node.module}.{a.name}"
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.asname and a.name.startswith("pwmodel"):
                    yield a.asname, a.name


def test_module_aliases_mean_one_thing():
    table = _alias_table()
    assert len(table) >= 20 and table["D"] == "pwmodel.dist" and "S" not in table
    wrong = []
    for path in SOURCES:
        for alias, mod in _imports(path):
            if not alias.isupper():
                continue
            try:
                is_module = hasattr(importlib.import_module(mod.rsplit(".", 1)[0]), "__path__") \
                    and importlib.util.find_spec(mod) is not None
            except ImportError:
                is_module = False
            if is_module and table.get(alias) != mod:
                wrong.append(f"{path.relative_to(ROOT)}: {mod} as {alias} "
                             f"(table: {table.get(alias, 'no such alias')})")
    assert not wrong, "\n".join(wrong)


def test_fit_result_and_fitting_do_not_import_each_other():
    def imported(name: str) -> set[str]:
        tree = ast.parse((ROOT / "pwmodel" / "fit" / f"{name}.py").read_text())
        return {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert "pwmodel.fit.distributions" not in imported("distresult")



def test_model_description_is_cited_in_the_repository():
    stale = [str(p.relative_to(ROOT)) for p in ROOT.joinpath("pwmodel").rglob("*")
             if p.suffix in (".py", ".toml") and "design/MODEL.md" in p.read_text()]
    assert not stale, stale
    assert (ROOT / "docs" / "model.md").exists()


def test_committed_model_description_matches_the_code():
    """docs/model.md is what pwmodel.modeldoc renders from the SymPy expressions now
    (regenerate with: python -m pwmodel.modeldoc)."""
    from pwmodel import modeldoc
    text = modeldoc.render()
    assert (ROOT / "docs" / "model.md").read_text() == text, \
        "docs/model.md is out of date with the model: run  python -m pwmodel.modeldoc  and commit it"
    for name in ("rl_mean_expr", "qw_mean_expr", "qw_p99_expr", "rl_victim_worst_expr"):
        assert f"`fanout.{name}`" in text


def test_model_and_decision_code_do_not_import_the_report():
    """The report builds on the model, the verdict and the readers, never the other way
    round (the verdict once read its budgets through pwmodel.report)."""
    wrong = []
    for path in sorted(ROOT.joinpath("pwmodel").rglob("*.py")):
        rel = path.relative_to(ROOT / "pwmodel").as_posix()
        if rel.startswith(("report/", "commands/")) or rel == "__init__.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            mods = ([node.module or ""] if isinstance(node, ast.ImportFrom)
                    else [a.name for a in node.names] if isinstance(node, ast.Import) else [])
            if isinstance(node, ast.ImportFrom) and node.module == "pwmodel":
                mods = [f"pwmodel.{a.name}" for a in node.names]
            wrong += [f"{rel}: imports {m}" for m in mods if m.startswith("pwmodel.report")]
    assert not wrong, "\n".join(wrong)
