"""`handlerlens test` serves each function with one worker and no standby interpreter (a serve
keeps one for a fast reload; nothing reloads in a test run): counted from inside the handler,
among its runner's children, through the real CLI and runner."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

PYPROJECT = """\
[tool.handlerlens]
platform = "aws"

[[tool.handlerlens.functions]]
name = "counter"
entry = "app.handler"
trigger = "sqs"
"""

APP = """\
import os


def _workers():
    runner, found = os.getppid(), 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as f:
                parent = int(f.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                command = f.read()
        except OSError:
            continue
        if parent == runner and b"worker" in command:
            found += 1
    return found


def handler(event, context):
    return {"workers": _workers()}
"""


def test_each_function_runs_on_one_worker_without_a_standby(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    (tmp_path / "app.py").write_text(APP)
    folder = tmp_path / ".handlerlens" / "events" / "counter"
    folder.mkdir(parents=True)
    for name in ("one", "two"):
        (folder / f"{name}.json").write_text('{"Records": []}')
        (folder / f"{name}.expected.json").write_text(json.dumps({"result": {"workers": 1}}))
    done = subprocess.run(
        [sys.executable, "-m", "handlerlens", "test", "--format", "json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=90,
    )
    report = json.loads(done.stdout)
    assert [t["status"] for t in report["tests"]] == ["passed", "passed"], report["tests"]
    assert done.returncode == 0, done.stderr
