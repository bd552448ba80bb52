"""The facts of one function: what it does with its parameters, symbolically.

Every parameter is a symbolic root (`SymRef("evt", ())`): which one is the event is decided
later by the flow (`flow.py`), so the facts of a function depend only on its own text and
are cached by it. They are read from the function's AST by `walk.py`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from handlerlens.platforms.event_shapes import Step


@dataclass(frozen=True)
class SymRef:
    """A value reached from parameter `param` by `path`."""

    param: str
    path: tuple[Step, ...] = ()

    def then(self, step: Step) -> SymRef:
        """This value, one step further."""
        return SymRef(self.param, (*self.path, step))


@dataclass(frozen=True)
class Binding:
    """From (line, col) on — 0-based line within the function, UTF-8 column — `name` is `ref`."""

    line: int
    col: int
    ref: SymRef | None


@dataclass(frozen=True)
class KeyUse:
    """`base['key']` or `base.get('key')`; the span is the key's string literal."""

    base: SymRef
    key: str
    line: int
    col: int
    end_col: int
    via_get: bool


@dataclass(frozen=True)
class AttrUse:
    """`base.attr` read; the span is the attribute name."""

    base: SymRef
    attr: str
    line: int
    col: int
    end_col: int


@dataclass(frozen=True)
class NumericUse:
    """`ref` used as a number (`how` says how); the span is the expression."""

    ref: SymRef
    how: str
    line: int
    col: int
    end_line: int
    end_col: int


@dataclass(frozen=True)
class CallUse:
    """A call of a plain name with tracked arguments: `process(event)`."""

    callee: str
    args: tuple[SymRef | None, ...]
    kwargs: tuple[tuple[str, SymRef], ...]


@dataclass(frozen=True)
class FunctionFacts:
    """Everything the event features need from one top-level function."""

    name: str
    params: tuple[str, ...]
    kwonly: tuple[str, ...]
    annotations: Mapping[str, str]
    bindings: Mapping[str, tuple[Binding, ...]]
    keys: tuple[KeyUse, ...] = ()
    attrs: tuple[AttrUse, ...] = ()
    numeric: tuple[NumericUse, ...] = ()
    calls: tuple[CallUse, ...] = ()
    exact: bool = True
    # (value, key) pairs tested with `'key' in value` / `not in`: the code expects the key
    # may be missing, so reading it is no mistake.
    probed: frozenset[tuple[SymRef, str]] = frozenset()
    # (value, attribute) pairs tested with `hasattr(value, 'attr')`: the code expects the
    # attribute may be missing (`getattr(value, 'attr', default)` reads none to begin with).
    probed_attrs: frozenset[tuple[SymRef, str]] = frozenset()

    def ref_at(self, name: str, line: int, col: int) -> SymRef | None:
        """What `name` holds at (line, col) within the function, or None."""
        found: SymRef | None = None
        for b in self.bindings.get(name, ()):
            if (b.line, b.col) <= (line, col):
                found = b.ref
            else:
                break
        return found
