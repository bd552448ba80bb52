"""The event a route's gateway sends its function for one request ("▶ Send request").

Built by the route's gateway face (platforms/gateways.py), the one that builds the events
`serve` sends for the same route: a REST API's `resource`, `pathParameters`, stage, stage
variables and binary media types; an HTTP API's `routeKey` and `rawPath`; a Function URL's;
a Yandex API Gateway's `url`, `path`, `params` and `pathParams` (payload 0.1) or `path`,
`resource` and `pathParameters` (1.0), with its operation's declared parameters and context
(PLATFORMS.md §10). The editor then invokes the function with it through the run path, and
the same face answers the result (`gateway_answer`): a REST route's 502 for a dict body, its
decoding by the binary media types, each gateway's answer to a function error.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import TYPE_CHECKING, Any, NamedTuple

from handlerlens.platforms.gateways import gateway_face
from handlerlens.platforms.http_reply import HttpReply, IncomingRequest

if TYPE_CHECKING:
    from handlerlens.project.routes import Route

HOST = "localhost"
CLIENT_IP = "127.0.0.1"
CLIENT_PORT = 50000
# The error types of a function that ran past its timeout (AWS, Yandex).
TIMEOUT_ERRORS = ("Sandbox.Timedout", "Timeout")


class GatewayAnswer(NamedTuple):
    """The gateway's reply, and why it is not what the function meant (None if it is)."""

    reply: HttpReply
    why: str | None


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
    request = incoming_request(method, query, headers, body)
    face = gateway_face(route.gateway(), platform)
    host = next((v for n, v in request.headers if n.lower() == "host"), HOST)
    return face.event(request, path, host, port, str(uuid.uuid4()), time.time(), path_params)


def incoming_request(
    method: str, query: str = "", headers: dict[str, str] | None = None, body: str = ""
) -> IncomingRequest:
    """The request the editor sends, as the gateway reads it: a Host and User-Agent unless
    given, and a JSON Content-Type for a body without one."""
    pairs = [("Host", HOST), ("User-Agent", "HandlerLens")]
    given = dict(headers or {})
    if body and not any(name.lower() == "content-type" for name in given):
        given["Content-Type"] = "application/json"
    pairs = [(n, v) for n, v in pairs if n.lower() not in {k.lower() for k in given}]
    pairs += list(given.items())
    return IncomingRequest(
        method.upper(), query, pairs, body.encode("utf-8"), CLIENT_IP, CLIENT_PORT
    )


def gateway_refusal(route: Route, platform: str, request: IncomingRequest) -> GatewayAnswer | None:
    """The gateway's own answer to a request it never passes to the function (a body over
    its limit), with why; None when it passes it on."""
    refused = gateway_face(route.gateway(), platform).refuse(len(request.body))
    if refused is None:
        return None
    reply, why = refused
    return GatewayAnswer(reply, f"{route.route_key}: {why}")


def gateway_answer(
    route: Route,
    platform: str,
    request: IncomingRequest,
    body: str,
    function_error: bool,
    duration_ms: float | None = None,
) -> GatewayAnswer:
    """What the route's gateway answers for the function's result, `body` (the Invoke API's
    JSON of its return value, or of its error when `function_error`): the checks and replies
    `serve` applies on the route (platforms/gateways.py), and why the deployed gateway
    answers otherwise than the function meant. A run longer than the gateway's integration
    timeout gets the gateway's timeout answer, as the gateway stops waiting then."""
    face = gateway_face(route.gateway(), platform)
    why: str | None = None
    if not function_error:
        reply, why = face.reply("json", body.encode("utf-8", "surrogatepass"), request)
    else:
        try:
            error = json.loads(body) if body else {}
        except ValueError:
            error = {"errorMessage": body}
        error = error if isinstance(error, dict) else {}
        status = "timeout" if error.get("errorType") in TIMEOUT_ERRORS else "error"
        reply = face.failed(status, error)
    limit = face.integration_timeout()
    if limit is not None and duration_ms is not None and duration_ms / 1000.0 > limit[0]:
        seconds, timed_out, where = limit
        reply = timed_out
        why = (
            f"{route.route_key}: the function ran {duration_ms / 1000.0:.1f} s, past the "
            f"{face.label}'s integration timeout ({where}): deployed, the gateway answers "
            f"{timed_out.status} once {seconds:g} s have passed"
        )
    return GatewayAnswer(reply, why)
