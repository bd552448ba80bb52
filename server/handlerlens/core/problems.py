"""Problems found by analysis: plain data, no LSP types (the server converts them)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class Severity(enum.IntEnum):
    """Same numbering as LSP's DiagnosticSeverity, so conversion is a cast."""

    ERROR = 1
    WARNING = 2
    INFO = 3
    HINT = 4


@dataclass(frozen=True, order=True)
class Position:
    """Zero-based line and column; the column counts UTF-16 code units, as LSP does."""

    line: int
    character: int


@dataclass(frozen=True, order=True)
class Span:
    """A half-open range in one file."""

    start: Position
    end: Position

    def shifted(self, lines: int) -> Span:
        """The same columns, `lines` further down."""
        return Span(
            Position(self.start.line + lines, self.start.character),
            Position(self.end.line + lines, self.end.character),
        )

    @staticmethod
    def of(line: int, start: int, end_line: int | None = None, end: int | None = None) -> Span:
        """Shorthand: `Span.of(3, 4, 3, 11)`; a missing end means the same point."""
        el = line if end_line is None else end_line
        ec = start if end is None else end
        return Span(Position(line, start), Position(el, ec))


@dataclass(frozen=True)
class Fix:
    """A mechanical edit that resolves a problem: replace `span` in `path` by `new_text`."""

    title: str
    path: str
    span: Span
    new_text: str


@dataclass(frozen=True)
class Problem:
    """One diagnostic: where, how bad, a stable kebab-case code and a message for people."""

    path: str
    span: Span
    severity: Severity
    code: str
    message: str
    fixes: tuple[Fix, ...] = field(default=())
    related: tuple[tuple[str, Span, str], ...] = field(default=())
    # The same mistake as the problem in `related[0]`, seen from another file (the Python side
    # of a misspelt entry point): an editor shows it here as a hint; it is counted and
    # printed once, at that other place (`check` leaves echoes out).
    echo: bool = False
