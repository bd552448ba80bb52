"""Markdown for event keys and context members, shared by completion and hover.

Examples come from the shape when it has one, else from the trigger's sample event at the
same path, so every documented key shows a realistic value.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from handlerlens.platforms.context_model import ContextMember, platform_title
from handlerlens.platforms.event_shapes import EventShape, ShapeNode, Step, event_shape
from handlerlens.platforms.sample_events import sample_event
from handlerlens.platforms.triggers import CONTEXT_DOCS, trigger_doc_url

_MISSING = object()
_MAX_EXAMPLE = 160


def _sample_at(platform: str, trigger: str, path: tuple[Step, ...]) -> Any:
    try:
        value: Any = sample_event(platform, trigger)
    except KeyError:
        return _MISSING
    for kind, name in path:
        if kind == "key" and isinstance(value, dict) and name in value:
            value = value[name]
        elif kind == "elem" and isinstance(value, list) and value:
            value = value[0]
        elif kind == "elem" and isinstance(value, dict) and value:
            value = next(iter(value.values()))
        else:
            return _MISSING
    return value


def format_example(value: Any) -> str:
    """A value as short JSON for an `Example:` line."""
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= _MAX_EXAMPLE else text[: _MAX_EXAMPLE - 1] + "…"


def _example(platform: str, trigger: str, path: tuple[Step, ...], node: ShapeNode) -> str | None:
    if node.has_example:
        return format_example(node.example)
    value = _sample_at(platform, trigger, path)
    return None if value is _MISSING else format_example(value)


def _card(head: str, doc: str, example: str | None, note: str, footer: str) -> str:
    """One value's markdown: its head line, doc, example, note in italics and footer."""
    parts = (
        head,
        doc,
        f"Example: `{example}`" if example is not None else "",
        f"*{note}*" if note else "",
        footer,
    )
    return "\n\n".join(p for p in parts if p)


@cache
def key_markdown(platform: str, trigger: str, path: tuple[Step, ...]) -> str:
    """Markdown for the event value at `path` (its last step is the key) of one trigger."""
    shape = event_shape(platform, trigger)
    node = shape.root.resolve(path) if shape is not None else None
    if shape is None or node is None or not path:
        return ""
    name = path[-1][1] if path[-1][0] == "key" else "[…]"
    example = _example(platform, trigger, path, node)
    optional = " (not always present)" if node.optional else ""
    return _card(
        f"**`{name}`**: `{node.type}`{optional}", node.doc, example, node.note, _footer(shape)
    )


def _footer(shape: EventShape) -> str:
    return trigger_footer(shape.platform, shape.trigger, shape.title)


def trigger_footer(platform: str, trigger: str, title: str) -> str:
    """`Platform · Trigger`, linked to the platform's page on the trigger's event when known."""
    url = trigger_doc_url(platform, trigger)
    text = f"{platform_title(platform)} · {title}"
    return f"[{text}]({url})" if url else text


def context_footer(platform: str, what: str = "context") -> str:
    """`Platform context`, linked to the platform's page on the context object when known."""
    url = CONTEXT_DOCS.get(platform)
    text = f"{platform_title(platform)} {what}"
    return f"[{text}]({url})" if url else text


def member_markdown(platform: str, member: ContextMember) -> str:
    """Markdown for a context attribute or method."""
    head = member.signature if member.kind == "method" and member.signature else member.name
    kind = "method" if member.kind == "method" else "attribute"
    example = format_example(member.example) if member.has_example else None
    return _card(
        f"**`context.{head}`**: `{member.type}` ({kind})",
        member.doc,
        example,
        member.note,
        context_footer(platform),
    )


def leaf_markdown(platform: str, title: str, name: str, node: ShapeNode) -> str:
    """Markdown for a key of a dict-valued context attribute (Yandex `context.token`)."""
    example = format_example(node.example) if node.has_example else None
    return _card(
        f"**`{name}`**: `{node.type}`",
        node.doc,
        example,
        "",
        context_footer(platform, f"· {title}"),
    )
