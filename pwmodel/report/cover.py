"""``cover-letter.txt``: the reviewers' six questions answered with the model's numbers.

Plain ASCII, at most 72 columns. Every number is printed through a
:class:`~pwmodel.report.text.Recorder` together with the call that produced
it; the assumptions and the source of every parameter follow the answers,
and the command that reproduces the text comes first.
"""

from __future__ import annotations

import math

from pwmodel import __version__, fmt
from pwmodel.models import callsite as CS
from pwmodel.models import owner as OW
from pwmodel.models import wakeup as W
from pwmodel.report import answer
from pwmodel.report import measured as MS
from pwmodel.report import results as R
from pwmodel.report import tables
from pwmodel.report.text import COMMAND, Recorder, bar_chart, heading, per_machine, table, wrap
from pwmodel.simulate import domain as DOM

US = 1e3
RATES_HZ = (1e6, 1e7)
Q1_CONFIGS = ("pwlocks_n", "pwlocks0", "pwlocks1", "pwlocks1_noinline", "rt_pwlocks1")


def command(cfg: R.Config) -> str:
    """The command line that reproduces the report (DIR: any output folder)."""
    parts = ["pwmodel report --out DIR"]
    parts += [f"--machine {m}" for m in cfg.machines]
    if tuple(cfg.callsites) != tuple(CS.SERIES):
        parts += [f"--callsite {c}" for c in cfg.callsites]
    if tuple(cfg.isolations) != tuple(W.ISOLATION):
        parts += [f"--isolation {i}" for i in cfg.isolations]
    if cfg.objective:
        parts.append(f"--objective {cfg.objective}")
    parts += [f"--param {k}={v!r}" for k, v in cfg.overrides]
    lines, cur = [], COMMAND + parts[0]
    for p in parts[1:]:
        if len(cur) + len(p) + 3 > 72:
            lines.append(cur + " \\")
            cur = " " * (len(COMMAND) + 4) + p
        else:
            cur += " " + p
    return "\n".join(lines + [cur])


def _m(cfg: R.Config, k: int = 0) -> str:
    return cfg.machines[k]


def q1(rec: Recorder, cfg: R.Config) -> list[str]:
    out = heading("Q1. What does the fast path pay per operation?")
    r1, r2 = (rec.lit(f"{r:.0e}".replace("+0", "")) for r in RATES_HZ)
    out += wrap("Tax = ns added to every local per-CPU operation relative to the "
                "unpatched kernel of the same preemption family "
                "(fastpath.tax_expr). CPU share = rate x tax, the fraction of one "
                f"CPU a workload doing R local ops/s loses (R = {r1} and {r2}/s).")
    for mname in cfg.machines:
        rows = []
        for c in Q1_CONFIGS:
            rows.append([R.CONFIG_LABELS[c],
                         rec.num(R.tax_ns, mname, c, cfg.overrides, decimals=2),
                         rec.num(R.tax_cycles, mname, c, cfg.overrides, decimals=1),
                         rec.num(R.tax_share, mname, c, RATES_HZ[0], cfg.overrides, scale=0.01,
                                 decimals=3),
                         rec.num(R.tax_share, mname, c, RATES_HZ[1], cfg.overrides, scale=0.01,
                                 decimals=2)])
        out += [""] + wrap(f"{mname}:")
        out += table(["configuration", "ns/op", "cycles/op", f"% CPU {r1}/s", f"% CPU {r2}/s"],
                     rows)
    ghz = rec.num(R.default_param, "freq_hz", scale=1e9, decimals=1)
    out += [""] + wrap("Anchor (not fitted): kmalloc_bench cycles added per kmalloc, measured "
                       "by the series (data/reference/kmalloc_locallock_vs_spinlock_cycles."
                       "csv, CPU not stated), next to the model's tax from the registry "
                       f"defaults at their generic {ghz} GHz clock:")
    rows = []
    for cfg_name, *_ in R.ANCHORS:
        rows.append([R.CONFIG_LABELS[cfg_name], rec.num(R.anchor_delta_cycles, cfg_name),
                     rec.num(R.default_tax_cycles, cfg_name, decimals=1)])
    out += table(["configuration", "measured cycles", "model cycles"], rows)
    m0 = _m(cfg)
    n0 = R.machine(m0).n_cpus
    extra = rec.num(R.metric, m0, cfg.victim_isolation, None, cfg.callsite, cfg.overrides,
                    n0, "RL", "fastpath_extra_ns", decimals=3)
    out += [""] + wrap(
        f"With pwlocks=1 a local op also pays misses and waits after remote drains: "
        f"{extra} ns per op on {m0} at the default rates (remote drains "
        f"{rec.num(R.param_value, m0, cfg.callsite, cfg.overrides, 'remote_rate_hz')}/s, "
        f"local ops {rec.num(R.param_value, m0, cfg.callsite, cfg.overrides, 'local_rate_hz')}"
        "/s per CPU; contention.local_op_extra_expr).")
    return out


def _xo_cell(rec: Recorder, mname: str, iso: str, cfg: R.Config, flags: list[str]) -> str:
    x = R.crossover_n(mname, iso, None, cfg.callsite, cfg.overrides)
    below, above = R.crossover_sides(mname, iso, None, cfg.callsite, cfg.overrides)
    s = fmt.crossover(x, below, above)
    if math.isfinite(x) and x <= fmt.N_MAX:
        s = rec.put(x, R.crossover_n, (mname, iso, None, cfg.callsite, cfg.overrides), 1.0, 0)
    else:
        rec.lit(str(fmt.N_MAX))
    if math.isfinite(x) and (below, above) != ("RL", "QW"):
        flags.append(f"{mname} {iso}: {below} below, {above} above")
        s += "*"
    return s + _xo_mark(mname, iso, cfg, (x,))


def _xo_mark(mname: str, iso: str, cfg: R.Config, at: tuple[float, ...]) -> str:
    """ASCII mark when N* rests on forms outside the validated domain: both strategies' mean
    requester latency at each finite crossover in `at` (as decide's json `validated`)."""
    pts = [x for x in at if math.isfinite(x) and x <= fmt.N_MAX]
    if not pts:
        return ""
    dom = DOM.for_scenario(R.scenario(mname, iso, None, cfg.callsite, cfg.overrides))
    ok = all(dom.check(s, "requester_mean_ns", x).validated for x in pts for s in ("QW", "RL"))
    return "" if ok else DOM.ASCII_MARK


def _xo_end(rec: Recorder, fn, args: tuple, x: float) -> str:
    if math.isnan(x):
        return "none"
    if x > fmt.N_MAX:
        return f"> {rec.lit(fmt.N_MAX)}"
    return rec.put(x, fn, args, 1.0, 0)


def _headline_intervals(rec: Recorder, cfg: R.Config) -> list[str]:
    """N* of each machine at the victim isolation level with its interval over the inputs'
    intervals and the input that dominates it (pwmodel.uncertainty)."""
    iso = cfg.victim_isolation
    keys = [(m, iso, None, cfg.callsite, cfg.overrides) for m in cfg.machines]
    R.prefetch_bands(keys)
    out = [""] + wrap(
        f"N* with its interval, targets '{W.LABELS[iso]}': the envelope of N* when every "
        "assumed or fitted parameter moves over its interval (params.RANGES, profile "
        "intervals) and the c2c latencies over their p10-p90 spread (one at a time, "
        "directed corners, a Latin hypercube; uncertainty.crossover_band). The named "
        "input moves N* most on its own.")
    rows = []
    for k in keys:
        b = R.crossover_band(*k)
        rows.append([rec.name(k[0][:22]), _xo_cell(rec, k[0], iso, cfg, []),
                     _xo_end(rec, R.crossover_low, k, b.low)
                     + _xo_mark(k[0], iso, cfg, (b.low,)),
                     _xo_end(rec, R.crossover_high, k, b.high)
                     + _xo_mark(k[0], iso, cfg, (b.high,)), b.dominant or "-"])
    out += table(["machine", "N*", "low", "high", "dominated by"], rows)
    if any(c.endswith(DOM.ASCII_MARK) for r in rows for c in r[1:4]):
        out += wrap(DOM.footnote([], ascii=True), "  ")
    return out


def q2(rec: Recorder, cfg: R.Config) -> list[str]:
    out = heading("Q2. When is queue_work_on + flush_work cheaper than a remote lock?")
    out += wrap("The caller of lru_add_drain_all() waits until every dirty CPU is "
                "drained. Crossover N* = CPU count at which the mean requester "
                "latency of QW equals that of RL (decide.crossover_n): RL is faster "
                "below N*, QW above (its drains run in parallel, RL's are a sum). "
                f"'> {rec.lit(str(fmt.N_MAX))}' = RL faster at every size modelled; 'none' = "
                "RL faster at every size (QW never completes: a SCHED_FIFO task on a "
                "nohz_full CPU with neither fair server nor RT throttling starves the "
                "kworker).")
    flags: list[str] = []
    cells: list[str] = []

    def cell(iso: str, m: str) -> str:
        cells.append(_xo_cell(rec, m, iso, cfg, flags))
        return cells[-1]
    out += per_machine(rec, cfg.machines, "isolation", cfg.isolations, cell)
    for f in flags:
        out += wrap(f"* {f}", "  ")
    if any(c.endswith(DOM.ASCII_MARK) for c in cells):
        out += wrap(DOM.footnote([], ascii=True) + ". N* rests on both strategies' mean "
                    "requester latency at N*.", "  ")
    out += _headline_intervals(rec, cfg)
    m0 = _m(cfg)
    n0 = R.machine(m0).n_cpus
    out += [""] + wrap(
        f"Total CPU cost instead of latency: RL saves the kworker wake-ups but "
        f"every local op pays the tax of Q1. On {m0} with N = {rec.lit(n0)} CPUs, RL "
        f"costs less total CPU time than QW only above this rate of remote "
        f"drains per CPU (decide.crossover_rate; {rec.lit('0')} = always, never = "
        "never, none = undecided):")
    rows = []
    for iso in cfg.isolations:
        cells = [iso]
        for pm in (None, "rt"):
            cells.append(rec.num(R.crossover_rate, m0, iso, pm, cfg.callsite, cfg.overrides, n0,
                                 decimals=1))
        rows.append(cells)
    out += table(["isolation", "!RT (Hz)", "PREEMPT_RT (Hz)"], rows)
    return out


def q3(rec: Recorder, cfg: R.Config) -> list[str]:
    iso = cfg.victim_isolation
    out = heading("Q3. How do both scale with CPU count and topology?")
    out += wrap(f"Mean requester latency of one lru_add_drain_all() in us, target "
                f"CPUs '{W.LABELS[iso]}', call site {cfg.callsite}. RL grows linearly "
                "(one remote drain per dirty CPU, each at that CPU's c2c distance); "
                "QW grows with the expected maximum of the kworker start times and, "
                "at large N, with the lruvec lock hand-offs.")
    marked = False
    for mname in cfg.machines:
        m = R.machine(mname)
        topo = ", ".join(
            f"{lv.pair_class} x{rec.lit(lv.size)} "
            f"{rec.put(lv.c2c_ns, _c2c_of, (mname, lv.pair_class), 1.0, 1)} ns" for lv in m.levels)
        out += [""] + wrap(f"{mname} ({rec.lit(m.n_cpus)} CPUs): {topo}.")
        rows = []
        dom = DOM.for_scenario(R.scenario(mname, iso, None, cfg.callsite, cfg.overrides))
        R.evaluated(mname, iso, None, cfg.callsite, cfg.overrides, R.N_TABLE)   # all N at once
        for n in R.N_TABLE:
            args = (mname, iso, None, cfg.callsite, cfg.overrides, n)
            rows.append([rec.lit(n)] + [
                rec.num(R.metric, *args, s, col, scale=US, decimals=1)
                + ("" if dom.check(s, col, n).validated else DOM.ASCII_MARK)
                for s, col in (("QW", "requester_mean_ns"), ("RL", "requester_mean_ns"),
                               ("QW", "requester_p99_ns"), ("RL", "requester_p99_ns"))])
            marked |= any(r.endswith(DOM.ASCII_MARK) for r in rows[-1])
        out += table(["N", "QW mean", "RL mean", "QW p99", "RL p99"], rows)
    if marked:
        out += wrap(DOM.footnote([], ascii=True), "  ")
    m0 = _m(cfg)
    out += [""] + wrap(f"Text chart, {m0}: mean requester latency, log scale "
                       f"from {rec.lit('0.1')} us (Q = QW, R = RL):")
    labels, vals, printed, marks = [], [], [], []
    for n in R.N_TABLE:
        for strat in ("QW", "RL"):
            args = (m0, iso, None, cfg.callsite, cfg.overrides, n, strat, "requester_mean_ns")
            v = R.metric(*args)
            labels.append(f"N={rec.lit(n)} {strat}")
            vals.append(v)
            printed.append(rec.put(v, R.metric, args, US, 1) + " us")
            marks.append(strat[0])
    out += bar_chart(labels, vals, printed, log_floor=100.0, marks=marks, width=38)
    return out


def _c2c_of(mname: str, pair_class: str) -> float:
    return R.machine(mname).c2c_of(pair_class)


def _line_cost(mname: str, callsite: str, overrides: tuple, strategy: str) -> float:
    """ns of line transfers per drain of one CPU at the machine's representative c2c."""
    return R.line_moves(callsite, strategy) * R.param_value(mname, callsite, overrides, "c2c_ns")


def q4(rec: Recorder, cfg: R.Config) -> list[str]:
    out = heading("Q4. Does the invalidation 'already happen with schedule_work_on()'?")
    out += wrap("Cache-line transfers per drain of one dirty CPU "
                "(coherence.line_moves, call-site parameters). 'work' = work item, "
                "worker pool and flush barrier lines; 'batch' = per-CPU lock, batch "
                "and struct folio lines; 'lru' = lruvec lock and lists.")
    rows = []
    for cs in cfg.callsites:
        rows.append([cs[:17]] + [rec.num(R.line_moves, cs, s, w, decimals=1)
                            for s, w in (("QW", "work"), ("RL", "work"), ("QW", "batch"),
                                         ("RL", "batch"), ("QW", "lru"), ("RL", "lru"))])
    out += table(["call site", "wk QW", "wk RL", "bat QW", "bat RL", "lru QW", "lru RL"],
                 rows)
    m0 = _m(cfg)
    cs0 = cfg.callsite
    out += [""] + wrap(
        f"So the claim holds for the work-item lines only: QW moves "
        f"{rec.num(R.line_moves, cs0, 'QW', 'work', decimals=1)} of them and RL none, but "
        f"RL moves {rec.num(R.line_moves, cs0, 'RL', 'batch', decimals=1)} batch and folio "
        f"lines that QW leaves hot on the owner ({cs0}). At the "
        f"{rec.num(R.param_value, m0, cs0, cfg.overrides, 'c2c_ns', decimals=1)} ns c2c of "
        f"{m0} that is {rec.time(_line_cost, m0, cs0, cfg.overrides, 'RL')} of transfers "
        f"per drained CPU for RL against "
        f"{rec.time(_line_cost, m0, cs0, cfg.overrides, 'QW')} for QW.")
    return out


def q5(rec: Recorder, cfg: R.Config) -> list[str]:
    out = heading("Q5. How long can an isolated CPU wait on its own lock?")
    out += wrap("Worst case (fanout.rl_victim_worst_expr): the owner's local op "
                "arrives just as the farthest requester takes its lock; it spins "
                "for the whole remote hold (lock, batch and folio lines at the "
                "largest c2c of the machine plus the drain work) and then refetches "
                "the lock and header lines. In us, N = all CPUs of the machine:")
    out += per_machine(rec, cfg.machines, "call site", cfg.callsites,
                        lambda cs, m: rec.num(R.metric, m, cfg.victim_isolation, None, cs,
                                              cfg.overrides, R.machine(m).n_cpus, "RL",
                                              "victim_worst_ns", scale=US, decimals=2))
    m0 = _m(cfg)
    n0 = R.machine(m0).n_cpus
    out += [""] + wrap(
        f"For comparison one queued drain interrupts the same task for "
        f"{rec.time(R.metric, m0, cfg.victim_isolation, None, cfg.callsite, cfg.overrides, n0, 'QW', 'victim_mean_ns')}"
        f" on {m0} (interrupt, two context switches, the drain).")
    return out


def _budget_cell(rec: Recorder, v: float, budget: float) -> str:
    if math.isnan(v):
        return "-"
    return "ok" if v <= budget else "over"


def q6(rec: Recorder, cfg: R.Config) -> list[str]:
    m0 = _m(cfg)
    n0 = R.machine(m0).n_cpus
    b = [R.budget_ns(q) for q, _ in R.BUDGETS]
    bs = [rec.num(R.budget_ns, q, scale=US) for q, _ in R.BUDGETS]
    out = heading("Q6. What interruption does the isolated task see?")
    out += wrap(
        f"Per drain, on {m0} (N = {rec.lit(n0)}), against the {bs[0]} us "
        f"({R.BUDGETS[0][1]}) and {bs[1]} us ({R.BUDGETS[1][1]}) budgets of "
        "data/reference/pw_series_numbers.csv. QW: the kworker's interruption "
        "(fanout.qw_victim_expr); RL: the worst lock wait (Q5). 'wait' = mean "
        "requester latency of QW, which shows who pays instead when the "
        "kworker is starved. '/rt' rows use preempt_model rt (PREEMPT_RT).")
    rows = []
    for iso in cfg.isolations:
        if not OW.has_victim(iso):
            continue
        for pm in (None, "rt"):
            args = (m0, iso, pm, cfg.callsite, cfg.overrides, n0)
            qv = R.metric(*args, "QW", "victim_mean_ns")
            rv = R.metric(*args, "RL", "victim_worst_ns")
            w = R.metric(*args, "QW", "requester_mean_ns")
            sc, dec, unit = (1e6, 1, "ms") if math.isfinite(w) and w >= 1e5 else (US, 1, "us")
            wcell = rec.put(w, R.metric, args + ("QW", "requester_mean_ns"), sc, dec)
            rows.append([iso + ("/rt" if pm else ""),
                         rec.put(qv, R.metric, args + ("QW", "victim_mean_ns"), US, 1),
                         rec.put(rv, R.metric, args + ("RL", "victim_worst_ns"), US, 1),
                         wcell + (f" {unit}" if math.isfinite(w) else ""),
                         f"{_budget_cell(rec, qv, b[0])}/{_budget_cell(rec, rv, b[0])}",
                         f"{_budget_cell(rec, qv, b[1])}/{_budget_cell(rec, rv, b[1])}"])
    out += table(["isolation", "QW us", "RL us", "QW wait", f"{bs[0]}us QW/RL",
                  f"{bs[1]}us QW/RL"], rows)
    out += [""] + measured_lines(rec)
    return out


def _rate_cell(rec: Recorder, mname: str, iso: str, callsite: str, overrides: tuple,
               n: int) -> str:
    v = R.crossover_local_rate(mname, iso, None, callsite, overrides, n)
    if math.isnan(v):
        return "-"
    if v == 0.0 or math.isinf(v):
        rec.num(R.crossover_local_rate, mname, iso, None, callsite, overrides, n)
        return "never" if v == 0.0 else "always"
    return rec.put(v, R.crossover_local_rate, (mname, iso, None, callsite, overrides, n),
                   1e3, 1) + "k"


def _q7_keys(cfg: R.Config, iso: str) -> list[tuple]:
    """The crossover_local_rate arguments of Q7's cells (the call sites' table, then the
    bh_lru table at 1 and 100 drains/s)."""
    keys = [(m, iso, None, cs, cfg.overrides, R.machine(m).n_cpus)
            for cs in cfg.callsites for m in cfg.machines]
    if "bh_lru" in cfg.callsites:
        for lam in (1.0, 100.0):
            ov = tuple(sorted({**dict(cfg.overrides), "remote_rate_hz": lam}.items()))
            keys += [(m, iso, None, "bh_lru", ov, R.machine(m).n_cpus) for m in cfg.machines]
    return keys


def q7(rec: Recorder, cfg: R.Config) -> list[str]:
    iso = cfg.victim_isolation
    out = heading("Q7. How hot a fast path is too hot for a spinlock?")
    out += wrap(
        "Local operations per second on each CPU above which RL costs more total "
        "CPU than QW (hotpath.crossover_local_rate): below it the drains RL saves "
        "(QW's interrupts and context switches on the dirty CPUs) outweigh the "
        "locked RMW RL adds to every local operation of every CPU (Q1). N = all "
        f"CPUs of each machine, targets '{W.LABELS[iso]}', !RT, remote drains at "
        "each call site's rate; in thousands of operations/s ('k').")
    R.prefetch_local_rates(_q7_keys(cfg, iso))      # every cell below, solved together
    out += per_machine(rec, cfg.machines, "call site", cfg.callsites,
                        lambda cs, m: _rate_cell(rec, m, iso, cs, cfg.overrides,
                                                 R.machine(m).n_cpus))
    if "bh_lru" in cfg.callsites:
        rate = R.param_value(_m(cfg), "bh_lru", cfg.overrides, "local_rate_hz")
        hot = [m for m in cfg.machines
               if R.crossover_local_rate(m, iso, None, "bh_lru", cfg.overrides,
                                         R.machine(m).n_cpus) < rate]
        out += [""] + wrap(
            "bh_lru is the per-CPU buffer-head LRU that v4 2/4 leaves on "
            "queue_work_on() ('a spinlock on a very hot path'). The crossover grows "
            "in proportion to the drain rate (the CPU QW spends is per drain, RL's "
            "tax per operation). At "
            f"{rec.num(R.param_value, _m(cfg), 'bh_lru', cfg.overrides, 'remote_rate_hz')} "
            "drains/s (the registry's lru_add_drain_all() rate) and the call site's "
            f"assumed {rec.num(R.param_value, _m(cfg), 'bh_lru', cfg.overrides, 'local_rate_hz', scale=1e3)}k "
            f"lookups/s, the spinlock costs more CPU than the drains it saves on "
            f"{rec.lit(len(hot))} of the {rec.lit(len(cfg.machines))} machines, which "
            "supports leaving it on queue_work_on(); the crossover at 1 and 100 "
            "drains/s:")
        rows = []
        for mname in cfg.machines:
            n = R.machine(mname).n_cpus
            cells = [rec.name(mname[:22])]
            for lam in (1.0, 100.0):
                ov = tuple(sorted({**dict(cfg.overrides), "remote_rate_hz": lam}.items()))
                cells.append(_rate_cell(rec, mname, iso, "bh_lru", ov, n))
            rows.append(cells)
        out += table(["machine", "1 drain/s", "100 drains/s"], rows)
    return out


def q8(rec: Recorder, cfg: R.Config) -> list[str]:
    from pwmodel import strategies as ST
    iso = cfg.victim_isolation
    m0 = _m(cfg)
    n0 = R.machine(m0).n_cpus
    cs = cfg.callsite
    out = heading("Q8. And the alternatives: drain on return to user, or skip?")
    out += wrap(
        "RU: the requester flags each dirty isolated CPU and returns; the task "
        "drains its cache itself at its next return to user space. SKIP: "
        "isolated CPUs are not drained (what memcg does upstream). Neither "
        "empties every cache before a flushing caller returns, so requester "
        "latency ranks them for async call sites only (pwmodel.strategies). "
        f"Per call on {m0}, N = {rec.lit(n0)}, targets '{W.LABELS[iso]}', call "
        f"site {cs}; times in us, load in CPUs:")
    sc = R.scenario(m0, iso, None, cs, cfg.overrides)
    rows = []
    for s in ST.STRATEGIES:
        if s not in ST.applicable(sc, "cpu_time"):
            continue
        cells = [s]
        for col, scale, dec in (("requester_mean_ns", US, 1), ("victim_mean_ns", US, 2),
                                ("cpu_time_ns", US, 1), ("cpu_load_cpus", 1.0, 3)):
            cells.append(rec.num(R.strategy_value, m0, iso, cs, cfg.overrides, n0, s, col,
                                 scale=scale, decimals=dec))
        rows.append(cells)
    out += table(["strategy", "requester", "victim", "CPU/call", "load"], rows)
    if "SKIP" in ST.applicable(sc, "cpu_time"):
        items = rec.num(R.strategy_value, m0, iso, cs, cfg.overrides, n0, "SKIP",
                        "stranded_items", decimals=1)
        kib = rec.num(R.strategy_value, m0, iso, cs, cfg.overrides, n0, "SKIP",
                      "stranded_bytes", scale=1024.0, decimals=1)
        out += [""] + wrap(f"SKIP costs memory instead: {items} items, {kib} KiB left in "
                           "each dirty isolated CPU's cache (batch_items x item_bytes).")
    if "RU" in ST.applicable(sc, "cpu_time"):
        w = R.strategy_value(m0, iso, cs, cfg.overrides, n0, "RU", "dirty_window_ns")
        wtxt = (rec.time(R.strategy_value, m0, iso, cs, cfg.overrides, n0, "RU",
                         "dirty_window_ns") if math.isfinite(w) else "ever")
        out += wrap(f"RU's 'victim' is the drain its task pays at its next exit to user "
                    f"space; until then the cache stays dirty: {wtxt} on average "
                    "(kernel_exit_rate_hz).")
    if len(rows) == 2:
        out += wrap("RU and SKIP need isolated targets; these are not.")
    return out


def measured_lines(rec: Recorder) -> list[str]:
    """What the measurements on the project's own machine say, or that they are absent."""
    st = MS.status()
    out = []
    have = [s for s in MS.STATES if st[f"requester_{s}"] or st[f"victim_{s}"]]
    if not have:
        return wrap("No measured data in data/measured/ at build time: the model "
                    "values above are not yet checked against traces.")
    out += wrap("Measured on the project's 2-vCPU KVM guest (data/measured/, tracefs, "
                "lru_add_drain_all() via migrate_pages(2); virtualised, so IPIs and "
                "wake-ups are slower than bare metal). Median and p90 in us:")
    rows = []
    for s in have:
        cells = [{'idle': 'idle', 'other': 'busy OTHER', 'fifo': 'busy FIFO'}[s]]
        for kind in ("requester", "victim"):
            if st[f"{kind}_{s}"]:
                cells += [rec.num(MS.count, s, kind),
                          rec.num(MS.quantile_ns, s, 0.5, kind, scale=US, decimals=1),
                          rec.num(MS.quantile_ns, s, 0.9, kind, scale=US, decimals=1)]
            else:
                cells += ["-", "-", "-"]
        rows.append(cells)
    out += table(["target", "req n", "req p50", "req p90", "vict n", "vict p50", "vict p90"],
                 rows)
    out += wrap("'req' = the requester's drain time; 'vict' = gaps of the target's "
                "task caused by the lru_add_drain_per_cpu kworker. Figures plot them "
                "next to the model for this guest.", "  ")
    return out


def sources(rec: Recorder, cfg: R.Config) -> list[str]:
    m0 = _m(cfg)
    out = heading("Assumptions and parameter sources")
    out += wrap(f"Values for {m0} and call site {cfg.callsite} (other machines differ in "
                "their profile's values: table.txt lists each). Model: docs/model.md; "
                "queue->start by isolation level in models/wakeup.py. Figure bands move "
                "every assumed or fitted parameter over its interval (params.RANGES, "
                "profile intervals) and the c2c latencies over the reference p10/p90.")
    out += tables.inputs_block(rec, cfg, m0)
    st = MS.status()
    out += heading("Inputs present at build time")
    out += wrap("calibrated local profile: " + ("yes" if st["local_profile"] else
                "no (local figures use the detected topology with registry defaults)") +
                "; measured drains: " + (", ".join(s for s in MS.STATES if st[f"requester_{s}"])
                                           or "none") + ".")
    return out


def build_cover(cfg: R.Config) -> tuple[str, Recorder]:
    """The cover-letter text and the record of every number in it."""
    rec = Recorder()
    title = "pwlocks: remote per-CPU locking (RL) vs queued work (QW)"
    lines = [title, "=" * len(title)]
    lines += wrap(f"Numbers from pwmodel {rec.lit(__version__)} (SymPy model terms, "
                  "docs/model.md). RL = the drainer takes the target CPU's pw_lock "
                  "(pwlocks=1); QW = queue_work_on() + flush_work() (pwlocks=0). "
                  "Times in ns/us/ms as marked. Reproduce with:")
    lines += command(cfg).splitlines()
    for part in (answer.section, q1, q2, q3, q4, q5, q6, q7, q8, sources):
        lines += part(rec, cfg)
    lines += ["", "Reproduce:"] + command(cfg).splitlines()
    return "\n".join(lines) + "\n", rec
