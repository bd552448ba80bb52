"""Start `handlerlens lsp` as a subprocess and talk to it with pytest-lsp's real client."""

from __future__ import annotations

import asyncio
import shutil
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types as lsp
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
SERVER = [sys.executable, "-m", "handlerlens", "lsp"]


@asynccontextmanager
async def running_server(
    root: Path,
    *,
    options: dict[str, Any] | None = None,
    capabilities: str = "visual-studio-code",
) -> AsyncIterator[LanguageClient]:
    """A real server process initialised on `root`, shut down afterwards."""
    client = await ClientServerConfig(server_command=SERVER).start()
    assert isinstance(client, LanguageClient)
    await client.initialize_session(
        lsp.InitializeParams(
            capabilities=client_capabilities(capabilities),
            root_uri=root.as_uri(),
            workspace_folders=[lsp.WorkspaceFolder(uri=root.as_uri(), name=root.name)],
            initialization_options=options,
        )
    )
    try:
        yield client
    finally:
        server = client._server
        if server is not None and server.returncode is None:
            await client.shutdown_session()
            await client.stop()


async def wait_for_diagnostics(
    client: LanguageClient,
    path: Path,
    predicate: Callable[[list[lsp.Diagnostic]], bool] = bool,
    timeout: float = 10.0,
) -> list[lsp.Diagnostic]:
    """Wait until the diagnostics published for `path` satisfy `predicate`.

    Polls what the client has received: registering a waiter for the next notification races
    with notifications that arrive between the check and the registration.
    """
    uri = path.as_uri()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        current = list(client.diagnostics.get(uri, []))
        if predicate(current):
            return current
        if loop.time() >= deadline:
            raise AssertionError(f"diagnostics for {path.name} never matched; last: {current}")
        await asyncio.sleep(0.02)


def open_document(client: LanguageClient, path: Path, language: str = "python") -> str:
    """Send didOpen with the file's text; returns the URI."""
    uri = path.as_uri()
    client.text_document_did_open(
        lsp.DidOpenTextDocumentParams(
            text_document=lsp.TextDocumentItem(
                uri=uri, language_id=language, version=1, text=path.read_text()
            )
        )
    )
    return uri


def change_document(client: LanguageClient, path: Path, text: str, version: int) -> None:
    """Replace the whole text of an open document (a full-content change)."""
    client.text_document_did_change(
        lsp.DidChangeTextDocumentParams(
            text_document=lsp.VersionedTextDocumentIdentifier(uri=path.as_uri(), version=version),
            content_changes=[lsp.TextDocumentContentChangeWholeDocument(text=text)],
        )
    )


@pytest.fixture
def examples(tmp_path: Path) -> Path:
    """A private copy of the bundled examples workspace."""
    target = tmp_path / "examples"
    shutil.copytree(EXAMPLES, target)
    return target


async def when_ready(client: LanguageClient, path: Path) -> None:
    """Return once the server has read the workspace: a hover waits for that. (Code lenses
    asked for earlier come back empty from a client that takes workspace/codeLens/refresh, as
    VS Code does, and are asked for again when the server says so.)"""
    await client.text_document_hover_async(
        lsp.HoverParams(lsp.TextDocumentIdentifier(path.as_uri()), lsp.Position(0, 0))
    )


async def code_lenses(client: LanguageClient, path: Path) -> list[lsp.CodeLens]:
    """The code lenses of `path` once the server has read the workspace."""
    await when_ready(client, path)
    result = await client.text_document_code_lens_async(
        lsp.CodeLensParams(text_document=lsp.TextDocumentIdentifier(uri=path.as_uri()))
    )
    return result or []


def plain(value: Any) -> Any:
    """A custom request's result as plain JSON values (pygls reads objects as namedtuples)."""
    if hasattr(value, "_asdict"):
        return {k: plain(v) for k, v in value._asdict().items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


async def routes(client: LanguageClient, uri: str | None = None) -> list[dict[str, Any]]:
    """`handlerlens/routes`: the routes of the file at `uri` (default: of every file)."""
    params = {"uri": uri} if uri is not None else {}
    return list(plain(await client.protocol.send_request_async("handlerlens/routes", params)))


async def send(client: LanguageClient, arg: dict[str, Any]) -> Any:
    """`handlerlens.server.sendRequest` with `arg` (a route and its request)."""
    return await client.workspace_execute_command_async(
        lsp.ExecuteCommandParams(command="handlerlens.server.sendRequest", arguments=[arg])
    )
