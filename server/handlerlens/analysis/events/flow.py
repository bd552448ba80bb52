"""Where the event and context flow in one module: handlers, aliases and helper functions.

Built for keystroke speed on big modules. A document is split into top-level segments by
column-0 lines (`core.statements`, the split validation parses by too: one cheap pass per
text version, then only the lines an edit touched); only the functions that matter — the
handlers, the helpers they pass `event` to, and the function under the cursor — are parsed,
each on its own, and their facts are cached by their text. An edit inside one function
re-parses that function only. A function that does not parse (typing in progress) is
repaired (`repair`); failing that, the last good parse of the same function stands in, then
its `def` line alone.
"""

from __future__ import annotations

import ast
import re
import threading
from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from handlerlens.analysis.events.facts import FunctionFacts, SymRef
from handlerlens.analysis.events.inference import TriggerChoice, choose_trigger
from handlerlens.analysis.events.repair import parse_function, repaired
from handlerlens.core import statements
from handlerlens.platforms.event_shapes import Step
from handlerlens.platforms.handler_wrappers import ParamView, param_view

_DEF = re.compile(r"(?:async[ \t]+)?def[ \t]+([^\W\d]\w*)")
_MAX_DOCS = 8
# The language server asks from its event loop (completion, hover) and its analysis thread
# (checks); the caches below are shared: every read and write of them takes this lock, but
# no long computation runs under it.
_lock = threading.RLock()
_MAX_FACTS = 512


@dataclass(frozen=True)
class HandlerContext:
    """A handler in this module: its top-level function name, platform and configured trigger.

    `platform_known` is False for a guessed function with no evidence of its platform: its
    event and context are then checked against no platform.
    """

    function: str
    platform: str
    trigger: str | None = None
    platform_known: bool = True


@dataclass(frozen=True)
class Ref:
    """A value reached from the event or the context by `path`."""

    root: Literal["event", "context"]
    path: tuple[Step, ...] = ()


@dataclass(frozen=True)
class FunctionFlow:
    """A function that receives the event or context: from which handler, and as which params."""

    name: str
    handler: HandlerContext
    seeds: Mapping[str, Ref]
    choice: TriggerChoice
    # Which context model `context` is, and whether event and context are checked (the
    # handler's decorators and annotations decide: handler_wrappers.py).
    view: ParamView = ParamView("", False, False)

    @property
    def context_model(self) -> str:
        """The name of the context model `context` follows (`aws`, `yandex`, `aws-durable`)."""
        return self.view.context_model or self.handler.platform

    def resolve(self, ref: SymRef) -> Ref | None:
        """The event/context value a symbolic reference denotes in this function, or None."""
        seed = self.seeds.get(ref.param)
        return Ref(seed.root, seed.path + ref.path) if seed is not None else None


_facts_cache: OrderedDict[str, FunctionFacts | None] = OrderedDict()
# The last facts that parsed, by `def` line: a fallback while that function is mid-edit.
_last_good: OrderedDict[str, FunctionFacts] = OrderedDict()


def _remember(
    cache: OrderedDict[str, FunctionFacts | None] | OrderedDict[str, FunctionFacts],
    key: str,
    facts: FunctionFacts,
) -> None:
    cache[key] = facts
    cache.move_to_end(key)
    if len(cache) > _MAX_FACTS:
        cache.popitem(last=False)


_UNSEEN = ""
_MAX_DEF_NAMES = 20_000
_def_names: dict[str, str | None] = {}  # statement line → the function it defines, if any


class EventDocument:
    """One version of one module's text, with lazily computed segments, facts and flows."""

    def __init__(self, text: str, previous: EventDocument | None = None) -> None:
        self.text = text
        derived = None
        if previous is not None:
            derived = statements.resplit(previous.text, previous.lines, previous.starts, text)
        lines, starts = derived or statements.split(text)
        self.lines: list[str] = lines
        self.starts: list[int] = starts
        defs: dict[str, int] = {}
        names = _def_names
        if len(names) > _MAX_DEF_NAMES:
            names.clear()
        for i in self.starts:
            line = lines[i]
            # Versions share their unchanged line strings (and their cached hashes).
            name = names.get(line, _UNSEEN)
            if name is _UNSEEN:
                found = _DEF.match(line) if line[0] in "da" else None
                name = names[line] = found.group(1) if found else None
            if name is not None:
                # A later definition replaces an earlier one, as at run time.
                defs[name] = i
        self.defs = defs
        self._flows: dict[tuple[HandlerContext, ...], dict[str, FunctionFlow]] = {}
        self._segments: dict[str, tuple[int, int] | None] = {}
        self._facts: dict[str, FunctionFacts | None] = {}
        self._decorators: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {}

    def decorators(self, name: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """Decorators of top-level function `name`, outermost first: (last name, keyword
        names); `("?", ())` for one that cannot be read."""
        with _lock:
            if name in self._decorators:
                return self._decorators[name]
        found = self._read_decorators(name)
        with _lock:
            self._decorators[name] = found
        return found

    def _read_decorators(self, name: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
        start = self.defs.get(name)
        if start is None:
            return ()
        pos = bisect_right(self.starts, start) - 1
        first = start
        while pos > 0 and self.lines[self.starts[pos - 1]].startswith("@"):
            pos -= 1
            first = self.starts[pos]
        if first == start:
            return ()
        text = "\n".join([*self.lines[first:start], "def _decorated(): pass"])
        try:
            module = ast.parse(text)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return (("?", ()),)
        node = module.body[0] if module.body else None
        if not isinstance(node, ast.FunctionDef):
            return (("?", ()),)
        out: list[tuple[str, tuple[str, ...]]] = []
        for dec in node.decorator_list:
            keywords: tuple[str, ...] = ()
            if isinstance(dec, ast.Call):
                keywords = tuple(k.arg for k in dec.keywords if k.arg)
                dec = dec.func
            if isinstance(dec, ast.Attribute):
                out.append((dec.attr, keywords))
            elif isinstance(dec, ast.Name):
                out.append((dec.id, keywords))
            else:
                out.append(("?", keywords))
        return tuple(out)

    def segment(self, name: str) -> tuple[int, int] | None:
        """Line range [start, end) of top-level function `name`, or None."""
        with _lock:
            if name not in self._segments:
                self._segments[name] = self._segment(name)
            return self._segments[name]

    def _segment(self, name: str) -> tuple[int, int] | None:
        start = self.defs.get(name)
        if start is None:
            return None
        pos = bisect_right(self.starts, start)
        end = self.starts[pos] if pos < len(self.starts) else len(self.lines)
        # A column-0 line inside a triple-quoted string is not a statement: extend past it.
        for _ in range(8):
            if end >= len(self.lines):
                break
            body = "\n".join(self.lines[start:end])
            if body.count('"""') % 2 == 0 and body.count("'''") % 2 == 0:
                break
            pos += 1
            end = self.starts[pos] if pos < len(self.starts) else len(self.lines)
        return start, end

    def enclosing(self, line: int) -> str | None:
        """Name of the top-level function whose body holds `line`, or None."""
        pos = bisect_right(self.starts, line) - 1
        while pos >= 0:
            m = _DEF.match(self.lines[self.starts[pos]])
            if m and self.defs.get(m.group(1)) == self.starts[pos]:
                seg = self.segment(m.group(1))
                return m.group(1) if seg is not None and seg[0] <= line < seg[1] else None
            if self.starts[pos] == line:
                return None
            pos -= 1
        return None

    def facts(self, name: str, cursor: tuple[int, int] | None = None) -> FunctionFacts | None:
        """Facts of function `name`; `cursor` = (document line, code-point column) being typed.

        Computed once per text version and function: the first request decides how a
        function that does not parse is repaired (completion asks first, with its cursor).
        """
        with _lock:
            if name in self._facts:
                return self._facts[name]
        # Computed without the lock: a completion must not wait for the analysis thread's
        # whole pass over the module (it may compute the same facts twice, rarely).
        facts = self._compute_facts(name, cursor)
        with _lock:
            if cursor is None and name in self._facts:
                return self._facts[name]  # another caller got there first: use one answer
            self._facts[name] = facts
            return facts

    def _compute_facts(self, name: str, cursor: tuple[int, int] | None) -> FunctionFacts | None:
        seg = self.segment(name)
        if seg is None:
            return None
        start, end = seg
        lines = self.lines[start:end]
        text = "\n".join(lines)
        with _lock:
            if text in _facts_cache:
                _facts_cache.move_to_end(text)
                return _facts_cache[text]
        result = parse_function(text, name, exact=True)
        if not isinstance(result, SyntaxError):
            if result is not None:
                with _lock:
                    _remember(_facts_cache, text, result)
                    _remember(_last_good, lines[0], result)
            return result
        row_col = None
        if cursor is not None and start < cursor[0] < end:
            row_col = (cursor[0] - start, cursor[1])
        facts = repaired(lines, name, row_col, result)
        if facts is None:
            with _lock:
                good = _last_good.get(lines[0])
            if good is not None:
                facts = replace(good, exact=False)
        if facts is None:
            # Nothing parses: the `def` line (and its continuation) alone still names the
            # parameters.
            for k in range(1, min(len(lines), 12) + 1):
                header = parse_function("\n".join([*lines[:k], "    pass"]), name, exact=False)
                if isinstance(header, FunctionFacts):
                    facts = header
                    break
        return facts

    def flows(self, handlers: Sequence[HandlerContext]) -> dict[str, FunctionFlow]:
        """Every function reached by the event or context from `handlers`, by name."""
        key = tuple(handlers)
        with _lock:
            cached = self._flows.get(key)
        if cached is not None:
            return cached
        computed = _compute_flows(self, key)  # without the lock, as in `facts`
        with _lock:
            return self._flows.setdefault(key, computed)


def _compute_flows(
    doc: EventDocument, handlers: tuple[HandlerContext, ...]
) -> dict[str, FunctionFlow]:
    seeds: dict[str, dict[str, Ref | None]] = {}
    origin: dict[str, HandlerContext] = {}
    handler_names = {h.function for h in handlers}
    queue: list[str] = []
    for h in handlers:
        facts = doc.facts(h.function)
        if facts is None or h.function in origin:
            continue
        own: dict[str, Ref | None] = {}
        if facts.params:
            own[facts.params[0]] = Ref("event")
        if len(facts.params) > 1:
            own[facts.params[1]] = Ref("context")
        seeds[h.function], origin[h.function] = own, h
        queue.append(h.function)
    # Propagate into helpers called with the event/context (or parts of them); a parameter
    # that receives different values from different calls is dropped: the flow is not obvious.
    for _ in range(64):
        if not queue:
            break
        caller = queue.pop(0)
        facts = doc.facts(caller)
        if facts is None:
            continue
        for call in facts.calls:
            if call.callee in handler_names or call.callee not in doc.defs:
                continue
            callee = doc.facts(call.callee)
            if callee is None:
                continue
            incoming: dict[str, Ref | None] = {}
            for i, arg in enumerate(call.args):
                if arg is not None and i < len(callee.params):
                    incoming[callee.params[i]] = _actual(seeds[caller], arg)
            for kw, arg in call.kwargs:
                if kw in callee.params or kw in callee.kwonly:
                    incoming[kw] = _actual(seeds[caller], arg)
            mine = seeds.setdefault(call.callee, {})
            origin.setdefault(call.callee, origin[caller])
            changed = call.callee not in queue and not mine
            for param, ref in incoming.items():
                if param not in mine:
                    mine[param] = ref
                    changed = True
                elif mine[param] != ref and mine[param] is not None:
                    mine[param] = None
                    changed = True
            if changed and call.callee not in queue:
                queue.append(call.callee)
    final = {name: {p: r for p, r in s.items() if r is not None} for name, s in seeds.items()}
    choices: dict[HandlerContext, TriggerChoice] = {}
    views: dict[HandlerContext, ParamView] = {}
    for h in handlers:
        if h in choices or h.function not in final:
            continue
        h_facts = doc.facts(h.function)
        context_param = h_facts.params[1] if h_facts and len(h_facts.params) > 1 else ""
        view = param_view(
            h.platform,
            doc.decorators(h.function),
            h_facts.annotations.get(context_param, "") if h_facts else "",
        )
        if not h.platform_known:
            view = ParamView(view.context_model, False, False)
        views[h] = view
        used: list[tuple[Step, ...]] = []
        for name, h_origin in origin.items():
            facts = doc.facts(name)
            if h_origin != h or facts is None:
                continue
            for use in facts.keys:
                ref = _actual(final[name], use.base)
                if ref is not None and ref.root == "event":
                    used.append((*ref.path, ("key", use.key)))
        facts = doc.facts(h.function)
        event_param = facts.params[0] if facts and facts.params else ""
        annotation = facts.annotations.get(event_param) if facts else None
        choices[h] = choose_trigger(h.platform, h.trigger, annotation, used)
    return {
        name: FunctionFlow(
            name, origin[name], final[name], choices[origin[name]], views[origin[name]]
        )
        for name in final
        if origin[name] in choices
    }


def _actual(seeds: Mapping[str, Ref | None], ref: SymRef) -> Ref | None:
    seed = seeds.get(ref.param)
    return Ref(seed.root, seed.path + ref.path) if seed is not None else None


_docs: OrderedDict[str, EventDocument] = OrderedDict()
_last: list[EventDocument] = []


def event_document(text: str) -> EventDocument:
    """The analysed document for `text`, shared by every request on the same text version."""
    with _lock:
        if _last and _last[0].text is text:
            return _last[0]
        doc = _docs.get(text)
        if doc is None:
            # Most versions are one keystroke after the last one asked about.
            doc = EventDocument(text, _last[0] if _last else None)
            _docs[text] = doc
            if len(_docs) > _MAX_DOCS:
                _docs.popitem(last=False)
        else:
            _docs.move_to_end(text)
        _last[:] = [doc]
        return doc
