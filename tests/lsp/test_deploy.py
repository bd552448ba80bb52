"""Deploy checks in the editor: same codes and positions as `check`, a quick fix that adds the
package to requirements.txt (creating it), and updates on edits to a helper or the manifest."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

from lsprotocol import types as lsp

from tests.lsp.conftest import change_document, open_document, running_server, wait_for_diagnostics

TEMPLATE = textwrap.dedent(
    """\
    Transform: AWS::Serverless-2016-10-31
    Resources:
      Orders:
        Type: AWS::Serverless::Function
        Properties:
          CodeUri: app/
          Handler: app.handler
          Runtime: python3.13
          Environment:
            Variables:
              TABLE_NAME: orders
    """
)
APP = textwrap.dedent(
    """\
    import os
    import cgi
    import requests
    import helper

    def handler(event, context):
        return os.environ["BUCKET"]
    """
)


def _project(root: Path) -> Path:
    (root / "app").mkdir()
    (root / "template.yaml").write_text(TEMPLATE)
    (root / "app" / "helper.py").write_text("import json\n")
    app = root / "app" / "app.py"
    app.write_text(APP)
    return app


def _deploy(diags: list[lsp.Diagnostic]) -> list[tuple[int, int, int, object]]:
    return sorted(
        (d.range.start.line, d.range.start.character, d.range.end.character, d.code)
        for d in diags
        if d.code in ("import-not-packaged", "import-removed-in-runtime", "env-var-undeclared")
    )


async def test_deploy_diagnostics_quick_fix_and_updates(tmp_path: Path) -> None:
    app = _project(tmp_path)
    helper = tmp_path / "app" / "helper.py"
    async with running_server(tmp_path) as client:
        diags = await wait_for_diagnostics(client, app, lambda d: len(_deploy(d)) == 3)
        assert _deploy(diags) == [
            (1, 7, 10, "import-removed-in-runtime"),
            (2, 7, 15, "import-not-packaged"),
            (6, 22, 30, "env-var-undeclared"),
        ]
        by_code = {d.code: d for d in diags}
        assert by_code["import-not-packaged"].severity == lsp.DiagnosticSeverity.Error
        assert by_code["env-var-undeclared"].severity == lsp.DiagnosticSeverity.Warning
        diag = by_code["import-not-packaged"]
        result = await client.text_document_code_action_async(
            lsp.CodeActionParams(
                text_document=lsp.TextDocumentIdentifier(uri=app.as_uri()),
                range=diag.range,
                context=lsp.CodeActionContext(diagnostics=[diag]),
            )
        )
        (action,) = [a for a in result or [] if isinstance(a, lsp.CodeAction)]
        assert action.title == "Add 'requests' to app/requirements.txt"
        requirements = tmp_path / "app" / "requirements.txt"
        assert action.edit is not None and action.edit.document_changes is not None
        create, edit = action.edit.document_changes
        assert isinstance(create, lsp.CreateFile) and create.uri == requirements.as_uri()
        assert isinstance(edit, lsp.TextDocumentEdit)
        assert [e.new_text for e in edit.edits] == ["requests\n"]

        # Applying it (as the editor would) and saving clears the diagnostic.
        requirements.write_text("requests\n")
        client.workspace_did_change_watched_files(
            lsp.DidChangeWatchedFilesParams(
                changes=[lsp.FileEvent(uri=requirements.as_uri(), type=lsp.FileChangeType.Created)]
            )
        )
        await wait_for_diagnostics(client, app, lambda d: len(_deploy(d)) == 2)

        # A helper module reached from the handler: its new import is reported there.
        open_document(client, helper)
        change_document(client, helper, "import json\nimport pandas\n", 2)
        diags = await wait_for_diagnostics(client, helper, lambda d: bool(_deploy(d)))
        assert _deploy(diags) == [(1, 7, 13, "import-not-packaged")]


async def test_env_name_completion_and_hover(tmp_path: Path) -> None:
    app = _project(tmp_path)
    async with running_server(tmp_path) as client:
        await wait_for_diagnostics(client, app, lambda d: len(_deploy(d)) == 3)
        open_document(client, app)
        text = APP.replace('return os.environ["BUCKET"]', 'x = os.environ["TA\n    return 1')
        change_document(client, app, text, 2)
        result = await client.text_document_completion_async(
            lsp.CompletionParams(
                text_document=lsp.TextDocumentIdentifier(uri=app.as_uri()),
                position=lsp.Position(line=6, character=22),
            )
        )
        assert isinstance(result, lsp.CompletionList)
        labels = [i.label for i in result.items]
        assert labels[0] == "TABLE_NAME" and "AWS_REGION" in labels
        first = min(result.items, key=lambda i: i.sort_text or "")
        assert first.label == "TABLE_NAME" and first.detail == "= orders"
        assert isinstance(first.text_edit, lsp.TextEdit)
        assert (first.text_edit.range.start.character, first.text_edit.range.end.character) == (
            20,
            22,
        )

        change_document(client, app, APP.replace('"BUCKET"', '"TABLE_NAME"'), 3)
        hover = await client.text_document_hover_async(
            lsp.HoverParams(
                text_document=lsp.TextDocumentIdentifier(uri=app.as_uri()),
                position=lsp.Position(line=6, character=25),
            )
        )
        assert hover is not None and isinstance(hover.contents, lsp.MarkupContent)
        assert "`orders` in function 'Orders' (template.yaml)" in hover.contents.value
        assert hover.range is not None and hover.range.start.character == 23


def _fake_venv(folder: Path, version: str) -> Path:
    """A virtual environment as the runner finds one (pyvenv.cfg and bin/python) whose
    interpreter is never to be run: it leaves a file behind if it is. Returns that file."""
    venv = folder / ".venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "pyvenv.cfg").write_text(f"home = /nowhere/bin\nversion = {version}\n")
    ran = folder / "venv-python-ran"
    python = venv / "bin" / "python"
    python.write_text(f"#!/bin/sh\ntouch '{ran}'\nexit 1\n")
    python.chmod(0o755)
    return ran


async def test_runtime_interpreter_mismatch_when_asked(tmp_path: Path) -> None:
    # The runner would run the function on the project's .venv (Python 3.8): that, not the
    # server's own Python, is compared with the declared runtime, read from pyvenv.cfg only.
    app = _project(tmp_path)
    ran = _fake_venv(tmp_path, "3.8.10")
    (tmp_path / "template.yaml").write_text(TEMPLATE.replace("python3.13", "python3.12"))
    options = {"settings": {"handlerlens": {"interpreterMismatch": True}}}
    async with running_server(tmp_path, options=options) as client:
        diags = await wait_for_diagnostics(
            client, app, lambda d: any(x.code == "runtime-interpreter-mismatch" for x in d)
        )
        (diag,) = [d for d in diags if d.code == "runtime-interpreter-mismatch"]
        assert diag.severity == lsp.DiagnosticSeverity.Information
        assert (diag.range.start.line, diag.range.start.character) == (5, 4)  # `handler`
        venv_python = tmp_path / ".venv" / "bin" / "python"
        assert diag.message.startswith(
            f"Runs here on Python 3.8 ({venv_python}: the project's virtual environment), "
            "deployed on python3.12 (Python 3.12)"
        )
        # Edits re-check the function from the kept choice: still there, nothing run.
        open_document(client, app)
        change_document(client, app, APP.replace("import requests", "import requests, yaml"), 2)
        diags = await wait_for_diagnostics(
            client, app, lambda d: any("'yaml'" in x.message for x in d)
        )
        assert len([d for d in diags if d.code == "runtime-interpreter-mismatch"]) == 1
    assert not ran.exists()
    # A venv in the code root comes first (the runner looks there first): Python 3.12 matches.
    _fake_venv(tmp_path / "app", "3.12.1")
    async with running_server(tmp_path, options=options) as client:
        diags = await wait_for_diagnostics(client, app, lambda d: len(_deploy(d)) >= 2)
        assert not [d for d in diags if d.code == "runtime-interpreter-mismatch"]
    assert not ran.exists()


async def test_without_a_venv_the_servers_own_python_matches(tmp_path: Path) -> None:
    # No venv and the runtime of this Python: the runner runs it on this one, no mismatch.
    app = _project(tmp_path)
    here = f"python3.{sys.version_info[1]}"
    (tmp_path / "template.yaml").write_text(TEMPLATE.replace("python3.13", here))
    options = {"settings": {"handlerlens": {"interpreterMismatch": True}}}
    async with running_server(tmp_path, options=options) as client:
        diags = await wait_for_diagnostics(client, app, lambda d: len(_deploy(d)) >= 2)
        assert not [d for d in diags if d.code == "runtime-interpreter-mismatch"]


async def test_a_venv_without_a_version_makes_no_claim(tmp_path: Path) -> None:
    # pyvenv.cfg says no version: the runner's Python cannot be told without running it.
    app = _project(tmp_path)
    ran = _fake_venv(tmp_path, "3.8.10")
    (tmp_path / ".venv" / "pyvenv.cfg").write_text("home = /nowhere/bin\n")
    (tmp_path / "template.yaml").write_text(TEMPLATE.replace("python3.13", "python3.12"))
    options = {"settings": {"handlerlens": {"interpreterMismatch": True}}}
    async with running_server(tmp_path, options=options) as client:
        diags = await wait_for_diagnostics(client, app, lambda d: len(_deploy(d)) >= 2)
        assert not [d for d in diags if d.code == "runtime-interpreter-mismatch"]
    assert not ran.exists()


def _client_options(mismatch: bool) -> dict[str, object]:
    """initializationOptions as the VS Code extension sends them (client/src/settings.ts
    serverSettings), `handlerlens.interpreterMismatch` included."""
    return {
        "clientCommands": True,
        "settings": {
            "platform": "auto",
            "interpreter": sys.executable,
            "runner": {"port": 0, "timeout": None},
            "eventsFolder": ".handlerlens/events",
            "interpreterMismatch": mismatch,
        },
    }


def _mismatches(diags: list[lsp.Diagnostic]) -> list[lsp.Diagnostic]:
    return [d for d in diags if d.code == "runtime-interpreter-mismatch"]


async def test_interpreter_mismatch_setting_from_the_vscode_client(tmp_path: Path) -> None:
    app = _project(tmp_path)
    _fake_venv(tmp_path, "3.8.2")  # the runner's interpreter, whatever this machine has
    other = "python3.9"
    (tmp_path / "template.yaml").write_text(TEMPLATE.replace("python3.13", other))
    async with running_server(tmp_path, options=_client_options(True)) as client:
        diags = await wait_for_diagnostics(client, app, lambda d: bool(_mismatches(d)))
        (diag,) = _mismatches(diags)
        assert (diag.range.start.line, diag.range.start.character) == (5, 4)
        assert f"deployed on {other}" in diag.message
    # Off (the default): the other deploy problems, no mismatch; then switched on and off
    # live, as an editor that sends workspace/didChangeConfiguration does.
    async with running_server(tmp_path, options=_client_options(False)) as client:
        diags = await wait_for_diagnostics(client, app, lambda d: len(_deploy(d)) >= 2)
        assert not _mismatches(diags)
        settings = _client_options(True)["settings"]
        client.workspace_did_change_configuration(
            lsp.DidChangeConfigurationParams(settings={"handlerlens": settings})
        )
        diags = await wait_for_diagnostics(client, app, lambda d: bool(_mismatches(d)))
        assert len(_mismatches(diags)) == 1 and len(_deploy(diags)) >= 2
        client.workspace_did_change_configuration(
            lsp.DidChangeConfigurationParams(settings=_client_options(False)["settings"])
        )
        diags = await wait_for_diagnostics(client, app, lambda d: not _mismatches(d))
        assert len(_deploy(diags)) >= 2


def test_check_does_not_compare_interpreters(tmp_path: Path) -> None:
    # `check` (CI) reports what the project declares, not what this machine would run it on:
    # the same output with a venv of another version, which it never runs either.
    import json
    import subprocess

    _project(tmp_path)
    (tmp_path / "template.yaml").write_text(TEMPLATE.replace("python3.13", "python3.12"))

    def codes() -> list[tuple[str, int, str]]:
        done = subprocess.run(
            [sys.executable, "-m", "handlerlens", "check", "--format", "json", str(tmp_path)],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            timeout=60,
        )
        assert done.returncode == 1, done.stderr
        rows = json.loads(done.stdout)["problems"]
        return sorted((r["path"], r["line"], r["code"]) for r in rows)

    before = codes()
    ran = _fake_venv(tmp_path, "3.8.10")
    assert codes() == before
    assert ("app/app.py", 3, "import-not-packaged") in before
    assert not [c for c in before if c[2] == "runtime-interpreter-mismatch"]
    assert not ran.exists()


async def test_a_requirement_line_pip_rejects_in_the_editor(tmp_path: Path) -> None:
    # The error sits on the line of requirements.txt, as check places it.
    _project(tmp_path)
    req = tmp_path / "app" / "requirements.txt"
    req.write_text("requests==2.31\nflask=2.0\n")
    async with running_server(tmp_path) as client:
        diags = await wait_for_diagnostics(
            client, req, lambda d: any(x.code == "requirements-invalid" for x in d)
        )
        (diag,) = diags
        assert diag.severity == lsp.DiagnosticSeverity.Error
        assert (diag.range.start.line, diag.range.start.character) == (1, 0)
        assert diag.range.end.character == len("flask=2.0")
        assert "ERROR: Invalid requirement: 'flask=2.0'" in diag.message


def _real_venv(folder: Path) -> Path:
    """A real virtual environment (`python -m venv`, no pip): its interpreter runs functions."""
    import subprocess

    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(folder / ".venv")],
        check=True,
        capture_output=True,
    )
    return folder / ".venv" / "bin" / "python"


async def test_the_editors_runner_and_the_diagnostic_find_the_same_venv(tmp_path: Path) -> None:
    # The venv sits at the workspace root, above the code root app/: the Run lens's runner
    # (started on the code root) runs the function with it, and runtime-interpreter-mismatch
    # names that same interpreter (one lookup: deploy/interpreter.py, up to the workspace).
    from tests.lsp.test_run_command import _execute

    python = _real_venv(tmp_path)
    (tmp_path / "app").mkdir()
    (tmp_path / "template.yaml").write_text(
        TEMPLATE.replace("python3.13", "python3.9").replace("app.handler", "where.handler")
    )
    code = "import sys\n\ndef handler(event, context):\n    return {'prefix': sys.prefix}\n"
    (tmp_path / "app" / "where.py").write_text(code)
    here = "{}.{}".format(*sys.version_info[:2])
    states: list[object] = []
    options = {"settings": {"handlerlens": {"interpreterMismatch": True}}}
    async with running_server(tmp_path, options=options) as client:
        client.feature("handlerlens/runnerState")(lambda params: states.append(params))
        diags = await wait_for_diagnostics(
            client, tmp_path / "app" / "where.py", lambda d: bool(_mismatches(d))
        )
        (diag,) = _mismatches(diags)
        assert diag.message.startswith(
            f"Runs here on Python {here} ({python}: the project's virtual environment), "
            "deployed on python3.9"
        ), diag.message
        functions = await _execute(client, "handlerlens.server.listFunctions", {})
        (ref,) = [f for f in functions if f["name"] == "Orders"]
        assert ref["root"] == str(tmp_path / "app")
        result = await _execute(client, "handlerlens.server.run", {"function": ref, "event": {}})
    assert result["functionError"] is False, result
    assert result["json"] == {"prefix": str(tmp_path / ".venv")}
    (running,) = [s for s in states if getattr(s, "state", None) == "running"]
    interpreter = getattr(running, "interpreter", None)
    assert interpreter is not None, str(running)
    assert (interpreter.path, interpreter.source) == (str(python), "venv")
