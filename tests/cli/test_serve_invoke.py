"""`handlerlens serve` and `invoke` as a user types them: help, flags, events, targets.

Each runs the real command in a subprocess (`python -m handlerlens …`), or a served runner
(tests.runner.harness) where the answer comes over HTTP.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.parse
from pathlib import Path

from handlerlens.platforms.sample_events import sample_event
from handlerlens.platforms.triggers import AWS_TRIGGERS, YANDEX_TRIGGERS
from tests.runner.harness import Runner

ECHO = (
    "def handler(event, context):\n"
    "    return {'event': event, 'name': context.function_name,\n"
    "            'memory': context.memory_limit_in_mb}\n"
)


def handlerlens(
    *args: str, cwd: Path, stdin: bytes | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "handlerlens", *args],
        cwd=cwd,
        input=stdin.decode() if stdin is not None else None,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
    )


def usage_error(result: subprocess.CompletedProcess[str], command: str) -> str:
    """The message of an argparse usage error of `command`, checked for its shape."""
    assert result.returncode == 2, result
    assert result.stdout == ""
    assert result.stderr.startswith(f"usage: handlerlens {command} "), result.stderr
    assert "Traceback" not in result.stderr
    return result.stderr.splitlines()[-1]


def serverless(folder: Path, name: str, handler: str = "main.handler", extra: str = "") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "serverless.yml").write_text(
        f"service: {folder.name}\n"
        "provider:\n  name: aws\n  runtime: python3.12\n"
        f"functions:\n  {name}:\n    handler: {handler}\n{extra}"
    )


# -- 6. help and defaults -------------------------------------------------------------------


def test_help_states_every_default_and_the_trigger_ids(tmp_path: Path) -> None:
    wide = {"COLUMNS": "400"}  # one line per option
    serve = handlerlens("serve", "--help", cwd=tmp_path, env=wide)
    invoke = handlerlens("invoke", "--help", cwd=tmp_path, env=wide)
    assert serve.returncode == invoke.returncode == 0
    for text in (serve.stdout, invoke.stdout):
        assert (
            "function timeout in seconds (default: the declared timeout, else 6 for an AWS "
            "function in serverless.yml, else 3)" in text
        )
        assert (
            "(default: the declared size, else 1024 for an AWS function in serverless.yml, else "
            "128 on Yandex, 128 on AWS, 3008 (RIE's) for an AWS entry point nothing declares)"
            in text
        )
        assert "(default: the declared one, else http on Yandex, http-api on AWS)" in text
        assert "Yandex: " + ", ".join(YANDEX_TRIGGERS) in text
        assert "AWS: " + ", ".join(AWS_TRIGGERS) in text
        assert "(default 3)" not in text
    assert "port on 127.0.0.1 (default 8080; 0: any free one)" in serve.stdout
    assert "(default: the sample event of the function's trigger)" in invoke.stdout


def test_a_mistyped_flag_gets_the_commands_usage_and_a_suggestion(tmp_path: Path) -> None:
    line = usage_error(handlerlens("serve", "--prot", "8080", cwd=tmp_path), "serve")
    assert line == "handlerlens serve: error: unrecognized arguments: --prot (did you mean --port?)"
    line = usage_error(handlerlens("invoke", "main.handler", "--tiemout=2", cwd=tmp_path), "invoke")
    assert line.endswith("unrecognized arguments: --tiemout=2 (did you mean --timeout?)")
    # Nothing close: no suggestion, still the command's own usage.
    line = usage_error(handlerlens("invoke", "--zzzzzz", cwd=tmp_path), "invoke")
    assert line == "handlerlens invoke: error: unrecognized arguments: --zzzzzz"


def test_ports_and_numbers_are_checked_when_parsed(tmp_path: Path) -> None:
    (tmp_path / "main.py").write_text(ECHO)
    line = usage_error(
        handlerlens("serve", "main.handler", "--port", "99999", cwd=tmp_path), "serve"
    )
    assert line == (
        "handlerlens serve: error: argument --port: 99999 is not a port: use 0..65535 "
        "(0: any free one)"
    )
    line = usage_error(handlerlens("serve", "--debug-port", "-1", cwd=tmp_path), "serve")
    assert "argument --debug-port: -1 is not a port" in line
    line = usage_error(handlerlens("serve", "--port", "http", cwd=tmp_path), "serve")
    assert line.endswith("argument --port: not a port number: 'http'")
    for bad in ("0", "-1", "inf", "nan"):
        line = usage_error(handlerlens("invoke", "--timeout", bad, cwd=tmp_path), "invoke")
        assert line.endswith(f"--timeout: expected a positive number of seconds, got '{bad}'")
    line = usage_error(handlerlens("invoke", "--memory", "lots", cwd=tmp_path), "invoke")
    assert line.endswith("argument --memory: expected a positive number of MB, got 'lots'")


def test_a_missing_interpreter_names_the_editors_real_setting(tmp_path: Path) -> None:
    (tmp_path / "main.py").write_text(ECHO)
    result = handlerlens("invoke", "main.handler", "--python", "/no/such", cwd=tmp_path)
    assert result.returncode == 2
    assert "Python interpreter not found: /no/such" in result.stderr
    assert "handlerlens.interpreter setting" in result.stderr
    assert "handlerlens.python" not in result.stderr


def test_an_unknown_trigger_is_refused_with_the_platforms_ids(tmp_path: Path) -> None:
    (tmp_path / "main.py").write_text(ECHO)
    yandex_ids = ", ".join(YANDEX_TRIGGERS)
    for command in (["invoke", "main.handler"], ["serve", "main.handler", "--port", "0"]):
        result = handlerlens(*command, "--trigger", "bogus", cwd=tmp_path)
        assert result.returncode == 2 and result.stdout == ""
        assert result.stderr == (
            "handlerlens: unknown --trigger 'bogus' for 'main', a Yandex function "
            f"(Yandex triggers: {yandex_ids})\n"
        )
    result = handlerlens("invoke", "main.handler", "--trigger", "timr", cwd=tmp_path)
    assert result.returncode == 2
    assert "unknown --trigger 'timr' for 'main', a Yandex function. Did you mean 'timer'?" in (
        result.stderr
    )
    # Another platform's trigger, on a function the project declares for Yandex.
    (tmp_path / "pyproject.toml").write_text(
        '[tool.handlerlens]\nplatform = "yandex"\nentry = "main.handler"\nname = "echo"\n'
    )
    result = handlerlens("invoke", "echo", "--trigger", "sqs", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith(
        "handlerlens: --trigger 'sqs' is an AWS trigger, but 'echo' runs on Yandex "
        f"(Yandex triggers: {yandex_ids})"
    )
    # A valid one is taken: no --event sends its sample.
    result = handlerlens("invoke", "echo", "--trigger", "timer", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["event"] == sample_event("yandex", "timer")


def test_no_event_sends_the_triggers_sample_and_says_so(tmp_path: Path) -> None:
    (tmp_path / "main.py").write_text(ECHO)
    result = handlerlens("invoke", "main.handler", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["event"] == sample_event("yandex", "http")
    assert result.stderr.splitlines()[0] == (
        "handlerlens: no --event: sending the sample event for trigger 'http' "
        "(the platform's default trigger)"
    )
    # The declared trigger's sample, not the platform's HTTP one.
    (tmp_path / "pyproject.toml").write_text(
        '[tool.handlerlens]\nplatform = "aws"\nentry = "main.handler"\ntrigger = "sqs"\n'
    )
    result = handlerlens("invoke", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["event"] == sample_event("aws", "sqs")
    assert result.stderr.splitlines()[0] == (
        "handlerlens: no --event: sending the sample event for trigger 'sqs' "
        "(the function's trigger)"
    )


def test_empty_stdin_and_bad_json_are_errors_that_say_where(tmp_path: Path) -> None:
    (tmp_path / "main.py").write_text(ECHO)
    for stdin in (b"", b"  \n"):
        result = handlerlens("invoke", "main.handler", "--event", "-", cwd=tmp_path, stdin=stdin)
        assert result.returncode == 2 and result.stdout == ""
        assert result.stderr.startswith("handlerlens: --event -: stdin was empty;")
    (tmp_path / "event.json").write_text('{\n  "name": "Ada",\n  "age": \n}\n')
    result = handlerlens("invoke", "main.handler", "--event", "event.json", cwd=tmp_path)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == (
        "handlerlens: the event is not valid JSON: event.json:4:1: Expecting value\n"
    )
    result = handlerlens("invoke", "main.handler", "--event", "-", cwd=tmp_path, stdin=b"{x")
    assert result.returncode == 2
    assert result.stderr == (
        "handlerlens: the event is not valid JSON: stdin:1:2: "
        "Expecting property name enclosed in double quotes\n"
    )


def test_an_event_typed_in_a_terminal_is_asked_for(tmp_path: Path) -> None:
    # `--event -` on a terminal: a line says what to type instead of a silent wait.
    (tmp_path / "main.py").write_text(ECHO)
    master, slave = os.openpty()
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "handlerlens", "invoke", "main.handler", "--event", "-"],
            cwd=tmp_path,
            stdin=slave,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
    finally:
        os.close(slave)
    try:
        assert process.stderr is not None
        prompt = process.stderr.readline()
        assert prompt == (
            b"handlerlens: --event -: type the event's JSON, then Ctrl-D on a line of its own\n"
        )
        os.write(master, b'{"typed": true}\n\x04')
        out, _ = process.communicate(timeout=60)
        assert process.returncode == 0
        assert json.loads(out)["event"] == {"typed": True}
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(master)


def test_invoke_stays_lean_without_an_event_and_with_one(tmp_path: Path) -> None:
    # No project model, no check formatter, no sample-event module (json's machinery for
    # the samples) for an entry point where nothing declares a function.
    (tmp_path / "main.py").write_text(ECHO)
    (tmp_path / "event.json").write_text("{}")
    for extra in ([], ["--event", "event.json"]):
        traced = subprocess.run(
            [sys.executable, "-X", "importtime", "-m", "handlerlens", "invoke", "main.handler"]
            + extra,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert traced.returncode == 0, traced.stderr
        loaded = {
            line.rsplit("|", 1)[1].strip()
            for line in traced.stderr.splitlines()
            if line.startswith("import time:")
        }
        assert "handlerlens.runner.invoke" in loaded
        for heavy in (
            "handlerlens.project.discovery",
            "handlerlens.check",
            "handlerlens.platforms.sample_events",
            "handlerlens.analysis.entry_points",
            "difflib",
            "importlib.resources",
        ):
            assert heavy not in loaded, heavy


# -- 7. platform and function choice --------------------------------------------------------


def test_a_typed_entry_point_takes_the_projects_platform(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(ECHO + "\nother = handler\n")
    (tmp_path / "template.yaml").write_text(
        "AWSTemplateFormatVersion: '2010-09-09'\n"
        "Transform: AWS::Serverless-2016-10-31\n"
        "Resources:\n"
        "  Orders:\n"
        "    Type: AWS::Serverless::Function\n"
        "    Properties:\n"
        "      Handler: app.handler\n"
        "      Runtime: python3.12\n"
    )
    # `app.other` is declared nowhere, but the only declaring file is a SAM template: AWS.
    result = handlerlens("invoke", "app.other", "--event", "-", cwd=tmp_path, stdin=b"{}")
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["name"] == "test_function" and answer["memory"] == "3008"  # AWS's str
    # AWS's spelling, after the cold start's INIT_START (PLATFORMS.md §12.4).
    assert result.stderr.splitlines()[1].startswith("START RequestId: ")
    assert result.stderr.startswith("INIT_START Runtime Version: python:3.")
    # --platform still decides, and a project that declares both platforms leaves Yandex.
    result = handlerlens("invoke", "app.other", "--platform", "yandex", cwd=tmp_path)
    assert json.loads(result.stdout)["memory"] == 128
    (tmp_path / "pyproject.toml").write_text(
        '[tool.handlerlens]\nplatform = "yandex"\nentry = "app.handler"\nname = "y"\nroot = "y"\n'
    )
    result = handlerlens("invoke", "app.other", "--event", "-", cwd=tmp_path, stdin=b"{}")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["memory"] == 128


def test_invoke_needs_no_target_when_one_function_is_declared(tmp_path: Path) -> None:
    (tmp_path / "main.py").write_text(ECHO)
    serverless(tmp_path, "hello")
    result = handlerlens("invoke", "--event", "-", cwd=tmp_path, stdin=b'{"n": 1}')
    assert result.returncode == 0, result.stderr
    # (1024: the Serverless Framework's default memory size)
    assert json.loads(result.stdout) == {"event": {"n": 1}, "name": "hello", "memory": "1024"}
    serverless(tmp_path, "hello", extra="  bye:\n    handler: main.handler\n")
    result = handlerlens("invoke", "--event", "-", cwd=tmp_path, stdin=b"{}")
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == (
        f"handlerlens: 2 functions are declared under {tmp_path}: name one of them (bye, hello)\n"
    )


def test_two_functions_with_one_name_are_named_and_told_apart(tmp_path: Path) -> None:
    for service in ("svc-a", "svc-b"):
        serverless(tmp_path / service, "hello", extra="    events:\n      - httpApi: '*'\n")
        (tmp_path / service / "main.py").write_text(
            "def handler(event, context):\n"
            f"    return {{'statusCode': 200, 'body': '{service} ' + context.function_name}}\n"
        )
    result = handlerlens("invoke", "hello", cwd=tmp_path)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == (
        "handlerlens: 2 declared functions are named 'hello': svc-a/hello in "
        "svc-a/serverless.yml, svc-b/hello in svc-b/serverless.yml; name one of them as "
        "svc-a/hello\n"
    )
    for target, service in (("svc-b/hello", "svc-b"), ("svc-a/serverless.yml/hello", "svc-a")):
        result = handlerlens("invoke", target, "--event", "-", cwd=tmp_path, stdin=b"{}")
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["body"] == f"{service} hello"  # its own name
    result = handlerlens("invoke", "svc-c/hello", cwd=tmp_path)
    assert result.returncode == 2
    assert "(declared: svc-a/hello, svc-b/hello)" in result.stderr
    result = handlerlens("invoke", "helo", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.endswith("(declared: svc-a/hello, svc-b/hello). Did you mean 'hello'?\n")

    # `serve` with no target serves both, each under its qualified name. Both declare the
    # catch-all route of their own HTTP API (two stacks, two URLs when deployed); on one port
    # the first takes it, the table says so, and the other is reached by its name's prefix.
    runner = Runner(["--no-watch"], tmp_path)
    try:
        line = runner.wait_stderr("handlerlens: serving")
        assert "serving svc-a/hello (aws, main.handler), svc-b/hello (aws, main.handler)" in line
        shadowed = runner.wait_stderr("(shadowed: ")
        assert "$default → svc-b/hello (HTTP API, stage $default)" in shadowed
        assert "svc-a/hello's route from svc-a/serverless.yml takes it on this port" in shadowed
        for service in ("svc-a", "svc-b"):
            status, _, body = runner.request("GET", f"/{service}/hello/items?x=1")
            assert (status, body) == (200, f"{service} hello".encode())
        name = urllib.parse.quote("svc-b/hello", safe="")
        status, _, body = runner.request("POST", f"/2015-03-31/functions/{name}/invocations", b"{}")
        assert status == 200 and json.loads(body)["body"] == "svc-b hello"
        # any other path: the catch-all route of the first API
        status, _, body = runner.request("GET", "/hello/")
        assert (status, body) == (200, b"svc-a hello")
    finally:
        runner.stop()

    # At the root, the folder is the declaring file's name (`./hello` is accepted too).
    serverless(tmp_path, "hello", handler="svc-a/main.handler")
    result = handlerlens("invoke", "hello", cwd=tmp_path)
    assert result.returncode == 2
    assert "3 declared functions are named 'hello': serverless.yml/hello in serverless.yml, " in (
        result.stderr
    )
    for target in ("./hello", "serverless.yml/hello"):
        result = handlerlens("invoke", target, "--event", "-", cwd=tmp_path, stdin=b"{}")
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["body"] == "svc-a hello"


# -- 8. a declaring file that does not parse ------------------------------------------------


def test_a_declaring_file_that_does_not_parse_is_named_as_check_names_it(tmp_path: Path) -> None:
    (tmp_path / "main.py").write_text(ECHO)
    serverless(tmp_path, "hello", extra="   broken: [\n")
    check = handlerlens("check", cwd=tmp_path)
    (line,) = [x for x in check.stdout.splitlines() if "[config-parse-error]" in x]
    assert line.startswith("serverless.yml:8:4: error [config-parse-error] ")
    for command in (["serve", "--port", "0"], ["invoke"], ["invoke", "hello"]):
        result = handlerlens(*command, cwd=tmp_path)
        assert result.returncode == 2 and result.stdout == "", command
        lines = result.stderr.splitlines()
        assert lines[-1] == line, command
        assert lines[-2].endswith(". A declaring file does not parse:"), command
    assert handlerlens("invoke", "hello", cwd=tmp_path).stderr.startswith(
        "handlerlens: 'hello' is neither an entry point (file.function) nor a declared "
        "function (declared: none). A declaring file does not parse:\n"
    )

    # Other functions still run, with the broken file as a warning.
    project = tmp_path / "project"
    serverless(project / "svc", "fine")
    (project / "svc" / "main.py").write_text(ECHO)
    (project / "other").mkdir()
    (tmp_path / "serverless.yml").rename(project / "other" / "serverless.yml")
    warning = [
        "handlerlens: warning: 1 declaring file does not parse; the functions declared there "
        "are left out:",
        "other/" + line,
    ]
    result = handlerlens("invoke", "--event", "-", cwd=project, stdin=b"{}")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["name"] == "fine"
    assert result.stderr.splitlines()[:2] == warning
    runner = Runner(["--no-watch"], project)
    try:
        runner.wait_stderr("serving fine")
        assert runner.stderr[:2] == warning
        assert runner.request("GET", "/")[0] == 200
    finally:
        runner.stop()


# -- 9. suggestions only for a name that is really missing ----------------------------------


def test_no_name_suggestion_when_the_module_does_not_parse(tmp_path: Path) -> None:
    # The names after the syntax error are not read: `list_orders` is not missing.
    (tmp_path / "app.py").write_text(
        "def create_order(event, context):\n"
        "    return 1\n"
        "\n"
        "def broken(:\n"
        "    pass\n"
        "\n"
        "def list_orders(event, context):\n"
        "    return 2\n"
    )
    result = handlerlens("invoke", "app.list_orders", "--event", "-", cwd=tmp_path, stdin=b"{}")
    assert result.returncode == 1
    assert json.loads(result.stdout)["errorType"] == "SyntaxError"
    assert "Did you mean" not in result.stderr
    runner = Runner(["app.list_orders", "--no-watch"], tmp_path)
    try:
        line = runner.wait_stderr("init failed")
        assert "SyntaxError" in line and "Did you mean" not in line
    finally:
        runner.stop()
    # Once it parses, a name that is really missing still gets its suggestion.
    (tmp_path / "app.py").write_text("def list_orders(event, context):\n    return 2\n")
    result = handlerlens("invoke", "app.list_order", "--event", "-", cwd=tmp_path, stdin=b"{}")
    assert result.returncode == 1
    assert "Did you mean 'app.list_orders'?" in result.stderr


def test_a_file_name_typed_as_the_entry_point_gets_its_handler_suggested(tmp_path: Path) -> None:
    # `handlerlens invoke main.py`, as one runs `python main.py`: the platform's error, and
    # the entry point that was meant.
    (tmp_path / "main.py").write_text(
        "import json\n\n\ndef helper(x):\n    return x\n\n\ndef handler(event, context):\n"
        "    return helper(1)\n"
    )
    result = handlerlens("invoke", "main.py", "--event", "-", cwd=tmp_path, stdin=b"{}")
    assert result.returncode == 1
    assert json.loads(result.stdout)["errorType"] == "AttributeError"
    assert "handlerlens: the entry point 'main.py' did not load. Did you mean 'main.handler'?" in (
        result.stderr
    )
    # One function, whatever its name.
    (tmp_path / "only.py").write_text("def run(event, context):\n    return 1\n")
    result = handlerlens("invoke", "only.py", "--event", "-", cwd=tmp_path, stdin=b"{}")
    assert "Did you mean 'only.run'?" in result.stderr
    # Two, neither named handler: no guess.
    (tmp_path / "two.py").write_text(
        "def a(event, context):\n    return 1\n\n\ndef b(e, c):\n    return 2\n"
    )
    result = handlerlens("invoke", "two.py", "--event", "-", cwd=tmp_path, stdin=b"{}")
    assert result.returncode == 1
    assert "Did you mean" not in result.stderr


def test_an_aws_function_in_serverless_yml_runs_with_the_frameworks_defaults(
    tmp_path: Path,
) -> None:
    # Deployed by the Serverless Framework without `timeout`/`memorySize`, it gets 6 s and
    # 1024 MB: a handler that needs 4 s works there, so it does here.
    serverless(tmp_path, "hello")
    (tmp_path / "main.py").write_text(
        "def handler(event, context):\n"
        "    return {'memory': context.memory_limit_in_mb,\n"
        "            'left': context.get_remaining_time_in_millis()}\n"
    )
    result = handlerlens("invoke", "hello", "--event", "-", cwd=tmp_path, stdin=b"{}")
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["memory"] == "1024"
    assert 5000 < answer["left"] <= 6000
    assert "Memory Size: 1024 MB" in result.stderr
    # Declared values win, and a SAM template keeps Lambda's own defaults.
    serverless(tmp_path, "hello", extra="    timeout: 2\n    memorySize: 256\n")
    answer = json.loads(
        handlerlens("invoke", "hello", "--event", "-", cwd=tmp_path, stdin=b"{}").stdout
    )
    assert answer["memory"] == "256" and answer["left"] <= 2000
    (tmp_path / "serverless.yml").unlink()
    (tmp_path / "template.yaml").write_text(
        "Transform: AWS::Serverless-2016-10-31\nResources:\n  Hello:\n"
        "    Type: AWS::Serverless::Function\n    Properties:\n      Handler: main.handler\n"
        "      Runtime: python3.12\n"
    )
    answer = json.loads(
        handlerlens("invoke", "Hello", "--event", "-", cwd=tmp_path, stdin=b"{}").stdout
    )
    # A SAM template without MemorySize deploys with 128 MB (PLATFORMS.md §12.3, SAM
    # samcli/local/lambdafn/config.py:15-16); RIE's 3008 is only for what nothing declares.
    assert answer["memory"] == "128" and answer["left"] <= 3000
