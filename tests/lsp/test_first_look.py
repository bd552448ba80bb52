"""Issue #21: a file open when the folder is opened gets its problems (and lenses) from the
declaring files near it before the server reads the rest of the workspace."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from pathlib import Path

from lsprotocol import types as lsp

from tests.lsp.conftest import (
    change_document,
    open_document,
    running_server,
    wait_for_diagnostics,
    when_ready,
)

HANDLER = "def handler(event, context):\n    return {'statusCode': 200, 'body': 'ok'}\n"


class Arrivals(dict[str, Sequence[lsp.Diagnostic]]):
    """The client's diagnostics by URI, noting each publish in the order it came."""

    def __init__(self) -> None:
        super().__init__()
        self.order: list[tuple[str, int, float]] = []

    def __setitem__(self, uri: str, diagnostics: Sequence[lsp.Diagnostic]) -> None:
        self.order.append((uri, len(diagnostics), time.perf_counter()))
        super().__setitem__(uri, diagnostics)


def _workspace(root: Path, far_functions: int) -> tuple[Path, Path]:
    """near/app.py with a handler-arity error, declared by near/template.yaml; a_far/ with a
    template of many functions, one of them misspelt. Returns (app.py, a_far/template.yaml)."""
    near = root / "near"
    near.mkdir()
    (near / "template.yaml").write_text(
        "Transform: AWS::Serverless-2016-10-31\nResources:\n  Near:\n"
        "    Type: AWS::Serverless::Function\n"
        "    Properties: {Runtime: python3.12, Handler: app.handler}\n"
    )
    app = near / "app.py"
    app.write_text("def handler(event):\n    return 1\n")
    far = root / "a_far"
    resources = []
    for i in range(far_functions):
        code = far / f"fn{i}"
        code.mkdir(parents=True)
        (code / "app.py").write_text(HANDLER)
        handler = "app.handlr" if i == 0 else "app.handler"
        resources.append(
            f"  Fn{i}:\n    Type: AWS::Serverless::Function\n"
            f"    Properties: {{Runtime: python3.12, CodeUri: fn{i}, Handler: {handler}}}\n"
        )
    template = far / "template.yaml"
    template.write_text("Transform: AWS::Serverless-2016-10-31\nResources:\n" + "".join(resources))
    return app, template


async def test_the_open_file_is_published_before_the_rest_of_the_workspace(
    tmp_path: Path,
) -> None:
    app, far = _workspace(tmp_path, 40)
    async with running_server(tmp_path) as client:
        arrivals = Arrivals()
        client.diagnostics = arrivals
        open_document(client, app)
        first = await wait_for_diagnostics(client, app)
        lenses = await client.text_document_code_lens_async(
            lsp.CodeLensParams(text_document=lsp.TextDocumentIdentifier(uri=app.as_uri()))
        )
        on_far = await wait_for_diagnostics(client, far, timeout=30)
    assert [d.code for d in first] == ["handler-arity"]
    # The first publish of all is app.py's, from near/template.yaml alone.
    assert arrivals.order[0][:2] == (app.as_uri(), 1)
    assert [d.code for d in on_far] == ["entry-point-function-missing"]
    # Its lenses are there as soon as its problems are (from the first look, or the whole
    # workspace if that was read meanwhile: the same function either way).
    titles = sorted(lens.command.title for lens in lenses or [] if lens.command)
    assert titles == ["Debug handler", "▶ Run handler"]
    # app.py is not published again: the whole workspace says the same about it.
    assert [uri for uri, _, _ in arrivals.order].count(app.as_uri()) == 1


async def test_a_file_the_first_look_finds_nothing_for_gets_its_lenses_when_read(
    tmp_path: Path,
) -> None:
    # A client without workspace/codeLens/refresh (neovim's capabilities) asks once: a handler
    # no declaring file near it names (guessed once the workspace is read) must not be answered
    # "no lenses" by the first look.
    lone = tmp_path / "lone" / "index.py"
    lone.parent.mkdir()
    lone.write_text(HANDLER)
    _workspace(tmp_path, 150)  # the rest of the workspace takes a while to read
    async with running_server(tmp_path, capabilities="neovim") as client:
        open_document(client, lone)
        # Asked once the first look has published (nothing) for it, the rest still being read.
        deadline = time.perf_counter() + 30
        while lone.as_uri() not in client.diagnostics and time.perf_counter() < deadline:
            await asyncio.sleep(0.005)
        lenses = await client.text_document_code_lens_async(
            lsp.CodeLensParams(text_document=lsp.TextDocumentIdentifier(uri=lone.as_uri()))
        )
    titles = sorted(lens.command.title for lens in lenses or [] if lens.command)
    assert titles == ["Debug handler", "▶ Run handler"]


async def test_lenses_asked_for_before_the_first_look_wait_for_it(tmp_path: Path) -> None:
    # VS Code asks for an opened file's lenses as soon as it can, usually before the first look
    # has finished: answered "none", it asks again only after the refresh and a pause of its
    # own (~0.3–0.8 s in code-server), so the first answer carries them (issue #21).
    app, far = _workspace(tmp_path, 150)  # the rest of the workspace takes a while to read
    async with running_server(tmp_path) as client:
        open_document(client, app)
        lenses = await client.text_document_code_lens_async(
            lsp.CodeLensParams(text_document=lsp.TextDocumentIdentifier(uri=app.as_uri()))
        )
        read = far.as_uri() in client.diagnostics  # the workspace read yet?
    titles = sorted(lens.command.title for lens in lenses or [] if lens.command)
    assert titles == ["Debug handler", "▶ Run handler"]
    assert not read, "answered from the whole workspace: this test needs a slower one"


async def _refreshes(tmp_path: Path, far_declares_app_too: bool) -> tuple[list[str], int]:
    """Open near/app.py, ask for its lenses at once, wait for the whole workspace: the lens
    titles and how many workspace/codeLens/refresh requests the server sent meanwhile."""
    app, far = _workspace(tmp_path, 60)
    if far_declares_app_too:  # a second function on near/app.py's handler, further away
        far.write_text(
            far.read_text() + "  Twin:\n    Type: AWS::Serverless::Function\n"
            "    Properties: {Runtime: python3.12, CodeUri: ../near, Handler: app.handler}\n"
        )
    async with running_server(tmp_path) as client:
        refreshes: list[None] = []

        @client.feature(lsp.WORKSPACE_CODE_LENS_REFRESH)
        def _refresh(params: None) -> None:
            refreshes.append(params)

        open_document(client, app)
        lenses = await client.text_document_code_lens_async(
            lsp.CodeLensParams(text_document=lsp.TextDocumentIdentifier(uri=app.as_uri()))
        )
        await wait_for_diagnostics(client, far, timeout=30)
        await asyncio.sleep(0.3)  # a refresh would have been sent with the publish
    return sorted(lens.command.title for lens in lenses or [] if lens.command), len(refreshes)


async def test_no_refresh_when_the_first_look_lenses_are_the_workspaces(tmp_path: Path) -> None:
    # A refresh VS Code gets while its lens answer is on the way makes it ask again after a
    # pause and draw the lenses ~0.4 s later (bench/STARTUP.md): sent only when needed.
    titles, refreshes = await _refreshes(tmp_path, far_declares_app_too=False)
    assert titles == ["Debug handler", "▶ Run handler"]
    assert refreshes == 0


async def test_a_refresh_when_the_workspace_adds_lenses_to_a_looked_at_file(
    tmp_path: Path,
) -> None:
    titles, refreshes = await _refreshes(tmp_path, far_declares_app_too=True)
    assert titles == ["Debug handler", "▶ Run handler"]  # the first look's, near/template.yaml
    assert refreshes >= 1  # the workspace has two functions on that handler


async def test_an_edit_refreshes_the_lenses_only_when_a_handler_moves(tmp_path: Path) -> None:
    # VS Code asks for lenses again after an edit by itself; told to, it asks twice.
    app, _ = _workspace(tmp_path, 1)
    async with running_server(tmp_path) as client:
        refreshes: list[None] = []

        @client.feature(lsp.WORKSPACE_CODE_LENS_REFRESH)
        def _refresh(params: None) -> None:
            refreshes.append(params)

        open_document(client, app)
        await when_ready(client, app)
        await asyncio.sleep(0.5)
        opened = len(refreshes)
        change_document(client, app, "def handler(event):\n    return 2\n", 2)  # the body
        await asyncio.sleep(1.0)  # validated by now (a 20 ms debounce, a two-line file)
        after_body = len(refreshes)
        change_document(client, app, "\n\ndef handler(event):\n    return 2\n", 3)  # moved
        deadline = time.perf_counter() + 10
        while len(refreshes) == after_body and time.perf_counter() < deadline:
            await asyncio.sleep(0.02)
        lenses = await client.text_document_code_lens_async(
            lsp.CodeLensParams(text_document=lsp.TextDocumentIdentifier(uri=app.as_uri()))
        )
    assert after_body == opened
    assert len(refreshes) == after_body + 1
    assert {lens.range.start.line for lens in lenses or []} == {2}


async def test_lenses_not_asked_for_are_refreshed_once_there(tmp_path: Path) -> None:
    # A restarted server: VS Code does not always ask the new one for the open files' lenses
    # by itself (seen in the e2e's crash step), so the server says when it has them.
    app, far = _workspace(tmp_path, 20)
    async with running_server(tmp_path) as client:
        refreshes: list[None] = []

        @client.feature(lsp.WORKSPACE_CODE_LENS_REFRESH)
        def _refresh(params: None) -> None:
            refreshes.append(params)

        open_document(client, app)
        await wait_for_diagnostics(client, far, timeout=30)
        deadline = time.perf_counter() + 10
        while not refreshes and time.perf_counter() < deadline:
            await asyncio.sleep(0.02)
    assert refreshes
