"""CORS preflight, answered by the gateway itself, and the CORS headers an HTTP API adds to a
function's response (project/routes_cors.py reads the rules from the declarations).
"""

from __future__ import annotations

from .http_reply import HttpReply

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
