"""One home per rule: code outside pwmodel/models/ does not rebuild what it copies.

A scenario changed in one input is a ``dataclasses.replace`` of the caller's, never a
positional rebuild (which silently drops every field added later, e.g. the dirty-count
convention)."""

from __future__ import annotations


def _fields_kept(monkeypatch, module, call) -> None:
    """Every scenario ``call`` evaluates through ``module.evaluate`` equals the caller's in
    every field but the overrides (a positional rebuild once dropped the newer fields)."""
    import dataclasses

    from pwmodel import evaluate as E
    from pwmodel import machine as M
    seen = []
    real = E.evaluate

    def spy(sc, n):
        seen.append(sc)
        return real(sc, n)
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
