"""Handler signature rules: can the runtime call it as `handler(event, context)`?"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from handlerlens.core.problems import Position, Span
from handlerlens.core.python_module import Binding
from handlerlens.core.text import LineIndex, utf16_column


@dataclass(frozen=True)
class SignatureFault:
    """One reason the runtime's two-positional-argument call fails, plus an optional edit."""

    code: str
    detail: str
    insert_at: Position | None = None
    insert_text: str = ""


def _is_generator(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    stack: list[ast.AST] = list(fn.body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Yield | ast.YieldFrom):
            return True
        # A nested def/lambda/class has its own yields.
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda | ast.ClassDef):
            continue
        stack.extend(ast.iter_child_nodes(node))
    return False


def check_arguments(args: ast.arguments) -> SignatureFault | None:
    """Arity and keyword-only checks shared by `def` and `lambda`."""
    positional = [*args.posonlyargs, *args.args]
    required = len(positional) - len(args.defaults)
    if len(positional) < 2 and args.vararg is None:
        names = ", ".join(a.arg for a in positional) or "no parameters"
        return SignatureFault(
            "handler-arity",
            f"takes {len(positional)} positional parameter{'s' if len(positional) != 1 else ''}"
            f" ({names}), but the runtime calls it with two (event, context): every call "
            "fails with TypeError",
        )
    if required > 2:
        return SignatureFault(
            "handler-arity",
            f"requires {required} positional arguments, but the runtime passes only two "
            "(event, context): every call fails with TypeError; give the extra parameters "
            "defaults",
        )
    missing = [a.arg for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True) if d is None]
    if missing:
        listed = ", ".join(missing)
        return SignatureFault(
            "handler-required-kwonly",
            f"has required keyword-only parameter{'s' if len(missing) > 1 else ''} {listed}, "
            "which the runtime never passes: every call fails with TypeError; give "
            f"{'them' if len(missing) > 1 else 'it'} a default",
        )
    return None


def _context_insertion(
    fn: ast.FunctionDef | ast.AsyncFunctionDef, index: LineIndex
) -> tuple[Position, str] | None:
    args = fn.args
    positional = [*args.posonlyargs, *args.args]
    if args.vararg or args.kwonlyargs or args.kwarg or args.defaults:
        return None
    if len(positional) == 1:
        a = positional[0]
        end = a.annotation if a.annotation is not None else a
        if end.end_lineno is None or end.end_col_offset is None:
            return None
        return index.from_ast(end.end_lineno, end.end_col_offset), ", context"
    if not positional:
        line = index.line(fn.lineno - 1)
        at = line.find(f"{fn.name}(")
        if at < 0 or line[at + len(fn.name) + 1 : at + len(fn.name) + 2] != ")":
            return None
        col = utf16_column(line, at + len(fn.name) + 1)
        return Position(fn.lineno - 1, col), "event, context"
    return None


def check_signature(binding: Binding, index: LineIndex) -> SignatureFault | None:
    """The first signature rule a function or lambda binding breaks, or None."""
    # The rules read no line numbers: the chunk-relative node serves, and only a fault with an
    # edit needs the whole-module copy (`binding.node` deep-copies the whole function).
    node = binding.raw_node
    if isinstance(node, ast.Lambda):
        return check_arguments(node.args)
    if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        return None
    fault = check_arguments(node.args)
    if fault is not None and fault.code == "handler-arity":
        moved = binding.node
        assert isinstance(moved, ast.FunctionDef | ast.AsyncFunctionDef)
        where = _context_insertion(moved, index)
        if where is not None:
            return SignatureFault(fault.code, fault.detail, where[0], where[1])
    return fault


def is_generator(binding: Binding, index: LineIndex | None = None) -> bool:
    """Whether a `def` binding is a generator function; with the module's `index`, a `def`
    whose lines never spell `yield` is answered without walking its body."""
    node = binding.raw_node
    if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        return False
    if index is not None and node.end_lineno is not None:
        first = node.lineno - 1 + binding.line_offset
        last = node.end_lineno + binding.line_offset
        if not any("yield" in index.line(n) for n in range(first, last)):
            return False
    return _is_generator(node)


def span_of_def_line(binding: Binding) -> Span:
    """The span diagnostics about a handler's signature use: its name in the `def`."""
    return binding.span
