"""Breakpoints stop in a worker isolated as deployed (issue #18): in HandlerLens's own
interpreter with the standard library only (the other tests here), and in the project's
`.venv`, which has no debugpy of its own."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.debug.conftest import BREAK_LINE, start_debugged


@pytest.mark.timeout(120)
def test_a_breakpoint_stops_in_the_projects_venv(project: Path):
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(project / ".venv")],
        check=True,
        timeout=120,
    )
    served = start_debugged(project, {str(project / "main.py"): [BREAK_LINE]})
    try:
        chosen = served.runner.wait_for(lambda e: e["event"] == "interpreter")
        assert chosen["source"] == "venv"
        assert chosen["path"] == str(project / ".venv" / "bin" / "python")
        served.wait_reloaded(0)
        thread, outcome = served.invoke_later({"name": "venv"})
        stop = served.editor.wait_stop(0)
        assert (stop.reason, stop.path, stop.line) == ("breakpoint", served.main, BREAK_LINE)
        served.editor.resume(stop)
        thread.join(15)
        assert outcome == [(200, {"version": "v0", "hello": "venv"})]
    finally:
        served.editor.close()
        served.runner.stop()
