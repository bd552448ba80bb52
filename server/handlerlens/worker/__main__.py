"""Launcher: `python path/to/worker/__main__.py CONTROL_FD RESULT_FD LIFELINE_FD [--debug]`.

Run by file path, this file's directory lands on `sys.path[0]`; it is removed (the function's
code root goes first instead) and the package is loaded under a private name, so a user module
called `channel` or `runtime` can never shadow ours, nor ours theirs.
"""

from __future__ import annotations

import importlib.util
import os
import sys


def _load_package() -> object:
    here = os.path.dirname(os.path.abspath(__file__))
    if sys.path and os.path.abspath(sys.path[0] or ".") == here:
        del sys.path[0]
    spec = importlib.util.spec_from_file_location(
        "_handlerlens_worker",
        os.path.join(here, "__init__.py"),
        submodule_search_locations=[here],
    )
    assert spec is not None and spec.loader is not None
    package = importlib.util.module_from_spec(spec)
    sys.modules["_handlerlens_worker"] = package
    spec.loader.exec_module(package)
    return importlib.import_module("_handlerlens_worker.serve")


if __name__ == "__main__":
    serve = _load_package()
    sys.exit(serve.main(sys.argv[1:]))  # type: ignore[attr-defined]
