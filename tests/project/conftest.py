"""Shared helpers for the project-model tests: fixture projects and span reading."""

from __future__ import annotations

import re
from pathlib import Path

from handlerlens.core.problems import Span

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "projects"


def fixture(name: str) -> str:
    """The absolute path of one fixture project."""
    return str(FIXTURES / name)


def text_at(text: str, span: Span) -> str:
    """The text a span covers, reading its columns as UTF-16 code units (as an editor does)."""
    lines = re.split(r"\r\n|\r|\n", text)

    def offset(line: int, character: int) -> int:
        before = sum(len(x) for x in lines[:line])
        breaks = len("".join(re.findall(r"\r\n|\r|\n", text)[:line]))
        units = lines[line].encode("utf-16-le")[: character * 2].decode("utf-16-le")
        return before + breaks + len(units)

    return text[
        offset(span.start.line, span.start.character) : offset(span.end.line, span.end.character)
    ]


def file_text_at(path: str, span: Span) -> str:
    """`text_at` over a file on disk."""
    return text_at(Path(path).read_text(encoding="utf-8"), span)
