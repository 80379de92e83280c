"""Wall time of running every notebook top to bottom (small size, as the test suite does).

    python benchmarks/bench_notebooks.py [--full]

Target: well under two minutes in total with PWMODEL_SMALL=1 on 2 cores. Prints the
time per notebook and the total (one run; the machine may be shared, so repeat it).
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import nbclient
import nbformat

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--full", action="store_true", help="full size (PWMODEL_SMALL unset)")
    a = ap.parse_args()
    if not a.full:
        os.environ["PWMODEL_SMALL"] = "1"
    total = 0.0
    for path in sorted((ROOT / "notebooks").glob("0*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        t0 = time.perf_counter()
        nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                                resources={"metadata": {"path": str(path.parent)}}).execute()
        dt = time.perf_counter() - t0
        total += dt
        print(f"{path.name:40s} {dt:6.1f} s")
    print(f"{'total (sequential)':40s} {total:6.1f} s   target: well under 120 s")


if __name__ == "__main__":
    main()
