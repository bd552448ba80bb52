"""The extension's bundled libraries never reach the user's handler (issue #6: the handler
runs with the user's packages only), while the runner itself runs on them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.runner.harness import Runner

HANDLER = """\
def handler(event, context):
    try:
        import bundled_only
    except ImportError as exc:
        return {"imported": False, "error": str(exc)}
    return {"imported": True}
"""


@pytest.fixture
def project(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    root = tmp_path / "fn"
    root.mkdir()
    (root / "main.py").write_text(HANDLER)
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    (bundle / "bundled_only.py").write_text("VALUE = 1\n")
    env = dict(os.environ, PYTHONPATH=str(bundle), HANDLERLENS_BUNDLED_LIBS=str(bundle))
    return root, env


def _invoke(runner: Runner) -> dict[str, object]:
    status, _, body = runner.request("POST", "/2015-03-31/functions/function/invocations", b"{}")
    assert status == 200
    result: dict[str, object] = json.loads(body)
    return result


@pytest.mark.parametrize("inherit", [[], ["--inherit-env", "PYTHONPATH"]])
def test_served_workers_do_not_see_the_bundle(
    project: tuple[Path, dict[str, str]], inherit: list[str]
):
    # (Debugged workers too: the e2e tests debug with the server running from the VSIX.)
    # Even a PYTHONPATH passed on on purpose loses the bundle's entry.
    root, env = project
    runner = Runner(["main.handler", "--platform", "aws", "--no-watch", *inherit], root, env)
    try:
        assert _invoke(runner) == {
            "imported": False,
            "error": "No module named 'bundled_only'",
        }
    finally:
        runner.stop()


def test_the_same_setup_without_the_marker_does_see_it(project: tuple[Path, dict[str, str]]):
    # The control: PYTHONPATH alone is the user's own setting, and it is honoured when the
    # user passes it on (issue #18: the host's environment stays out unless --inherit-env
    # names it; PLATFORMS.md §12.1).
    root, env = project
    del env["HANDLERLENS_BUNDLED_LIBS"]
    runner = Runner(
        ["main.handler", "--platform", "aws", "--no-watch", "--inherit-env", "PYTHONPATH"],
        root,
        env,
    )
    try:
        assert _invoke(runner) == {"imported": True}
    finally:
        runner.stop()


def test_invoke_does_not_see_the_bundle(project: tuple[Path, dict[str, str]]):
    root, env = project
    done = subprocess.run(
        [sys.executable, "-m", "handlerlens.runner", "invoke", "main.handler", "--platform", "aws"],
        cwd=root,
        input=b"{}",
        capture_output=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"imported": False, "error": "No module named 'bundled_only'"}
