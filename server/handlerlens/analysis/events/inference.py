"""Which trigger's event a handler receives: config, then annotation, then the keys it reads.

Order of evidence (issue #5): the declaring config (`FunctionSpec.trigger`), an annotation on
the event parameter (aws-lambda-typing / Powertools type names), the keys the handler and its
helpers already read (each trigger's shape is scored against them), else the platform's
default (`DEFAULT_TRIGGER`). Only config and annotation make the shape *known*: checks are
strict only then, and completion offers the other triggers' keys only when it is not known.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from handlerlens.platforms.event_shapes import EventShape, Step, annotation_trigger, event_shapes
from handlerlens.platforms.triggers import DEFAULT_TRIGGER, triggers_for

Reason = Literal["config", "annotation", "keys", "default"]


@dataclass(frozen=True)
class TriggerChoice:
    """The trigger whose event shape applies, and why."""

    platform: str
    trigger: str
    reason: Reason

    @property
    def known(self) -> bool:
        """True when declared (config) or annotated, not guessed."""
        return self.reason in ("config", "annotation")

    @property
    def title(self) -> str:
        """The trigger's display title."""
        return triggers_for(self.platform).get(self.trigger, self.trigger)

    def describe(self) -> str:
        """One line for people: `HTTP invocation (…), inferred from the keys the handler reads`."""
        why = {
            "config": "as configured",
            "annotation": "from the event's type annotation",
            "keys": "inferred from the keys the handler reads",
            "default": "the platform's default; no trigger is configured",
        }[self.reason]
        return f"{self.title}, {why}"


def score_paths(shape: EventShape, paths: Iterable[tuple[Step, ...]]) -> int:
    """How well `paths` (event paths a handler reads) fit `shape`: +1 per known key, -1 per miss."""
    score = 0
    for path in paths:
        node = shape.root
        for kind, name in path:
            if kind == "key":
                if node.keys is not None and name in node.keys:
                    score += 1
                    node = node.keys[name]
                    continue
                if node.values is not None:
                    node = node.values
                    continue
                if node.closed or not node.is_dict:
                    score -= 1
                break
            if kind == "elem":
                nxt = node.items if node.items is not None else node.values
                if nxt is None:
                    break
                node = nxt
                continue
            break
    return score


def choose_trigger(
    platform: str,
    configured: str | None,
    annotation: str | None,
    used_paths: Iterable[tuple[Step, ...]],
) -> TriggerChoice:
    """Pick the trigger for one handler from the evidence, strongest first."""
    known = triggers_for(platform)
    if configured and configured in known:
        return TriggerChoice(platform, configured, "config")
    if annotation:
        annotated = annotation_trigger(platform, annotation)
        if annotated is not None and annotated in known:
            return TriggerChoice(platform, annotated, "annotation")
    default = DEFAULT_TRIGGER.get(platform, next(iter(known)))
    paths = [p for p in used_paths if p]
    if paths:
        best: tuple[int, int, int] | None = None
        best_trigger = default
        for shape in event_shapes(platform):
            score = score_paths(shape, paths)
            rank = (score, 1 if shape.trigger == default else 0, -shape.order)
            if best is None or rank > best:
                best, best_trigger = rank, shape.trigger
        if best is not None and best[0] > 0 and best_trigger != default:
            return TriggerChoice(platform, best_trigger, "keys")
        if best is not None and best[0] > 0:
            return TriggerChoice(platform, default, "keys")
    return TriggerChoice(platform, default, "default")
