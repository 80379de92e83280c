"""One home per rule: code outside pwmodel/models/ does not rebuild what it copies.

A scenario changed in one input is a ``dataclasses.replace`` of the caller's, never a
positional rebuild (which silently drops every field added later, e.g. the dirty-count
convention)."""

from __future__ import annotations


def _fields_kept(monkeypatch, module, call) -> None:
    """Every scenario ``call`` evaluates through ``module.evaluate`` (or, batched, through
    ``evaluate.batch_metrics``, or one metric through ``evaluate.metrics``) equals the caller's in every field but the overrides (a
    positional rebuild once dropped the newer fields)."""
    import dataclasses

    from pwmodel import evaluate as E
    from pwmodel import machine as M
    seen = []
    real = E.evaluate
    real_batch = E.batch_metrics

    def spy(sc, n):
        seen.append(sc)
        return real(sc, n)

    def spy_batch(cases, *a, **kw):
        seen.extend(c.sc for c in cases)
        return real_batch(cases, *a, **kw)
    monkeypatch.setattr(E, "batch_metrics", spy_batch)
    real_metrics = E.metrics

    def spy_metrics(sc, n, need):
        seen.append(sc)
        return real_metrics(sc, n, need)
    monkeypatch.setattr(E, "metrics", spy_metrics)
    base = E.Scenario(M.get("intel-xeon-8375c-2s"), "nohz_other", qw_config="pwlocks_n",
                      rl_config="pwlocks1_noinline")
    kw = {}
    fields = [f.name for f in dataclasses.fields(E.Scenario)]
    if "dirty" in fields:
        kw["dirty"] = "fixed"
    sc = dataclasses.replace(base, **kw)
    monkeypatch.setattr(module, "evaluate", spy) if hasattr(module, "evaluate") \
        else monkeypatch.setattr(E, "evaluate", spy)
    call(sc)
    assert seen
    for s2 in seen:
        for f in fields:
            if f != "overrides":
                assert getattr(s2, f) == getattr(sc, f), f"{module.__name__} dropped {f}"


def test_rate_crossovers_keep_the_scenario(monkeypatch):
    from pwmodel import decide, hotpath
    from pwmodel.notebook import story
    _fields_kept(monkeypatch, decide, lambda sc: decide.crossover_rate(sc, 64))
    _fields_kept(monkeypatch, hotpath, lambda sc: hotpath.crossover_local_rate(sc, 64))
    _fields_kept(monkeypatch, story, lambda sc: story.rate_crossover_parts(sc, [64]))


# ---- no model formula outside pwmodel/models/ ---------------------------------------
# How this is checked: every module of the package outside pwmodel/models/ (and the code of
# the notebooks and benchmarks) is parsed and each arithmetic expression (+ - * / ** //)
# is asked which model quantities it reads: a
# registry parameter or per-evaluation symbol (models.symbols) by its name, as a key
# (v["local_rate_hz"]), a variable or an attribute of that name, or a local variable
# assigned from one (ll = v["local_rate_hz"]). An expression that combines two or more of
# them is a model formula typed again; it belongs in pwmodel/models/ as SymPy. A
# comparison of an isolation level with "idle" is a copy of the idle-owner rule
# (models/owner.py). The places below compute something else and say what.
ALLOWED_FORMULAS = {
    # the machine's topology moments that define the per-evaluation c2c inputs
    ("pwmodel/machine/profile.py", ("c2c_ns", "n_cpus")),
    # the simulator's estimate of the extra per local op from its simulated losses per
    # drain (the measured counterpart of contention.local_op_extra_expr)
    ("pwmodel/simulate/fanout.py", ("local_rate_hz", "remote_rate_hz")),
}


def _model_quantities() -> set[str]:
    from pwmodel import params as P
    from pwmodel.models.symbols import EXTRA
    return set(P.PARAMS) | set(EXTRA)


def formulas_in(source: str, filename: str = "<source>") -> list[tuple[int, tuple[str, ...], str]]:
    """(line, quantities, text) of each arithmetic expression of ``source`` combining two
    or more model quantities (outermost expressions only), and of each comparison of an
    isolation level (a name with 'iso' in it) with an idle level."""
    import ast

    from pwmodel.models import owner as OW
    names = _model_quantities()
    arith = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.FloorDiv)

    def direct(node) -> str | None:
        if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant) \
                and node.slice.value in names:
            return node.slice.value
        if isinstance(node, ast.Name) and node.id in names:
            return node.id
        if isinstance(node, ast.Attribute) and node.attr in names:
            return node.attr
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                and node.func.id in ("float", "int") and node.args:
            return direct(node.args[0])
        return None

    tree = ast.parse(source, filename)
    found: dict[tuple[int, int], tuple[int, tuple[str, ...], str, int]] = {}
    for scope in ast.walk(tree):
        if not isinstance(scope, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            continue
        alias: dict[str, str] = {}
        nodes = list(ast.walk(scope))
        for n in nodes:
            if isinstance(n, ast.Assign) and len(n.targets) == 1:
                t, v = n.targets[0], n.value
                pairs = (zip(t.elts, v.elts) if isinstance(t, ast.Tuple) and isinstance(v, ast.Tuple)
                         else [(t, v)])
                for a, b in pairs:
                    if isinstance(a, ast.Name) and direct(b):
                        alias[a.id] = direct(b)  # type: ignore[assignment]
        for n in nodes:
            if isinstance(n, ast.BinOp) and isinstance(n.op, arith):
                q = set()
                for m in ast.walk(n):
                    d = direct(m) or (alias.get(m.id) if isinstance(m, ast.Name) else None)
                    if d:
                        q.add(d)
                if len(q) >= 2:
                    size = sum(1 for _ in ast.walk(n))
                    key = (n.lineno, n.col_offset)
                    if key not in found or found[key][3] < size:
                        found[key] = (n.lineno, tuple(sorted(q)), ast.unparse(n), size)
            sides = [n.left, *n.comparators] if isinstance(n, ast.Compare) else []
            if any(isinstance(c, ast.Constant) and c.value in OW.IDLE_LEVELS for c in sides) \
                    and any("iso" in (getattr(c, "id", "") or getattr(c, "attr", ""))
                            for c in sides):
                found[(n.lineno, n.col_offset)] = (n.lineno, ("isolation",), ast.unparse(n), 0)
    rows = sorted(found.values())
    # outermost only: drop an expression inside another found one on the same line
    return [(ln, q, s) for ln, q, s, _ in rows
            if not any(s != s2 and s in s2 and ln2 == ln for ln2, _, s2, _ in rows)]


def _code(path) -> str:
    """Python source of a module, or of a notebook's code cells (magics left out)."""
    import json
    if path.suffix != ".ipynb":
        return path.read_text()
    cells = json.loads(path.read_text())["cells"]
    src = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    return "\n".join(ln for ln in src.splitlines() if not ln.lstrip().startswith(("%", "!")))


def test_no_model_formula_outside_models():
    from pathlib import Path
    root = Path(__file__).resolve().parents[1]
    wrong = []
    paths = [*root.joinpath("pwmodel").rglob("*.py"), *root.joinpath("notebooks").glob("*.ipynb"),
             *root.joinpath("benchmarks").glob("*.py")]
    for path in sorted(paths):
        rel = path.relative_to(root).as_posix()
        if rel.startswith("pwmodel/models/"):
            continue
        for line, q, text in formulas_in(_code(path), rel):
            if (rel, q) not in ALLOWED_FORMULAS:
                wrong.append(f"{rel}:{line}: {text}  (reads {', '.join(q)})")
    assert not wrong, "model formulas outside pwmodel/models/:\n" + "\n".join(wrong)


def test_the_formula_scan_finds_planted_copies():
    """The scan is not vacuous: copies of rules once retyped outside models/ are found."""
    planted = '''
def load(v, qw_cpu, tax):
    lam_r, lam_l = v["remote_rate_hz"], v["local_rate_hz"]
    return (lam_r * qw_cpu + v["n_cpus"] * lam_l * tax) * 1e-9

def s_q(ps):
    return ps["batch_items"] * ps["item_drain_ns"]

def owner(sc, v):
    return {**v, "local_rate_hz": 0.0} if sc.isolation == "idle" else v

'''
    found = formulas_in(planted)
    assert [(ln, q) for ln, q, _ in found] == [
        (4, ("local_rate_hz", "n_cpus", "remote_rate_hz")),
        (7, ("batch_items", "item_drain_ns")),
        (10, ("isolation",)),
    ]
    # a product of a model quantity with a plain number is a unit conversion, not a rule
    assert not formulas_in("def f(v):\n    return v['remote_rate_hz'] * 1e-9\n")
