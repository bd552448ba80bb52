"""A long-lived `handlerlens lsp` for fuzzing: health checks, a settle barrier, snapshots.

The barrier relies on what an editor can observe: a sentinel `pyproject.toml` outside the
workspace is changed so that its diagnostic names a fresh module; once that diagnostic is
published, every change sent before it has been analysed and published too (changes are
debounced per file by the same delay, and analysis runs in order).
"""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import Any

from lsprotocol import types as lsp
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from tests.lsp.conftest import SERVER

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

# (path in the workspace, languageId, fragment kind) of every document the fuzzer edits.
DOCUMENTS = (
    ("greeter/main.py", "python", "python"),
    ("orders/app.py", "python", "python"),
    ("billing/main.py", "python", "python"),
    ("loose/handler.py", "python", "python"),
    ("orders/template.yaml", "yaml", "yaml"),
    ("thumbnails/serverless.yml", "yaml", "serverless"),
    ("greeter/main.tf", "terraform", "terraform"),
    ("billing/pyproject.toml", "toml", "toml"),
)

Snapshot = dict[str, list[tuple[Any, ...]]]


def build_workspace(target: Path) -> Path:
    """The bundled examples (SAM, Serverless, Terraform) plus a pyproject and a heuristic one."""
    shutil.copytree(EXAMPLES, target)
    billing = target / "billing"
    billing.mkdir()
    (billing / "pyproject.toml").write_text(
        '[project]\nname = "billing"\nversion = "0.1.0"\n\n'
        '[tool.handlerlens]\nplatform = "yandex"\nname = "billing"\nentry = "main.charge"\n'
        'runtime = "python312"\ntimeout = 5\nmemory = 256\n'
    )
    (billing / "main.py").write_text(
        '"""Charges a card."""\n\nimport json\n\n\ndef charge(event, context):\n'
        '    amount = json.loads(event["body"])["amount"]\n'
        '    return {"statusCode": 200, "body": json.dumps({"charged": amount})}\n'
    )
    loose = target / "loose"
    loose.mkdir()
    (loose / "handler.py").write_text(
        "def handler(event, context):\n"
        '    return {"statusCode": 200, "body": event.get("body") or ""}\n'
    )
    return target


class LspSession:
    """One server process, its log, and the client that drives it."""

    def __init__(self, client: LanguageClient, log: Path, sentinel: Path) -> None:
        self.client = client
        self.log = log
        self.sentinel = sentinel
        self.barriers = 0
        self.log_checked = 0
        self.versions: dict[str, int] = {}

    @classmethod
    async def start(cls, root: Path, scratch: Path, name: str) -> LspSession:
        """Start a server on `root`; `scratch` holds its log and its sentinel."""
        log = scratch / f"{name}.log"
        sentinel = scratch / f"sentinel-{name}" / "pyproject.toml"
        sentinel.parent.mkdir(parents=True)
        sentinel.write_text("")
        client = await ClientServerConfig(server_command=[*SERVER, "--log-file", str(log)]).start()
        assert isinstance(client, LanguageClient)
        # Answer the server's own requests the way an editor does.
        client.feature(lsp.CLIENT_REGISTER_CAPABILITY)(lambda params: None)
        client.feature(lsp.WORKSPACE_CODE_LENS_REFRESH)(lambda params: None)
        await client.initialize_session(
            lsp.InitializeParams(
                capabilities=client_capabilities("visual-studio-code"),
                root_uri=root.as_uri(),
                workspace_folders=[lsp.WorkspaceFolder(uri=root.as_uri(), name=root.name)],
            )
        )
        session = cls(client, log, sentinel)
        session.open(sentinel, "toml", "")
        return session

    # -- documents -----------------------------------------------------------------------
    def open(self, path: Path, language: str, text: str) -> None:
        """didOpen with `text`."""
        uri = path.as_uri()
        self.versions[uri] = 1
        self.client.text_document_did_open(
            lsp.DidOpenTextDocumentParams(
                text_document=lsp.TextDocumentItem(
                    uri=uri, language_id=language, version=1, text=text
                )
            )
        )

    def change(self, path: Path, changes: list[Any]) -> None:
        """didChange with the next version."""
        uri = path.as_uri()
        self.versions[uri] += 1
        self.client.text_document_did_change(
            lsp.DidChangeTextDocumentParams(
                text_document=lsp.VersionedTextDocumentIdentifier(
                    uri=uri, version=self.versions[uri]
                ),
                content_changes=changes,
            )
        )

    def save(self, path: Path) -> None:
        """didSave without text."""
        self.client.text_document_did_save(
            lsp.DidSaveTextDocumentParams(text_document=lsp.TextDocumentIdentifier(path.as_uri()))
        )

    def close(self, path: Path) -> None:
        """didClose: the file on disk is the truth again."""
        self.client.text_document_did_close(
            lsp.DidCloseTextDocumentParams(text_document=lsp.TextDocumentIdentifier(path.as_uri()))
        )

    # -- observation ---------------------------------------------------------------------
    async def barrier(self, timeout: float = 20.0) -> None:
        """Return once everything sent so far has been analysed and published."""
        self.barriers += 1
        module = f"settled{self.barriers}"
        self.change(
            self.sentinel,
            [
                lsp.TextDocumentContentChangeWholeDocument(
                    text=f'[tool.handlerlens]\nentry = "{module}.handler"\n'
                )
            ],
        )
        uri = self.sentinel.as_uri()
        deadline = asyncio.get_running_loop().time() + timeout
        # Polling, not tests/lsp/conftest.py's wait_for_diagnostics: that helper can miss a
        # notification that lands before its waiter is registered (and then stalls until its
        # timeout, whose cancelled future makes pytest-lsp kill the server on the next one).
        while not any(f"'{module}" in d.message for d in self.client.diagnostics.get(uri, [])):
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"{self.log.stem}: barrier {module} not reached")
            await asyncio.sleep(0.005)

    def snapshot(self, root: Path) -> Snapshot:
        """Diagnostics published for files under `root`, by relative path, comparable."""
        prefix = root.as_uri() + "/"
        out: Snapshot = {}
        for uri, diagnostics in self.client.diagnostics.items():
            if not uri.startswith(prefix) or not diagnostics:
                continue
            out[uri[len(prefix) :]] = sorted(
                (
                    (d.range.start.line, d.range.start.character),
                    (d.range.end.line, d.range.end.character),
                    int(d.severity or 0),
                    str(d.code),
                    d.source,
                    d.message.replace(str(root), "<root>"),
                )
                for d in diagnostics
            )
        return out

    @property
    def returncode(self) -> int | None:
        """The server's exit status, None while it runs."""
        server = self.client._server  # pytest-lsp keeps the subprocess here
        assert server is not None
        return server.returncode

    def problems(self) -> list[str]:
        """Everything that says the server misbehaved since the last call."""
        found = []
        if self.returncode is not None:
            found.append(f"server exited with status {self.returncode}")
        found += [
            f"showMessage: {m.message}"
            for m in self.client.messages
            if m.type == lsp.MessageType.Error
        ]
        found += [
            f"logMessage: {m.message}"
            for m in self.client.log_messages
            if m.type == lsp.MessageType.Error
        ]
        if self.log.exists():
            lines = self.log.read_text(errors="replace").splitlines()
            new, self.log_checked = lines[self.log_checked :], len(lines)
            found += [f"log: {line}" for line in new if line.startswith(("ERROR", "CRITICAL"))]
            found += [f"log: {line}" for line in new if line.startswith("Traceback")]
        self.client.messages.clear()
        self.client.log_messages.clear()
        return found

    async def kill(self) -> None:
        """End the server however it is doing (after a failure); idempotent."""
        server = self.client._server
        if server is not None and server.returncode is None:
            server.kill()
            await server.wait()
        await self.client.stop()

    async def stop(self) -> int | None:
        """Shut down politely; the exit status."""
        if self.returncode is None:
            await asyncio.wait_for(self.client.shutdown_session(), 20)
        await self.client.stop()
        return self.returncode
