"""The Debug lens's server side: a runner under debugpy, and a configuration that attaches."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types as lsp
from pytest_lsp import LanguageClient

from tests.debug.dap import INITIALIZE_ARGS, Editor, Session
from tests.lsp.conftest import running_server, wait_for_diagnostics


async def _execute(client: LanguageClient, command: str, arg: dict[str, Any]) -> Any:
    return await client.workspace_execute_command_async(
        lsp.ExecuteCommandParams(command=command, arguments=[arg])
    )


async def _greeter(client: LanguageClient, examples: Path) -> dict[str, Any]:
    await wait_for_diagnostics(client, examples / "orders" / "template.yaml")
    functions = await _execute(client, "handlerlens.server.listFunctions", {})
    (greeter,) = [f for f in functions if f["name"] == "greeter"]
    return dict(greeter)


@pytest.mark.timeout(60)
async def test_debug_starts_the_runner_under_debugpy_and_returns_an_attach_configuration(
    examples: Path,
) -> None:
    states: list[Any] = []
    async with running_server(examples) as client:
        client.feature("handlerlens/runnerState")(lambda params: states.append(params))
        ref = await _greeter(client, examples)
        result = await _execute(client, "handlerlens.server.debug", {"function": ref})
        assert result is not None
        port = result["debugPort"]
        configuration = result["debugConfiguration"]
        assert configuration["type"] == "handlerlens"
        assert configuration["request"] == "attach"
        assert configuration["connect"] == {"host": "127.0.0.1", "port": port}
        assert configuration["justMyCode"] is True and configuration["subProcess"] is True
        assert result["url"] == f"http://127.0.0.1:{result['port']}"
        # The port is debugpy's adapter: it answers a DAP initialize.
        session = await asyncio.to_thread(Session, "127.0.0.1", port, "probe")
        try:
            capabilities = await asyncio.to_thread(session.request, "initialize", INITIALIZE_ARGS)
        finally:
            await asyncio.to_thread(session.close)
        # A second Debug reuses the runner under the debugger.
        again = await _execute(client, "handlerlens.server.debug", {"function": ref})
    assert capabilities["supportsConfigurationDoneRequest"] is True
    assert again["debugPort"] == port
    assert [(s.state, getattr(s, "debugPort", None)) for s in states[:2]] == [
        ("starting", None),
        ("debugging", port),
    ]


@pytest.mark.timeout(90)
async def test_the_returned_configuration_stops_a_run_at_a_breakpoint(examples: Path) -> None:
    main = examples / "greeter" / "main.py"
    async with running_server(examples) as client:
        ref = await _greeter(client, examples)
        plain = await _execute(
            client, "handlerlens.server.run", {"function": ref, "event": {"name": "plain"}}
        )
        assert plain["status"] == 200
        result = await _execute(client, "handlerlens.server.debug", {"function": ref})
        # The editor's part: attach with the configuration as returned, breakpoint on line 7.
        editor = Editor(result["debugPort"], {str(main): [7]}, result["debugConfiguration"])
        await asyncio.to_thread(editor.attach)
        try:
            run = asyncio.ensure_future(
                _execute(
                    client,
                    "handlerlens.server.run",
                    {"function": ref, "event": {"queryStringParameters": {"name": "Ada"}}},
                )
            )
            stop = await asyncio.to_thread(editor.wait_stop, 0, 30.0)
            assert (stop.path, stop.line, stop.name) == (str(main), 7, "handler")
            assert [f["name"] for f in stop.frames] == ["handler"]
            await asyncio.to_thread(editor.resume, stop)
            response = await asyncio.wait_for(run, 20)
        finally:
            await asyncio.to_thread(editor.close)
    assert response["status"] == 200
    assert json.loads(response["json"]["body"])["greeting"] == "Hello, Ada!"


@pytest.mark.timeout(90)
async def test_a_function_keeps_its_port_after_a_debug_session_and_a_stop(examples: Path) -> None:
    """Issue #21 item 8: a copied URL keeps working for the session; a port taken meanwhile
    is said in the function's log and another is used."""
    import socket

    logs: list[Any] = []
    async with running_server(examples) as client:
        client.feature("handlerlens/log")(lambda params: logs.append(params))
        ref = await _greeter(client, examples)
        started = await _execute(client, "handlerlens.server.startRunner", {"function": ref})
        port = started["port"]
        # Debug restarts the runner under debugpy: on the same port.
        debugged = await _execute(client, "handlerlens.server.debug", {"function": ref})
        assert debugged["port"] == port and debugged["url"] == f"http://127.0.0.1:{port}"
        assert debugged["debugPort"] != port
        # Stopped, then started again (a plain runner once more): the same port.
        assert await _execute(client, "handlerlens.server.stopRunner", {"function": ref})
        again = await _execute(client, "handlerlens.server.startRunner", {"function": ref})
        assert again["port"] == port
        run = await _execute(
            client, "handlerlens.server.run", {"function": ref, "event": {"name": "same"}}
        )
        assert run["status"] == 200
        # Something else takes the port while the runner is stopped: another port, and why.
        assert await _execute(client, "handlerlens.server.stopRunner", {"function": ref})
        with socket.socket() as squatter:
            squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            squatter.bind(("127.0.0.1", port))
            squatter.listen()
            moved = await _execute(client, "handlerlens.server.startRunner", {"function": ref})
        assert moved["port"] not in (0, port)
        for _ in range(50):
            said = [p.line for p in logs if f"port {port} is taken" in p.line]
            if said:
                break
            await asyncio.sleep(0.1)
        assert said and f"served on port {moved['port']} instead" in said[0]
        # From then on the new port is the function's.
        assert await _execute(client, "handlerlens.server.stopRunner", {"function": ref})
        last = await _execute(client, "handlerlens.server.startRunner", {"function": ref})
        assert last["port"] == moved["port"]
