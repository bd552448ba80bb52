"""After a failed init the next invocation runs init again, and a cold start says INIT_START.

References: PLATFORMS.md §12.4 (awslambdaric logs the init error, posts /init/error and exits;
"The next invoke runs Init again inside the invoke"; Yandex: the recommendation that a failed
init is not cached on either platform, fidelity audit A43), §6.3 (LAMBDA_WARNING before an
init error), §7.3 (an init error is 200 + `X-Amz-Function-Error: Unhandled`).
"""

from __future__ import annotations

import base64
import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.runner.harness import Runner

# Fails its first import (a transient fault: a service not yet up), counting every import.
FLAKY = """\
import os

with open(os.environ["COUNT_FILE"], "a") as count:
    count.write("x")
with open(os.environ["COUNT_FILE"]) as count:
    IMPORTS = len(count.read())
if IMPORTS == 1:
    raise RuntimeError("transient: the database is not up yet")


def handler(event, context):
    return {"imports": IMPORTS, "pid": os.getpid()}
"""

# Fails every import.
BROKEN = """\
import os

with open(os.environ["COUNT_FILE"], "a") as count:
    count.write("x")
raise RuntimeError("always broken")


def handler(event, context):
    return "never"
"""

INIT_START = "INIT_START Runtime Version: python:3.12.v0\tRuntime Version ARN: arn:aws:lambda:"


@pytest.fixture
def count_file() -> Iterator[Path]:
    # Under /tmp: the function's only writable place (PLATFORMS.md §12.3).
    path = Path("/tmp") / f"handlerlens-init-{uuid.uuid4().hex}"
    yield path
    path.unlink(missing_ok=True)


def _serve(root: Path, source: str, platform: str, count_file: Path) -> Runner:
    root.mkdir(exist_ok=True)
    (root / "main.py").write_text(source)
    args = ["fn=main.handler", "--platform", platform, "--no-watch", "--runtime", "python3.12"]
    return Runner([*args, "--env", f"COUNT_FILE={count_file}"], root, dict(os.environ))


def _invoke_tail(runner: Runner) -> tuple[int, dict[str, str], object, list[str]]:
    status, headers, body = runner.request(
        "POST", "/2015-03-31/functions/fn/invocations", b"{}", {"X-Amz-Log-Type": "Tail"}
    )
    log = base64.b64decode(headers.get("x-amz-log-result", "")).decode()
    return status, headers, json.loads(body), log.splitlines()


def test_aws_a_transient_init_failure_recovers_on_the_next_invocation(
    tmp_path: Path, count_file: Path
):
    runner = _serve(tmp_path / "code", FLAKY, "aws", count_file)
    try:
        # The first init (ahead of any request) fails, and the runner says what happens next.
        said = runner.wait_stderr("init failed: RuntimeError")
        assert "Each request runs init again" in said
        # That first environment's INIT_START, in no request's log (§12.4: once per new
        # execution environment).
        runner.wait_for(
            lambda e: (
                e["event"] == "log" and e["line"].startswith(INIT_START) and e["requestId"] is None
            )
        )
        # The invocation runs init again in a fresh process (§12.4): the import succeeds.
        status, headers, answer, log = _invoke_tail(runner)
        assert status == 200 and "x-amz-function-error" not in headers, answer
        assert isinstance(answer, dict) and answer["imports"] == 2
        # That invocation's log: the new environment's INIT_START, then START (§12.4).
        assert log[0].startswith(INIT_START), log
        assert log[1].startswith("START RequestId: ")
        # Warm from then on: same process, no further init.
        again = runner.request("POST", "/2015-03-31/functions/fn/invocations", b"{}")
        assert again[0] == 200 and json.loads(again[2]) == answer
        assert count_file.read_text() == "xx"
    finally:
        runner.stop()


def test_aws_each_invocation_after_an_init_error_runs_init_and_logs_its_error(
    tmp_path: Path, count_file: Path
):
    runner = _serve(tmp_path / "code", BROKEN, "aws", count_file)
    try:
        runner.wait_stderr("init failed: RuntimeError")
        for attempt in (2, 3):
            status, headers, error, log = _invoke_tail(runner)
            # §7.3: an init error is 200, Unhandled, the runtime's error with requestId "".
            assert status == 200 and headers["x-amz-function-error"] == "Unhandled"
            assert isinstance(error, dict)
            # The exception the import raised, as the runtime reports it (§5.2).
            assert error["errorType"] == "RuntimeError", error
            assert error["errorMessage"] == "always broken"
            assert error["requestId"] == ""
            # Init ran again for this invocation, in this invocation's log (§12.4), before
            # its START: INIT_START, awslambdaric's LAMBDA_WARNING and the error (§6.3).
            assert count_file.read_text() == "x" * attempt
            assert log[0].startswith(INIT_START), log
            start = next(i for i, line in enumerate(log) if line.startswith("START RequestId"))
            init_lines = log[1:start]
            assert any("\tLAMBDA_WARNING: Unhandled exception" in line for line in init_lines), log
            assert "[ERROR] RuntimeError: always broken" in init_lines, log
        assert log[-2].startswith("END RequestId: ") and log[-1].startswith("REPORT RequestId")
    finally:
        runner.stop()


def test_yandex_runs_init_again_too(tmp_path: Path, count_file: Path):
    # Yandex documents nothing about the call after an init error; §12.4's recommendation
    # (audit A43) is that a failed init is not cached there either. No INIT_START line:
    # Yandex documents none (§12.4, §6.1).
    http_flaky = FLAKY.replace(
        'return {"imports": IMPORTS, "pid": os.getpid()}',
        'return {"statusCode": 200, "body": str(IMPORTS)}',
    )
    assert http_flaky != FLAKY
    runner = _serve(tmp_path / "code", http_flaky, "yandex", count_file)
    try:
        runner.wait_stderr("init failed: RuntimeError")
        # Through the HTTP face (§4.1, §5.1): the request runs init again, and recovers;
        # the next ones are warm (the worker may answer them itself, lent the connection).
        for _ in range(3):
            status, _, body = runner.request("GET", "/", timeout=20)
            assert status == 200 and body == b"2", body
        assert count_file.read_text() == "xx"
        assert not [line for line in runner.stderr if "INIT_START" in line]
    finally:
        runner.stop()


# Fails its first import, hangs in its second, imports fine after.
FAILS_THEN_HANGS = FLAKY.replace(
    'if IMPORTS == 1:\n    raise RuntimeError("transient: the database is not up yet")\n',
    "if IMPORTS == 1:\n    raise RuntimeError('down')\nif IMPORTS == 2:\n"
    "    import time\n    time.sleep(60)\n",
)


def test_aws_init_run_again_inside_an_invocation_is_under_the_functions_timeout(
    tmp_path: Path, count_file: Path
):
    # §12.4: Lambda retries Init at the invoke "under the function timeout"; a timed-out
    # invocation is Sandbox.Timedout, 200 + Unhandled (§7.3, §9 #15).
    assert FAILS_THEN_HANGS != FLAKY
    root = tmp_path / "code"
    root.mkdir()
    (root / "main.py").write_text(FAILS_THEN_HANGS)
    args = ["fn=main.handler", "--platform", "aws", "--no-watch", "--timeout", "1"]
    runner = Runner([*args, "--env", f"COUNT_FILE={count_file}"], root, dict(os.environ))
    try:
        runner.wait_stderr("init failed: RuntimeError")
        status, headers, body = runner.request(
            "POST", "/2015-03-31/functions/fn/invocations", b"{}", timeout=20
        )
        assert status == 200 and headers["x-amz-function-error"] == "Unhandled"
        error = json.loads(body)
        assert error["errorType"] == "Sandbox.Timedout", error
        assert error["errorMessage"].endswith("Task timed out after 1.00 seconds")
        # The timed-out environment is replaced; its init (the third import) succeeds.
        status, headers, body = runner.request(
            "POST", "/2015-03-31/functions/fn/invocations", b"{}", timeout=20
        )
        assert status == 200 and "x-amz-function-error" not in headers, body
        assert json.loads(body)["imports"] == 3
    finally:
        runner.stop()
