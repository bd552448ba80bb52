"""Reading one function's facts (`facts.py`) from its AST, symbolically.

The walk does not know yet which parameter is the event: it tracks every parameter as a
symbolic root (`SymRef("evt", ())`) through subscripts, `.get`, `or {}`, attribute reads,
aliases (`rc = evt['requestContext']`) and loops (`for r in evt['Records']`).
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from handlerlens.analysis.events.facts import (
    AttrUse,
    Binding,
    CallUse,
    FunctionFacts,
    KeyUse,
    NumericUse,
    SymRef,
)
from handlerlens.analysis.events.numeric import compared_as_numbers, computed_as_numbers
from handlerlens.platforms.event_shapes import ELEM


def _annotation_name(node: ast.expr | None) -> str:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value.strip()
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


@dataclass
class _Walker(ast.NodeVisitor):
    line0: int
    current: dict[str, SymRef | None] = field(default_factory=dict)
    bindings: dict[str, list[Binding]] = field(default_factory=dict)
    keys: list[KeyUse] = field(default_factory=list)
    attrs: list[AttrUse] = field(default_factory=list)
    numeric: list[NumericUse] = field(default_factory=list)
    calls: list[CallUse] = field(default_factory=list)
    probed: set[tuple[SymRef, str]] = field(default_factory=set)
    probed_attrs: set[tuple[SymRef, str]] = field(default_factory=set)

    # -- traversal ---------------------------------------------------------------------------
    # This walk runs on every keystroke in a handler. ast.NodeVisitor looks its method up by
    # name for every node, visits expression contexts and operators as nodes, and routes
    # constants through a deprecation shim: a class-keyed dispatch that skips the leaves
    # nothing here looks at walks the same tree in about half the time.

    def visit(self, node: ast.AST) -> None:
        method = _DISPATCH.get(node.__class__)
        if method is None:
            method = _dispatch_for(node.__class__)
        method(self, node)

    def generic_visit(self, node: ast.AST) -> None:
        for name in node._fields:
            value = getattr(node, name, None)
            if value.__class__ is list:
                for item in value:
                    if isinstance(item, ast.AST):
                        self.visit(item)
            elif isinstance(value, ast.AST):
                self.visit(value)

    # -- resolving expressions -------------------------------------------------------------

    def ref(self, node: ast.expr) -> SymRef | None:
        if isinstance(node, ast.Name):
            return self.current.get(node.id)
        if isinstance(node, ast.Subscript):
            base = self.ref(node.value)
            if base is None:
                return None
            sl = node.slice
            if isinstance(sl, ast.Constant) and isinstance(sl.value, str):
                return base.then(("key", sl.value))
            if isinstance(sl, ast.Slice):
                return base
            return base.then(ELEM)
        if isinstance(node, ast.Call):
            key = self._get_key(node)
            if key is not None:
                base = self.ref(node.func.value)  # type: ignore[attr-defined]
                return base.then(("key", key)) if base is not None else None
            return None
        if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.Or):
            return self.ref(node.values[0])
        if isinstance(node, ast.Attribute):
            base = self.ref(node.value)
            return base.then(("attr", node.attr)) if base is not None else None
        return None

    @staticmethod
    def _get_key(node: ast.Call) -> str | None:
        func = node.func
        if (
            isinstance(func, ast.Attribute)
            and func.attr == "get"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            return node.args[0].value
        return None

    # -- binding names -----------------------------------------------------------------------

    def bind(self, target: ast.expr, ref: SymRef | None, at: ast.AST, start: bool = False) -> None:
        # A binding holds from the end of the statement that makes it; a comprehension's
        # target already holds inside the comprehension, which starts before its `for`.
        if start:
            line, col = getattr(at, "lineno", 1), getattr(at, "col_offset", 0)
        else:
            line = getattr(at, "end_lineno", None) or getattr(at, "lineno", 1)
            col = getattr(at, "end_col_offset", None) or 0
        if isinstance(target, ast.Name):
            self.current[target.id] = ref
            self.bindings.setdefault(target.id, []).append(Binding(line - self.line0, col, ref))
        elif isinstance(target, (ast.Tuple, ast.List)):
            for elt in target.elts:
                self.bind(elt.value if isinstance(elt, ast.Starred) else elt, None, at, start)

    def bind_loop(self, target: ast.expr, it: ast.expr, at: ast.AST | None = None) -> None:
        where: ast.AST = at if at is not None else it
        start = at is not None
        ref = self.ref(it)
        if ref is not None:
            self.bind(target, ref.then(ELEM), where, start)
            return
        # `for i, r in enumerate(x)`, `for k, v in x.items()`, `for v in x.values()`.
        if isinstance(it, ast.Call) and isinstance(target, ast.Tuple) and len(target.elts) == 2:
            func = it.func
            if isinstance(func, ast.Name) and func.id == "enumerate" and it.args:
                inner = self.ref(it.args[0])
                self.bind(target.elts[0], None, where, start)
                self.bind(target.elts[1], inner.then(ELEM) if inner else None, where, start)
                return
            if isinstance(func, ast.Attribute) and func.attr == "items":
                inner = self.ref(func.value)
                self.bind(target.elts[0], None, where, start)
                self.bind(target.elts[1], inner.then(ELEM) if inner else None, where, start)
                return
        if isinstance(it, ast.Call) and isinstance(it.func, ast.Attribute):
            if it.func.attr == "values":
                inner = self.ref(it.func.value)
                self.bind(target, inner.then(ELEM) if inner else None, where, start)
                return
        self.bind(target, None, where, start)

    # -- statements ---------------------------------------------------------------------------

    def visit_Assign(self, node: ast.Assign) -> None:
        self.visit(node.value)
        ref = self.ref(node.value)
        for target in node.targets:
            if not isinstance(target, ast.Name):
                self.visit(target)
            self.bind(target, ref, node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self.visit(node.value)
            self.bind(node.target, self.ref(node.value), node)

    def visit_NamedExpr(self, node: ast.NamedExpr) -> None:
        self.visit(node.value)
        self.bind(node.target, self.ref(node.value), node)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self.visit(node.value)
        for operand, how in computed_as_numbers(node.target, node.op, node.value):
            self._numeric(operand, how)

    def visit_For(self, node: ast.For | ast.AsyncFor) -> None:
        self.visit(node.iter)
        self.bind_loop(node.target, node.iter)
        for stmt in (*node.body, *node.orelse):
            self.visit(stmt)

    visit_AsyncFor = visit_For

    def visit_With(self, node: ast.With | ast.AsyncWith) -> None:
        for item in node.items:
            self.visit(item.context_expr)
            if item.optional_vars is not None:
                self.bind(item.optional_vars, None, item.context_expr)
        for stmt in node.body:
            self.visit(stmt)

    visit_AsyncWith = visit_With

    # -- branches ----------------------------------------------------------------------------
    # A name bound to different values on two paths (`if 'body' in event: body = json.loads(…)
    # else: body = event`) holds either after the join: it is unknown from there on.

    def _branch(self, stmts: list[ast.stmt], start: dict[str, SymRef | None]) -> dict[str, Any]:
        self.current = dict(start)
        for stmt in stmts:
            self.visit(stmt)
        return self.current

    def _join(self, node: ast.stmt, ends: list[dict[str, SymRef | None]]) -> None:
        names = {name for end in ends for name in end}
        merged: dict[str, SymRef | None] = {}
        for name in names:
            values = {end.get(name, _UNBOUND) for end in ends}
            merged[name] = next(iter(values)) if len(values) == 1 else None
        self.current = {k: v for k, v in merged.items() if v is not _UNBOUND}
        for name in names:
            if len({end.get(name, _UNBOUND) for end in ends}) > 1:
                self.bind(ast.Name(id=name), None, node)

    def visit_If(self, node: ast.If) -> None:
        self.visit(node.test)
        start = dict(self.current)
        ends = [self._branch(node.body, start), self._branch(node.orelse, start)]
        self._join(node, ends)

    def visit_Try(self, node: ast.Try) -> None:
        start = dict(self.current)
        main = self._branch([*node.body, *node.orelse], start)
        ends = [main]
        for handler in node.handlers:
            ends.append(self._branch(handler.body, start))
        self._join(node, ends)
        for stmt in node.finalbody:
            self.visit(stmt)

    visit_TryStar = visit_Try

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        # A nested function's body runs later, with its own parameters: do not descend.
        self.current[node.name] = None

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self.current[node.name] = None

    def visit_Lambda(self, node: ast.Lambda) -> None:
        return None

    def _generators(
        self, node: ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp
    ) -> None:
        for gen in node.generators:
            self.visit(gen.iter)
            self.bind_loop(gen.target, gen.iter, node)
            for cond in gen.ifs:
                self.visit(cond)

    def _comprehension(self, node: ast.ListComp | ast.SetComp | ast.GeneratorExp) -> None:
        self._generators(node)
        self.visit(node.elt)

    visit_ListComp = _comprehension
    visit_SetComp = _comprehension
    visit_GeneratorExp = _comprehension

    def visit_DictComp(self, node: ast.DictComp) -> None:
        self._generators(node)
        self.visit(node.key)
        self.visit(node.value)

    # -- expressions ---------------------------------------------------------------------------

    def _key_use(self, base: SymRef, lit: ast.Constant, via_get: bool) -> None:
        if lit.end_lineno == lit.lineno and lit.end_col_offset is not None:
            self.keys.append(
                KeyUse(
                    base,
                    str(lit.value),
                    lit.lineno - self.line0,
                    lit.col_offset,
                    lit.end_col_offset,
                    via_get,
                )
            )

    def visit_Subscript(self, node: ast.Subscript) -> None:
        sl = node.slice
        if isinstance(sl, ast.Constant) and isinstance(sl.value, str):
            base = self.ref(node.value)
            if base is not None:
                self._key_use(base, sl, via_get=False)
        self.generic_visit(node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if isinstance(node.ctx, ast.Load) and node.end_col_offset is not None:
            base = self.ref(node.value)
            if base is not None and node.end_lineno is not None:
                end = node.end_col_offset
                self.attrs.append(
                    AttrUse(
                        base, node.attr, node.end_lineno - self.line0, end - len(node.attr), end
                    )
                )
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        key = self._get_key(node)
        if key is not None:
            base = self.ref(node.func.value)  # type: ignore[attr-defined]
            if base is not None:
                lit = node.args[0]
                assert isinstance(lit, ast.Constant)
                self._key_use(base, lit, via_get=True)
        if (
            isinstance(node.func, ast.Name)
            and node.func.id == "hasattr"
            and len(node.args) == 2
            and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str)
        ):
            probed = self.ref(node.args[0])
            if probed is not None:
                self.probed_attrs.add((probed, node.args[1].value))
        if isinstance(node.func, ast.Name):
            args = tuple(self.ref(a) for a in node.args if not isinstance(a, ast.Starred))
            kwargs = tuple(
                (kw.arg, r) for kw in node.keywords if kw.arg and (r := self.ref(kw.value))
            )
            if any(a is not None for a in args) or kwargs:
                self.calls.append(CallUse(node.func.id, args, kwargs))
            if node.func.id == "range":
                for arg in node.args:
                    self._numeric(arg, "passed to range()")
        self.generic_visit(node)

    def visit_BinOp(self, node: ast.BinOp) -> None:
        for operand, how in computed_as_numbers(node.left, node.op, node.right):
            self._numeric(operand, how)
        self.generic_visit(node)

    def visit_Compare(self, node: ast.Compare) -> None:
        operands = [node.left, *node.comparators]
        for op, left, right in zip(node.ops, operands, operands[1:], strict=False):
            if (
                isinstance(op, (ast.In, ast.NotIn))
                and isinstance(left, ast.Constant)
                and isinstance(left.value, str)
            ):
                base = self.ref(right)
                if base is not None:
                    self.probed.add((base, left.value))
            for operand, how in compared_as_numbers(left, op, right):
                self._numeric(operand, how)
        self.generic_visit(node)

    def _numeric(self, node: ast.expr, how: str) -> None:
        ref = self.ref(node)
        if ref is not None and ref.path and node.end_lineno is not None:
            self.numeric.append(
                NumericUse(
                    ref,
                    how,
                    node.lineno - self.line0,
                    node.col_offset,
                    node.end_lineno - self.line0,
                    node.end_col_offset or 0,
                )
            )


_UNBOUND: Any = object()
_LEAVES = (ast.expr_context, ast.operator, ast.unaryop, ast.cmpop, ast.boolop, ast.Constant)
_DISPATCH: dict[type, Callable[[_Walker, Any], None]] = {}


def _skip(walker: _Walker, node: ast.AST) -> None:
    return None


def _dispatch_for(cls: type) -> Callable[[_Walker, Any], None]:
    """The walker's method for nodes of class `cls` (its visit_X, else the generic walk)."""
    method: Callable[[_Walker, Any], None]
    if issubclass(cls, _LEAVES):
        method = _skip  # no children worth a visit, and no visit_X method of ours
    else:
        method = _Walker.__dict__.get(f"visit_{cls.__name__}") or _Walker.generic_visit
    _DISPATCH[cls] = method
    return method


def function_facts(
    node: ast.FunctionDef | ast.AsyncFunctionDef, exact: bool = True
) -> FunctionFacts:
    """Walk one function definition; lines in the result count from its `def` line (0)."""
    line0 = node.lineno
    args = node.args
    positional = tuple(a.arg for a in (*args.posonlyargs, *args.args))
    kwonly = tuple(a.arg for a in args.kwonlyargs)
    walker = _Walker(line0)
    annotations: dict[str, str] = {}
    for a in (*args.posonlyargs, *args.args, *args.kwonlyargs):
        walker.current[a.arg] = SymRef(a.arg)
        walker.bindings[a.arg] = [Binding(0, 0, SymRef(a.arg))]
        name = _annotation_name(a.annotation)
        if name:
            annotations[a.arg] = name
    for stmt in node.body:
        walker.visit(stmt)
    return FunctionFacts(
        name=node.name,
        params=positional,
        kwonly=kwonly,
        annotations=annotations,
        bindings={
            k: tuple(sorted(v, key=lambda b: (b.line, b.col))) for k, v in walker.bindings.items()
        },
        keys=tuple(walker.keys),
        attrs=tuple(walker.attrs),
        numeric=tuple(walker.numeric),
        calls=tuple(walker.calls),
        exact=exact,
        probed=frozenset(walker.probed),
        probed_attrs=frozenset(walker.probed_attrs),
    )
