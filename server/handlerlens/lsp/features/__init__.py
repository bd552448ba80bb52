"""LSP features, one module each; every module exposes `register(server)`.

`FEATURES` is the one list of them, registered in its order by `register_all`. Each module
registers its own LSP methods and commands; none registers a method another one does (pygls
keeps one handler per method), and none attaches anything to the server: what they share
(the runners, the settings, the workspaces) is declared on `HandlerLensServer`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from handlerlens.lsp.features import (
    code_actions,
    codelens,
    commands,
    completion,
    debug,
    documents,
    hover,
    routes,
)

if TYPE_CHECKING:
    from handlerlens.lsp.server import HandlerLensServer

FEATURES = (documents, codelens, hover, code_actions, completion, commands, debug, routes)


def register_all(server: HandlerLensServer) -> None:
    """Wire every feature module into `server`."""
    for feature in FEATURES:
        feature.register(server)
