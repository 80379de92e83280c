"""Call-site profiles as TOML: bundled files, their sources, bad files, and a user file
used by decide, report and sweep."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

import pwmodel
from pwmodel import cli
from pwmodel import machine as M
from pwmodel import sweep as SW
from pwmodel.errors import PwmodelError
from pwmodel.evaluate import Scenario, evaluate
from pwmodel.models import callsite as CS

BUNDLED = ("lru_add_drain", "lru_add_drain_irq", "mlock_fbatch", "slub_sheaves",
           "bh_lru", "memcg_stock", "pcp_lists", "vmstat_fold")
KERNEL_FILE = ("mm/", "fs/", "include/", "kernel/")


def test_bundled_call_sites_load_with_a_source_for_every_value():
    assert set(BUNDLED) <= set(CS.CALLSITES)
    assert tuple(CS.CALLSITES)[:4] == CS.SERIES
    for name in BUNDLED:
        cs = CS.get(name)
        assert cs.name == name and cs.description and cs.lock
        assert cs.requester in CS.PATTERNS and cs.requester_source.startswith("kernel source")
        assert cs.kernel and all(k.startswith(KERNEL_FILE) for k in cs.kernel), name
        for k in cs.params:
            src = cs.sources[k]
            assert src.startswith(("kernel source", "assumption", "data/", "measured")), (name, k)


def test_series_call_sites_keep_their_values():
    """The four call sites the series converts have the values the model always used."""
    want = {
        "lru_add_drain": {"batch_items": 15.5, "folio_lines_per_item": 1, "lines_per_item": 0.125,
                          "lines_batch_hdr": 1, "local_cs_ns": 30.0},
        "lru_add_drain_irq": {"batch_items": 15.5, "local_cs_ns": 40.0},
        "mlock_fbatch": {"local_cs_ns": 60.0, "item_drain_ns": 80.0},
        "slub_sheaves": {"batch_items": 16.0, "local_cs_ns": 15.0, "item_drain_ns": 40.0},
    }
    for name, vals in want.items():
        cs = CS.get(name)
        assert cs.requester == "flush"
        for k, v in vals.items():
            assert cs.params[k] == v, (name, k)
    # parameters a series call site does not set come from the machine profile (the
    # calibrated guest's measured work per folio stays in force for lru_add_drain)
    local = M.get("local-kvm-2vcpu")
    assert "item_drain_ns" not in CS.get("lru_add_drain").params
    assert Scenario(local).params()["item_drain_ns"] == local.costs["item_drain_ns"][0]


def test_async_patterns_are_the_non_waiting_callers():
    assert CS.get("memcg_stock").is_async and CS.get("vmstat_fold").is_async
    assert not CS.get("lru_add_drain").is_async and not CS.get("bh_lru").is_async


GOOD = CS.load(Path(pwmodel.__file__).parent / "callsites" / "lru_add_drain.toml")


def _user_toml(tmp_path: Path, item_drain_ns: float = 400.0, name: str = "my_cache") -> Path:
    text = (Path(pwmodel.__file__).parent / "callsites" / "lru_add_drain.toml").read_text()
    text = text.replace('name = "lru_add_drain"', f'name = "{name}"')
    text += (f'item_drain_ns = {{ value = {item_drain_ns}, low = 100.0, high = 800.0, '
             'source = "assumption: a heavier per-item drain than lru_add" }\n')
    f = tmp_path / f"{name}.toml"
    f.write_text(text)
    return f


@pytest.mark.parametrize("mutate,match", [
    (lambda t: t.replace('version = 1', 'version = 2'), "version"),
    (lambda t: t.replace('format = "pwmodel-callsite"', 'format = "pwmodel-machine"'), "format"),
    (lambda t: t.replace('pattern = "flush"', 'pattern = "wait"'), "requester.pattern"),
    (lambda t: t.replace('local_cs_ns = { value = 30.0', 'local_cs_nsec = { value = 30.0'),
     "unknown parameter 'local_cs_nsec'"),
    (lambda t: t.replace('local_cs_ns = { value = 30.0', 'local_cs_ns = { value = -3.0'),
     "field 'local_cs_ns'"),
    (lambda t: t.replace('lock = ', 'lok = '), "did you mean 'lock'"),
    (lambda t: t + 'item_bytes = { value = 2.0 }\n', "'params.item_bytes' must be a table with 'value' and 'source'"),
    (lambda t: t.replace('[params]', '[params\n'), ":"),
])
def test_malformed_files_get_one_line_errors(tmp_path, mutate, match, capsys):
    text = (Path(pwmodel.__file__).parent / "callsites" / "lru_add_drain.toml").read_text()
    f = tmp_path / "bad.toml"
    f.write_text(mutate(text))
    with pytest.raises(PwmodelError) as ei:
        CS.get(str(f))
    assert str(f) in str(ei.value) and match in str(ei.value)
    assert cli.main(["decide", "--callsite", str(f), "--n-cpus", "8"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(f) in err and "Traceback" not in err


def test_unknown_name_and_missing_file(tmp_path):
    with pytest.raises(PwmodelError, match="did you mean 'bh_lru'"):
        CS.get("bh_lr")
    with pytest.raises(PwmodelError, match="cannot read call-site profile"):
        CS.get(str(tmp_path / "none.toml"))


def test_user_call_site_in_decide_report_and_sweep(tmp_path, capsys):
    f = _user_toml(tmp_path)
    m = M.get("intel-xeon-8375c-2s")
    mine = evaluate(Scenario(m, callsite=str(f)), [64])
    base = evaluate(Scenario(m, callsite="lru_add_drain"), [64])
    assert mine["callsite"].to_list() == ["my_cache"] * 2
    # 8x the work per item: both strategies' requester latency grows, and by the same
    # drain work on the RL side (a sum over the dirty CPUs: 32 x 15.5 items x 350 ns)
    q = lambda df, s: df.filter(df["strategy"] == s)["requester_mean_ns"][0]  # noqa: E731
    assert q(mine, "QW") > q(base, "QW")
    assert math.isclose(q(mine, "RL") - q(base, "RL"), 32 * 15.5 * 350.0, rel_tol=1e-9)
    ps = Scenario(m, callsite=str(f)).params()
    assert ps.interval("item_drain_ns").low == 100.0
    assert "call site my_cache: assumption" in ps.sources["item_drain_ns"]

    assert cli.main(["decide", "--machine", "intel-xeon-8375c-2s", "--callsite", str(f),
                     "--n-cpus", "8,64"]) == 0
    out = capsys.readouterr().out
    assert "call site my_cache" in out or str(f) in out

    rep = tmp_path / "rep"
    assert cli.main(["report", "--out", str(rep), "--machine", "intel-xeon-8375c-2s",
                     "--callsite", str(f), "--isolation", "nohz_other", "--text-only",
                     "--quiet"]) == 0
    cover = (rep / "cover-letter.txt").read_text()
    assert "my_cache" in cover

    spec = SW.parse(f'[axes]\nmachine = ["intel-xeon-8375c-2s"]\n'
                    f'callsite = ["{f}", "lru_add_drain"]\nn_cpus = [64]\n')
    df = SW.run(spec).collect()
    assert df["callsite"].cast(str).to_list() == ["my_cache", "lru_add_drain"]
    assert df["qw_requester_mean_ns"].to_list() == [q(mine, "QW"), q(base, "QW")]


def test_user_call_site_in_the_explorer(tmp_path):
    import importlib
    WI = importlib.import_module("pwmodel.notebook.whatif")
    f = _user_toml(tmp_path)
    res = WI.whatif(WI.WhatIfState(callsite=str(f), n_cpus=16), grid_points=8)
    assert "my_cache" in res.summary
    ui = WI.WhatIf(WI.WhatIfState(callsite=str(f)))
    assert str(f) in ui.controls["callsite"].options
