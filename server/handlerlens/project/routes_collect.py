"""What every reader of declared routes shares: a declared path as a template, a declared
method, and the collector that places a route (or the problem that says why there is none)
in its file.
"""

from __future__ import annotations

from dataclasses import replace

import yaml

from handlerlens.core.problems import Problem, Severity, Span
from handlerlens.core.text import LineIndex
from handlerlens.project import yaml_nodes as yn
from handlerlens.project.config_problems import unresolved
from handlerlens.project.routes import (
    ANY,
    DEFAULT,
    METHODS,
    PARAMETER,
    ROUTE_INVALID,
    GatewayKind,
    Route,
    path_segments,
)

# ---------------------------------------------------------------------------------------------
# Paths and methods as declared


def template_path(raw: str) -> str | None:
    """A declared path as a template (`/items/{id}`); None when it is not a path."""
    path = raw.strip()
    if not path.startswith("/"):
        path = "/" + path
    if len(path) > 1 and path.endswith("/"):
        path = path[:-1]
    if "//" in path or any(c.isspace() for c in path):
        return None
    return path


def _greedy_misplaced(path: str) -> bool:
    """AWS gateways take a greedy `{x+}` only as the last segment."""
    segments = path_segments(path)
    return any(
        (found := PARAMETER.match(segment)) is not None and found.group(2)
        for segment in segments[:-1]
    )


def _method(raw: str) -> str | None:
    method = raw.strip().upper()
    if method in ("ANY", "*"):
        return ANY
    return method if method in METHODS else None


class Collector:
    """Routes and problems of one file, with its line index for spans."""

    def __init__(self, path: str, text: str) -> None:
        self.path = path
        self.lines = LineIndex(text)
        self.routes: list[Route] = []
        self.problems: list[Problem] = []

    def span(self, node: yaml.Node) -> Span:
        if isinstance(node, yaml.ScalarNode):
            return yn.value_span(node, self.lines)
        return yn.node_span(node, self.lines)

    def invalid(self, node: yaml.Node, message: str) -> None:
        self.problems.append(
            Problem(self.path, self.span(node), Severity.ERROR, ROUTE_INVALID, message)
        )

    def aws_route(
        self,
        *,
        method_text: str | None,
        path_text: str | None,
        at: yaml.Node,
        what: str,
        target: Route,
    ) -> Route | None:
        """`target` (the API, function, stage, payload; its method and path are placeholders)
        at the declared method and path, or a problem at `at` saying why there is no route:
        a text is "" when it is missing, None when it is computed at deploy time."""
        if method_text is None or path_text is None or "${" in method_text + path_text:
            self.problems.append(
                unresolved(
                    self.path,
                    self.span(at),
                    f"{what}: its method or path is computed at deploy time, so HandlerLens "
                    "cannot route requests to it; write them literally to have it served.",
                )
            )
            return None
        if not method_text.strip() or not path_text.strip():
            missing = "method" if not method_text.strip() else "path"
            self.invalid(at, f"{what} has no {missing}, which the gateway requires.")
            return None
        method = _method(method_text)
        if method is None:
            self.invalid(
                at,
                f"{what}: '{method_text}' is not an HTTP method API Gateway accepts (GET, "
                "POST, PUT, PATCH, DELETE, HEAD, OPTIONS or ANY); the route is not served.",
            )
            return None
        path = template_path(path_text)
        if path is None or (target.kind != "yandex" and _greedy_misplaced(path)):
            reason = (
                "a greedy parameter {name+} must be its last segment"
                if path is not None
                else "it is not a path"
            )
            self.invalid(at, f"{what}: the path '{path_text}' is refused by API Gateway: {reason}.")
            return None
        route = replace(target, method=method, path=path, span=self.span(at))
        self.routes.append(route)
        return route


def target_route(
    declared_in: str,
    kind: GatewayKind,
    api: str,
    function: str | None,
    stage: str | None,
    payload: str,
    binary: tuple[str, ...] = (),
) -> Route:
    """A route to be placed: `ANY $default` until its method, path and span are known."""
    return Route(
        ANY, DEFAULT, kind, api, function, stage, payload, declared_in, Span.of(0, 0), binary
    )


def declared_text(node: yaml.Node | None) -> str | None:
    """A declared text: "" when absent, None when computed (`!Ref`, `!Sub`, a map)."""
    return "" if node is None else yn.as_str(node)


def function_url(function: str, path: str, span: Span, auth: str | None = None) -> Route:
    """A function's URL; `auth` its declared AuthType as written (`AWS_IAM` is kept, any
    other value is `NONE`: a computed one too)."""
    declared = "AWS_IAM" if (auth or "").strip().upper() == "AWS_IAM" else "NONE"
    return replace(
        target_route(path, "function-url", function, function, DEFAULT, "2.0"),
        span=span,
        auth=declared,
    )


def plain_text(node: yaml.Node | None) -> str | None:
    text = yn.as_plain_text(node)
    return None if text is None or "${" in text else text
