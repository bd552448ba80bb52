"""Checks on literal values a handler returns: HTTP proxy response shape and serialisability."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass

from handlerlens.platforms.rules import PlatformRules

# Keys that make a returned dict an HTTP proxy response (both platforms use these names).
_PROXY_KEYS = frozenset({"statusCode", "body", "headers", "multiValueHeaders", "isBase64Encoded"})


@dataclass(frozen=True)
class ResponseFault:
    """A problem with a returned literal: code, message facts and the node it is about."""

    code: str
    detail: str
    node: ast.expr
    type_name: str = ""


def _returns(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> Iterator[ast.Return]:
    stack: list[ast.AST] = list(fn.body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Return):
            yield node
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda | ast.ClassDef):
            continue
        stack.extend(ast.iter_child_nodes(node))


def _unserialisable(node: ast.AST, rules: PlatformRules) -> str | None:
    """The Python type name of a literal that JSON cannot encode, searching nested literals."""
    if isinstance(node, ast.Set | ast.SetComp):
        return "set"
    if isinstance(node, ast.Constant) and isinstance(node.value, bytes):
        return None if rules.bytes_response_ok else "bytes"
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in {"object", "set", "frozenset"}
    ):
        return node.func.id
    if isinstance(node, ast.Dict):
        for value in node.values:
            found = _unserialisable(value, rules)
            if found:
                return found
    if isinstance(node, ast.List | ast.Tuple):
        for elt in node.elts:
            found = _unserialisable(elt, rules)
            if found:
                return found
    return None


def _str_key(key: ast.AST | None) -> str | None:
    if isinstance(key, ast.Constant) and isinstance(key.value, str):
        return key.value
    return None


def _non_string_body(node: ast.AST) -> str | None:
    if isinstance(node, ast.Dict | ast.DictComp):
        return "dict"
    if isinstance(node, ast.List | ast.ListComp):
        return "list"
    if (
        isinstance(node, ast.Constant)
        and not isinstance(node.value, str)
        and node.value is not None
    ):
        return type(node.value).__name__
    return None


def check_returns(
    fn: ast.FunctionDef | ast.AsyncFunctionDef,
    rules: PlatformRules,
    *,
    http_proxy: bool = True,
    platform_known: bool = True,
) -> list[ResponseFault]:
    """Faults in the literal values `fn` returns (nested functions are not looked into).

    The HTTP response's shape is checked only when `http_proxy` (the function is known to be
    behind an HTTP proxy integration: anywhere else any JSON value is a fine reply); bytes
    only when the platform is known (AWS writes them raw, Yandex cannot encode them).
    """
    faults: list[ResponseFault] = []
    for ret in _returns(fn):
        value = ret.value
        if value is None:
            continue
        bad = _unserialisable(value, rules)
        if bad == "bytes" and not platform_known:
            bad = None
        if bad is not None:
            faults.append(
                ResponseFault(
                    "response-not-serializable",
                    f"returns a {bad}, which the runtime cannot encode as JSON",
                    value,
                    bad,
                )
            )
            continue
        if not isinstance(value, ast.Dict) or not http_proxy:
            continue
        keys = {_str_key(k): v for k, v in zip(value.keys, value.values, strict=True)}
        if not _PROXY_KEYS & {k for k in keys if k}:
            continue
        if "body" in keys:
            kind = _non_string_body(keys["body"])
            if kind is not None:
                faults.append(
                    ResponseFault(
                        "response-body-not-string",
                        f"returns an HTTP response whose 'body' is a {kind}; the platform "
                        "expects a string (wrap it in json.dumps(...))",
                        keys["body"],
                    )
                )
        if "statusCode" in keys:
            code = keys["statusCode"]
            if isinstance(code, ast.Constant) and not isinstance(code.value, int):
                faults.append(
                    ResponseFault(
                        "response-status-code-type",
                        f"returns 'statusCode' as a {type(code.value).__name__} "
                        f"({code.value!r}); it must be an int",
                        code,
                    )
                )
        headers = keys.get("headers")
        if isinstance(headers, ast.Dict) and rules.forbidden_response_headers:
            for key in headers.keys:
                name = _str_key(key)
                if name and key is not None and name.lower() in rules.forbidden_response_headers:
                    faults.append(
                        ResponseFault(
                            "response-header-forbidden",
                            f"sets the response header '{name}', which {rules.title} refuses "
                            "(it answers 502 instead); remove it",
                            key,
                        )
                    )
    return faults
