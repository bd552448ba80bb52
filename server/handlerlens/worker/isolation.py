"""The function's interpreter as the platform gives it: its `sys.path`, `sys.argv`, environment.

Standard library only (see the package's docstring). The runner decides; this applies:

- `HANDLERLENS_ISOLATE=stdlib` (in the worker's start-up environment, removed here before any
  user code runs) says the interpreter is HandlerLens's own, chosen because the project has
  none: its site-packages hold HandlerLens's dependencies (PyYAML, pygls, attrs…), which the
  deployed function does not have. `sys.path` keeps the standard library only (the code root
  goes first later); a package the function forgot to require fails to import here as it does
  deployed (PLATFORMS.md §11.2 "Missing package": `Runtime.ImportModuleError`).
- `sys.argv` is the runtime's: one item, the bootstrap script (the Lambda runtime runs
  `/var/lang/bin/python3 /var/runtime/bootstrap.py`), never the CLI's or the worker's pipes.
- At init, the environment becomes exactly what the runner computed for the function
  (PLATFORMS.md §12.1: "Nothing else exists: the deploying machine's environment is never
  carried over"), plus the debugger's own variables under `--debug`.
"""

from __future__ import annotations

import os
import sys

MARK = "HANDLERLENS_ISOLATE"
# What the debugger (debugpy/pydevd) and coverage measurement of the worker itself need to
# keep working in a worker whose environment was replaced.
KEPT_PREFIXES = ("PYDEVD_", "DEBUGPY", "COVERAGE_")
# Module or path names of the debugger: kept loaded and importable under --debug.
_DEBUGGER_PARTS = ("debugpy", "pydevd", "_pydev")


def _stdlib_dir() -> str:
    return os.path.dirname(os.path.realpath(os.__file__))


def _is_stdlib(path: str, stdlib: str) -> bool:
    """An entry of the interpreter's own library: the standard library, lib-dynload, the zip."""
    if not path:
        return False
    real = os.path.realpath(path)
    parts = real.split(os.sep)
    if "site-packages" in parts or "dist-packages" in parts:
        return False
    if real == stdlib or real.startswith(stdlib + os.sep):
        return True
    # pythonXY.zip sits beside the library directory (it need not exist).
    return real.endswith(".zip") and os.path.dirname(real) == os.path.dirname(stdlib)


def _is_debugger(text: str) -> bool:
    return any(part in text for part in _DEBUGGER_PARTS)


def stdlib_only(worker_dir: str) -> None:
    """Leave the standard library (and the debugger, after it) on `sys.path`, and forget the
    modules and import hooks that came from anywhere else (site's `.pth` files, an editable
    install's finder), except the worker's own files and the debugger's."""
    stdlib = _stdlib_dir()
    # A PYTHONPATH here was passed on on purpose (`--inherit-env PYTHONPATH`): it stays.
    given = {os.path.realpath(p) for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p}
    kept = [p for p in sys.path if _is_stdlib(p, stdlib) or (p and os.path.realpath(p) in given)]
    # debugpy's launcher put its directories on sys.path: after the function's, so a user
    # module never resolves to one of them, yet pydevd's late imports still work.
    debugger = [p for p in sys.path if p not in kept and _is_debugger(p)]
    sys.path[:] = kept + debugger
    worker_dir = os.path.realpath(worker_dir)
    # An editable install's finder (setuptools' `__editable___…_finder`) answers imports of
    # its packages without sys.path; other finders of site-packages likewise (judged
    # before their modules go).
    sys.meta_path[:] = [
        finder
        for finder in sys.meta_path
        if not _foreign(getattr(finder, "__module__", "") or "", stdlib, worker_dir)
    ]
    # Modules' files are named after the sys.path entry they were found on: compare them as
    # text with the kept entries (no system call per module: `invoke` does this every time).
    places = (*kept, stdlib, os.path.dirname(os.__file__), worker_dir, os.path.dirname(__file__))
    ours = tuple({os.path.join(p, "") for p in places})
    for name, module in list(sys.modules.items()):
        origin = getattr(module, "__file__", None)
        if not isinstance(origin, str) or origin.startswith(ours) or name == "__main__":
            continue  # built in, frozen, a namespace package, ours or the standard library's
        if not (_is_debugger(name) or _is_debugger(origin)):
            del sys.modules[name]
    sys.path_importer_cache.clear()


def _foreign(module_name: str, stdlib: str, worker_dir: str) -> bool:
    """A finder defined by a module that is not the standard library's, the worker's or the
    debugger's."""
    if not module_name or module_name in sys.builtin_module_names:
        return False
    if module_name.startswith(("_frozen_importlib", "importlib", "zipimport")):
        return False
    if _is_debugger(module_name):
        return False
    module = sys.modules.get(module_name)
    origin = getattr(module, "__file__", None)
    if not isinstance(origin, str):
        return module_name.startswith("__editable__")
    real = os.path.realpath(origin)
    return not (real.startswith(worker_dir + os.sep) or _is_stdlib(os.path.dirname(real), stdlib))


def rename_package(old: str, new: str) -> None:
    """Re-register the already imported package `old` (and its modules) as `new`.

    A fork of HandlerLens (`invoke`) holds the worker as `handlerlens.worker`; a relative
    import inside it needs its top package, `handlerlens`, which is not the function's to
    import. Under the private name the spawned worker uses (`__main__.py`) it needs nothing.
    """
    for name in [n for n in sys.modules if n == old or n.startswith(old + ".")]:
        module = sys.modules.pop(name)
        renamed = new + name[len(old) :]
        module.__name__ = renamed
        spec = getattr(module, "__spec__", None)
        if spec is not None:
            spec.name = renamed
        module.__package__ = renamed if hasattr(module, "__path__") else renamed.rpartition(".")[0]
        sys.modules[renamed] = module


def start(worker_dir: str, script: str) -> None:
    """Before the worker serves: trim what the runner asked for; argv as the runtime's."""
    if os.environ.pop(MARK, "") == "stdlib":
        stdlib_only(worker_dir)
    sys.argv[:] = [script]


def replace_environ(env: dict[str, str]) -> None:
    """The process environment becomes `env` (plus the debugger's variables)."""
    kept = {k: v for k, v in os.environ.items() if k.startswith(KEPT_PREFIXES)}
    os.environ.clear()
    os.environ.update(kept)
    os.environ.update(env)
