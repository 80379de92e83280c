"""Benchmark: calibration of the local machine with 1000-resample bootstraps.

Times (wall clock, this process only):
1. micro constants (c2c, atomic, IPI, wake-up) with 1000-resample median bootstraps,
2. family selection (BIC, Wald intervals) for the four queue->start datasets,
3. a 1000-resample nonparametric bootstrap of the stat_refresh queue->start fit
   (family given by --family, shift refitted per resample),
and writes the profile to a temporary folder. Run: python benchmarks/bench_fit.py
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from pwmodel.fit import calibrate as CAL, distributions as FD


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n-boot", type=int, default=1000)
    ap.add_argument("--family", default="lognorm")
    a = ap.parse_args()
    t0 = time.perf_counter()
    est = CAL.micro_estimates(n_boot=a.n_boot)
    t1 = time.perf_counter()
    cal = CAL.calibrate(wake_ci="wald", n_boot=a.n_boot)
    t2 = time.perf_counter()
    f = FD.fit_dist(CAL.wake_samples("stat_refresh_idle"), a.family, ci="bootstrap", n_boot=a.n_boot)
    t3 = time.perf_counter()
    with tempfile.TemporaryDirectory() as d:
        CAL.write(cal, Path(d) / "p.toml", Path(d) / "fits")
    t4 = time.perf_counter()
    print(f"micro constants, {a.n_boot} resamples : {t1 - t0:7.2f} s ({len(est)} constants)")
    print(f"calibrate (micro + 4 wake selections): {t2 - t1:7.2f} s")
    print(f"{a.family} fit, {a.n_boot}-resample bootstrap : {t3 - t2:7.2f} s "
          f"({len(f.boot)} refits)")
    print(f"write profile + fits                 : {t4 - t3:7.2f} s")
    print(f"total                                : {t4 - t0:7.2f} s")


if __name__ == "__main__":
    main()
