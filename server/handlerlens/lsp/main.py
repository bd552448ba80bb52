"""Where the language server is put together: the pygls check and patches, then the features.

`handlerlens lsp` imports this module only; the server (`server.py`) knows nothing of its
features, and the features import the server's class, so the dependency runs one way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from handlerlens.lsp.server import HandlerLensServer


def build_server() -> HandlerLensServer:
    """A server with every feature registered.

    Raises `pygls_patches.PyglsVersionError` on a pygls other than the one the patches were
    written against, before the rest of pygls is imported.
    """
    from handlerlens.lsp import pygls_patches

    pygls_patches.apply()
    # Imported once the version is known to be right (they import pygls' server and types).
    from handlerlens.lsp.features import register_all
    from handlerlens.lsp.server import HandlerLensServer

    server = HandlerLensServer()
    register_all(server)
    return server
