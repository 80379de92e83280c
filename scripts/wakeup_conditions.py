"""Print docs/wakeup.md's tables: predicted vs measured queue->start per experimental condition
(parameters fitted on data/measured/wake_other only), and the trace-classified causes.

    PYTHONPATH=. python scripts/wakeup_conditions.py
"""

from __future__ import annotations

import json
from pathlib import Path

from pwmodel import machine as M
from pwmodel.fit.wakecal import condition_table

ROOT = Path(__file__).resolve().parents[1]
MEAS = ROOT / "data" / "measured"
CAPTURES = ["wake_other", "wake_other_r2", "wake_batch", "wake_nice19", "wake_nice-10", "wake_schedidle", "wake_slice100us",
            "wake_slice20ms", "wake_busy2", "wake_noautogroup", "wake_noag_nice19", "wake_noag_nice-10", "wake_noag_nice-10_r2",
            "wake_noag_schedidle", "wake_noag_busy2", "wake_noag_slice20ms", "wake_noag_slice100us",
            "wake_stat_refresh_other", "drain_migrate_pages_other"]


def _us(x: float) -> str:
    return f"{x / 1e3:.1f}"


def _err(p: float, m: float) -> str:
    return f"{100 * (p / m - 1):+.0f} %"


def main() -> None:
    m = M.get("local-kvm-2vcpu")
    t = condition_table(m, MEAS / "wake_other", [MEAS / c for c in CAPTURES])
    print("| capture | load avg (1 min) | settings | n | slow meas (tick + other) | slow pred "
          "| p50 meas / pred us | p90 meas / pred us | p99 meas / pred us | mean meas / pred us |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in t.iter_rows(named=True):
        meta = json.loads((MEAS / r["capture"] / "metadata.json").read_text())
        st = meta["settings"]
        ag = (st.get("sysctls") or {}).get("kernel.sched_autogroup_enabled", "1")
        sett = (f"{st.get('trigger')}, policy {st.get('policy') or 'other'}, nice {st.get('nice', 0)}, "
                f"slice {int(st.get('slice_ns') or 0) / 1e6:g} ms, tasks {st.get('busy_tasks') or 1}, autogroup {ag}")
        load = (meta.get("loadavg_before") or "?").split()[0]
        mark = " (fitted here)" if r["fitted_here"] else ""
        print(f"| {r['capture']}{mark} | {load} | {sett} | {r['n']} | "
              f"{100 * r['tick_share_meas']:.1f} + {100 * r['other_task_share_meas']:.1f} % | "
              f"{100 * r['slow_share_pred']:.1f} % | "
              + " | ".join(f"{_us(r[f'{q}_meas_ns'])} / {_us(r[f'{q}_pred_ns'])} ({_err(r[f'{q}_pred_ns'], r[f'{q}_meas_ns'])})"
                           for q in ("p50", "p90", "p99", "mean")) + " |")


if __name__ == "__main__":
    main()
