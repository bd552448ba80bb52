"""Which of a code root's Python files a function's code reaches, for reloading only the
functions a save concerns (several functions often share one code root: SAM `CodeUri: src/`).

Read from the files' text (deploy/scan.py's import scan), never by importing them: the handler's
module, the package `__init__.py` files above it, and every module of the code root its
imports name, followed transitively (relative imports too; `from pkg import name` counts
`pkg/name.py` when there is one). Where that cannot be told for sure — an
`importlib.import_module`/`__import__` call, a change to `sys.path`, an import that does not
parse, a handler module not found — the answer is None, and the caller reloads as if every
file were reached.
"""

from __future__ import annotations

import os
from collections import deque

from handlerlens.deploy.scan import scan_file

MAX_FILES = 2000


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except (OSError, UnicodeDecodeError):
        return None


def _module_files(base: str, dotted: str) -> list[str]:
    """The files importing `dotted` from folder `base` loads: each package's `__init__.py` on
    the way and the module itself (`a/__init__.py`, `a/b.py` or `a/b/__init__.py`)."""
    found = []
    folder = base
    parts = [part for part in dotted.split(".") if part]
    for index, part in enumerate(parts):
        package = os.path.join(folder, part, "__init__.py")
        module = os.path.join(folder, part + ".py")
        last = index == len(parts) - 1
        if os.path.isfile(package):
            found.append(package)
            folder = os.path.join(folder, part)
        elif last and os.path.isfile(module):
            found.append(module)
        elif os.path.isdir(os.path.join(folder, part)):
            folder = os.path.join(folder, part)  # a namespace package
        else:
            break
    return found


def reached_files(root: str, entry: str) -> set[str] | None:
    """The Python files under `root` that the entry point's module (`pkg.app.handler`,
    `app.handler`) reaches, as absolute normalised paths; None when unsure."""
    root = os.path.normpath(os.path.abspath(root))
    module = entry.rsplit(".", 1)[0].replace("/", ".")
    start = _module_files(root, module)
    expected = os.path.join(root, *module.split("."))
    if not start or start[-1] not in (expected + ".py", os.path.join(expected, "__init__.py")):
        return None  # the handler's module is not there: any change may matter
    seen: set[str] = set(start)
    queue = deque(start)
    while queue:
        if len(seen) > MAX_FILES:
            return None
        path = queue.popleft()
        text = _read(path)
        if text is None:
            return None
        scan = scan_file(path, text)
        if not scan.parsed or scan.dynamic_import or "sys.path" in text:
            return None  # imports it cannot follow from the text (a changed sys.path too)
        folder = os.path.dirname(path)
        for ref in scan.imports:
            if ref.level:
                base = folder
                for _ in range(ref.level - 1):
                    base = os.path.dirname(base)
            else:
                base = root
            targets = _module_files(base, ref.module) if ref.module else []
            package = os.path.join(base, *ref.module.split(".")) if ref.module else base
            for name in ref.names:
                # `from pkg import mod`: a submodule, when there is one.
                targets += _module_files(package, name) if name != "*" else []
            for target in targets:
                target = os.path.normpath(target)
                if target not in seen and target.startswith(root + os.sep):
                    seen.add(target)
                    queue.append(target)
    return seen
