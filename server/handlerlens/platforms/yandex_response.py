"""How Yandex Cloud Functions turns a handler's result (or failure) into an HTTP response.

PLATFORMS.md §5.1 and §9 #3, #4, #6, #9, #14.
"""

from __future__ import annotations

import base64
import binascii
import json

from .http_reply import HttpReply
from .yandex_http_event import MAX_REQUEST_JSON, canonical_header

TYPE_CHECKING = False  # typing is not loaded: a worker imports this module
if TYPE_CHECKING:
    from typing import Any

# §9 #14: a response over the 3.5 MB limit is a malformed response.
MAX_RESPONSE = MAX_REQUEST_JSON

REMOVED_RESPONSE_HEADERS = frozenset(
    {
        "Host",
        "Authorization",
        "User-Agent",
        "Connection",
        "Max-Forwards",
        "Cookie",
        # The Russian page's additions: the platform sets these itself (one X-Request-Id,
        # its own), so a handler's copies never reach the client.
        "X-Request-Id",
        "X-Function-Id",
        "X-Function-Version-Id",
        "X-Content-Type-Options",
    }
)
FORBIDDEN_RESPONSE_HEADERS = frozenset({"Proxy-Authenticate", "Transfer-Encoding", "Via"})
REMAPPED_RESPONSE_HEADERS = frozenset({"Content-Md5", "Date", "Server", "Www-Authenticate"})
KNOWN_KEYS = frozenset({"statusCode", "headers", "multiValueHeaders", "body", "isBase64Encoded"})

FUNCTION_ERROR_HEADER = ("X-Function-Error", "true")
TIMEOUT_BODY = {
    "errorMessage": "Exceeded maximum function execution time before timeout",
    "errorType": "Timeout",
}


def timeout_log_line(request_id: str, timeout_s: float, source: str, init_s: float = 0.0) -> str:
    """The function log's line for a call that ran past its timeout.

    Yandex logs a failed call as `ERROR RequestID: <id> Code: 504 Message: Execution timeout
    exceeded` (PLATFORMS.md §10.5); its `Code: 499 Message: request cancelled` is for a call
    whose caller went away, which is not what happened here. The rest says which limit it
    was and where it came from (`source`: "declared in main.tf", "set with --timeout"…), and
    how much of it the first call's init used, which Yandex counts in (§5.1).
    """
    used = f"; init took {init_s:.2f} s of it" if init_s > 0 else ""
    return (
        f"ERROR RequestID: {request_id} Code: 504 Message: Execution timeout exceeded after "
        f"{timeout_s:.2f} seconds (the function's timeout, {timeout_s:g} s, {source}{used})"
    )


class ProxyIntegrationError(Exception):
    """The function's response does not match the proxy response format."""

    def __init__(self, payload: str, reason: str) -> None:
        super().__init__(reason)
        self.payload = payload
        self.reason = reason


def proxy_integration_error(payload: str) -> HttpReply:
    """502 `ProxyIntegrationError` carrying the original response."""
    return HttpReply.json(
        502,
        {
            "errorMessage": "Malformed serverless function response: not a valid json",
            "errorType": "ProxyIntegrationError",
            "payload": payload,
        },
    )


def function_error(error: dict[str, Any]) -> HttpReply:
    """An unhandled exception or load error: 502, `X-Function-Error: true`, the error JSON."""
    body = {key: error[key] for key in ("errorMessage", "errorType", "stackTrace") if key in error}
    reply = HttpReply.json(502, body, FUNCTION_ERROR_HEADER)
    reply.function_error = True
    return reply


def failure(status: str, error: dict[str, Any] | None, detail: str = "") -> HttpReply:
    """The reply for a call that returned no result: `status` timeout, unserialisable (its
    value's description in `detail`), or anything else, an error (`error` JSON)."""
    if status == "timeout":
        return timeout()
    if status == "unserialisable":
        return unserialisable(detail)
    return function_error(error or {})


def timeout() -> HttpReply:
    """The 504 sent when the function runs past its timeout (§9 #3)."""
    reply = HttpReply.json(504, TIMEOUT_BODY, FUNCTION_ERROR_HEADER)
    reply.function_error = True
    return reply


def _header_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    raise ValueError(f"header value {value!r} is not a string")


def _headers(result: dict[str, Any], text: str) -> list[tuple[str, str]]:
    single = result.get("headers") or {}
    multi = result.get("multiValueHeaders") or {}
    if not isinstance(single, dict) or not isinstance(multi, dict):
        raise ProxyIntegrationError(text, "`headers` and `multiValueHeaders` must be objects")
    pairs: list[tuple[str, str]] = []
    multi_names = {canonical_header(str(name)) for name in multi}
    try:
        for name, value in single.items():
            # A key also present in multiValueHeaders is ignored (§5.1).
            if canonical_header(str(name)) not in multi_names:
                pairs.append((str(name), _header_value(value)))
        for name, values in multi.items():
            if not isinstance(values, list):
                raise ValueError(f"multiValueHeaders[{name!r}] must be a list")
            pairs.extend((str(name), _header_value(value)) for value in values)
    except ValueError as exc:
        raise ProxyIntegrationError(text, str(exc)) from None
    out: list[tuple[str, str]] = []
    for name, value in pairs:
        canonical = canonical_header(name)
        if canonical in FORBIDDEN_RESPONSE_HEADERS:
            raise ProxyIntegrationError(text, f"the response sets the `{name}` header")
        if canonical in REMOVED_RESPONSE_HEADERS or canonical == "Content-Length":
            continue
        if canonical in REMAPPED_RESPONSE_HEADERS:
            name = f"X-Yf-Remapped-{canonical}"
        out.append((name, value))
    return out


def map_proxy_response(kind: str, payload: bytes) -> tuple[HttpReply, str | None]:
    """The HTTP response for a handler's result; the second item is a warning for the log."""
    text = payload.decode("utf-8", "replace")
    if len(payload) > MAX_RESPONSE:
        return proxy_integration_error(text[:1024] + "…"), (
            f"the response is {len(payload)} bytes; the platform's limit is {MAX_RESPONSE}"
        )
    try:
        result = json.loads(payload) if kind == "json" else text
    except ValueError:
        return proxy_integration_error(text), "the response is not valid JSON"
    if not isinstance(result, dict):
        return proxy_integration_error(text), (
            "the handler must return a dict like {'statusCode': 200, 'body': '...'}, "
            f"not {type(result).__name__}"
        )
    warning = None
    if not KNOWN_KEYS.intersection(result):
        warning = (
            "the response has none of statusCode, headers, multiValueHeaders, body, "
            "isBase64Encoded; the platform answers 200 with an empty body"
        )
    try:
        status = result.get("statusCode", 200)
        if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
            raise ProxyIntegrationError(text, f"statusCode {status!r} is not an HTTP status")
        headers = _headers(result, text)
        body = result.get("body", "")
        if body is None:
            body = ""
        if not isinstance(body, str):
            raise ProxyIntegrationError(text, "`body` must be a string (use json.dumps)")
        if result.get("isBase64Encoded"):
            try:
                data = base64.b64decode(body, validate=True)
            except (binascii.Error, ValueError):
                raise ProxyIntegrationError(text, "`body` is not valid base64") from None
        else:
            data = body.encode("utf-8", "surrogatepass")
    except ProxyIntegrationError as exc:
        return proxy_integration_error(exc.payload), exc.reason
    return HttpReply(status, headers, data), warning


def raw_response(payload: bytes) -> HttpReply:
    """`?integration=raw`: the return value as is (a str verbatim, else JSON), always 200."""
    return HttpReply(200, [], payload)


def unserialisable(description: str) -> HttpReply:
    """A return value that is not JSON-serialisable: a malformed response (§9 #4)."""
    return proxy_integration_error(description)


def too_large(size: int) -> HttpReply:
    """413 for a request over the 3.5 MB limit (our wording: Yandex documents no body)."""
    return HttpReply.json(
        413,
        {
            "errorMessage": f"Request is {size} bytes; the limit is {MAX_REQUEST_JSON} bytes "
            "(3.5 MB) including the event envelope",
            "errorType": "RequestEntityTooLarge",
        },
    )


def exit_error(how: str) -> dict[str, Any]:
    """The error JSON when the runtime process died mid-call (our wording, as in §9 #1)."""
    return {"errorMessage": f"Runtime exited with error: {how}", "errorType": "RuntimeExitError"}
