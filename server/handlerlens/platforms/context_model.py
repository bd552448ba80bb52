"""The `context` object per platform, as data: attributes and methods with types, docs, examples.

Read from `data/context/<platform>.json`, lazily, once per process. Members may nest: an
object-valued attribute lists its own `members` (AWS `identity`, `client_context`), a
dict-valued one lists its `keys` (Yandex `token`). Private names (`hidden`) are never offered;
`absent` explains names the platform lacks (used by the `context-attribute-unknown` check).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Literal

from handlerlens.platforms.event_shapes import ShapeNode, Step

MemberKind = Literal["attribute", "method"]


@dataclass(frozen=True)
class ContextMember:
    """One attribute or method of the context object."""

    name: str
    kind: MemberKind
    type: str
    doc: str
    example: Any = None
    has_example: bool = False
    note: str = ""
    signature: str = ""
    params: tuple[str, ...] = ()
    numeric_string: bool = False
    members: tuple[ContextMember, ...] | None = None
    keys: Mapping[str, ShapeNode] | None = None

    def member(self, name: str) -> ContextMember | None:
        """A nested attribute by name, or None."""
        for m in self.members or ():
            if m.name == name:
                return m
        return None


@dataclass(frozen=True)
class ContextModel:
    """Everything HandlerLens knows about one platform's context object."""

    platform: str
    title: str
    source: str
    members: tuple[ContextMember, ...]
    hidden: frozenset[str]
    absent: Mapping[str, str]
    # False for a third-party SDK's context, whose members change between its versions: an
    # unknown attribute is reported only as a near miss of a known one (a typo).
    strict: bool = True

    def member(self, name: str) -> ContextMember | None:
        """A top-level attribute or method by name (hidden ones included), or None."""
        for m in self.members:
            if m.name == name:
                return m
        return None


def _leaf(raw: Mapping[str, Any]) -> ShapeNode:
    return ShapeNode(
        type=str(raw["type"]),
        doc=str(raw.get("doc", "")),
        example=raw.get("example"),
        has_example="example" in raw,
    )


def _member(raw: Mapping[str, Any]) -> ContextMember:
    kind: MemberKind = "method" if raw.get("kind") == "method" else "attribute"
    members = raw.get("members")
    if "members_from" in raw:
        # An attribute holding another model's context (DurableContext.lambda_context).
        other = context_model(str(raw["members_from"]))
        if other is not None:
            return _with_members(raw, kind, other.members)
    keys = raw.get("keys")
    return ContextMember(
        name=str(raw["name"]),
        kind=kind,
        type=str(raw["type"]),
        doc=str(raw.get("doc", "")),
        example=raw.get("example"),
        has_example="example" in raw,
        note=str(raw.get("note", "")),
        signature=str(raw.get("signature", "")),
        params=tuple(str(p) for p in raw.get("params", ())),
        numeric_string=bool(raw.get("numeric_string", False)),
        members=tuple(_member(m) for m in members) if members is not None else None,
        keys={k: _leaf(v) for k, v in keys.items()} if keys is not None else None,
    )


def _with_members(
    raw: Mapping[str, Any], kind: MemberKind, members: tuple[ContextMember, ...]
) -> ContextMember:
    return ContextMember(
        name=str(raw["name"]),
        kind=kind,
        type=str(raw["type"]),
        doc=str(raw.get("doc", "")),
        note=str(raw.get("note", "")),
        members=members,
    )


# Context models: each platform's own, and the models wrappers pass instead (handler_wrappers).
MODELS = ("yandex", "aws", "aws-durable")


@cache
def context_model(platform: str) -> ContextModel | None:
    """The context model named `platform` (`yandex`, `aws`, or another model of `MODELS`
    such as `aws-durable`), or None for an unknown name."""
    if platform not in MODELS:
        return None
    path = resources.files("handlerlens") / "data" / "context" / f"{platform}.json"
    raw = json.loads(path.read_text(encoding="utf-8"))
    return ContextModel(
        platform=str(raw.get("platform", platform)),
        title=str(raw["title"]),
        source=str(raw["source"]),
        members=tuple(_member(m) for m in raw["members"]),
        hidden=frozenset(str(h) for h in raw.get("hidden", ())),
        absent={str(k): str(v) for k, v in raw.get("absent", {}).items()},
        strict=bool(raw.get("strict", True)),
    )


def platform_title(platform: str) -> str:
    """The platform's display name (`Yandex Cloud Functions`, `AWS Lambda`)."""
    model = context_model(platform)
    return model.title if model is not None else platform


def model_platform(name: str) -> str:
    """The platform a context model belongs to (`aws-durable` → `aws`)."""
    model = context_model(name)
    return str(model.platform) if model is not None else name


def resolve_context(
    platform: str, path: tuple[Step, ...]
) -> ContextModel | ContextMember | ShapeNode | None:
    """What `context` + `path` denotes: the model, a member, a dict key's node, or None."""
    model = context_model(platform)
    if model is None:
        return None
    current: ContextModel | ContextMember | ShapeNode = model
    for kind, name in path:
        if isinstance(current, ContextModel):
            member = current.member(name) if kind == "attr" else None
            if member is None or name in current.hidden:
                return None
            current = member
        elif isinstance(current, ContextMember):
            if kind == "attr" and current.members is not None:
                nested = current.member(name)
                if nested is None:
                    return None
                current = nested
            elif kind == "key" and current.keys is not None and name in current.keys:
                current = current.keys[name]
            else:
                return None
        else:
            child = current.child((kind, name)) if kind != "attr" else None
            if child is None:
                return None
            current = child
    return current
