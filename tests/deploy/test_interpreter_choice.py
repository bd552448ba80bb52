"""runtime-interpreter-mismatch foresees the runner's interpreter (deploy/interpreter.py
`foreseen`) from files only, and agrees with what the runner then chooses (`choose`)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from handlerlens.deploy.interpreter import choose, foreseen


def fake_venv(folder: Path, version: str | None, name: str = ".venv") -> Path:
    """pyvenv.cfg and a bin/python that leaves `ran` behind if it is ever run."""
    venv = folder / name
    (venv / "bin").mkdir(parents=True)
    cfg = "home = /nowhere/bin\n" + (f"version = {version}\n" if version else "")
    (venv / "pyvenv.cfg").write_text(cfg)
    python = venv / "bin" / "python"
    python.write_text(f"#!/bin/sh\ntouch '{folder / 'ran'}'\nexit 1\n")
    python.chmod(0o755)
    return python


def _agree(root: Path, code: Path, runtime: str) -> tuple[str, str, tuple[int, int] | None]:
    seen = foreseen(str(root), str(code), runtime)
    chosen = choose(None, str(root), [str(code)], [runtime])
    assert seen == (chosen.path, chosen.source, chosen.version)
    return seen


def test_a_venv_in_the_code_root_or_above(tmp_path: Path) -> None:
    code = tmp_path / "svc" / "app"
    code.mkdir(parents=True)
    above = fake_venv(tmp_path, "3.8.18")
    assert _agree(tmp_path, code, "python3.12") == (str(above), "venv", (3, 8))
    inner = fake_venv(code, "3.12.1", name="venv")  # the code root's comes first
    assert _agree(tmp_path, code, "python3.12") == (str(inner), "venv", (3, 12))
    # uv writes version_info; none at all: the version cannot be told without running it.
    (code / "venv" / "pyvenv.cfg").write_text("home = /x\nversion_info = 3.10.4\n")
    assert _agree(tmp_path, code, "python3.12")[2] == (3, 10)
    (code / "venv" / "pyvenv.cfg").write_text("home = /x\n")
    assert foreseen(str(tmp_path), str(code), "python3.12") == (str(inner), "venv", None)
    assert not (tmp_path / "ran").exists() and not (code / "ran").exists()


def test_a_venv_outside_the_project_root_is_not_looked_at(tmp_path: Path) -> None:
    fake_venv(tmp_path, "3.8.18")
    project = tmp_path / "project"
    project.mkdir()
    here = f"python3.{sys.version_info[1]}"
    assert _agree(project, project, here) == (sys.executable, "handlerlens", sys.version_info[:2])


def test_python_in_pyproject(tmp_path: Path) -> None:
    python = fake_venv(tmp_path, "3.9.18", name="env39")
    (tmp_path / "pyproject.toml").write_text('[tool.handlerlens]\npython = "env39/bin/python"\n')
    assert foreseen(str(tmp_path), str(tmp_path), "python3.12") == (
        str(python),
        "pyproject.toml",
        (3, 9),
    )
    # Named by version only, not on PATH: told from the name, never run.
    (tmp_path / "pyproject.toml").write_text('[tool.handlerlens]\npython = "python3.77"\n')
    assert foreseen(str(tmp_path), str(tmp_path), "python3.12")[1:] == ("pyproject.toml", (3, 77))
    # A name that says nothing: no version, no claim (choose would run it to ask).
    (tmp_path / "pyproject.toml").write_text('[tool.handlerlens]\npython = "./mypy-wrapper"\n')
    assert foreseen(str(tmp_path), str(tmp_path), "python3.12")[2] is None
    assert not (tmp_path / "ran").exists()


def _invoke(*args: str, cwd: Path) -> tuple[int, str, str]:
    done = subprocess.run(
        [sys.executable, "-m", "handlerlens", "invoke", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return done.returncode, done.stdout, done.stderr


def test_invoke_finds_the_venv_at_the_project_root_above_the_code_root(tmp_path: Path) -> None:
    # A real venv at the workspace root, the function in app/: `invoke --root app` alone stays
    # in the code root; with --project-root (what the editor's runner passes: its workspace
    # folder) it runs the function on that venv, the interpreter `foreseen` names for
    # runtime-interpreter-mismatch.
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(tmp_path / ".venv")],
        check=True,
        capture_output=True,
    )
    code = tmp_path / "app"
    code.mkdir()
    (code / "main.py").write_text(
        "import sys\n\ndef handler(event, context):\n    return {'prefix': sys.prefix}\n"
    )
    here = f"python3.{sys.version_info[1]}"
    status, out, err = _invoke("main.handler", "--root", "app", "--platform", "aws", cwd=tmp_path)
    assert status == 0, err
    assert json.loads(out)["prefix"] != str(tmp_path / ".venv")
    status, out, err = _invoke(
        "main.handler", "--root", "app", "--project-root", ".", "--platform", "aws", cwd=tmp_path
    )
    assert status == 0, err
    assert json.loads(out) == {"prefix": str(tmp_path / ".venv")}
    python = str(tmp_path / ".venv" / "bin" / "python")
    assert foreseen(str(tmp_path), str(code), here)[:2] == (python, "venv")
    # Bad input: said, nothing run.
    status, out, err = _invoke(
        "main.handler", "--root", "app", "--project-root", "nope", cwd=tmp_path
    )
    assert status == 2 and out == ""
    assert "handlerlens: --project-root is not a directory: nope" in err


def test_handlerlens_test_runs_functions_on_the_venv_of_its_root(tmp_path: Path) -> None:
    # `handlerlens test --root` starts one runner per function on its code root: the venv is
    # looked for up to the root it was given, as `check`'s and the editor's lookups do.
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(tmp_path / ".venv")],
        check=True,
        capture_output=True,
    )
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "where.py").write_text(
        "import sys\n\ndef handler(event, context):\n    return {'prefix': sys.prefix}\n"
    )
    (tmp_path / "template.yaml").write_text(
        "Transform: AWS::Serverless-2016-10-31\nResources:\n  Orders:\n"
        "    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: app/\n"
        f"      Handler: where.handler\n      Runtime: python3.{sys.version_info[1]}\n"
    )
    for args in (["event", "new", "Orders"], ["test", "--update"]):
        done = subprocess.run(
            [sys.executable, "-m", "handlerlens", *args],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
    (expected,) = (tmp_path / ".handlerlens" / "events" / "Orders").glob("*.expected.json")
    assert json.loads(expected.read_text()) == {"result": {"prefix": str(tmp_path / ".venv")}}
