"""Document sync, workspace discovery, settings and watched files → diagnostics."""

from __future__ import annotations

import asyncio
import contextlib

from lsprotocol import types as lsp

from handlerlens.deploy.manifest import WATCH_GLOBS as MANIFEST_GLOBS
from handlerlens.lsp.convert import to_path
from handlerlens.lsp.server import HandlerLensServer, apply_initialization_options
from handlerlens.project.walk import DECLARATION_INPUT_SUFFIXES, DECLARING_GLOBS

# How long `initialized` waits for the editor's first didOpen before reading the workspace.
OPEN_GRACE_S = 0.05
# Python files, the declaring files and what declarations read (project/walk.py's lists).
WATCHED_GLOBS = (
    "**/*.py",
    *DECLARING_GLOBS,
    *(f"**/*{suffix}" for suffix in DECLARATION_INPUT_SUFFIXES),
    *MANIFEST_GLOBS,  # what a function's deployment installs (the deploy checks)
)


def register(server: HandlerLensServer) -> None:
    """Wire initialize/initialized, didOpen/Change/Save/Close, watched files, configuration."""

    @server.feature(lsp.INITIALIZE)
    def initialize(ls: HandlerLensServer, params: lsp.InitializeParams) -> None:
        apply_initialization_options(ls, params.initialization_options)
        roots = [f.uri for f in params.workspace_folders or []]
        if not roots and params.root_uri:
            roots = [params.root_uri]
        for uri in roots:
            path = to_path(uri)
            if path:
                ls.add_workspace(path)

    @server.feature(lsp.INITIALIZED)
    async def initialized(ls: HandlerLensServer, params: lsp.InitializedParams) -> None:
        caps = ls.client_capabilities.workspace
        watch = caps.did_change_watched_files if caps else None
        if watch and watch.dynamic_registration:
            options = lsp.DidChangeWatchedFilesRegistrationOptions(
                watchers=[lsp.FileSystemWatcher(glob_pattern=g) for g in WATCHED_GLOBS]
            )
            registration = lsp.Registration(
                id="handlerlens-watch",
                method=lsp.WORKSPACE_DID_CHANGE_WATCHED_FILES,
                register_options=options,
            )
            ls.client_register_capability(
                lsp.RegistrationParams(registrations=[registration]), callback=None
            )
        if ls.early_read:
            # Read and published before pygls loaded (lsp/early_look.py, HandlerLensServer.adopt);
            # what changed on disk since, before the watching above, is read again.
            ls.reread_changed_since_early()
            for ws in ls.workspaces.values():
                ls.log_notes(ws)
            if ls.lenses_owed or ls.lenses_unasked():  # as after a read (discover_all)
                ls.lens_refresh()
            return
        # The editor sends didOpen for the files it shows right behind `initialized`: wait a
        # moment for them, so that they are looked at first (server.look_first).
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(ls.opened.wait(), OPEN_GRACE_S)
        await asyncio.sleep(0)  # the rest of what came with it
        await ls.discover_all()

    @server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
    async def did_open(ls: HandlerLensServer, params: lsp.DidOpenTextDocumentParams) -> None:
        path = _overlay(ls, params.text_document.uri, params.text_document.text)
        if path is None:
            return
        ls.opened.set()
        await ls.ready.wait()
        ls.schedule(path, delay=0)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: HandlerLensServer, params: lsp.DidChangeTextDocumentParams) -> None:
        uri = params.text_document.uri  # (pygls has applied the change to its document)
        path = _overlay(ls, uri, ls.workspace.get_text_document(uri).source)
        if path is not None:
            ls.schedule(path)

    @server.feature(lsp.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: HandlerLensServer, params: lsp.DidSaveTextDocumentParams) -> None:
        path = to_path(params.text_document.uri)
        if path is not None:
            ls.schedule(path, delay=0)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: HandlerLensServer, params: lsp.DidCloseTextDocumentParams) -> None:
        # The buffer is gone: the file on disk is the truth again.
        path = _overlay(ls, params.text_document.uri, None)
        if path is None:
            return
        ls.sources.forget(path)
        ls.schedule(path, delay=0)

    @server.feature(lsp.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def did_change_watched(ls: HandlerLensServer, params: lsp.DidChangeWatchedFilesParams) -> None:
        for change in params.changes:
            path = to_path(change.uri)
            if path is None or path in ls.sources.overlays:
                continue  # open documents are tracked through didChange
            ls.sources.forget(path)
            ls.schedule(path, delay=0.05)

    @server.feature(lsp.WORKSPACE_DID_CHANGE_CONFIGURATION)
    async def did_change_configuration(
        ls: HandlerLensServer, params: lsp.DidChangeConfigurationParams
    ) -> None:
        before = (ls.settings.platform, ls.settings.interpreter_mismatch)
        client_commands = ls.settings.client_commands
        apply_initialization_options(ls, {"settings": params.settings})
        ls.settings.client_commands = client_commands
        if (ls.settings.platform, ls.settings.interpreter_mismatch) != before:
            for ws in ls.workspaces.values():
                ws.platform_setting = ls.settings.platform_setting
                ws.deploy.local_python = ls.local_python()
            await ls.discover_all()
            ls.lens_refresh()

    @server.feature(lsp.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS)
    def did_change_folders(
        ls: HandlerLensServer, params: lsp.DidChangeWorkspaceFoldersParams
    ) -> None:
        for folder in params.event.removed:
            path = to_path(folder.uri)
            if path:
                ls.workspaces.pop(path, None)
        for folder in params.event.added:
            path = to_path(folder.uri)
            if path:
                ls.add_workspace(path)
        asyncio.ensure_future(ls.discover_all())


def _overlay(ls: HandlerLensServer, uri: str, text: str | None) -> str | None:
    """Put the editor's buffer of `uri` (`text`; None: closed) over the file on disk and
    return the file's path; None for a URI that is not a file's, which is left alone."""
    path = to_path(uri)
    if path is not None:
        ls.sources.set_overlay(path, text)
    return path
