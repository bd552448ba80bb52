"""Hot reload: a save is a new function version (fresh processes, globals reset)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.runner.harness import Runner, copy_fixture, wait_gone


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return copy_fixture("reload", tmp_path)


@pytest.fixture
def runner(project: Path) -> Iterator[Runner]:
    served = Runner(["main.handler", "--platform", "yandex", "--timeout", "5"], project)
    yield served
    served.stop()


def _save(path: Path, old: str, new: str) -> None:
    path.write_text(path.read_text().replace(old, new))


def _body(runner: Runner) -> str:
    status, _, body = runner.request("GET", "/")
    return f"{status}:{body.decode()}"


def _wait_reloaded(runner: Runner, start: int, ok: bool | None = True) -> dict:
    return runner.wait_for(
        lambda e: e["event"] == "reloaded" and (ok is None or e["ok"] is ok), start=start
    )


def test_a_save_serves_new_code_with_fresh_globals(runner: Runner, project: Path):
    assert _body(runner) == "200:v1:1"
    assert _body(runner) == "200:v1:2"
    old_workers = runner.worker_pids()
    mark = len(runner.events)
    _save(project / "main.py", '"v1"', '"v2"')
    _wait_reloaded(runner, mark)
    assert _body(runner) == "200:v2:1"
    # The log says what caused the reload.
    reloading = runner.wait_for(lambda e: e["event"] == "reloading", start=mark)
    assert reloading["changed"] == ["main.py"]
    assert "main: main.py changed; reloaded in" in runner.wait_stderr("reloaded in")
    # sed -i and some editors save through a temporary file that is gone by the reload.
    mark = len(runner.events)
    temporary = project / "sedX1a2b3"
    temporary.write_text(project.joinpath("main.py").read_text().replace('"v2"', '"v3"'))
    temporary.replace(project / "main.py")
    reloading = runner.wait_for(lambda e: e["event"] == "reloading", start=mark)
    assert reloading["changed"] == ["main.py"]
    _wait_reloaded(runner, mark)
    assert _body(runner) == "200:v3:1"
    # The old instance was stopped (its standby too, once used).
    assert set(wait_gone(old_workers, timeout=5)) <= set(runner.worker_pids())


def test_a_syntax_error_answers_the_init_error_until_the_next_good_save(
    runner: Runner, project: Path
):
    assert _body(runner) == "200:v1:1"
    mark = len(runner.events)
    _save(project / "main.py", "def handler(event, context):", "def handler(event, context)")
    reloaded = _wait_reloaded(runner, mark, ok=False)
    assert reloaded["error"]["errorType"] == "SyntaxError"
    # Each request runs init again (PLATFORMS.md §12.4), and fails again until a good save.
    assert "Each request runs init again" in runner.wait_stderr("init failed: SyntaxError")
    for _ in range(2):
        status, headers, body = runner.request("GET", "/")
        assert status == 502 and headers["x-function-error"] == "true"
        assert b"SyntaxError" in body
    mark = len(runner.events)
    _save(project / "main.py", "def handler(event, context)", "def handler(event, context):")
    _wait_reloaded(runner, mark)
    assert _body(runner) == "200:v1:1"


def test_two_saves_in_one_second_never_run_stale_code(runner: Runner, project: Path):
    for version in ("v2", "v3", "v4"):
        mark = len(runner.events)
        text = (project / "main.py").read_text()
        current = text.split('VERSION = "')[1][:2]
        _save(project / "main.py", f'"{current}"', f'"{version}"')
        _wait_reloaded(runner, mark)
        assert _body(runner) == f"200:{version}:1"


def test_reload_during_a_running_request_finishes_it_on_the_old_code(runner: Runner, project: Path):
    outcome: list[tuple[int, bytes]] = []

    def slow_call() -> None:
        status, _, body = runner.request("GET", "/?slow=1", timeout=10)
        outcome.append((status, body))

    # Make the handler slow, wait for the reload, then save again mid-request.
    mark = len(runner.events)
    _save(
        project / "main.py",
        "def handler(event, context):\n",
        "def handler(event, context):\n    time.sleep(1.0)\n",
    )
    _wait_reloaded(runner, mark)
    thread = threading.Thread(target=slow_call)
    thread.start()
    time.sleep(0.3)
    mark = len(runner.events)
    _save(project / "main.py", '"v1"', '"v2"')
    _wait_reloaded(runner, mark)
    started = time.monotonic()
    thread.join(10)
    assert not thread.is_alive()
    assert outcome == [(200, b"v1:1")]
    assert _body(runner) == "200:v2:1"
    assert time.monotonic() - started < 5


def test_ignored_files_do_not_reload(runner: Runner, project: Path):
    mark = len(runner.events)
    (project / "__pycache__").mkdir(exist_ok=True)
    (project / "__pycache__" / "x.pyc").write_bytes(b"junk")
    (project / ".main.py.swp").write_text("swap")
    (project / "main.py~").write_text("backup")
    (project / "app.log").write_text("a log line\n")
    time.sleep(0.6)
    assert not any(e["event"] == "reloading" for e in runner.events[mark:])


def test_two_instances_serve_two_requests_at_once(project: Path):
    served = Runner(
        ["main.slow", "--platform", "yandex", "--instances", "2", "--no-watch"], project
    )
    try:
        results: list[float] = []

        def call() -> None:
            started = time.monotonic()
            assert served.request("GET", "/")[0] == 200
            results.append(time.monotonic() - started)

        threads = [threading.Thread(target=call) for _ in range(2)]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert time.monotonic() - started < 1.9  # two 1 s sleeps ran side by side
        assert len(results) == 2
    finally:
        served.stop()


def test_the_runners_own_output_file_in_the_code_root_does_not_reload_it(project: Path):
    # `handlerlens serve main.handler 2> serve.out` in the project: every line the runner
    # writes changes a file under the code root, and every reload writes a line.
    served = Runner(
        ["main.handler", "--platform", "yandex"], project, stderr_file=project / "serve.out"
    )
    try:
        mark = len(served.events)
        bodies = [_body(served) for _ in range(3)]
        time.sleep(0.8)
        assert bodies == ["200:v1:1", "200:v1:2", "200:v1:3"]
        assert not any(e["event"] == "reloading" for e in served.events[mark:])
        assert "START RequestID" in (project / "serve.out").read_text()
        # Real changes still reload.
        _save(project / "main.py", '"v1"', '"v2"')
        _wait_reloaded(served, mark)
        assert _body(served) == "200:v2:1"
    finally:
        served.stop()


def test_a_changed_declaration_applies_without_a_restart(tmp_path: Path):
    # serve reads serverless.yml again when it changes (issue #17): the new handler, timeout
    # or environment apply at once, and the log says what changed.
    (tmp_path / "serverless.yml").write_text(
        "service: s\nprovider:\n  name: aws\n  runtime: python3.12\n"
        "functions:\n  hello:\n    handler: main.handler\n"
    )
    (tmp_path / "main.py").write_text(
        "import os\n\n\ndef handler(event, context):\n    return 1\n\n\n"
        "def other(event, context):\n    return [os.environ.get('COLOR'), "
        "context.get_remaining_time_in_millis() > 6000]\n"
    )
    served = Runner(["hello"], tmp_path)
    try:
        mark = len(served.events)
        (tmp_path / "main.py").write_text(
            (tmp_path / "main.py").read_text().replace("return 1", "return 2")
        )
        _wait_reloaded(served, mark)
        assert not [line for line in served.stderr if "declaration" in line]
        mark = len(served.events)
        path = tmp_path / "serverless.yml"
        path.write_text(
            path.read_text().replace(
                "main.handler", "main.other\n    timeout: 9\n    environment:\n      COLOR: red"
            )
        )
        _wait_reloaded(served, mark)
        line = served.wait_stderr("changed its declaration")
        assert line == (
            "handlerlens: hello: serverless.yml changed its declaration (entry point "
            "main.handler → main.other; timeout 6 → 9 s; environment: COLOR): reloading"
        )
        assert not [line for line in served.stderr if "restart serve" in line]
        status, _, body = served.request("POST", "/2015-03-31/functions/hello/invocations")
        assert (status, json.loads(body)) == (200, ["red", True])
    finally:
        served.stop()
