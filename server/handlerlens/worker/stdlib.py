"""Standard modules the runtime loads late, never shadowed by the function's own files.

The function's code root is first on `sys.path`, as on the platforms. Modules the runtime
imported at start-up were loaded before that, so a user file named `logging.py` or
`traceback.py` could not replace them; modules it loads only when needed (to keep cold
starts short) are looked up with the code root left out, so the same file still cannot.
"""

from __future__ import annotations

import importlib
import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from types import ModuleType

# The function's code root (set at init: the worker runs with it as working directory).
code_root: str | None = None


def path_without_code_root() -> list[str]:
    """`sys.path` minus the entries that mean the code root."""
    if code_root is None:
        return list(sys.path)
    return [p for p in sys.path if p and os.path.realpath(p) != code_root]


class StdlibPath:
    """`with StdlibPath():` — imports inside see `sys.path` without the code root."""

    def __enter__(self) -> None:
        self.saved = sys.path[:]
        sys.path[:] = path_without_code_root()

    def __exit__(self, *exc: object) -> None:
        sys.path[:] = self.saved


def load(name: str) -> ModuleType:
    """The loaded module `name`, importing the standard one if it is not loaded yet."""
    module = sys.modules.get(name)
    if module is None:
        with StdlibPath():
            module = importlib.import_module(name)
    return module
