"""`serve --debug`: the supervisor as debugpy's debuggee, each worker a child debug session.

The supervisor calls `debugpy.listen` once (one adapter, one port for the whole run) with
sub-process debugging on. Workers are started as plain interpreters with `subprocess` (never
fork), which debugpy rewrites to start them through its launcher: each connects to the same
adapter, which announces it to the editor (a `startDebugging` request, or the older
`debugpyAttach` event); the editor attaches a child session and sends its breakpoints, and
only then does the worker run. A standby worker goes through this while it waits, so a save
costs an import, not an interpreter start plus an attach.

Everything here is imported lazily: without `--debug`, debugpy is never loaded.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Callable
from typing import Any

from handlerlens.worker import debugging as worker_debugging

DEFAULT_HOST = "127.0.0.1"
WORKER_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "worker")


class DebuggerError(Exception):
    """The debugger cannot start; the message is for the user."""


def listen(port: int) -> int:
    """Start debugpy's adapter on 127.0.0.1:`port` (0: any free one); the port it got."""
    # pydevd warns about frozen modules on 3.11+ (they only matter for breakpoints inside
    # the standard library); the variable must be set before pydevd is imported.
    os.environ["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"
    try:
        import debugpy
    except ImportError as exc:
        raise DebuggerError(
            f"debugpy is not installed in the runner's environment ({exc}); "
            "install it with `pip install debugpy` next to handlerlens"
        ) from None
    # The supervisor's own loop is never the user's code: pydevd neither traces nor stops
    # this thread (the attribute is pydevd's documented opt-out for a thread).
    threading.current_thread().pydev_do_not_trace = True  # type: ignore[attr-defined]
    debugpy.configure(subProcess=True)
    try:
        _, actual = debugpy.listen((DEFAULT_HOST, port))
    except (RuntimeError, OSError) as exc:
        raise DebuggerError(
            f"cannot listen for the debugger on {DEFAULT_HOST}:{port}: {exc}. Pick another "
            "--debug-port, or leave it out for any free one."
        ) from None
    debugpy.trace_this_thread(False)
    # pydevd lists (and traces) every thread not marked as its own: the supervisor's helpers
    # (asyncio's executor and child watchers, the file watcher, the stdin watch) would fill
    # the editor's call stack. Mark them all, now and to come; the main thread stays listed
    # (pydevd counts it as the program being alive).
    threading.Thread.is_pydev_daemon_thread = True  # type: ignore[attr-defined]
    threading.main_thread().is_pydev_daemon_thread = False  # type: ignore[attr-defined]
    global _tracker
    _tracker = worker_debugging.breakpoint_tracker()
    return int(actual)


_tracker: worker_debugging.BreakpointTracker | None = None


async def settle_breakpoints(log: Callable[[str], None]) -> dict[str, list[int]] | None:
    """Before a worker imports the user's code: the breakpoint lines it should have.

    This process's session receives every breakpoint the editor sends, from before the
    first worker on, so it knows the text each was placed against. While a save has moved
    some and the editor has not re-sent them yet (VS Code does just after the save), wait,
    up to `MOVED_WAIT_S`. None when breakpoints cannot be followed here.
    """
    if _tracker is None:
        return None
    stale = await asyncio.get_running_loop().run_in_executor(
        None, _tracker.settle, worker_debugging.MOVED_WAIT_S
    )
    if stale:
        # (the log line has the "handlerlens: " prefix of its own)
        log(worker_debugging.stale_message(stale).rstrip("\n").removeprefix("handlerlens: "))
    return _tracker.lines()


def changed_lines(
    placed: dict[str, list[int]], told: dict[str, list[int]] | None
) -> dict[str, list[int]]:
    """The breakpoint lines a worker must have before its import: those the editor changed
    since the last init was told (`told`; None before the first). The editor sends them to
    every session, each its own request, so this worker's may still be on its way. Nothing
    before the first init (a worker gets the editor's breakpoints when it attaches), nothing for
    files whose lines did not change (the runner's and a worker's pydevd may hold those on
    different lines: waiting for an exact match cost every reload the whole wait); a file
    whose breakpoints were all removed is expected with none.
    """
    if told is None:
        return {}
    changed = {path: lines for path, lines in placed.items() if told.get(path) != lines}
    changed.update({path: [] for path in told if path not in placed})
    return changed


# The breakpoint lines a worker's init was last told, whichever function's worker; before
# any, those the editor had sent when it attached (wait_for_client).
_last_told: dict[str, list[int]] | None = None


def expected_lines(
    placed: dict[str, list[int]], told: dict[str, list[int]] | None
) -> dict[str, list[int]]:
    """changed_lines() for an init whose function's last init was told `told` (None: its
    first), noted as the last told. A function's first init (a whole app's function started
    by its first request) expects the lines changed since the last init of any function, or
    since the editor attached: after a save, its worker waits for the moved breakpoints the
    editor is still re-sending to its new session, as a reload's does, rather than import
    the code with the old lines."""
    global _last_told
    baseline = told if told is not None else _last_told
    _last_told = placed
    return changed_lines(placed, baseline)


async def wait_for_client(stop: asyncio.Event) -> bool:
    """Wait until an editor has attached and sent its configuration; False if stopped first."""
    import debugpy

    loop = asyncio.get_running_loop()
    attached: asyncio.Future[Any] = loop.run_in_executor(None, debugpy.wait_for_client)
    stopping = loop.create_task(stop.wait())
    try:
        await asyncio.wait({attached, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
    if attached.done():
        attached.result()
        global _last_told
        if _tracker is not None and _last_told is None:
            _last_told = _tracker.lines()  # the lines the editor sent as it attached
        return True
    while not attached.done():
        try:
            debugpy.wait_for_client.cancel()
        except RuntimeError:
            pass  # the executor thread has not entered wait_for_client() yet
        await asyncio.sleep(0.01)
    return False


def attach_configuration(port: int, name: str = "HandlerLens: attach") -> dict[str, Any]:
    """A DAP `attach` configuration for debugpy's adapter on `port`, as editors start it.

    `subProcess` keeps the workers coming as child sessions; `justMyCode` and the rules keep
    the runner's own code (supervisor and worker) out of stepping and call stacks, though
    the worker also hides its frames itself for clients that send no rules.
    """
    return {
        "type": "handlerlens",
        "request": "attach",
        "name": name,
        "connect": {"host": DEFAULT_HOST, "port": port},
        "justMyCode": True,
        "subProcess": True,
        "rules": [
            {"path": WORKER_DIR, "include": False},
            {"module": "handlerlens", "include": False},
        ],
    }


def attach_hint(port: int, whole_app: bool = False) -> str:
    """How to attach, for people reading the runner's output (`whole_app`: several functions,
    each started by its first request once a client is attached)."""
    when = (
        "the functions start once one is attached, each on its first request"
        if whole_app
        else "the function starts once one is attached"
    )
    return (
        f"handlerlens: debugger (debugpy) listening on {DEFAULT_HOST}:{port}; attach a DAP "
        f'client (VS Code: "request": "attach", "connect": {{"port": {port}}}, '
        f'"subProcess": true); {when}'
    )
