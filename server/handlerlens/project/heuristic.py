"""The quiet guess for workspaces that declare nothing: handler-shaped top-level functions.

A function is guessed only when its shape says "handler" twice over: exactly two positional
parameters named like `(event, context)`, and either a conventional entry file name
(`main.py`, `index.py`, `handler.py`, `handlers.py`, `lambda_function.py`, `app.py`,
`function.py`) or a conventional function name (`handler`, `lambda_handler`, `handle`,
`main`, `*_handler`). Test files are never guessed from. The file's directory is the code
root, as both platforms expect the entry file at the root of the uploaded code. A file this
Python cannot parse (a newer grammar, a syntax error) is read from its outline, its top-level
`def` headers and one-line imports: its function is still guessed, and checking it says why
its module could not be checked, or where the syntax error is.

The platform is the setting's (or a pyproject.toml's that names only the platform) when
given, else what the evidence in and around the file says (`platform_evidence.py`); with
none, the function's platform is unknown (`platform_known` False, Yandex for running it).
"""

from __future__ import annotations

import ast
import os
import re
import warnings

from handlerlens.core.model import FunctionSpec, PlatformName
from handlerlens.project import parse_cache
from handlerlens.project.platform_evidence import (
    FolderEvidence,
    Sign,
    file_signs,
    guess_platform,
)

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


def heuristic_functions(
    path: str,
    text: str,
    root: str,
    platform: str | None,
    folders: FolderEvidence | None = None,
) -> list[FunctionSpec]:
    """Guessed functions in one Python file; `root` is the workspace root (names only).

    `platform` is the setting ("yandex"/"aws"), or None to guess it from evidence; `folders`
    caches what folders show across the files of one discovery.
    """
    name = os.path.basename(path)
    if not name.endswith(".py") or is_test_file(path, root) or len(text) > MAX_SOURCE_CHARS:
        return []
    if "\x00" in text or "def " not in text:
        return []
    known = platform in ("yandex", "aws")
    handlers, signs = _cached_scan(path, text, known)
    if not handlers:
        return []
    module = name[: -len(".py")]
    code_root = os.path.dirname(os.path.abspath(path))
    relative = os.path.relpath(code_root, root) if root else "."
    prefix = "" if relative == "." else relative.replace(os.sep, "/") + "/"
    chosen: PlatformName = "aws" if platform == "aws" else "yandex"
    evidence: tuple[str, ...] = ("the platform setting",) if known else ()
    if not known:
        guess = guess_platform(signs, code_root, root, folders)
        evidence = guess.evidence
        if guess.platform is not None:
            chosen, known = guess.platform, True
    return [
        FunctionSpec(
            name=prefix + f"{module}.{function}",
            platform=chosen,
            entry=f"{module}.{function}",
            root=code_root,
            declared_by="heuristic",
            platform_known=known,
            platform_evidence=evidence,
        )
        for function in handlers
    ]


def prescan(path: str, text: str, root: str, platform: str | None) -> bool:
    """Read what `heuristic_functions` will ask of this file into `check`'s parse cache
    ahead of time (while another core reads the Terraform modules); True when the platform
    will be guessed from the folders around it."""
    name = os.path.basename(path)
    if not name.endswith(".py") or is_test_file(path, root) or len(text) > MAX_SOURCE_CHARS:
        return False
    if "\x00" in text or "def " not in text:
        return False
    known = platform in ("yandex", "aws")
    handlers, _ = _cached_scan(path, text, known)
    return bool(handlers) and not known


def _cached_scan(path: str, text: str, platform_known: bool) -> tuple[list[str], list[Sign]]:
    cache = parse_cache.active()
    if cache is None:
        return _scan(path, text, platform_known)
    entry = parse_cache.key("heuristic", os.path.basename(path), str(platform_known), text)
    return cache.memo(entry, lambda: _scan(path, text, platform_known), facts=False)


def _scan(path: str, text: str, platform_known: bool) -> tuple[list[str], list[Sign]]:
    """The handler-shaped top-level functions of one file (by name), and, unless the platform
    is known already, the evidence of a platform in it: what depends on the file's name and
    text only (kept by them in `check`'s parse cache)."""
    tree = _parse(text, path)
    if tree is None:
        # Not Python this interpreter reads: newer grammar (PEP 701 f-strings, PEP 695 `type`
        # on a 3.11 server) or a syntax error. Its top-level `def` lines and imports still say
        # whether it holds a handler; the function is guessed, and checking it says why its
        # module could not be checked (or where its syntax error is), instead of nothing.
        tree = _outline(text)
    entry_file = os.path.basename(path) in ENTRY_FILE_NAMES
    handlers = [
        node
        for node in tree.body
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        and _handler_shaped(node)
        and (entry_file or _handler_named(node.name))
    ]
    if not handlers or platform_known:
        return [node.name for node in handlers], []
    contexts = {_positional(node)[1].arg for node in handlers}
    return [node.name for node in handlers], file_signs(path, text, tree, contexts)


def _parse(text: str, path: str) -> ast.Module | None:
    try:
        # Invalid escapes in the user's strings warn while parsing; that is not ours to show.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ast.parse(text, filename=path)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


# A top-level function's header (up to the colon that ends it) and a one-line import.
_DEF_HEADER = re.compile(
    r"^(?:async[ \t]+)?def[ \t]+\w+[ \t]*\([^()]*(?:\([^()]*\)[^()]*)*\)[ \t]*(?:->[^:\n]*)?:",
    re.MULTILINE,
)
_IMPORT_LINE = re.compile(
    r"^(?:import[ \t]+[\w., \t]+|from[ \t]+[\w.]+[ \t]+import[ \t]+.+)$", re.M
)


def _outline(text: str) -> ast.Module:
    """The top-level function headers and one-line imports of a file that does not parse,
    each parsed on its own (bodies left out)."""
    body: list[ast.stmt] = []
    for found in sorted(
        [*_DEF_HEADER.finditer(text), *_IMPORT_LINE.finditer(text)], key=lambda m: m.start()
    ):
        chunk = found.group(0) + ("\n    pass\n" if found.group(0).endswith(":") else "\n")
        tree = _parse(chunk, "<outline>")
        if tree is not None:
            body += tree.body
    return ast.Module(body=body, type_ignores=[])


def _positional(node: ast.FunctionDef | ast.AsyncFunctionDef) -> list[ast.arg]:
    return [*node.args.posonlyargs, *node.args.args]


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
    positional = _positional(node)
    if len(positional) != 2 or args.vararg is not None:
        return False
    if any(default is None for default in args.kw_defaults):
        return False  # a required keyword-only parameter: not callable as (event, context)
    event, context = (arg.arg.lstrip("_").lower() for arg in positional)
    return (event in EVENT_NAMES or event.endswith("_event")) and context in CONTEXT_NAMES
