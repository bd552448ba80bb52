"""`serve` start-up errors, `invoke`, and no orphans whatever happens to the supervisor."""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

from handlerlens.platforms.sample_events import sample_event
from tests.runner.harness import FIXTURES, Runner, alive, wait_gone

YANDEX = FIXTURES / "yandex"
AWS = FIXTURES / "aws"


def _run(
    args: list[str], cwd: Path, stdin: bytes | None = None
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "handlerlens.runner", *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        timeout=60,
    )


def _another_interpreter(directory: Path) -> Path:
    """A different path to this interpreter: "another interpreter" for the runner, which then
    runs the worker as a child process instead of in its own."""
    wrapper = directory / "py"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    wrapper.chmod(0o755)
    return wrapper


def test_port_in_use_is_a_clear_error_with_status_2():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = _run(["serve", "main.dump", "--platform", "yandex", "--port", str(port)], YANDEX)
    assert result.returncode == 2
    message = result.stderr.decode()
    assert f"cannot listen on 127.0.0.1:{port}" in message
    assert "--port 0" in message


def test_missing_interpreter_is_a_clear_error_with_status_2():
    result = _run(["serve", "main.dump", "--python", "/nowhere/python3"], YANDEX)
    assert result.returncode == 2
    assert "Python interpreter not found: /nowhere/python3" in result.stderr.decode()
    result = _run(["invoke", "main.dump", "--python", "no-such-python-here"], YANDEX)
    assert result.returncode == 2


def test_invoke_prints_the_result_on_stdout_and_the_log_on_stderr():
    result = _run(
        ["invoke", "app.handler", "--platform", "aws", "--event", "-"], AWS, stdin=b'{"n": 5}'
    )
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["event"] == {"n": 5}
    assert payload["context"]["function_name"] == "test_function"
    log = result.stderr.decode().splitlines()
    # A cold start: INIT_START first (PLATFORMS.md §12.4, runtime-management-identify.html).
    assert log[0].startswith("INIT_START Runtime Version: python:3.")
    assert log[1].startswith("START RequestId: ") and log[1].endswith(" Version: $LATEST")
    assert log[2] == 'handling {"n": 5}'
    assert log[3].startswith("END RequestId: ")
    assert log[4].startswith("REPORT RequestId: ") and "\tInit Duration: " in log[4]


def test_invoke_exits_1_on_a_function_error(tmp_path: Path):
    event = tmp_path / "event.json"
    event.write_text('{"n": 2}')
    result = _run(["invoke", "app.boom", "--platform", "aws", "--event", str(event)], AWS)
    assert result.returncode == 1
    error = json.loads(result.stdout)
    assert error["errorType"] == "ValueError" and error["errorMessage"] == "bad input: 2"
    # The runtime joins the record's lines with \r; stderr is for people: one per line.
    assert "[ERROR] ValueError: bad input: 2\nTraceback (most recent call last):\n" in (
        result.stderr.decode()
    )
    assert b"\r" not in result.stderr


def test_a_misspelt_entry_point_gets_the_platforms_error_and_a_hint(tmp_path: Path):
    # In this interpreter (the worker runs in-process) and in another one (a child worker).
    for extra in ([], ["--python", str(_another_interpreter(tmp_path))]):
        result = _run(["invoke", "app.handlr", "--platform", "aws", *extra], AWS, b"{}")
        assert result.returncode == 1
        assert json.loads(result.stdout)["errorType"] == "Runtime.HandlerNotFound"
        assert (
            "handlerlens: the entry point 'app.handlr' did not load. Did you mean 'app.handler'?"
        ) in result.stderr.decode()
    # A module that loads but fails inside gets no hint: the entry point is right.
    (tmp_path / "main.py").write_text("import no_such_dependency\n\ndef handler(e, c):\n    pass\n")
    result = _run(["invoke", "main.handler", "--platform", "yandex"], tmp_path, b"{}")
    assert json.loads(result.stdout)["errorType"] == "ModuleNotFoundError"
    assert "Did you mean" not in result.stderr.decode()


def test_serve_says_which_entry_point_was_meant_when_init_fails():
    served = Runner(["main.dumb", "--platform", "yandex", "--no-watch"], YANDEX)
    try:
        line = served.wait_stderr("init failed")
        assert "module 'main' has no attribute 'dumb'" in line
        assert "Did you mean 'main.dump'?" in line
    finally:
        served.stop()


def _report_field(stderr: str, name: str) -> float:
    match = re.search(rf"{name}: ([0-9.]+) ms", stderr)
    assert match, stderr
    return float(match.group(1))


def test_invoke_survives_a_handler_that_ends_the_interpreter(tmp_path: Path):
    # The platform's error JSON on stdout and exit 1, whatever the handler does to its
    # process; in this interpreter (a forked worker) and in another one (a spawned worker).
    yandex = [
        ("main.segfault", "signal: segmentation fault"),
        ("main.hard_exit", "exit status 7"),
        ("main.exits", "exit status 3"),
    ]
    for extra in ([], ["--python", str(_another_interpreter(tmp_path))]):
        for entry, how in yandex:
            result = _run(["invoke", entry, "--platform", "yandex", *extra], YANDEX, b"{}")
            assert result.returncode == 1, (entry, result.stderr)
            assert json.loads(result.stdout) == {
                "errorMessage": f"Runtime exited with error: {how}",
                "errorType": "RuntimeExitError",
            }
            log = result.stderr.decode()
            assert f"Error: Runtime exited with error: {how}" in log
            assert "REPORT RequestID:" in log
    result = _run(
        ["invoke", "app.hog", "--platform", "aws", "--memory", "128", "--event", "-"],
        AWS,
        b'{"mb": 300}',
    )
    assert result.returncode == 1
    error = json.loads(result.stdout)
    assert error["errorType"] == "Runtime.ExitError"
    assert error["errorMessage"].endswith("Error: Runtime exited with error: signal: killed")
    assert "over the function's memory size of 128 MB: killed" in result.stderr.decode()
    # Within the memory size the same handler answers.
    result = _run(
        ["invoke", "app.hog", "--platform", "aws", "--memory", "128", "--event", "-"],
        AWS,
        b'{"mb": 40}',
    )
    assert result.returncode == 0 and json.loads(result.stdout) == 40 << 20


def test_invoke_on_yandex_counts_the_init_in_the_timeout_and_once_in_the_duration(
    tmp_path: Path,
):
    (tmp_path / "main.py").write_text(
        "import time\ntime.sleep(0.6)\n\ndef handler(event, context):\n    return 'ready'\n"
    )
    result = _run(["invoke", "main.handler", "--platform", "yandex", "--timeout", "0.4"], tmp_path)
    assert result.returncode == 1
    assert json.loads(result.stdout)["errorType"] == "Timeout"
    result = _run(["invoke", "main.handler", "--platform", "yandex", "--timeout", "2"], tmp_path)
    assert result.returncode == 0 and json.loads(result.stdout) == "ready"
    log = result.stderr.decode()
    init, duration = _report_field(log, "Function Init Duration"), _report_field(log, "Duration")
    assert init >= 600 and init <= duration < init + 300
    # AWS runs init before the invocation's clock: the same init fits a shorter timeout.
    result = _run(["invoke", "main.handler", "--platform", "aws", "--timeout", "0.4"], tmp_path)
    assert result.returncode == 0
    assert _report_field(result.stderr.decode(), "Duration") < 300


def test_invoke_times_out_like_the_platform():
    result = _run(["invoke", "main.hang", "--platform", "yandex", "--timeout", "0.5"], YANDEX)
    assert result.returncode == 1
    assert json.loads(result.stdout)["errorType"] == "Timeout"
    # Init ran inside the call's time limit, as on Yandex: the line says how much it used.
    assert re.search(
        r"^ERROR RequestID: \S+ Code: 504 Message: Execution timeout exceeded after 0\.50 "
        r"seconds \(the function's timeout, 0\.5 s, set with --timeout; init took 0\.\d\d s "
        r"of it\)$",
        result.stderr.decode(),
        re.M,
    ), result.stderr.decode()


def test_invoke_rejects_an_event_that_is_not_json():
    result = _run(["invoke", "main.dump", "--platform", "yandex", "--event", "-"], YANDEX, b"{x")
    assert result.returncode == 2
    assert "the event is not valid JSON" in result.stderr.decode()


def test_invoke_in_another_interpreter_runs_a_child_worker(tmp_path: Path):
    wrapper = _another_interpreter(tmp_path)
    result = _run(
        ["invoke", "app.handler", "--platform", "aws", "--python", str(wrapper)], AWS, b""
    )
    assert result.returncode == 0, result.stderr
    # No --event: the sample event of the platform's default trigger, and a line that says so.
    assert json.loads(result.stdout)["event"] == sample_event("aws", "http-api")
    assert b"HANDLERLENS-END" not in result.stderr


def test_invoke_gives_the_handler_a_collecting_interpreter_and_exits_with_its_status(
    tmp_path: Path,
):
    """The console `invoke` runs without the cyclic collector and skips the interpreter's
    teardown (cli.main): the handler's process still collects, as deployed, in the forked
    worker and in another interpreter's, and the output and exit status are all there."""
    (tmp_path / "main.py").write_text(
        "import gc\n"
        "def handler(event, context):\n"
        "    print('log line')\n"
        "    if event.get('fail'):\n"
        "        raise ValueError('failed as asked')\n"
        "    return {'gc': gc.isenabled(), 'body': 'x' * 100000}\n"
    )
    wrapper = _another_interpreter(tmp_path)
    for python in ([], ["--python", str(wrapper)]):
        ok = _run(
            ["invoke", "main.handler", "--platform", "aws", "--event", "-", *python],
            tmp_path,
            b"{}",
        )
        assert ok.returncode == 0, ok.stderr
        assert json.loads(ok.stdout) == {"gc": True, "body": "x" * 100000}
        assert "log line" in ok.stderr.decode() and "REPORT RequestId" in ok.stderr.decode()
        failed = _run(
            ["invoke", "main.handler", "--platform", "aws", "--event", "-", *python],
            tmp_path,
            b'{"fail": true}',
        )
        assert failed.returncode == 1
        assert json.loads(failed.stdout)["errorMessage"] == "failed as asked"


def test_no_orphans_after_the_supervisor_is_killed():
    runner = Runner(["child=main.child", "--platform", "yandex"], YANDEX)
    try:
        child = int(runner.request("GET", "/")[2])
        workers = runner.worker_pids()
        assert len(workers) >= 2  # the instance and its standby
        runner.process.send_signal(signal.SIGKILL)
        runner.process.wait(10)
        assert wait_gone([child, *workers]) == []
    finally:
        runner.stop()
    assert not alive(child)


def test_invoke_takes_the_declared_settings_and_skips_the_model_when_nothing_declares(
    tmp_path: Path,
):
    # Platform, name and memory from a SAM template beside the code: the project model is read.
    (tmp_path / "app.py").write_text(
        "def handler(event, context):\n"
        "    return {'name': context.function_name, 'memory': context.memory_limit_in_mb}\n"
    )
    (tmp_path / "template.yaml").write_text(
        "AWSTemplateFormatVersion: '2010-09-09'\n"
        "Transform: AWS::Serverless-2016-10-31\n"
        "Resources:\n"
        "  Orders:\n"
        "    Type: AWS::Serverless::Function\n"
        "    Properties:\n"
        "      Handler: app.handler\n"
        "      Runtime: python3.12\n"
        "      MemorySize: 512\n"
    )
    result = _run(["invoke", "app.handler", "--event", "-"], tmp_path, b"{}")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"name": "Orders", "memory": "512"}
    # AWS's spelling, after the cold start's INIT_START with the declared runtime (§12.4).
    first, second = result.stderr.decode().splitlines()[:2]
    assert first.startswith("INIT_START Runtime Version: python:3.12.v")
    assert second.startswith("START RequestId: ")

    # An event file and package.json are not declarations: the entry point says it all
    # (Yandex by default: a function id as the name, its default memory as an int).
    (tmp_path / "template.yaml").unlink()
    (tmp_path / "event.json").write_text('{"Records": []}')
    (tmp_path / "package.json").write_text("{}")
    result = _run(["invoke", "app.handler", "--event", "event.json"], tmp_path)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["memory"] == 128 and answer["name"].startswith("d4e")
    assert result.stderr.decode().startswith("START RequestID: ")  # Yandex's spelling


def test_the_platform_root_logger_is_set_before_user_code_but_loaded_only_when_used(
    tmp_path: Path,
):
    # The runtime installs the platform's root handler as `logging` first loads (not before):
    # a handler that never logs does not load it; one that does finds the platform's
    # handler in place, so its own basicConfig() does nothing, as on Lambda.
    (tmp_path / "quiet.py").write_text(
        "import sys\n"
        "def handler(event, context):\n"
        "    return {'logging_loaded': 'logging' in sys.modules}\n"
    )
    (tmp_path / "app.py").write_text(
        "import logging\n"
        "logging.basicConfig(level=logging.DEBUG, format='MINE %(message)s')\n"
        "def handler(event, context):\n"
        "    logging.info('hidden: the root logger stays at WARNING')\n"
        "    logging.warning('shown')\n"
        "    return 1\n"
    )
    (tmp_path / "late.py").write_text(
        "def handler(event, context):\n"
        "    import logging\n"
        "    logging.warning('late')\n"
        "    return 2\n"
    )
    wrapper = _another_interpreter(tmp_path)
    for python in ([], ["--python", str(wrapper)]):  # in process, then a child worker
        quiet = _run(["invoke", "quiet.handler", "--platform", "aws", *python], tmp_path)
        assert json.loads(quiet.stdout) == {"logging_loaded": False}, quiet.stderr
        for module, message, result in (("app", "shown", 1), ("late", "late", 2)):
            run = _run(
                ["invoke", f"{module}.handler", "--platform", "aws", "--event", "-", *python],
                tmp_path,
                b"{}",
            )
            assert run.returncode == 0 and json.loads(run.stdout) == result, run.stderr
            log = run.stderr.decode()
            rid = log.splitlines()[1].split()[2]  # START's, after INIT_START (§12.4)
            assert re.search(rf"^\[WARNING\]\t\S+Z\t{rid}\t{message}$", log, re.M), log
            assert "MINE" not in log and "hidden" not in log


def test_files_named_like_late_loaded_standard_modules_do_not_replace_them(tmp_path: Path):
    # The runtime loads logging and traceback only when needed, after the code root is first
    # on sys.path; the function's own logging.py / traceback.py must not take their place.
    for name in ("logging", "traceback"):
        (tmp_path / f"{name}.py").write_text("raise RuntimeError('the user file was imported')\n")
    (tmp_path / "app.py").write_text(
        "def handler(event, context):\n"
        "    import logging\n"
        "    logging.warning('standard logging')\n"
        "    raise ValueError('bad')\n"
    )
    wrapper = _another_interpreter(tmp_path)
    # (`python -m` would put its working directory first on sys.path for the command itself:
    # it runs from elsewhere, as the language server's runner does, with --root.)
    # The root is named through a symlink: sys.path holds that name, the working directory
    # the resolved one; both mean the code root.
    link = tmp_path.parent / f"{tmp_path.name}-link"
    link.symlink_to(tmp_path, target_is_directory=True)
    root = ["--root", str(link)]
    for python in ([], ["--python", str(wrapper)]):
        run = _run(["invoke", "app.handler", "--platform", "aws", *root, *python], FIXTURES, b"")
        assert run.returncode == 1, run.stderr
        error = json.loads(run.stdout)
        assert error["errorType"] == "ValueError" and error["errorMessage"] == "bad"
        assert any("raise ValueError('bad')" in frame for frame in error["stackTrace"])
        log = run.stderr.decode()
        assert re.search(r"^\[WARNING\]\t\S+Z\t\S+\tstandard logging$", log, re.M), log
        assert "the user file was imported" not in log


def test_aws_json_log_format_and_level(tmp_path: Path):
    # AWS_LAMBDA_LOG_FORMAT=JSON (SAM's LoggingConfig) changes the root logger and the
    # unhandled-error line; AWS_LAMBDA_LOG_LEVEL=TRACE means DEBUG.
    (tmp_path / "app.py").write_text(
        "import logging\n"
        "def handler(event, context):\n"
        "    logging.getLogger('orders').debug('seen %s', event['n'], extra={'order': 7})\n"
        "    try:\n"
        "        1 / 0\n"
        "    except ZeroDivisionError:\n"
        "        logging.exception('division')\n"
        "    raise ValueError('bad input')\n"
    )
    env = ["--env", "AWS_LAMBDA_LOG_FORMAT=JSON", "--env", "AWS_LAMBDA_LOG_LEVEL=TRACE"]
    result = _run(
        ["invoke", "app.handler", "--platform", "aws", *env, "--event", "-"], tmp_path, b'{"n": 3}'
    )
    assert result.returncode == 1
    lines = result.stderr.decode().splitlines()
    records = [json.loads(line) for line in lines if line.startswith("{")]
    # In JSON log mode the platform's lines are JSON records too (DG
    # monitoring-cloudwatchlogs-logformat.html, telemetry-schema-reference.html):
    # platform.initStart, platform.start, then the function's, then platform.report.
    platform = [r for r in records if str(r.get("type", "")).startswith("platform.")]
    assert [r["type"] for r in platform] == [
        "platform.initStart",
        "platform.start",
        "platform.report",
    ]
    rid = platform[1]["record"]["requestId"]
    assert platform[2]["record"]["status"] == "error"
    entries = [r for r in records if r not in platform]
    debug, error, unhandled = entries
    assert debug["level"] == "DEBUG" and debug["message"] == "seen 3"
    assert debug["logger"] == "orders" and debug["order"] == 7 and debug["requestId"] == rid
    assert debug["timestamp"].endswith("Z") and "stackTrace" not in debug
    assert error["level"] == "ERROR" and error["errorType"] == "ZeroDivisionError"
    assert error["errorMessage"] == "division by zero" and error["location"].endswith(":handler:7")
    assert any("1 / 0" in frame for frame in error["stackTrace"])
    assert unhandled["log_level"] == "ERROR" and unhandled["errorType"] == "ValueError"
    assert unhandled["errorMessage"] == "bad input" and unhandled["requestId"] == rid
    assert json.loads(result.stdout)["errorType"] == "ValueError"


def test_invoke_on_aws_writes_inits_lines_between_init_start_and_start(tmp_path: Path):
    # Lambda's log of a cold start: INIT_START, what init printed, then START (PLATFORMS.md
    # §12.4: INIT_START once per new environment; Init runs before the invoke). An init
    # error's lines too: LAMBDA_WARNING and the [ERROR] record (§6.3).
    (tmp_path / "app.py").write_text(
        "print('at import')\ndef handler(event, context):\n    print('in call')\n    return 1\n"
    )
    (tmp_path / "bad.py").write_text("raise RuntimeError('no config')\n")
    result = _run(["invoke", "app.handler", "--platform", "aws", "--event", "-"], tmp_path, b"{}")
    lines = result.stderr.decode().splitlines()
    assert lines[0].startswith("INIT_START Runtime Version: python:3.")
    assert lines[1] == "at import"
    assert lines[2].startswith("START RequestId: ")
    assert lines[3] == "in call"
    assert lines[4].startswith("END RequestId: ") and lines[5].startswith("REPORT RequestId: ")
    result = _run(["invoke", "bad.handler", "--platform", "aws", "--event", "-"], tmp_path, b"{}")
    assert result.returncode == 1
    lines = result.stderr.decode().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("START RequestId: "))
    assert lines[0].startswith("INIT_START ")
    assert any("\tLAMBDA_WARNING: Unhandled exception" in line for line in lines[1:start])
    assert "[ERROR] RuntimeError: no config" in lines[1:start]
    assert lines[start + 1].startswith("END RequestId: ")


def test_aws_json_log_format_alone_is_level_info_with_awslambdarics_records(tmp_path: Path):
    # AWS_LAMBDA_LOG_FORMAT=JSON with no level: Lambda sets the application log level to INFO
    # (PLATFORMS.md §12.1: "with JSON, AWS_LAMBDA_LOG_LEVEL defaults to INFO"), so INFO
    # records show and DEBUG ones do not (the text format's root logger stays at WARNING).
    (tmp_path / "app.py").write_text(
        "import logging, os\n"
        "def handler(event, context):\n"
        "    logging.debug('not shown')\n"
        "    logging.info('shown: %s', os.environ['AWS_LAMBDA_LOG_LEVEL'])\n"
        "    def inner():\n"
        "        return {'a': 1}['b'] + 1\n"
        "    inner()\n"
    )
    env = ["--env", "AWS_LAMBDA_LOG_FORMAT=JSON", "--runtime", "python3.12"]
    result = _run(["invoke", "app.handler", "--platform", "aws", *env], tmp_path, b"{}")
    assert result.returncode == 1
    lines = result.stderr.decode().splitlines()
    records = [json.loads(line) for line in lines if line.startswith("{")]
    # The platform's own lines are JSON records in this mode too (see the test above).
    entries = [r for r in records if not str(r.get("type", "")).startswith("platform.")]
    info, unhandled = entries
    assert info["level"] == "INFO" and info["message"] == "shown: INFO"
    # awslambdaric 4.0.1 lambda_runtime_log_utils: JsonFormatter's timestamp is
    # _DATETIME_FORMAT "%Y-%m-%dT%H:%M:%SZ" (whole seconds), under gmtime.
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", info["timestamp"]), info
    # awslambdaric 4.0.1 bootstrap.log_error (JSON): {"timestamp" (the same format),
    # "log_level": "ERROR", **error_result}, keys in that order.
    assert list(unhandled) == [
        "timestamp",
        "log_level",
        "errorMessage",
        "errorType",
        "requestId",
        "stackTrace",
    ]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", unhandled["timestamp"])
    assert unhandled["log_level"] == "ERROR" and unhandled["errorType"] == "KeyError"
    # stackTrace entries are traceback.format_list of (file, line, name, text) tuples
    # (bootstrap.handle_event_request): `  File "…", line N, in name\n    text\n`, no
    # `^^^^` position lines on 3.11+.
    trace = unhandled["stackTrace"]
    assert trace[-1].startswith('  File "') and trace[-1].endswith(
        ", in inner\n    return {'a': 1}['b'] + 1\n"
    )
    assert not any("^" in frame for frame in trace), trace
    assert json.loads(result.stdout)["stackTrace"] == trace


def test_no_target_still_serves_the_guessed_handler_when_nothing_declares(tmp_path: Path):
    # The entry-point shortcut must not hide the heuristic from `serve` with no target.
    from handlerlens.runner.targets import resolve_targets

    (tmp_path / "main.py").write_text("def handler(event, context):\n    return 1\n")
    (tmp_path / "event.json").write_text("{}")
    (served,) = resolve_targets([], root=str(tmp_path), platform=None)
    assert served.entry == "main.handler" and served.platform == "yandex"
    (by_entry,) = resolve_targets(["main.handler"], root=str(tmp_path), platform=None)
    assert by_entry.entry == "main.handler" and by_entry.name == "main"
