"""API gateways in front of functions (PLATFORMS.md §10): one face per gateway kind.

A request that reached a declared route becomes the event of that gateway and payload version
(REST 1.0, HTTP API 2.0 or 1.0, Function URL, Yandex API Gateway 0.1 or 1.0), field for field;
the function's result goes back through the gateway's own checks; and the gateway answers
itself where the function is never called (an unknown route, a body over its limit). Each
face builds on the function's platform face (platforms/faces.py) and its event and response
modules, so what is the platform's stays in one place and what is the gateway's is here.

The runner's route table (runner/route_table.py) and the editor's "Send request"
(lsp/route_events.py) make one face per declared route; nothing here reads declaring files.
What the faces share (limits, answers, `GatewayRoute`, `GatewayFace`) is gateway_base.py;
CORS preflight and response headers are gateway_cors.py; the Yandex face is gateway_yandex.py.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from . import aws_http_event, aws_response
from .faces import face_of
from .gateway_base import (
    AWS_GATEWAY_LIMIT,
    HTTP_TIMED_OUT,
    HTTP_TIMEOUT_MS,
    KIND_LABELS,
    LAMBDA_SYNC_LIMIT,
    MISSING_TOKEN,
    NOT_FOUND,
    REST_RESPONSE_KEYS,
    REST_TIMED_OUT,
    REST_TIMEOUT_MS,
    REST_TOO_LARGE,
    YANDEX_NOT_FOUND,
    Arrival,
    GatewayFace,
    GatewayRoute,
    header_value,
    media_type_matches,
)
from .gateway_cors import cors_response_headers
from .gateway_yandex import YandexGateway
from .http_reply import HttpReply, IncomingRequest, event_body

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

    def build(self, incoming: IncomingRequest, at: Arrival) -> dict[str, Any]:
        """Payload 1.0 of this route: the REST proxy event with its resource, stage,
        parameters and (REST) the binary media types' base64 rule."""
        route = self.route
        path, host, params = at.path, at.host, at.params
        headers = _forwarded(incoming.headers, incoming.client_ip, at.port, lower=False)
        request = _with_headers(incoming, headers)
        event = aws_http_event.build_v1(request, path, host, at.request_id, at.now)
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
            content_type = header_value(incoming, "content-type")
            binary = media_type_matches(content_type, route.binary_media_types)
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

    def reply(
        self, kind: str, payload: bytes, request: IncomingRequest
    ) -> tuple[HttpReply, str | None]:
        """Payload 1.0's response: the REST format checked, base64 as the gateway decodes it."""
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
            accept = (header_value(request, "accept") or "").split(",", 1)[0]
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


class HttpApiGateway(_AwsGateway):
    """API Gateway HTTP API, payload 2.0 (or 1.0), and Lambda Function URLs (§10.2, §10.3)."""

    kind = "http"
    label = "HTTP API"
    error_status = 500
    error_body = aws_response.V2_ERROR
    timeout_default_ms = HTTP_TIMEOUT_MS
    timed_out = (503, HTTP_TIMED_OUT)

    def build(self, incoming: IncomingRequest, at: Arrival) -> dict[str, Any]:
        if self.route.payload == "1.0":
            return super().build(incoming, at)
        route = self.route
        path, host, params = at.path, at.host, at.params
        headers = _forwarded(incoming.headers, incoming.client_ip, at.port, lower=True)
        event = aws_http_event.build_v2(
            _with_headers(incoming, headers), path, host, at.request_id, at.now
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
            reply, why = super().reply(kind, payload, request)
        else:
            reply, why = self.face.reply(kind, payload)
        if self.route.cors is not None and self.kind == "http":
            cors_response_headers(self.route.cors, request.headers, reply)
        return reply, why


# A Function URL's answer to a request its AWS_IAM auth refuses. Third parties report 403
# "Forbidden" for an unsigned call (PLATFORMS.md §10.3: Uncertain); no AWS page gives the
# status or the body, so this body is our recommendation.
URL_FORBIDDEN = {"Message": "Forbidden"}
# What `requestContext.authorizer.iam` holds beyond the access key the signature names: IAM
# would say who signed; a local runner cannot ask it, so these stand in (urls-invocation.md's
# keys; the runner's account id, as in every event).
IAM_CALLER_ID = "AIDAHANDLERLENSLOCAL"
# The access key of an event built for no signed request: the editor's "Send request", which
# stands for a signed caller (serve refuses an unsigned request before its event is built).
IAM_ACCESS_KEY = "AKIAHANDLERLENSLOCAL"


class FunctionUrlGateway(HttpApiGateway):
    """A Lambda Function URL: the 2.0 shape, `$default` everywhere (§10.3). With `AuthType:
    AWS_IAM` it takes SigV4-signed requests only: the signature cannot be checked here (only
    IAM holds the secret key), so a request with a well-formed one goes on, its access key in
    `requestContext.authorizer.iam` (the rest placeholders), and any other request is
    refused as deployed, 403, with a log line saying why and how to sign it; so is one whose
    signature is out of its time (aws_sigv4.signature_age: more than 15 minutes from now, a
    presigned URL past its X-Amz-Expires). An event built for no signed request (the
    editor's "Send request") gets a placeholder access key."""

    kind = "function-url"
    label = "Function URL"

    def integration_timeout(self) -> tuple[float, HttpReply, str] | None:
        return None  # the whole function timeout (up to 15 minutes) is the URL's

    def unauthorized(self, incoming: IncomingRequest) -> tuple[HttpReply, str] | None:
        if self.route.auth != "AWS_IAM":
            return None
        from .aws_sigv4 import read_signature

        signed = read_signature(incoming.headers, incoming.query)
        if isinstance(signed, str):
            reason = signed
            fix = (
                "Sign the request with any key (the signature is not checked locally), e.g. "
                "curl --aws-sigv4 aws:amz:us-east-1:lambda --user KEY:SECRET"
            )
        else:
            from datetime import datetime, timezone

            from .aws_sigv4 import signature_age

            aged = signature_age(incoming.headers, incoming.query, datetime.now(timezone.utc))
            if aged is None:
                return None
            reason = aged
            fix = (
                "Sign it again when sending it (or presign it for longer), and check this "
                "machine's clock"
            )
        why = (
            f"would fail deployed: the Function URL's AuthType is AWS_IAM and {reason}; "
            f"Lambda refuses it, 403 (its body {json.dumps(URL_FORBIDDEN)} is HandlerLens's "
            f"choice: AWS documents none), as here. {fix}"
        )
        return HttpReply.json(403, URL_FORBIDDEN), why

    def build(self, incoming: IncomingRequest, at: Arrival) -> dict[str, Any]:
        event = super().build(incoming, at)
        if self.route.auth == "AWS_IAM":
            from .aws_sigv4 import read_signature
            from .runner_env import ACCOUNT

            signed = read_signature(incoming.headers, incoming.query)
            key = IAM_ACCESS_KEY if isinstance(signed, str) else signed.access_key
            event["requestContext"]["authorizer"] = {
                "iam": {
                    "accessKey": key,
                    "accountId": ACCOUNT,
                    "callerId": IAM_CALLER_ID,
                    "cognitoIdentity": None,
                    "principalOrgId": None,
                    "userArn": f"arn:aws:iam::{ACCOUNT}:user/handlerlens-local",
                    "userId": IAM_CALLER_ID,
                }
            }
        return event


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
