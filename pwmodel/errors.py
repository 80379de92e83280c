"""One error type for bad input: it names the file, line or field."""

from __future__ import annotations


class PwmodelError(Exception):
    """Bad input or a refused computation.

    The message says what was expected and what was found; ``where`` names
    the file, line and/or field so the CLI can print it without a traceback.
    """

    def __init__(self, message: str, *, file: str | None = None,
                 line: int | None = None, field: str | None = None) -> None:
        self.message = message
        self.file = file
        self.line = line
        self.field = field
        super().__init__(self.__str__())

    @property
    def where(self) -> str:
        parts = []
        if self.file is not None:
            parts.append(str(self.file) + (f":{self.line}" if self.line is not None else ""))
        elif self.line is not None:
            parts.append(f"line {self.line}")
        if self.field is not None:
            parts.append(f"field '{self.field}'")
        return ", ".join(parts)

    def __str__(self) -> str:
        w = self.where
        return f"{w}: {self.message}" if w else self.message
