"""Hypothesis-drawn edit sequences through incremental didChange, against one live server.

Every example opens a document, replays a drawn plan of edits (insertions, deletions, random
bytes and unicode, half-typed handlers and configs, keystroke bursts, several changes per
notification) with codeLens/hover/codeAction/completion requests interleaved, then closes it.
Afterwards: no request failed, the server is alive and logged no error, and the diagnostics it
publishes for the whole workspace equal those of a server that never saw the edits and was
handed the final text in one `didOpen`: a fresh copy of the workspace in a second, long-lived
server (spawning one per example would cost 2 s each), itself checked now and then against a
brand-new server process.
"""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lsprotocol import types as lsp

from tests.reliability.lsp_session import DOCUMENTS, LspSession, Snapshot, build_workspace
from tests.reliability.lsp_text import Step, edit_plan
from tests.reliability.scale import scaled

EXAMPLES = scaled(40, 500)
MAX_STEPS = scaled(12, 40)
# Every so often a brand-new server process checks the long-lived reference server's answer.
FRESH_EVERY = scaled(20, 25)


class Fuzzer:
    """The server under test, the reference server, and their workspaces."""

    def __init__(self, scratch: Path) -> None:
        self.scratch = scratch
        self.pristine = build_workspace(scratch / "pristine")
        self.workspace = scratch / "fuzzed"
        shutil.copytree(self.pristine, self.workspace)
        self.originals = {rel: (self.pristine / rel).read_text() for rel, _, _ in DOCUMENTS}
        self.references = 0
        self.reference_root: Path | None = None
        self.server: LspSession
        self.reference: LspSession

    async def start(self) -> None:
        self.server = await LspSession.start(self.workspace, self.scratch, "fuzzed")
        empty = self.scratch / "reference-home"
        empty.mkdir()
        self.reference = await LspSession.start(empty, self.scratch, "reference")
        await asyncio.gather(self.server.barrier(), self.reference.barrier())

    async def stop(self) -> list[int | None]:
        return [await self.server.stop(), await self.reference.stop()]

    async def kill(self) -> None:
        for session in (getattr(self, "server", None), getattr(self, "reference", None)):
            if session is not None:
                await session.kill()

    # -- one example ---------------------------------------------------------------------
    async def run(self, rel: str, language: str, steps: list[Step], final: str) -> None:
        path = self.workspace / rel
        self.server.open(path, language, self.originals[rel])
        pending: list[asyncio.Future[Any]] = []
        for step in steps:
            if step.action == "change":
                self.server.change(path, list(step.changes))
            elif step.action == "request":
                pending.append(asyncio.ensure_future(self._request(path, step)))
            elif step.action == "save":
                self.server.save(path)
            elif step.action == "reopen":
                self.server.close(path)
                self.server.open(path, language, step.extra["text"])
            else:
                await asyncio.sleep(step.pause)
        results = await asyncio.wait_for(asyncio.gather(*pending, return_exceptions=True), 30)
        failed = [r for r in results if isinstance(r, BaseException)]
        assert not failed, f"requests failed: {failed!r}"
        await self.server.barrier()
        actual = self.server.snapshot(self.workspace)
        expected = await self._reference(rel, language, final)
        if self.references % FRESH_EVERY == 1:
            fresh = await self._fresh_process(rel, language, final)
            assert fresh == expected, "the reference server disagrees with a fresh process:\n" + (
                _diff(expected, fresh, rel, final)
            )
        for _ in range(3):
            if actual == expected:
                break
            # Give a late publish a chance before calling it a bug.
            await asyncio.sleep(0.2)
            await self.server.barrier()
            actual = self.server.snapshot(self.workspace)
        assert actual == expected, _diff(actual, expected, rel, final)
        problems = self.server.problems() + self.reference.problems()
        assert not problems, "\n".join(problems)
        self.server.close(path)

    async def _request(self, path: Path, step: Step) -> Any:
        client = self.server.client
        document = lsp.TextDocumentIdentifier(path.as_uri())
        position = step.position
        assert position is not None
        if step.request == "codeLens":
            return await client.text_document_code_lens_async(lsp.CodeLensParams(document))
        if step.request == "hover":
            return await client.text_document_hover_async(lsp.HoverParams(document, position))
        if step.request == "codeAction":
            end = step.end or position
            diagnostics = list(client.diagnostics.get(path.as_uri(), []))
            return await client.text_document_code_action_async(
                lsp.CodeActionParams(
                    document, lsp.Range(position, end), lsp.CodeActionContext(diagnostics)
                )
            )
        trigger = step.extra.get("trigger")
        context = (
            lsp.CompletionContext(lsp.CompletionTriggerKind.TriggerCharacter, trigger)
            if trigger
            else lsp.CompletionContext(lsp.CompletionTriggerKind.Invoked)
        )
        return await client.text_document_completion_async(
            lsp.CompletionParams(document, position, context)
        )

    async def _reference(self, rel: str, language: str, final: str) -> Snapshot:
        """What a server that never saw the edits publishes for the final text."""
        self.references += 1
        root = self.scratch / f"reference-{self.references}"
        shutil.copytree(self.pristine, root)
        removed = (
            [lsp.WorkspaceFolder(self.reference_root.as_uri(), self.reference_root.name)]
            if self.reference_root
            else []
        )
        self.reference.client.workspace_did_change_workspace_folders(
            lsp.DidChangeWorkspaceFoldersParams(
                lsp.WorkspaceFoldersChangeEvent(
                    added=[lsp.WorkspaceFolder(root.as_uri(), root.name)], removed=removed
                )
            )
        )
        if self.reference_root is not None:
            shutil.rmtree(self.reference_root)
        self.reference_root = root
        await self.reference.barrier()
        self.reference.open(root / rel, language, final)
        snapshot = await _settled(self.reference, root)
        self.reference.close(root / rel)
        return snapshot

    async def _fresh_process(self, rel: str, language: str, final: str) -> Snapshot:
        """The final text opened in a new server on a new copy of the workspace."""
        root = self.scratch / f"fresh-{self.references}"
        shutil.copytree(self.pristine, root)
        session = await LspSession.start(root, self.scratch, root.name)
        try:
            session.open(root / rel, language, final)
            snapshot = await _settled(session, root)
            problems = session.problems()
        finally:
            code = await session.stop()
        assert not problems and code == 0, (problems, code)
        return snapshot


async def _settled(session: LspSession, root: Path) -> Snapshot:
    """The diagnostics under `root` once two barriers in a row see the same ones."""
    await session.barrier()
    snapshot = session.snapshot(root)
    for _ in range(5):
        await session.barrier()
        again = session.snapshot(root)
        if again == snapshot:
            return snapshot
        snapshot = again
    raise AssertionError(f"{session.log.stem}: diagnostics never settled")


def _diff(actual: Snapshot, expected: Snapshot, rel: str, final: str) -> str:
    lines = [f"diagnostics after editing {rel} differ from a fresh open of its final text:"]
    for path in sorted(set(actual) | set(expected)):
        if actual.get(path) != expected.get(path):
            lines.append(
                f"  {path}:\n    after edits: {actual.get(path)}\n    fresh:       "
                f"{expected.get(path)}"
            )
    lines.append(f"final text: {final!r}")
    return "\n".join(lines)


@pytest.mark.timeout(scaled(170, 3600))
def test_edit_sequences_never_break_the_server_and_diagnostics_match_a_fresh_open(
    tmp_path: Path,
) -> None:
    loop = asyncio.new_event_loop()
    fuzzer = Fuzzer(tmp_path)
    try:
        loop.run_until_complete(fuzzer.start())

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
            print_blob=True,
        )
        @given(document=st.sampled_from(DOCUMENTS), data=st.data())
        def edits(document: tuple[str, str, str], data: st.DataObject) -> None:
            rel, language, kind = document
            steps, final = data.draw(edit_plan(fuzzer.originals[rel], kind, MAX_STEPS))
            loop.run_until_complete(fuzzer.run(rel, language, steps, final))

        edits()
        codes = loop.run_until_complete(fuzzer.stop())
        assert codes == [0, 0], f"servers exited with {codes}"
    finally:
        loop.run_until_complete(fuzzer.kill())
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()
