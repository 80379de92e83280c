"""Write the report folder: text files first, then the figures (PNG + SVG).

Every file is written atomically; the same inputs give the same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from pwmodel import atomic
from pwmodel.report import results as R
from pwmodel.report import style as STYLE
from pwmodel.report import tables
from pwmodel.report.text import Recorder


@dataclass
class Report:
    """What a build wrote, with the records of the numbers of each text file."""

    out_dir: Path
    files: list[Path] = field(default_factory=list)
    texts: dict[str, str] = field(default_factory=dict)
    records: dict[str, Recorder] = field(default_factory=dict)
    axis_labels: dict[str, list[tuple[str, str]]] = field(default_factory=dict)


def figure_specs(cfg: R.Config) -> list[tuple[str, Callable]]:
    """(file stem, drawing function) of every figure, in writing order."""
    from pwmodel.report import figures as FIG
    return [("crossover-map-isolation", lambda: FIG.crossover_isolation_map(cfg)),
            ("crossover-maps-rate", lambda: FIG.crossover_rate_maps(cfg)),
            ("requester-latency", lambda: FIG.requester_latency(cfg)),
            ("victim-interruption", lambda: FIG.victim_interruption(cfg)),
            ("fastpath-tax", lambda: FIG.fastpath_tax(cfg)),
            ("breakdown", lambda: FIG.breakdown(cfg)),
            ("sensitivity", lambda: FIG.sensitivity(cfg)),
            ("strategies", lambda: FIG.strategies(cfg))]


def text_specs(cfg: R.Config) -> list[tuple[str, Callable[[], tuple[str, Recorder]]]]:
    from pwmodel.report import cover
    return [("cover-letter.txt", lambda: cover.build_cover(cfg)),
            ("table.txt", lambda: tables.build_table(cfg))]


def build(cfg: R.Config, out_dir: str | Path) -> Report:
    """Write the report for ``cfg`` into ``out_dir`` (created if missing)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rep = Report(out)
    R.prefetch(cfg)      # the crossovers of every text and figure, solved together
    for name, fn in text_specs(cfg):
        text, rec = fn()
        atomic.write_text(out / name, text)
        rep.files.append(out / name)
        rep.texts[name] = text
        rep.records[name] = rec
    if not cfg.text_only:
        with STYLE.Style():
            for stem, draw in figure_specs(cfg):
                fig = draw()
                rep.axis_labels[stem] = list(STYLE.axis_labels(fig))
                rep.files += STYLE.save(fig, out, stem)
    return rep
