"""Which route a gateway picks for a request (PLATFORMS.md §10): the precedence of its routes,
and the lookup over a whole table of them.

Here, in platforms/ (stdlib only), so the supervisor's route table (runner/route_table.py), the
editor (project/routes.py re-exports `match`) and a worker answering a lent routed connection
(worker/routed.py, which loads this module by path) pick the same route for the same request.
A route is anything with `kind`, `method` and `path` (project/routes.py's Route, or the
worker's plain copy of it).
"""

from __future__ import annotations

import re
from urllib.parse import unquote

TYPE_CHECKING = False  # typing stays unloaded in a worker (worker/routed.py loads this)
if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from typing import Protocol, TypeVar

    class RouteLike(Protocol):
        @property
        def kind(self) -> str: ...
        @property
        def method(self) -> str: ...
        @property
        def path(self) -> str: ...

    R = TypeVar("R", bound=RouteLike)

ANY = "ANY"
# The route that takes every request no other route takes: an HTTP API's `$default` route,
# and a Function URL (the whole path belongs to the function).
DEFAULT = "$default"
# Gateways that select the resource (the path) first and then its method.
RESOURCE_FIRST = ("rest", "yandex")
PARAMETER = re.compile(r"^\{([^{}]+?)(\+?)\}$")


def match(routes: Iterable[R], method: str, path: str) -> tuple[R, dict[str, str]] | None:
    """The route a gateway picks for `method` `path` among `routes` (one API's), and its
    path parameters (percent-decoded); None when no route takes the request (the gateway's
    403 or 404).

    Precedence, segment by segment from the left: a literal segment before a `{param}`, a
    `{param}` before a greedy `{param+}`; at the same path a declared method before `ANY`;
    `$default` last. A REST API (and a Yandex spec) picks the resource first, then its
    method: a path whose resource lacks the method is not handed to a less specific resource
    (`POST /parent` with only `GET /parent` is a 403 even under `/{proxy+}`); an HTTP API
    matches route keys, so it falls through to a greedy route or `$default`.
    `path` is the request's raw path (percent-encoded; a query is ignored); one trailing
    slash is not significant; a `/` inside a parameter must be sent as `%2F`, since a
    `{param}` takes exactly one segment.
    """
    wanted = method.upper()
    request = path_segments(_normalise_request(path))
    matched: list[tuple[tuple[int, ...], R, dict[str, str]]] = []
    for route in routes:
        if route.path == DEFAULT:
            matched.append(((3,), route, {}))
            continue
        found = _match_segments(path_segments(route.path), request)
        if found is not None:
            matched.append((found[0], route, found[1]))
    resource_first = [ranks for ranks, route, _ in matched if route.kind in RESOURCE_FIRST]
    if resource_first:
        resource = min(resource_first)
        matched = [m for m in matched if m[0] == resource]
    eligible = [
        (ranks, 1 if route.method == ANY else 0, index, route, params)
        for index, (ranks, route, params) in enumerate(matched)
        if route.method in (wanted, ANY)
    ]
    if not eligible:
        return None
    _, _, _, route, params = min(eligible, key=lambda e: (e[0], e[1], e[2]))
    return route, params


def _normalise_request(path: str) -> str:
    path = path.split("?", 1)[0] or "/"
    if not path.startswith("/"):
        path = "/" + path
    if len(path) > 1 and path.endswith("/"):
        path = path[:-1]
    return path


def path_segments(path: str) -> list[str]:
    """`/a/b` → ["a", "b"]; `/` → []."""
    return [part for part in path.split("/")[1:]] if path not in ("/", "") else []


def _match_segments(
    template: list[str], request: list[str]
) -> tuple[tuple[int, ...], dict[str, str]] | None:
    """Ranks per template segment (0 literal, 1 parameter, 2 greedy) and the parameters, or
    None. A greedy parameter takes one segment or more, wherever it stands (Yandex allows
    `/prefix/{param+}/suffix`); with several ways to match, the one that gives the greedy
    parameter the least is taken."""
    if not template:
        return ((), {}) if not request else None
    head, rest = template[0], template[1:]
    parameter = PARAMETER.match(head)
    if parameter is not None and parameter.group(2):
        # Greedy: at least one segment, and leave enough for the literal segments after it.
        for taken in range(1, len(request) - len(rest) + 1):
            after = _match_segments(rest, request[taken:])
            if after is not None:
                value = unquote("/".join(request[:taken]))
                ranks, params = after
                return (2, *ranks), {parameter.group(1): value, **params}
        return None
    if not request:
        return None
    segment = request[0]
    if parameter is not None:
        if segment == "":
            return None  # `//`: an empty segment is no value for a parameter
        after = _match_segments(rest, request[1:])
        if after is None:
            return None
        ranks, params = after
        return (1, *ranks), {parameter.group(1): unquote(segment), **params}
    if unquote(segment) != head:
        return None
    after = _match_segments(rest, request[1:])
    if after is None:
        return None
    return (0, *after[0]), after[1]


def _first_literal(route: RouteLike) -> str | None:
    if route.path == DEFAULT:
        return None
    first = route.path.lstrip("/").split("/", 1)[0]
    return None if first.startswith("{") else first


class Lookup:
    """The routes sharing one port (every API's but Function URLs'), in declaration order
    (match()'s tie-break), indexed for lookup: a request is matched against the routes whose
    template starts with its path's first segment and those that start with a parameter (or
    are `$default`), not against every one; a REST or HTTP API route with a stage is also
    reached under its stage prefix (`/Prod/items/1`, the deployed URL's shape) when no route
    takes the path as it is."""

    def __init__(self, routes: Sequence[RouteLike], stages: Sequence[str | None]) -> None:
        """`stages`: each route's stage prefix (None: none)."""
        self.routes = list(routes)
        wild = [r for r in self.routes if _first_literal(r) is None]
        index: dict[str, list[RouteLike]] = {}
        for key in {k for r in self.routes if (k := _first_literal(r)) is not None}:
            index[key] = [r for r in self.routes if _first_literal(r) in (key, None)]
        self._index = index
        self._wild = wild
        by_stage: dict[str, list[RouteLike]] = {}
        for route, stage in zip(self.routes, stages):  # noqa: B905 (3.9 has no strict=)
            if stage is not None:
                by_stage.setdefault(stage, []).append(route)
        self.stages = by_stage

    def find(self, method: str, path: str) -> tuple[RouteLike, dict[str, str], str] | None:
        """The route for a request (its raw path), its path parameters, and the path without
        a stage prefix; None when no route takes it."""
        actual = path.split("?", 1)[0] or "/"
        first = unquote(actual.lstrip("/").split("/", 1)[0])
        found = match(self._index.get(first, self._wild), method, path)
        if found is None and self.stages:
            first, _, rest = actual.lstrip("/").partition("/")
            staged = self.stages.get(first)
            if staged is not None:
                actual = "/" + rest
                found = match(staged, method, actual)
        if found is None:
            return None
        return found[0], found[1], actual
