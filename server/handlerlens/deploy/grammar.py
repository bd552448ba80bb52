"""Grammar the declared runtime cannot parse (`syntax-newer-than-runtime`): each top-level
statement parsed again with `ast.parse(feature_version=…)` where it may use newer syntax, the
problem placed where the construct starts."""

from __future__ import annotations

import ast
import re
import warnings

from handlerlens.core.problems import Span
from handlerlens.deploy.scan import CHUNK_LIMIT, split

_old_syntax: dict[tuple[str, tuple[int, int]], tuple[int, int, str] | None] = {}


def older_grammar_error(text: str, version: tuple[int, int]) -> tuple[Span, str] | None:
    """Where `text` (which parses on this Python) uses grammar Python `version` lacks, with the
    parser's message; `ast.parse(feature_version=…)`, one top-level statement at a time."""
    index, chunks = split(text)
    for start, chunk in chunks:
        key = (chunk, version)
        if key in _old_syntax:
            found = _old_syntax[key]
        else:
            found = _parse_old(chunk, version)
            if len(_old_syntax) >= CHUNK_LIMIT:
                _old_syntax.clear()
            _old_syntax[key] = found
        if found is not None:
            row, col, message = found
            line = index.line(row - 1 + start)
            width = len(re.match(r"\w*", line.encode()[col:].decode(errors="ignore")).group())  # type: ignore[union-attr]
            span = index.span_ast(row + start, col, row + start, col + max(width, 1))
            return span, message
    return None


# What `ast.parse(feature_version=…)` can reject on a Python 3.7+ runtime (CHECK_VERSION in
# CPython's Grammar/python.gram): `:=` and `/` parameters and `return *a, b` (3.8), `with (…)`
# and decorators of any expression (3.9), `match` (3.10), `except*`, `a[*b]` and `*args: *Ts`
# (3.11), type parameters and `type X =` (3.12), `except A, B:` (3.14). A statement with none
# of these is not parsed a second time.
_NEWER_SYNTAX = re.compile(
    r"""(?mx)
    :=  | \bmatch\b | \bexcept\s*\* | \bwith\s*\( | \btype\s+\w
    | (?:def|class)\s+\w+\s*\[ | /\s*[,)] | \b(?:return|yield)\s+\*
    | \[\s*\* | ,\s*\*\w[^,\]]*\] | :\s*\*\w | ^\s*@ | \bexcept\s+[\w.]+\s*,
    """
)


def _parse_old(chunk: str, version: tuple[int, int]) -> tuple[int, int, str] | None:
    if _NEWER_SYNTAX.search(chunk) is None:
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(chunk, feature_version=version)
    except SyntaxError as exc:
        try:  # the split is at fault, not the version: only the version's errors count
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ast.parse(chunk)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return None
        row, col = exc.lineno or 1, max((exc.offset or 1) - 1, 0)
        # The parser points at the construct's last token: point at where it starts instead.
        kinds = [names for word, names in _CONSTRUCTS if word in str(exc.msg)]
        if kinds:
            tree = ast.parse(chunk)
            best: ast.AST | None = None
            for node in ast.walk(tree):
                start = getattr(node, "lineno", None)
                end = getattr(node, "end_lineno", None)
                if (
                    type(node).__name__ in kinds[0]
                    and start is not None
                    and end is not None
                    and start <= row
                    and (best is None or start >= getattr(best, "lineno", 0))
                ):
                    best = node
            if best is not None:
                row, col = getattr(best, "lineno", row), getattr(best, "col_offset", col)
        return (row, col, str(exc.msg))
    except (ValueError, RecursionError, MemoryError):
        return None
    return None


# Words of the parser's "… only supported in Python 3.x" messages → the nodes they are about.
_CONSTRUCTS: tuple[tuple[str, frozenset[str]], ...] = (
    ("Pattern matching", frozenset({"Match"})),
    ("Exception groups", frozenset({"TryStar"})),
    ("context managers", frozenset({"With", "AsyncWith"})),
    ("Assignment expressions", frozenset({"NamedExpr"})),
    ("Type statement", frozenset({"TypeAlias"})),
    ("Type parameter", frozenset({"FunctionDef", "AsyncFunctionDef", "ClassDef"})),
)
