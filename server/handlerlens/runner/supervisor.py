"""The supervisor: HTTP front end, watcher and instance pools, in one asyncio loop.

for each burst of changes: reload the functions under the changed root. SIGTERM/SIGINT stop
the loop; every worker is then stopped (polite signal, bounded wait, kill). With `--debug`,
the supervisor runs under debugpy and the workers start once an editor has attached.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from handlerlens.runner import http_server, watcher
from handlerlens.runner.app import App
from handlerlens.runner.host import FunctionHost
from handlerlens.runner.lender import Lender, lender_for
from handlerlens.runner.route_table import RouteTable, may_hold_routes
from handlerlens.runner.served_routes import ServedRoutes
from handlerlens.runner.status import Status
from handlerlens.runner.targets import ServedFunction

log = logging.getLogger("handlerlens.runner")

# Large enough for the Invoke API's 6 MB; bigger bodies are drained and answered 413.
MAX_BODY = 8 * 1024 * 1024


@dataclass
class ServeOptions:
    """How to run: interpreter, address, pool size, reload."""

    python: str
    port: int = 8080
    instances: int = 1
    watch: bool = True
    # Run under debugpy (see runner.debugger); None: no debugger, 0: any free port.
    debug_port: int | None = None
    # Keep an interpreter ready for the next reload (off only to measure a plain restart).
    standby: bool = True
    # The project folder whose declaring files declare the gateway routes (None: no routes,
    # requests go by function name only); the --platform setting, for reading them.
    project_root: str | None = None
    platform: str | None = None
    # The served functions read again from their declaring files, after one of them changed
    # (None: the declarations read at start are kept).
    redeclare: Callable[[], list[ServedFunction]] | None = None


def _outermost(roots: set[str]) -> set[str]:
    """The folders of `roots` no other one contains (one watch covers what is inside)."""
    return {
        root
        for root in roots
        if not any(
            other != root and root.startswith(other.rstrip(os.sep) + os.sep) for other in roots
        )
    }


def _declaration_changes(old: ServedFunction, new: ServedFunction) -> list[str]:
    """What a declaring file's change changed for one function, for the log."""
    found = []
    if new.entry != old.entry:
        found.append(f"entry point {old.entry} → {new.entry}")
    if new.timeout != old.timeout:
        found.append(f"timeout {old.timeout:g} → {new.timeout:g} s")
    if new.memory != old.memory:
        found.append(f"memory {old.memory} → {new.memory} MB")
    if new.trigger != old.trigger:
        found.append(f"trigger {old.trigger or 'default'} → {new.trigger or 'default'}")
    if new.runtime != old.runtime:
        found.append(f"runtime {old.runtime or 'default'} → {new.runtime or 'default'}")
    if new.env != old.env:
        names = sorted(key for key in {*old.env, *new.env} if old.env.get(key) != new.env.get(key))
        found.append(f"environment: {', '.join(names)}")
    if (new.root, new.platform) != (old.root, old.platform):
        found.append("code root or platform")
    return found


def _concerns(host: FunctionHost, paths: set[str]) -> bool:
    """Whether changed `paths` (in the code root `host` shares with other functions) may
    change what `host` runs: a Python file its code reaches (runner/code_reach.py), or any
    other change (a data file, a deleted module) — or whenever its reach cannot be told."""
    from handlerlens.runner.code_reach import reached_files

    if any(not path.endswith(".py") or not os.path.exists(path) for path in paths):
        return True
    reach = reached_files(host.fn.root, host.fn.entry)
    return reach is None or any(os.path.normpath(path) in reach for path in paths)


def _unless_routed(
    lend: Callable[[http_server.HttpProtocol], bool], routes: RouteTable
) -> Callable[[http_server.HttpProtocol], bool]:
    """Lend a connection only while no route is declared: a worker answering lent
    connections knows nothing of routes."""

    def lend_unrouted(conn: http_server.HttpProtocol) -> bool:
        return routes.loaded and not routes.active and lend(conn)

    return lend_unrouted


class PortInUse(Exception):
    """The port is taken."""


class Supervisor:
    """Owns the server, the pools and the watcher of one `handlerlens serve`."""

    def __init__(self, functions: list[ServedFunction], options: ServeOptions, status: Status):
        self.options = options
        self.status = status
        status.multi = len(functions) > 1
        self.hosts = {
            fn.name: FunctionHost(
                fn,
                options.python,
                status,
                options.instances,
                debug=options.debug_port is not None,
                standby=options.standby,
            )
            for fn in functions
        }
        self.stop_event = asyncio.Event()
        # Hosts changed on disk and not reloaded yet; one task reloads them, round after
        # round, so changes made during a reload coalesce into the next one.
        self._pending: dict[FunctionHost, set[str]] = {}
        self._reloader: asyncio.Task[None] | None = None
        # The signal that stopped the runner, if one did (SIGINT: exit 130, as shells expect).
        self.stopped_by: int | None = None
        # Under --debug: the debugger's port once listening, and whether a request has been
        # told to wait for the debugger (said once).
        self._debug_port: int | None = None
        self._said_waiting = False
        for host in self.hosts.values():
            host.on_unstarted = self._request_before_start
            host.follows_declaration = options.redeclare is not None
        # The declared gateway routes, when a served function is declared in a file.
        self.routes: RouteTable | None = None
        if options.project_root is not None and any(fn.declared_in for fn in functions):
            self.routes = RouteTable(options.project_root, self.hosts, options.platform)
        # Connections lent to the worker where that is exact (runner/lender.py): as they
        # open with one function served, once routed with routes declared.
        self.lenders: dict[str, Lender] = {}
        for name, host in self.hosts.items():
            lender = lender_for(host, len(self.hosts), routed=self.routes is not None)
            if lender is not None:
                self.lenders[name] = lender
        self.served_routes: ServedRoutes | None = None
        if self.routes is not None and options.project_root is not None:
            self.served_routes = ServedRoutes(
                self.routes, options.project_root, options.platform, self.hosts, status
            )
            self.served_routes.lenders = self.lenders

    async def run(self) -> int:
        """Serve until stopped: 130 after SIGINT (Ctrl+C), 0 after SIGTERM or stdin's end."""
        app = App(self.hosts, self.routes)
        app.lenders = self.lenders
        routes = self.routes
        first_routes: asyncio.Task[None] | None = None
        if self.served_routes is not None:
            # Read while the port opens and the workers start; requests wait for it.
            first_routes = asyncio.get_running_loop().create_task(self.served_routes.first())
            app.routes_ready = first_routes
        try:
            lend: Callable[[http_server.HttpProtocol], bool] | None = None
            if self.lenders and len(self.hosts) == 1:
                lend = next(iter(self.lenders.values())).lend
                if routes is not None:
                    lend = _unless_routed(lend, routes)
            access = self.status.access if self.status.access_log else None
            server = await http_server.serve(
                app.handle, "127.0.0.1", self.options.port, MAX_BODY, lend, access
            )
        except OSError as exc:
            raise PortInUse(str(exc)) from exc
        port = server.sockets[0].getsockname()[1]
        app.port = port
        debug_port = None
        if self.options.debug_port is not None:
            from handlerlens.runner import debugger

            try:
                debug_port = debugger.listen(self.options.debug_port)
            except debugger.DebuggerError:
                server.close()
                raise
            self._debug_port = debug_port
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, self._stop_on, signum)
        watch_task = None
        try:
            if self.options.watch:
                # Watch before the first init: a save made while workers start still counts,
                # and the watches exist before anyone hears that we listen.
                roots = {host.fn.root for host in self.hosts.values()}
                if routes is not None and self.options.project_root is not None:
                    roots.add(self.options.project_root)  # its declaring files' routes
                if self.options.redeclare is not None:  # declaring files read again
                    roots |= {
                        os.path.dirname(host.fn.declared_in)
                        for host in self.hosts.values()
                        if host.fn.declared_in is not None
                    }
                roots = _outermost(roots)
                watch_task = loop.create_task(
                    watcher.watch(sorted(roots), self._on_change, self.stop_event)
                )
            url = f"http://127.0.0.1:{port}"
            if self.served_routes is not None:
                self.served_routes.url = url
            whole_app = False
            if first_routes is not None:
                await first_routes
                # A whole app: each function starts when a request first needs it (under
                # --debug too, once the editor attached: 20 functions are not 20 debuggees).
                whole_app = routes is not None and routes.active and len(self.hosts) > 1
                if whole_app and debug_port is None:
                    self._make_lazy()
            if debug_port is not None:
                # Listening comes first, so whoever started us learns the debug port; the
                # workers wait for the editor, or import-time breakpoints could not stop.
                self._announce(url, port, debug_port)
                if await self._wait_for_debugger(debug_port, whole_app):
                    if whole_app:
                        self._make_lazy()
                    await self._start_hosts()
            else:
                await self._start_hosts()
                if not self.stop_event.is_set():  # Ctrl+C while workers started: just stop
                    self._announce(url, port, None)
            await self.stop_event.wait()
        finally:
            if watch_task is not None:
                watch_task.cancel()
            if self._reloader is not None:
                self._reloader.cancel()
            if first_routes is not None:
                first_routes.cancel()
            if self.served_routes is not None:
                self.served_routes.cancel()
            for host in self.hosts.values():
                host.cancel_start()
            server.close()
            await asyncio.gather(
                *(host.pool.close() for host in self.hosts.values()), return_exceptions=True
            )
            self.status.emit({"event": "stopped"})
            self.status.human("handlerlens: stopped")
            self.status.flush()
        return 128 + signal.SIGINT if self.stopped_by == signal.SIGINT else 0

    def _make_lazy(self) -> None:
        """Each function starts when a request first needs it; one whose requests already
        wait (under --debug, for the editor to attach) starts now.

        Under --debug a function's worker is a child debug session that gets the editor's
        breakpoints when it attaches, before its module is imported, as every reload's does.
        """
        for host in self.hosts.values():
            host.lazy = True
            if self.options.standby:
                # A standby (for fast reloads) once its code is first saved: 20 functions are
                # not 20 idle interpreters more.
                host.pool.standby = False
                host.standby_later = True
            if host.pool.waiting:
                host.start_now()

    async def _start_hosts(self) -> None:
        """Start every function's workers, or give up on them once the runner is stopped: a
        worker may wait for ever (under --debug, for a DAP client that never attaches it), and
        Ctrl+C must still stop the runner; the pool's close() ends whatever started."""
        starting: asyncio.Future[Any] = asyncio.ensure_future(
            asyncio.gather(*(host.start() for host in self.hosts.values() if not host.lazy))
        )
        stopped: asyncio.Future[Any] = asyncio.ensure_future(self.stop_event.wait())
        try:
            await asyncio.wait({starting, stopped}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopped.cancel()
        if starting.done():
            starting.result()  # (its error, if any)
            return
        starting.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await starting

    def _stop_on(self, signum: int) -> None:
        if self.stopped_by is None:
            self.stopped_by = signum
        self.stop_event.set()

    def _announce(self, url: str, port: int, debug_port: int | None) -> None:
        event: dict[str, object] = {"event": "listening", "url": url, "port": port}
        if debug_port is not None:
            event["debugPort"] = debug_port
        self.status.emit(event)
        self.status.human(
            f"handlerlens: serving {', '.join(self._describe())} on {url} "
            f"(Ctrl+C to stop{', reload on save' if self.options.watch else ''})"
        )
        if self.served_routes is not None and self.served_routes.table.loaded:
            self.served_routes.tell("start")
        if any(host.lazy for host in self.hosts.values()):
            self.status.human(
                "handlerlens: each function starts when a request first needs it (its init "
                "is that request's cold start), then stays warm"
            )

    async def _wait_for_debugger(self, debug_port: int, whole_app: bool = False) -> bool:
        from handlerlens.runner import debugger

        self.status.human(debugger.attach_hint(debug_port, whole_app))
        if not await debugger.wait_for_client(self.stop_event):
            return False
        self.status.emit({"event": "debugger", "state": "attached"})
        if whole_app:
            self.status.human(
                "handlerlens: debugger attached; each function starts when a request first "
                "needs it (its worker joins the debug session then, with your breakpoints)"
            )
        else:
            self.status.human("handlerlens: debugger attached; starting the function")
        return True

    def _request_before_start(self) -> None:
        """A request came before the functions started: under --debug, they wait for a
        debugger to attach, and so does the request; say so (once), or it just hangs."""
        if self._said_waiting or self._debug_port is None or self.stop_event.is_set():
            return
        self._said_waiting = True
        self.status.human(
            f"handlerlens: waiting for a debugger on 127.0.0.1:{self._debug_port} before "
            "running requests: attach one (requests wait; those whose client leaves first are "
            "not run)"
        )

    def _describe(self) -> list[str]:
        return [
            f"{host.fn.name} ({host.fn.platform}, {host.fn.entry})" for host in self.hosts.values()
        ]

    async def _on_change(self, paths: set[str]) -> None:
        served = self.served_routes
        if served is not None and served.table.loaded and any(may_hold_routes(p) for p in paths):
            served.reload()
        declaring = {host.fn.declared_in for host in self.hosts.values()} & paths
        if declaring and self.options.redeclare is not None:
            self._redeclare(self.options.redeclare, {p for p in declaring if p is not None})
        shared = self._shared_roots()
        for host in self.hosts.values():
            if not host.started:
                continue
            root = host.fn.root
            mine = {path for path in paths if path == root or path.startswith(root + os.sep)}
            if not mine or (root in shared and not _concerns(host, mine)):
                continue
            # A reload whose init sits at a breakpoint would otherwise hold every later one
            # until someone presses Continue. The watcher is never kept waiting either.
            host.interrupt_paused()
            self._pending.setdefault(host, set()).update(mine)
        if self._pending and (self._reloader is None or self._reloader.done()):
            self._reloader = asyncio.get_running_loop().create_task(self._reload_pending())

    def _redeclare(self, redeclare: Callable[[], list[ServedFunction]], changed: set[str]) -> None:
        """A declaring file changed: read the served functions' declarations again and give
        each host whose declaration changed its new one (reloaded with the code's changes)."""
        files = ", ".join(sorted(os.path.relpath(p) for p in changed))
        try:
            functions = redeclare()
        except Exception as exc:
            self.status.human(
                f"handlerlens: {files} changed, but the functions' declarations could not be "
                f"read again ({exc}); they are served as declared before"
            )
            return
        by_name = {fn.name: fn for fn in functions}
        for host in self.hosts.values():
            old = host.fn
            new = by_name.pop(old.name, None)
            if new is None:
                if old.declared_in in changed:
                    self.status.human(
                        f"handlerlens: {old.name} is no longer declared in {files}; it is "
                        "served as declared before until serve restarts"
                    )
                continue
            differences = _declaration_changes(old, new)
            if not differences:
                continue
            if (new.root, new.platform) != (old.root, old.platform):
                self.status.human(
                    f"handlerlens: {old.name}: {files} changed its code root or platform: "
                    "restart serve to apply it"
                )
                continue
            host.redeclare(new)
            self.status.emit({"event": "declaration", "function": old.name, "changed": differences})
            self.status.human(
                f"handlerlens: {old.name}: {files} changed its declaration "
                f"({'; '.join(differences)}): reloading"
            )
            if host.started:
                self._pending.setdefault(host, set()).update(changed)
        for name in by_name:
            self.status.human(f"handlerlens: {name} is now declared: restart serve to serve it too")

    def _shared_roots(self) -> set[str]:
        """Code roots that several served functions share."""
        seen: set[str] = set()
        shared: set[str] = set()
        for host in self.hosts.values():
            (shared if host.fn.root in seen else seen).add(host.fn.root)
        return shared

    async def _reload_pending(self) -> None:
        while self._pending:
            targets = list(self._pending.items())
            self._pending.clear()
            await asyncio.gather(*(host.reload(changed) for host, changed in targets))
