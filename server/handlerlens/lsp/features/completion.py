"""Completion of event keys and context members in handlers (`event['`, `context.`)."""

from __future__ import annotations

import logging
import re
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from lsprotocol import types as lsp

from handlerlens.lsp.convert import to_path, to_range
from handlerlens.lsp.server import HandlerLensServer

if TYPE_CHECKING:
    from handlerlens.analysis.events.completion import CompletionItem, CompletionResult
    from handlerlens.analysis.events.flow import HandlerContext

# Declared as data: `.` for context members, `[` and the quotes for event keys.
TRIGGER_CHARACTERS = (".", "[", "'", '"')
_KINDS = {
    "attribute": lsp.CompletionItemKind.Property,
    "method": lsp.CompletionItemKind.Method,
    "key": lsp.CompletionItemKind.Field,
}
_PLACEHOLDER = re.compile(r"\$\{\d+:[^}]*\}")
log = logging.getLogger(__name__)
_Answer = TypeVar("_Answer")
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
    from handlerlens.analysis.events.flow import HandlerContext

    contexts: list[HandlerContext] = []
    for report in ls.workspace_for(path).reports:
        target = report.target
        if target is None or target.path != path:
            continue
        context = HandlerContext(target.function, report.spec.platform, report.spec.trigger)
        if context not in contexts:
            contexts.append(context)
    return contexts


def in_handlers(
    ls: HandlerLensServer,
    path: str,
    params: lsp.CompletionParams | lsp.HoverParams,
    analyse: Callable[[str, int, int, Sequence[HandlerContext]], _Answer | None],
    what: str,
) -> _Answer | None:
    """`analyse` (the event completion or hover) at the cursor of `path`, a file with handlers;
    None where it has none, or where the analysis fails: a bug costs one answer (logged as
    `what`), never an error popup while the user types."""
    handlers = handler_contexts(ls, path)
    if not handlers:
        return None
    source = ls.workspace.get_text_document(params.text_document.uri).source
    try:
        return analyse(source, params.position.line, params.position.character, handlers)
    except Exception:
        log.exception("%s failed at %s:%s", what, path, params.position)
        return None


def _snippets(ls: HandlerLensServer) -> bool:
    text = ls.client_capabilities.text_document
    item = text.completion.completion_item if text and text.completion else None
    return bool(item and item.snippet_support)


def _edit_range_default(ls: HandlerLensServer) -> bool:
    """Whether the client takes `itemDefaults.editRange` (LSP 3.17; VS Code does)."""
    text = ls.client_capabilities.text_document
    listed = text.completion.completion_list if text and text.completion else None
    return bool(listed and listed.item_defaults and "editRange" in listed.item_defaults)


def to_lsp_item(
    item: CompletionItem, snippets: bool, shared_range: bool = False
) -> lsp.CompletionItem:
    """One analysis completion as an LSP item with a text edit; its doc comes on resolve.

    With `shared_range` the edit's range is the list's default (every item of one completion
    replaces the same span), so the item carries only its new text: a smaller message.
    """
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
        filter_text=item.filter_text if item.filter_text != item.label else None,
        text_edit=None if shared_range else lsp.TextEdit(range=to_range(item.range), new_text=text),
        text_edit_text=text if shared_range else None,
        insert_text_format=lsp.InsertTextFormat.Snippet if snippet else None,
    )


# The same completion asked again (the editor re-asks as the user types a filter, and after
# every edit elsewhere) is the same list: converted once.
_lists: OrderedDict[tuple[CompletionResult, bool, bool], lsp.CompletionList] = OrderedDict()
_MAX_LISTS = 64


def to_lsp_list(
    result: CompletionResult, snippets: bool, range_default: bool
) -> lsp.CompletionList:
    """The LSP list for `result`; one edit range for all items when the client takes it."""
    key = (result, snippets, range_default)
    cached = _lists.get(key)
    if cached is not None:
        _lists.move_to_end(key)
        return cached
    if range_default and len({i.range for i in result.items}) == 1:
        made = lsp.CompletionList(
            is_incomplete=False,
            item_defaults=lsp.CompletionItemDefaults(edit_range=to_range(result.items[0].range)),
            items=[to_lsp_item(i, snippets, shared_range=True) for i in result.items],
        )
    else:
        made = lsp.CompletionList(
            is_incomplete=False, items=[to_lsp_item(i, snippets) for i in result.items]
        )
    _lists[key] = made
    if len(_lists) > _MAX_LISTS:
        _lists.popitem(last=False)
    return made


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
        from handlerlens.lsp.env_names import env_completion

        names = env_completion(ls, params)  # os.environ["… / os.getenv("…
        if names is not None:
            return names
        from handlerlens.analysis.events.completion import complete

        result = in_handlers(ls, path, params, complete, "completion")
        if result is None:
            return None
        return to_lsp_list(result, _snippets(ls), _edit_range_default(ls))

    @server.feature(lsp.COMPLETION_ITEM_RESOLVE)
    def resolve(ls: HandlerLensServer, item: lsp.CompletionItem) -> lsp.CompletionItem:
        data: Any = item.data
        key = data.get("doc") if isinstance(data, dict) else None
        markdown = _docs.get(key) if isinstance(key, str) else None
        if markdown is not None:
            item.documentation = lsp.MarkupContent(kind=lsp.MarkupKind.Markdown, value=markdown)
        return item
