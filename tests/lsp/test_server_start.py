"""What `handlerlens lsp` says on stderr as it starts: the Python it runs on (VS Code's client
reads it there instead of running that Python once more before the server, issue #21), or,
on a Python older than it supports, one line why it exits."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from handlerlens import __version__
from handlerlens.lsp.main import MINIMUM_PYTHON

SERVER_DIR = Path(__file__).resolve().parents[2] / "server"


def test_the_first_stderr_line_names_the_python_the_server_runs_on() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "handlerlens", "lsp"],
        stdin=subprocess.DEVNULL,  # the input ends at once: the server exits 0
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    first = done.stderr.splitlines()[0]
    python = sys.version.split()[0]
    assert first == f"HandlerLens {__version__} on Python {python} ({sys.executable})"
    # The pattern client/src/server.ts reads it with (SERVER_PYTHON).
    client = (SERVER_DIR.parent / "client" / "src" / "server.ts").read_text()
    pattern = re.search(r"const SERVER_PYTHON = /(.+)/;", client)
    assert pattern, "SERVER_PYTHON not found in client/src/server.ts"
    m = re.match(pattern.group(1), first)
    assert m and m.groups() == (*python.split(".")[:2], sys.executable)


def _older_python() -> str | None:
    """An installed CPython older than the server supports (pyenv's, or on PATH), if any."""
    wanted = [f"python3.{minor}" for minor in range(MINIMUM_PYTHON[1] - 1, 5, -1)]
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    for name in wanted:
        for exe in sorted(pyenv.glob(f"{name[6:]}*/bin/{name}")):
            return str(exe)
    return None


@pytest.mark.skipif(_older_python() is None, reason="no Python older than 3.10 installed")
def test_an_older_python_exits_at_once_with_one_clear_line() -> None:
    python = _older_python()
    assert python is not None
    done = subprocess.run(
        [python, "-m", "handlerlens", "lsp"],
        env={**os.environ, "PYTHONPATH": str(SERVER_DIR)},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""  # no `initialize` answered
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("PythonVersionError: HandlerLens' language server needs Python 3.10")
    assert re.search(r" is Python 3\.[6-9]\.\d+$", lines[0]), lines[0]
