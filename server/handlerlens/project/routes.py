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

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from handlerlens.core.problems import Problem, Severity, Span

# Which route a gateway picks is the gateway's (platforms/), shared with the runner's workers.
from handlerlens.platforms.gateway_match import ANY as ANY
from handlerlens.platforms.gateway_match import DEFAULT as DEFAULT
from handlerlens.platforms.gateway_match import PARAMETER as PARAMETER
from handlerlens.platforms.gateway_match import match as match
from handlerlens.platforms.gateway_match import path_segments as path_segments
from handlerlens.project.routes_cors import Cors

if TYPE_CHECKING:
    from handlerlens.platforms.gateway_base import GatewayRoute

GatewayKind = Literal["rest", "http", "function-url", "yandex"]

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
    `operation_context`: a Yandex integration's `context`, as JSON text; `status_mapping`: a
    Yandex operation's `x-yc-status-mapping`s, (the function's status, the client's) pairs;
    `auth`: a Function URL's `AuthType` (`NONE` or `AWS_IAM`).
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
    status_mapping: tuple[tuple[int, int], ...] = ()
    auth: str | None = None

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
        if self.auth == "AWS_IAM":
            details.append("AWS_IAM: SigV4-signed requests only")
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
            status_mapping=self.status_mapping,
            auth=self.auth,
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
