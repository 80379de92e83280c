"""Running the numbered notebooks from tests: where they are, the environment they run in.

Shared by tests/test_notebooks.py (small size, all notebooks) and tests/test_story.py (full
size, one notebook per machine)."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Iterator

NB_DIR = Path(__file__).resolve().parent.parent / "notebooks"
NOTEBOOKS = sorted(NB_DIR.glob("0*.ipynb"))
INLINE = "module://matplotlib_inline.backend_inline"


def _apply(values: dict[str, str | None]) -> None:
    for k, v in values.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@contextlib.contextmanager
def environ(**values: str | None) -> Iterator[None]:
    """Set (a string) or remove (None) environment variables for the block; afterwards each
    is as it was before, set or not."""
    old = {k: os.environ.get(k) for k in values}
    try:
        _apply(values)
        yield
    finally:
        _apply(old)


def execute(nb: "object", timeout: int) -> "object":
    """Execute the notebook ``nb`` (read by nbformat) in place, in a fresh kernel started in
    the notebooks folder; the cells run before an error keep their outputs."""
    import nbclient
    nbclient.NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(NB_DIR)}}).execute()
    return nb
