"""Facts of a function that does not parse as written: typing is in progress.

The incomplete expression at the cursor is completed (`r['` → `r[None]`, brackets closed) or
its line replaced by `pass`; then the lines the parser points at are blanked to `pass`, a few
times. `events.flow` tries this before the last good parse of the same function.
"""

from __future__ import annotations

import ast
import re

from handlerlens.analysis.events.facts import FunctionFacts
from handlerlens.analysis.events.walk import function_facts
from handlerlens.core.python_module import chunk_tree

_COMPOUND = re.compile(r"\s*(?:if|elif|while|for|async\s+for|with|async\s+with|else|try|except)\b")
_CLOSERS = {"(": ")", "[": "]", "{": "}"}


def parse_function(text: str, name: str, exact: bool) -> FunctionFacts | SyntaxError | None:
    """Facts of `name` in `text`; the SyntaxError if it does not parse; None if it is absent."""
    # An undecorated function's text is the statement the module's validation just parsed.
    module = chunk_tree(text + "\n")
    if module is None:
        try:
            module = ast.parse(text)
        except SyntaxError as err:
            return err
        except (ValueError, RecursionError, MemoryError):
            return None
    for node in module.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name:
            return function_facts(node, exact=exact)
    return None


def _closers(prefix: str) -> str:
    stack: list[str] = []
    quote = ""
    for ch in prefix:
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch in _CLOSERS:
            stack.append(_CLOSERS[ch])
        elif ch in ")]}" and stack:
            stack.pop()
    return "".join(reversed(stack))


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip(" \t"))]


def _cursor_repairs(lines: list[str], row: int, col: int) -> list[list[str]]:
    """Candidate texts for a function whose line `row` is being typed at `col`."""
    line = lines[row]
    pad = _indent(line) or "    "
    out: list[list[str]] = []
    if col >= len(_indent(line)):
        # Keep what precedes the half-typed expression (`for r in x: r['` keeps the loop).
        head = line[:col]
        fixed = head + "None" + _closers(head)
        out.append([*lines[:row], fixed, *lines[row + 1 :]])
        if _COMPOUND.match(fixed):
            out.append([*lines[:row], fixed + ": pass", *lines[row + 1 :]])
    out.append([*lines[:row], pad + "pass", *lines[row + 1 :]])
    out.append([*lines[:row], pad + "pass"])
    return out


def repaired(
    lines: list[str], name: str, cursor: tuple[int, int] | None, err: SyntaxError
) -> FunctionFacts | None:
    """Facts of a function that does not parse: fix the cursor's line, then blank error lines."""
    candidates = _cursor_repairs(lines, *cursor) if cursor is not None else []
    candidates.append(lines)
    for candidate in candidates:
        work = list(candidate)
        for _ in range(4):
            result = parse_function("\n".join(work), name, exact=False)
            if not isinstance(result, SyntaxError):
                if result is not None:
                    return result
                break
            row = (result.lineno or 1) - 1
            if row <= 0 or row >= len(work) or work[row].strip() == "pass":
                break
            work[row] = (_indent(work[row]) or "    ") + "pass"
    return None
