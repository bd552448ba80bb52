"""Event shapes per trigger: nesting, list items, value types, docs and examples, as data.

The shapes live in `data/events/<platform>/<trigger>.json` (one file per trigger id of
`platforms/triggers.py`); files starting with `_` hold parts shared between shapes, pulled in
with `{"$ref": "_name"}` (a whole node; sibling fields override) or `"$keys": "_name"` (a
key map merged under a node's own keys). Loaded lazily, once per process.

A node is a dict when it has `keys` (known keys) and/or `values` (any other key); `closed`
says whether the known keys are all there is. A node with `items` is a list. Everything else
is a leaf described by its `type` string (`str`, `int | None`, `any`, …).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any, Literal

from handlerlens.platforms.triggers import DEFAULT_TRIGGER, triggers_for

StepKind = Literal["key", "attr", "elem"]
# One step of an access path: ("key", "body") for event["body"], ("attr", "identity") for
# context.identity, ("elem", "") for an element (a list item, or any value of an open dict).
Step = tuple[StepKind, str]
ELEM: Step = ("elem", "")


def key(name: str) -> Step:
    """The step for reading `name` by subscript or `.get`."""
    return ("key", name)


@dataclass(frozen=True)
class ShapeNode:
    """One value in an event: its type, doc, example and, for dicts and lists, its children."""

    type: str
    doc: str
    example: Any = None
    has_example: bool = False
    note: str = ""
    optional: bool = False
    closed: bool = False
    keys: Mapping[str, ShapeNode] | None = None
    values: ShapeNode | None = None
    items: ShapeNode | None = None

    @property
    def is_dict(self) -> bool:
        """True for a dict (known keys and/or any key)."""
        return self.keys is not None or self.values is not None

    @property
    def is_list(self) -> bool:
        """True for a list."""
        return self.items is not None

    def child(self, step: Step) -> ShapeNode | None:
        """The node one step down, or None when the shape does not say."""
        kind, name = step
        if kind == "key":
            if self.keys is not None and name in self.keys:
                return self.keys[name]
            return self.values
        if kind == "elem":
            return self.items if self.items is not None else self.values
        return None

    def resolve(self, path: tuple[Step, ...]) -> ShapeNode | None:
        """The node at `path` below this one, or None."""
        node: ShapeNode | None = self
        for step in path:
            if node is None:
                return None
            node = node.child(step)
        return node


@dataclass(frozen=True)
class EventShape:
    """The event one trigger delivers."""

    platform: str
    trigger: str
    title: str
    source: str
    root: ShapeNode
    order: int = field(default=0)


def _data_dir(platform: str) -> Any:
    return resources.files("handlerlens") / "data" / "events" / platform


@cache
def _raw(platform: str, name: str) -> Any:
    return json.loads((_data_dir(platform) / f"{name}.json").read_text(encoding="utf-8"))


def _node(platform: str, raw: Mapping[str, Any]) -> ShapeNode:
    if "$ref" in raw:
        merged = dict(_raw(platform, str(raw["$ref"])))
        merged.update({k: v for k, v in raw.items() if k != "$ref"})
        raw = merged
    keys: dict[str, ShapeNode] | None = None
    if "keys" in raw or "$keys" in raw:
        keys = {}
        if "$keys" in raw:
            for name, sub in _raw(platform, str(raw["$keys"])).items():
                keys[name] = _node(platform, sub)
        for name, sub in raw.get("keys", {}).items():
            keys[name] = _node(platform, sub)
    return ShapeNode(
        type=str(raw["type"]),
        doc=str(raw.get("doc", "")),
        example=raw.get("example"),
        has_example="example" in raw,
        note=str(raw.get("note", "")),
        optional=bool(raw.get("optional", False)),
        closed=bool(raw.get("closed", False)),
        keys=keys,
        values=_node(platform, raw["values"]) if "values" in raw else None,
        items=_node(platform, raw["items"]) if "items" in raw else None,
    )


@cache
def event_shape(platform: str, trigger: str) -> EventShape | None:
    """The shape of the event `trigger` delivers on `platform`, or None for an unknown id."""
    titles = triggers_for(platform)
    if trigger not in titles or platform not in DEFAULT_TRIGGER:
        return None
    raw = _raw(platform, trigger)
    return EventShape(
        platform=platform,
        trigger=trigger,
        title=titles[trigger],
        source=str(raw["source"]),
        root=_node(platform, raw["event"]),
        order=list(titles).index(trigger),
    )


@cache
def event_shapes(platform: str) -> tuple[EventShape, ...]:
    """Every trigger shape of `platform`, in the order of `platforms/triggers.py`."""
    shapes = (event_shape(platform, trigger) for trigger in triggers_for(platform))
    return tuple(s for s in shapes if s is not None)


@cache
def known_source_keys(platform: str) -> Mapping[str, str]:
    """Top-level keys of the events `platform` documents beyond its trigger shapes (Firehose,
    Kafka, Cognito, Bedrock Agents, …; `data/events/<platform>/_known-sources.json`), each
    with the title of the first source that has it."""
    if platform not in DEFAULT_TRIGGER:
        return {}
    keys: dict[str, str] = {}
    for source in _raw(platform, "_known-sources")["sources"]:
        for name in source["keys"]:
            keys.setdefault(str(name), str(source["title"]))
    return keys


@cache
def _annotations() -> Mapping[str, Mapping[str, str]]:
    path = resources.files("handlerlens") / "data" / "events" / "annotations.json"
    raw = json.loads(path.read_text(encoding="utf-8"))
    return {p: dict(m) for p, m in raw.items() if p != "source"}


def annotation_trigger(platform: str, type_name: str) -> str | None:
    """The trigger an event type annotation names (`SQSEvent` → `sqs`), by its last dotted part."""
    last = type_name.rsplit(".", 1)[-1]
    return _annotations().get(platform, {}).get(last)


def _type_ok(alternative: str, value: Any) -> bool:
    head = alternative.strip().split("[", 1)[0].strip()
    if head == "any":
        return True
    if head == "None":
        return value is None
    if head == "str":
        return isinstance(value, str)
    if head == "bool":
        return isinstance(value, bool)
    if head == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if head == "float":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if head == "dict":
        return isinstance(value, dict)
    if head == "list":
        return isinstance(value, list)
    # Named types (ClientContext, …) are not event values; accept them.
    return True


def _split_union(type_text: str) -> Iterator[str]:
    depth = 0
    start = 0
    for i, ch in enumerate(type_text):
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        elif ch == "|" and depth == 0:
            yield type_text[start:i]
            start = i + 1
    yield type_text[start:]


def validate(node: ShapeNode, value: Any, where: str = "event") -> list[str]:
    """Where `value` disagrees with `node`: wrong types, unknown or missing keys of closed dicts."""
    if not any(_type_ok(alt, value) for alt in _split_union(node.type)):
        return [f"{where}: expected {node.type}, got {type(value).__name__}"]
    errors: list[str] = []
    if isinstance(value, dict) and node.is_dict:
        for name, sub in value.items():
            child = node.keys.get(name) if node.keys is not None else None
            if child is None:
                child = node.values
            if child is None:
                if node.closed:
                    errors.append(f"{where}: unknown key {name!r}")
                continue
            errors.extend(validate(child, sub, f"{where}[{name!r}]"))
        for name, sub_node in (node.keys or {}).items():
            if node.closed and not sub_node.optional and name not in value:
                errors.append(f"{where}: missing key {name!r}")
    elif isinstance(value, list) and node.items is not None:
        for i, item in enumerate(value):
            errors.extend(validate(node.items, item, f"{where}[{i}]"))
    return errors
