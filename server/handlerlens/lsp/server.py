"""The HandlerLens language server: documents in, analysis out. Features live in `features/`."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, BinaryIO

from lsprotocol import types as lsp
from pygls.lsp.server import LanguageServer

from handlerlens import __version__
from handlerlens.analysis.sources import Sources
from handlerlens.core.problems import Problem
from handlerlens.lsp import early_look, pygls_patches
from handlerlens.lsp.convert import to_diagnostic, to_path, to_uri
from handlerlens.lsp.runners import RunnerManager
from handlerlens.lsp.settings import Settings, parse_settings

if TYPE_CHECKING:
    from handlerlens.engine.workspace import WorkspaceState
    from handlerlens.lsp.early_initialize import Answered

log = logging.getLogger(__name__)

# Edits arrive per keystroke; validation waits this long for the next one, so a completion
# request sent right behind an edit is answered before any analysis starts.
DEBOUNCE_SECONDS = 0.02
SWITCH_INTERVAL_S = 0.0005


class HandlerLensServer(LanguageServer):
    """Holds one `WorkspaceState` per workspace folder and publishes their problems."""

    def __init__(self) -> None:
        super().__init__("handlerlens", __version__, protocol_cls=pygls_patches.protocol_class())
        # `initialize` as answered before pygls was imported (early_initialize), and every
        # byte read from stdin by then: pygls reads those first (pygls_patches, patches 3, 4).
        self.early_answer: Answered | None = None
        self.read_first = b""
        # The ids of the requests the early look answered (adopt), and whether it read the
        # workspaces (then `initialized` does not read them again).
        self.early_ids: set[int | str] = set()
        self.early_read = False
        self.read_since = 0.0
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
        # Until the workspace is read (`ready`): a first look at the open Python files, from
        # the declaring files near them (WorkspaceState.discover_near), for their lenses.
        self.first_look: dict[str, WorkspaceState] = {}
        # Set once the first looks are done (or none was needed): a lens request for an open
        # file waits for it rather than answering nothing (features/codelens.py).
        self.first_looked = asyncio.Event()
        # A lens request was answered "none" while the workspace was read: the client is told
        # to ask again (workspace/codeLens/refresh) once there are lenses to give.
        self.lenses_owed = False
        # The files whose lenses the client asked for: one it has not asked for (a restarted
        # server: VS Code may not ask the new one by itself) is told once they are there.
        self.lenses_asked: set[str] = set()
        self.opened = asyncio.Event()  # a document was opened (didOpen)
        # Runners this server started (Run and Debug lenses); stopped on `shutdown`.
        self.runners = RunnerManager(
            lambda method, params: self.protocol.notify(method, params),
            lambda: self.settings,
            self.project_root_of,  # where a runner looks for the function's .venv up to
        )

    # -- transport ---------------------------------------------------------------------------

    def _start_io_async(
        self, stdin: BinaryIO | None = None, stdout: BinaryIO | None = None
    ) -> None:
        # stdin read on the event loop when it is a pipe or socket (pygls_patches, patch 3);
        # anything else (a file, a terminal) keeps pygls' reader.
        if not pygls_patches.serve_on_loop(self, stdin, stdout, log, self.read_first):
            super()._start_io_async(stdin, stdout)

    # -- workspace bookkeeping -------------------------------------------------------------

    def workspace_for(self, path: str) -> WorkspaceState:
        """The workspace whose root holds `path` (the deepest), creating one for loose files."""
        root = self.project_root_of(path)
        if root is None:
            # A file outside every folder: its directory becomes a workspace of its own.
            return self.add_workspace(os.path.dirname(path))
        return self.workspaces[root]

    def project_root_of(self, path: str) -> str | None:
        """The deepest workspace root holding `path`; None outside every one."""
        best: str | None = None
        for root in self.workspaces:
            if (path == root or path.startswith(root + os.sep)) and (
                best is None or len(root) > len(best)
            ):
                best = root
        return best

    def add_workspace(self, root: str) -> WorkspaceState:
        """Track a workspace root; discovery runs later, on the analysis thread."""
        root = os.path.abspath(root)
        ws = self.workspaces.get(root)
        if ws is None:
            # Analysis (and its parsers) load here, after `initialize` has been answered.
            ws = early_look.workspace_state(root, self.settings, self.sources)
            self.workspaces[root] = ws
        return ws

    def local_python(self) -> tuple[int, int] | None:
        """This interpreter's version for runtime-interpreter-mismatch; None: the setting is
        off (early_look.local_python)."""
        return early_look.local_python(self.settings)

    def adopt(self, early: early_look.Early) -> None:
        """Take over what the early look read, published and answered before pygls loaded
        (lsp/early_look.py): with the workspaces read there, `initialized` reads nothing
        again, and pygls' answers to the lens requests answered there are dropped."""
        self.published.update(early.published)
        self.lenses_asked |= early.lenses_asked
        self.early_ids = set(early.answered)
        # Lenses answered from the first look there, which the folder's differ from: the
        # client is told to ask again once `initialized` is through (features/documents.py).
        self.lenses_owed = early.lenses_stale
        if early.read_all and early.settings is not None and early.sources is not None:
            self.settings = early.settings
            self.sources = early.sources
            self.workspaces.update(early.workspaces)
            self.early_read = True
            self.read_since = early.read_since
            self.first_looked.set()
            self.ready.set()

    def reread_changed_since_early(self) -> None:
        """What the early look read and what changed on disk since, before the editor's file
        watching was registered (`initialized`): validated again, as a watched change is."""
        paths = set(self.sources.parsed_paths())
        for ws in self.workspaces.values():
            paths.update(ws.config_files())
        for path in paths:
            if path in self.sources.overlays:
                continue  # the editor's buffer: its changes come as didChange
            try:
                changed = os.stat(path).st_mtime >= self.read_since
            except OSError:
                changed = True  # gone
            if changed:
                self.sources.forget(path)
                self.schedule(path, delay=0)

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
        """(Re)discover every workspace and publish all problems; the open Python files of a
        workspace not read yet get their problems and lenses first (`look_first`)."""
        for ws in list(self.workspaces.values()):
            if not ws.discovered:
                await self.look_first(ws)
        self.first_looked.set()
        for ws in list(self.workspaces.values()):
            await self.discover(ws)
        looked = dict(self.first_look)
        self.first_look.clear()
        self.publish_all()
        self.ready.set()
        # Told again only when the client's lenses are not the workspace's: some came back
        # empty meanwhile, or the first look's differ. A refresh VS Code gets while its lens
        # answer is on the way makes it ask again after a pause and draw them ~0.4 s later.
        if self.lenses_owed or self._lenses_differ(looked) or self.lenses_unasked():
            self.lens_refresh()

    def lenses_unasked(self, paths: list[str] | None = None) -> bool:
        """Whether an open Python file (of `paths`) has not had its lenses asked for."""
        open_files = paths if paths is not None else list(self.sources.overlays)
        return any(p.endswith(".py") and p not in self.lenses_asked for p in open_files)

    def _lenses_differ(self, looked: dict[str, WorkspaceState]) -> bool:
        """Whether a file's handlers as the first look found them differ from the
        workspace's."""
        for path, early in looked.items():
            ws = self._owner(path)
            if ws is None or self._sites(early, path) != self._sites(ws, path):
                return True
        return False

    @staticmethod
    def _sites(ws: WorkspaceState, path: str) -> list[Any]:
        """What the lenses of `path` are made of (its handlers and where), as `ws` knows them."""
        return [(site.spec, site.binding.line_span) for site in ws.handlers_in(path)]

    async def look_first(self, ws: WorkspaceState) -> None:
        """Publish the problems of the Python files open in `ws` from the declaring files in
        their folders and above, before the whole workspace is read (issue #21: the first
        diagnostics and lenses in an opened folder). What needs the rest of the workspace
        comes with `publish_all` once it is read: a second publish, only if it differs."""
        from handlerlens.engine.workspace import WorkspaceState

        paths = [
            p
            for p in self.sources.overlays
            if p.endswith(".py") and p not in self.first_look and self._owner(p) is ws
        ]
        if not paths:
            return
        early = WorkspaceState(ws.root, platform_setting=ws.platform_setting, sources=self.sources)
        early.deploy.local_python = ws.deploy.local_python
        early.deploy.project_root = ws.deploy.project_root

        def look() -> dict[str, list[Problem]]:
            early.discover_near(paths)
            return early.problems_by_path()

        problems = await self.run_analysis(look)
        if problems is None or self.ready.is_set():
            return
        for path in paths:
            self.first_look[path] = early
            self.publish(path, problems.get(path, []))
        # A lens request that came before this look waited for it (codelens.py): told only
        # when one was answered "none", or a file's lenses were not asked for yet.
        if self.lenses_owed or self.lenses_unasked(paths):
            self.lens_refresh()

    def _owner(self, path: str) -> WorkspaceState | None:
        """The workspace whose root holds `path` (the deepest), if any (none is created)."""
        root = self.project_root_of(path)
        return None if root is None else self.workspaces[root]

    @property
    def lenses_refresh(self) -> bool:
        """Whether the client re-requests code lenses when told (workspace/codeLens/refresh)."""
        caps = self.client_capabilities.workspace
        return bool(caps and caps.code_lens and caps.code_lens.refresh_support)

    async def discover(self, ws: WorkspaceState) -> None:
        """Re-read one workspace's declarations; log what the walk left out (its caps)."""
        await self.run_analysis(ws.discover)
        self.log_notes(ws)

    def log_notes(self, ws: WorkspaceState) -> None:
        """Log what the walk of `ws` left out (its caps), when it changed since last said."""
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
        from handlerlens.project.walk import DECLARATION_INPUT_SUFFIXES, is_gateway_spec

        self._pending.pop(path, None)
        ws = self.workspace_for(path)
        if (
            not ws.discovered
            # an archive a function's code is in, built anew; Terraform variable values
            or path.lower().endswith(DECLARATION_INPUT_SUFFIXES)
            or is_config_file(path, self.sources.text(path))
            # an API Gateway spec declares routes: a new one, or one a Terraform gateway reads
            or is_gateway_spec(path, self.sources.text(path))
            or (path in ws.config_files())
        ):
            await self.discover(ws)
            self.publish_all()
            self.lens_refresh()
            return
        shown = [p for p in self.sources.overlays if self._owner(p) is ws]  # lenses: open files

        def change() -> tuple[set[str], bool]:
            before = [self._sites(ws, p) for p in shown]
            touched = ws.python_changed(path)
            return touched, before != [self._sites(ws, p) for p in shown]

        changed = await self.run_analysis(change)
        if changed is None:
            return
        touched, handlers_moved = changed
        problems = ws.problems_by_path()
        for p in touched | {p for p in self.published if p in touched}:
            self.publish(p, problems.get(p, []))
        # The client asks for lenses again after an edit by itself: told only when an open
        # file's handlers changed (a file opened as the workspace was read: not at all).
        if self.lenses_owed or handlers_moved:
            self.lens_refresh()

    def lens_refresh(self) -> None:
        """Ask the client to re-request code lenses, when it supports that."""
        self.lenses_owed = False
        if self.lenses_refresh:
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


def path_of(params_uri: str) -> str | None:
    """Filesystem path of a document URI (None for non-file documents)."""
    return to_path(params_uri)


def apply_initialization_options(server: HandlerLensServer, options: Any) -> None:
    """Settings from `initialize`; invalid values are reported to the user, then defaulted."""
    server.settings = parse_settings(options)
    for warning in server.settings.warnings:
        server.window_show_message(
            lsp.ShowMessageParams(type=lsp.MessageType.Warning, message=f"HandlerLens: {warning}")
        )
