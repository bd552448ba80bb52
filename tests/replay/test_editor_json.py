"""What VS Code's Test Explorer reads from the CLI, run as it runs it (a real subprocess, the
real runner): `event list --format json` (the test items), `test --format json`'s two sides of
a failed comparison (the diff view), and `python -m handlerlens.replay.judge` (a Debug run's
verdict on the response the language server got)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

PYPROJECT = """\
[tool.handlerlens]
platform = "aws"
timeout = 3

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


def api(event, context):
    query = event.get("queryStringParameters") or {}
    if query.get("fail"):
        raise ValueError("asked to fail")
    body = {"hello": query.get("name", "world")}
    return {"statusCode": 200, "headers": {"Content-Type": "application/json"},
            "body": json.dumps(body)}


def worker(event, context):
    return {"bodies": [r["body"] for r in event["Records"]]}
"""


def run(*args: str, cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=90,
    )


def hl(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run("-m", "handlerlens", *args, cwd=cwd)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    (tmp_path / "app.py").write_text(APP)
    return tmp_path


def new_event(project: Path, *args: str) -> Path:
    result = hl("event", "new", *args, cwd=project)
    assert result.returncode == 0, result.stderr
    return project / result.stdout.strip()


def expect(event: Path, data: object) -> Path:
    path = event.with_name(event.name[: -len(".json")] + ".expected.json")
    path.write_text(json.dumps(data))
    return path


def test_event_list_json_lists_functions_and_events_with_their_state(project: Path) -> None:
    ada = new_event(project, "api", "--name", "ada")
    expect(ada, {"status": 200})
    new_event(project, "worker", "--name", "plain")
    broken = new_event(project, "api", "--name", "broken")
    expect(broken, {"statuz": 200})
    gone = project / ".handlerlens" / "events" / "retired" / "old.json"
    gone.parent.mkdir(parents=True)
    gone.write_text("{}")
    result = hl("event", "list", "--format", "json", cwd=project)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["root"] == str(project)
    fns = {f["name"]: f for f in data["functions"]}
    assert set(fns) == {"api", "worker"}
    assert fns["api"]["entry"] == "app.api"
    assert fns["api"]["trigger"] == "http-api"
    assert fns["api"]["platform"] == "aws"
    assert fns["api"]["testName"] == "api"
    assert fns["api"]["declaredIn"] == str(project / "pyproject.toml")
    events = {e["id"]: e for e in data["events"]}
    assert set(events) == {"api::ada", "api::broken", "worker::plain", "retired::old"}
    assert events["api::ada"]["path"] == str(ada)
    assert events["api::ada"]["expected"] == str(ada.with_name("ada.expected.json"))
    assert events["api::ada"]["state"] == "expected"
    assert events["api::ada"]["function"] == "api"
    assert events["worker::plain"]["state"] == "no expectation"
    assert events["api::broken"]["state"].startswith("invalid expectation:")
    assert "'statuz'" in events["api::broken"]["state"]
    assert events["retired::old"]["function"] is None
    assert events["retired::old"]["state"] == "no such function"
    only = json.loads(hl("event", "list", "worker", "--format", "json", cwd=project).stdout)
    assert [e["id"] for e in only["events"]] == ["worker::plain"]


def test_event_list_json_with_no_events_is_still_json(project: Path) -> None:
    result = hl("event", "list", "--format", "json", cwd=project)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["events"] == []
    assert [f["name"] for f in data["functions"]] == ["api", "worker"]


def test_json_report_has_both_sides_of_a_failed_comparison(project: Path) -> None:
    ada = new_event(project, "api", "--name", "ada", "--set", "queryStringParameters.name=Ada")
    expect(ada, {"status": 200, "body": {"hello": "Bob"}})
    plain = new_event(project, "worker", "--name", "plain")
    result = hl("test", "--format", "json", cwd=project)
    assert result.returncode == 1, result.stderr
    tests = {t["id"]: t for t in json.loads(result.stdout)["tests"]}
    failed = tests["api::ada"]
    assert failed["status"] == "failed"
    assert json.loads(failed["expectedText"]) == {"status": 200, "body": {"hello": "Bob"}}
    # The actual side holds what was compared: the expected file's keys only.
    assert json.loads(failed["actualText"]) == {"status": 200, "body": {"hello": "Ada"}}
    none = tests["worker::plain"]
    assert none["status"] == "no expectation"
    assert none["expectedText"] == ""
    assert json.loads(none["actualText"]) == {
        "result": {"bodies": [json.loads(plain.read_text())["Records"][0]["body"]]}
    }


def judge(project: Path, event: Path, response: object) -> subprocess.CompletedProcess[str]:
    return run(
        "-m",
        "handlerlens.replay.judge",
        str(event),
        cwd=project,
        stdin=response if isinstance(response, str) else json.dumps(response),
    )


def test_judge_gives_a_debug_runs_response_the_same_verdict_as_test(project: Path) -> None:
    ada = new_event(project, "api", "--name", "ada")
    expect(ada, {"status": 200, "body": {"hello": "world"}, "ignore": ["headers.date"]})
    ok = {
        "json": {
            "statusCode": 200,
            "headers": {"Content-Type": "application/json"},
            "body": '{"hello": "world"}',
        },
        "functionError": False,
    }
    passed = judge(project, ada, ok)
    assert passed.returncode == 0, passed.stderr
    report = json.loads(passed.stdout)
    assert [t["status"] for t in report["tests"]] == ["passed"]
    assert report["tests"][0]["id"] == "api::ada"
    assert report["warnings"] == [
        ".handlerlens/events/api/ada.expected.json: ignore path 'headers.date' matched nothing"
    ]
    error = {"json": {"errorType": "ValueError", "errorMessage": "no"}, "functionError": True}
    failed = judge(project, ada, error)
    assert failed.returncode == 1
    test = json.loads(failed.stdout)["tests"][0]
    assert test["status"] == "failed"
    assert test["message"] == "the function failed: ValueError: no"
    assert json.loads(test["actualText"]) == {"errorType": "ValueError", "errorMessage": "no"}
    assert '+  "errorType": "ValueError"' in test["diff"]
    # Never writes anything.
    assert json.loads(ada.with_name("ada.expected.json").read_text())["status"] == 200


def test_judge_bad_input_says_what_is_wrong(project: Path) -> None:
    ada = new_event(project, "api", "--name", "ada")
    not_json = judge(project, ada, "{nope")
    assert not_json.returncode == 2
    assert "the response on stdin is not JSON" in not_json.stderr
    shape = judge(project, ada, {"json": {}})
    assert shape.returncode == 2
    assert '"functionError": true|false' in shape.stderr
    stray = project / "stray.json"
    stray.write_text("{}")
    elsewhere = judge(project, stray, {"json": {}, "functionError": False})
    assert elsewhere.returncode == 2
    assert "stray.json is not a saved event of a declared function" in elsewhere.stderr
    expect(ada, {"status": "ok"})
    invalid = judge(project, ada, {"json": {}, "functionError": False})
    assert invalid.returncode == 1
    test = json.loads(invalid.stdout)["tests"][0]
    assert test["status"] == "error"
    assert "`status` must be an HTTP status code" in test["message"]
