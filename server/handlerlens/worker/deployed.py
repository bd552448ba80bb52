"""The runner agrees with the deploy checks: modules the handler imported that work here but
would not be there deployed (issue #19, item 5; `import-not-packaged` is the static side).

After the handler module loads, every top-level module a file of the code root imported is
looked at once: a builtin, a file of the standard library, of the code root or of a folder
the deployment adds (layers) is there deployed; so is a module the platform preinstalls
(boto3 on AWS) or one a packaged requirement installs — the requirements and their own
dependencies, read from the `.dist-info` folders of this interpreter, the one that runs
the function. Anything else is said once, on stderr (the function's log): "works here, would
fail deployed: …".

Only the code root's own imports are judged (a Recorder notes them as the handler loads):
a package's imports may be optional, guarded by `try`, and say nothing about the deployment.
The supervisor sends what the deployment provides in the init message (`deployed`, see
protocol.InitMessage); without it nothing is checked. Standard library only;
importlib.metadata is not loaded (too slow for a worker start).
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
        self._wrapper: Any = None
        self._active = False

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
        self._active = True

        def recording_import(
            name: str,
            globals: Any = None,
            locals: Any = None,
            fromlist: Any = (),
            level: int = 0,
        ) -> Any:
            if level == 0 and self._active:
                self._note(name, globals)
            return saved(name, globals, locals, fromlist, level)

        self._wrapper = recording_import
        builtins.__import__ = recording_import
        return self

    def __exit__(self, *exc: object) -> None:
        self._active = False  # inert from now on, even if the code wrapped it in turn
        if self._saved is not None and builtins.__import__ is self._wrapper:
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


class _Installed:
    """Distributions installed in the folders the candidates came from (site-packages), read
    from their `.dist-info` folders directly: importlib.metadata costs ~150 ms to load and
    scan, on a worker start a save waits for; this reads only the folders concerned."""

    def __init__(self) -> None:
        self.infos: dict[str, dict[str, str]] = {}  # folder → canonical name → dist-info
        self.tops: dict[str, dict[str, list[str]]] = {}  # folder → top-level name → dists

    def _in(self, folder: str) -> dict[str, str]:
        found = self.infos.get(folder)
        if found is None:
            found = self.infos[folder] = {}
            try:
                entries = os.listdir(folder)
            except OSError:
                entries = []
            for entry in entries:
                if entry.endswith(".dist-info"):
                    found[_canonical(entry[: -len(".dist-info")].split("-")[0])] = os.path.join(
                        folder, entry
                    )
        return found

    def owners(self, name: str, file: str) -> list[str]:
        """The distributions (canonical) in `file`'s folder that install top-level `name`."""
        parent = os.path.dirname(file)
        if os.path.basename(file).startswith("__init__.") or os.path.isdir(file):
            parent = os.path.dirname(parent)  # a package (or a namespace package's folder)
        by_top = self.tops.get(parent)
        if by_top is None:
            by_top = self.tops[parent] = {}
            for dist, info in self._in(parent).items():
                for top in _tops(info):
                    by_top.setdefault(top, []).append(dist)
        return sorted(by_top.get(name, []))

    def requires(self, dist: str, folders: Iterable[str]) -> list[str]:
        """`dist`'s own requirements (no extras), canonical, if it is installed in `folders`."""
        for folder in folders:
            info = self._in(folder).get(dist)
            if info is None:
                continue
            out = []
            for line in _read(os.path.join(info, "METADATA")).splitlines():
                if not line:
                    break  # the headers end at the first blank line
                if not line.startswith("Requires-Dist:"):
                    continue
                spec = line[len("Requires-Dist:") :]
                if "extra ==" in spec or "extra==" in spec:
                    continue  # an extra nobody asked for
                token = ""
                for ch in spec.split(";")[0].strip():
                    if ch.isalnum() or ch in "-_.":
                        token += ch
                    else:
                        break
                if token:
                    out.append(_canonical(token))
            return out
        return []


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as file:
            return file.read()
    except OSError:
        return ""


def _tops(info: str) -> set[str]:
    """Top-level import names a dist-info installs: top_level.txt, else its RECORD."""
    listed = _read(os.path.join(info, "top_level.txt"))
    if listed:
        return {line.strip().replace("/", ".").split(".")[0] for line in listed.splitlines()}
    tops = set()
    for row in _read(os.path.join(info, "RECORD")).splitlines():
        path = row.split(",")[0]
        head = path.split("/")[0]
        if not head or head.startswith("..") or head.endswith((".dist-info", ".pth", ".data")):
            continue
        if head == "__pycache__" or (path.count("/") == 0 and not head.endswith((".py", ".so"))):
            continue
        tops.add(head.split(".")[0])
    return tops


def _closure(dists: Iterable[str], installed: _Installed, folders: list[str]) -> set[str]:
    """The requirements and what they require, as installed here (canonical names)."""
    todo = [_canonical(d) for d in dists]
    done: set[str] = set()
    while todo:
        name = todo.pop()
        if name not in done:
            done.add(name)
            todo += installed.requires(name, folders)
    return done


def report(recorder: Recorder, deployed: dict[str, Any]) -> list[str]:
    """Log a line for each module that would fail deployed (those `told` before aside);
    returns their names."""
    if deployed.get("unnamed"):
        return []  # the manifest installs something from a URL or path: no claim either way
    roots = [r for r in deployed.get("roots") or [] if isinstance(r, str)]
    preinstalled = set(deployed.get("names") or [])
    skip = preinstalled | set(deployed.get("told") or [])
    found = {n: f for n, f in outside(recorder, roots).items() if n not in skip}
    if not found:
        return []
    installed = _Installed()
    owners = {name: installed.owners(name, file) for name, (file, _) in found.items()}
    folders = list(installed.infos)
    packaged = _closure(deployed.get("dists") or [], installed, folders)
    manifest = deployed.get("manifest")
    lines = []
    told = []
    for name in sorted(found):
        file, (importer, line) = found[name]
        dists = owners[name]
        if packaged & set(dists):
            continue
        what = f"distribution {dists[0]}" if dists else "no installed distribution"
        need = (
            f"{manifest} does not list it ({what})"
            if manifest
            else f"the code root has no requirements.txt ({what})"
        )
        if deployed.get("layers"):
            need += ", unless one of the function's layers provides it"
        by = os.path.relpath(importer, recorder.root)
        told.append(name)
        lines.append(
            f"handlerlens: works here, would fail deployed: '{name}' (imported by {by} line "
            f"{line}) comes from {file}, outside the code root and its layers, and {need}: "
            f"deployed, importing it fails with No module named '{name}'\n"
        )
    for text in lines:
        sys.stderr.write(text)
    return told
