"""Hover on event keys, context members and the event/context names inside handlers.

`textDocument/hover` has one handler per server: this module wraps the one registered
before it (hover on a handler's `def`, `features/hover.py`) and answers where that one has
nothing to say.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from lsprotocol import types as lsp

from handlerlens.lsp.convert import to_path, to_range
from handlerlens.lsp.features.completion import handler_contexts
from handlerlens.lsp.server import HandlerLensServer

log = logging.getLogger(__name__)


def event_hover(ls: HandlerLensServer, params: lsp.HoverParams) -> lsp.Hover | None:
    """Hover for the event/context access under the cursor, or None."""
    path = to_path(params.text_document.uri)
    if path is None or not path.endswith(".py"):
        return None
    handlers = handler_contexts(ls, path)
    if not handlers:
        return None
    from handlerlens.analysis.events.hover import hover

    source = ls.workspace.get_text_document(params.text_document.uri).source
    try:
        result = hover(source, params.position.line, params.position.character, handlers)
    except Exception:
        log.exception("event hover failed at %s:%s", path, params.position)
        return None
    if result is None:
        return None
    return lsp.Hover(
        contents=lsp.MarkupContent(kind=lsp.MarkupKind.Markdown, value=result.markdown),
        range=to_range(result.range),
    )


def register(server: HandlerLensServer) -> None:
    """Wire textDocument/hover, chained behind any hover registered earlier."""
    features = server.protocol.fm.features
    earlier: Callable[[lsp.HoverParams], Any] | None = features.pop(lsp.TEXT_DOCUMENT_HOVER, None)

    @server.feature(lsp.TEXT_DOCUMENT_HOVER)
    async def combined(ls: HandlerLensServer, params: lsp.HoverParams) -> lsp.Hover | None:
        if earlier is not None:
            # pygls stored it already bound to the server: it takes the params only.
            answer = earlier(params)
            if isinstance(answer, Awaitable):
                answer = await answer
            if answer is not None:
                return answer  # type: ignore[no-any-return]
        # Which functions are handlers is known once the workspace has been discovered.
        await ls.ready.wait()
        return event_hover(ls, params)
