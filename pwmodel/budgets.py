"""Latency budgets of isolated tasks, as published in data/reference/pw_series_numbers.csv.

The verdict weighs an isolated task's worst interruption against the first of
:data:`BUDGETS` (the registry's ``budget_ns`` default cites the same row) and prints the
second beside it; the report quotes both."""

from __future__ import annotations

import csv
from pathlib import Path

from pwmodel.errors import PwmodelError

SERIES = Path(__file__).resolve().parents[1] / "data" / "reference" / "pw_series_numbers.csv"

# (quantity in pw_series_numbers.csv, short label)
BUDGETS = (("5G RAN latency requirement", "5G RAN"),
           ("industrial automation response deadline", "industrial control"))


def budget_ns(quantity: str) -> float:
    """A latency budget quoted in pw_series_numbers.csv (value in us there, ns here)."""
    with open(SERIES, newline="") as fh:
        for row in csv.DictReader(fh):
            if row["quantity"] == quantity and row["unit"] == "us":
                return float(row["value"]) * 1e3
    raise PwmodelError(f"no budget '{quantity}' in pw_series_numbers.csv", file=str(SERIES),
                       field="quantity")
