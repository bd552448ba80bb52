"""The root logger as each platform's runtime configures it before user code runs.

The platforms' runtimes install their handler on the root logger before importing the
function, so a `logging.basicConfig()` in user code does nothing there. Here the handler is
installed at the moment something first imports `logging` (a one-shot import hook), or at
once if it is already loaded: user code sees the same root logger, and a function that never
logs does not pay for loading the logging package (~10 ms of every cold start).
"""

from __future__ import annotations

import sys

from . import stdlib

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from importlib.machinery import ModuleSpec
    from types import ModuleType
    from typing import Any

# The request whose records are being logged (read by the handler's filter).
current_request_id = ""


def set_request_id(request_id: str) -> None:
    """Make log records carry this request id until the next call."""
    global current_request_id
    current_request_id = request_id


def _request_id() -> str:
    return current_request_id


def json_logs(platform: str, log_format: str | None) -> bool:
    """Whether the function logs in AWS's JSON format (`AWS_LAMBDA_LOG_FORMAT=JSON`)."""
    return platform == "aws" and (log_format or "").upper() == "JSON"


def configure(platform: str, level: str | None, log_format: str | None = None) -> None:
    """Have the platform's root handler installed before any user code can log.

    `level` is AWS_LAMBDA_LOG_LEVEL (TRACE means DEBUG), `log_format` AWS_LAMBDA_LOG_FORMAT.
    """

    def install() -> None:
        try:
            from . import logformat

            logformat.install(platform, level, json_logs(platform, log_format), _request_id)
        except Exception as exc:  # never break the user's `import logging`
            sys.stderr.write(f"handlerlens: the platform's log handler is missing: {exc!r}\n")

    if "logging" in sys.modules:
        install()
    else:
        sys.meta_path.insert(0, _AfterImport("logging", install))


class _AfterImport:
    """A one-shot meta path finder: runs `then` as soon as module `name` has executed."""

    def __init__(self, name: str, then: Callable[[], None]) -> None:
        self.name = name
        self.then = then

    def find_spec(
        self, fullname: str, path: Sequence[str] | None = None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if fullname != self.name:
            return None
        if self in sys.meta_path:
            sys.meta_path.remove(self)
        # The standard module, as when the runtime imported it before the code root was on
        # sys.path: a `logging.py` of the function's does not replace it.
        with stdlib.StdlibPath():
            for finder in sys.meta_path:
                find = getattr(finder, "find_spec", None)
                spec: ModuleSpec | None = find(fullname, path, target) if find is not None else None
                if spec is not None:
                    break
            else:
                return None
        if spec.loader is not None:
            spec.loader = _ThenLoader(spec.loader, self.then)  # type: ignore[assignment]
        return spec


class _ThenLoader:
    """Delegates to the module's own loader, then runs `then` and steps out of the way."""

    def __init__(self, inner: Any, then: Callable[[], None]) -> None:
        self.inner = inner
        self.then = then

    def create_module(self, spec: ModuleSpec) -> ModuleType | None:
        module: ModuleType | None = self.inner.create_module(spec)
        return module

    def exec_module(self, module: ModuleType) -> None:
        with stdlib.StdlibPath():  # what the module imports in turn is standard too
            self.inner.exec_module(module)
        # The module is loaded as if by its own loader (reload, source lookups...).
        module.__loader__ = self.inner
        if module.__spec__ is not None:
            module.__spec__.loader = self.inner
        self.then()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)
