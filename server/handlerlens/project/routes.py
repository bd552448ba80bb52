"""HTTP routes: which declared function answers which method and path, behind which gateway.

The `Route` model, `match` (the route a gateway would pick for one request) and `conflicts`
(two declarations of one route on one API, which deploy rejects). Pure: no runner, no editor.

The readers, one module each (PLATFORMS.md §10); they import this module, never the reverse:
- routes_sam.py: SAM/CloudFormation `Api`/`HttpApi` events, Function URLs;
- routes_serverless.py: serverless.yml `http`/`httpApi`/`url` events (and the Yandex plugin's);
- routes_openapi.py: Yandex API Gateway OpenAPI 3 specs;
- routes_terraform.py: Terraform `yandex_api_gateway` specs (inline, `file()`, `templatefile()`);
- routes_reading.py: any declaring file, every file of a workspace (`routes_of_file`,
  `all_routes`, `declared_routes`); routes_collect.py is what the readers share.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal
from urllib.parse import unquote

from handlerlens.core.problems import Problem, Severity, Span
from handlerlens.project.routes_cors import Cors

if TYPE_CHECKING:
    from handlerlens.platforms.gateway_base import GatewayRoute

GatewayKind = Literal["rest", "http", "function-url", "yandex"]

ANY = "ANY"
# The route that takes every request no other route takes: an HTTP API's `$default` route,
# and a Function URL (the whole path belongs to the function).
DEFAULT = "$default"
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")

ROUTE_CONFLICT = "route-conflict"
ROUTE_FUNCTION_UNKNOWN = "route-function-unknown"
ROUTE_INVALID = "route-invalid"

# The APIs SAM creates for events that name none [SAMT plugins/api/implicit_*_api_plugin.py].
IMPLICIT_REST_API = "ServerlessRestApi"
IMPLICIT_HTTP_API = "ServerlessHttpApi"

_KIND_LABELS: dict[str, str] = {
    "rest": "REST",
    "http": "HTTP API",
    "function-url": "Function URL",
    "yandex": "API Gateway",
}
_DEFAULT_PAYLOAD = {"rest": "1.0", "http": "2.0", "function-url": "2.0", "yandex": "0.1"}
# Gateways that select the resource (the path) first and then its method.
_RESOURCE_FIRST = ("rest", "yandex")
PARAMETER = re.compile(r"^\{([^{}]+?)(\+?)\}$")


@dataclass(frozen=True)
class Route:
    """One route of one API: `method` (upper case, or `ANY`) and `path` (a template such as
    `/items/{id}` or `/{proxy+}`, or `$default`) on the API `api` of kind `kind`, answered by
    the declared function `function` (None when the declaration names a function this
    workspace does not declare). `stage` is the API's stage (`Prod` for SAM's implicit REST
    API, `$default` for HTTP APIs and Function URLs, None where there is none or it is
    computed); `payload` the event format version (`1.0`, `2.0`, Yandex `0.1`/`1.0`);
    `binary_media_types` the API's, with SAM's `~1` read as `/`. `declared_in`/`span` locate
    the declaration (the path value, or the event when it has no path). `stage_variables`:
    the stage's `Variables` (SAM `AWS::Serverless::Api`), as (name, value) pairs;
    `operation_id`: a Yandex spec operation's `operationId`; `timeout_ms`: the integration
    timeout the event declares (SAM `TimeoutInMillis`, Serverless `timeoutInMillis`);
    `parameters`: a Yandex operation's declared parameters, (name, `in`) pairs; `cors`: the
    API's (or Yandex path's) CORS rule as project/routes_cors.py reads it, None without one;
    `operation_context`: a Yandex integration's `context`, as JSON text.
    """

    method: str
    path: str
    kind: GatewayKind
    api: str
    function: str | None
    stage: str | None
    payload: str
    declared_in: str
    span: Span
    binary_media_types: tuple[str, ...] = ()
    stage_variables: tuple[tuple[str, str], ...] = ()
    operation_id: str | None = None
    timeout_ms: int | None = None
    parameters: tuple[tuple[str, str], ...] = ()
    cors: Cors | None = None
    operation_context: str | None = None

    @property
    def route_key(self) -> str:
        """The HTTP API's spelling: `GET /items/{id}`, `ANY /{proxy+}`, `$default`."""
        return DEFAULT if self.path == DEFAULT else f"{self.method} {self.path}"

    def describe(self) -> str:
        """The route table's line: `GET /items/{id} → GetItem (REST, stage Prod)`."""
        kind = _KIND_LABELS[self.kind]
        details = [kind]
        if self.payload != _DEFAULT_PAYLOAD[self.kind]:
            details.append(f"payload {self.payload}")
        if self.stage is not None and self.kind in ("rest", "http"):
            details.append(f"stage {self.stage}")
        target = self.function or "(no function declared here)"
        return f"{self.route_key} → {target} ({', '.join(details)})"

    def gateway(self) -> GatewayRoute:
        """What this route's gateway face (platforms/gateways.py) needs of it: the runner's
        route table and the editor's "Send request" build their events from it."""
        from handlerlens.platforms.gateway_base import GatewayRoute

        return GatewayRoute(
            kind=self.kind,
            method=self.method,
            template=self.path,
            api=self.api,
            stage=self.stage,
            payload=self.payload,
            binary_media_types=self.binary_media_types,
            stage_variables=self.stage_variables,
            operation_id=self.operation_id,
            timeout_ms=self.timeout_ms,
            parameters=self.parameters,
            cors=self.cors,
            operation_context=self.operation_context,
        )

    @property
    def param_names(self) -> tuple[str, ...]:
        """The path parameters the template declares, in order (`id`, `proxy`)."""
        names = []
        for segment in path_segments(self.path):
            found = PARAMETER.match(segment)
            if found is not None:
                names.append(found.group(1))
        return tuple(names)


# ---------------------------------------------------------------------------------------------
# Matching


def match(routes: Iterable[Route], method: str, path: str) -> tuple[Route, dict[str, str]] | None:
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
    matched: list[tuple[tuple[int, ...], Route, dict[str, str]]] = []
    for route in routes:
        if route.path == DEFAULT:
            matched.append(((3,), route, {}))
            continue
        found = _match_segments(path_segments(route.path), request)
        if found is not None:
            matched.append((found[0], route, found[1]))
    resource_first = [ranks for ranks, route, _ in matched if route.kind in _RESOURCE_FIRST]
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


# ---------------------------------------------------------------------------------------------
# Two declarations of one route


def conflicts(routes: Sequence[Route]) -> list[Problem]:
    """One error at each later declaration of a method and path already declared on the same
    API (parameter names aside: `/items/{id}` and `/items/{key}` are one route), as deploy
    would reject the API. An API is declared in one file (a template is a stack of its own:
    two templates' implicit `ServerlessHttpApi` are two APIs)."""
    seen: dict[tuple[str, str, str, str, str], Route] = {}
    problems = []
    for route in routes:
        key = (route.declared_in, route.kind, route.api, route.method, _shape(route.path))
        first = seen.get(key)
        if first is None:
            seen[key] = route
            continue
        if first.function == route.function:
            who = f"the same function ({route.function})" if route.function else "it again"
            detail = f"declares {who} twice"
        else:
            detail = (
                f"would be answered by two functions ({_name(first.function)} and "
                f"{_name(route.function)})"
            )
        where = _api_label(route)
        problems.append(
            Problem(
                route.declared_in,
                route.span,
                Severity.ERROR,
                ROUTE_CONFLICT,
                f"The route {route.route_key} on {where} is already declared: it {detail}, and "
                "deploy rejects an API with one route declared twice. Remove one of them or "
                "give it another path or method.",
                related=((first.declared_in, first.span, "the first declaration"),),
            )
        )
    return problems


def shape(route: Route) -> tuple[str, str]:
    """A route's method and path, parameter names aside (`/items/{id}` is `/items/{key}`):
    two routes of one shape take the same requests."""
    return route.method, _shape(route.path)


def _shape(path: str) -> str:
    if path == DEFAULT:
        return path
    shaped = []
    for segment in path_segments(path):
        parameter = PARAMETER.match(segment)
        shaped.append(segment if parameter is None else "{" + parameter.group(2) + "}")
    return "/" + "/".join(shaped)


def _name(function: str | None) -> str:
    return function if function is not None else "a function not declared here"


def _api_label(route: Route) -> str:
    kind = {
        "rest": "the REST API",
        "http": "the HTTP API",
        "function-url": "the Function URL of",
        "yandex": "the API Gateway spec",
    }[route.kind]
    return f"{kind} {route.api}"
