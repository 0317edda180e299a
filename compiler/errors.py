"""Compile errors that point at the user's source.

Every error the front end raises is an ``AdError`` carrying a source span, so the CLI and the
Python API can print ``file:line:col``, the offending line and a caret, instead of a traceback
from inside the compiler.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Span:
    """A 1-based source position; ``end_col`` is exclusive and on the same line when set."""

    line: int
    col: int
    end_col: int | None = None

    def __str__(self) -> str:
        return f"{self.line}:{self.col}"


class AdError(Exception):
    """A syntax or type error in .ad source, reported at a span with an optional hint."""

    def __init__(self, kind: str, message: str, span: Span | None, hint: str | None = None,
                 filename: str = "<string>", source: str | None = None):
        self.kind = kind
        self.message = message
        self.span = span
        self.hint = hint
        self.filename = filename
        self.source = source
        super().__init__(self.render())

    def located(self, filename: str, source: str) -> "AdError":
        """The same error, tied to the file it came from (the front end learns this late)."""
        return AdError(self.kind, self.message, self.span, self.hint, filename, source)

    @property
    def line(self) -> int | None:
        return self.span.line if self.span else None

    @property
    def col(self) -> int | None:
        return self.span.col if self.span else None

    def render(self) -> str:
        where = f"{self.filename}:{self.span}" if self.span else self.filename
        out = [f"{where}: {self.kind}: {self.message}"]
        if self.span and self.source is not None:
            lines = self.source.splitlines()
            if 1 <= self.span.line <= len(lines):
                text = lines[self.span.line - 1].rstrip("\n")
                width = 1
                if self.span.end_col and self.span.end_col > self.span.col:
                    width = self.span.end_col - self.span.col
                out.append(f"    {text}")
                out.append("    " + " " * (self.span.col - 1) + "^" * width)
        if self.hint:
            out.append(f"  hint: {self.hint}")
        return "\n".join(out)

    def __str__(self) -> str:
        return self.render()
