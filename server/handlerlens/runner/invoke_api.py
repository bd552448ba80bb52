"""The AWS Lambda Invoke API on the runner (POST /2015-03-31/functions/<name>/invocations):
the parameters checked as Lambda checks them (platforms/aws_invoke_api.py), the function run,
its result or failure answered in the Invoke API's form, its log tail if asked for.
runner/app.py routes the requests here.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
from typing import Any
from urllib.parse import parse_qs

from handlerlens.platforms import aws_invoke_api, runner_env
from handlerlens.runner.host import FunctionHost
from handlerlens.runner.http_messages import Response, not_run, to_response
from handlerlens.runner.http_server import Request


async def answer(
    request: Request,
    raw_name: str,
    hosts: dict[str, FunctionHost],
    background: set[asyncio.Task[Any]],
) -> Response:
    """The Invoke API's answer to a POST to /2015-03-31/functions/<raw_name>/invocations,
    run on one of `hosts` (an `Event` invocation runs on in a task kept in `background`)."""
    name, qualifier = aws_invoke_api.parse_function_name(raw_name)
    query = parse_qs(request.query)
    if query.get("Qualifier"):
        qualifier = query["Qualifier"][0]
    host = aws_invoke_api.select(name, hosts, lambda host: host.fn.function_name)
    if host is None or qualifier not in (None, "", aws_invoke_api.LATEST):
        return to_response(aws_invoke_api.not_found(name))
    invocation_type = request.header("X-Amz-Invocation-Type") or "RequestResponse"
    if invocation_type not in aws_invoke_api.INVOCATION_TYPES:
        return to_response(
            aws_invoke_api.invalid_parameter(
                f"Unsupported invocation type {invocation_type!r}; use one of "
                + ", ".join(aws_invoke_api.INVOCATION_TYPES)
            )
        )
    refused = aws_invoke_api.refuse_payload(invocation_type, request.body, request.body_size)
    if refused is not None:
        return to_response(refused)
    payload = request.body or b"{}"
    try:
        json.loads(payload)
    except ValueError as exc:
        return to_response(aws_invoke_api.invalid_content(str(exc)))
    extra: dict[str, Any] = {"traceId": request.header("X-Amzn-Trace-Id") or runner_env.trace_id()}
    client_context = request.header("X-Amz-Client-Context")
    if client_context:
        try:
            extra["clientContext"] = json.loads(base64.b64decode(client_context))
        except (ValueError, binascii.Error):
            return to_response(
                aws_invoke_api.invalid_content("X-Amz-Client-Context is not base64 JSON")
            )
    tenant = request.header("X-Amz-Tenant-Id")
    if tenant:
        extra["tenantId"] = tenant
    if invocation_type == "DryRun":
        # Parameters checked, nothing run: not even an init error is DryRun's answer
        # (PLATFORMS.md §7.3 Corrections, audit A62).
        return to_response(aws_invoke_api.dry_run())
    if invocation_type == "Event":
        task = asyncio.get_running_loop().create_task(host.invoke(payload, extra=extra))
        background.add(task)
        task.add_done_callback(background.discard)
        return to_response(aws_invoke_api.accepted())
    want_log = (request.header("X-Amz-Log-Type") or "None") == "Tail"
    outcome = await host.invoke(payload, extra=extra, want_log=want_log, gone=request.client_gone)
    request_id_header = ("x-amzn-RequestId", outcome.request_id)
    if outcome.status == "gone":
        return not_run(outcome, request_id_header)
    log_result = None
    if want_log:
        tail = "\n".join(outcome.log_lines).encode("utf-8", "replace") + b"\n"
        log_result = base64.b64encode(tail[-aws_invoke_api.LOG_TAIL_BYTES :]).decode()
    if outcome.status == "ok":
        reply = host.face.invoke_success(outcome.kind, outcome.payload, log_result)
    else:
        reply = host.face.invoke_failure(outcome.status, outcome.error, outcome.detail, log_result)
    return to_response(reply, request_id_header)
