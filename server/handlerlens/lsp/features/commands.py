"""Server commands behind the Run lens: list functions and events, run, start/stop runners."""

from __future__ import annotations

import base64
import json
import os
from typing import TYPE_CHECKING, Any

from lsprotocol import types as lsp

from handlerlens.core.model import FunctionSpec
from handlerlens.lsp import protocol
from handlerlens.lsp.runners import events_folder
from handlerlens.lsp.server import HandlerLensServer
from handlerlens.platforms.sample_events import list_samples, sample_event
from handlerlens.platforms.triggers import DEFAULT_TRIGGER, HTTP_PROXY_TRIGGERS

if TYPE_CHECKING:
    from handlerlens.platforms.http_reply import HttpReply
    from handlerlens.runner.client import InvokeResult

MAX_EVENT_FILE_BYTES = 6 * 1024 * 1024


class CommandError(Exception):
    """A command's arguments or state are wrong; the message is for the user."""


def _arg(args: tuple[Any, ...]) -> dict[str, Any]:
    # pygls passes executeCommand's `arguments` as positional parameters.
    if len(args) == 1 and isinstance(args[0], dict):
        return args[0]
    if len(args) == 1 and isinstance(args[0], list) and args[0] and isinstance(args[0][0], dict):
        return args[0][0]
    raise CommandError("expected one object argument")


def _function_ref(params: dict[str, Any]) -> dict[str, Any]:
    ref = params.get("function", params)
    if not isinstance(ref, dict) or not isinstance(ref.get("name"), str):
        raise CommandError("expected {function: {name, root, …}}")
    return ref


def find_spec(server: HandlerLensServer, ref: dict[str, Any]) -> tuple[FunctionSpec, str]:
    """The declared function a FunctionRef names, and its workspace root."""
    root = str(ref.get("root") or "")
    for ws_root, ws in server.workspaces.items():
        for spec in ws.functions:
            if spec.name == ref["name"] and (not root or spec.root == root):
                return spec, ws_root
    raise CommandError(
        f"no function named {ref['name']!r} is declared in this workspace (any more)"
    )


def _event_files(workspace_root: str, spec: FunctionSpec, events_dir: str) -> list[str]:
    """The function's saved event files in the workspace's events folder."""
    from handlerlens.replay.events import event_files

    try:
        folder = events_folder(workspace_root, spec.name, events_dir)
    except ValueError:  # a function name that would climb out of the events folder
        return []
    return event_files(folder)


def _saved_events(
    workspace_root: str, spec: FunctionSpec, events_dir: str
) -> list[protocol.EventItem]:
    out: list[protocol.EventItem] = []
    for path in _event_files(workspace_root, spec, events_dir):
        name = os.path.basename(path)
        try:
            if os.path.getsize(path) > MAX_EVENT_FILE_BYTES:
                continue
            with open(path, encoding="utf-8") as f:
                event = json.load(f)
        except (OSError, ValueError):
            continue
        out.append(protocol.EventItem(label=name[:-5], source="saved", path=path, event=event))
    return out


def list_events(server: HandlerLensServer, ref: dict[str, Any]) -> list[protocol.EventItem]:
    """Saved events of the function, then the samples (its own trigger's first)."""
    spec, ws_root = find_spec(server, ref)
    trigger = spec.trigger or DEFAULT_TRIGGER[spec.platform]
    samples = sorted(list_samples(spec.platform), key=lambda s: s[0] != trigger)
    return [
        *_saved_events(ws_root, spec, server.settings.events_folder),
        *(
            protocol.EventItem(
                label=title, source="sample", trigger=tid, event=sample_event(spec.platform, tid)
            )
            for tid, title in samples
        ),
    ]


def _event_for(
    server: HandlerLensServer, spec: FunctionSpec, ws_root: str, params: dict[str, Any]
) -> Any:
    if "event" in params:
        return params["event"]
    if "eventPath" in params:
        folder = events_folder(ws_root, spec.name, server.settings.events_folder)
        path = os.path.realpath(os.path.join(folder, str(params["eventPath"])))
        if os.path.commonpath([folder, path]) != folder:
            raise CommandError(f"event file {params['eventPath']!r} is outside {folder}")
        try:
            with open(path, encoding="utf-8") as f:
                return json.load(f)
        except (OSError, ValueError) as exc:
            raise CommandError(f"cannot read event file {path}: {exc}") from exc
    return sample_event(spec.platform, spec.trigger or DEFAULT_TRIGGER[spec.platform])


def http_view(
    spec: FunctionSpec, result: InvokeResult, via: str | None = None
) -> protocol.HttpResponse | None:
    """What the caller of an HTTP-triggered function gets for this invocation: the platform's
    own mapping (the runner's, `platforms.*_response`) of the return value to an HTTP response.
    None when the function is not reached over HTTP, or when no trigger is declared and the
    value is no HTTP response (a guess of the trigger would misread it). `via`: the trigger
    the request came through (a route's gateway), whatever the function declares."""
    from handlerlens.platforms import aws_http_event, aws_response, yandex_response

    trigger = via or spec.trigger or DEFAULT_TRIGGER[spec.platform]
    if trigger not in HTTP_PROXY_TRIGGERS.get(spec.platform, frozenset()):
        return None
    value = result.json
    http_shaped = isinstance(value, dict) and "statusCode" in value
    if not (http_shaped or result.function_error or spec.trigger or via):
        return None
    payload = result.body.encode("utf-8", "surrogatepass")
    warning = None
    if spec.platform == "yandex":
        if not result.function_error:
            reply, warning = yandex_response.map_proxy_response("json", payload)
        elif isinstance(value, dict) and value.get("errorType") == "Timeout":
            reply = yandex_response.timeout()
        else:
            reply = yandex_response.function_error(value if isinstance(value, dict) else {})
    else:
        version = aws_http_event.payload_version(trigger)
        if result.function_error:
            reply = aws_response.function_error(version)
        else:
            reply = aws_response.map_response(version, "json", payload)
    return reply_view(reply, trigger, warning)


def reply_view(reply: HttpReply, trigger: str, warning: str | None) -> protocol.HttpResponse:
    """A platform's HTTP reply as the response view shows it (reached through `trigger`)."""
    try:
        import http

        reason = http.HTTPStatus(reply.status).phrase
    except ValueError:
        reason = ""
    return protocol.HttpResponse(
        status=reply.status,
        reason=reason,
        headers=[(name, value) for name, value in reply.headers],
        bodyBase64=base64.b64encode(reply.body).decode("ascii"),
        trigger=trigger,
        warning=warning,
    )


def expected_view(result: InvokeResult) -> dict[str, Any]:
    """The response in the terms of `<name>.expected.json` (what `handlerlens test --update
    --update-errors` would write for it as a new file)."""
    from handlerlens.replay.expect import actual_view, updated_expected

    return updated_expected(None, actual_view(result.json, result.function_error))


def fail_message(server: HandlerLensServer, exc: Exception) -> None:
    """A command's failure, shown to the user (the command then answers None)."""
    server.window_show_message(
        lsp.ShowMessageParams(type=lsp.MessageType.Error, message=f"HandlerLens: {exc}")
    )


def run_result(
    spec: FunctionSpec, result: InvokeResult, url: str, via: str | None = None
) -> protocol.RunResult:
    """The answer of SERVER_RUN (and SERVER_SEND_REQUEST: `via` the route's trigger)."""
    view = result_view(
        result.status,
        result.headers,
        result.body,
        result.json,
        result.function_error,
        result.request_id or "",
        result.report or {},
        [str(line.get("line", "")) for line in result.logs],
    )
    view["url"] = url
    view["http"] = http_view(spec, result, via)
    view["expected"] = expected_view(result)
    return view


def result_view(
    status: int,
    headers: dict[str, str],
    body: str,
    parsed: Any,
    function_error: bool,
    request_id: str,
    report: dict[str, Any],
    logs: list[str],
) -> protocol.RunResult:
    """What every RunResult says: the response (`parsed`: its body as JSON), the runner's
    measurements (None where `report` has none) and the log lines."""
    return protocol.RunResult(
        status=status,
        headers=headers,
        body=body,
        json=parsed,
        functionError=function_error,
        requestId=request_id,
        durationMs=report.get("durationMs"),
        billedMs=report.get("billedMs"),
        memoryMb=report.get("memoryMb"),
        maxMemoryMb=report.get("maxMemoryMb"),
        initMs=report.get("initMs"),
        logs=logs,
    )


def register(server: HandlerLensServer) -> None:
    """Wire the server's workspace/executeCommand commands."""
    manager = server.runners

    def fail(exc: Exception) -> None:
        fail_message(server, exc)

    @server.command(protocol.SERVER_LIST_FUNCTIONS)
    def list_functions(ls: HandlerLensServer, *args: Any) -> list[protocol.FunctionInfo]:
        return [
            protocol.FunctionInfo(
                name=s.name,
                platform=s.platform,
                entry=s.entry,
                root=s.root,
                trigger=s.trigger or DEFAULT_TRIGGER[s.platform],
                declaredIn=s.declared_in,
            )
            for ws in ls.workspaces.values()
            for s in ws.functions
            if s.code_on_disk  # inline or zipped code cannot be run
        ]

    @server.command(protocol.SERVER_LIST_EVENTS)
    def list_events_cmd(ls: HandlerLensServer, *args: Any) -> list[protocol.EventItem] | None:
        try:
            return list_events(ls, _function_ref(_arg(args)))
        except CommandError as exc:
            fail(exc)
            return None

    @server.command(protocol.SERVER_RUN)
    async def run(ls: HandlerLensServer, *args: Any) -> protocol.RunResult | None:
        try:
            params = _arg(args)
            spec, ws_root = find_spec(ls, _function_ref(params))
            event = _event_for(ls, spec, ws_root, params)
            managed = await manager.ensure(spec)
            result = await managed.process.invoke(event, spec.name)
        except Exception as exc:
            fail(exc)
            return None
        return run_result(spec, result, managed.process.url)

    @server.command(protocol.SERVER_START_RUNNER)
    async def start_runner(ls: HandlerLensServer, *args: Any) -> dict[str, Any] | None:
        try:
            spec, _ = find_spec(ls, _function_ref(_arg(args)))
            managed = await manager.ensure(spec)
        except Exception as exc:
            fail(exc)
            return None
        return {"url": managed.process.url, "port": managed.process.port}

    @server.command(protocol.SERVER_STOP_RUNNER)
    async def stop_runner(ls: HandlerLensServer, *args: Any) -> bool:
        try:
            spec, _ = find_spec(ls, _function_ref(_arg(args)))
        except CommandError as exc:
            fail(exc)
            return False
        return await manager.stop(spec.root, spec.name)

    @server.feature(lsp.SHUTDOWN)
    async def shutdown(ls: HandlerLensServer, params: None) -> None:
        await manager.stop_all()
