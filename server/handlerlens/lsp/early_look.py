"""The first problems and lenses, sent before pygls is imported (issue #21).

pygls and lsprotocol take ~0.3–0.5 s to import on a quiet machine (1–2 s on a loaded one),
and until now the first diagnostics waited for them. After `initialize` is answered
(early_initialize.py), `handlerlens lsp` reads the editor's next messages itself — the
`initialized` notification and the `didOpen` of the files it shows — and, as the server would:

1. looks at the open Python files from the declaring files near them, publishes their
   problems and answers the lens requests already there that this look has lenses for
   (server.look_first's first look);
2. reads the workspace (server.discover) and publishes every problem;
3. imports pygls, lsprotocol and the features on a thread of its own and meanwhile answers
   `textDocument/codeLens` requests from what it read (and reads a Python file opened
   meanwhile, as the server's didOpen does).

Then pygls takes over with everything read from stdin so far, handled again as usual: the
server adopts what was read and published here (`HandlerLensServer.adopt`), so nothing is
read twice or published again, and pygls' answers to the requests answered here are dropped
(pygls_patches, patch 4). Any other message (a request, a didChange) ends the early look at
once and is left to pygls, in order; so does anything unexpected (a file open outside the
folders, an error): never worse than without it.

The payloads are built without lsprotocol (payloads.py); `tests/lsp/test_early_look.py`
holds them equal to pygls' own.
"""

from __future__ import annotations

import os
import sys
import threading
import time

from handlerlens.lsp.early_initialize import Answered
from handlerlens.lsp.early_wire import EarlyWire, WireEnded

TYPE_CHECKING = False  # not typing's: this runs before anything else of the server loads
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, BinaryIO

    from handlerlens.analysis.sources import Sources
    from handlerlens.core.problems import Problem
    from handlerlens.engine.workspace import WorkspaceState
    from handlerlens.lsp.settings import Settings

# How long to wait for `initialized` after the answer (editors send it at once). Short: the
# imports wait meanwhile, and they do not start beside the look, whose own (lazy) imports could
# then meet theirs half-done (a slower client gets pygls as before, at most this much later).
INITIALIZED_WAIT_S = 0.3
# Then, for the didOpens behind it: a pause this long ends them (features/documents.py's
# OPEN_GRACE_S, the server's own wait for them).
OPEN_GRACE_S = 0.05
# How long the reading of `initialized` and the didOpens may take in all (didOpens that keep
# coming do not hold the server).
OPEN_BUDGET_S = 2.0
# How often the lens loop checks whether the imports are done.
LENS_POLL_S = 0.01
# Notifications read here (pygls handles them again afterwards, as usual).
_READ = frozenset({"initialized", "textDocument/didOpen", "$/setTrace"})
CODE_LENS = "textDocument/codeLens"


class Early:
    """What the early look read, published and answered; `HandlerLensServer.adopt` takes it."""

    def __init__(self, read: bytes) -> None:
        self.read = read  # every byte read from stdin, `initialize` included: pygls reads it
        # Set when the workspaces were read here (step 2); the server then adopts them.
        self.settings: Settings | None = None
        self.sources: Sources | None = None
        self.workspaces: dict[str, WorkspaceState] = {}
        self.published: dict[str, list[Problem]] = {}  # what the client has, per file
        self.answered: set[int | str] = set()  # ids of the codeLens requests answered here
        self.lenses_asked: set[str] = set()
        # Lenses were answered from the first look, and the folder's differ (see adopt).
        self.lenses_stale = False
        # When the reading began (wall clock): what changed on disk after it, before the
        # editor's file watching was registered, is read again (HandlerLensServer.adopt).
        self.read_since = 0.0
        self.summary = ""  # one line for the server's log

    @property
    def read_all(self) -> bool:
        return bool(self.workspaces)


def look(stdin: BinaryIO, stdout: BinaryIO, answered: Answered, load: Callable[[], None]) -> Early:
    """Run the early look after `answered` (see the module's docstring); `load` imports what
    the server needs, on a thread. Returns what it did, with every byte read from `stdin`."""
    early = Early(answered.consumed)
    session = _Session(stdin.fileno(), stdout, answered, early, load)
    started = time.perf_counter()
    try:
        session.run()
    except (KeyboardInterrupt, BrokenPipeError):
        raise
    except Exception as exc:  # pygls reads it all again: never worse than without the look
        early.workspaces = {}
        early.summary = f"the early look stopped: {exc!r}"
    finally:
        session.join()
        early.read = bytes(session.wire.buffer)
    if not early.summary and (early.published or early.answered):
        problems = sum(len(p) for p in early.published.values())
        when = "(a first look at the open files)"
        if session.read_at:
            when = f"{(session.read_at - started) * 1000:.0f} ms after `initialize`"
        early.summary = (
            f"before the LSP library loaded: {problems} problem(s) in "
            f"{len(early.published)} file(s) published {when}, {len(early.answered)} lens "
            f"request(s) answered ({(time.perf_counter() - started) * 1000:.0f} ms in all)"
        )
    if early.summary:
        sys.stderr.write(f"HandlerLens: {early.summary}\n")
        sys.stderr.flush()
    return early


def workspace_state(root: str, settings: Settings, sources: Sources) -> WorkspaceState:
    """A workspace as the server keeps one per folder (HandlerLensServer.add_workspace)."""
    from handlerlens.engine.workspace import WorkspaceState

    ws = WorkspaceState(root, platform_setting=settings.platform_setting, sources=sources)
    ws.deploy.local_python = local_python(settings)
    ws.deploy.project_root = root  # where the runner looks for a venv
    return ws


def local_python(settings: Settings) -> tuple[int, int] | None:
    """This interpreter's version, the runner's last resort, for runtime-interpreter-mismatch
    (deploy/checks.py foresees the runner's choice per code root); None: the setting is
    off."""
    if not settings.interpreter_mismatch:
        return None
    return (sys.version_info[0], sys.version_info[1])


def _sites(ws: WorkspaceState, path: str) -> list[Any]:
    """What the lenses of `path` are made of (HandlerLensServer._sites)."""
    return [(site.spec, site.binding.line_span) for site in ws.handlers_in(path)]


class _Stop(Exception):
    """A message the early look leaves to pygls: it ends here, quietly."""


class _Session:
    def __init__(
        self,
        fd: int,
        stdout: BinaryIO,
        answered: Answered,
        early: Early,
        load: Callable[[], None],
    ) -> None:
        self.wire = EarlyWire(fd, stdout, answered.consumed, answered.end)
        self.params = answered.params if isinstance(answered.params, dict) else {}
        self.early = early
        self.load = load
        self.thread: threading.Thread | None = None
        self.pending: list[dict[str, Any]] = []  # lens requests read, not answered yet
        self.other = False  # a message read that is pygls' to handle: read no further
        self.roots: list[str] = []
        self.client_commands = False
        self.read_at = 0.0  # when the workspace's problems were out

    # -- the wire ------------------------------------------------------------------------------

    def _message(self, timeout: float) -> dict[str, Any] | None:
        """The next message (EarlyWire.message); _Stop at the end of input or on one that does
        not read (pygls reports it)."""
        try:
            return self.wire.message(timeout)
        except WireEnded:
            raise _Stop from None

    # -- the look ----------------------------------------------------------------------------

    def run(self) -> None:
        from handlerlens.lsp.payloads import to_path

        roots = self._roots(to_path)
        if not roots:
            return  # no folder: the server reads nothing at start either
        self.roots = roots
        opened: dict[str, str] = {}
        try:
            self._opened(opened, to_path)
        except _Stop:
            return
        inside = [p for p in opened if self._owner(roots, p) is not None]
        if len(inside) != len(opened):
            return  # a file of no folder: the server makes it a workspace of its own
        from handlerlens.analysis.sources import Sources
        from handlerlens.lsp.settings import parse_settings

        settings = parse_settings(self.params.get("initializationOptions"))
        if settings.warnings:
            return  # the server shows them as it reads the settings: its look, then
        sources = Sources()
        for path, text in opened.items():
            sources.set_overlay(path, text)
        python = [p for p in opened if p.endswith(".py")]
        self.early.read_since = time.time()
        near: dict[str, WorkspaceState] = {}  # an open file → its first look
        for root in roots:  # 1. the open files first, from the declaring files near them
            paths = [p for p in python if self._owner(roots, p) == root]
            if paths:
                first = workspace_state(root, settings, sources)
                first.discover_near(paths)
                found = first.problems_by_path()
                for path in paths:
                    self._publish(path, found.get(path, []))
                    near[path] = first
        self.client_commands = settings.client_commands
        # Lens requests here already: the first look's lenses, where it has some (as the
        # server's first look answers them); the rest once the folder is read.
        self._drain()
        from_near: dict[str, WorkspaceState] = {}
        for message in list(self.pending):
            asked = self._lens_path(message)
            if asked in near and self._answer(message, near[asked], only_found=True):
                self.pending.remove(message)
                from_near[asked] = near[asked]
        if self.other:
            return  # pygls reads the folder, as without the early look: its message first
        workspaces = {root: workspace_state(root, settings, sources) for root in roots}
        current: dict[str, list[Problem]] = {}
        for ws in workspaces.values():  # 2. the whole folder
            ws.discover()
            for path, problems in ws.problems_by_path().items():
                current.setdefault(path, []).extend(problems)
        for path in list(self.early.published):
            if path not in current:
                self._publish(path, [])
        for path, problems in current.items():
            self._publish(path, problems)
        self.early.settings, self.early.sources = settings, sources
        self.early.workspaces = workspaces
        self.read_at = time.perf_counter()
        # Lenses answered from a first look that the folder changes: the client is asked to
        # ask again (HandlerLensServer.adopt), as the server's first look does.
        for path, first in from_near.items():
            ws = workspaces[self._owner(roots, path) or ""]
            if _sites(first, path) != _sites(ws, path):
                self.early.lenses_stale = True
        # 3. The server's imports on a thread of their own, lens requests answered meanwhile
        # (after the read, not beside it: both want the interpreter's one lock, and shared,
        # the problems came out ~2× later for nothing).
        self._start_loading()
        try:
            self._answer_lenses(workspaces)
        except _Stop:
            pass

    def _roots(self, to_path: Callable[[str], str | None]) -> list[str]:
        folders = self.params.get("workspaceFolders")
        uris: list[Any] = []
        if isinstance(folders, list):
            uris = [f.get("uri") for f in folders if isinstance(f, dict)]
        if not uris:
            uris = [self.params.get("rootUri")]
        roots = []
        for uri in uris:
            path = to_path(uri) if isinstance(uri, str) else None
            if path is None or not os.path.isdir(path):
                return []  # the server's own reading says what it makes of it
            roots.append(os.path.abspath(path))
        return roots

    @staticmethod
    def _owner(roots: list[str], path: str) -> str | None:
        """The deepest root holding `path` (HandlerLensServer.project_root_of)."""
        best: str | None = None
        for root in roots:
            if (path == root or path.startswith(root + os.sep)) and (
                best is None or len(root) > len(best)
            ):
                best = root
        return best

    def _opened(self, opened: dict[str, str], to_path: Callable[[str], str | None]) -> None:
        """Read `initialized` and the didOpens behind it into `opened` ({path: text}); a lens
        request among them ends the reading and waits in `pending` for the look."""
        started = time.monotonic()
        until = started + INITIALIZED_WAIT_S  # for `initialized`, then for the next didOpen
        initialized = False
        while True:
            now = time.monotonic()
            if now - started > OPEN_BUDGET_S:
                if initialized:
                    return
                raise _Stop
            message = self._message(until - now)
            if message is None:
                if time.monotonic() < until:
                    continue
                if initialized:
                    return
                raise _Stop  # no `initialized`: whatever comes is pygls'
            method = message.get("method")
            if initialized and self._lens_path(message) is not None:
                self.pending.append(message)
                return
            if method not in _READ or "id" in message:
                raise _Stop
            if method == "initialized":
                initialized = True
            elif method == "textDocument/didOpen":
                params = message.get("params")
                doc = params.get("textDocument") if isinstance(params, dict) else None
                uri = doc.get("uri") if isinstance(doc, dict) else None
                text = doc.get("text") if isinstance(doc, dict) else None
                if not isinstance(uri, str) or not isinstance(text, str):
                    raise _Stop
                path = to_path(uri)
                if path is not None:
                    opened[path] = text
            if initialized:  # the next didOpen within the grace, or the reading is done
                until = time.monotonic() + OPEN_GRACE_S

    def _publish(self, path: str, problems: list[Problem]) -> None:
        """As HandlerLensServer.publish: only what differs from what the client has."""
        from handlerlens.lsp.payloads import diagnostic_json, to_uri

        published = self.early.published
        if published.get(path) == problems:
            return  # (an open file with none: published empty once, as the server does)
        params = {"uri": to_uri(path), "diagnostics": [diagnostic_json(p) for p in problems]}
        self.wire.write(
            {"jsonrpc": "2.0", "method": "textDocument/publishDiagnostics", "params": params}
        )
        if problems:  # (the client has them once they are written)
            published[path] = problems
        else:
            published.pop(path, None)

    def _drain(self) -> None:
        """Read what is in the pipe now: lens requests to `pending`; anything else sets
        `other` and ends the reading (pygls takes it, in order)."""
        while not self.other:
            try:
                message = self._message(0.0)
            except _Stop:
                self.other = True
                return
            if message is None:
                return
            if self._lens_path(message) is not None:
                self.pending.append(message)
            elif message.get("method") != "$/setTrace":
                self.other = True

    def _lens_path(self, message: dict[str, Any]) -> str | None:
        """The path of a lens request for a Python file of the folders; None otherwise (the
        feature answers that: a file of no folder is a workspace of its own)."""
        from handlerlens.lsp.payloads import to_path

        if message.get("method") != CODE_LENS or "id" not in message:
            return None
        params = message.get("params")
        doc = params.get("textDocument") if isinstance(params, dict) else None
        uri = doc.get("uri") if isinstance(doc, dict) else None
        path = to_path(uri) if isinstance(uri, str) else None
        if path is None or not path.endswith(".py") or self._owner(self.roots, path) is None:
            return None
        return path

    def _answer(
        self, message: dict[str, Any], ws: WorkspaceState, only_found: bool = False
    ) -> bool:
        """Answer the lens request `message` from `ws`; with `only_found`, only when it has
        lenses for the file. Whether it was answered."""
        from handlerlens.lsp.payloads import lenses_json

        path = self._lens_path(message)
        assert path is not None
        lenses = lenses_json(ws.handlers_in(path), path, self.client_commands)
        if only_found and not lenses:
            return False
        self.wire.write({"jsonrpc": "2.0", "id": message["id"], "result": lenses or None})
        self.early.lenses_asked.add(path)
        self.early.answered.add(message["id"])
        return True

    def _answer_lenses(self, workspaces: dict[str, WorkspaceState]) -> None:
        """Answer the waiting lens requests, then those that come, until the server is
        loaded; anything else ends it."""
        while True:
            while self.pending:
                message = self.pending.pop(0)
                path = self._lens_path(message)
                assert path is not None
                self._answer(message, workspaces[self._owner(self.roots, path) or ""])
            if self.other or self.thread is None or not self.thread.is_alive():
                return
            incoming = self._message(LENS_POLL_S)
            if incoming is None or incoming.get("method") == "$/setTrace":
                continue
            if self._opened_python(incoming, workspaces):
                continue
            if self._lens_path(incoming) is None:
                return
            self.pending.append(incoming)

    def _opened_python(
        self, message: dict[str, Any], workspaces: dict[str, WorkspaceState]
    ) -> bool:
        """A Python file of the folders opened meanwhile: its buffer read, its problems (and
        those it changes) published, as the server's didOpen does (file_changed); whether it
        was one."""
        from handlerlens.lsp.payloads import to_path

        if message.get("method") != "textDocument/didOpen" or "id" in message:
            return False
        params = message.get("params")
        doc = params.get("textDocument") if isinstance(params, dict) else None
        uri = doc.get("uri") if isinstance(doc, dict) else None
        text = doc.get("text") if isinstance(doc, dict) else None
        path = to_path(uri) if isinstance(uri, str) else None
        root = self._owner(self.roots, path) if path is not None else None
        if root is None or path is None or not path.endswith(".py") or not isinstance(text, str):
            return False
        ws = workspaces[root]
        ws.sources.set_overlay(path, text)
        touched = ws.python_changed(path)
        problems = ws.problems_by_path()
        for changed in sorted(touched):
            self._publish(changed, problems.get(changed, []))
        return True

    def _start_loading(self) -> None:
        """The server's imports on a thread of their own, once."""
        if self.thread is None:
            self.thread = threading.Thread(target=self._load, name="load-server", daemon=True)
            self.thread.start()

    def _load(self) -> None:
        try:
            self.load()
        except BaseException:  # noqa: S110 - build_server imports again and raises it there
            pass

    def join(self) -> None:
        if self.thread is not None:
            self.thread.join()
