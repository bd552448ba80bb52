"""Syntax the server's Python may lack: a runtime newer than the Python HandlerLens runs on.

A module that does not parse here may parse on the function's runtime (PEP 701 f-strings on
python3.12 while the server runs 3.11): such a failure is reported as unchecked, not as an
error, when the failing line holds a construct a newer grammar added.
"""

from __future__ import annotations

import os
import re
import sys

from handlerlens.analysis.sources import Sources
from handlerlens.core.model import FunctionSpec
from handlerlens.core.python_module import ModuleInfo
from handlerlens.core.text import split_lines
from handlerlens.platforms.rules import runtime_python

SYNTAX_UNCHECKED = "entry-point-syntax-unchecked"
# Constructs a newer Python grammar added, on the line a parse fails at: PEP 701 f-strings
# (3.12: nested quotes, backslashes, comments), PEP 695 `type X = …` and `def f[T]`/`class
# C[T]` (3.12), `except*` and PEP 646 star unpacking (3.11), PEP 758 `except A, B:` and
# t-strings (3.14).
_NEWER_GRAMMAR = re.compile(
    r"""(?x)
    (?:^|[^\w])(?:[rR]?[fFtT]|[fFtT][rR])['"]   # an f-string or t-string
    | ^\s*type\s+\w+\s*(?:\[.*\])?\s*=            # a type alias statement
    | ^\s*(?:async\s+)?(?:def|class)\s+\w+\s*\[   # type parameters
    | ^\s*except\s*\*                              # an exception group handler
    | ^\s*except\s+[\w.]+\s*,\s*[\w.]+.*:          # several exceptions without parentheses
    | \[\s*\*\w | :\s*\*\w                            # PEP 646 `tuple[*Ts]`, `*args: *Ts` (3.11)
    """
)


def _server_python() -> tuple[int, int]:
    return sys.version_info[0], sys.version_info[1]


def newer_grammar(spec: FunctionSpec, info: ModuleInfo, sources: Sources, path: str) -> bool:
    """Whether a parse failure may be the server's Python lacking the runtime's grammar.

    Only when the runtime is newer than the server's Python (or undeclared: the platforms
    accept up to 3.14) and the line the failure is on holds a construct a newer Python
    added; any other failure is a syntax error on every Python, the runtime's included, so
    it stays an error. A runtime older than the server's Python is not looked at: a
    construct its grammar lacks parses here and goes unreported.
    """
    server = _server_python()
    target = runtime_python(spec.runtime) if spec.runtime else None
    if (target is not None and target <= server) or server >= (3, 14):
        return False
    err = info.syntax_error
    text = sources.text(path)
    if err is None or text is None:
        return False
    lines = split_lines(text)  # LSP's lines, as the error's span counts them
    row = err.span.start.line
    return row < len(lines) and _NEWER_GRAMMAR.search(lines[row]) is not None


def unchecked_text(spec: FunctionSpec, path: str, message: str) -> str:
    """What to say of a module the server's Python cannot parse but the runtime may."""
    server = ".".join(map(str, _server_python()))
    target = runtime_python(spec.runtime) if spec.runtime else None
    runtime = (
        f"the function's runtime {spec.runtime} (Python {target[0]}.{target[1]})"
        if target
        else "a newer runtime"
    )
    text = (
        f"{os.path.basename(path)} does not parse with Python {server}, which HandlerLens runs "
        f"on ({message}), but {runtime} has a newer grammar: its syntax could not be checked. "
        f"Run HandlerLens with that Python version or newer to check it."
    )
    return text
