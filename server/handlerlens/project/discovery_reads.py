"""How discovery reads a file, and the quick looks at its text that spare a parse: an open
buffer's text before the file's; a size cap and no binary files; a Python file's coding
cookie honoured; a Python file with no handler-shaped `def` and a SAM template whose every
runtime is another language's are not parsed at all (most files of a big tree)."""

from __future__ import annotations

import re
from collections.abc import Mapping

from handlerlens.core.text import source_encoding
from handlerlens.project.heuristic import EVENT_NAMES
from handlerlens.project.walk import MAX_CONFIG_BYTES

# What a handler-shaped function's first line must look like (`def handler(event, …`, any
# event name the heuristic accepts): files without one are not parsed for the guess (most
# Python files of a big tree; parsing them was 1.5 s of serverless-patterns' discovery).
_MAY_HOLD_HANDLER = re.compile(
    r"def\s+\w+\s*\(\s*_*(?:\w*_event|" + "|".join(sorted(EVENT_NAMES)) + r")\b", re.IGNORECASE
)
# The same on lowered ASCII text: found by a fast scan for its literal start (a third of the
# time over serverless-patterns' 1,400 Python files).
_MAY_HOLD_HANDLER_LOWER = re.compile(_MAY_HOLD_HANDLER.pattern.lower())


def may_hold_handler(text: str) -> bool:
    """Whether `text` may hold a handler-shaped function (_MAY_HOLD_HANDLER, faster)."""
    if text.isascii():
        return _MAY_HOLD_HANDLER_LOWER.search(text.lower()) is not None
    return _MAY_HOLD_HANDLER.search(text) is not None


_PYTHON = re.compile("python", re.IGNORECASE)
# A literal runtime of another language, in YAML (`Runtime: nodejs20.x`) or JSON.
_OTHER_RUNTIME = re.compile(
    r"""["']?Runtime["']?\s*:\s*["']?(?:nodejs|java|go|dotnet|ruby|provided)""", re.IGNORECASE
)
# The same on lowered ASCII text (the optional quote before the key changes no answer).
_OTHER_RUNTIME_LOWER = re.compile(
    r"""runtime["']?\s*:\s*["']?(?:nodejs|java|go|dotnet|ruby|provided)"""
)


def may_declare_python(template: str) -> bool:
    """False for a CloudFormation template whose functions all have another language: it
    names a runtime (`nodejs20.x`, `java21`) and never Python. Such templates are about half
    the YAML of a big tree (serverless-patterns: 209 of 564), and composing them only found
    problems in code HandlerLens does not check. Templates naming no runtime (one being
    typed, a broken one) are still parsed, so their parse errors are still shown."""
    if template.isascii():
        # The same test on the lowered text: case-sensitive patterns that start with a literal
        # are found by a fast scan (the case-insensitive ones try every position).
        lowered = template.lower()
        return "python" in lowered or _OTHER_RUNTIME_LOWER.search(lowered) is None
    return _PYTHON.search(template) is not None or _OTHER_RUNTIME.search(template) is None


def read_text(
    path: str, opened: Mapping[str, str], limit: int = MAX_CONFIG_BYTES, *, python: bool = False
) -> str | None:
    """An open buffer's text, else the file's; None for big, binary or unreadable files."""
    if path in opened:
        text = opened[path]
        return text if len(text) <= limit else None
    try:
        # One byte past the limit tells a file that is too big: no stat of its own (a big
        # tree reads thousands of small files).
        with open(path, "rb") as handle:
            data = handle.read(limit + 1)
    except OSError:
        return None
    if len(data) > limit or b"\x00" in data:
        return None
    # Python honours a PEP 263 coding cookie; declaring files are UTF-8.
    encoding = (source_encoding(data) if python else None) or "utf-8-sig"
    return data.decode(encoding, errors="replace")
