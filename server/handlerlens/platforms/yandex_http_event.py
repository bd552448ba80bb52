"""The Yandex Cloud Functions HTTP invocation event (functions.yandexcloud.net/<id>).

Field for field as the docs' dump (seed 000; PLATFORMS.md §4.1): header names canonicalised
as the front end does (`content-type` → `Content-Type`), hop-by-hop and credential headers
removed, the caller's address added as `X-Forwarded-For` / `X-Real-Remote-Address`, request
and trace ids added. The dump has no `path` key, so neither do we.
"""

from __future__ import annotations

import time
from urllib.parse import parse_qsl

from .http_reply import IncomingRequest, event_body

TYPE_CHECKING = False  # typing is not loaded: a worker imports this module
if TYPE_CHECKING:
    from typing import Any

# "A request JSON over 3.5 MB gets 413" (function-invoke.md#http-state).
MAX_REQUEST_JSON = 3_670_016

REMOVED_HEADERS = frozenset(
    {
        "Expect",
        "Te",
        "Trailer",
        "Upgrade",
        "Proxy-Authenticate",
        "Authorization",
        "Connection",
        "Content-Md5",
        "Max-Forwards",
        "Server",
        "Transfer-Encoding",
        "Www-Authenticate",
        "Cookie",
    }
)

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


# Header names repeat from request to request: remembered, up to a bound (a client sending
# ever new names must not grow the runner's memory).
_CANONICAL: dict[str, str] = {}
_CANONICAL_MAX = 4096


def canonical_header(name: str) -> str:
    """Canonical MIME header key, as Go's textproto writes it (`x-request-id` → `X-Request-Id`)."""
    known = _CANONICAL.get(name)
    if known is not None:
        return known
    canonical = "-".join(part[:1].upper() + part[1:].lower() for part in name.split("-"))
    if len(_CANONICAL) < _CANONICAL_MAX:
        _CANONICAL[name] = canonical
    return canonical


_last_log_time: tuple[int, str] = (-1, "")


def common_log_time(epoch: float) -> str:
    """`13/Jul/2022:11:58:59 +0000`, the `requestTime` format (month names never localised)."""
    global _last_log_time
    second = int(epoch)
    if _last_log_time[0] == second:
        return _last_log_time[1]
    t = time.gmtime(second)
    text = (
        f"{t.tm_mday:02d}/{_MONTHS[t.tm_mon - 1]}/{t.tm_year}:"
        f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} +0000"
    )
    _last_log_time = (second, text)
    return text


def is_plain_json(content_type: str | None) -> bool:
    """Only `application/json` (any parameters) keeps the body as text (§9 #5)."""
    if not content_type:
        return False
    return content_type.split(";", 1)[0].strip().lower() == "application/json"


def _multi(pairs: list[tuple[str, str]]) -> tuple[dict[str, str], dict[str, list[str]]]:
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for key, value in pairs:
        single[key] = value
        multi.setdefault(key, []).append(value)
    return single, multi


def build_event(
    request: IncomingRequest, request_id: str, trace_id: str, now: float
) -> dict[str, Any]:
    """The event a Yandex function gets for one HTTP request."""
    pairs: list[tuple[str, str]] = []
    forwarded: str | None = None
    content_type: str | None = None
    user_agent = ""
    for raw_name, value in request.headers:
        name = canonical_header(raw_name)
        if name == "Content-Type":
            content_type = value
        elif name == "User-Agent":
            user_agent = value
        if name in REMOVED_HEADERS or name in ("X-Request-Id", "X-Trace-Id"):
            continue
        if name == "X-Forwarded-For":
            forwarded = value if forwarded is None else f"{forwarded}, {value}"
            continue
        if name == "X-Real-Remote-Address":
            continue
        pairs.append((name, value))
    # The caller's address is appended to any X-Forwarded-For it sent.
    ip = request.client_ip
    pairs.append(("X-Forwarded-For", ip if forwarded is None else f"{forwarded}, {ip}"))
    pairs.append(("X-Real-Remote-Address", f"[{ip}]:{request.client_port}"))
    pairs.append(("X-Request-Id", request_id))
    pairs.append(("X-Trace-Id", trace_id))
    headers, multi_headers = _multi(pairs)
    query, multi_query = _multi(
        parse_qsl(request.query, keep_blank_values=True) if request.query else []
    )
    body, is_base64 = event_body(request.body, is_plain_json(content_type))
    return {
        "httpMethod": request.method,
        "headers": headers,
        "multiValueHeaders": multi_headers,
        "queryStringParameters": query,
        "multiValueQueryStringParameters": multi_query,
        "requestContext": {
            "identity": {"sourceIp": ip, "userAgent": user_agent},
            "httpMethod": request.method,
            "requestId": request_id,
            "requestTime": common_log_time(now),
            "requestTimeEpoch": int(now),
        },
        "body": body,
        "isBase64Encoded": is_base64,
        "url": "",
        "params": {},
        "multiValueParams": {},
        "pathParams": {},
    }
