"""Code lenses "▶ Run handler" / "Debug handler" above every detected handler."""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

from lsprotocol import types as lsp

from handlerlens.lsp.convert import to_path, to_range
from handlerlens.lsp.payloads import lens_entries
from handlerlens.lsp.server import HandlerLensServer

if TYPE_CHECKING:
    from handlerlens.engine.workspace import WorkspaceState

READY_WAIT_SECONDS = 5.0
# How long a lens request for an open file waits for the first look (a fraction of a second).
FIRST_LOOK_WAIT_SECONDS = 2.0


def lenses_for(
    server: HandlerLensServer, path: str, ws: WorkspaceState | None = None
) -> list[lsp.CodeLens]:
    """Two lenses per function whose handler is defined in `path` (as `ws` knows them, by
    default its workspace): payloads.lens_entries, which the early look sends as JSON."""
    sites = (ws or server.workspace_for(path)).handlers_in(path)
    return [
        lsp.CodeLens(
            range=to_range(span),
            command=lsp.Command(title=title, command=command, arguments=[ref]),
        )
        for span, title, command, ref in lens_entries(sites, path, server.settings.client_commands)
    ]


def register(server: HandlerLensServer) -> None:
    """Wire textDocument/codeLens."""

    @server.feature(lsp.TEXT_DOCUMENT_CODE_LENS)
    async def code_lens(
        ls: HandlerLensServer, params: lsp.CodeLensParams
    ) -> list[lsp.CodeLens] | None:
        path = to_path(params.text_document.uri)
        if path is None or not path.endswith(".py"):
            return None
        ls.lenses_asked.add(path)
        if not ls.ready.is_set() and path in ls.sources.overlays:
            # The first look at the open files is coming or under way: wait for it. Answered
            # "none" now, VS Code asks again only after the refresh and its own pause, ~0.3–0.8 s
            # later than the lenses could be drawn (issue #21, bench/STARTUP.md).
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(ls.first_looked.wait(), FIRST_LOOK_WAIT_SECONDS)
        early = ls.first_look.get(path) if not ls.ready.is_set() else None
        if early is not None:
            # Looked at first (server.look_first): its lenses now, the workspace's once read
            # (`lens_refresh`). None there (a guessed function, a declaration further away):
            # as for a file not looked at.
            found = lenses_for(ls, path, early)
            if found:
                return found
        if not ls.ready.is_set() and ls.lenses_refresh:
            # The workspace is still being read. Answer now, and ask for lenses again once it
            # is read: VS Code paces its later lens requests by how long this one took, and a
            # 5 s wait here delayed the lenses by as much again after the refresh.
            ls.lenses_owed = True
            return None
        try:
            await asyncio.wait_for(ls.ready.wait(), READY_WAIT_SECONDS)
        except asyncio.TimeoutError:
            return None
        return lenses_for(ls, path) or None
