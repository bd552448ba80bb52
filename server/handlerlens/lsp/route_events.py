"""The event a route's gateway sends its function for one request ("▶ Send request").

Built from the platform's HTTP event builders (`platforms/aws_http_event.py`,
`platforms/yandex_http_event.py`, the shapes the runner serves) with the route's own fields
put in, per gateway kind (PLATFORMS.md §10): a REST API's `resource`, `pathParameters` and
stage; an HTTP API's `routeKey`; a Yandex API Gateway's `url`, `path` and `pathParams` (payload
0.1) or `path`, `resource` and `pathParameters` (1.0). Until the runner routes requests itself,
the editor builds the event here and invokes the function with it through the run path.
"""

from __future__ import annotations

import base64
import fnmatch
import time
import uuid
from typing import TYPE_CHECKING, Any

from handlerlens.platforms import aws_http_event, yandex_http_event
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


def _binary(content_type: str | None, binary_media_types: tuple[str, ...]) -> bool:
    """A REST API passes a body as base64 only when its type is one of `binaryMediaTypes`
    (wildcards allowed, `*/*` all)."""
    if not content_type:
        return False
    media = content_type.split(";", 1)[0].strip().lower()
    return any(fnmatch.fnmatchcase(media, wanted.lower()) for wanted in binary_media_types)


def gateway_event(
    route: Route,
    method: str,
    path: str,
    path_params: dict[str, str],
    *,
    query: str = "",
    headers: dict[str, str] | None = None,
    body: str = "",
) -> dict[str, Any]:
    """The event of `route`'s gateway for `method path?query` (`path` the actual, percent-
    encoded path without a stage; `path_params` as `routes.match` found them)."""
    pairs = [("Host", HOST), ("User-Agent", "HandlerLens")]
    given = dict(headers or {})
    if body and not any(name.lower() == "content-type" for name in given):
        given["Content-Type"] = "application/json"
    pairs = [(n, v) for n, v in pairs if n.lower() not in {k.lower() for k in given}]
    pairs += list(given.items())
    request = IncomingRequest(
        method.upper(), query, pairs, body.encode("utf-8"), CLIENT_IP, CLIENT_PORT
    )
    request_id = str(uuid.uuid4())
    now = time.time()
    if route.kind == "yandex":
        return _yandex(route, request, path, path_params, request_id, now)
    if route.kind in ("http", "function-url") and route.payload != "1.0":
        event = aws_http_event.build_v2(request, path, HOST, request_id, now)
        if route.kind == "http":
            event["routeKey"] = event["requestContext"]["routeKey"] = route.route_key
            event["requestContext"]["stage"] = route.stage or "$default"
            if path_params:
                event["pathParameters"] = dict(path_params)
        return event
    event = aws_http_event.build_v1(request, path, HOST, request_id, now)
    stage = route.stage or ("$default" if route.kind == "http" else "Prod")
    resource = route.path if route.path != "$default" else "$default"
    event["resource"] = resource
    event["pathParameters"] = dict(path_params) or None
    context = event["requestContext"]
    context["resourcePath"] = resource
    context["stage"] = stage
    context["path"] = path if route.kind == "http" else f"/{stage}{path}"
    if route.kind == "http":
        event = {"version": "1.0", **event}
    elif body:
        # A REST API passes text as text unless its media type is declared binary.
        content_type = next((v for n, v in pairs if n.lower() == "content-type"), None)
        binary = _binary(content_type, route.binary_media_types)
        event["body"] = base64.b64encode(request.body).decode("ascii") if binary else body
        event["isBase64Encoded"] = binary
    return event


def _yandex(
    route: Route,
    request: IncomingRequest,
    path: str,
    path_params: dict[str, str],
    request_id: str,
    now: float,
) -> dict[str, Any]:
    event = yandex_http_event.build_event(request, request_id, str(uuid.uuid4()), now)
    event["requestContext"]["apiGateway"] = {"operationContext": {}}
    multi = {name: [value] for name, value in path_params.items()}
    if route.payload == "1.0":
        for key in ("url", "params", "multiValueParams", "pathParams"):
            event.pop(key, None)
        event.update(
            {
                "version": "1.0",
                "resource": route.path,
                "path": path,
                "pathParameters": dict(path_params),
                "parameters": dict(path_params),
                "multiValueParameters": multi,
            }
        )
        return event
    event.update(
        {
            "url": path + (f"?{request.query}" if request.query else ""),
            "path": route.path,
            "params": dict(path_params),
            "multiValueParams": multi,
            "pathParams": dict(path_params),
        }
    )
    return event
