"""Code lenses "▶ Run handler" / "Debug handler" above every detected handler."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from typing import TYPE_CHECKING

from lsprotocol import types as lsp

from handlerlens.lsp import protocol
from handlerlens.lsp.convert import to_path, to_range, to_uri
from handlerlens.lsp.server import HandlerLensServer
from handlerlens.platforms.triggers import DEFAULT_TRIGGER

if TYPE_CHECKING:
    from handlerlens.engine.workspace import HandlerSite, WorkspaceState

READY_WAIT_SECONDS = 5.0
# How long a lens request for an open file waits for the first look (a fraction of a second).
FIRST_LOOK_WAIT_SECONDS = 2.0


def function_ref(site: HandlerSite, path: str) -> protocol.FunctionRef:
    """The identity a lens command carries."""
    spec = site.spec
    return protocol.FunctionRef(
        name=spec.name,
        platform=spec.platform,
        entry=spec.entry,
        root=spec.root,
        uri=to_uri(path),
        line=site.binding.line_span.start.line,
        trigger=spec.trigger or DEFAULT_TRIGGER[spec.platform],
    )


def lenses_for(
    server: HandlerLensServer, path: str, ws: WorkspaceState | None = None
) -> list[lsp.CodeLens]:
    """Two lenses per function whose handler is defined in `path` (as `ws` knows them, by
    default its workspace)."""
    sites = (ws or server.workspace_for(path)).handlers_in(path)
    per_line = Counter(site.binding.line_span.start.line for site in sites)
    run_cmd = protocol.CLIENT_RUN if server.settings.client_commands else protocol.SERVER_RUN
    debug_cmd = protocol.CLIENT_DEBUG if server.settings.client_commands else protocol.SERVER_DEBUG
    lenses: list[lsp.CodeLens] = []
    for site in sites:
        line = site.binding.line_span.start.line
        # Several functions may share one handler (two SAM functions, one file): name them.
        suffix = f" {site.spec.name}" if per_line[line] > 1 else " handler"
        ref = function_ref(site, path)
        rng = to_range(site.binding.line_span)
        lenses.append(
            lsp.CodeLens(
                range=rng,
                command=lsp.Command(title=f"▶ Run{suffix}", command=run_cmd, arguments=[ref]),
            )
        )
        lenses.append(
            lsp.CodeLens(
                range=rng,
                command=lsp.Command(title=f"Debug{suffix}", command=debug_cmd, arguments=[ref]),
            )
        )
    return lenses


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
