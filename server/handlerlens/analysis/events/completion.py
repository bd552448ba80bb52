"""Completion of event keys and context members inside handlers (and helpers they feed).

Pure: text in, plain dataclasses out. Per request the work is local: classify the cursor's
line (`events.cursor`), find the enclosing function's facts (cached by its text), resolve the
chain through aliases and helper flows (`events.flow`), and list the shape's keys there.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Generic, Literal, Protocol, TypeVar

from handlerlens.analysis.events.cursor import (
    AttrSite,
    Chain,
    KeySite,
    find_site,
)
from handlerlens.analysis.events.docs import key_markdown, leaf_markdown, member_markdown
from handlerlens.analysis.events.flow import (
    EventDocument,
    FunctionFlow,
    HandlerContext,
    Ref,
    event_document,
)
from handlerlens.analysis.events.inference import TriggerChoice
from handlerlens.core.problems import Position, Span
from handlerlens.core.text import index_to_byte, utf16_column, utf16_to_index
from handlerlens.platforms.context_model import ContextMember, ContextModel, resolve_context
from handlerlens.platforms.event_shapes import ShapeNode, Step, event_shape, event_shapes
from handlerlens.platforms.triggers import short_trigger_title

ItemKind = Literal["attribute", "method", "key"]


@dataclass(frozen=True)
class CompletionItem:
    """One completion: what to show, what to insert over `range`, how to sort and filter."""

    label: str
    kind: ItemKind
    detail: str
    documentation: str
    insert_text: str
    range: Span
    filter_text: str
    sort_text: str
    snippet: bool = False
    trigger: str | None = None
    # Set only on a key of another trigger than the handler's: that trigger's short title.
    trigger_title: str | None = None


@dataclass(frozen=True)
class CompletionResult:
    """The items for one request (always complete: the client filters as the user types)."""

    items: tuple[CompletionItem, ...]


@dataclass(frozen=True)
class _Proto:
    label: str
    kind: ItemKind
    detail: str
    documentation: str
    sort_text: str
    trigger: str | None
    trigger_title: str | None
    params: tuple[str, ...] = ()


def complete(
    source: str, line: int, character: int, handlers: Sequence[HandlerContext]
) -> CompletionResult | None:
    """Completions at (line, UTF-16 character) of `source`, or None when there are none."""
    at: Located[KeySite | AttrSite] | None = locate(source, line, character, handlers, find_site)
    if at is None:
        return None
    site = at.target
    if at.root == "context":
        protos = _context_protos(at.flow.context_model, at.path, isinstance(site, KeySite))
    elif isinstance(site, KeySite):
        protos = _key_protos(at.flow.choice, at.path)
    else:
        protos = ()
    if not protos:
        return None
    quote = _quote_for(site, at.function_lines()) if isinstance(site, KeySite) else ""
    span = at.span()
    return CompletionResult(tuple(_item(p, site, span, quote) for p in protos))


def _quote_for(site: KeySite, lines: list[str]) -> str:
    if site.quote:
        return site.quote
    # Follow the function's own habit; ruff/black's double quotes otherwise.
    single = sum(ln.count("['") + ln.count(".get('") for ln in lines)
    double = sum(ln.count('["') + ln.count('.get("') for ln in lines)
    return "'" if single > double else '"'


def _item(p: _Proto, site: KeySite | AttrSite, span: Span, quote: str) -> CompletionItem:
    snippet = False
    if isinstance(site, KeySite):
        body = p.label.replace("\\", "\\\\").replace(quote, "\\" + quote)
        close = "" if site.via_get else "]"
        insert = body + quote + close if site.quote else quote + body + quote + close
    elif p.kind == "method":
        if p.params:
            snippet = True
            args = ", ".join(f"${{{i + 1}:{name}}}" for i, name in enumerate(p.params))
            insert = f"{p.label}({args})"
        else:
            insert = p.label + "()"
    else:
        insert = p.label
    return CompletionItem(
        label=p.label,
        kind=p.kind,
        detail=p.detail,
        documentation=p.documentation,
        insert_text=insert,
        range=span,
        filter_text=p.label,
        sort_text=p.sort_text,
        snippet=snippet,
        trigger=p.trigger,
        trigger_title=p.trigger_title,
    )


@cache
def _key_protos(choice: TriggerChoice, path: tuple[Step, ...]) -> tuple[_Proto, ...]:
    """Keys at `path`: the chosen trigger's first, then (when guessed) the other triggers'.

    A key's detail is its type; a key that only another trigger has says which one
    (`list[dict] · S3 notification`) and sorts after the chosen trigger's keys.
    """
    out: list[_Proto] = []
    seen: set[str] = set()
    primary = event_shape(choice.platform, choice.trigger)
    shapes = [primary] if primary is not None else []
    if not choice.known:
        shapes += [s for s in event_shapes(choice.platform) if s is not primary]
    rank = 0
    for shape in shapes:
        node = shape.root.resolve(path)
        if node is None or not node.keys:
            continue
        # The first shape that knows this path leads, even when the guess was another one.
        rank += 1
        for i, (key, sub) in enumerate(node.keys.items()):
            if key in seen:
                continue
            seen.add(key)
            own = shape is primary
            other = "" if own else short_trigger_title(shape.platform, shape.trigger)
            out.append(
                _Proto(
                    label=key,
                    kind="key",
                    detail=_detail(sub) + (f" · {other}" if other else ""),
                    documentation=key_markdown(
                        shape.platform, shape.trigger, (*path, ("key", key))
                    ),
                    sort_text=f"{0 if own or rank == 1 else 1}{shape.order:02d}{i:03d}",
                    trigger=shape.trigger,
                    trigger_title=other or None,
                )
            )
    return tuple(out)


def _detail(node: ShapeNode) -> str:
    return node.type + (" (optional)" if node.optional else "")


@cache
def _context_protos(platform: str, path: tuple[Step, ...], keys: bool) -> tuple[_Proto, ...]:
    target = resolve_context(platform, path)
    if keys:
        if not isinstance(target, ContextMember) or not target.keys:
            return ()
        title = f"context.{target.name}"
        return tuple(
            _Proto(k, "key", n.type, leaf_markdown(platform, title, k, n), f"0{i:03d}", None, None)
            for i, (k, n) in enumerate(target.keys.items())
        )
    if isinstance(target, ContextModel):
        members = tuple(m for m in target.members if m.name not in target.hidden)
    elif isinstance(target, ContextMember) and target.members is not None:
        members = target.members
    else:
        return ()
    return tuple(
        _Proto(
            label=m.name,
            kind=m.kind,
            detail=m.signature or m.type,
            documentation=member_markdown(platform, m),
            sort_text=f"{0 if m.kind == 'attribute' else 1}{i:03d}",
            trigger=None,
            trigger_title=None,
            params=m.params,
        )
        for i, m in enumerate(members)
    )


class _Token(Protocol):
    """What a cursor scan finds: the chain it hangs on and its code points [start, end)."""

    @property
    def chain(self) -> Chain: ...

    @property
    def start(self) -> int: ...

    @property
    def end(self) -> int: ...


_T = TypeVar("_T", bound=_Token)


@dataclass(frozen=True)
class Located(Generic[_T]):
    """The token under the cursor, resolved in the function around it: the name its chain
    starts from holds the event or the context (`root`) at `path`, under `flow`'s trigger and
    context model."""

    target: _T
    root: str
    path: tuple[Step, ...]
    flow: FunctionFlow
    line: int
    text: str
    doc: EventDocument
    segment: tuple[int, int]

    def span(self) -> Span:
        """The token's range, in LSP's UTF-16 columns."""
        text, line = self.text, self.line
        start, end = self.target.start, self.target.end
        return Span(
            Position(line, utf16_column(text, start)), Position(line, utf16_column(text, end))
        )

    def function_lines(self) -> list[str]:
        """The lines of the function around the cursor."""
        return self.doc.lines[self.segment[0] : self.segment[1]]


def locate(
    source: str,
    line: int,
    character: int,
    handlers: Sequence[HandlerContext],
    find: Callable[[str, int], _T | None],
) -> Located[_T] | None:
    """The token `find` finds on `line` of `source` at the cursor (LSP's UTF-16 `character`),
    resolved; None without handlers to follow, without a token, or when its chain holds
    neither the event nor the context."""
    if not handlers:
        return None
    doc = event_document(source)
    if not 0 <= line < len(doc.lines):
        return None
    text = doc.lines[line]
    index = utf16_to_index(text, character)
    target = find(text, index)
    if target is None:
        return None
    chain = target.chain
    found = _resolve(doc, line, chain.start, chain.root, handlers)
    if found is None:
        return None
    ref, flow, segment = found
    return Located(target, ref.root, ref.path + chain.steps, flow, line, text, doc, segment)


def _resolve(
    doc: EventDocument, line: int, index: int, root: str, handlers: Sequence[HandlerContext]
) -> tuple[Ref, FunctionFlow, tuple[int, int]] | None:
    """What name `root` holds at (line, code-point index): its Ref, the flow of the function
    around it, and that function's segment."""
    name = doc.enclosing(line)
    if name is None:
        return None
    # Facts of the cursor's function first: its repair should know where the user types.
    facts = doc.facts(name, cursor=(line, index))
    flow = doc.flows(handlers).get(name)
    seg = doc.segment(name)
    if facts is None or flow is None or seg is None:
        return None
    sym = facts.ref_at(root, line - seg[0], index_to_byte(doc.lines[line], index))
    ref = flow.resolve(sym) if sym is not None else None
    return (ref, flow, seg) if ref is not None else None
