"""Debug App, server side: `handlerlens.server.startApp` with `{debug: true}` serves the whole
app under debugpy and answers the `attach` configuration for it; a DAP client attached with
it (the real debugpy, tests/debug/dap.py) stops at breakpoints in each function when "Send
request" goes to the app, and Stop App ends the debug session."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from tests.debug.dap import Editor
from tests.lsp.conftest import plain, routes, running_server, send, wait_for_diagnostics
from tests.lsp.test_app import command, get, until
from tests.routes_fixtures import sam_event, sam_function, sam_template

TEMPLATE = sam_template(
    sam_function("GetItem", "items.handler", sam_event("Get", "Api", "/items/{id}")),
    sam_function("Orders", "orders.handler", sam_event("Post", "HttpApi", "/orders", "post")),
    code_uri="src/",
)

ITEMS = """\
import json


def handler(event, context):
    item = event["pathParameters"]["id"]
    return {"statusCode": 200, "body": json.dumps({"item": item})}
"""
ORDERS = """\
import json


def handler(event, context):
    order = json.loads(event["body"])
    return {"statusCode": 201, "body": json.dumps({"order": order["n"]})}
"""
BREAK_LINE = 5


async def test_debug_app_attaches_to_the_whole_app_and_stop_app_ends_it(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    items, orders = tmp_path / "src" / "items.py", tmp_path / "src" / "orders.py"
    items.write_text(ITEMS)
    orders.write_text(ORDERS)
    template = tmp_path / "template.yaml"
    template.write_text(TEMPLATE)
    editor: Editor | None = None
    async with running_server(tmp_path) as client:
        states: list[dict[str, Any]] = []
        client.feature("handlerlens/appState")(lambda params: states.append(plain(params)))
        await wait_for_diagnostics(client, template, lambda d: True)
        get_item, post_order = await routes(client, template.as_uri())
        try:
            # Started plain first: Debug App starts it again under the debugger, same port.
            plain_app = plain(
                await command(client, "handlerlens.server.startApp", {"root": str(tmp_path)})
            )
            assert "debugPort" not in plain_app
            started = plain(
                await command(
                    client, "handlerlens.server.startApp", {"root": str(tmp_path), "debug": True}
                )
            )
            assert started["port"] == plain_app["port"]
            debug_port = started["debugPort"]
            configuration = started["debugConfiguration"]
            assert configuration["request"] == "attach" and configuration["subProcess"] is True
            assert configuration["connect"] == {"host": "127.0.0.1", "port": debug_port}
            assert configuration["name"] == f"Debug app {tmp_path.name}"
            await until(
                lambda: any(s.get("debugPort") == debug_port for s in states),
                "the app's state with its debugger",
            )
            # Start App again while it is under the debugger: the same app, still debugged.
            again = plain(
                await command(client, "handlerlens.server.startApp", {"root": str(tmp_path)})
            )
            assert again["debugPort"] == debug_port

            editor = Editor(
                debug_port,
                {str(items): [BREAK_LINE], str(orders): [BREAK_LINE]},
                configuration=configuration,
            )
            await asyncio.to_thread(editor.attach)
            asked = asyncio.ensure_future(send(client, {"route": get_item, "path": "/items/42"}))
            stop = await asyncio.to_thread(editor.wait_stop, 0, 60)
            assert (stop.path, stop.line, stop.name) == (str(items), BREAK_LINE, "handler")
            assert not asked.done()  # the request waits at the breakpoint
            await asyncio.to_thread(editor.resume, stop)
            answer = plain(await asyncio.wait_for(asked, 30))
            assert answer["viaApp"] is True
            assert (answer["status"], json.loads(answer["body"])) == (200, {"item": "42"})

            asked = asyncio.ensure_future(
                send(client, {"route": post_order, "path": "/orders", "body": '{"n": 7}'})
            )
            stop = await asyncio.to_thread(editor.wait_stop, 1, 60)
            assert (stop.path, stop.line) == (str(orders), BREAK_LINE)
            await asyncio.to_thread(editor.resume, stop)
            answer = plain(await asyncio.wait_for(asked, 30))
            assert (answer["status"], json.loads(answer["body"])) == (201, {"order": 7})
            assert len(editor.children) == 2  # one worker per function, each on its request

            # Stop App: the app ends, and with it the debug session the editor attached.
            assert await command(client, "handlerlens.server.stopApp", {"root": str(tmp_path)})
            parent = editor.parent
            assert parent is not None
            await until(lambda: parent.ended, "the debug session's end", timeout=20)
            assert get(f"http://127.0.0.1:{started['port']}/items/1") == (0, b"")
            assert editor.errors == []
        finally:
            if editor is not None:
                editor.close()
