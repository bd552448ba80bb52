"""The quiet guess for workspaces that declare nothing: handler-shaped top-level functions.

A function is guessed only when its shape says "handler" twice over: exactly two positional
parameters named like `(event, context)`, and either a conventional entry file name
(`main.py`, `index.py`, `handler.py`, `handlers.py`, `lambda_function.py`, `app.py`,
`function.py`) or a conventional function name (`handler`, `lambda_handler`, `handle`,
`main`, `*_handler`). Test files are never guessed from. The file's directory is the code
root, as both platforms expect the entry file at the root of the uploaded code.
"""

from __future__ import annotations

import ast
import os
import warnings

from handlerlens.project.model import FunctionSpec, PlatformName

ENTRY_FILE_NAMES = frozenset(
    {
        "main.py",
        "index.py",
        "handler.py",
        "handlers.py",
        "lambda_function.py",
        "app.py",
        "function.py",
    }
)
HANDLER_NAMES = frozenset({"handler", "lambda_handler", "handle", "main"})
EVENT_NAMES = frozenset({"event", "evt", "ev", "e", "request", "req"})
CONTEXT_NAMES = frozenset({"context", "ctx", "lambda_context", ""})
MAX_SOURCE_CHARS = 512_000


def heuristic_functions(path: str, text: str, root: str, platform: str) -> list[FunctionSpec]:
    """Guessed functions in one Python file; `root` is the workspace root (names only)."""
    name = os.path.basename(path)
    if not name.endswith(".py") or is_test_file(path, root) or len(text) > MAX_SOURCE_CHARS:
        return []
    if "\x00" in text or "def " not in text:
        return []
    try:
        # Invalid escapes in the user's strings warn while parsing; that is not ours to show.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(text, filename=path)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []
    entry_file = name in ENTRY_FILE_NAMES
    module = name[: -len(".py")]
    code_root = os.path.dirname(os.path.abspath(path))
    relative = os.path.relpath(code_root, root) if root else "."
    prefix = "" if relative == "." else relative.replace(os.sep, "/") + "/"
    chosen: PlatformName = "aws" if platform == "aws" else "yandex"
    specs = []
    for node in tree.body:
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        if not _handler_shaped(node):
            continue
        if not (entry_file or _handler_named(node.name)):
            continue
        entry = f"{module}.{node.name}"
        specs.append(
            FunctionSpec(
                name=prefix + entry,
                platform=chosen,
                entry=entry,
                root=code_root,
                declared_by="heuristic",
            )
        )
    return specs


def is_test_file(path: str, root: str) -> bool:
    """Files pytest would collect, and anything under a `tests`/`test` directory of `root`."""
    name = os.path.basename(path)
    relative = os.path.relpath(os.path.abspath(path), root) if root else path
    parts = os.path.normpath(relative).split(os.sep)[:-1]
    return (
        name.startswith("test_")
        or name.endswith("_test.py")
        or name == "conftest.py"
        or any(part in ("tests", "test") for part in parts)
    )


def _handler_named(name: str) -> bool:
    return name in HANDLER_NAMES or name.endswith("_handler")


def _handler_shaped(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    args = node.args
    positional = [*args.posonlyargs, *args.args]
    if len(positional) != 2 or args.vararg is not None:
        return False
    if any(default is None for default in args.kw_defaults):
        return False  # a required keyword-only parameter: not callable as (event, context)
    event, context = (arg.arg.lstrip("_").lower() for arg in positional)
    return (event in EVENT_NAMES or event.endswith("_event")) and context in CONTEXT_NAMES
