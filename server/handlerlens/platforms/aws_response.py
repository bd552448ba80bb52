"""API Gateway's mapping of a Lambda result to HTTP (PLATFORMS.md §5.2, "HTTP mapping")."""

from __future__ import annotations

import base64
import binascii
import json

from .http_reply import HttpReply

TYPE_CHECKING = False  # typing is not loaded: a worker imports this module
if TYPE_CHECKING:
    from typing import Any

V1_ERROR = {"message": "Internal server error"}
V2_ERROR = {"message": "Internal Server Error"}


def function_error(version: str) -> HttpReply:
    """A failed invocation: REST answers 502, HTTP API 500; the details stay in the log."""
    if version == "1.0":
        reply = HttpReply.json(502, V1_ERROR)
    else:
        reply = HttpReply.json(500, V2_ERROR)
    reply.function_error = True
    return reply


def _headers(result: dict[str, Any], version: str) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    single = result.get("headers") or {}
    multi = result.get("multiValueHeaders") or {} if version == "1.0" else {}
    if not isinstance(single, dict) or not isinstance(multi, dict):
        raise ValueError("headers must be an object")
    lowered = {str(name).lower() for name in multi}
    for name, value in single.items():
        if str(name).lower() not in lowered:
            pairs.append((str(name), str(value)))
    for name, values in multi.items():
        pairs.extend((str(name), str(value)) for value in values)
    if version == "2.0":
        pairs.extend(("Set-Cookie", str(cookie)) for cookie in result.get("cookies") or [])
    return [(n, v) for n, v in pairs if n.lower() not in ("content-length", "transfer-encoding")]


def map_response(version: str, kind: str, payload: bytes) -> HttpReply:
    """The HTTP response for a successful invocation's marshalled result."""
    try:
        result = json.loads(payload) if kind == "json" else None
    except ValueError:
        result = None
    if not isinstance(result, dict) or "statusCode" not in result:
        if version == "1.0":
            return function_error(version)
        # HTTP API 2.0 infers a 200 JSON response from anything without statusCode.
        return HttpReply(200, [("Content-Type", "application/json")], payload)
    try:
        status = int(result["statusCode"])
        headers = _headers(result, version)
        body = result.get("body") or ""
        if not isinstance(body, str):
            body = json.dumps(body)
        if result.get("isBase64Encoded"):
            data = base64.b64decode(body, validate=True)
        else:
            data = body.encode("utf-8", "surrogatepass")
    except (TypeError, ValueError, binascii.Error):
        return function_error(version)
    if version == "2.0" and not any(name.lower() == "content-type" for name, _ in headers):
        headers.append(("Content-Type", "application/json"))
    return HttpReply(status, headers, data)
