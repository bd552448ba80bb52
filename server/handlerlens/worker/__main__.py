"""Launcher: `python path/to/worker/__main__.py CONTROL_FD RESULT_FD LIFELINE_FD [--debug]`.

Run by file path, this file's directory lands on `sys.path[0]`; it is removed (the function's
code root goes first instead) and the package is loaded under a private name, so a user module
called `channel` or `runtime` can never shadow ours, nor ours theirs. Then `isolation.start`
leaves the function the interpreter the platform gives it (sys.path, sys.argv).
"""

from __future__ import annotations

import importlib
import os
import sys
from importlib.machinery import ModuleSpec, SourceFileLoader

NAME = "_handlerlens_worker"


def _load_package() -> object:
    here = os.path.dirname(os.path.abspath(__file__))
    if sys.path and os.path.abspath(sys.path[0] or ".") == here:
        del sys.path[0]
    # What importlib.util's spec_from_file_location + module_from_spec do, without loading
    # importlib.util (and contextlib with it): ~8 ms of every worker's start here.
    init = os.path.join(here, "__init__.py")
    loader = SourceFileLoader(NAME, init)
    spec = ModuleSpec(NAME, loader, origin=init, is_package=True)
    spec.submodule_search_locations = [here]
    spec.has_location = True
    package = type(sys)(NAME)
    package.__spec__ = spec
    package.__loader__ = loader
    package.__file__ = init
    package.__path__ = [here]
    package.__package__ = NAME
    sys.modules[NAME] = package
    loader.exec_module(package)
    serve = importlib.import_module(f"{NAME}.serve")
    isolation = importlib.import_module(f"{NAME}.isolation")
    isolation.start(here, os.path.abspath(__file__))
    return serve


if __name__ == "__main__":
    args = sys.argv[1:]  # the pipes; sys.argv itself becomes the runtime's (isolation.py)
    serve = _load_package()
    sys.exit(serve.main(args))  # type: ignore[attr-defined]
