"""The same diagnostics, lenses and completion through Neovim, a client we did not write."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
EXAMPLES = HERE.parents[1] / "examples"


@pytest.fixture
def nvim() -> str:
    path = shutil.which("nvim")
    if path is None:
        pytest.fail("Neovim is not installed: `make test` installs it (scripts/apt-ensure.sh)")
    return path


def test_neovim_sees_diagnostics_lenses_and_completion(nvim: str, tmp_path: Path) -> None:
    root = tmp_path / "examples"
    shutil.copytree(EXAMPLES, root)
    target = root / "orders" / "app.py"
    out = tmp_path / "result.json"
    env = {
        **os.environ,
        "HL_ROOT": str(root),
        "HL_FILE": str(target),
        "HL_OUT": str(out),
        "HL_PYTHON": sys.executable,
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
    }
    subprocess.run(
        ["timeout", "60", nvim, "--headless", "-u", "NONE", "-c", f"luafile {HERE / 'client.lua'}"],
        env=env,
        check=True,
        capture_output=True,
        timeout=90,
    )
    seen = json.loads(out.read_text())
    assert seen["errors"] == []
    (diag,) = seen["diagnostics"]
    assert diag["source"] == "handlerlens"
    assert diag["line"] == 14
    assert "Handler 'list_order' missing on module 'app'" in diag["message"]
    lenses = sorted((lens["line"], lens["title"], lens["command"]) for lens in seen["lenses"])
    assert lenses == [
        (7, "Debug handler", "handlerlens.server.debug"),
        (7, "▶ Run handler", "handlerlens.server.run"),
    ]
    # `    x = event["` typed into create_order, an API Gateway (REST) handler in template.yaml.
    items = {item["label"]: item for item in seen["completion"]}
    assert {"httpMethod", "pathParameters", "queryStringParameters", "body"} <= set(items)
    assert items["httpMethod"]["newText"] == 'httpMethod"]'
    assert items["httpMethod"]["line"] == 9
