"""The README's two set-up commands stay true: CI runs the README's test command."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _indented_commands(text: str) -> list[str]:
    return [ln.strip() for ln in text.splitlines() if ln.startswith("    ") and ln.strip()]


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    setup = readme.split("## Set-up: two commands", 1)[1].split("\n## ", 1)[0]
    cmds = _indented_commands(setup)
    assert len(cmds) == 2, cmds
    main, tests = cmds
    main_script = (ROOT / main.split()[-1]).read_text()
    assert "pip install" in main_script and "pwmodel report" in main_script
    ci = (ROOT / ".ci" / "run").read_text()
    assert tests in [ln.strip() for ln in ci.splitlines()], (tests, ci)
    script = (ROOT / tests.split()[-1]).read_text()
    assert "pip install" in script and "pytest" in script
