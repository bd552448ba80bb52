"""What every API gateway face shares (PLATFORMS.md §10): the gateways' limits, answers and
timeouts, the route as a face knows it (`GatewayRoute`), the binary media types rule, and the
face's interface (`GatewayFace`); the faces themselves are in gateways.py.
"""

from __future__ import annotations

from typing import Any

from .faces import HttpFace
from .http_reply import HttpReply, IncomingRequest

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
        "status_mapping",
        "auth",
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
        status_mapping: tuple[tuple[int, int], ...] = (),
        auth: str | None = None,
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
        # Yandex `x-yc-status-mapping`: (the function's status, the client's) pairs.
        self.status_mapping = status_mapping
        # A Function URL's AuthType: `AWS_IAM` takes SigV4-signed requests only.
        self.auth = auth

    @property
    def route_key(self) -> str:
        return "$default" if self.template == "$default" else f"{self.method} {self.template}"

    def to_json(self) -> dict[str, Any]:
        """Plain JSON values, for a worker that answers this route itself (worker/routed.py)."""
        return {name: getattr(self, name) for name in self.__slots__}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> GatewayRoute:
        """The route to_json() wrote (JSON's lists back to the tuples)."""
        fields = dict(data)
        for name in (
            "binary_media_types",
            "stage_variables",
            "parameters",
            "cors",
            "status_mapping",
        ):
            value = fields.get(name)
            if isinstance(value, list):
                fields[name] = tuple(tuple(v) if isinstance(v, list) else v for v in value)
        return cls(**fields)


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


def header_value(request: IncomingRequest, wanted: str) -> str | None:
    for name, value in request.headers:
        if name.lower() == wanted:
            return value
    return None


class Arrival:
    """Where a request arrived: `path` (without a stage prefix) on the runner's `host` and
    `port`, with its request id, time and path `params`."""

    __slots__ = ("path", "host", "port", "request_id", "now", "params")

    def __init__(
        self, path: str, host: str, port: int, request_id: str, now: float, params: dict[str, str]
    ) -> None:
        self.path = path
        self.host = host
        self.port = port
        self.request_id = request_id
        self.now = now
        self.params = params


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

    def unauthorized(self, incoming: IncomingRequest) -> tuple[HttpReply, str] | None:
        """The gateway's answer to a request its authorization refuses, and why (for the
        log); None when it goes on to the function."""
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
        return self.build(incoming, Arrival(path, host, port, request_id, now, params))

    def build(self, incoming: IncomingRequest, at: Arrival) -> dict[str, Any]:
        """The event for `incoming`, arrived as `at` says (each gateway kind's)."""
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

    def answer(self, result: dict[str, Any], payload: bytes, request: IncomingRequest) -> HttpReply:
        """The response for a worker's reply to this route's event (its meta `result`),
        mapped as the supervisor maps the same outcome (runner/app.py, `_routed`): for a
        worker answering a lent routed connection (worker/routed.py). Why the deployed gateway
        would answer otherwise goes into `result["warning"]`; a result over the platform's
        limit becomes a function error there as well, as HttpFace.answer has it."""
        return self.face.answer_with(
            result, payload, lambda kind, data: self.reply(kind, data, request), self.failed
        )
