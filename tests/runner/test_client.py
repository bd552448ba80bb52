"""The asyncio client the language server uses: start, invoke with logs and report, stop."""

from __future__ import annotations

import pytest

from handlerlens.core.model import FunctionSpec
from handlerlens.runner.client import RunnerProcess, RunnerStartError
from tests.runner.harness import FIXTURES, alive, wait_gone


async def test_start_invoke_and_stop_with_an_entry():
    events: list[dict] = []
    runner = await RunnerProcess.start(
        "app.logs", root=str(FIXTURES / "aws"), platform="aws", watch=False
    )
    try:
        runner.on_status(events.append)
        assert runner.url == f"http://127.0.0.1:{runner.port}"
        result = await runner.invoke({"k": 1}, "function")
        assert result.status == 200
        assert result.json == "done"
        assert result.function_error is False
        assert result.request_id and len(result.request_id) == 36
        assert result.report is not None
        assert result.report["requestId"] == result.request_id
        assert result.report["memoryMb"] == 3008
        assert result.report["initMs"] is not None
        lines = [entry["line"] for entry in result.logs]
        assert lines[0].startswith("START RequestId: ")
        assert "line one" in lines
        assert lines[-1].startswith("REPORT RequestId: ")
        assert any(event["event"] == "report" for event in events)
        second = await runner.invoke({}, "function")
        assert second.report is not None and second.report["initMs"] is None  # warm
    finally:
        pid = runner.process.pid
        assert await runner.stop() == 0
    assert not alive(pid)


async def test_function_errors_are_flagged():
    spec = FunctionSpec(
        name="boom",
        platform="yandex",
        entry="main.boom",
        root=str(FIXTURES / "yandex"),
        declared_by="pyproject",
        timeout=2,
        env={"GREETING": "hi"},
    )
    runner = await RunnerProcess.start(spec, root=spec.root, platform=None, watch=False)
    try:
        result = await runner.invoke({}, "boom")
        assert result.status == 502
        assert result.function_error is True
        assert result.json["errorType"] == "ValueError"
        assert any(entry["stream"] == "stderr" for entry in result.logs)
    finally:
        await runner.stop()


async def test_a_runner_that_cannot_start_says_why():
    with pytest.raises(RunnerStartError) as caught:
        await RunnerProcess.start(
            "main.dump",
            root=str(FIXTURES / "yandex"),
            platform="yandex",
            python="/nowhere/python3",
        )
    assert "Python interpreter not found" in str(caught.value)
    assert wait_gone([]) == []


async def test_files_in_the_code_root_never_replace_the_runners_own_modules(tmp_path):
    # `python -m` puts its working directory first on sys.path: the runner the language
    # server starts must not run from the code root, or a function's logging.py would run
    # inside the supervisor (and break it) before any handler is invoked.
    marker = tmp_path / "ran"
    for name in ("logging", "json", "asyncio", "typing", "http", "traceback"):
        (tmp_path / f"{name}.py").write_text(
            f"open({str(marker)!r}, 'a').write('{name} ')\nraise RuntimeError('{name}.py ran')\n"
        )
    (tmp_path / "app.py").write_text(
        "def handler(event, context):\n    return {'ok': event['n']}\n\n"
        "def boom(event, context):\n    raise ValueError('bad')\n"
    )
    runner = await RunnerProcess.start(
        "app.handler", root=str(tmp_path), platform="yandex", watch=False
    )
    try:
        result = await runner.invoke({"n": 3}, "app")
        assert result.status == 200 and result.json == {"ok": 3}, result.body
    finally:
        await runner.stop()
    runner = await RunnerProcess.start(
        "app.boom", root=str(tmp_path), platform="yandex", watch=False
    )
    try:
        result = await runner.invoke({}, "app")
        assert result.function_error and result.json["errorType"] == "ValueError"
    finally:
        await runner.stop()
    assert not marker.exists(), marker.read_text()


async def test_a_timeout_in_a_runner_the_language_server_started_names_its_declaration():
    spec = FunctionSpec(
        name="hang",
        platform="yandex",
        entry="main.hang",
        root=str(FIXTURES / "yandex"),
        declared_by="terraform",
        declared_in=str(FIXTURES / "yandex" / "main.tf"),
        timeout=1,
    )
    runner = await RunnerProcess.start(spec, root=spec.root, platform=None, watch=False)
    try:
        result = await runner.invoke({}, "hang")
        assert result.json["errorType"] == "Timeout"
        lines = [entry["line"] for entry in result.logs]
        # Passed on with --timeout, and still said to be the declared one.
        assert any(
            "Execution timeout exceeded after 1.00 seconds (the function's timeout, 1 s, "
            "declared in main.tf" in line
            for line in lines
        ), lines
    finally:
        await runner.stop()
