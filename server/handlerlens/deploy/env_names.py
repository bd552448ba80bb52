"""Completion and hover of environment variable names in `os.environ["…"]`, `os.getenv("…")`,
`os.environ.get("…")`: the names the functions reaching the file declare, and the platform's.
Plain data in and out (the language server converts it); works on the line text alone, so a
line being typed that does not parse still completes."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from handlerlens.core.model import FunctionSpec
from handlerlens.core.problems import Span
from handlerlens.core.text import utf16_column
from handlerlens.deploy.facts import PLATFORM_ENV

# An env access whose string is open at the end of the text before the cursor.
_OPEN = re.compile(r"""(?:environ\s*\[\s*|environ\.get\(\s*|getenv\(\s*)(['"])(\w*)$""")
# A complete one, anywhere on a line.
_WHOLE = re.compile(r"""(?:environ\s*\[\s*|environ\.get\(\s*|getenv\(\s*)(['"])(\w+)\1""")


@dataclass(frozen=True)
class EnvItem:
    """One name to offer: its label, a one-line detail and a markdown doc."""

    name: str
    detail: str
    documentation: str
    declared: bool  # declared by a function (sorted first) rather than set by the platform


def _declared_doc(name: str, specs: list[FunctionSpec]) -> tuple[list[str], list[str]]:
    where: list[str] = []
    missing: list[str] = []
    for spec in specs:
        file = os.path.basename(spec.declared_in) if spec.declared_in else "no declaring file"
        if name in spec.env:
            where.append(f"`{spec.env[name]}` in function '{spec.name}' ({file})")
        else:
            missing.append(f"'{spec.name}' ({file})")
    return where, missing


def complete_env(
    line: str, character: int, specs: list[FunctionSpec]
) -> tuple[Span, list[EnvItem]] | None:
    """Names for the env string open before `character` (a UTF-16 column) on `line` (its
    zero-based number is not needed: the span's line is 0 and the caller shifts it)."""
    prefix = _prefix(line, character)
    match = _OPEN.search(prefix)
    if match is None:
        return None
    start = len(prefix) - len(match.group(2))
    span = Span.of(0, utf16_column(line, start), 0, utf16_column(line, len(prefix)))
    items: dict[str, EnvItem] = {}
    for spec in specs:
        for name in spec.env:
            if name in items:
                continue
            where, missing = _declared_doc(name, specs)
            doc = "Declared: " + "; ".join(where)
            if missing:
                doc += "\n\nNot declared for: " + ", ".join(missing) + " (KeyError there)"
            items[name] = EnvItem(name, f"= {spec.env[name]}", doc, True)
    for platform in dict.fromkeys(s.platform for s in specs):
        for name, what in PLATFORM_ENV.get(platform, {}).items():
            if name not in items:
                title = "AWS Lambda" if platform == "aws" else "Yandex Cloud Functions"
                items[name] = EnvItem(name, f"set by {title}", f"Set by {title}: {what}", False)
    return span, list(items.values())


def hover_env(line: str, character: int, specs: list[FunctionSpec]) -> tuple[Span, str] | None:
    """Markdown for the env name under `character` on `line`, with its span (line 0)."""
    for match in _WHOLE.finditer(line):
        start, end = match.start(2), match.end(2)
        lo, hi = utf16_column(line, start), utf16_column(line, end)
        if not lo <= character <= hi:
            continue
        name = match.group(2)
        where, missing = _declared_doc(name, specs)
        rows = [f"**{name}** — environment variable"]
        if where:
            rows.append("Declared: " + "; ".join(where))
        for platform in dict.fromkeys(s.platform for s in specs):
            what = PLATFORM_ENV.get(platform, {}).get(name)
            if what is not None:
                title = "AWS Lambda" if platform == "aws" else "Yandex Cloud Functions"
                rows.append(f"Set by {title}: {what}")
        if missing:
            rows.append("Not declared for: " + ", ".join(missing))
        return Span.of(0, lo, 0, hi), "\n\n".join(rows)
    return None


def _prefix(line: str, character: int) -> str:
    """The text of `line` before UTF-16 column `character`."""
    if line.isascii():
        return line[:character]
    units = 0
    for i, ch in enumerate(line):
        if units >= character:
            return line[:i]
        units += 2 if ord(ch) > 0xFFFF else 1
    return line
