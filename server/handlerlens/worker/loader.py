"""Resolving an entry point (`main.handler`, `sub/mod.handler`) to the handler callable.

The resolution is awslambdaric's (split at the last dot, `/` becomes `.`), which §9 #2 of the
platform notes adopts for Yandex too. AWS failures carry the runtime's exact `Runtime.*`
types and texts; Yandex's are undocumented, so they carry the Python exception (§9 #1).
"""

from __future__ import annotations

import importlib
import sys

from .errors import InitFault

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any


def _aws_resolve(entry: str) -> Callable[..., Any]:
    try:
        modname, fname = entry.rsplit(".", 1)
    except ValueError as exc:
        raise InitFault("Runtime.MalformedHandlerName", f"Bad handler '{entry}': {exc}") from None
    if modname.split(".")[0] in sys.builtin_module_names:
        raise InitFault(
            "Runtime.BuiltInModuleConflict",
            f"Cannot use built-in module {modname} as a handler module",
        )
    try:
        module = importlib.import_module(modname.replace("/", "."))
    except ImportError as exc:
        raise InitFault(
            "Runtime.ImportModuleError", f"Unable to import module '{modname}': {exc}"
        ) from None
    except SyntaxError as exc:
        trace = [f'  File "{exc.filename}" Line {exc.lineno}\n    {exc.text}']
        raise InitFault(
            "Runtime.UserCodeSyntaxError", f"Syntax error in module '{modname}': {exc}", trace
        ) from None
    try:
        handler: Callable[..., Any] = getattr(module, fname)
    except AttributeError:
        raise InitFault(
            "Runtime.HandlerNotFound", f"Handler '{fname}' missing on module '{modname}'"
        ) from None
    return handler


def _yandex_resolve(entry: str) -> Callable[..., Any]:
    modname, _, fname = entry.rpartition(".")
    if not modname:
        raise ValueError(
            f"Bad entry point '{entry}': expected <file>.<function>, e.g. main.handler"
        )
    module = importlib.import_module(modname.replace("/", "."))
    handler: Callable[..., Any] = getattr(module, fname)
    return handler


def resolve(platform: str, entry: str) -> Callable[..., Any]:
    """Import the module and return the handler; raise InitFault or the user's exception."""
    importlib.invalidate_caches()
    if platform == "aws":
        return _aws_resolve(entry)
    return _yandex_resolve(entry)
