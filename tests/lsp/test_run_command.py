"""The Run lens's server side: a real runner started by the server, invoked, then stopped."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from lsprotocol import types as lsp
from pytest_lsp import LanguageClient

from tests.lsp.conftest import open_document, running_server, wait_for_diagnostics


async def _execute(client: LanguageClient, command: str, arg: dict[str, Any]) -> Any:
    return await client.workspace_execute_command_async(
        lsp.ExecuteCommandParams(command=command, arguments=[arg])
    )


async def _greeter_ref(client: LanguageClient, examples: Path) -> dict[str, Any]:
    functions = await _execute(client, "handlerlens.server.listFunctions", {})
    (greeter,) = [f for f in functions if f["name"] == "greeter"]
    assert greeter["platform"] == "yandex"
    assert greeter["root"] == str(examples / "greeter")
    return dict(greeter)


async def test_run_invokes_the_handler_in_a_real_runner(examples: Path) -> None:
    states: list[dict[str, Any]] = []
    async with running_server(examples) as client:
        client.feature("handlerlens/runnerState")(lambda params: states.append(params))
        open_document(client, examples / "greeter" / "main.py")
        await wait_for_diagnostics(client, examples / "orders" / "template.yaml")
        ref = await _greeter_ref(client, examples)
        result = await _execute(
            client,
            "handlerlens.server.run",
            {"function": ref, "event": {"queryStringParameters": {"name": "Ada"}}},
        )
        runner_pid_states = list(states)
    assert result["status"] == 200
    assert result["functionError"] is False
    response = result["json"]
    assert response["statusCode"] == 200
    assert json.loads(response["body"])["greeting"] == "Hello, Ada!"
    assert json.loads(response["body"])["requestId"] == result["requestId"]
    assert result["durationMs"] is not None and result["billedMs"] >= result["durationMs"]
    assert result["memoryMb"] == 128
    assert any(
        line.startswith(f"START RequestID: {result['requestId']}") for line in result["logs"]
    )
    assert any(
        line.startswith(f"REPORT RequestID: {result['requestId']}") for line in result["logs"]
    )
    assert [s.state for s in runner_pid_states][:2] == ["starting", "running"]
    assert runner_pid_states[1].url.startswith("http://127.0.0.1:")


async def test_a_save_that_breaks_the_code_shows_the_error_as_people_read_it(
    examples: Path,
) -> None:
    states: list[Any] = []
    main = examples / "greeter" / "main.py"
    async with running_server(examples) as client:
        client.feature("handlerlens/runnerState")(lambda params: states.append(params))
        open_document(client, main)
        await wait_for_diagnostics(client, examples / "orders" / "template.yaml")
        ref = await _greeter_ref(client, examples)
        result = await _execute(client, "handlerlens.server.run", {"function": ref, "event": {}})
        assert result["status"] == 200
        main.write_text(main.read_text().replace("def handler(event, context):", "def handler("))
        for _ in range(100):
            if any(s.state == "error" for s in states):
                break
            await asyncio.sleep(0.1)
    (error,) = [s for s in states if s.state == "error"]
    assert error.message.startswith("SyntaxError: "), error.message
    assert "{" not in error.message


async def test_run_without_event_uses_saved_or_sample_events(examples: Path) -> None:
    saved = examples / ".handlerlens" / "events" / "greeter"
    saved.mkdir(parents=True)
    (saved / "bob.json").write_text(json.dumps({"queryStringParameters": {"name": "Bob"}}))
    (saved / "bob.expected.json").write_text('{"status": 200}')  # `handlerlens test`'s, no event
    async with running_server(examples) as client:
        await wait_for_diagnostics(client, examples / "orders" / "template.yaml")
        ref = await _greeter_ref(client, examples)
        events = await _execute(client, "handlerlens.server.listEvents", {"function": ref})
        by_file = await _execute(
            client, "handlerlens.server.run", {"function": ref, "eventPath": "bob.json"}
        )
        sample = await _execute(client, "handlerlens.server.run", {"function": ref})
        escape = await _execute(
            client, "handlerlens.server.run", {"function": ref, "eventPath": "../../../etc/passwd"}
        )
    assert events[0]["source"] == "saved" and events[0]["label"] == "bob"
    assert events[1]["source"] == "sample" and events[1]["trigger"] == "http"
    assert json.loads(by_file["json"]["body"])["greeting"] == "Hello, Bob!"
    assert sample["status"] == 200 and sample["json"]["statusCode"] == 200
    assert escape is None
    assert any("outside" in m.message for m in client.messages)


async def test_runners_stop_with_the_server(examples: Path) -> None:
    async with running_server(examples) as client:
        await wait_for_diagnostics(client, examples / "orders" / "template.yaml")
        ref = await _greeter_ref(client, examples)
        started = await _execute(client, "handlerlens.server.startRunner", {"function": ref})
        port = started["port"]
    # After shutdown nothing listens on the runner's port any more.
    listening = Path("/proc/net/tcp").read_text()
    assert f":{port:04X} 00000000:0000 0A" not in listening


async def test_runners_stop_when_the_server_is_killed(examples: Path) -> None:
    import asyncio
    import signal

    async with running_server(examples) as client:
        await wait_for_diagnostics(client, examples / "orders" / "template.yaml")
        ref = await _greeter_ref(client, examples)
        started = await _execute(client, "handlerlens.server.startRunner", {"function": ref})
        port = started["port"]
        assert f":{port:04X} 00000000:0000 0A" in Path("/proc/net/tcp").read_text()
        server = client._server  # the server process pytest-lsp started
        assert server is not None
        server.send_signal(signal.SIGKILL)
        await server.wait()
        for _ in range(100):
            if f":{port:04X} 00000000:0000 0A" not in Path("/proc/net/tcp").read_text():
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError("the runner outlived the killed language server")


async def test_runner_port_and_events_folder_settings_are_honoured(examples: Path) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    saved = examples / "my-events" / "greeter"
    saved.mkdir(parents=True)
    (saved / "cy.json").write_text(json.dumps({"queryStringParameters": {"name": "Cy"}}))
    settings = {"runner": {"port": port, "timeout": 7}, "eventsFolder": "my-events"}
    async with running_server(examples, options={"settings": settings}) as client:
        await wait_for_diagnostics(client, examples / "orders" / "template.yaml")
        ref = await _greeter_ref(client, examples)
        events = await _execute(client, "handlerlens.server.listEvents", {"function": ref})
        started = await _execute(client, "handlerlens.server.startRunner", {"function": ref})
        result = await _execute(
            client, "handlerlens.server.run", {"function": ref, "eventPath": "cy.json"}
        )
    assert events[0]["label"] == "cy" and events[0]["source"] == "saved"
    assert started["port"] == port
    assert json.loads(result["json"]["body"])["greeting"] == "Hello, Cy!"


async def test_list_events_lists_the_folder_as_handlerlens_test_does(examples: Path) -> None:
    # One listing (replay.events.event_files) for the server and `handlerlens event|test`:
    # sorted `*.json`, no `*.expected.json`, no folder named like an event, nothing else.
    from handlerlens.replay.events import event_files

    saved = examples / ".handlerlens" / "events" / "greeter"
    saved.mkdir(parents=True)
    for name in ("b.json", "a.json", "a.expected.json", "notes.txt"):
        (saved / name).write_text("{}")
    (saved / "folder.json").mkdir()
    async with running_server(examples) as client:
        await wait_for_diagnostics(client, examples / "orders" / "template.yaml")
        ref = await _greeter_ref(client, examples)
        events = await _execute(client, "handlerlens.server.listEvents", {"function": ref})
    listed = [e for e in events if e["source"] == "saved"]
    assert [e["label"] for e in listed] == ["a", "b"]
    assert [e["path"] for e in listed] == event_files(str(saved.resolve()))
    assert [e["event"] for e in listed] == [{}, {}]


async def test_run_answers_the_http_response_the_caller_gets(examples: Path) -> None:
    """`http`: the platform's mapping of the return value (status from statusCode, the
    function's own headers, the body as bytes); `expected`: the response in the terms of
    `<name>.expected.json`, for the response view's "Save as test"."""
    import base64

    async with running_server(examples) as client:
        await wait_for_diagnostics(client, examples / "orders" / "template.yaml")
        functions = await _execute(client, "handlerlens.server.listFunctions", {})
        (create,) = [f for f in functions if f["name"] == "CreateOrder"]
        created = await _execute(
            client,
            "handlerlens.server.run",
            {"function": create, "event": {"body": json.dumps({"item": "tea"})}},
        )
        greeter = await _greeter_ref(client, examples)
        greeted = await _execute(
            client,
            "handlerlens.server.run",
            {"function": greeter, "event": {"queryStringParameters": {"name": "Ada"}}},
        )
    # The invocation itself answers 200; the caller over API Gateway (REST) gets 201.
    assert created["status"] == 200
    http = created["http"]
    assert (http["status"], http["reason"], http["trigger"]) == (201, "Created", "api-gateway-rest")
    assert http["headers"] == []  # the function set none; the runner's own are not listed
    assert json.loads(base64.b64decode(http["bodyBase64"])) == {"id": "1", "item": "tea"}
    assert created["expected"] == {"status": 201, "body": {"id": "1", "item": "tea"}}

    http = greeted["http"]
    assert (http["status"], http["reason"]) == (200, "OK")
    assert http["headers"] == [["Content-Type", "application/json"]]
    body = json.loads(base64.b64decode(http["bodyBase64"]))
    assert body["greeting"] == "Hello, Ada!"
    assert greeted["expected"]["status"] == 200
    assert greeted["expected"]["headers"] == {"Content-Type": "application/json"}
    assert greeted["expected"]["body"]["greeting"] == "Hello, Ada!"


async def test_a_function_error_is_the_platforms_http_error(examples: Path) -> None:
    main = examples / "greeter" / "main.py"
    main.write_text(main.read_text().replace("name = (", "name = 1 / 0 or ("))
    async with running_server(examples) as client:
        await wait_for_diagnostics(client, examples / "orders" / "template.yaml")
        ref = await _greeter_ref(client, examples)
        result = await _execute(client, "handlerlens.server.run", {"function": ref, "event": {}})
    assert result["functionError"] is True
    assert result["http"]["status"] == 502
    assert ["X-Function-Error", "true"] in result["http"]["headers"]
    assert result["expected"] == {
        "errorType": "ZeroDivisionError",
        "errorMessage": "division by zero",
    }


async def test_a_good_save_reports_what_was_reloaded_and_how_fast(examples: Path) -> None:
    states: list[Any] = []
    main = examples / "greeter" / "main.py"
    async with running_server(examples) as client:
        client.feature("handlerlens/runnerState")(lambda params: states.append(params))
        await wait_for_diagnostics(client, examples / "orders" / "template.yaml")
        ref = await _greeter_ref(client, examples)
        await _execute(client, "handlerlens.server.run", {"function": ref, "event": {}})
        main.write_text(main.read_text().replace('"world"', '"there"'))
        for _ in range(100):
            if any(getattr(s, "reloadedMs", None) is not None for s in states):
                break
            await asyncio.sleep(0.1)
    reloading = [s for s in states if s.state == "reloading"]
    assert reloading and reloading[0].changed == ["main.py"]
    (reloaded,) = [s for s in states if getattr(s, "reloadedMs", None) is not None]
    assert reloaded.state == "running"
    assert reloaded.changed == ["main.py"]
    assert 0 < reloaded.reloadedMs < 10_000
