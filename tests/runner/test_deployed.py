"""The runner agrees with the deploy checks (issue #19, item 5): at worker start, a module the
function's own code imports from outside the code root, its layers and its packaged
requirements is one log line "works here, would fail deployed: …" — over a real `serve`."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path
from typing import Any

from tests.runner.harness import Runner

# The Invoke API path of the one served function (RIE's name for it).
INVOKE = "/2015-03-31/functions/function/invocations"

MAIN = textwrap.dedent(
    """\
    import json
    import yaml
    import jsonschema
    import attr
    import boto3
    import helper


    def handler(event, context):
        return {"statusCode": 200, "body": json.dumps({"yaml": yaml.__name__})}
    """
)
NOTE = "works here, would fail deployed"
# The function's own interpreter (this venv, with PyYAML, jsonschema, attrs, boto3): named
# with --python, its site-packages stay importable, as in a project's own environment.
PYTHON = ["--python", sys.executable]


def _project(root: Path, requirements: str | None) -> None:
    (root / "main.py").write_text(MAIN)
    (root / "helper.py").write_text("import json\n")
    if requirements is not None:
        (root / "requirements.txt").write_text(requirements)


def _notes(runner: Runner) -> list[str]:
    """The note's lines, as the runner's status stream reports the function's log (the same
    lines are echoed on its stderr too)."""
    with runner.changed:
        return [
            str(e["line"])
            for e in runner.events
            if e["event"] == "log" and NOTE in str(e.get("line"))
        ]


def _wait_note(runner: Runner, text: str) -> None:
    def seen(_: Any = None) -> bool:
        return any(text in line for line in _notes(runner))

    try:
        runner.wait_for(lambda e: seen(), timeout=15)
    except AssertionError:
        assert seen(), "\n".join(runner.stderr)


def test_serve_says_which_import_would_fail_deployed(tmp_path: Path) -> None:
    # jsonschema is packaged, attr comes with it (attrs, a dependency), boto3 is preinstalled
    # on AWS, helper is in the code root; yaml (PyYAML, installed here) is in none of them.
    _project(tmp_path, "# the function's packages\njsonschema>=4  # validation\n")
    runner = Runner(["main.handler", "--platform", "aws", "--no-watch", *PYTHON], tmp_path)
    try:
        _wait_note(runner, "'yaml'")
        status, _, body = runner.request("POST", INVOKE, b"{}")
        assert status == 200 and b"yaml" in body  # it does work here
        runner.request("POST", INVOKE, b"{}")
        (line,) = _notes(runner)  # once, for yaml only (not idna, which jsonschema imports)
        assert "'yaml' (imported by main.py line 2) comes from " in line
        assert "requirements.txt does not list it (distribution pyyaml)" in line
        assert "No module named 'yaml'" in line
    finally:
        runner.stop()


def test_serve_without_requirements_on_yandex(tmp_path: Path) -> None:
    # Yandex does not preinstall boto3; no requirements.txt: every outside import is said.
    _project(tmp_path, None)
    runner = Runner(["main.handler", "--platform", "yandex", "--no-watch", *PYTHON], tmp_path)
    try:
        _wait_note(runner, "'yaml'")
        _wait_note(runner, "'boto3'")
        names = sorted(line.split("'")[1] for line in _notes(runner))
        assert names == ["attr", "boto3", "jsonschema", "yaml"]
        assert all("the code root has no requirements.txt" in line for line in _notes(runner))
    finally:
        runner.stop()


def test_an_unnamed_requirement_makes_no_claim(tmp_path: Path) -> None:
    # A URL installs something whose name the runner cannot know: it says nothing.
    _project(tmp_path, "https://example.com/pkg-1.0.tar.gz\n")
    runner = Runner(["main.handler", "--platform", "aws", "--no-watch", *PYTHON], tmp_path)
    try:
        status, _, _ = runner.request("POST", INVOKE, b"{}")
        assert status == 200
        assert _notes(runner) == []
    finally:
        runner.stop()


SAM_WITH_LAYER = textwrap.dedent(
    """\
    Transform: AWS::Serverless-2016-10-31
    Resources:
      Common:
        Type: AWS::Serverless::LayerVersion
        Properties:
          ContentUri: layers/common
      Main:
        Type: AWS::Serverless::Function
        Properties:
          CodeUri: fn/
          Handler: main.handler
          Runtime: python3.12
          Layers:
            - !Ref Common
    """
)


def test_a_layer_built_from_a_project_folder_provides(tmp_path: Path) -> None:
    # The layer's requirements.txt installs PyYAML: yaml is provided; jsonschema (and attr,
    # which jsonschema does not bring without being packaged) are not, said with the layer
    # caveat since a template with layers may have others.
    code = tmp_path / "fn"
    code.mkdir()
    _project(code, "boto3\n")
    (tmp_path / "layers" / "common").mkdir(parents=True)
    (tmp_path / "layers" / "common" / "requirements.txt").write_text("PyYAML==6.*\n")
    (tmp_path / "template.yaml").write_text(SAM_WITH_LAYER)
    runner = Runner(["Main", "--no-watch", *PYTHON], tmp_path)
    try:
        _wait_note(runner, "'jsonschema'")
        _wait_note(runner, "'attr'")
        status, _, _ = runner.request("POST", "/2015-03-31/functions/Main/invocations", b"{}")
        assert status == 200
        names = sorted(line.split("'")[1] for line in _notes(runner))
        assert names == ["attr", "jsonschema"]
        assert all("unless one of the function's layers provides it" in n for n in _notes(runner))
    finally:
        runner.stop()


def test_said_once_per_serve_across_reloads(tmp_path: Path) -> None:
    # A save starts a new worker: yaml is not said again; an import the save adds is.
    _project(tmp_path, "jsonschema\n")
    runner = Runner(["main.handler", "--platform", "aws", *PYTHON], tmp_path)
    try:
        _wait_note(runner, "'yaml'")
        mark = len(runner.events)
        (tmp_path / "main.py").write_text(
            MAIN.replace("import helper", "import helper\nimport pygments")
        )
        runner.wait_for(lambda e: e["event"] == "reloaded" and e["ok"] is True, start=mark)
        _wait_note(runner, "'pygments'")
        status, _, body = runner.request("POST", INVOKE, b"{}")
        assert status == 200
        names = [line.split("'")[1] for line in _notes(runner)]
        assert names == ["yaml", "pygments"]
    finally:
        runner.stop()


def _invoke(root: Path, cache: Path, *args: str) -> Any:
    import os
    import subprocess

    env = {**os.environ, "XDG_CACHE_HOME": str(cache)}
    return subprocess.run(
        [sys.executable, "-m", "handlerlens", "invoke", "main.handler", *args, *PYTHON],
        cwd=root,
        input=b"{}",
        capture_output=True,
        timeout=60,
        env=env,
    )


def test_invoke_says_it_too(tmp_path: Path) -> None:
    # The same note as under serve, in the function's log on stderr, once per invoke; the
    # answer kept on disk is read back, and a change to the manifest is seen.
    code = tmp_path / "code"
    code.mkdir()
    cache = tmp_path / "cache"
    _project(code, "jsonschema>=4\n")
    for _ in range(2):
        done = _invoke(code, cache, "--platform", "aws")
        assert done.returncode == 0, done.stderr
        assert b"yaml" in done.stdout  # it works here
        stderr = done.stderr.decode()
        lines = [line for line in stderr.splitlines() if NOTE in line]
        assert len(lines) == 1, stderr  # yaml only: jsonschema packaged, boto3 preinstalled
        assert lines[0].startswith(f"handlerlens: {NOTE}: 'yaml' (imported by main.py line 2)")
        assert "requirements.txt does not list it (distribution pyyaml)" in lines[0]
        assert "No module named 'yaml'" in lines[0]
    assert len(list((cache / "handlerlens" / "deployed").iterdir())) == 1
    (code / "requirements.txt").write_text("jsonschema>=4\nPyYAML\n")
    done = _invoke(code, cache, "--platform", "aws")
    assert done.returncode == 0 and NOTE not in done.stderr.decode(), done.stderr
    # Yandex preinstalls no boto3; without a manifest, every outside import is said.
    (code / "requirements.txt").unlink()
    done = _invoke(code, cache, "--platform", "yandex")
    assert done.returncode == 0, done.stderr
    names = sorted(line.split("'")[1] for line in done.stderr.decode().splitlines() if NOTE in line)
    assert names == ["attr", "boto3", "jsonschema", "yaml"]


def test_invoke_with_an_unreadable_cache_still_says_it(tmp_path: Path) -> None:
    # A cache folder that cannot be written (a file in its place) or a corrupt entry: the
    # note is still said, read from the manifest.
    code = tmp_path / "code"
    code.mkdir()
    _project(code, "jsonschema\n")
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "handlerlens").write_text("not a folder")
    done = _invoke(code, cache, "--platform", "aws")
    assert done.returncode == 0, done.stderr
    assert done.stderr.decode().count(NOTE) == 1
    (cache / "handlerlens").unlink()
    done = _invoke(code, cache, "--platform", "aws")  # writes the entry
    (entry,) = (cache / "handlerlens" / "deployed").iterdir()
    entry.write_text("{not json")
    done = _invoke(code, cache, "--platform", "aws")
    assert done.returncode == 0 and done.stderr.decode().count(NOTE) == 1, done.stderr


def test_invoke_says_it_from_a_spawned_worker(tmp_path: Path) -> None:
    # Another interpreter (a wrapper around this one): the worker is spawned, not forked,
    # and gets the same init message.
    import os
    import subprocess

    code = tmp_path / "code"
    code.mkdir()
    _project(code, "jsonschema\n")
    wrapper = tmp_path / "py"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    wrapper.chmod(0o755)
    done = subprocess.run(
        [sys.executable, "-m", "handlerlens", "invoke", "main.handler", "--platform", "aws"]
        + ["--python", str(wrapper)],
        cwd=code,
        input=b"{}",
        capture_output=True,
        timeout=60,
        env={**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")},
    )
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stderr.decode().splitlines() if NOTE in line]
    assert len(lines) == 1 and "'yaml' (imported by main.py line 2)" in lines[0], done.stderr
