"""HTTP routes in the editor: REQUEST_ROUTES lists the routes of the declaring files (the
client puts "▶ Send request" lenses and hovers on them) and SERVER_SEND_REQUEST sends one
request to a route: the event of its gateway, through the run path, answered as a run is."""

from __future__ import annotations

import asyncio
import base64
import json
import os
from typing import TYPE_CHECKING, Any

from handlerlens.lsp import protocol
from handlerlens.lsp.convert import to_path, to_uri
from handlerlens.lsp.features.commands import (
    CommandError,
    _arg,
    fail_message,
    reply_view,
    result_view,
    run_result,
)
from handlerlens.lsp.server import HandlerLensServer

if TYPE_CHECKING:
    from handlerlens.core.model import FunctionSpec
    from handlerlens.platforms.http_reply import HttpReply
    from handlerlens.project.routes import Route

READY_WAIT_SECONDS = 5.0
BODY_METHODS = ("POST", "PUT", "PATCH")


def route_info(route: Route) -> protocol.RouteInfo:
    """What the client is told about one route."""
    span = route.span
    return protocol.RouteInfo(
        method=route.method,
        path=route.path,
        kind=route.kind,
        api=route.api,
        function=route.function,
        stage=route.stage,
        payload=route.payload,
        params=list(route.param_names),
        description=route.describe(),
        uri=to_uri(route.declared_in),
        line=span.start.line,
        character=span.start.character,
        endLine=span.end.line,
        endCharacter=span.end.character,
    )


def routes_in(server: HandlerLensServer, path: str | None) -> list[protocol.RouteInfo]:
    """The routes declared in `path` (every route when None), in declaration order."""
    wanted = os.path.normpath(path) if path is not None else None
    return [
        route_info(route)
        for ws in server.workspaces.values()
        for route in ws.routes
        if wanted is None or os.path.normpath(route.declared_in) == wanted
    ]


def find_route(server: HandlerLensServer, info: Any) -> tuple[Route, FunctionSpec]:
    """The route a RouteInfo names, as last read, and the function that answers it."""
    if not isinstance(info, dict):
        raise CommandError("expected {route: {uri, api, method, path, …}, path}")
    path = to_path(str(info.get("uri", "")))
    for ws in server.workspaces.values():
        for route in ws.routes:
            if (
                path is not None
                and os.path.normpath(route.declared_in) == os.path.normpath(path)
                and (route.kind, route.api, route.method, route.path)
                == (info.get("kind"), info.get("api"), info.get("method"), info.get("path"))
            ):
                if route.function is None:
                    raise CommandError(
                        f"{route.route_key} names no function declared in this workspace, so "
                        "there is nothing to send the request to (see the warning on it)"
                    )
                for spec in ws.functions:
                    if spec.name == route.function:
                        return route, spec
                raise CommandError(
                    f"{route.route_key} is answered by {route.function}, which is not declared "
                    "in this workspace (any more)"
                )
    raise CommandError(
        f"the route {info.get('method')} {info.get('path')} is not declared there any more; "
        "the file changed since the lens was shown"
    )


def request_target(route: Route, params: dict[str, Any]) -> tuple[str, str, dict[str, str]]:
    """The method, the path and its parameters of one request to `route`: `params['path']`
    must be a path the route takes (the gateway's matching, routes.match)."""
    from handlerlens.project.routes import ANY, match

    method = str(params.get("method") or route.method).upper()
    if method == ANY:
        raise CommandError(f"{route.route_key} takes any method: say which one to send")
    path = str(params.get("path") or "")
    if not path.startswith("/"):
        raise CommandError(f"the path {path!r} must start with '/'")
    found = match([route], method, path)
    if found is None:
        raise CommandError(
            f"{method} {path} is not a request {route.route_key} takes (a parameter is one "
            "path segment: write a '/' inside one as %2F)"
        )
    return method, path.split("?", 1)[0], found[1]


def register(server: HandlerLensServer) -> None:
    """Wire REQUEST_ROUTES and SERVER_SEND_REQUEST."""

    @server.feature(protocol.REQUEST_ROUTES)
    async def routes(ls: HandlerLensServer, params: Any) -> list[protocol.RouteInfo]:
        try:
            await asyncio.wait_for(ls.ready.wait(), READY_WAIT_SECONDS)
        except asyncio.TimeoutError:
            return []
        uri = getattr(params, "uri", None) if params is not None else None
        path = to_path(uri) if isinstance(uri, str) else None
        if isinstance(uri, str) and path is None:
            return []  # not a file
        return routes_in(ls, path)

    @server.command(protocol.SERVER_SEND_REQUEST)
    async def send_request(ls: HandlerLensServer, *args: Any) -> protocol.RunResult | None:
        from handlerlens.lsp.route_events import (
            gateway_answer,
            gateway_event,
            gateway_refusal,
            incoming_request,
        )

        try:
            params = _arg(args)
            route, spec = find_route(ls, params.get("route"))
            method, path, path_params = request_target(route, params)
            headers = params.get("headers") or {}
            if not isinstance(headers, dict):
                raise CommandError("headers must be an object of names to values")
            headers = {str(k): str(v) for k, v in headers.items()}
            query = str(params.get("query") or "").lstrip("?")
            body = str(params.get("body") or "")
            # While the app runs, the request goes to it over HTTP: the gateway's own answer.
            app = ls.runners.app.running(route.declared_in)
            if app is None:
                # Else the gateway's checks come first: a body over its limit never runs.
                incoming = incoming_request(method, query, headers, body)
                refused = gateway_refusal(route, spec.platform, incoming)
                if refused is not None:
                    return refused_result(route, refused.reply, refused.why or "")
            managed = None if app is not None else await ls.runners.ensure(spec)
            event = gateway_event(
                route,
                spec.platform,
                method,
                path,
                path_params,
                query=query,
                headers=headers,
                body=body,
                port=app.process.port if app is not None else managed.process.port,  # type: ignore[union-attr]
            )
            if app is not None:
                return await app_request(ls, app, route, spec, method, params, event)
            assert managed is not None
            result = await managed.process.invoke(event, spec.name)
        except Exception as exc:
            fail_message(ls, exc)
            return None
        answer = run_result(spec, result, managed.process.url)
        duration = (result.report or {}).get("durationMs")
        gateway = gateway_answer(
            route,
            spec.platform,
            incoming,
            result.body,
            result.function_error,
            float(duration) if isinstance(duration, (int, float)) else None,
        )
        answer["http"] = http_response(route, gateway.reply, gateway.why)
        if gateway.why:
            # As serve's log says it for the same request.
            answer["logs"] = [*answer["logs"], f"handlerlens: {spec.name}: {gateway.why}"]
        answer["event"] = event
        return answer

    @server.command(protocol.SERVER_START_APP)
    async def start_app(ls: HandlerLensServer, *args: Any) -> protocol.AppResult | None:
        try:
            params = _arg(args)
            root = app_root(ls, params)
            port = params.get("port") or 0
            if not isinstance(port, int) or not 0 <= port < 65536:
                raise CommandError(f"port must be a number from 0 to 65535, not {port!r}")
            debug = params.get("debug") or False
            if not isinstance(debug, bool):
                raise CommandError(f"debug must be true or false, not {debug!r}")
            settings = ls.settings
            app = await ls.runners.app.start(
                root,
                port=port,
                timeout=settings.runner_timeout if settings else None,
                debug=debug,
            )
        except Exception as exc:
            fail_message(ls, exc)
            return None
        result = protocol.AppResult(
            root=app.root, url=app.process.url, port=app.process.port, routes=app.routes
        )
        if app.debug_port:
            # Loaded under Debug App only (it loads the debugger's protocol).
            from handlerlens.runner.debugger import attach_configuration

            name = f"Debug app {os.path.basename(app.root) or app.root}"
            result["debugPort"] = app.debug_port
            result["debugConfiguration"] = attach_configuration(app.debug_port, name)
        return result

    @server.command(protocol.SERVER_STOP_APP)
    async def stop_app(ls: HandlerLensServer, *args: Any) -> bool:
        try:
            root = app_root(ls, _arg(args))
        except CommandError as exc:
            fail_message(ls, exc)
            return False
        return await ls.runners.app.stop(root)


def http_response(route: Route, reply: HttpReply, why: str | None) -> protocol.HttpResponse:
    """The response view's HTTP answer: what the route's gateway sends back."""
    from handlerlens.lsp.route_events import trigger_of

    return reply_view(reply, trigger_of(route), why)


def _gateway_result(
    status: int,
    headers: list[tuple[str, str]],
    body: bytes,
    request_id: str,
    report: dict[str, Any],
    logs: list[str],
) -> protocol.RunResult:
    """The view's result for an answer the gateway gave (the function's own return value is
    not seen): the body as text, and as JSON if it is JSON; `report`'s measurements."""
    text = body.decode("utf-8", "replace")
    try:
        parsed = json.loads(text) if text else None
    except ValueError:
        parsed = None
    lowered = {name.lower(): value for name, value in headers}
    return result_view(status, lowered, text, parsed, False, request_id, report, logs)


def refused_result(route: Route, reply: HttpReply, why: str) -> protocol.RunResult:
    """The answer of a request the gateway refused: the function never ran."""
    result = _gateway_result(
        reply.status, reply.headers, reply.body, "", {}, [f"handlerlens: {why}"]
    )
    result["http"] = http_response(route, reply, why)
    return result


def app_root(server: HandlerLensServer, params: dict[str, Any]) -> str:
    """The workspace folder `params['root']` names (a path or a file URI); without one, the
    only folder."""
    given = params.get("root")
    roots = list(server.workspaces)
    if given is None or given == "":
        if len(roots) == 1:
            return roots[0]
        raise CommandError("say which workspace folder's app: {root: <folder>}")
    path = to_path(str(given)) if str(given).startswith("file:") else str(given)
    if path is None or not os.path.isdir(path):
        raise CommandError(f"{given!r} is not a folder")
    return os.path.abspath(path)


async def app_request(
    server: HandlerLensServer,
    app: Any,
    route: Route,
    spec: FunctionSpec,
    method: str,
    params: dict[str, Any],
    event: Any,
) -> protocol.RunResult:
    """One route request over the running app's HTTP port: the gateway's own answer."""
    from handlerlens.lsp.route_events import trigger_of

    path = str(params.get("path") or "/")
    query = str(params.get("query") or "").lstrip("?")
    target = path + (f"?{query}" if query else "")
    headers = {str(k): str(v) for k, v in (params.get("headers") or {}).items()}
    if route.kind == "function-url" and route.function is not None:
        # A Function URL owns its own host (the route table's URL).
        headers["Host"] = f"{route.function.lower()}.localhost:{app.process.port}"
    body = str(params.get("body") or "").encode("utf-8")
    if body and not any(name.lower() == "content-type" for name in headers):
        # As the event the view shows says (route_events.incoming_request): a JSON body.
        headers["Content-Type"] = "application/json"
    answer = await server.runners.app.request(app, method, target, headers, body, spec.name)
    result = _gateway_result(
        answer.status,
        answer.headers,
        answer.body,
        answer.request_id,
        answer.report or {},
        answer.logs,
    )
    result["url"] = f"{app.process.url}{target}"
    result["http"] = protocol.HttpResponse(
        status=answer.status,
        reason=answer.reason,
        headers=answer.headers,
        bodyBase64=base64.b64encode(answer.body).decode("ascii"),
        trigger=trigger_of(route),
        warning=None,
    )
    result["event"] = event
    result["viaApp"] = True
    return result
