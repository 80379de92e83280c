"""Helpers for the numbered notebooks, which stay thin: they import :mod:`pwmodel` and this
package and tell a story. Everything here is plain Python, testable without a browser.

One job per module:

- :mod:`~pwmodel.notebook.display`: size switch (``PWMODEL_SMALL=1`` selects small grids
  so every notebook runs in a few seconds), LaTeX of model expressions, figures, tables;
- :mod:`~pwmodel.notebook.loaders`: reference tables, measured collections, traces;
- :mod:`~pwmodel.notebook.analysis`: summaries and model-versus-data tables;
- :mod:`~pwmodel.notebook.story`: formatted tables (:mod:`pwmodel.fmt`), the crossover
  formula that produced N*, readings computed from the tables they discuss;
- :mod:`~pwmodel.notebook.whatif`: the what-if explorer of notebook 07 (its numeric core
  :func:`whatif` needs no widgets; :class:`WhatIf` wires it to ipywidgets);
- :mod:`~pwmodel.notebook.svgplot`: a log-log line figure written directly as SVG text
  (the explorer's figure, redrawn at every change).

Empirical distributions (:class:`~pwmodel.dist.EmpiricalDist`) live in :mod:`pwmodel.dist`.
The names below are the notebooks' interface (``from pwmodel import notebook as NB``).
"""

import sympy as sp

from pwmodel.dist import EmpiricalDist, discretize, empirical_dist
from pwmodel.notebook.analysis import answer, dist_summary, latency_summary, model_vs_sim, wake_check
from pwmodel.notebook.display import (SMALL_ENV, axis_label, figure_png, fmt_value, latex, n_grid,
                                      pick, place_legend, plot_strategies, show_math, small, symbol_names,
                                      symbols_table, table_html, tidy)
from pwmodel import fmt, verdict
from pwmodel.notebook.story import (answer_reading, compare_claim, compare_text, crossover_formula,
                                    gaps_reading, qw_tails, rate_crossover_parts, rate_reading,
                                    table, target_load, transfer_note, wake_reading)
from pwmodel.notebook.loaders import EXAMPLE_TRACE, REPO, measured, reference, trace_lifecycle
from pwmodel.notebook.whatif import (PREEMPT_CHOICES, WhatIf, WhatIfResult, WhatIfState, at_n_text,
                                     whatif, whatif_figure, whatif_items, whatif_png, whatif_svg)

__all__ = ["small", "n_grid", "pick", "latex", "show_math", "symbols_table", "reference",
           "EmpiricalDist", "discretize", "measured", "trace_lifecycle", "wake_check",
           "empirical_dist", "latency_summary", "dist_summary", "answer", "model_vs_sim",
           "plot_strategies", "axis_label", "figure_png", "WhatIfState", "WhatIfResult", "whatif",
           "whatif_figure", "whatif_png", "whatif_svg", "whatif_items", "fmt_value", "at_n_text", "table_html", "WhatIf", "SMALL_ENV", "EXAMPLE_TRACE", "REPO",
           "PREEMPT_CHOICES", "symbol_names", "tidy", "sp", "fmt", "verdict", "table",
           "compare_text", "crossover_formula", "qw_tails", "answer_reading", "compare_claim",
           "wake_reading", "gaps_reading", "target_load", "place_legend", "rate_crossover_parts",
           "rate_reading", "transfer_note"]
