"""A second floor: HandlerLens's own HTTP server and Yandex emulation, in one process.

The same front end (`handlerlens.runner.http_server`), the same event builder, context,
marshalling, proxy-response mapping and START/END/REPORT lines as `handlerlens serve`, but the
handler is called in this process: no worker process, no pipe, no supervisor. The gap between
this and `handlerlens serve` is what the process boundary costs (isolation, timeouts, crash
recovery, reloads); the gap between this and the plain asyncio floor is what the emulation costs.
Not a product: no timeouts, no reloads, no faults. Run: python bench/emulation_floor.py ROOT PORT
"""

from __future__ import annotations

import asyncio
import importlib
import sys
import time
from typing import Any

from handlerlens.platforms import runner_env, runner_logs, yandex_http_event, yandex_response
from handlerlens.platforms.http_reply import IncomingRequest
from handlerlens.runner import http_server
from handlerlens.runner.http_messages import Respond, Response
from handlerlens.runner.http_server import Handler, Request
from handlerlens.runner.status import Status
from handlerlens.worker.contexts import YandexContext
from handlerlens.worker.marshal import marshal_yandex

MEMORY_MB = 128
TIMEOUT_S = 3
STATIC = {
    "function_name": "floor",
    "function_version": "v0",
    "invoked_function_arn": "floor",
    "log_group_name": "floor",
    "log_stream_name": "floor",
    "memory_limit_in_mb": MEMORY_MB,
}


def _app(handler: Any, status: Status) -> Handler:
    def handle(request: Request, respond: Respond) -> None:
        rid = runner_env.request_id()
        incoming = IncomingRequest(
            request.method,
            request.query,
            request.headers,
            request.body or b"",
            request.client[0],
            request.client[1],
        )
        event = yandex_http_event.build_event(incoming, rid, runner_env.request_id(), time.time())
        started = time.perf_counter()
        status.human(runner_logs.start_line("yandex", rid, "v0"))
        context = YandexContext(rid, int(time.time() * 1000) + TIMEOUT_S * 1000, STATIC)
        try:
            kind, payload = marshal_yandex(handler(event, context))
            reply, _ = yandex_response.map_proxy_response(kind, payload)
        except Exception as exc:  # the floor still answers, as a runner would
            reply = yandex_response.function_error({"errorMessage": str(exc)})
        respond(Response(reply.status, [*reply.headers, ("X-Request-Id", rid)], reply.body))
        duration = (time.perf_counter() - started) * 1000.0
        status.human(runner_logs.end_line("yandex", rid))
        status.human(
            runner_logs.report_line("yandex", rid, duration, MEMORY_MB, MEMORY_MB, None, 0.0)
        )

    return handle


async def _serve(root: str, port: int) -> None:
    sys.path.insert(0, root)
    handler = importlib.import_module("main").handler
    await http_server.serve(_app(handler, Status(False)), "127.0.0.1", port, 4 * 1024 * 1024)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(_serve(sys.argv[1], int(sys.argv[2])))
