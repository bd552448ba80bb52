"""Completion of event keys and context members in handlers (`event['`, `context.`)."""

from __future__ import annotations

import logging
import re
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from lsprotocol import types as lsp

from handlerlens.lsp.convert import to_path, to_range
from handlerlens.lsp.server import HandlerLensServer

if TYPE_CHECKING:
    from handlerlens.analysis.event_completion import CompletionItem
    from handlerlens.analysis.event_flow import HandlerContext

# Declared as data: `.` for context members, `[` and the quotes for event keys.
TRIGGER_CHARACTERS = (".", "[", "'", '"')
_KINDS = {
    "attribute": lsp.CompletionItemKind.Property,
    "method": lsp.CompletionItemKind.Method,
    "key": lsp.CompletionItemKind.Field,
}
_PLACEHOLDER = re.compile(r"\$\{\d+:[^}]*\}")
log = logging.getLogger(__name__)
# Documentation is sent on completionItem/resolve, for the one item the editor shows: the
# list itself stays small, which is most of a completion's cost over JSON-RPC.
_docs: OrderedDict[str, str] = OrderedDict()
_MAX_DOCS = 4096


def _doc_key(markdown: str) -> str:
    key = format(hash(markdown) & 0xFFFFFFFFFFFF, "x")
    _docs[key] = markdown
    _docs.move_to_end(key)
    if len(_docs) > _MAX_DOCS:
        _docs.popitem(last=False)
    return key


def handler_contexts(ls: HandlerLensServer, path: str) -> list[HandlerContext]:
    """The handlers whose entry point names a function of `path`, with platform and trigger.

    Read from the declarations, not from a parse of the buffer: while the user types, the
    buffer often does not parse, and completion must still know which functions are handlers.
    """
    from handlerlens.analysis.event_flow import HandlerContext

    contexts: list[HandlerContext] = []
    for report in ls.workspace_for(path).reports:
        target = report.target
        if target is None or target.path != path:
            continue
        context = HandlerContext(target.function, report.spec.platform, report.spec.trigger)
        if context not in contexts:
            contexts.append(context)
    return contexts


def _snippets(ls: HandlerLensServer) -> bool:
    text = ls.client_capabilities.text_document
    item = text.completion.completion_item if text and text.completion else None
    return bool(item and item.snippet_support)


def to_lsp_item(item: CompletionItem, snippets: bool) -> lsp.CompletionItem:
    """One analysis completion as an LSP item with a text edit; its doc comes on resolve."""
    text = item.insert_text
    snippet = item.snippet and snippets
    if item.snippet and not snippets:
        text = _PLACEHOLDER.sub("", text)
    return lsp.CompletionItem(
        label=item.label,
        kind=_KINDS[item.kind],
        detail=item.detail,
        label_details=lsp.CompletionItemLabelDetails(description=item.trigger_title)
        if item.trigger_title
        else None,
        data={"doc": _doc_key(item.documentation)} if item.documentation else None,
        sort_text=item.sort_text,
        filter_text=item.filter_text,
        text_edit=lsp.TextEdit(range=to_range(item.range), new_text=text),
        insert_text_format=lsp.InsertTextFormat.Snippet if snippet else None,
    )


def register(server: HandlerLensServer) -> None:
    """Wire textDocument/completion."""

    @server.feature(
        lsp.TEXT_DOCUMENT_COMPLETION,
        lsp.CompletionOptions(trigger_characters=list(TRIGGER_CHARACTERS), resolve_provider=True),
    )
    async def completion(
        ls: HandlerLensServer, params: lsp.CompletionParams
    ) -> lsp.CompletionList | None:
        path = to_path(params.text_document.uri)
        if path is None or not path.endswith(".py"):
            return None
        # Which functions are handlers is known once the workspace has been discovered.
        await ls.ready.wait()
        handlers = handler_contexts(ls, path)
        if not handlers:
            return None
        from handlerlens.analysis.event_completion import complete

        source = ls.workspace.get_text_document(params.text_document.uri).source
        try:
            result = complete(source, params.position.line, params.position.character, handlers)
        except Exception:
            # A bug here must cost one completion, never an error popup while typing.
            log.exception("completion failed at %s:%s", path, params.position)
            return None
        if result is None:
            return None
        snippets = _snippets(ls)
        return lsp.CompletionList(
            is_incomplete=False, items=[to_lsp_item(i, snippets) for i in result.items]
        )

    @server.feature(lsp.COMPLETION_ITEM_RESOLVE)
    def resolve(ls: HandlerLensServer, item: lsp.CompletionItem) -> lsp.CompletionItem:
        data: Any = item.data
        key = data.get("doc") if isinstance(data, dict) else None
        markdown = _docs.get(key) if isinstance(key, str) else None
        if markdown is not None:
            item.documentation = lsp.MarkupContent(kind=lsp.MarkupKind.Markdown, value=markdown)
        return item
