"""API gateways in front of functions (PLATFORMS.md §10): one face per gateway kind.

A request that reached a declared route becomes the event of that gateway and payload version
(REST 1.0, HTTP API 2.0 or 1.0, Function URL, Yandex API Gateway 0.1 or 1.0), field for field;
the function's result goes back through the gateway's own checks; and the gateway answers
itself where the function is never called (an unknown route, a body over its limit). Each
face builds on the function's platform face (platforms/faces.py) and its event and response
modules, so what is the platform's stays in one place and what is the gateway's is here.

The runner's route table (runner/route_table.py) makes one face per declared route; nothing
here reads declaring files.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from . import aws_http_event, aws_response, yandex_http_event
from .faces import HttpFace, face_of
from .http_reply import HttpReply, IncomingRequest, event_body

# Payload limits (PLATFORMS.md §12.5): API Gateway takes 10 MB (REST answers 413 above it);
# the Lambda invocation behind it takes 6 MB of event JSON. Yandex API Gateway: 2.5 MB (its
# status over the limit is undocumented: 413, as the function's own front end answers).
MIB = 1024 * 1024
AWS_GATEWAY_LIMIT = 10 * MIB
LAMBDA_SYNC_LIMIT = 6 * MIB
YANDEX_GATEWAY_LIMIT = 5 * MIB // 2

# The keys a REST API's Lambda proxy integration accepts in a response (set-up-lambda-proxy-
# integrations.md): any other key, or a body that is not a string, is a 502.
REST_RESPONSE_KEYS = ("statusCode", "headers", "multiValueHeaders", "body", "isBase64Encoded")

MISSING_TOKEN = {"message": "Missing Authentication Token"}
NOT_FOUND = {"message": "Not Found"}
YANDEX_NOT_FOUND = {
    "message": "Not Found",
    "note": "emulated by HandlerLens: Yandex API Gateway documents no answer for a path or "
    "method its spec does not declare",
}
REST_TOO_LARGE = {"message": "Request Too Long"}
# The gateway's integration timeout (limits.md): REST 50 ms to 29 s, 504 on expiry
# (INTEGRATION_TIMEOUT; the body from third parties); HTTP API at most 30 s, 503.
REST_TIMEOUT_MS = 29_000
HTTP_TIMEOUT_MS = 30_000
REST_TIMED_OUT = {"message": "Endpoint request timed out"}
HTTP_TIMED_OUT = {"message": "Service Unavailable"}

KIND_LABELS = {
    "rest": "REST API",
    "http": "HTTP API",
    "function-url": "Function URL",
    "yandex": "Yandex API Gateway",
}


class GatewayRoute:
    """What a gateway face knows of its route: the declaration, as plain values (platforms
    sits below the project reader, whose Route this mirrors)."""

    __slots__ = (
        "kind",
        "method",
        "template",
        "api",
        "stage",
        "payload",
        "binary_media_types",
        "stage_variables",
        "operation_id",
        "timeout_ms",
        "parameters",
        "cors",
        "operation_context",
    )

    def __init__(
        self,
        *,
        kind: str,
        method: str,
        template: str,
        api: str,
        stage: str | None,
        payload: str,
        binary_media_types: tuple[str, ...] = (),
        stage_variables: tuple[tuple[str, str], ...] = (),
        operation_id: str | None = None,
        timeout_ms: int | None = None,
        parameters: tuple[tuple[str, str], ...] = (),
        cors: tuple[tuple[str, str], ...] | None = None,
        operation_context: str | None = None,
    ) -> None:
        self.kind = kind
        self.method = method
        self.template = template
        self.api = api
        self.stage = stage
        self.payload = payload
        self.binary_media_types = binary_media_types
        self.stage_variables = stage_variables
        self.operation_id = operation_id
        self.timeout_ms = timeout_ms
        self.parameters = parameters
        self.cors = cors
        self.operation_context = operation_context

    @property
    def route_key(self) -> str:
        return "$default" if self.template == "$default" else f"{self.method} {self.template}"


def media_type_matches(content_type: str | None, patterns: tuple[str, ...]) -> bool:
    """Whether a Content-Type (or Accept entry) is one of `binaryMediaTypes`: exact, a
    wildcard subtype (`image/*`) or `*/*` (api-gateway-payload-encodings.md)."""
    if not content_type or not patterns:
        return False
    media = content_type.split(";", 1)[0].strip().lower()
    main = media.split("/", 1)[0]
    for pattern in patterns:
        wanted = pattern.strip().lower()
        if wanted in ("*/*", media) or (wanted.endswith("/*") and wanted[:-2] == main):
            return True
    return False


def _header(request: IncomingRequest, wanted: str) -> str | None:
    for name, value in request.headers:
        if name.lower() == wanted:
            return value
    return None


class GatewayFace:
    """One route's gateway: the event of a request to it, the answer to its result."""

    kind = ""
    label = ""

    def __init__(self, route: GatewayRoute, platform_face: HttpFace) -> None:
        self.route = route
        # The function's own face: failures (timeouts, crashes), the request id header.
        self.face = platform_face
        self.request_id_header = platform_face.request_id_header

    # -- before the function is called ------------------------------------------------------
    def refuse(self, body_size: int) -> tuple[HttpReply, str] | None:
        """The gateway's answer to a request body it does not pass on, and why (for the log)."""
        return None

    def refuse_event(self, size: int) -> tuple[HttpReply, str] | None:
        """The answer for an event of `size` bytes the function would never receive."""
        return None

    def event(
        self,
        incoming: IncomingRequest,
        path: str,
        host: str,
        port: int,
        request_id: str,
        now: float,
        params: dict[str, str],
    ) -> dict[str, Any]:
        """The event for `incoming`, sent to `path` (without a stage prefix) on this route
        with its path `params`."""
        raise NotImplementedError

    def extra(self) -> dict[str, Any] | None:
        return self.face.extra()

    def integration_timeout(self) -> tuple[float, HttpReply, str] | None:
        """The seconds after which the gateway stops waiting for the function, its answer
        then, and where the limit comes from; None where it has none worth keeping."""
        return None

    # -- after ---------------------------------------------------------------------------------
    def reply(
        self, kind: str, payload: bytes, request: IncomingRequest
    ) -> tuple[HttpReply, str | None]:
        """The response for the function's result, and a line for the log saying why the
        deployed gateway would answer otherwise than the function meant (None if fine)."""
        return self.face.reply(kind, payload)

    def failed(self, status: str, error: dict[str, Any] | None, detail: str = "") -> HttpReply:
        return self.face.failed(status, error, detail)


# ---------------------------------------------------------------------------------------------
# AWS


def _forwarded(
    headers: list[tuple[str, str]], client_ip: str, port: int, lower: bool
) -> list[tuple[str, str]]:
    """API Gateway's front-end headers: X-Forwarded-For (the client appended), -Port, -Proto
    (GO apigw-request.json; the values of this local endpoint)."""
    names = ("x-forwarded-for", "x-forwarded-port", "x-forwarded-proto")
    kept = [(n, v) for n, v in headers if n.lower() not in names[1:]]
    forwarded = [v for n, v in kept if n.lower() == names[0]]
    kept = [(n, v) for n, v in kept if n.lower() != names[0]]
    chain = ", ".join([*forwarded, client_ip])
    spelled = names if lower else ("X-Forwarded-For", "X-Forwarded-Port", "X-Forwarded-Proto")
    return [*kept, (spelled[0], chain), (spelled[1], str(port)), (spelled[2], "http")]


def _place(context: dict[str, Any], api: str, host: str) -> None:
    """The request context's API id and domain: the request's Host without its port (an
    IPv6 literal as it came), and the domain's first label as its prefix."""
    context["apiId"] = api
    context["domainName"] = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    context["domainPrefix"] = context["domainName"].split(".", 1)[0]


def _with_headers(request: IncomingRequest, headers: list[tuple[str, str]]) -> IncomingRequest:
    return IncomingRequest(
        request.method, request.query, headers, request.body, request.client_ip, request.client_port
    )


class _AwsGateway(GatewayFace):
    error_status = 502
    error_body: dict[str, str] = aws_response.V1_ERROR
    timeout_default_ms = REST_TIMEOUT_MS
    timed_out: tuple[int, dict[str, str]] = (504, REST_TIMED_OUT)

    def integration_timeout(self) -> tuple[float, HttpReply, str] | None:
        declared = self.route.timeout_ms
        limit = min(declared, self.timeout_default_ms) if declared else self.timeout_default_ms
        where = "declared" if declared else "the default"
        status, body = self.timed_out
        reply = HttpReply.json(status, body)
        reply.function_error = True
        return limit / 1000.0, reply, f"{limit / 1000.0:g} s, {where}"

    def refuse(self, body_size: int) -> tuple[HttpReply, str] | None:
        if body_size > AWS_GATEWAY_LIMIT:
            why = (
                f"the request body ({body_size} bytes) is over API Gateway's 10 MB payload "
                "limit: the gateway answers 413 without calling the function"
            )
            return HttpReply.json(413, REST_TOO_LARGE), why
        return None

    def refuse_event(self, size: int) -> tuple[HttpReply, str] | None:
        if size > LAMBDA_SYNC_LIMIT:
            why = (
                f"the event is {size} bytes of JSON, over Lambda's 6 MB limit for a synchronous "
                f"invocation: Lambda rejects it and the {self.label} answers 500 without "
                "running the function"
            )
            reply = HttpReply.json(500, self.error_body)
            reply.function_error = True
            return reply, why
        return None

    def _v1(
        self,
        incoming: IncomingRequest,
        path: str,
        host: str,
        port: int,
        request_id: str,
        now: float,
        params: dict[str, str],
    ) -> dict[str, Any]:
        """Payload 1.0 of this route: the REST proxy event with its resource, stage,
        parameters and (REST) the binary media types' base64 rule."""
        route = self.route
        headers = _forwarded(incoming.headers, incoming.client_ip, port, lower=False)
        request = _with_headers(incoming, headers)
        event = aws_http_event.build_v1(request, path, host, request_id, now)
        stage = route.stage or "$default"
        template = route.template if route.template != "$default" else "/{proxy+}"
        if route.template == "$default":
            params = {"proxy": path.lstrip("/")}
        event["resource"] = template
        event["pathParameters"] = params or None
        event["stageVariables"] = dict(route.stage_variables) or None
        context = event["requestContext"]
        context["stage"] = stage
        context["resourcePath"] = template
        context["path"] = path if stage == "$default" else f"/{stage}{path}"
        _place(context, route.api, host)
        if self.kind == "rest":
            binary = media_type_matches(_header(incoming, "content-type"), route.binary_media_types)
            body, is_base64 = event_body(incoming.body, not binary)
            event["body"] = body or None
            event["isBase64Encoded"] = is_base64
        else:
            event["version"] = "1.0"
        return event

    def _checked(self, result: Any) -> str | None:
        """Why a payload 1.0 response is not the format the gateway takes, or None."""
        if not isinstance(result, dict):
            return "the function returned no object with a statusCode"
        reasons = []
        extra = [key for key in result if key not in REST_RESPONSE_KEYS]
        if extra:
            listed = ", ".join(repr(key) for key in extra)
            reasons.append(
                f"the response has the key{'s' if len(extra) > 1 else ''} {listed}, and the "
                f"{self.label}'s Lambda proxy integration takes only "
                f"{', '.join(REST_RESPONSE_KEYS)}"
            )
        body = result.get("body")
        if body is not None and not isinstance(body, str):
            what = "an object" if isinstance(body, dict) else f"a {type(body).__name__}"
            reasons.append(f"its body is {what}, not a string: return json.dumps(...) as the body")
        if "statusCode" not in result:
            reasons.append("the response has no statusCode")
        return "; ".join(reasons) or None

    def _reply_v1(
        self, kind: str, payload: bytes, request: IncomingRequest
    ) -> tuple[HttpReply, str | None]:
        try:
            result = json.loads(payload) if kind == "json" else None
        except ValueError:
            result = None
        why = self._checked(result)
        if why is not None or not isinstance(result, dict):
            reply = HttpReply.json(self.error_status, self.error_body)
            reply.function_error = True
            return reply, (
                f"{self.route.route_key}: {why}; deployed, the {self.label} answers "
                f"{self.error_status} {json.dumps(self.error_body)}, as it does here"
            )
        reply = aws_response.map_response("1.0", "json", _without_base64(payload, result))
        if result.get("isBase64Encoded") and self.kind == "rest":
            # Decoded only when the request's first Accept type is a binary media type;
            # otherwise the client gets the base64 text (lambda-proxy-binary-media.md).
            accept = (_header(request, "accept") or "").split(",", 1)[0]
            if media_type_matches(accept, self.route.binary_media_types):
                try:
                    reply.body = base64.b64decode(reply.body, validate=True)
                except (ValueError, binascii.Error):
                    pass
        elif result.get("isBase64Encoded"):
            try:
                reply.body = base64.b64decode(reply.body, validate=True)
            except (ValueError, binascii.Error):
                failed = HttpReply.json(self.error_status, self.error_body)
                failed.function_error = True
                return (
                    failed,
                    f"{self.route.route_key}: isBase64Encoded is true but the body is not base64",
                )
        return reply, None


def _without_base64(payload: bytes, result: dict[str, Any]) -> bytes:
    """The result with isBase64Encoded off, for the shared mapping: the gateway decides
    about decoding (and the mapping would decode regardless)."""
    if not result.get("isBase64Encoded"):
        return payload
    return json.dumps({**result, "isBase64Encoded": False}).encode("utf-8")


class RestGateway(_AwsGateway):
    """API Gateway REST API, Lambda proxy integration, payload 1.0 (§10.1)."""

    kind = "rest"
    label = "REST API"
    timeout_default_ms = REST_TIMEOUT_MS
    timed_out = (504, REST_TIMED_OUT)

    def event(
        self,
        incoming: IncomingRequest,
        path: str,
        host: str,
        port: int,
        request_id: str,
        now: float,
        params: dict[str, str],
    ) -> dict[str, Any]:
        return self._v1(incoming, path, host, port, request_id, now, params)

    def reply(
        self, kind: str, payload: bytes, request: IncomingRequest
    ) -> tuple[HttpReply, str | None]:
        return self._reply_v1(kind, payload, request)


class HttpApiGateway(_AwsGateway):
    """API Gateway HTTP API, payload 2.0 (or 1.0), and Lambda Function URLs (§10.2, §10.3)."""

    kind = "http"
    label = "HTTP API"
    error_status = 500
    error_body = aws_response.V2_ERROR
    timeout_default_ms = HTTP_TIMEOUT_MS
    timed_out = (503, HTTP_TIMED_OUT)

    def event(
        self,
        incoming: IncomingRequest,
        path: str,
        host: str,
        port: int,
        request_id: str,
        now: float,
        params: dict[str, str],
    ) -> dict[str, Any]:
        if self.route.payload == "1.0":
            return self._v1(incoming, path, host, port, request_id, now, params)
        route = self.route
        headers = _forwarded(incoming.headers, incoming.client_ip, port, lower=True)
        event = aws_http_event.build_v2(
            _with_headers(incoming, headers), path, host, request_id, now
        )
        stage = route.stage or "$default"
        raw_path = path if stage == "$default" else f"/{stage}{path}"
        event["routeKey"] = route.route_key
        event["rawPath"] = raw_path
        context = event["requestContext"]
        context["routeKey"] = route.route_key
        context["stage"] = stage
        context["http"]["path"] = raw_path
        _place(context, route.api, host)
        if self.kind == "function-url":
            context["authentication"] = None
            context["authorizer"] = None
        else:
            if params:
                event["pathParameters"] = params
            if route.stage_variables:
                event["stageVariables"] = dict(route.stage_variables)
        return event

    def reply(
        self, kind: str, payload: bytes, request: IncomingRequest
    ) -> tuple[HttpReply, str | None]:
        if self.route.payload == "1.0":
            reply, why = self._reply_v1(kind, payload, request)
        else:
            reply, why = self.face.reply(kind, payload)
        if self.route.cors is not None and self.kind == "http":
            cors_response_headers(self.route.cors, request.headers, reply)
        return reply, why


class FunctionUrlGateway(HttpApiGateway):
    """A Lambda Function URL: the 2.0 shape, `$default` everywhere (§10.3)."""

    kind = "function-url"
    label = "Function URL"

    def integration_timeout(self) -> tuple[float, HttpReply, str] | None:
        return None  # the whole function timeout (up to 15 minutes) is the URL's


# ---------------------------------------------------------------------------------------------
# Yandex


class YandexGateway(GatewayFace):
    """Yandex API Gateway, `cloud_functions` integration, payload 0.1 or 1.0 (§10.5)."""

    kind = "yandex"
    label = "Yandex API Gateway"

    def refuse(self, body_size: int) -> tuple[HttpReply, str] | None:
        if body_size > YANDEX_GATEWAY_LIMIT:
            why = (
                f"the request body ({body_size} bytes) is over Yandex API Gateway's 2.5 MB "
                "request limit (the status it answers is undocumented: 413 here)"
            )
            return HttpReply.json(413, {"message": "Request Entity Too Large"}), why
        return None

    def refuse_event(self, size: int) -> tuple[HttpReply, str] | None:
        refused = self.face.refuse_event(size)
        if refused is None:
            return None
        return refused, f"the event is {size} bytes of JSON, over the function's 3.5 MB limit"

    def event(
        self,
        incoming: IncomingRequest,
        path: str,
        host: str,
        port: int,
        request_id: str,
        now: float,
        params: dict[str, str],
    ) -> dict[str, Any]:
        from . import runner_env

        route = self.route
        event = yandex_http_event.build_event(incoming, request_id, runner_env.request_id(), now)
        declared, multi = self._declared(event, params)
        context: Any = {}
        if route.operation_context is not None:
            context = _substituted(json.loads(route.operation_context), declared)
        event["requestContext"]["apiGateway"] = {"operationContext": context}
        if route.payload == "1.0":
            for key in ("url", "params", "multiValueParams", "pathParams"):
                event.pop(key, None)
            event["version"] = "1.0"
            event["resource"] = route.template
            event["path"] = path
            event["pathParameters"] = dict(params)
            event["parameters"] = declared
            event["multiValueParameters"] = multi
            event["operationId"] = route.operation_id
            return event
        event["url"] = path + (f"?{incoming.query}" if incoming.query else "")
        event["path"] = route.template
        event["pathParams"] = dict(params)
        event["params"] = declared
        event["multiValueParams"] = multi
        return event

    def _declared(
        self, event: dict[str, Any], params: dict[str, str]
    ) -> tuple[dict[str, str], dict[str, list[str]]]:
        """`params` and `multiValueParams`: the values of the parameters the operation
        declares (path, query, header), as the gateway collects them."""
        single: dict[str, str] = {}
        multi: dict[str, list[str]] = {}
        headers = {name.lower(): values for name, values in event["multiValueHeaders"].items()}
        for name, where in self.route.parameters:
            values: list[str] = []
            if where == "path" and name in params:
                values = [params[name]]
            elif where == "query":
                values = event["multiValueQueryStringParameters"].get(name) or []
            elif where == "header":
                values = headers.get(name.lower()) or []
            if values:
                single[name] = values[-1]
                multi[name] = list(values)
        for name, value in params.items():  # a path parameter is declared by its template
            if name not in single:
                single[name] = value
                multi[name] = [value]
        return single, multi

    def reply(
        self, kind: str, payload: bytes, request: IncomingRequest
    ) -> tuple[HttpReply, str | None]:
        return self.face.reply(kind, payload)


def _substituted(value: Any, params: dict[str, str]) -> Any:
    """An integration's `context` with `{name}` replaced by the declared parameters' values
    (extensions/index.md: only names declared as operation parameters are substituted)."""
    if isinstance(value, str):
        for name, given in params.items():
            value = value.replace("{" + name + "}", given)
        return value
    if isinstance(value, dict):
        return {key: _substituted(inner, params) for key, inner in value.items()}
    if isinstance(value, list):
        return [_substituted(inner, params) for inner in value]
    return value


_FACES: dict[str, type[GatewayFace]] = {
    "rest": RestGateway,
    "http": HttpApiGateway,
    "function-url": FunctionUrlGateway,
    "yandex": YandexGateway,
}


def gateway_face(route: GatewayRoute, platform: str) -> GatewayFace:
    """The face of one route's gateway, for a function on `platform`."""
    version = route.payload if platform == "aws" else None
    if platform == "aws" and version not in ("1.0", "2.0"):
        version = "2.0"
    return _FACES[route.kind](route, face_of(platform, version))


def unknown_route(kinds: set[str]) -> tuple[HttpReply, str]:
    """The gateway's own answer to a request no route takes, and what answered: a REST API's
    403 `Missing Authentication Token` (also what `sam local start-api` answers for every API
    kind), else an HTTP API's 404 `Not Found`, else Yandex's (undocumented: a 404 that says it
    is emulated)."""
    if "rest" in kinds:
        return HttpReply.json(403, MISSING_TOKEN), KIND_LABELS["rest"]
    if "http" in kinds or "function-url" in kinds:
        return HttpReply.json(404, NOT_FOUND), KIND_LABELS["http"]
    return HttpReply.json(404, YANDEX_NOT_FOUND), KIND_LABELS["yandex"]


# ---------------------------------------------------------------------------------------------
# CORS preflight, answered by the gateway itself (project/routes_cors.py reads the rules)

_ALL_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")


def _allowed_origin(rule: dict[str, str], origin: str | None) -> str | None:
    """The Access-Control-Allow-Origin value for `origin` under `rule`, or None."""
    declared = rule.get("origin", "")
    if declared == "true":  # Yandex: echo the request's
        return origin
    allowed = [item.strip() for item in declared.split(",") if item.strip()]
    if "*" in allowed:
        return origin if rule.get("credentials") == "true" and origin else "*"
    if len(allowed) == 1 and rule.get("style") == "rest":
        return allowed[0]  # a REST API's mock integration answers with it, whoever asks
    return origin if origin in allowed else None


def preflight(
    cors: tuple[tuple[str, str], ...], headers: list[tuple[str, str]], methods: list[str]
) -> HttpReply | None:
    """The gateway's answer to an OPTIONS request on a path with a CORS rule, or None when
    the request goes on to the routes (an HTTP API or Yandex answer only a real preflight,
    with an `Origin`). `methods`: the methods routed on that path."""
    rule = dict(cors)
    style = rule.get("style")
    found = {name.lower(): value for name, value in headers}
    origin = found.get("origin")
    if style in ("http", "yandex") and origin is None:
        return None
    if style == "http" and "access-control-request-method" not in found:
        return None
    expanded = sorted(
        {m for method in methods for m in (_ALL_METHODS if method == "ANY" else [method])}
        | {"OPTIONS"}
    )
    out: list[tuple[str, str]] = []
    allow = _allowed_origin(rule, origin)
    if allow is not None:
        out.append(("Access-Control-Allow-Origin", allow))
        if style == "yandex" and "methods" not in rule:
            wanted = found.get("access-control-request-method")
            allowed_methods = wanted or ",".join(expanded)
        else:
            allowed_methods = rule.get("methods") or ",".join(expanded)
        out.append(("Access-Control-Allow-Methods", allowed_methods))
        if "headers" in rule:
            out.append(("Access-Control-Allow-Headers", rule["headers"]))
        if "max_age" in rule:
            out.append(("Access-Control-Max-Age", rule["max_age"]))
        if rule.get("credentials") == "true":
            out.append(("Access-Control-Allow-Credentials", "true"))
        if allow != "*" and style != "rest":
            out.append(("Vary", "Origin"))
    if style == "rest":
        return HttpReply(200, [("Content-Type", "application/json"), *out], b"")
    if style == "http":
        return HttpReply(204, out, b"")
    status = int(rule["status"]) if rule.get("status", "").isdigit() else 200
    return HttpReply(status, out, b"")


def cors_response_headers(
    cors: tuple[tuple[str, str], ...], headers: list[tuple[str, str]], reply: HttpReply
) -> None:
    """An HTTP API with CORS configured sets the CORS headers of every response itself and
    ignores the function's (http-api-cors.md)."""
    rule = dict(cors)
    origin = next((value for name, value in headers if name.lower() == "origin"), None)
    reply.headers = [
        (name, value)
        for name, value in reply.headers
        if not name.lower().startswith("access-control-")
    ]
    allow = _allowed_origin(rule, origin) if origin is not None else None
    if allow is None:
        return
    reply.headers.append(("Access-Control-Allow-Origin", allow))
    if "expose" in rule:
        reply.headers.append(("Access-Control-Expose-Headers", rule["expose"]))
    if rule.get("credentials") == "true":
        reply.headers.append(("Access-Control-Allow-Credentials", "true"))
