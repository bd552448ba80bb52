"""HTTP routes: which declared function answers which method and path, behind which gateway.

Read from every declaring file that puts a gateway in front of a function (PLATFORMS.md §10):
- SAM/CloudFormation: `Events` of `Type: Api` (REST, payload 1.0) and `Type: HttpApi` (HTTP
  API, payload 2.0 unless `PayloadFormatVersion: "1.0"`), their `RestApiId`/`ApiId`, the
  function's `FunctionUrlConfig` and `AWS::Lambda::Url` resources;
- serverless.yml: `http` and `httpApi` events (object and `'GET /items'` string forms), `url`;
  with the Yandex plugin, `http` events become a Yandex API Gateway;
- Yandex API Gateway OpenAPI 3 specs: operations with `x-yc-apigateway-integration` of type
  `cloud_functions`, `x-yc-apigateway-any-method`, greedy parameters.

`match` picks the route a gateway would pick for one request; `conflicts` finds two
declarations of one route on one API, which deploy rejects. Pure: no runner, no editor.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Literal
from urllib.parse import unquote

import yaml

from handlerlens.core.model import FunctionSpec
from handlerlens.core.problems import Position, Problem, Severity, Span
from handlerlens.core.text import LineIndex
from handlerlens.project import probes, routes_cors
from handlerlens.project import routes_values as rv
from handlerlens.project import yaml_nodes as yn
from handlerlens.project.config_problems import unresolved
from handlerlens.project.routes_cors import Cors
from handlerlens.project.sam_template import LAMBDA_FUNCTION, SERVERLESS_FUNCTION, referenced_id
from handlerlens.project.serverless_config import event_pairs, function_entries

if TYPE_CHECKING:
    from handlerlens.platforms.gateways import GatewayRoute
    from handlerlens.project.hcl_tree import Node as HclNode

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
_LAMBDA_URL = "AWS::Lambda::Url"

_OPENAPI_METHODS = {m.lower(): m for m in METHODS}
_ANY_METHOD_KEY = "x-yc-apigateway-any-method"
_INTEGRATION_KEY = "x-yc-apigateway-integration"
# `${yandex_function.name.id}` in a spec Terraform renders (heredoc or templatefile()).
_TERRAFORM_FUNCTION_REF = re.compile(r"^\$\{\s*yandex_function\.([A-Za-z0-9_-]+)\.id\s*\}$")
_TEMPLATE_VARIABLE = re.compile(r"^\$\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}$")
_KIND_LABELS: dict[str, str] = {
    "rest": "REST",
    "http": "HTTP API",
    "function-url": "Function URL",
    "yandex": "API Gateway",
}
_DEFAULT_PAYLOAD = {"rest": "1.0", "http": "2.0", "function-url": "2.0", "yandex": "0.1"}
# Gateways that select the resource (the path) first and then its method.
_RESOURCE_FIRST = ("rest", "yandex")
_PARAMETER = re.compile(r"^\{([^{}]+?)(\+?)\}$")


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
        from handlerlens.platforms.gateways import GatewayRoute

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
        for segment in _segments(self.path):
            found = _PARAMETER.match(segment)
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
    request = _segments(_normalise_request(path))
    matched: list[tuple[tuple[int, ...], Route, dict[str, str]]] = []
    for route in routes:
        if route.path == DEFAULT:
            matched.append(((3,), route, {}))
            continue
        found = _match_segments(_segments(route.path), request)
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


def _segments(path: str) -> list[str]:
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
    parameter = _PARAMETER.match(head)
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


def _shape(path: str) -> str:
    if path == DEFAULT:
        return path
    shaped = []
    for segment in _segments(path):
        parameter = _PARAMETER.match(segment)
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


# ---------------------------------------------------------------------------------------------
# Paths and methods as declared


def _template_path(raw: str) -> str | None:
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
    segments = _segments(path)
    return any(
        (found := _PARAMETER.match(segment)) is not None and found.group(2)
        for segment in segments[:-1]
    )


def _method(raw: str) -> str | None:
    method = raw.strip().upper()
    if method in ("ANY", "*"):
        return ANY
    return method if method in METHODS else None


class _Collector:
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
        path = _template_path(path_text)
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


# ---------------------------------------------------------------------------------------------
# SAM / CloudFormation


def sam_routes(path: str, text: str) -> tuple[list[Route], list[Problem]]:
    """The routes of a SAM/CloudFormation template (every function's, whatever its language:
    two functions on one route conflict either way). A template that does not parse has no
    routes; its parse error is the function reader's to report."""
    doc, _ = yn.parse(path, text, "CloudFormation template")
    if doc is None:
        return [], []
    collector = _Collector(path, text)
    resources = yn.items(yn.get(doc, "Resources"))
    types = {lid: yn.as_str(yn.get(res, "Type")) for lid, res in resources}
    parameters = yn.get(doc, "Parameters")
    global_api = yn.get_path(doc, "Globals", "Api")
    global_http = yn.get_path(doc, "Globals", "HttpApi")

    def literal(node: yaml.Node | None) -> str | None:
        """A literal string, or the default of the template parameter it `!Ref`s."""
        text = yn.as_str(node) or yn.as_plain_text(node)
        if text is not None:
            return text
        name = referenced_id(node)
        return yn.as_plain_text(yn.get(yn.get(parameters, name), "Default")) if name else None

    def api_props(api: str) -> yaml.Node | None:
        return next((yn.get(res, "Properties") for lid, res in resources if lid == api), None)

    def rest_api(
        ref: yaml.Node | None,
    ) -> tuple[str, str | None, tuple[str, ...], tuple[tuple[str, str], ...]]:
        if ref is None:
            binary = _binary_types(yn.get(global_api, "BinaryMediaTypes"))
            return IMPLICIT_REST_API, "Prod", binary, rv.variables(yn.get(global_api, "Variables"))
        api = referenced_id(ref) or yn.as_str(ref) or "?"
        props = api_props(api)
        stage = literal(yn.first(yn.get(props, "StageName"), yn.get(global_api, "StageName")))
        # SAM's Globals add to a resource's lists rather than being replaced by them.
        binary = _binary_types(yn.get(global_api, "BinaryMediaTypes"))
        binary += _binary_types(yn.get(props, "BinaryMediaTypes"))
        variables = dict(rv.variables(yn.get(global_api, "Variables")))
        variables.update(rv.variables(yn.get(props, "Variables")))
        return api, stage, tuple(dict.fromkeys(binary)), tuple(variables.items())

    def api_cors(
        ref: yaml.Node | None, key: str, globals_node: yaml.Node | None
    ) -> yaml.Node | None:
        props = api_props(referenced_id(ref) or yn.as_str(ref) or "?") if ref is not None else None
        return yn.first(yn.get(props, key), yn.get(globals_node, key))

    def http_api(ref: yaml.Node | None) -> tuple[str, str | None]:
        if ref is None:
            return IMPLICIT_HTTP_API, DEFAULT
        api = referenced_id(ref) or yn.as_str(ref) or "?"
        stage = yn.first(yn.get(api_props(api), "StageName"), yn.get(global_http, "StageName"))
        return api, literal(stage) if stage is not None else DEFAULT

    for function, resource in resources:
        if types.get(function) != SERVERLESS_FUNCTION:
            continue
        props = yn.get(resource, "Properties")
        for event_name, event in yn.items(yn.get(props, "Events")):
            kind = yn.as_str(yn.get(event, "Type"))
            properties = yn.get(event, "Properties")
            what = f"Event {event_name} of {function}"
            path_node = yn.get(properties, "Path")
            method_node = yn.get(properties, "Method")
            at = path_node or event
            if kind == "Api":
                rest_ref = yn.get(properties, "RestApiId")
                api, stage, binary, variables = rest_api(rest_ref)
                target = _target(path, "rest", api, function, stage, "1.0", binary)
                collector.aws_route(
                    method_text=_declared(method_node),
                    path_text=_declared(path_node),
                    at=at,
                    what=what,
                    target=replace(
                        target,
                        stage_variables=variables,
                        timeout_ms=rv.millis(yn.get(properties, "TimeoutInMillis")),
                        cors=routes_cors.sam_rest(api_cors(rest_ref, "Cors", global_api)),
                    ),
                )
            elif kind == "HttpApi":
                api, stage = http_api(yn.get(properties, "ApiId"))
                version = yn.as_plain_text(yn.get(properties, "PayloadFormatVersion"))
                payload = "1.0" if version == "1.0" else "2.0"
                target = _target(path, "http", api, function, stage, payload)
                cors = api_cors(yn.get(properties, "ApiId"), "CorsConfiguration", global_http)
                target = replace(
                    target,
                    timeout_ms=rv.millis(yn.get(properties, "TimeoutInMillis")),
                    cors=routes_cors.sam_http(cors),
                )
                if path_node is None and method_node is None:
                    at = yn.get(event, "Type") or event
                    collector.routes.append(replace(target, span=collector.span(at)))
                else:
                    collector.aws_route(
                        # SAM requires both once either is given (InvalidEventException).
                        method_text=_declared(method_node),
                        path_text=_declared(path_node),
                        at=at,
                        what=what,
                        target=target,
                    )
        if yn.get(props, "FunctionUrlConfig") is not None:
            at_key = yn.key_span(props, "FunctionUrlConfig", collector.lines)
            assert at_key is not None
            collector.routes.append(_function_url(function, path, at_key))
    for logical_id, resource in resources:
        if types.get(logical_id) == _LAMBDA_URL:
            props = yn.get(resource, "Properties")
            owner = referenced_id(yn.get(props, "TargetFunctionArn"))
            if owner is not None and types.get(owner) in (SERVERLESS_FUNCTION, LAMBDA_FUNCTION):
                at_key = yn.key_span(yn.get(doc, "Resources"), logical_id, collector.lines)
                assert at_key is not None
                collector.routes.append(_function_url(owner, path, at_key))
    return collector.routes, collector.problems


def _target(
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


def _declared(node: yaml.Node | None) -> str | None:
    """A declared text: "" when absent, None when computed (`!Ref`, `!Sub`, a map)."""
    return "" if node is None else yn.as_str(node)


def _function_url(function: str, path: str, span: Span) -> Route:
    return replace(_target(path, "function-url", function, function, DEFAULT, "2.0"), span=span)


def _binary_types(node: yaml.Node | None) -> tuple[str, ...]:
    """SAM's `BinaryMediaTypes`, with its `~1` escape for `/` read back (`image~1png`)."""
    found = []
    for item in yn.sequence(node):
        text = yn.as_str(item)
        if text:
            found.append(text.replace("~1", "/"))
    return tuple(found)


# ---------------------------------------------------------------------------------------------
# serverless.yml


def serverless_routes(path: str, text: str) -> tuple[list[Route], list[Problem]]:
    """The routes of a serverless.yml: AWS `http` (REST, stage = `provider.apiGateway.stage`
    or `provider.stage` or `dev`), `httpApi` (`$default` stage, payload 2.0 unless
    `httpApi.payload: '1.0'`) and `url`; with `provider: yandex-cloud`, `http` events as the
    API Gateway the Yandex plugin builds (payload `eventFormat`, else
    `provider.httpApi.payload`, else 0.1)."""
    doc, _ = yn.parse(path, text, "serverless.yml")
    if doc is None:
        return [], []
    collector = _Collector(path, text)
    provider = yn.get(doc, "provider")
    provider_name = yn.as_str(yn.get(provider, "name")) or yn.as_str(provider)
    service = yn.as_str(yn.get(doc, "service")) or yn.as_str(yn.get_path(doc, "service", "name"))
    api_name = service or "service"
    if provider_name == "yandex-cloud":
        _yandex_serverless_routes(collector, doc, provider, api_name)
        return collector.routes, collector.problems
    if provider_name != "aws":
        return [], []
    gateway = yn.get(provider, "apiGateway")
    stage = _plain(yn.get(gateway, "stage")) or _plain(yn.get(provider, "stage")) or "dev"
    binary = tuple(
        t for t in (yn.as_str(n) for n in yn.sequence(yn.get(gateway, "binaryMediaTypes"))) if t
    )
    default_payload = _plain(yn.get_path(provider, "httpApi", "payload"))
    http_cors = routes_cors.serverless_http(yn.get_path(provider, "httpApi", "cors"))
    for function, node in function_entries(doc):
        function_payload = _plain(yn.get_path(node, "httpApi", "payload")) or default_payload
        for key, event in event_pairs(node):
            what = f"The {key} event of function '{function}'"
            at = yn.get(event, "path") or event
            if key == "http":
                method_text, path_text = _serverless_method_path(event)
                target = _target(path, "rest", api_name, function, stage, "1.0", binary)
                collector.aws_route(
                    method_text=method_text,
                    path_text=path_text,
                    at=at,
                    what=what,
                    target=replace(
                        target,
                        timeout_ms=rv.millis(yn.get(event, "timeoutInMillis")),
                        cors=routes_cors.serverless_rest(yn.get(event, "cors")),
                    ),
                )
            elif key == "httpApi":
                method_text, path_text = _serverless_method_path(event)
                payload = _plain(yn.get(event, "payload")) or function_payload
                version = "1.0" if payload == "1.0" else "2.0"
                target = _target(path, "http", api_name, function, DEFAULT, version)
                target = replace(target, cors=http_cors)
                if (yn.as_str(event) or "").strip() == "*":
                    collector.routes.append(replace(target, span=collector.span(event)))
                else:
                    collector.aws_route(
                        method_text=method_text,
                        path_text=path_text,
                        at=at,
                        what=what,
                        target=target,
                    )
        url = yn.get(node, "url")
        if url is not None and _plain(url) != "false":
            collector.routes.append(_function_url(function, path, collector.span(url)))
    return collector.routes, collector.problems


def _plain(node: yaml.Node | None) -> str | None:
    text = yn.as_plain_text(node)
    return None if text is None or "${" in text else text


def _serverless_method_path(event: yaml.Node) -> tuple[str | None, str | None]:
    """(method, path) of an `http`/`httpApi` event: `'GET /items'`, `GET items` or
    `{method, path}`."""
    short = yn.as_str(event)
    if short is not None:
        method, _, rest = short.strip().partition(" ")
        return method, rest.strip()
    return _declared(yn.get(event, "method")), _declared(yn.get(event, "path"))


def _yandex_serverless_routes(
    collector: _Collector, doc: yaml.Node, provider: yaml.Node | None, api_name: str
) -> None:
    default_payload = _plain(yn.get_path(provider, "httpApi", "payload")) or "0.1"
    for function, node in function_entries(doc):
        for key, event in event_pairs(node):
            if key != "http":
                continue
            method_text, path_text = _serverless_method_path(event)
            payload = _plain(yn.get(event, "eventFormat")) or default_payload
            collector.aws_route(
                method_text=method_text,
                path_text=path_text,
                at=yn.get(event, "path") or event,
                what=f"The http event of function '{function}'",
                target=_target(collector.path, "yandex", api_name, function, None, payload),
            )


# ---------------------------------------------------------------------------------------------
# Yandex API Gateway OpenAPI specs


def is_yandex_spec(text: str) -> bool:
    """Whether a YAML/JSON text looks like a Yandex API Gateway spec (cheap, before parsing)."""
    return "openapi" in text and "x-yc-apigateway" in text


def yandex_spec_routes(
    path: str,
    text: str,
    functions: Sequence[FunctionSpec] = (),
    aliases: Mapping[str, str] | None = None,
) -> tuple[list[Route], list[Problem]]:
    """The `cloud_functions` routes of an API Gateway OpenAPI 3 spec, each `function_id`
    resolved to a function of `functions` (the workspace's declared ones):
    - through `aliases` first (a literal id, `yandex_function.<label>`, or a template
      variable such as `AUTH_FUNCTION_ID`, mapped to a declared function's name);
    - a literal id that is a declared Yandex function's name (the yc CLI's `--function-id`);
    - `${yandex_function.<label>.id}` when a Terraform function of that name is declared.
    One unresolved `function_id` is a warning at it (`route-function-unknown`); its route is
    kept with `function` None. Integrations of other types (containers, storage, HTTP) are
    not functions of this workspace and are left out."""
    doc, problems = yn.parse(path, text, "API Gateway spec")
    if doc is None:
        return [], problems
    collector = _Collector(path, text)
    if yn.get(doc, "openapi") is None or not isinstance(yn.get(doc, "paths"), yaml.MappingNode):
        return [], [
            Problem(
                path,
                Span.of(0, 0),
                Severity.ERROR,
                ROUTE_INVALID,
                "This API Gateway spec is not an OpenAPI 3 document (it needs `openapi:` and "
                "a `paths:` map), so no route is read from it.",
            )
        ]
    by_name = {f.name: f for f in functions if f.platform == "yandex"}
    spec_cors = yn.get_path(doc, "x-yc-apigateway", "cors")
    for template, item in yn.items(yn.get(doc, "paths")):
        route_path = _template_path(template)
        path_cors = rv.resolve_ref(doc, yn.get(item, "x-yc-apigateway-cors"))
        cors = routes_cors.yandex(path_cors if path_cors is not None else spec_cors)
        for key, operation in yn.items(item):
            method = ANY if key == _ANY_METHOD_KEY else _OPENAPI_METHODS.get(key.lower())
            if method is None:
                continue  # `parameters`, `summary`, `x-yc-apigateway-cors`, …
            declared = yn.get(operation, _INTEGRATION_KEY)
            integration = rv.resolve_ref(doc, declared)
            ref_node = yn.get(declared, "$ref")
            if ref_node is not None and integration is None:
                ref = yn.as_plain_text(ref_node) or ""
                reason = (
                    "points at nothing in this spec"
                    if ref.startswith("#/")
                    else "is outside this spec, and HandlerLens follows only references inside it"
                )
                collector.invalid(
                    ref_node,
                    f"{method} {template}: the integration $ref '{ref}' {reason}, so this "
                    "route is not served.",
                )
                continue
            if yn.as_str(yn.get(integration, "type")) != "cloud_functions":
                continue
            if route_path is None:
                collector.invalid(item, f"'{template}' is not a path; the route is not served.")
                continue
            assert integration is not None
            id_node = yn.get(integration, "function_id")
            function = _resolve_function(yn.as_plain_text(id_node), by_name, aliases or {})
            at = id_node if id_node is not None else integration
            if function is None and not any(
                p.span == collector.span(at) for p in collector.problems
            ):
                shown = yn.as_plain_text(id_node) or "(none)"
                collector.problems.append(
                    Problem(
                        path,
                        collector.span(at),
                        Severity.WARNING,
                        ROUTE_FUNCTION_UNKNOWN,
                        f"{method} {template}: function_id {shown} names no function declared "
                        "in this workspace, so HandlerLens cannot serve this route; declare the "
                        "function here (a Terraform yandex_function, a yc CLI script) and "
                        "reference it as ${yandex_function.<name>.id}.",
                    )
                )
            version = _plain(yn.get(integration, "payload_format_version")) or "0.1"
            collector.routes.append(
                Route(
                    method=method,
                    path=route_path,
                    kind="yandex",
                    api=path,
                    function=function,
                    stage=None,
                    payload=version,
                    declared_in=path,
                    # A shared integration (`$ref`) is placed at the reference in the operation.
                    span=collector.span(yn.get(declared, "$ref") or at),
                    operation_id=yn.as_plain_text(yn.get(operation, "operationId")),
                    parameters=rv.parameters(doc, item, operation),
                    cors=cors,
                    operation_context=rv.json_text(yn.get(integration, "context")),
                )
            )
    return collector.routes, problems + collector.problems


def _resolve_function(
    function_id: str | None, by_name: Mapping[str, FunctionSpec], aliases: Mapping[str, str]
) -> str | None:
    if not function_id:
        return None
    function_id = function_id.strip()
    if function_id in aliases:
        return aliases[function_id]
    terraform = _TERRAFORM_FUNCTION_REF.match(function_id)
    if terraform is not None:
        label = terraform.group(1)
        reference = f"yandex_function.{label}"
        if reference in aliases:
            return aliases[reference]
        spec = by_name.get(label)
        return spec.name if spec is not None and spec.declared_by == "terraform" else None
    variable = _TEMPLATE_VARIABLE.match(function_id)
    if variable is not None:
        return aliases.get(variable.group(1))
    return function_id if function_id in by_name else None


# ---------------------------------------------------------------------------------------------
# Terraform `yandex_api_gateway`


def terraform_function_labels(text: str) -> dict[str, str]:
    """`yandex_function.<label>` → the function's declared name (its literal `name`, else the
    label, as the Terraform reader names it) for each `yandex_function` of a Terraform file;
    {} for a file that does not parse."""
    if "yandex_function" not in text:
        return {}
    from handlerlens.project import hcl_tree as hcl

    try:
        blocks = hcl.parse_hcl(text, keep=lambda header: "yandex_function" in header)
    except hcl.HclError:
        return {}
    labels: dict[str, str] = {}
    for block in blocks:
        if block.type == "resource" and block.labels[:1] == ["yandex_function"]:
            label = block.labels[-1]
            name = block.attributes.get("name")
            found = hcl.string(name.expr) if name is not None else None
            labels[f"yandex_function.{label}"] = (
                found.value if found is not None and found.literal and found.value else label
            )
    return labels


def terraform_gateway_routes(
    path: str,
    text: str,
    functions: Sequence[FunctionSpec] = (),
    labels: Mapping[str, str] | None = None,
) -> tuple[list[Route], list[Problem], list[str]]:
    """The routes of each `yandex_api_gateway` in a Terraform file, and the spec files they
    read: `spec` as an inline heredoc (routes placed in the .tf file), or `file()` /
    `templatefile()` of a spec (routes placed in the spec; `templatefile` variables bound to
    `yandex_function.<label>.id` resolve to that function). A function is known by its label
    when it is declared in this file or in `labels` (the module's other files,
    `terraform_function_labels`), else only when its name is its label. A file that does not
    parse has no routes (the Terraform reader reports it)."""
    if "yandex_api_gateway" not in text:
        return [], [], []
    from handlerlens.project import hcl_tree as hcl

    try:
        blocks = hcl.parse_hcl(text, keep=lambda header: "yandex_api_gateway" in header)
    except hcl.HclError:
        return [], [], []
    aliases = {**(labels or {}), **terraform_function_labels(text)}
    by_name = {f.name: f for f in functions if f.platform == "yandex"}
    lines = LineIndex(text)
    base = os.path.dirname(path)
    routes: list[Route] = []
    problems: list[Problem] = []
    specs: list[str] = []
    for block in blocks:
        if block.type != "resource" or block.labels[:1] != ["yandex_api_gateway"]:
            continue
        spec = block.attributes.get("spec")
        if spec is None:
            continue
        api = f"yandex_api_gateway.{block.labels[-1]}"
        inline = hcl.heredoc(spec.expr)
        if inline is not None:
            found_routes, found_problems = yandex_spec_routes(
                path, inline.value, functions, aliases
            )
            move = _heredoc_mover(text, lines, inline.start, inline.value)
            routes += [replace(r, api=api, span=move(r.span)) for r in found_routes]
            problems += [replace(p, span=move(p.span)) for p in found_problems]
            continue
        call = hcl.function_call(spec.expr)
        if call is None or call[0] not in ("file", "templatefile") or not call[1]:
            continue  # a variable, a data source's `rendered`: not followed here
        spec_path = _module_path(call[1][0], base)
        if spec_path is None:
            continue
        variables = dict(aliases)
        for key, node in hcl.object_items(call[1][1]) if len(call[1]) > 1 else []:
            names = hcl.traversal(node)
            if names is not None and len(names) == 3 and names[0] == "yandex_function":
                reference = "${yandex_function." + names[1] + ".id}"
                resolved = _resolve_function(reference, by_name, aliases)
                if resolved is not None:
                    variables[key] = resolved
        spec_text = probes.read_text(spec_path)
        if spec_text is None:
            quoted = hcl.string(call[1][0])
            start, end = (
                (quoted.inner_start, quoted.inner_end)
                if quoted is not None
                else hcl.span_of(call[1][0])
            )
            problems.append(
                Problem(
                    path,
                    lines.span(start, end),
                    Severity.ERROR,
                    ROUTE_INVALID,
                    f"The spec of {api} is read from {spec_path}, which is not there, so its "
                    "routes are not served (terraform apply would fail too).",
                )
            )
            continue
        specs.append(spec_path)
        found_routes, found_problems = yandex_spec_routes(
            spec_path, spec_text, functions, variables
        )
        routes += [replace(r, api=api) for r in found_routes]
        problems += found_problems
    return routes, problems, specs


def _module_path(expr: HclNode, base: str) -> str | None:
    """`"${path.module}/gateway/spec.yaml"` (or a relative literal) as an absolute path."""
    from handlerlens.project import hcl_tree as hcl

    parts = hcl.template_parts(expr)
    if parts is None:
        return None
    text = ""
    for part in parts:
        if isinstance(part, str):
            text += part
        elif hcl.traversal(part) in (["path", "module"], ["path", "root"]):
            text += base
        else:
            return None
    return os.path.normpath(os.path.join(base, text))


def _heredoc_mover(text: str, lines: LineIndex, start: int, value: str) -> Callable[[Span], Span]:
    """Moves a span in a heredoc's text to the .tf file: its lines follow the heredoc's first
    line, its columns move right by the indentation a `<<-` heredoc strips."""
    first_line = lines.position(start).line
    source = text[start:].splitlines()
    indent = 0
    for index, row in enumerate(value.splitlines()):
        if row.strip() and index < len(source):
            indent = len(source[index]) - len(row)
            break

    def move(span: Span) -> Span:
        return Span(
            Position(first_line + span.start.line, span.start.character + indent),
            Position(first_line + span.end.line, span.end.character + indent),
        )

    return move


# ---------------------------------------------------------------------------------------------
# Any declaring file


def routes_of_file(
    path: str,
    text: str,
    functions: Sequence[FunctionSpec] = (),
    aliases: Mapping[str, str] | None = None,
) -> tuple[list[Route], list[Problem]]:
    """The routes one file declares (a SAM/CloudFormation template, a serverless.yml, a
    Yandex API Gateway spec, a Terraform file with a `yandex_api_gateway`) and the problems
    in them; ([], []) for any other file."""
    name = path.replace("\\", "/").rsplit("/", 1)[-1].lower()
    if name in ("serverless.yml", "serverless.yaml"):
        return serverless_routes(path, text)
    if name.endswith(".tf"):
        routes, problems, _ = terraform_gateway_routes(path, text, functions)
        return routes, problems
    if not name.endswith((".yml", ".yaml", ".json", ".template")):
        return [], []
    if "AWS::Serverless::Function" in text or _LAMBDA_URL in text:
        return sam_routes(path, text)
    if is_yandex_spec(text):
        return yandex_spec_routes(path, text, functions, aliases)
    return [], []


def all_routes(
    files: Iterable[tuple[str, str]],
    functions: Sequence[FunctionSpec] = (),
    aliases: Mapping[str, str] | None = None,
) -> tuple[list[Route], list[Problem]]:
    """Every route of a workspace's declaring files (`(path, text)` pairs), with the
    conflicts between them. A spec a Terraform gateway reads (`templatefile()`) is read
    through it, with its variables, not again on its own."""
    files = list(files)
    routes: list[Route] = []
    problems: list[Problem] = []
    read_by_terraform: set[str] = set()
    terraform = [(path, text) for path, text in files if path.lower().endswith(".tf")]
    # A Terraform module is a folder: a gateway may reference a function of a sibling file.
    labels: dict[str, dict[str, str]] = {}
    for path, text in terraform:
        labels.setdefault(os.path.dirname(path), {}).update(terraform_function_labels(text))
    for path, text in terraform:
        module = {**labels.get(os.path.dirname(path), {}), **(aliases or {})}
        found, issues, specs = terraform_gateway_routes(path, text, functions, module)
        routes += found
        problems += issues
        read_by_terraform.update(os.path.normpath(spec) for spec in specs)
    for path, text in files:
        if path.lower().endswith(".tf") or os.path.normpath(path) in read_by_terraform:
            continue
        found, issues = routes_of_file(path, text, functions, aliases)
        routes += found
        problems += issues
    return routes, problems + conflicts(routes)
