"""Checks on how handlers read the event and context, tuned never to be noisy.

- `event-key-unknown`: a key the shape does not have. Strict only when the trigger is known
  (config or annotation) and the dict there is closed; when the trigger is guessed, only a
  near miss of a key some trigger has at that path (`httpMetod`), since handlers invoked
  directly receive any JSON.
- `context-attribute-unknown`: an attribute the platform's context does not provide.
- `context-memory-type`: AWS `memory_limit_in_mb` (a str) used as a number.

Only functions the event flows into are checked, and only if they parse as written.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence

from handlerlens.analysis.events.facts import AttrUse, KeyUse, NumericUse
from handlerlens.analysis.events.flow import (
    EventDocument,
    FunctionFlow,
    HandlerContext,
    event_document,
)
from handlerlens.core.problems import Fix, Position, Problem, Severity, Span
from handlerlens.core.text import byte_to_index, utf16_column
from handlerlens.platforms.context_model import (
    ContextMember,
    context_model,
    platform_title,
    resolve_context,
)
from handlerlens.platforms.event_shapes import (
    Step,
    event_shape,
    event_shapes,
    known_source_keys,
)

KEY_UNKNOWN = "event-key-unknown"
CONTEXT_UNKNOWN = "context-attribute-unknown"
MEMORY_TYPE = "context-memory-type"
_OTHER = {"yandex": "aws", "aws": "yandex"}


def check_events(path: str, source: str, handlers: Sequence[HandlerContext]) -> list[Problem]:
    """Problems with event keys and context attributes in `source` (the module at `path`)."""
    if not handlers:
        return []
    doc = event_document(source)
    problems: list[Problem] = []
    for name, flow in doc.flows(handlers).items():
        facts = doc.facts(name)
        seg = doc.segment(name)
        if facts is None or seg is None or not facts.exact:
            continue
        checker = _Checker(doc, path, flow, seg[0])
        if flow.view.event_checked:
            for key_use in facts.keys:
                if (key_use.base, key_use.key) not in facts.probed:
                    problems.extend(checker.key(key_use))
        if flow.view.context_checked:
            for attr_use in facts.attrs:
                if (attr_use.base, attr_use.attr) not in facts.probed_attrs:
                    problems.extend(checker.attr(attr_use))
            for num_use in facts.numeric:
                problems.extend(checker.numeric(num_use))
    unique = {(p.span, p.code): p for p in problems}
    return sorted(unique.values(), key=lambda p: (p.span, p.code))


def _describe(path: tuple[Step, ...]) -> str:
    out = ""
    for kind, name in path:
        out += "[]" if kind == "elem" else ("." if out else "") + name
    return out


def _not_a_typo(guess: str, key: str) -> bool:
    """True when `key` is no misspelling of `guess` but another name: they differ only in
    case or word separators (`records`/`Records`, `user_name`/`userName`: another naming
    convention — Firehose and Kafka send lowercase `records`), or one contains the other
    whole (`version_id`/`version`, `accountid`/`account`: a longer name of a payload's own)."""

    def norm(s: str) -> str:
        return s.replace("_", "").replace("-", "").lower()

    a, b = norm(guess), norm(key)
    return a == b or a in b or b in a


def _event_noun(title: str) -> str:
    """'Amazon SQS' → 'Amazon SQS event'; 'EventBridge scheduled event' stays as it is."""
    return title if title.endswith(" event") else f"{title} event"


class _Checker:
    def __init__(self, doc: EventDocument, path: str, flow: FunctionFlow, line0: int) -> None:
        self.doc, self.path, self.flow, self.line0 = doc, path, flow, line0
        self.platform = flow.handler.platform

    def span(self, line: int, col: int, end_line: int, end_col: int) -> Span:
        first = self.doc.lines[self.line0 + line]
        last = self.doc.lines[self.line0 + end_line]
        return Span(
            Position(self.line0 + line, utf16_column(first, byte_to_index(first, col))),
            Position(self.line0 + end_line, utf16_column(last, byte_to_index(last, end_col))),
        )

    def problem(self, span: Span, code: str, message: str, fixes: tuple[Fix, ...] = ()) -> Problem:
        return Problem(self.path, span, Severity.WARNING, code, message, fixes)

    def key(self, use: KeyUse) -> list[Problem]:
        ref = self.flow.resolve(use.base)
        if ref is None or ref.root != "event" or any(k == "attr" for k, _ in ref.path):
            return []
        choice = self.flow.choice
        where = f"`{_describe(ref.path)}` of " if ref.path else ""
        effect = (
            f"`.get('{use.key}')` always returns None"
            if use.via_get
            else "reading it raises KeyError at run time"
        )
        title = f"the {platform_title(self.platform)} {_event_noun(choice.title)}"
        if choice.known:
            shape = event_shape(self.platform, choice.trigger)
            node = shape.root.resolve(ref.path) if shape is not None else None
            if node is None or not node.closed or node.keys is None or use.key in node.keys:
                return []
            guess = difflib.get_close_matches(use.key, list(node.keys), n=1, cutoff=0.6)
            message = f"{where}{title} has no key '{use.key}'; {effect}."
            message = message[0].upper() + message[1:]
        else:
            if not ref.path and use.key in known_source_keys(self.platform):
                return []  # a documented event that is no trigger shape here has it
            candidates: dict[str, str] = {}
            for shape in event_shapes(self.platform):
                node = shape.root.resolve(ref.path)
                if node is None or not node.is_dict:
                    continue
                if not node.closed or (node.keys is not None and use.key in node.keys):
                    return []
                for k in node.keys or {}:
                    candidates.setdefault(k, shape.title)
            guess = difflib.get_close_matches(use.key, list(candidates), n=1, cutoff=0.8)
            guess = [g for g in guess if not _not_a_typo(g, use.key)]
            if not guess:
                return []
            message = (
                f"No {platform_title(self.platform)} event has the key '{use.key}' "
                f"{'under `' + _describe(ref.path) + '`' if ref.path else 'at the top level'}"
                f"; {effect}."
            )
            message += f" '{guess[0]}' is a key of the {_event_noun(candidates[guess[0]])}."
        span = self.span(use.line, use.col, use.line, use.end_col)
        fixes: tuple[Fix, ...] = ()
        if guess:
            message += f" Did you mean '{guess[0]}'?"
            literal = self.doc.lines[span.start.line]
            quote = literal[byte_to_index(literal, use.col)]
            if quote in "'\"":
                new = f"{quote}{guess[0]}{quote}"
                fixes = (Fix(f"Replace with {new}", self.path, span, new),)
        return [self.problem(span, KEY_UNKNOWN, message, fixes)]

    def attr(self, use: AttrUse) -> list[Problem]:
        ref = self.flow.resolve(use.base)
        model_name = self.flow.context_model
        model = context_model(model_name)
        if ref is None or ref.root != "context" or model is None or use.attr.startswith("__"):
            return []
        if ref.path:
            owner = resolve_context(model_name, ref.path)
            if not isinstance(owner, ContextMember) or owner.members is None:
                return []
            if owner.member(use.attr) is not None:
                return []
            names = [m.name for m in owner.members]
            subject = f"`context.{_describe(ref.path)}`"
        else:
            if model.member(use.attr) is not None or use.attr in model.hidden:
                return []
            names = [m.name for m in model.members if m.name not in model.hidden]
            subject = f"The {model.title} context"
        message = (
            f"{subject} has no attribute '{use.attr}'; reading it raises AttributeError "
            "at run time."
        )
        hint = model.absent.get(use.attr) if not ref.path else None
        guess = difflib.get_close_matches(use.attr, names, n=1, cutoff=0.75)
        if not model.strict and not guess:
            return []
        if hint:
            message += f" {hint}"
        elif guess:
            message += f" Did you mean '{guess[0]}'?"
        other = context_model(_OTHER.get(model_name, ""))
        if not ref.path and other is not None and other.member(use.attr) is not None and not hint:
            message += f" ('{use.attr}' exists on {other.title} only.)"
        span = self.span(use.line, use.col, use.line, use.end_col)
        fixes: tuple[Fix, ...] = ()
        if guess and not hint:
            fixes = (Fix(f"Replace with {guess[0]}", self.path, span, guess[0]),)
        return [self.problem(span, CONTEXT_UNKNOWN, message, fixes)]

    def numeric(self, use: NumericUse) -> list[Problem]:
        ref = self.flow.resolve(use.ref)
        model = context_model(self.flow.context_model)
        if ref is None or ref.root != "context" or model is None or len(ref.path) != 1:
            return []
        kind, name = ref.path[0]
        member = model.member(name) if kind == "attr" else None
        if member is None or not member.numeric_string:
            return []
        example = f' ("{member.example}")' if member.has_example else ""
        message = (
            f"On {model.title}, context.{name} is a {member.type}{example}, not a number; here it "
            f"is {use.how}, which raises TypeError or gives the wrong answer at run time. "
            f"Convert it first: int(context.{name})."
        )
        span = self.span(use.line, use.col, use.end_line, use.end_col)
        fixes: tuple[Fix, ...] = ()
        if use.line == use.end_line:
            text = self.doc.lines[span.start.line]
            lo = byte_to_index(text, use.col)
            hi = byte_to_index(text, use.end_col)
            fixes = (Fix("Convert with int(...)", self.path, span, f"int({text[lo:hi]})"),)
        return [self.problem(span, MEMORY_TYPE, message, fixes)]
