"""Yandex API Gateway in front of a function (PLATFORMS.md §10.5): the `cloud_functions`
integration's event, payload 0.1 or 1.0, the operation's declared parameters and context, and
its `x-yc-status-mapping`. One of the gateway faces that platforms/gateways.py makes per route.
"""

from __future__ import annotations

import json
from typing import Any

from . import yandex_http_event
from .gateway_base import YANDEX_GATEWAY_LIMIT, Arrival, GatewayFace
from .http_reply import HttpReply, IncomingRequest


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

    def build(self, incoming: IncomingRequest, at: Arrival) -> dict[str, Any]:
        from . import runner_env

        route = self.route
        path, params = at.path, at.params
        event = yandex_http_event.build_event(
            incoming, at.request_id, runner_env.request_id(), at.now
        )
        declared, multi = self._declared(event, params, incoming.headers)
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
        self, event: dict[str, Any], params: dict[str, str], sent: list[tuple[str, str]]
    ) -> tuple[dict[str, str], dict[str, list[str]]]:
        """`params` and `multiValueParams`: the values of the parameters the operation
        declares (path, query, header, cookie), as the gateway collects them: every value in
        `multiValueParams`, the last one in `params`, an absent parameter in neither. Cookies
        are read from the request's own headers (`sent`): the event's have no `Cookie`."""
        single: dict[str, str] = {}
        multi: dict[str, list[str]] = {}
        headers = {name.lower(): values for name, values in event["multiValueHeaders"].items()}
        jar: dict[str, list[str]] | None = None
        for name, where in self.route.parameters:
            values: list[str] = []
            if where == "path" and name in params:
                values = [params[name]]
            elif where == "query":
                values = event["multiValueQueryStringParameters"].get(name) or []
            elif where == "header":
                values = headers.get(name.lower()) or []
            elif where == "cookie":
                if jar is None:
                    jar = cookies(sent)
                values = jar.get(name) or []
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
        reply, why = self.face.reply(kind, payload)
        return self._mapped(reply), why

    def failed(self, status: str, error: dict[str, Any] | None, detail: str = "") -> HttpReply:
        return self._mapped(self.face.failed(status, error, detail))

    def _mapped(self, reply: HttpReply) -> HttpReply:
        """The integration's answer with its status replaced as the operation's
        `x-yc-status-mapping` says (extensions/status-mapping.md): on the response object of
        that status, the status the client gets. The gateway's own answers (an unknown
        route, a body over its limit) are not the integration's and keep theirs."""
        for status, mapped in self.route.status_mapping:
            if reply.status == status:
                reply.status = mapped
                break
        return reply


def cookies(headers: list[tuple[str, str]]) -> dict[str, list[str]]:
    """The cookies of a request's `Cookie` headers (RFC 6265 §4.2.1 `name=value; name=value`),
    every value of a name in the order sent, several headers read in order.

    A strict split, not `http.cookies`: that one drops every cookie of a header for one pair
    it cannot read (`a=1; junk`, a non-ASCII value), takes `path`, `expires`, … for
    attributes, and keeps only the last of a repeated name. Here each header is split on `;`
    and each pair on its first `=`; name and value lose their surrounding blanks, and a value
    in double quotes its quotes (as Go's net/http reads it; nothing else is unescaped). A
    pair without `=` or with an empty name is no cookie and is skipped; a value may be empty
    or hold any other character, as the header's text has it (names are matched
    case-sensitively, as cookies are). Go's net/http would also drop a pair whose name is no
    token or whose value holds a byte outside printable ASCII, `"` or `\\`; how Yandex's
    gateway reads cookies is undocumented, so such pairs are kept here."""
    found: dict[str, list[str]] = {}
    for header, text in headers:
        if header.lower() != "cookie":
            continue
        for pair in text.split(";"):
            name, equals, value = pair.partition("=")
            name = name.strip(" \t")
            if not equals or not name:
                continue
            value = value.strip(" \t")
            if len(value) >= 2 and value[0] == value[-1] == '"':
                value = value[1:-1]
            found.setdefault(name, []).append(value)
    return found


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
