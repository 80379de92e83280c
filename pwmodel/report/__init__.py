"""The report: figures and plain-text answers (cover letter, tables) from the model.

``pwmodel report --out DIR`` calls :func:`pwmodel.report.build.build` with a
:class:`pwmodel.report.results.Config`. Modules: ``results`` (the model
queries), ``text`` (recorded numbers, ASCII tables, text charts), ``tables``
(``table.txt``), ``cover`` (``cover-letter.txt``), ``style`` and
``figures`` (PNG + SVG), ``measured`` (optional measured inputs), ``build``.
"""

from __future__ import annotations
