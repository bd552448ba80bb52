"""Start App in the editor, server side: `handlerlens.server.startApp` runs `handlerlens serve`
on the workspace folder (every function behind its routes, one port), its state and route
table arrive as `handlerlens/appState`, a route's "Send request" goes over HTTP to that port
(the gateway's answer, not a mapped Invoke API result), and `stopApp` stops it."""

from __future__ import annotations

import asyncio
import base64
import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from lsprotocol import types as lsp
from pytest_lsp import LanguageClient

from tests.lsp.conftest import plain, routes, running_server, send, wait_for_diagnostics
from tests.routes_fixtures import YANDEX_GREETER, sam_event, sam_function, sam_template

APP = """\
import json


def get_item(event, context):
    print("getting", event["pathParameters"]["id"])
    return {"statusCode": 200, "headers": {"content-type": "application/json"},
            "body": json.dumps({"id": event["pathParameters"]["id"],
                                "stage": event["requestContext"]["stage"]})}


def bad(event, context):
    return {"statusCode": 200, "body": {"not": "a string"}}
"""

TEMPLATE = sam_template(
    sam_function("GetItem", "app.get_item", sam_event("Get", "Api", "/items/{id}")),
    sam_function("Bad", "app.bad", sam_event("Get", "Api", "/bad")),
)


def project(tmp_path: Path) -> Path:
    (tmp_path / "template.yaml").write_text(TEMPLATE)
    (tmp_path / "app.py").write_text(APP)
    return tmp_path


async def command(client: LanguageClient, name: str, arg: dict[str, Any]) -> Any:
    return await client.workspace_execute_command_async(
        lsp.ExecuteCommandParams(command=name, arguments=[arg])
    )


async def until(predicate: Any, what: str, timeout: float = 15.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"never saw {what}")
        await asyncio.sleep(0.02)


def get(url: str) -> tuple[int, bytes]:
    """(status, body); (0, b"") when nothing listens."""
    try:
        with urllib.request.urlopen(url, timeout=10) as reply:
            return reply.status, reply.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except (urllib.error.URLError, ConnectionError):
        return 0, b""


async def test_start_app_routes_requests_and_stop(tmp_path: Path) -> None:
    root = project(tmp_path)
    template = root / "template.yaml"
    async with running_server(root) as client:
        states: list[dict[str, Any]] = []
        logs: list[dict[str, Any]] = []
        client.feature("handlerlens/appState")(lambda params: states.append(plain(params)))
        client.feature("handlerlens/log")(lambda params: logs.append(plain(params)))
        await wait_for_diagnostics(client, template, lambda d: True)
        get_item, bad = await routes(client, template.as_uri())

        started = plain(await command(client, "handlerlens.server.startApp", {"root": str(root)}))
        port = started["port"]
        assert started["url"] == f"http://127.0.0.1:{port}"
        await until(lambda: any(s.get("routes") for s in states), "the routes event")
        table = next(s for s in states if s.get("routes"))
        assert table["state"] == "running" and table["port"] == port
        assert table["root"] == str(root)
        assert sorted((r["routeKey"], r["function"]) for r in table["routes"]) == [
            ("GET /bad", "Bad"),
            ("GET /items/{id}", "GetItem"),
        ]
        assert [s["state"] for s in states][:2] == ["starting", "running"]
        # Starting it again is the same app.
        again = plain(await command(client, "handlerlens.server.startApp", {"root": str(root)}))
        assert again["port"] == port

        # Send request goes to the app's port: the gateway's event (stage Prod) and answer.
        item = await send(client, {"route": get_item, "path": "/items/42"})
        assert item["status"] == 200 and item["url"] == f"http://127.0.0.1:{port}/items/42"
        assert json.loads(base64.b64decode(item["http"]["bodyBase64"])) == {
            "id": "42",
            "stage": "Prod",
        }
        assert item["http"]["trigger"] == "api-gateway-rest"
        assert item["viaApp"] is True and "expected" not in item
        assert any("getting 42" in line for line in item["logs"])
        assert item["requestId"] and item["durationMs"] is not None
        # A response the REST API rejects is its 502, as deployed.
        rejected = await send(client, {"route": bad, "path": "/bad"})
        assert rejected["status"] == 502
        assert json.loads(base64.b64decode(rejected["http"]["bodyBase64"])) == {
            "message": "Internal server error"
        }
        # The port is the real gateway: a path no route takes is REST's 403.
        status, body = await asyncio.to_thread(get, f"http://127.0.0.1:{port}/nowhere")
        assert (status, json.loads(body)) == (403, {"message": "Missing Authentication Token"})
        assert any(entry.get("function") == "GetItem" for entry in logs)

        stopped = await command(client, "handlerlens.server.stopApp", {"root": str(root)})
        assert stopped is True
        await until(lambda: states[-1]["state"] == "stopped", "the stopped state")
        assert await command(client, "handlerlens.server.stopApp", {"root": str(root)}) is False
        status, _ = await asyncio.to_thread(get, f"http://127.0.0.1:{port}/items/1")
        assert status == 0 or status >= 400  # closed, or someone else's port by now
        # Without the app, Send request runs the function in its own runner again.
        alone = await send(client, {"route": get_item, "path": "/items/7"})
        assert "viaApp" not in alone and alone["http"]["status"] == 200
        assert alone["url"] != f"http://127.0.0.1:{port}"
        # A second start asks for the port it had.
        restarted = plain(
            await command(client, "handlerlens.server.startApp", {"root": root.as_uri()})
        )
        assert restarted["port"] == port
        await command(client, "handlerlens.server.stopApp", {"root": str(root)})


async def test_start_app_on_a_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    root = project(tmp_path)
    async with running_server(root) as client:
        messages = client.messages
        result = await command(
            client, "handlerlens.server.startApp", {"root": str(root / "missing")}
        )
        assert result is None
        await until(lambda: bool(messages), "the error message")
        assert "is not a folder" in messages[0].message
        bad_port = await command(
            client, "handlerlens.server.startApp", {"root": str(root), "port": 70000}
        )
        assert bad_port is None
        await until(lambda: len(messages) > 1, "the port message")
        assert "port must be a number from 0 to 65535" in messages[1].message


CONFLICT = TEMPLATE.replace("Path: /bad", "Path: /items/{id}")


def app_pid(root: Path) -> int:
    """The app runner of `root` (its command line names the folder, unique to this test)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            args = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"handlerlens.runner" in args and str(root).encode() in args and b"serve" in args:
            return int(entry.name)
    raise AssertionError(f"no app runner for {root}")


async def test_route_problems_arrive_and_an_app_that_dies_says_so(tmp_path: Path) -> None:
    import os
    import signal

    root = tmp_path
    (root / "template.yaml").write_text(CONFLICT)
    (root / "app.py").write_text(APP)
    async with running_server(root) as client:
        states: list[dict[str, Any]] = []
        logs: list[dict[str, Any]] = []
        client.feature("handlerlens/appState")(lambda params: states.append(plain(params)))
        client.feature("handlerlens/log")(lambda params: logs.append(plain(params)))
        started = plain(await command(client, "handlerlens.server.startApp", {"root": str(root)}))
        assert started is not None
        await until(lambda: any(s.get("problems") for s in states), "the route problems")
        table = next(s for s in states if s.get("problems"))
        (problem,) = table["problems"]
        assert problem["severity"] == "error" and problem["path"].endswith("template.yaml")
        assert "/items/{id}" in problem["message"]
        # The first declaration answers, as the route table says.
        assert [(r["routeKey"], r["served"]) for r in table["routes"]][0] == (
            "GET /items/{id}",
            "GetItem",
        )
        # ... and the problem is in the output, with its place.
        await until(
            lambda: any("template.yaml:" in entry["line"] for entry in logs), "the problem's line"
        )

        os.kill(app_pid(root), signal.SIGKILL)
        await until(lambda: states[-1]["state"] == "error", "the app's exit")
        assert "the app exited" in states[-1]["message"]
        # Started again, it asks for the port it had.
        again = plain(await command(client, "handlerlens.server.startApp", {"root": str(root)}))
        assert again["port"] == started["port"]
        assert await command(client, "handlerlens.server.stopApp", {"root": str(root)}) is True


YANDEX_SPEC = """\
openapi: 3.0.0
info:
  title: greeter
  version: 1.0.0
paths:
  /hello/{name}:
    get:
      x-yc-apigateway-integration:
        type: cloud_functions
        function_id: greeter
"""

ECHO = """\
import json


def handler(event, context):
    return {"statusCode": 200, "body": json.dumps(event)}
"""


async def test_a_yandex_app_answers_send_request_with_its_gateways_event(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(YANDEX_GREETER)
    (tmp_path / "api.yaml").write_text(YANDEX_SPEC)
    (tmp_path / "app.py").write_text(ECHO)
    async with running_server(tmp_path) as client:
        await wait_for_diagnostics(client, tmp_path / "api.yaml", lambda d: True)
        (hello,) = await routes(client, (tmp_path / "api.yaml").as_uri())
        started = plain(
            await command(client, "handlerlens.server.startApp", {"root": str(tmp_path)})
        )
        result = await send(client, {"route": hello, "path": "/hello/Ada", "query": "x=1"})
        assert result["viaApp"] is True
        assert result["url"] == f"http://127.0.0.1:{started['port']}/hello/Ada?x=1"
        event = json.loads(base64.b64decode(result["http"]["bodyBase64"]))
        # The Yandex API Gateway's 0.1 event, from the app's own HTTP port.
        assert event["path"] == "/hello/{name}" and event["url"] == "/hello/Ada?x=1"
        assert event["params"] == {"name": "Ada"} and event["pathParams"] == {"name": "Ada"}
        assert event["queryStringParameters"] == {"x": "1"}
        assert await command(client, "handlerlens.server.stopApp", {"root": str(tmp_path)})


async def test_a_taken_port_moves_the_app_and_says_so(tmp_path: Path) -> None:
    import socket

    root = project(tmp_path)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        async with running_server(root) as client:
            logs: list[dict[str, Any]] = []
            client.feature("handlerlens/log")(lambda params: logs.append(plain(params)))
            started = plain(
                await command(
                    client, "handlerlens.server.startApp", {"root": str(root), "port": busy}
                )
            )
            assert started["port"] not in (0, busy)
            await until(lambda: any("is taken" in e["line"] for e in logs), "the moved line")
            line = next(e["line"] for e in logs if "is taken" in e["line"])
            assert f"port {busy} is taken" in line and str(started["port"]) in line
            status, _ = await asyncio.to_thread(get, f"http://127.0.0.1:{started['port']}/x")
            assert status == 403
            await command(client, "handlerlens.server.stopApp", {"root": str(root)})
