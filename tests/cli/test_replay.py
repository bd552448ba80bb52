"""`handlerlens event new|list` and `handlerlens test`, run as users and CI run them: saved
events through the real runner (child processes, the Invoke API over HTTP), compared with
their expected files."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
SCHEMA = REPO / "server" / "handlerlens" / "data" / "schemas" / "expected.schema.json"

PYPROJECT = """\
[tool.handlerlens]
platform = "aws"
timeout = 2

[[tool.handlerlens.functions]]
name = "api"
entry = "app.api"
trigger = "http-api"

[[tool.handlerlens.functions]]
name = "worker"
entry = "app.worker"
trigger = "sqs"
"""

APP = """\
import json
import time

CALLS = 0


def api(event, context):
    global CALLS
    CALLS += 1
    query = event.get("queryStringParameters") or {}
    if query.get("fail"):
        raise ValueError("asked to fail")
    if query.get("hang"):
        time.sleep(60)
    body = {"hello": query.get("name", "world"), "calls": CALLS, "id": context.aws_request_id}
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json", "X-Calls": str(CALLS)},
        "body": json.dumps(body),
    }


def worker(event, context):
    return {"bodies": [r["body"] for r in event["Records"]]}
"""


def hl(*args: str, cwd: Path, timeout: float = 90) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "handlerlens", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    (tmp_path / "app.py").write_text(APP)
    return tmp_path


def events_dir(project: Path, function: str) -> Path:
    return project / ".handlerlens" / "events" / function


def new_event(project: Path, *args: str) -> Path:
    result = hl("event", "new", *args, cwd=project)
    assert result.returncode == 0, result.stderr
    path = project / result.stdout.strip()
    assert path.is_file()
    return path


def expect(event: Path, data: object) -> Path:
    path = event.with_name(event.name[: -len(".json")] + ".expected.json")
    path.write_text(json.dumps(data, indent=2))
    return path


# event new / event list


def test_event_new_writes_the_declared_triggers_sample_with_set_fields(project: Path) -> None:
    path = new_event(
        project,
        "api",
        "--name",
        "ada",
        "--set",
        "queryStringParameters.name=Ada",
        "--set",
        'body={"a": 1}',
        "--set",
        "requestContext.http.method=POST",
    )
    assert path == events_dir(project, "api") / "ada.json"
    event = json.loads(path.read_text())
    assert event["version"] == "2.0"  # the http-api sample, the declared trigger's
    assert event["queryStringParameters"]["name"] == "Ada"
    assert event["body"] == '{"a": 1}'  # the sample's body is text: it stays text
    assert event["requestContext"]["http"]["method"] == "POST"
    queue = json.loads(new_event(project, "worker", "--set", "Records.0.body=hi").read_text())
    assert queue["Records"][0]["body"] == "hi"
    assert (events_dir(project, "worker") / "sqs.json").is_file()  # named after the trigger


def test_event_new_refuses_to_overwrite_without_force(project: Path) -> None:
    path = new_event(project, "api", "--name", "ada")
    path.write_text('{"mine": true}')
    result = hl("event", "new", "api", "--name", "ada", cwd=project)
    assert result.returncode == 2
    assert ".handlerlens/events/api/ada.json exists already: pass --force" in result.stderr
    assert json.loads(path.read_text()) == {"mine": True}
    assert new_event(project, "api", "--name", "ada", "--force") == path
    assert "mine" not in json.loads(path.read_text())
    # Without --name, a fresh name: the trigger's, then numbered.
    assert new_event(project, "api").name == "http-api.json"
    assert new_event(project, "api").name == "http-api-2.json"


@pytest.mark.parametrize(
    ("platform", "triggers"),
    [
        (
            "yandex",
            "http raw api-gateway api-gateway-v1 timer message-queue object-storage "
            "container-registry iot iot-broker logging budget data-streams mail",
        ),
        (
            "aws",
            "api-gateway-rest http-api function-url s3 sqs sns schedule dynamodb kinesis",
        ),
    ],
)
def test_event_new_has_every_trigger_of_both_platforms(
    tmp_path: Path, platform: str, triggers: str
) -> None:
    (tmp_path / "pyproject.toml").write_text(
        f'[tool.handlerlens]\nplatform = "{platform}"\nentry = "main.handler"\nname = "fn"\n'
    )
    from handlerlens.platforms.sample_events import sample_event

    for trigger in triggers.split():
        path = new_event(tmp_path, "fn", "--trigger", trigger)
        assert path.name == f"{trigger}.json"
        assert json.loads(path.read_text()) == sample_event(platform, trigger)
    other = "sqs" if platform == "yandex" else "timer"
    result = hl("event", "new", "fn", "--trigger", other, cwd=tmp_path)
    assert result.returncode == 2
    assert f"unknown --trigger '{other}' for 'fn'" in result.stderr


def test_event_new_bad_input(project: Path) -> None:
    result = hl("event", "new", "apj", cwd=project)
    assert result.returncode == 2
    assert "no function named 'apj' is declared (declared: api, worker). Did you mean 'api'?" in (
        result.stderr
    )
    result = hl("event", "new", "api", "--name", "../x", cwd=project)
    assert result.returncode == 2 and "--name '../x': use letters" in result.stderr
    result = hl("event", "new", "api", "--set", "nokey", cwd=project)
    assert result.returncode == 2 and "--set 'nokey': expected PATH=VALUE" in result.stderr
    result = hl("event", "new", "api", "--set", "version.x=1", cwd=project)
    assert result.returncode == 2 and '--set version.x: version is "2.0", not an object' in (
        result.stderr
    )
    assert not events_dir(project, "api").exists()  # nothing half-written


def test_event_list_shows_each_events_expectation_state(project: Path) -> None:
    ada = new_event(project, "api", "--name", "ada")
    expect(ada, {"status": 200})
    new_event(project, "api", "--name", "bob")
    odd = new_event(project, "worker", "--name", "odd")
    expect(odd, {"statuz": 200})
    result = hl("event", "list", cwd=project)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["api::ada", ".handlerlens/events/api/ada.json", "expected"]
    assert lines[1].split()[:3] == ["api::bob", ".handlerlens/events/api/bob.json", "no"]
    assert lines[1].endswith("no expectation")
    assert (
        "invalid expectation: .handlerlens/events/worker/odd.expected.json: unknown key "
        in (lines[2])
    )
    only = hl("event", "list", "worker", cwd=project)
    assert [line.split()[0] for line in only.stdout.splitlines()] == ["worker::odd"]


# handlerlens test


def test_pass_fail_with_a_diff_and_exit_status(project: Path) -> None:
    ada = new_event(project, "api", "--name", "ada", "--set", "queryStringParameters.name=Ada")
    expect(
        ada,
        {
            "status": 200,
            "headers": {"content-type": "application/json"},  # any case
            "body": {"hello": "Ada", "calls": 1},  # key order free
            "ignore": ["body.id"],
        },
    )
    result = hl("test", cwd=project)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[0].startswith("PASSED api::ada (")
    assert "1 passed, 0 failed in " in result.stdout
    expect(ada, {"status": 200, "body": {"hello": "Grace", "calls": 1}, "ignore": ["body.id"]})
    result = hl("test", cwd=project)
    assert result.returncode == 1
    assert "FAILED api::ada" in result.stdout
    assert "  event: .handlerlens/events/api/ada.json" in result.stdout
    assert "  --- expected (.handlerlens/events/api/ada.expected.json)" in result.stdout
    assert "  +++ actual" in result.stdout
    assert '  -    "hello": "Grace"' in result.stdout
    assert '  +    "hello": "Ada"' in result.stdout
    assert "  function log:" in result.stdout and "REPORT RequestId:" in result.stdout
    assert "0 passed, 1 failed in " in result.stdout


def test_events_of_a_function_run_warm_in_one_instance_and_cold_with_cold(project: Path) -> None:
    for name in ("a", "b", "c"):
        new_event(project, "api", "--name", name)
    result = hl("test", "--format", "json", "--update", cwd=project)
    assert result.returncode == 0, result.stderr
    calls = [
        json.loads(path.read_text())["body"]["calls"]
        for path in sorted(events_dir(project, "api").glob("*.expected.json"))
    ]
    assert calls == [1, 2, 3]  # one instance, its globals kept between the events
    result = hl("test", "--cold", "--update", cwd=project)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed, 0 failed" not in result.stdout  # the counts changed: updated
    calls = [
        json.loads(path.read_text())["body"]["calls"]
        for path in sorted(events_dir(project, "api").glob("*.expected.json"))
    ]
    assert calls == [1, 1, 1]  # a fresh instance per event


def test_update_writes_actual_responses_but_not_errors_unless_asked(project: Path) -> None:
    ada = new_event(project, "api", "--name", "ada", "--set", "queryStringParameters.name=Ada")
    boom = new_event(project, "api", "--name", "boom", "--set", "queryStringParameters.fail=1")
    queue = new_event(project, "worker", "--name", "queue", "--set", "Records.0.body=hi")
    expect(ada, {"status": 201, "headers": {"x-calls": "9"}, "ignore": ["body.id"]})
    result = hl("test", "--update", cwd=project)
    assert result.returncode == 1, result.stdout  # boom failed and was not written
    written = json.loads(ada.with_name("ada.expected.json").read_text())
    # The old file's choice of headers and its ignore list are kept.
    assert written == {
        "status": 200,
        "headers": {"x-calls": "1"},
        "body": {"hello": "Ada", "calls": 1, "id": written["body"]["id"]},
        "ignore": ["body.id"],
    }
    assert json.loads(queue.with_name("queue.expected.json").read_text()) == {
        "result": {"bodies": ["hi"]}
    }
    assert not boom.with_name("boom.expected.json").exists()
    assert "the function failed: ValueError: asked to fail" in result.stdout
    assert "--update-errors saves a function error as expected" in result.stdout
    result = hl("test", "--update", "--update-errors", "api", cwd=project)
    assert json.loads(boom.with_name("boom.expected.json").read_text()) == {
        "errorType": "ValueError",
        "errorMessage": "asked to fail",
    }
    # Everything passes now, the function error included (it is what the file expects).
    result = hl("test", cwd=project)
    assert result.returncode == 0, result.stdout
    assert "3 passed, 0 failed" in result.stdout


def test_no_expectation_is_reported_and_fails_under_strict(project: Path) -> None:
    new_event(project, "worker", "--name", "queue")
    result = hl("test", cwd=project)
    assert result.returncode == 0
    assert "NO EXPECTATION worker::queue" in result.stdout
    assert "no .handlerlens/events/worker/queue.expected.json: write one, or run with --update" in (
        result.stdout
    )
    assert "0 passed, 0 failed, 1 without expectation" in result.stdout
    result = hl("test", "--strict", cwd=project)
    assert result.returncode == 1
    assert "FAILED (no expectation, --strict) worker::queue" in result.stdout
    # Or strict from [tool.handlerlens.test].
    with open(project / "pyproject.toml", "a") as f:
        f.write("\n[tool.handlerlens.test]\nstrict = true\n")
    assert hl("test", cwd=project).returncode == 1


def test_junit_xml_and_json_format(project: Path) -> None:
    ada = new_event(project, "api", "--name", "ada")
    expect(ada, {"status": 200, "body": {"hello": "world"}, "ignore": ["body.calls", "body.id"]})
    bad = new_event(project, "api", "--name", "bad")
    expect(bad, {"status": 404})
    new_event(project, "worker", "--name", "none")
    result = hl("test", "--junit-xml", "out/report.xml", "--format", "json", cwd=project)
    assert result.returncode == 1
    data = json.loads(result.stdout)
    assert data["summary"] == {
        "passed": 1,
        "failed": 1,
        "errors": 0,
        "noExpectation": 1,
        "updated": 0,
        "total": 3,
        "seconds": data["summary"]["seconds"],
    }
    by_id = {t["id"]: t for t in data["tests"]}
    assert by_id["api::ada"]["status"] == "passed"
    assert by_id["api::bad"]["status"] == "failed"
    assert '-  "status": 404' in by_id["api::bad"]["diff"]
    assert '+  "status": 200' in by_id["api::bad"]["diff"]
    assert by_id["worker::none"]["status"] == "no expectation"
    assert by_id["api::ada"]["path"] == str(ada)
    root = ET.parse(project / "out" / "report.xml").getroot()
    assert root.tag == "testsuites"
    suite = root.find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("3", "1", "1")
    cases = {(c.get("classname"), c.get("name")): c for c in suite.iter("testcase")}
    assert set(cases) == {("api", "ada"), ("api", "bad"), ("worker", "none")}
    failure = cases[("api", "bad")].find("failure")
    assert failure is not None and '+  "status": 200' in (failure.text or "")
    assert cases[("worker", "none")].find("skipped") is not None
    assert len(cases[("api", "ada")]) == 0


def test_selecting_functions_and_event_files(project: Path) -> None:
    ada = new_event(project, "api", "--name", "ada")
    new_event(project, "worker", "--name", "queue")
    result = hl("test", "worker", cwd=project)
    assert "worker::queue" in result.stdout and "api::ada" not in result.stdout
    result = hl("test", str(ada.relative_to(project)), cwd=project)
    assert "api::ada" in result.stdout and "worker::queue" not in result.stdout
    result = hl("test", "nope", cwd=project)
    assert result.returncode == 2
    assert "no function named 'nope' is declared (declared: api, worker)" in result.stderr
    result = hl("test", "--python", "/no/such/python", cwd=project)
    assert result.returncode == 2
    assert "handlerlens: Python interpreter not found: /no/such/python" in result.stderr
    result = hl("test", "--update-errors", cwd=project)
    assert result.returncode == 2
    assert "--update-errors goes with --update" in result.stderr
    stray = project / "stray.json"
    stray.write_text("{}")
    result = hl("test", "stray.json", cwd=project)
    assert result.returncode == 2
    assert "stray.json is not a saved event of a declared function" in result.stderr


# Bad input: each a clear message naming the file, nothing skipped silently.


def test_event_file_that_is_not_json(project: Path) -> None:
    ok = new_event(project, "worker", "--name", "ok")
    expect(ok, {"result": {"bodies": ["Hello from SQS!"]}})
    (events_dir(project, "worker") / "broken.json").write_text('{"Records": [}')
    result = hl("test", cwd=project)
    assert result.returncode == 1
    assert "ERROR worker::broken" in result.stdout
    assert ".handlerlens/events/worker/broken.json:1:14: not valid JSON: Expecting value" in (
        result.stdout
    )
    assert "PASSED worker::ok" in result.stdout  # the run goes on
    assert "1 passed, 0 failed, 1 error in" in result.stdout


def test_expected_file_with_an_unknown_key(project: Path) -> None:
    ada = new_event(project, "api", "--name", "ada")
    expect(ada, {"status": 200, "bodyy": {}})
    result = hl("test", cwd=project)
    assert result.returncode == 1
    assert (
        ".handlerlens/events/api/ada.expected.json: unknown key 'bodyy' (did you mean 'body'?)"
        in result.stdout
    )
    expect(ada, {"status": 200, "result": 1})
    assert "mixes HTTP response and result keys" in hl("test", cwd=project).stdout
    ada.with_name("ada.expected.json").write_text("{status: 200}")
    assert "ada.expected.json:1:2: not valid JSON" in hl("test", cwd=project).stdout


def test_ignore_path_that_matches_nothing_is_a_warning(project: Path) -> None:
    ada = new_event(project, "api", "--name", "ada")
    expect(ada, {"status": 200, "ignore": ["headers.date", "body.nothing"]})
    with open(project / "pyproject.toml", "a") as f:
        f.write('\n[tool.handlerlens.test]\nignore = ["body.id", "body.neither"]\n')
    result = hl("test", cwd=project)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (
        "handlerlens: warning: .handlerlens/events/api/ada.expected.json: ignore path "
        "'headers.date' matched nothing" in result.stderr
    )
    assert "ignore path 'body.nothing' matched nothing" in result.stderr
    assert (
        "handlerlens: warning: pyproject.toml [tool.handlerlens.test]: ignore path "
        "'body.neither' matched nothing in any response" in result.stderr
    )
    assert "'body.id'" not in result.stderr
    # An unknown key in the table is refused, naming it.
    with open(project / "pyproject.toml", "a") as f:
        f.write("strikt = true\n")
    result = hl("test", cwd=project)
    assert result.returncode == 2
    assert "pyproject.toml: unknown key 'strikt' in [tool.handlerlens.test]" in result.stderr


def test_events_of_a_function_that_no_longer_exists(project: Path) -> None:
    new_event(project, "api", "--name", "ada")
    os.rename(events_dir(project, "api"), events_dir(project, "gone"))
    result = hl("test", cwd=project)
    assert result.returncode == 1
    assert "ERROR gone::ada" in result.stdout
    assert (
        "no function named 'gone' is declared any more; its events folder is "
        ".handlerlens/events/gone" in result.stdout
    )
    assert "gone::ada  .handlerlens/events/gone/ada.json  no such function" in (
        hl("event", "list", cwd=project).stdout
    )


def test_events_of_a_function_in_a_declaring_file_that_does_not_parse(project: Path) -> None:
    (project / "svc").mkdir()
    declaring = project / "svc" / "serverless.yml"
    declaring.write_text(
        "service: svc\nprovider:\n  name: aws\n  runtime: python3.12\nfunctions:\n"
        "  svc-fn:\n    handler: app.worker\n"
    )
    shutil.copy(project / "app.py", project / "svc" / "app.py")
    new_event(project, "svc-fn", "--name", "ada")
    declaring.write_text(declaring.read_text() + "   events: [\n")
    result = hl("test", cwd=project)
    assert result.returncode == 1
    assert "svc/serverless.yml:8:4: error [config-parse-error]" in result.stderr
    assert "ERROR svc-fn::ada" in result.stdout
    # Not "declared any more", nor "rename the folder": the file that declares it is broken.
    assert (
        "no function named 'svc-fn' was read: a declaring file does not parse (see the warning "
        "above), and the functions it declares are left out" in result.stdout
    )
    assert "any more" not in result.stdout
    listed = hl("event", "list", cwd=project).stdout
    assert (
        "svc-fn::ada  .handlerlens/events/svc-fn/ada.json  no such function (a declaring file "
        "does not parse)" in listed
    )


def test_a_handler_that_hangs_fails_with_the_timeout_and_the_run_goes_on(project: Path) -> None:
    hang = new_event(project, "api", "--name", "a-hang", "--set", "queryStringParameters.hang=1")
    expect(hang, {"status": 200})
    after = new_event(project, "api", "--name", "b-after")
    expect(after, {"status": 200})
    result = hl("test", "--timeout", "1", cwd=project)
    assert result.returncode == 1
    assert "FAILED api::a-hang" in result.stdout
    assert "the function failed: Sandbox.Timedout: " in result.stdout
    assert "PASSED api::b-after" in result.stdout
    assert "1 passed, 1 failed" in result.stdout


def test_python_and_timeout_are_serves_options_with_its_defaults_and_checks(
    project: Path,
) -> None:
    # Each function runs in serve's runner: --python and --timeout say serve's defaults, and a
    # timeout that is not a positive number is a usage error before any runner starts.
    wide = subprocess.run(
        [sys.executable, "-m", "handlerlens", "test", "--help"],
        cwd=project,
        env={**os.environ, "COLUMNS": "400"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert wide.returncode == 0, wide.stderr
    assert (
        "--timeout S           function timeout in seconds (default: the declared timeout, "
        "else 6 for an AWS function in serverless.yml, else 3)" in wide.stdout
    )
    assert (
        "(default: python = in [tool.handlerlens], else a .venv or venv in the code root or "
        "above it up to --root, else python3.X on PATH" in wide.stdout
    )
    new_event(project, "api", "--name", "untouched")
    for bad in ("0", "-1", "nan", "inf", "soon"):
        result = hl("test", "--timeout", bad, cwd=project)
        assert result.returncode == 2
        last = result.stderr.strip().splitlines()[-1]
        assert last == (
            f"handlerlens test: error: argument --timeout: expected a positive number of "
            f"seconds, got '{bad}'"
        )
        assert result.stdout == ""
    assert sorted(p.name for p in events_dir(project, "api").iterdir()) == ["untouched.json"]


def test_two_events_of_one_name_in_different_folders(project: Path) -> None:
    (project / "svc").mkdir()
    (project / "svc" / "pyproject.toml").write_text(
        '[tool.handlerlens]\nplatform = "aws"\nname = "svc-fn"\nentry = "app.worker"\n'
        'trigger = "sqs"\n'
    )
    shutil.copy(project / "app.py", project / "svc" / "app.py")
    first = new_event(project, "svc-fn", "--name", "same")
    assert first == project / ".handlerlens" / "events" / "svc-fn" / "same.json"
    second = project / "svc" / ".handlerlens" / "events" / "svc-fn" / "same.json"
    second.parent.mkdir(parents=True)
    shutil.copy(first, second)
    result = hl("test", cwd=project)
    assert (
        "handlerlens: warning: 2 saved events are both svc-fn::same: "
        ".handlerlens/events/svc-fn/same.json, svc/.handlerlens/events/svc-fn/same.json; each "
        "runs, named by its file" in result.stderr
    )
    assert "svc-fn::same[.handlerlens/events/svc-fn/same.json]" in result.stdout
    assert "svc-fn::same[svc/.handlerlens/events/svc-fn/same.json]" in result.stdout
    assert "2 without expectation" in result.stdout


SAME_NAME = """\
service: {service}
provider:
  name: aws
  runtime: python3.12
functions:
  hello:
    handler: handler.hello
"""


def test_two_functions_of_one_name_keep_their_own_events(tmp_path: Path) -> None:
    # `hello` in svc-a/serverless.yml and in svc-b/serverless.yml: an event made for
    # svc-b/hello runs svc-b's handler, never svc-a's.
    for service in ("svc-a", "svc-b"):
        (tmp_path / service).mkdir()
        (tmp_path / service / "serverless.yml").write_text(SAME_NAME.format(service=service))
        (tmp_path / service / "handler.py").write_text(
            f"def hello(event, context):\n    return {{'from': '{service}'}}\n"
        )
    assert new_event(tmp_path, "svc-b/hello", "--name", "b") == (
        tmp_path / "svc-b" / ".handlerlens" / "events" / "hello" / "b.json"
    )
    assert new_event(tmp_path, "svc-a/hello", "--name", "a") == (
        tmp_path / "svc-a" / ".handlerlens" / "events" / "hello" / "a.json"
    )
    listed = hl("event", "list", cwd=tmp_path).stdout
    assert "svc-a/hello::a  svc-a/.handlerlens/events/hello/a.json" in listed
    assert "svc-b/hello::b  svc-b/.handlerlens/events/hello/b.json" in listed
    result = hl("test", "--update", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    for service in ("a", "b"):
        expected = tmp_path / f"svc-{service}" / ".handlerlens" / "events" / "hello"
        written = json.loads((expected / f"{service}.expected.json").read_text())
        assert written == {"result": {"from": f"svc-{service}"}}
    # An event in the folder above both (where VS Code saves) is both functions' event.
    shared = tmp_path / ".handlerlens" / "events" / "hello"
    shared.mkdir(parents=True)
    (shared / "both.json").write_text("{}")
    result = hl("test", cwd=tmp_path)
    assert "NO EXPECTATION svc-a/hello::both" in result.stdout
    assert "NO EXPECTATION svc-b/hello::both" in result.stdout
    assert (
        "handlerlens: warning: the events in .handlerlens/events/hello belong to both "
        "svc-a/hello and svc-b/hello" in result.stderr
    )


def test_a_serverless_function_runs_with_the_frameworks_defaults(tmp_path: Path) -> None:
    # As `invoke` and `serve` run it: 6 s and 1024 MB when serverless.yml names neither.
    (tmp_path / "serverless.yml").write_text(SAME_NAME.format(service="svc"))
    (tmp_path / "handler.py").write_text(
        "def hello(event, context):\n"
        "    return {'memory': context.memory_limit_in_mb,\n"
        "            'six': 5000 < context.get_remaining_time_in_millis() <= 6000}\n"
    )
    expect(new_event(tmp_path, "hello", "--name", "a"), {"result": {"memory": "1024", "six": True}})
    result = hl("test", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "PASSED hello::a" in result.stdout


def test_no_saved_events_at_all(project: Path) -> None:
    result = hl("test", cwd=project)
    assert result.returncode == 0
    assert "handlerlens: warning: no saved events under" in result.stderr
    assert result.stdout.startswith("0 passed, 0 failed in")  # the summary alone, no blank
    assert result.stdout.count("\n") == 1
    result = hl("test", "--format", "json", "--junit-xml", "r.xml", cwd=project)
    assert result.returncode == 0
    assert json.loads(result.stdout)["summary"]["total"] == 0
    suite = ET.parse(project / "r.xml").getroot().find("testsuite")
    assert suite is not None and suite.get("tests") == "0"


# The shipped examples and the format's schema


def test_examples_saved_events_pass(tmp_path: Path) -> None:
    shutil.copytree(EXAMPLES, tmp_path / "examples")
    result = hl("test", "--strict", cwd=tmp_path / "examples")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "PASSED greeter::ada" in result.stdout
    assert "PASSED thumbnail::cat" in result.stdout
    assert result.stderr == ""
    result = pytest_in(tmp_path / "examples", "--handlerlens", "-v")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "greeter/.handlerlens/events/greeter/ada.json::greeter::ada PASSED" in result.stdout
    assert "2 passed in" in result.stdout


def test_the_schema_and_the_validator_agree() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    from handlerlens.replay.expect import ExpectationError, validate_expected

    schema = json.loads(SCHEMA.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    shipped = [json.loads(p.read_text()) for p in EXAMPLES.rglob("*.expected.json")]
    assert len(shipped) >= 2
    good = [
        *shipped,
        {"status": 200},
        {"headers": {"x": "y"}, "body": "text"},
        {"result": None},
        {"result": [1, 2], "ignore": ["result.0"]},
        {"errorType": "ValueError"},
        {"errorType": "E", "errorMessage": "m", "$schema": "x"},
    ]
    bad = [
        [],
        {},
        {"ignore": ["body.x"]},
        {"status": "200"},
        {"status": 99},
        {"status": True},
        {"headers": {"x": 1}},
        {"status": 200, "unknown": 1},
        {"status": 200, "result": 1},
        {"body": 1, "errorType": "E"},
        {"result": 1, "errorMessage": "m"},
        {"status": 200, "ignore": ["nope.x"]},
        {"status": 200, "ignore": "body.x"},
        {"errorType": 1},
    ]
    for data in good:
        assert validator.is_valid(data), data
        validate_expected(data, "x")
    for data in bad:
        assert not validator.is_valid(data), data
        with pytest.raises(ExpectationError):
            validate_expected(data, "x")


def test_check_accepts_the_test_table_in_pyproject(project: Path) -> None:
    with open(project / "pyproject.toml", "a") as f:
        f.write(textwrap.dedent('\n[tool.handlerlens.test]\nignore = ["headers.date"]\n'))
    result = hl("check", ".", "--format", "json", cwd=project)
    assert result.returncode == 0, result.stdout
    assert json.loads(result.stdout) == {"functions": 2, "problems": []}
    with open(project / "pyproject.toml", "a") as f:
        f.write('\n[tool.handlerlens.tset]\nignore = ["headers.date"]\n')
    result = hl("check", ".", "--format", "json", cwd=project)  # a typo is still reported
    assert result.returncode == 1
    assert "tset" in json.loads(result.stdout)["problems"][0]["message"]


# The pytest plugin (entry point pytest11), run as a user runs pytest in their project


def pytest_in(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


def test_pytest_plugin_runs_saved_events_under_xdist(project: Path) -> None:
    # Each xdist worker collects the same items and runs its share through its own runners:
    # the verdicts are the ones of a plain run, each event reported once.
    for name in ("ada", "bob", "cy", "dee"):
        event = new_event(
            project, "api", "--name", name, "--set", f"queryStringParameters.name={name}"
        )
        expect(event, {"status": 200, "body": {"hello": name}, "ignore": ["body.calls", "body.id"]})
    wrong = new_event(project, "api", "--name", "wrong")
    expect(wrong, {"status": 200, "body": {"hello": "nobody"}, "ignore": ["body.calls", "body.id"]})
    result = pytest_in(project, "--handlerlens", "-n", "2", "-v")
    assert result.returncode == 1, result.stdout
    out = result.stdout
    assert "created: 2/2 workers" in out
    for name in ("ada", "bob", "cy", "dee"):
        assert len(re.findall(rf"\] PASSED \S*events/api/{name}\.json::api::{name}\b", out)) == 1, (
            out
        )
    assert len(re.findall(r"\] FAILED \S*events/api/wrong\.json::api::wrong\b", out)) == 1, out
    assert "1 failed, 4 passed" in out


def test_pytest_plugin_is_off_without_the_option_or_the_table(project: Path) -> None:
    ada = new_event(project, "api", "--name", "ada")
    expect(ada, {"status": 500})
    result = pytest_in(project)
    assert result.returncode == 5, result.stdout  # no tests collected
    assert "collected 0 items" in result.stdout
    result = pytest_in(project, "--handlerlens", "-v")
    assert result.returncode == 1, result.stdout
    assert ".handlerlens/events/api/ada.json::api::ada FAILED" in result.stdout


def test_pytest_plugin_collects_saved_events_with_the_same_diff(project: Path) -> None:
    with open(project / "pyproject.toml", "a") as f:
        f.write('\n[tool.handlerlens.test]\nignore = ["body.id"]\n')
    ada = new_event(project, "api", "--name", "ada", "--set", "queryStringParameters.name=Ada")
    expect(ada, {"status": 200, "body": {"hello": "Ada", "calls": 1}})
    bob = new_event(project, "api", "--name", "bob")
    expect(bob, {"status": 200, "body": {"hello": "Bob", "calls": 2}})
    new_event(project, "worker", "--name", "queue")
    (project / "test_plain.py").write_text("def test_plain():\n    assert True\n")
    result = pytest_in(project, "-v", "-rs")
    assert result.returncode == 1, result.stdout
    out = result.stdout
    assert "collected 4 items" in out  # the user's own test and the three events
    assert "test_plain.py::test_plain PASSED" in out
    assert ".handlerlens/events/api/ada.json::api::ada PASSED" in out
    assert ".handlerlens/events/api/bob.json::api::bob FAILED" in out
    assert ".handlerlens/events/worker/queue.json::worker::queue SKIPPED" in out
    assert "no .handlerlens/events/worker/queue.expected.json: write one" in out
    assert "  --- expected (.handlerlens/events/api/bob.expected.json)" in out
    assert '  -    "hello": "Bob"' in out and '  +    "hello": "world"' in out
    # -k selects among them, -x stops at the first failure.
    result = pytest_in(project, "-k", "ada")
    assert result.returncode == 0, result.stdout
    assert "1 passed, 3 deselected" in result.stdout
    result = pytest_in(project, "-x")
    assert "1 failed, 2 passed in" in result.stdout  # the queue event after bob never ran
    # The table's strict makes the event without expectation fail.
    with open(project / "pyproject.toml", "a") as f:
        f.write("strict = true\n")
    result = pytest_in(project, "-k", "queue")
    assert result.returncode == 1
    assert "FAILED .handlerlens/events/worker/queue.json::worker::queue" in result.stdout
