"""What a fresh machine lacks, tried here without removing anything from this one.

CI (``.ci/run``) runs the suite in a clean clone (no ``.venv``) with tracefs unmounted in a
private mount namespace. What it cannot take away is chromium, which ``scripts/test.sh``
installs when it can: the browser test's skip path is run here with a PATH that has none.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _path_without(program: str) -> str:
    keep = [d for d in os.environ.get("PATH", "").split(os.pathsep)
            if d and not (Path(d) / program).exists()]
    return os.pathsep.join(keep + [str(Path(sys.executable).parent)])


def test_browser_test_skips_and_says_how_to_enable_it_without_chromium(tmp_path):
    env = {**os.environ, "PATH": _path_without("chromium"),
           "PWMODEL_CHROMIUM": str(tmp_path / "no-chromium"), "PYTHONPATH": str(ROOT)}
    assert shutil.which("chromium", path=env["PATH"]) is None
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider",
                        str(ROOT / "tests" / "test_notebook_browser.py")],
                       capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    out = r.stdout + r.stderr
    assert r.returncode == 0, out[-2000:]
    assert "skipped" in out and "failed" not in out and "error" not in out.lower(), out[-2000:]
    assert "chromium not installed" in out and "apt-get install -y chromium" in out, out[-2000:]


def test_ci_runs_the_suite_in_a_fresh_clone_with_tracefs_unmounted():
    """The CI script clones the commit (no .venv, no outputs) and unmounts tracefs in a
    private mount namespace before running the README's test command there."""
    ci = (ROOT / ".ci" / "run").read_text()
    assert "git clone" in ci and "checkout" in ci
    assert "unshare --mount --propagation private" in ci
    assert "umount" in ci and "/sys/kernel/tracing" in ci
    assert "bash scripts/test.sh" in [ln.strip() for ln in ci.splitlines()]
    r = subprocess.run(["bash", "-n", str(ROOT / ".ci" / "run")], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr

