"""The report's numbers, one import away: queries, reference readers, bands and the tornado.

Kept as the single name space the report modules and tests use (``from pwmodel.report
import results as R``); each part lives in its own module:

- :mod:`pwmodel.report.queries`: model calls with hashable arguments (scalars, maps, breakdown);
- :mod:`pwmodel.report.reference`: published numbers read from data/reference/;
- :mod:`pwmodel.report.bands`: banded curves (the parameters' intervals, pwmodel.uncertainty);
- :mod:`pwmodel.report.tornado`: crossover sensitivity to each parameter.
"""

from pwmodel.report.bands import BAND_METRICS, curves
from pwmodel.report.queries import (CONFIG_LABELS, N_TABLE, TAX_CONFIGS, Config, breakdown,
                                    clear_caches, crossover, crossover_band, crossover_high,
                                    crossover_keys, crossover_local_rate, crossover_low,
                                    crossover_n, crossover_rate, crossover_sides, strategy_value,
                                    default_param, default_tax_cycles, evaluated, line_moves,
                                    machine, metric, param_source, param_value, prefetch,
                                    prefetch_bands,
                                    prefetch_crossovers, prefetch_local_rates, ratio_map,
                                    rl_victim_ccdf, scenario, solved_crossovers, tax_cycles,
                                    tax_ns, tax_share)
from pwmodel.report.reference import (ANCHORS, BUDGETS, C2C_FALLBACK, REF, ROOT,
                                      anchor_delta_cycles, anchor_share, budget_ns, c2c_ratios,
                                      clock_ghz,
                                      kmalloc_anchor_cycles)
from pwmodel.report.tornado import TORNADO_KINDS, tornado

__all__ = ["BAND_METRICS", "curves", "CONFIG_LABELS", "N_TABLE",
           "TAX_CONFIGS", "Config", "breakdown", "clear_caches", "crossover", "crossover_band",
           "crossover_high", "crossover_keys", "crossover_low", "prefetch", "prefetch_bands",
           "prefetch_crossovers",
           "prefetch_local_rates", "crossover_local_rate", "crossover_n", "crossover_rate",
           "crossover_sides", "default_param", "default_tax_cycles", "evaluated", "line_moves",
           "machine",
           "metric", "param_source", "param_value", "ratio_map", "rl_victim_ccdf", "scenario",
           "solved_crossovers",
           "tax_cycles", "tax_ns", "tax_share", "ANCHORS", "BUDGETS", "C2C_FALLBACK", "REF", "ROOT",
           "anchor_share", "clock_ghz",
           "anchor_delta_cycles", "budget_ns", "c2c_ratios", "kmalloc_anchor_cycles",
           "TORNADO_KINDS", "tornado", "strategy_value"]
