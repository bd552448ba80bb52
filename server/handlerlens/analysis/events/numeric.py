"""Which operands of an operator a function uses as numbers, and how to say it.

A context attribute that is a string on the platform (AWS's `memory_limit_in_mb`) and is
used as a number is a bug (`events.checks`): the walk (`walk.py`) asks here, for each
arithmetic operation and comparison, which operands it treats as numbers.
"""

from __future__ import annotations

import ast

_ALWAYS_NUMERIC = (
    ast.Sub,
    ast.Div,
    ast.FloorDiv,
    ast.Pow,
    ast.LShift,
    ast.RShift,
    ast.BitAnd,
    ast.BitOr,
    ast.BitXor,
)
_NUMERIC_WITH_NUMBER = (ast.Add, ast.Mult, ast.Mod)
_ORDERING = (ast.Lt, ast.LtE, ast.Gt, ast.GtE)
_NUMBER_FUNCS = frozenset({"int", "float", "len", "round", "abs", "min", "max", "sum"})
_OP_TEXT = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.Pow: "**",
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.BitAnd: "&",
    ast.BitOr: "|",
    ast.BitXor: "^",
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.Eq: "==",
    ast.NotEq: "!=",
}


def _is_numberish(node: ast.expr) -> bool:
    if isinstance(node, ast.Constant):
        return isinstance(node.value, (int, float)) and not isinstance(node.value, bool)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        return _is_numberish(node.operand)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        return node.func.id in _NUMBER_FUNCS
    if isinstance(node, ast.BinOp):
        return _is_numberish(node.left) or _is_numberish(node.right)
    return False


def computed_as_numbers(
    left: ast.expr, op: ast.operator, right: ast.expr
) -> list[tuple[ast.expr, str]]:
    """The operands of `left op right` used as numbers, each with how it is used."""
    text = _OP_TEXT.get(type(op), "")
    if isinstance(op, _ALWAYS_NUMERIC):
        return [(left, f"used in arithmetic (`{text}`)"), (right, f"used in arithmetic (`{text}`)")]
    out: list[tuple[ast.expr, str]] = []
    if isinstance(op, _NUMERIC_WITH_NUMBER):
        if _is_numberish(right):
            out.append((left, f"used in arithmetic (`{text}`) with a number"))
        if _is_numberish(left):
            out.append((right, f"used in arithmetic (`{text}`) with a number"))
    return out


def compared_as_numbers(
    left: ast.expr, op: ast.cmpop, right: ast.expr
) -> list[tuple[ast.expr, str]]:
    """The operands of the comparison `left op right` used as numbers, with how."""
    numeric_other = _is_numberish(right), _is_numberish(left)
    equality = isinstance(op, (ast.Eq, ast.NotEq))
    if not (isinstance(op, _ORDERING) or (equality and any(numeric_other))):
        return []
    how = f"compared with `{_OP_TEXT.get(type(op), '')}`"
    out: list[tuple[ast.expr, str]] = []
    if numeric_other[0]:
        out.append((left, how + " to a number"))
    elif not equality:
        out.append((left, how))
    if numeric_other[1]:
        out.append((right, how + " to a number"))
    elif not equality:
        out.append((right, how))
    return out
