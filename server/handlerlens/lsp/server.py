"""The HandlerLens language server: documents in, analysis out. Features live in `features/`."""

from __future__ import annotations

import asyncio
import logging
import os
import stat
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, BinaryIO

from lsprotocol import types as lsp
from pygls.lsp.server import LanguageServer
from pygls.workspace import TextDocument

from handlerlens import __version__
from handlerlens.analysis.problems import Problem
from handlerlens.analysis.sources import Sources
from handlerlens.analysis.text import split_lines_keepends
from handlerlens.lsp.convert import to_diagnostic, to_path, to_uri
from handlerlens.lsp.settings import Settings, parse_settings

if TYPE_CHECKING:
    from handlerlens.analysis.workspace import WorkspaceState

log = logging.getLogger(__name__)

# Edits arrive per keystroke; validation waits this long for the next one, so a completion
# request sent right behind an edit is answered before any analysis starts.
DEBOUNCE_SECONDS = 0.02


class HandlerLensServer(LanguageServer):
    """Holds one `WorkspaceState` per workspace folder and publishes their problems."""

    def __init__(self) -> None:
        super().__init__("handlerlens", __version__)
        self.settings = Settings()
        self.sources = Sources()
        self.workspaces: dict[str, WorkspaceState] = {}
        self.published: dict[str, list[Problem]] = {}
        # One analysis thread: state is mutated in order, the event loop stays free.
        self.analysis = ThreadPoolExecutor(max_workers=1, thread_name_prefix="analysis")
        # While it validates, the loop thread must get the GIL back quickly for a keystroke's
        # completion: every wait for it costs up to one switch interval (5 ms by default).
        sys.setswitchinterval(SWITCH_INTERVAL_S)
        self._pending: dict[str, asyncio.TimerHandle] = {}
        # The walk's notes last logged per workspace: said once, again only when they change.
        self._noted: dict[str, list[str]] = {}
        self.ready = asyncio.Event()

    # -- transport ---------------------------------------------------------------------------

    def _start_io_async(
        self, stdin: BinaryIO | None = None, stdout: BinaryIO | None = None
    ) -> None:
        # pygls reads stdin on a thread, three reads per message (two header lines, the body),
        # each handed back to the event loop: ~0.3 ms of thread hops per keystroke and again
        # per completion request. When stdin is a pipe or socket (every editor), read it on
        # the event loop itself; anything else (a file, a terminal) keeps pygls' reader.
        from pygls.io_ import StdoutWriter, run_async

        source = stdin or sys.stdin.buffer
        if not _pollable(source):
            super()._start_io_async(stdin, stdout)
            return
        stop = self._stop_event = threading.Event()
        self.protocol.set_writer(StdoutWriter(stdout or sys.stdout.buffer))

        async def serve() -> None:
            loop = asyncio.get_running_loop()
            stream = asyncio.StreamReader(limit=1 << 20)
            await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stream), source)
            await run_async(
                stop_event=stop,
                reader=_LoopReader(stream),
                protocol=self.protocol,
                logger=log,
                error_handler=self.report_server_error,
            )

        try:
            asyncio.run(serve())
        except BrokenPipeError:
            log.error("Connection to the client is lost! Shutting down the server.")
        except (KeyboardInterrupt, SystemExit):
            pass
        finally:
            self.shutdown()  # type: ignore[no-untyped-call]

    # -- workspace bookkeeping -------------------------------------------------------------

    def workspace_for(self, path: str) -> WorkspaceState:
        """The workspace whose root holds `path` (the deepest), creating one for loose files."""
        best: WorkspaceState | None = None
        for root, ws in self.workspaces.items():
            if (path == root or path.startswith(root + os.sep)) and (
                best is None or len(root) > len(best.root)
            ):
                best = ws
        if best is None:
            # A file outside every folder: its directory becomes a workspace of its own.
            best = self.add_workspace(os.path.dirname(path))
        return best

    def add_workspace(self, root: str) -> WorkspaceState:
        """Track a workspace root; discovery runs later, on the analysis thread."""
        # Analysis (and its parsers) load here, after `initialize` has been answered.
        from handlerlens.analysis.workspace import WorkspaceState

        root = os.path.abspath(root)
        ws = self.workspaces.get(root)
        if ws is None:
            ws = WorkspaceState(
                root, platform_setting=self.settings.platform_setting, sources=self.sources
            )
            if self.settings.interpreter_mismatch:  # runtime-interpreter-mismatch
                ws.deploy.local_python = (sys.version_info[0], sys.version_info[1])
            self.workspaces[root] = ws
        return ws

    async def run_analysis(self, fn: Any, *args: Any) -> Any:
        """Run `fn(*args)` on the analysis thread; errors are logged, never raised."""
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self.analysis, fn, *args)
        except Exception:
            log.exception("analysis failed")
            self.window_log_message(
                lsp.LogMessageParams(
                    type=lsp.MessageType.Error,
                    message="HandlerLens: analysis failed; see the server log for details.",
                )
            )
            return None

    async def discover_all(self) -> None:
        """(Re)discover every workspace and publish all problems."""
        for ws in list(self.workspaces.values()):
            await self.discover(ws)
        self.publish_all()
        self.ready.set()

    async def discover(self, ws: WorkspaceState) -> None:
        """Re-read one workspace's declarations; log what the walk left out (its caps)."""
        await self.run_analysis(ws.discover)
        notes = list(ws.model.notes)
        if notes != self._noted.get(ws.root, []):
            self._noted[ws.root] = notes
            for note in notes:
                self.window_log_message(
                    lsp.LogMessageParams(
                        type=lsp.MessageType.Warning, message=f"HandlerLens: {note}"
                    )
                )

    # -- change handling -------------------------------------------------------------------

    def schedule(self, path: str, delay: float = DEBOUNCE_SECONDS) -> None:
        """Validate after `path` changed, debounced per path."""
        handle = self._pending.pop(path, None)
        if handle is not None:
            handle.cancel()
        loop = asyncio.get_running_loop()
        self._pending[path] = loop.call_later(
            delay, lambda: asyncio.ensure_future(self.file_changed(path))
        )

    async def file_changed(self, path: str) -> None:
        """Re-validate what depends on `path` and publish what changed."""
        from handlerlens.project import is_config_file

        self._pending.pop(path, None)
        ws = self.workspace_for(path)
        if (
            not ws.discovered
            # an archive a function's code is in, built anew; Terraform variable values
            or path.lower().endswith((".zip", ".tfvars"))
            or is_config_file(path, self.sources.text(path))
            or (path in ws.config_files())
        ):
            await self.discover(ws)
            self.publish_all()
            self.lens_refresh()
            return
        touched = await self.run_analysis(ws.python_changed, path)
        if touched is None:
            return
        problems = ws.problems_by_path()
        for p in touched | {p for p in self.published if p in touched}:
            self.publish(p, problems.get(p, []))
        self.lens_refresh()

    def lens_refresh(self) -> None:
        """Ask the client to re-request code lenses, when it supports that."""
        caps = self.client_capabilities.workspace
        if caps and caps.code_lens and caps.code_lens.refresh_support:
            self.workspace_code_lens_refresh(None)

    # -- publishing ------------------------------------------------------------------------

    def publish(self, path: str, problems: list[Problem]) -> None:
        """Publish `problems` for `path` unless they equal what the client already has."""
        if self.published.get(path) == problems:
            return
        if problems:
            self.published[path] = problems
        else:
            self.published.pop(path, None)
        self.text_document_publish_diagnostics(
            lsp.PublishDiagnosticsParams(
                uri=to_uri(path), diagnostics=[to_diagnostic(p) for p in problems]
            )
        )

    def publish_all(self) -> None:
        """Publish every workspace's problems and clear files that no longer have any."""
        current: dict[str, list[Problem]] = {}
        for ws in self.workspaces.values():
            for path, problems in ws.problems_by_path().items():
                current.setdefault(path, []).extend(problems)
        for path in list(self.published):
            if path not in current:
                self.publish(path, [])
        for path, problems in current.items():
            self.publish(path, problems)

    def problems_at(self, path: str) -> list[Problem]:
        """Problems last published for `path`."""
        return self.published.get(path, [])


def _pollable(stream: BinaryIO) -> bool:
    """Whether the event loop can watch `stream` (a pipe, socket or FIFO; not a file or tty).

    POSIX only: Windows' proactor loop cannot read the anonymous pipes editors give us.
    """
    if os.name != "posix":
        return False
    try:
        mode = os.fstat(stream.fileno()).st_mode
    except (OSError, ValueError, AttributeError):
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)


class _LoopReader:
    """pygls' reader interface over an asyncio stream: end of input reads as b""."""

    def __init__(self, stream: asyncio.StreamReader) -> None:
        self.stream = stream

    async def readline(self) -> bytes:
        # Yield once per line, as the threaded reader did: a handler that pygls started as a
        # task (didOpen, completion) runs before the next message is handled, so it never
        # sees a later edit's text.
        await asyncio.sleep(0)
        return await self.stream.readline()

    async def readexactly(self, n: int) -> bytes:
        try:
            return await self.stream.readexactly(n)
        except asyncio.IncompleteReadError:
            return b""


def path_of(params_uri: str) -> str | None:
    """Filesystem path of a document URI (None for non-file documents)."""
    return to_path(params_uri)


def _lsp_lines(self: TextDocument) -> tuple[str, ...]:
    # pygls reads `lines` several times per change and per position conversion: split once
    # per version of the text.
    source = self.source
    cached = getattr(self, "_handlerlens_lines", None)
    if cached is not None and cached[0] is source:
        return cached[1]  # type: ignore[no-any-return]
    lines = tuple(split_lines_keepends(source))
    self._handlerlens_lines = (source, lines)  # type: ignore[attr-defined]
    return lines


SWITCH_INTERVAL_S = 0.0005

# pygls' own edit, kept as the reference the tests compare ours with.
PYGLS_APPLY_INCREMENTAL = TextDocument._apply_incremental_change


def _apply_incremental_change(
    self: TextDocument, change: lsp.TextDocumentContentChangePartial
) -> None:
    # pygls 2.1 rebuilds the whole text line by line for every keystroke and splits it again
    # on the next read (~5 ms per 2,000 lines): splice the text, with the same clamping of
    # positions, and splice the cached lines too, so no keystroke splits the whole document.
    lines = _lsp_lines(self)
    span = self.position_codec.range_from_client_units(lines, change.range)
    source = self.source
    text = change.text
    if span.start.line >= len(lines):
        self._source = source + text
        return
    start_line = span.start.line
    first = lines[start_line]
    start_col = min(span.start.character, len(first))
    start = sum(map(len, lines[:start_line])) + start_col
    end_line = span.end.line
    tail: tuple[str, ...] = ()
    if end_line >= len(lines):
        end, rest = len(source), ""
    else:
        last = lines[end_line]
        end_col = min(span.end.character, len(last))
        end = max(start, sum(map(len, lines[:end_line])) + end_col)
        rest, tail = last[end_col:], lines[end_line + 1 :]
    new_source = source[:start] + text + source[end:]
    self._source = new_source
    middle = tuple(split_lines_keepends(first[:start_col] + text + rest))
    before = lines[start_line - 1] if start_line else ""
    after = tail[0] if tail else ""
    head = middle[0] if middle else after
    end_piece = middle[-1] if middle else before
    if (
        (before.endswith("\r") and head.startswith("\n"))  # a \r\n formed across the edit
        or (end_piece.endswith("\r") and after.startswith("\n"))
        or (middle and tail and not middle[-1].endswith(("\n", "\r")))
    ):
        return  # rare: the next read splits the whole text
    self._handlerlens_lines = (new_source, lines[:start_line] + middle + tail)  # type: ignore[attr-defined]


def build_server() -> HandlerLensServer:
    """A server with every feature registered."""
    from handlerlens.lsp.features import register_all

    # pygls 2.1 splits documents with str.splitlines, which also breaks at \f, \v, \x85,
    # U+2028…: incremental edits after such a character land on the wrong line. LSP (and
    # Python) break lines only at \r\n, \r and \n.
    TextDocument.lines = property(_lsp_lines)  # type: ignore[method-assign,assignment]
    TextDocument._apply_incremental_change = _apply_incremental_change  # type: ignore[method-assign]

    server = HandlerLensServer()
    register_all(server)
    return server


def apply_initialization_options(server: HandlerLensServer, options: Any) -> None:
    """Settings from `initialize`; invalid values are reported to the user, then defaulted."""
    server.settings = parse_settings(options)
    for warning in server.settings.warnings:
        server.window_show_message(
            lsp.ShowMessageParams(type=lsp.MessageType.Warning, message=f"HandlerLens: {warning}")
        )
