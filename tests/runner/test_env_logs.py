"""Lambda's platform log lines around a failed init (INIT_REPORT) and in JSON log mode (JSON
platform records), through the real CLI (`invoke`) and a real runner (`serve`).

References:
- PLATFORMS.md §12.4: `INIT_REPORT … Phase: init|invoke  Status: error|timeout …`, only when
  Init fails or times out; the real log it quotes (github.com/cargo-lambda/cargo-lambda issue
  572): `INIT_REPORT Init Duration: 206.72 ms\\tPhase: init\\tStatus: error\\tError Type:
  Runtime.ExitError`, then on the next invoke `… Phase: invoke …`, then START, END, REPORT.
- awslambdaric PR #166 (aws-lambda-python-runtime-interface-client): the runtime sends its init
  error's type with /init/error, which is the `Error Type` Lambda reports.
- AWS DG monitoring-cloudwatchlogs-logformat.html: the log format (JSON) applies to the system
  logs too; DG telemetry-schema-reference.html: `{"time", "type", "record"}` with
  platform.initStart (initializationType, phase, runtimeVersion, runtimeVersionArn,
  functionName, functionVersion), platform.initReport (initializationType, phase, status,
  errorType?, metrics.durationMs), platform.start (requestId, version), platform.report
  (requestId, metrics: durationMs, billedDurationMs, memorySizeMB, maxMemoryUsedMB,
  initDurationMs?, status); no record for END.
"""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.runner.harness import Runner

INIT_REPORT = re.compile(
    r"^INIT_REPORT Init Duration: \d+\.\d\d ms\tPhase: (init|invoke)\tStatus: (error|timeout)"
    r"(?:\tError Type: (\S+))?$"
)
TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def _invoke(root: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "handlerlens.runner", "invoke", *args, "--event", "-"],
        cwd=root,
        input=b"{}",
        capture_output=True,
        timeout=120,
    )


def test_invoke_writes_init_report_after_a_failed_init(tmp_path: Path):
    (tmp_path / "app.py").write_text("import not_installed\n\n\ndef handler(e, c):\n    return 1\n")
    done = _invoke(tmp_path, "app.handler", "--platform", "aws")
    assert done.returncode == 1
    log = done.stderr.decode().splitlines()
    reports = [i for i, line in enumerate(log) if line.startswith("INIT_REPORT")]
    # As in the real log PLATFORMS.md §12.4 quotes: the cold start's init (phase "init"),
    # then, awslambdaric having exited, Lambda's init again inside the invoke (phase
    # "invoke"), each after its own lines (the [ERROR] record); the runtime's error type.
    assert _init_reports(log) == [
        ("init", "error", "Runtime.ImportModuleError"),
        ("invoke", "error", "Runtime.ImportModuleError"),
    ], log
    errors = [i for i, line in enumerate(log) if line.startswith("[ERROR] Runtime.ImportModule")]
    assert len(errors) == 2 and errors[0] < reports[0] < errors[1] < reports[1], log
    assert log[reports[1] + 1].startswith("START RequestId: ")
    assert log[-1].startswith("REPORT RequestId: ")
    assert log.count(next(line for line in log if line.startswith("INIT_START"))) == 1, log


def test_invoke_runs_a_failed_init_again_and_a_transient_failure_recovers(tmp_path: Path):
    # The init Lambda runs again inside the invoke is a real one: an import-time failure that
    # does not happen twice (here: only while a flag file is absent) leaves the call to run.
    (tmp_path / "app.py").write_text(
        "import pathlib\n\nflag = pathlib.Path(__file__).with_name('flag')\n"
        "if not flag.exists():\n    flag.touch()\n    raise ConnectionError('transient')\n"
        "print('init ok')\n\n\ndef handler(e, c):\n    return {'ok': 1}\n"
    )
    done = _invoke(tmp_path, "app.handler", "--platform", "aws", "--writable")
    log = done.stderr.decode().splitlines()
    assert done.returncode == 0 and json.loads(done.stdout) == {"ok": 1}, log
    assert _init_reports(log) == [("init", "error", "ConnectionError")], log
    at = next(i for i, line in enumerate(log) if line.startswith("INIT_REPORT"))
    assert log[at + 1] == "init ok" and log[at + 2].startswith("START RequestId: "), log


def test_a_process_that_dies_in_init_is_runtime_exit_error(tmp_path: Path):
    (tmp_path / "app.py").write_text(
        "import os\nos._exit(3)\n\n\ndef handler(e, c):\n    return 1\n"
    )
    done = _invoke(tmp_path, "app.handler", "--platform", "aws")
    assert done.returncode == 1
    log = done.stderr.decode().splitlines()
    # Died in init, then again in the init run inside the invoke (see the test above).
    assert _init_reports(log) == [
        ("init", "error", "Runtime.ExitError"),
        ("invoke", "error", "Runtime.ExitError"),
    ], log
    report = [line for line in log if line.startswith("INIT_REPORT")][1]
    assert log[log.index(report) + 1].startswith("START RequestId: ")


def test_a_good_init_and_yandex_write_no_init_report(tmp_path: Path):
    (tmp_path / "app.py").write_text("def handler(e, c):\n    return 1\n")
    good = _invoke(tmp_path, "app.handler", "--platform", "aws")
    assert good.returncode == 0 and b"INIT_REPORT" not in good.stderr
    (tmp_path / "bad.py").write_text("raise RuntimeError('no')\n")
    yandex = _invoke(tmp_path, "bad.handler", "--platform", "yandex")
    assert yandex.returncode == 1 and b"INIT_REPORT" not in yandex.stderr


def _records(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def _platform(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in records if str(r.get("type", "")).startswith("platform.")]


def test_invoke_in_json_log_mode_writes_platform_records(tmp_path: Path):
    (tmp_path / "app.py").write_text(
        "import logging\n\n\ndef handler(e, c):\n    logging.info('hello')\n    return 1\n"
    )
    done = _invoke(
        tmp_path, "app.handler", "--platform", "aws", "--env", "AWS_LAMBDA_LOG_FORMAT=JSON"
    )
    assert done.returncode == 0, done.stderr
    text = done.stderr.decode()
    # Every line is JSON: no text START/END/REPORT, and no END record at all.
    assert all(line.startswith("{") for line in text.splitlines()), text
    records = _records(text)
    platform = _platform(records)
    assert [r["type"] for r in platform] == [
        "platform.initStart",
        "platform.start",
        "platform.report",
    ]
    for record in platform:
        assert list(record) == ["time", "type", "record"]
        assert TIME.match(record["time"]), record
    init, start, report = (r["record"] for r in platform)
    assert init["initializationType"] == "on-demand" and init["phase"] == "init"
    assert init["runtimeVersion"].startswith("python:3.")
    assert init["runtimeVersionArn"].startswith("arn:aws:lambda:us-east-1::runtime:")
    assert init["functionName"] == "test_function" and init["functionVersion"] == "$LATEST"
    assert start["version"] == "$LATEST"
    assert report["requestId"] == start["requestId"] and report["status"] == "success"
    metrics = report["metrics"]
    assert set(metrics) == {
        "durationMs",
        "billedDurationMs",
        "memorySizeMB",
        "maxMemoryUsedMB",
        "initDurationMs",
    }
    assert metrics["memorySizeMB"] == 3008 and isinstance(metrics["billedDurationMs"], int)
    # The function's own record sits between start and report, with the same request id.
    (hello,) = [r for r in records if r.get("message") == "hello"]
    assert hello["requestId"] == start["requestId"]
    assert records.index(hello) > records.index(platform[1])


def test_json_mode_init_error_is_a_platform_init_report(tmp_path: Path):
    (tmp_path / "app.py").write_text("raise ValueError('broken')\n")
    done = _invoke(
        tmp_path, "app.handler", "--platform", "aws", "--env", "AWS_LAMBDA_LOG_FORMAT=JSON"
    )
    assert done.returncode == 1
    platform = _platform(_records(done.stderr.decode()))
    assert [r["type"] for r in platform] == [
        "platform.initStart",
        "platform.initReport",
        "platform.initReport",  # init run again inside the invoke (PLATFORMS.md §12.4)
        "platform.start",
        "platform.report",
    ]
    for record, phase in ((platform[1]["record"], "init"), (platform[2]["record"], "invoke")):
        assert record["phase"] == phase and record["status"] == "error"
        assert record["errorType"] == "ValueError"
        assert record["metrics"]["durationMs"] > 0
    assert platform[4]["record"]["status"] == "error"


TEMPLATE = """\
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.handler
      CodeUri: .
      Runtime: python3.12
      LoggingConfig:
        LogFormat: JSON
"""


def test_served_function_with_a_json_logging_config_and_a_failed_init(tmp_path: Path):
    # An init that fails ahead of any request (phase "init"), then inside the request that
    # runs it again (phase "invoke"), as in the real log PLATFORMS.md §12.4 quotes.
    (tmp_path / "app.py").write_text(
        "raise ValueError('broken')\n\n\ndef handler(e, c):\n    pass\n"
    )
    (tmp_path / "template.yaml").write_text(TEMPLATE)
    runner = Runner(["Fn", "--no-watch"], tmp_path)
    try:
        ahead = runner.wait_for(
            lambda e: e["event"] == "log" and '"platform.initReport"' in e["line"]
        )
        assert ahead["requestId"] is None
        record = json.loads(ahead["line"])["record"]
        assert record["phase"] == "init" and record["errorType"] == "ValueError"
        status, headers, _ = runner.request(
            "POST", "/2015-03-31/functions/Fn/invocations", b"{}", {"X-Amz-Log-Type": "Tail"}
        )
        assert status == 200 and headers["x-amz-function-error"] == "Unhandled"
        tail = base64.b64decode(headers["x-amz-log-result"]).decode()
        platform = _platform(_records(tail))
        assert [r["type"] for r in platform] == [
            "platform.initStart",
            "platform.initReport",
            "platform.start",
            "platform.report",
        ], tail
        assert platform[1]["record"]["phase"] == "invoke"
        assert platform[3]["record"]["status"] == "error"
        assert "END RequestId" not in tail
    finally:
        runner.stop()


def test_served_text_mode_init_report_phases(tmp_path: Path):
    (tmp_path / "app.py").write_text(
        "raise ValueError('broken')\n\n\ndef handler(e, c):\n    pass\n"
    )
    (tmp_path / "template.yaml").write_text(
        TEMPLATE.replace("      LoggingConfig:\n", "").replace("        LogFormat: JSON\n", "")
    )
    runner = Runner(["Fn", "--no-watch"], tmp_path)
    try:
        ahead = runner.wait_for(
            lambda e: e["event"] == "log" and e["line"].startswith("INIT_REPORT")
        )
        found = INIT_REPORT.match(ahead["line"])
        assert found is not None and found.groups() == ("init", "error", "ValueError")
        _, headers, _ = runner.request(
            "POST", "/2015-03-31/functions/Fn/invocations", b"{}", {"X-Amz-Log-Type": "Tail"}
        )
        log = base64.b64decode(headers["x-amz-log-result"]).decode().splitlines()
        report = next(line for line in log if line.startswith("INIT_REPORT"))
        found = INIT_REPORT.match(report)
        assert found is not None and found.groups() == ("invoke", "error", "ValueError")
        # After init's own lines (awslambdaric's [ERROR] record), right before START.
        at = log.index(report)
        assert any(line.startswith("[ERROR] ValueError: broken") for line in log[:at]), log
        assert log[at + 1].startswith("START RequestId: ")
    finally:
        runner.stop()


# Init past Lambda's 10 s on-demand limit (PLATFORMS.md §12.4, DG
# lambda-runtime-environment.html "Init phase": "limited to 10 s. If it does not finish, Lambda
# retries Init at the first invoke, under the function's timeout"). The runner does not run
# init twice: the late init stands for the retry, and its time counts in the call's timeout.
SLOW_INIT = """\
import time

time.sleep({init})


def handler(event, context):
    time.sleep(event.get("sleep", 0))
    return {{"left_ms": context.get_remaining_time_in_millis()}}
"""


def _slow(tmp_path: Path, init: float) -> Path:
    (tmp_path / "app.py").write_text(SLOW_INIT.format(init=init))
    return tmp_path


def _init_reports(log: list[str]) -> list[tuple[str | Any, ...]]:
    found = [INIT_REPORT.match(line) for line in log if line.startswith("INIT_REPORT")]
    assert all(found), log
    return [m.groups() for m in found if m is not None]


def test_invoke_an_init_past_the_limit_counts_in_the_timeout(tmp_path: Path):
    root = _slow(tmp_path, 10.5)
    done = _invoke(root, "app.handler", "--platform", "aws", "--timeout", "15")
    log = done.stderr.decode().splitlines()
    assert done.returncode == 0, log
    # The init phase's timeout at its limit, then the call (with init's time in it) succeeds.
    assert _init_reports(log) == [("init", "timeout", None)], log
    assert "INIT_REPORT Init Duration: 10000.00 ms\tPhase: init\tStatus: timeout" in log
    assert any("past Lambda's 10 s init limit" in line for line in log), log
    left = json.loads(done.stdout)["left_ms"]
    assert 3000 < left < 15000 - 10500 + 200, left  # 15 s less the ~10.5 s init
    report = next(line for line in log if line.startswith("REPORT RequestId: "))
    duration = float(re.search(r"\tDuration: ([\d.]+) ms", report).group(1))  # type: ignore[union-attr]
    assert duration >= 10500, report  # the retried init is inside the invocation


def test_invoke_an_init_past_the_limit_and_the_timeout_times_out(tmp_path: Path):
    root = _slow(tmp_path, 30)
    done = _invoke(root, "app.handler", "--platform", "aws", "--timeout", "3")
    log = done.stderr.decode().splitlines()
    assert done.returncode == 1, log
    # Lambda: 10 s of init phase, then the retry inside the invoke, cut at the 3 s timeout.
    assert _init_reports(log) == [("init", "timeout", None), ("invoke", "timeout", None)], log
    assert "INIT_REPORT Init Duration: 3000.00 ms\tPhase: invoke\tStatus: timeout" in log
    at = next(i for i, line in enumerate(log) if "Phase: invoke" in line)
    assert log[at + 1].startswith("START RequestId: ")
    assert "Task timed out after 3.00 seconds" in done.stderr.decode()
    assert json.loads(done.stdout)["errorType"] == "Sandbox.Timedout"


def _served_report(runner: Runner, index: int) -> tuple[float, float]:
    """(Duration, Billed Duration) of the served function's `index`th REPORT line, which
    the runner's report event says too."""
    runner.wait_for(lambda e: e["event"] == "report" and len(_reports(runner)) > index, 20)
    line = _reports(runner)[index]
    found = re.search(r"\tDuration: ([\d.]+) ms\tBilled Duration: (\d+) ms", line)
    assert found is not None, line
    event = [e for e in runner.events if e["event"] == "report"][index]
    # The line rounds to 0.01 ms what the event says to 0.001 ms (x.xx5 may round either way
    # in binary floating point): the same figure within half a hundredth, and a hair.
    assert abs(event["durationMs"] - float(found.group(1))) <= 0.005 + 1e-6, (event, line)
    return float(found.group(1)), float(found.group(2))


def _reports(runner: Runner) -> list[str]:
    with runner.changed:
        return [
            e["line"]
            for e in runner.events
            if e["event"] == "log" and e["line"].startswith("REPORT RequestId: ")
        ]


def test_served_init_past_the_limit_leaves_the_first_call_the_rest(tmp_path: Path):
    root = _slow(tmp_path, 10.5)
    runner = Runner(["app.handler", "--platform", "aws", "--timeout", "15", "--no-watch"], root)
    try:
        ahead = runner.wait_for(
            lambda e: e["event"] == "log" and e["line"].startswith("INIT_REPORT"), timeout=40
        )
        assert INIT_REPORT.match(ahead["line"]).groups() == ("init", "timeout", None)  # type: ignore[union-attr]
        # 15 s less the 10.5 s init: a handler sleeping 5 s times out, as the retried init
        # plus the handler would deployed.
        status, _, body = runner.request(
            "POST", "/2015-03-31/functions/function/invocations", b'{"sleep": 5}'
        )
        assert status == 200 and b"Task timed out after 15.00 seconds" in body, body
        # Its Duration counts the init as the retried init's would: the whole 15 s timeout.
        timed_out = _served_report(runner, 0)
        assert 14_900 <= timed_out[0] < 16_500 and timed_out[1] >= 15_000, timed_out
        # The timeout ended that instance, as it ends Lambda's execution environment: the
        # next call is a cold start again, with the same rest of its timeout.
        status, _, body = runner.request(
            "POST", "/2015-03-31/functions/function/invocations", b"{}"
        )
        assert status == 200 and 3000 < json.loads(body)["left_ms"] < 4700, body
        # The ~10.5 s init in that call's Duration and Billed Duration, as in invoke's.
        duration, billed = _served_report(runner, 1)
        assert 10_500 <= duration < 14_000 and billed >= 10_500, (duration, billed)
    finally:
        runner.stop()
