"""The runner agrees with the deploy checks: modules the handler imported that work here but
would not be there deployed (issue #19, item 5; `import-not-packaged` is the static side).

After the handler module loads, every top-level module a file of the code root imported is
looked at once: a builtin, a file of the standard library, of the code root or of a folder
the deployment adds (layers) is there deployed; so is a module the platform preinstalls
(boto3 on AWS) or one a packaged requirement installs — the requirements and their own
dependencies, read from this interpreter's metadata, which is the one that runs the
function. Anything else is said once, on stderr (the function's log): "works here, would
fail deployed: …".

Only the code root's own imports are judged (a Recorder notes them as the handler loads):
a package's imports may be optional, guarded by `try`, and say nothing about the deployment.
The supervisor sends what the deployment provides in the init message (`deployed`, see
protocol.InitMessage); without it nothing is checked. Standard library only, and
importlib.metadata is loaded only when a module came from outside every allowed folder.
"""

from __future__ import annotations

import builtins
import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Any

_STDLIB = os.path.dirname(os.path.realpath(os.__file__))


def _canonical(name: str) -> str:
    """A distribution name as pip compares them (PEP 503)."""
    out: list[str] = []
    dash = False
    for ch in name.lower():
        if ch in "-_.":
            dash = True
            continue
        if dash and out:
            out.append("-")
        dash = False
        out.append(ch)
    return "".join(out)


def _under(path: str, folders: Iterable[str]) -> bool:
    return any(path == f or path.startswith(f.rstrip(os.sep) + os.sep) for f in folders)


def _file_of(module: Any) -> str | None:
    file = getattr(module, "__file__", None)
    if isinstance(file, str) and file:
        return file
    paths = getattr(module, "__path__", None)  # a namespace package: its first folder
    try:
        first = next(iter(paths)) if paths is not None else None
    except (StopIteration, TypeError):
        return None
    return first if isinstance(first, str) and first else None


class Recorder:
    """While the handler loads, `__import__` notes each top-level module an import statement
    of a code-root file names (the function's own imports, not those of its packages, which
    may be optional: `try: import simplejson`), with where — also when a package loaded it
    first. `importlib.import_module` and relative imports are not noted."""

    def __init__(self, code_root: str) -> None:
        self.root = os.path.realpath(code_root)
        self.imported: dict[str, tuple[str, int]] = {}  # name → (importing file, line)
        self._ours: dict[str, bool] = {}
        self._saved: Any = None

    def _note(self, name: str, importer: Any) -> None:
        top = name.partition(".")[0]
        if not top or top in self.imported or not isinstance(importer, dict):
            return
        file = importer.get("__file__")
        if not isinstance(file, str):
            return
        ours = self._ours.get(file)
        if ours is None:
            ours = self._ours[file] = _under(os.path.realpath(file), [self.root])
        if ours:
            self.imported[top] = (file, sys._getframe(2).f_lineno)

    def __enter__(self) -> Recorder:
        saved = self._saved = builtins.__import__

        def recording_import(
            name: str,
            globals: Any = None,
            locals: Any = None,
            fromlist: Any = (),
            level: int = 0,
        ) -> Any:
            if level == 0:
                self._note(name, globals)
            return saved(name, globals, locals, fromlist, level)

        builtins.__import__ = recording_import
        return self

    def __exit__(self, *exc: object) -> None:
        if self._saved is not None:
            builtins.__import__ = self._saved
            self._saved = None


def outside(recorder: Recorder, roots: list[str]) -> dict[str, tuple[str, tuple[str, int]]]:
    """The modules the code root imported whose file is in none of the code root, `roots`
    and the standard library: {name: (file, (importer, line))}."""
    folders = [recorder.root, *(os.path.realpath(r) for r in roots), _STDLIB]
    found: dict[str, tuple[str, tuple[str, int]]] = {}
    for name, where in recorder.imported.items():
        module = sys.modules.get(name)
        if module is None or name in sys.builtin_module_names:
            continue  # not loaded (a guarded import that failed here too), or builtin
        file = _file_of(module)
        if file is None:
            continue  # frozen
        full = os.path.realpath(os.path.abspath(file))
        if not _under(full, folders):
            found[name] = (full, where)
    return found


def _closure(dists: Iterable[str]) -> set[str]:
    """The requirements and what they require, as installed here (canonical names)."""
    from importlib import metadata

    todo = [_canonical(d) for d in dists]
    done: set[str] = set()
    while todo:
        name = todo.pop()
        if name in done:
            continue
        done.add(name)
        try:
            requires = metadata.distribution(name).requires or []
        except metadata.PackageNotFoundError:
            continue
        for line in requires:
            if "extra ==" in line or "extra==" in line:
                continue  # an extra nobody asked for (the requirement's own extras aside)
            head = line.split(";")[0].strip()
            token = ""
            for ch in head:
                if ch.isalnum() or ch in "-_.":
                    token += ch
                else:
                    break
            if token:
                todo.append(_canonical(token))
    return done


def report(recorder: Recorder, deployed: dict[str, Any]) -> list[str]:
    """The lines to log for the modules that would fail deployed (and writes them)."""
    if deployed.get("unnamed"):
        return []  # the manifest installs something from a URL or path: no claim either way
    roots = [r for r in deployed.get("roots") or [] if isinstance(r, str)]
    preinstalled = set(deployed.get("names") or [])
    found = {n: f for n, f in outside(recorder, roots).items() if n not in preinstalled}
    if not found:
        return []
    from importlib import metadata

    packaged = _closure(deployed.get("dists") or [])
    owners = metadata.packages_distributions()
    manifest = deployed.get("manifest")
    lines = []
    for name in sorted(found):
        file, (importer, line) = found[name]
        dists = sorted({_canonical(d) for d in owners.get(name, [])})
        if packaged & set(dists):
            continue
        what = f"distribution {dists[0]}" if dists else "no installed distribution"
        need = (
            f"{manifest} does not list it ({what})"
            if manifest
            else f"the code root has no requirements.txt ({what})"
        )
        by = os.path.relpath(importer, recorder.root)
        lines.append(
            f"handlerlens: works here, would fail deployed: '{name}' (imported by {by} line "
            f"{line}) comes from {file}, outside the code root and its layers, and {need}: "
            f"deployed, importing it fails with No module named '{name}'\n"
        )
    for text in lines:
        sys.stderr.write(text)
    return lines
