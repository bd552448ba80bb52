"""Hover on event keys, context members and the event/context names inside handlers.

`textDocument/hover` has one handler per server: `features/hover.py` registers it and asks
this module where the hover on a handler's `def` has nothing to say.
"""

from __future__ import annotations

from lsprotocol import types as lsp

from handlerlens.lsp.convert import to_path, to_range
from handlerlens.lsp.features.completion import in_handlers
from handlerlens.lsp.server import HandlerLensServer


def event_hover(ls: HandlerLensServer, params: lsp.HoverParams) -> lsp.Hover | None:
    """Hover for the event/context access under the cursor, or None."""
    path = to_path(params.text_document.uri)
    if path is None or not path.endswith(".py"):
        return None
    from handlerlens.analysis.events.hover import hover

    result = in_handlers(ls, path, params, hover, "event hover")
    if result is None:
        return None
    return lsp.Hover(
        contents=lsp.MarkupContent(kind=lsp.MarkupKind.Markdown, value=result.markdown),
        range=to_range(result.range),
    )
