"""Model expressions as people read them: LaTeX with the registry's symbol names.

Used by the notebooks (:func:`pwmodel.notebook.display.show_math`) and by the
generated description of the model, docs/model.md (:mod:`pwmodel.modeldoc`), so
both print a formula the same way.
"""

from __future__ import annotations

import sympy as sp

from pwmodel import params as P
from pwmodel.models.symbols import EXTRA


def symbol_names() -> dict[sp.Symbol, str]:
    """LaTeX names of the parameter symbols that declare one (others print as their name)."""
    out: dict[sp.Symbol, str] = {}
    for name, p in P.PARAMS.items():
        out[P.SYMBOLS[name]] = p.latex or r"\mathrm{" + name.replace("_", r"\_") + "}"
    for name, s in EXTRA.items():
        out[s] = r"\mathrm{" + name.replace("_", r"\_") + "}"
    return out


def tidy(expr: sp.Expr) -> sp.Expr:
    """Float constants with few digits become exact (1e-9 -> 1/10^9, 5e-10 -> 1/(2 10^9))."""
    rep = {}
    for f in expr.atoms(sp.Float):
        text = f"{float(f):.12g}"          # 1/1e-9 = 999999999.9999999 reads as 1e+09
        mant = text.split("e")[0].replace("-", "").replace(".", "").strip("0")
        if len(mant) <= 6:
            rep[f] = sp.Rational(text)
    return expr.xreplace(rep) if rep else expr


def latex(expr: sp.Expr, lhs: str | None = None) -> str:
    """LaTeX of ``expr`` with the registry's symbol names, optionally as ``lhs = expr``."""
    body = sp.latex(tidy(expr), symbol_names=symbol_names())
    return f"{lhs} = {body}" if lhs else body
