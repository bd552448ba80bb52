"""Bad input over LSP: a clear diagnostic or silence, never an error response or a crash."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from pathlib import Path

from lsprotocol import types as lsp
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from tests.lsp.conftest import (
    change_document,
    code_lenses,
    open_document,
    running_server,
    wait_for_diagnostics,
)


async def _lenses(client: object, path: Path) -> list[lsp.CodeLens]:
    return await code_lenses(client, path)  # type: ignore[arg-type]


async def _poll_lenses(
    client: object, path: Path, done: Callable[[list[lsp.CodeLens]], bool]
) -> list[lsp.CodeLens]:
    for _ in range(100):
        lenses = await _lenses(client, path)
        if done(lenses):
            return lenses
        await asyncio.sleep(0.05)
    raise AssertionError(f"lenses never settled: {lenses}")


async def test_malformed_yaml_gives_one_diagnostic_and_the_rest_keeps_working(
    examples: Path,
) -> None:
    template = examples / "orders" / "template.yaml"
    main = examples / "greeter" / "main.py"
    async with running_server(examples) as client:
        await wait_for_diagnostics(client, template)
        open_document(client, template, "yaml")
        change_document(client, template, template.read_text() + "\n  bad: [unclosed\n", 2)
        diags = await wait_for_diagnostics(
            client, template, lambda ds: [d.code for d in ds] == ["config-parse-error"]
        )
        open_document(client, main)
        lenses = await _lenses(client, main)
    assert diags[0].severity == lsp.DiagnosticSeverity.Error
    assert len(lenses) == 2


async def test_heuristic_handler_gets_lenses_as_it_is_typed(tmp_path: Path) -> None:
    main = tmp_path / "main.py"
    main.write_text("import json\n")
    async with running_server(tmp_path, options={"clientCommands": True}) as client:
        open_document(client, main)
        assert await _lenses(client, main) == []
        typed = "import json\n\ndef handler(event, context):\n    return 1\n"
        change_document(client, main, typed, 2)
        lenses = await _poll_lenses(client, main, lambda ls: len(ls) == 2)
        # A helper that merely takes two arguments is not a handler.
        change_document(client, main, "def add(a, b):\n    return a + b\n", 3)
        none = await _poll_lenses(client, main, lambda ls: not ls)
    assert sorted(lens.command.title for lens in lenses if lens.command) == [
        "Debug handler",
        "▶ Run handler",
    ]
    assert lenses[0].range.start.line == 2
    assert none == []


async def test_huge_and_deeply_nested_files_do_not_break_the_server(tmp_path: Path) -> None:
    main = tmp_path / "main.py"
    main.write_text("def handler(event, context):\n    return 1\n")
    (tmp_path / "pyproject.toml").write_text('[tool.handlerlens]\nentry = "main.handler"\n')
    nested = tmp_path / "nested.py"
    nested.write_text("x = " + "[" * 3000 + "]" * 3000 + "\n")
    async with running_server(tmp_path) as client:
        open_document(client, nested)
        big = "def handler(event):\n    return 1\n" + "x = 1  # padding\n" * 300_000
        open_document(client, main)
        change_document(client, main, big, 2)
        diags = await wait_for_diagnostics(client, main, timeout=30)
        lenses = await _lenses(client, nested)
    assert [d.code for d in diags] == ["handler-arity"]
    assert lenses == []


async def test_a_walk_cut_short_by_its_cap_is_logged_once(tmp_path: Path) -> None:
    # The real server, started with a lowered cap standing in for a 100,000-entry tree.
    for i in range(30):
        (tmp_path / f"d{i:02}").mkdir()
    command = [
        sys.executable,
        "-c",
        "import handlerlens.project.walk as w; w.MAX_ENTRIES = 20; "
        "from handlerlens.cli import main; raise SystemExit(main(['lsp']))",
    ]
    client = await ClientServerConfig(server_command=command).start()
    assert isinstance(client, LanguageClient)
    await client.initialize_session(
        lsp.InitializeParams(
            capabilities=client_capabilities("visual-studio-code"),
            root_uri=tmp_path.as_uri(),
            workspace_folders=[lsp.WorkspaceFolder(uri=tmp_path.as_uri(), name=tmp_path.name)],
        )
    )
    try:
        for _ in range(200):
            notes = [m for m in client.log_messages if "the walk's cap" in m.message]
            if notes:
                break
            await asyncio.sleep(0.05)
        (note,) = notes
        assert note.type == lsp.MessageType.Warning
        assert note.message.startswith(f"HandlerLens: stopped reading {tmp_path} after 20 ")
    finally:
        await client.shutdown_session()
        await client.stop()
