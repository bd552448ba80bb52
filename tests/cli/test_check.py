"""`handlerlens check`, run as users and CI run it: output formats and exit statuses."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def check(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "handlerlens", "check", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    shutil.copytree(EXAMPLES, tmp_path / "examples")
    return tmp_path


def test_text_format_points_at_both_files_and_exits_1(workspace: Path) -> None:
    result = check("examples", cwd=workspace)
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("examples/orders/app.py:15:5: error [entry-point-function-missing]")
    assert lines[1].startswith(
        "examples/orders/template.yaml:29:16: error [entry-point-function-missing]"
    )
    assert lines[-1] == "2 error(s), 0 warning(s), 0 info in 4 function(s)"


def test_json_format(workspace: Path) -> None:
    result = check("examples", "--format", "json", cwd=workspace)
    assert result.returncode == 1
    data = json.loads(result.stdout)
    assert data["functions"] == 4
    first = data["problems"][1]
    assert first == {
        "path": "examples/orders/template.yaml",
        "line": 29,
        "column": 16,
        "endLine": 29,
        "endColumn": 30,
        "severity": "error",
        "code": "entry-point-function-missing",
        "message": first["message"],
        "source": "handlerlens",
    }


def test_github_format(workspace: Path) -> None:
    result = check("examples", "--format", "github", cwd=workspace)
    assert result.returncode == 1
    assert result.stdout.splitlines()[1].startswith(
        "::error file=examples/orders/template.yaml,line=29,col=16,endLine=29,endColumn=30,"
        "title=handlerlens entry-point-function-missing::Entry point 'app.list_order'"
    )


def test_clean_project_exits_0(workspace: Path) -> None:
    template = workspace / "examples" / "orders" / "template.yaml"
    template.write_text(template.read_text().replace("app.list_order", "app.list_orders"))
    result = check("examples", cwd=workspace)
    assert result.returncode == 0, result.stdout
    assert result.stdout.strip() == "0 error(s), 0 warning(s), 0 info in 4 function(s)"
    assert result.stderr == ""


def test_single_file_reports_only_that_file_and_its_declaration(workspace: Path) -> None:
    result = check("examples/orders/app.py", cwd=workspace)
    assert result.returncode == 1
    paths = {line.split(":")[0] for line in result.stdout.splitlines() if ": error" in line}
    assert paths == {"examples/orders/app.py", "examples/orders/template.yaml"}
    assert check("examples/greeter/main.py", cwd=workspace).returncode == 0


def test_platform_option_applies_where_no_file_says(tmp_path: Path) -> None:
    (tmp_path / "main.py").write_text("async def handler(event, context):\n    return 1\n")
    assert check(".", cwd=tmp_path).returncode == 0  # Yandex awaits async handlers
    result = check(".", "--platform", "aws", cwd=tmp_path)
    assert result.returncode == 1
    assert "[handler-async-unsupported]" in result.stdout


def test_no_function_found_passes_with_a_warning(tmp_path: Path) -> None:
    # One parameter: not handler-shaped, and nothing declares it. A silent "0 errors" here
    # would read as "all good" in CI.
    (tmp_path / "main.py").write_text("def handler(event):\n    return 1\n")
    result = check(".", cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout.strip() == "0 error(s), 0 warning(s), 0 info in 0 function(s)"
    assert result.stderr.startswith("handlerlens check: warning: no function found under .:")
    assert "[tool.handlerlens]" in result.stderr


@pytest.mark.parametrize("args", [("--format", "xml"), ("no/such/dir",), ("--platform", "gcp")])
def test_usage_errors_exit_2(workspace: Path, args: tuple[str, ...]) -> None:
    result = check(*args, cwd=workspace)
    assert result.returncode == 2
    assert result.stderr.strip()
