"""LSP features, one module each; every module exposes `register(server)`."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from handlerlens.lsp.server import HandlerLensServer

# Order matters only for documents (it wires initialize), which must come first.
FEATURES = ("documents", "codelens", "hover", "code_actions")
OPTIONAL_FEATURES = ("completion", "event_hover", "commands", "debug")


def register_all(server: HandlerLensServer) -> None:
    """Wire every feature module into `server`."""
    for name in FEATURES:
        importlib.import_module(f"{__name__}.{name}").register(server)
    for name in OPTIONAL_FEATURES:
        try:
            module = importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise
            continue
        module.register(server)
