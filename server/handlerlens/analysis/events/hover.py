"""Hover on event keys, context members and the event/context names themselves.

Pure, like completion: the same cursor scan and flow resolution, but on a finished token
(`event['httpMethod']`, `context.deadline_ms`, `rc`) instead of a half-typed one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from handlerlens.analysis.events.completion import locate
from handlerlens.analysis.events.cursor import (
    AttrTarget,
    KeyTarget,
    find_hover_target,
)
from handlerlens.analysis.events.docs import (
    context_footer,
    key_markdown,
    leaf_markdown,
    member_markdown,
    trigger_footer,
)
from handlerlens.analysis.events.flow import HandlerContext
from handlerlens.analysis.events.inference import TriggerChoice
from handlerlens.core.problems import Span
from handlerlens.platforms.context_model import (
    ContextMember,
    ContextModel,
    platform_title,
    resolve_context,
)
from handlerlens.platforms.event_shapes import Step, event_shape, event_shapes


@dataclass(frozen=True)
class HoverResult:
    """Markdown to show and the range it describes."""

    markdown: str
    range: Span


def hover(
    source: str, line: int, character: int, handlers: Sequence[HandlerContext]
) -> HoverResult | None:
    """Hover text at (line, UTF-16 character) of `source`, or None."""
    at = locate(source, line, character, handlers, find_hover_target)
    if at is None:
        return None
    target, path = at.target, at.path
    if isinstance(target, KeyTarget):
        path = (*path, ("key", target.key))
    elif isinstance(target, AttrTarget):
        path = (*path, ("attr", target.attr))
    if at.root == "event":
        markdown = _event_markdown(at.flow.choice, path)
    else:
        markdown = _context_markdown(at.flow.context_model, path)
    if not markdown:
        return None
    span = at.span()
    return HoverResult(markdown, span)


def _event_markdown(choice: TriggerChoice, path: tuple[Step, ...]) -> str:
    if not path:
        shape = event_shape(choice.platform, choice.trigger)
        if shape is None:
            return ""
        keys = ", ".join(f"`{k}`" for k in (shape.root.keys or {}))
        return "\n\n".join(
            p
            for p in (
                f"**event**: `{shape.root.type}` — {platform_title(choice.platform)}",
                choice.describe() + ".",
                shape.root.doc,
                f"Keys: {keys}" if keys else "",
                trigger_footer(shape.platform, shape.trigger, shape.title),
            )
            if p
        )
    if any(kind == "attr" for kind, _ in path):
        return ""
    markdown = key_markdown(choice.platform, choice.trigger, path)
    if markdown or choice.known:
        return markdown
    for shape in event_shapes(choice.platform):
        markdown = key_markdown(choice.platform, shape.trigger, path)
        if markdown:
            return markdown
    return ""


def _context_markdown(platform: str, path: tuple[Step, ...]) -> str:
    target = resolve_context(platform, path)
    if isinstance(target, ContextModel):
        names = ", ".join(f"`{m.name}`" for m in target.members if m.name not in target.hidden)
        return (
            f"**context** — {target.title} invocation context\n\nMembers: {names}\n\n"
            + context_footer(platform)
        )
    if isinstance(target, ContextMember):
        return member_markdown(platform, target)
    if target is not None and path and path[-1][0] == "key":
        owner = resolve_context(platform, path[:-1])
        title = f"context.{owner.name}" if isinstance(owner, ContextMember) else "context"
        return leaf_markdown(platform, title, path[-1][1], target)
    return ""
