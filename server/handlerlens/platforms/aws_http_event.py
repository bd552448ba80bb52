"""API Gateway events for AWS functions served over plain HTTP (PLATFORMS.md §4.4).

HTTP API payload 2.0 (also the Function URL shape) by default; REST API payload 1.0 when the
function's trigger is `api-gateway-rest`.
"""

from __future__ import annotations

import time
from urllib.parse import parse_qsl

from .http_reply import IncomingRequest, event_body
from .runner_env import ACCOUNT
from .yandex_http_event import common_log_time

TYPE_CHECKING = False  # typing is not loaded: a worker imports this module
if TYPE_CHECKING:
    from typing import Any

API_ID = "local"
_TEXT_TYPES = ("text/", "application/json", "application/xml", "application/javascript")


def payload_version(trigger: str | None) -> str:
    """`1.0` for REST API triggers, `2.0` (HTTP API, Function URL) otherwise."""
    return "1.0" if trigger == "api-gateway-rest" else "2.0"


def _is_text(content_type: str | None) -> bool:
    if not content_type:
        return False
    media = content_type.split(";", 1)[0].strip().lower()
    return media.startswith(_TEXT_TYPES) or media.endswith("+json") or media.endswith("+xml")


def _content_type(request: IncomingRequest) -> str | None:
    for name, value in request.headers:
        if name.lower() == "content-type":
            return value
    return None


def build_v2(
    request: IncomingRequest, path: str, host: str, request_id: str, now: float
) -> dict[str, Any]:
    """HTTP API payload 2.0: lower-case headers, duplicates comma-joined, cookies apart."""
    headers: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in request.headers:
        key = name.lower()
        if key == "cookie":
            cookies.extend(part.strip() for part in value.split(";") if part.strip())
            continue
        headers[key] = f"{headers[key]},{value}" if key in headers else value
    query: dict[str, str] = {}
    for key, value in parse_qsl(request.query, keep_blank_values=True):
        query[key] = f"{query[key]},{value}" if key in query else value
    body, is_base64 = event_body(request.body, _is_text(_content_type(request)))
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": request.query,
        "headers": headers,
        "requestContext": {
            "accountId": ACCOUNT,
            "apiId": API_ID,
            "domainName": host,
            "domainPrefix": host.split(".", 1)[0],
            "http": {
                "method": request.method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": request.client_ip,
                "userAgent": headers.get("user-agent", ""),
            },
            "requestId": request_id,
            "routeKey": "$default",
            "stage": "$default",
            "time": common_log_time(now),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": is_base64,
    }
    if cookies:
        event["cookies"] = cookies
    if query:
        event["queryStringParameters"] = query
    if body:
        event["body"] = body
    return event


def build_v1(
    request: IncomingRequest, path: str, host: str, request_id: str, now: float
) -> dict[str, Any]:
    """REST API proxy payload 1.0: `multiValue*` maps, absent parameters `null`."""
    headers: dict[str, str] = {}
    multi_headers: dict[str, list[str]] = {}
    for name, value in request.headers:
        headers[name] = value
        multi_headers.setdefault(name, []).append(value)
    query: dict[str, str] = {}
    multi_query: dict[str, list[str]] = {}
    for key, value in parse_qsl(request.query, keep_blank_values=True):
        query[key] = value
        multi_query.setdefault(key, []).append(value)
    body, is_base64 = event_body(request.body, _is_text(_content_type(request)))
    return {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": request.method,
        "headers": headers or None,
        "multiValueHeaders": multi_headers or None,
        "queryStringParameters": query or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": {"proxy": path.lstrip("/")},
        "stageVariables": None,
        "requestContext": {
            "accountId": ACCOUNT,
            "resourceId": "local",
            "stage": "local",
            "requestId": request_id,
            "requestTime": common_log_time(now),
            "requestTimeEpoch": int(now * 1000),
            "path": path,
            "resourcePath": "/{proxy+}",
            "httpMethod": request.method,
            "apiId": API_ID,
            "protocol": "HTTP/1.1",
            "identity": {
                "cognitoIdentityPoolId": None,
                "accountId": None,
                "cognitoIdentityId": None,
                "caller": None,
                "accessKey": None,
                "sourceIp": request.client_ip,
                "cognitoAuthenticationType": None,
                "cognitoAuthenticationProvider": None,
                "userArn": None,
                "userAgent": headers.get("User-Agent") or headers.get("user-agent"),
                "user": None,
            },
        },
        "body": body or None,
        "isBase64Encoded": is_base64,
    }


def build_event(
    version: str, request: IncomingRequest, path: str, host: str, request_id: str
) -> dict[str, Any]:
    """The API Gateway event of `version` for one HTTP request."""
    now = time.time()
    if version == "1.0":
        return build_v1(request, path, host, request_id, now)
    return build_v2(request, path, host, request_id, now)
