"""The event a route's gateway sends its function for one request ("▶ Send request").

Built by the route's gateway face (platforms/gateways.py), the one that builds the events
`serve` sends for the same route: a REST API's `resource`, `pathParameters`, stage, stage
variables and binary media types; an HTTP API's `routeKey` and `rawPath`; a Function URL's;
a Yandex API Gateway's `url`, `path`, `params` and `pathParams` (payload 0.1) or `path`,
`resource` and `pathParameters` (1.0), with its operation's declared parameters and context
(PLATFORMS.md §10). The editor then invokes the function with it through the run path.
"""

from __future__ import annotations

import time
import uuid
from typing import TYPE_CHECKING, Any

from handlerlens.platforms.gateways import gateway_face
from handlerlens.platforms.http_reply import IncomingRequest

if TYPE_CHECKING:
    from handlerlens.project.routes import Route

HOST = "localhost"
CLIENT_IP = "127.0.0.1"
CLIENT_PORT = 50000


def trigger_of(route: Route) -> str:
    """The trigger whose response mapping the route's gateway applies."""
    if route.kind == "yandex":
        return "api-gateway"
    if route.kind == "function-url":
        return "function-url"
    if route.kind == "http" and route.payload != "1.0":
        return "http-api"
    return "api-gateway-rest"


def gateway_event(
    route: Route,
    platform: str,
    method: str,
    path: str,
    path_params: dict[str, str],
    *,
    query: str = "",
    headers: dict[str, str] | None = None,
    body: str = "",
    port: int = 80,
) -> dict[str, Any]:
    """The event of `route`'s gateway, for a function on `platform`, for `method
    path?query` (`path` the actual, percent-encoded path without a stage; `path_params` as
    `routes.match` found them); `port` is the local port the request is said to reach."""
    pairs = [("Host", HOST), ("User-Agent", "HandlerLens")]
    given = dict(headers or {})
    if body and not any(name.lower() == "content-type" for name in given):
        given["Content-Type"] = "application/json"
    pairs = [(n, v) for n, v in pairs if n.lower() not in {k.lower() for k in given}]
    pairs += list(given.items())
    request = IncomingRequest(
        method.upper(), query, pairs, body.encode("utf-8"), CLIENT_IP, CLIENT_PORT
    )
    face = gateway_face(route.gateway(), platform)
    host = next((v for n, v in pairs if n.lower() == "host"), HOST)
    return face.event(request, path, host, port, str(uuid.uuid4()), time.time(), path_params)
