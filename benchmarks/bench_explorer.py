"""Explorer latency: from a widget change to the updated summary and figure, in headless
Chromium, this tree against an older code path, side by side in one run.

    python benchmarks/bench_explorer.py [--old REV] [--rounds 2] [--no-old]

Runs the browser test (tests/test_notebook_browser.py: JupyterLab serves notebook 07,
all cells run, then the CPU-count slider, the objective, the isolation level and the
machine are changed one after the other) with ``$PWMODEL_LATENCY_OUT`` set, so the test
writes the in-page latency of each change (a MutationObserver: first input event to the
last of the new summary and the new figure). The old tree is ``git archive REV`` of
pwmodel/, data/, notebooks/ unpacked in a temporary folder, driven by *this* tree's test
(so both are measured the same way). Rounds of the two trees are interleaved. Prints
the median latency per widget, the ratio new/old and ``uptime`` before and after: on a
shared machine only the ratios of one run mean much. Target (issue 13): <= 150 ms per
change. Needs /usr/bin/chromium (Debian ``chromium``) and playwright.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import _sidebyside as SBS

ROOT = Path(__file__).resolve().parents[1]
OLD_DEFAULT = "f4fdd80"     # main before the explorer kept unchanged results (9158a42)
TEST = "tests/test_notebook_browser.py"


def _unpack(rev: str, dest: Path) -> None:
    SBS.unpack(rev, dest, ("pwmodel", "data", "notebooks", "pyproject.toml"))
    (dest / "tests").mkdir(exist_ok=True)
    for f in ("test_notebook_browser.py", "nbrun.py"):
        if (ROOT / "tests" / f).exists():
            shutil.copy(ROOT / "tests" / f, dest / "tests" / f)


def _run(tree: Path, out: Path) -> dict[str, float] | str:
    """One run of the browser test in ``tree``: latency per widget (ms) or the error."""
    env = {**os.environ, "PYTHONPATH": str(tree), "PWMODEL_LATENCY_OUT": str(out)}
    out.unlink(missing_ok=True)
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                        "-m", "browser", TEST], cwd=tree, env=env, capture_output=True, text=True)
    if r.returncode or not out.exists():
        tail = (r.stdout + r.stderr).strip().splitlines()[-3:]
        return "failed: " + " | ".join(tail)
    return {k: float(v["latency_ms"]) for k, v in json.loads(out.read_text()).items()}


def main() -> None:
    ap = argparse.ArgumentParser()
    SBS.add_old_options(ap, OLD_DEFAULT)
    a = ap.parse_args()
    print(f"uptime before: {SBS.uptime()}")
    with tempfile.TemporaryDirectory() as tmp:
        trees = {"new": ROOT}
        if not a.no_old:
            _unpack(a.old, Path(tmp) / "old")
            trees["old"] = Path(tmp) / "old"   # with the browser test copied in (_unpack)
        res: dict[str, dict[str, list[float]]] = {t: {} for t in trees}
        errors: dict[str, str] = {}
        for _ in range(a.rounds):
            for t, path in trees.items():
                got = _run(path, Path(tmp) / f"latency-{t}.json")
                if isinstance(got, str):
                    errors[t] = got
                    continue
                for k, v in got.items():
                    res[t].setdefault(k, []).append(v)
    med = {t: {k: statistics.median(v) for k, v in r.items()} for t, r in res.items()}
    print(f"\nexplorer latency, widget change -> updated summary and figure, median of "
          f"{a.rounds} runs (ms); old = {a.old}; target <= 150 ms")
    for k, new_v in med["new"].items():
        line = f"  {k:22s} new {new_v:7.0f} ms"
        old = med.get("old", {}).get(k)
        if old is not None:
            line += f"   old {old:7.0f} ms   new/old {new_v / old:6.3f}"
        print(line)
    for t, e in errors.items():
        print(f"  {t} tree: {e}")
    print(f"\nuptime after: {SBS.uptime()}")


if __name__ == "__main__":
    main()
