"""The worker under a debugger: hide the runner's frames, report when the handler is paused.

Only loaded when the supervisor runs with `--debug`. The supervisor itself runs under debugpy
with sub-process debugging on, so debugpy starts this interpreter through its own launcher,
which connects to the adapter and waits for the editor's breakpoints before our code runs;
nothing here connects or listens. What is left for the worker (the pydevd calls are guarded:
a debugpy without them degrades to visible runner frames, never to a broken worker):

- its own files (and debugpy's) are marked as debugger-internal, so whatever the client's
  `rules`, the user's call stack starts at their handler and stepping never enters the runner;
- breakpoints are placed again just before the handler's module is imported, and when the
  save moved some of them (lines inserted or deleted above), the import waits (briefly) for
  the editor to send their new lines, which VS Code does only after the save;
- a monitor thread tells the supervisor when a thread sits paused at a breakpoint, so the
  invocation timeout can stand still meanwhile.
"""

from __future__ import annotations

import os
import sys
import threading
import time

from . import protocol

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from typing import Any

_HERE = os.path.dirname(os.path.abspath(__file__))
POLL_S = 0.05
# How long a reload waits for the editor to re-send breakpoints the save moved (VS Code sends
# them right after the save; a client that never does costs this once per such save) ...
MOVED_WAIT_S = 2.0
# ... and how long a worker then waits for lines the editor changed since the last worker's
# init to reach its own session: the editor sends each session its own request, and on a
# loaded machine the worker's came more than half a second after the runner's — the import
# then ran with the old lines, one of them now the `def` line, and stopped in init.
RESEND_WAIT_S = 5.0

# Where pydevd keeps a suspended thread: `PyDB._do_wait_suspend`, in pydevd.py, loops
# processing the editor's commands until it is told to go on.
_SUSPEND_FUNCTION = "_do_wait_suspend"
_SUSPEND_FILE = "pydevd.py"


def under_debugger() -> bool:
    """True when debugpy's launcher started this process."""
    return "pydevd" in sys.modules


def _pydevd() -> tuple[Any, Any] | None:
    """pydevd's debugger object and API, when this process runs under debugpy."""
    try:
        import pydevd  # type: ignore[import-not-found]
        from _pydevd_bundle.pydevd_api import PyDevdAPI  # type: ignore[import-not-found]
    except ImportError:
        return None
    debugger = pydevd.get_global_debugger()
    return None if debugger is None else (debugger, PyDevdAPI())


def hide_runner_frames() -> bool:
    """Make pydevd treat the worker's files as its own; False if its API is not there."""
    found = _pydevd()
    if found is None:
        return False
    debugger, api = found
    starts = [_HERE]
    debugpy = sys.modules.get("debugpy")
    debugpy_file = getattr(debugpy, "__file__", None)
    if isinstance(debugpy_file, str):
        starts.append(os.path.dirname(os.path.abspath(debugpy_file)))
    try:
        api.set_dont_trace_start_end_patterns(debugger, tuple(starts), ("debugpy_launcher.py",))
    except Exception:  # a future pydevd may change this; the frames then merely show
        return False
    return True


def reapply_breakpoints() -> bool:
    """Re-place every breakpoint against the files as they are now; False if impossible."""
    # pydevd moves a breakpoint on a line without code to the code line above it, reading
    # the file when the breakpoint arrives. A standby worker got its breakpoints before the
    # save (or while the editor was still writing the file): placed again just before the
    # import, they fit the code that is about to run.
    found = _pydevd()
    if found is None:
        return False
    debugger, api = found
    try:
        with debugger._main_lock:
            api.reapply_breakpoints(debugger)
    except Exception:  # a future pydevd may change this; breakpoints then stay as placed
        return False
    return True


def _read_lines(path: str) -> list[str] | None:
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace").splitlines()
    except OSError:
        return None


def moved(old: list[str], new: list[str], lines: Iterable[int]) -> bool:
    """Whether the edit from `old` to `new` moves any of `lines` (1-based) to another line."""
    if old == new:
        return False
    wanted = sorted(set(lines))
    if not wanted:
        return False
    import difflib  # under the debugger only, after a save

    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(
        None, old, new, autojunk=False
    ).get_opcodes():
        # A line edited in place (a replacement as long as the original) keeps its number, as
        # the editor's breakpoint does; lines deleted or replaced unevenly move (or drop) it.
        keeps = tag == "equal" or (tag == "replace" and i2 - i1 == j2 - j1)
        for line in wanted:
            if i1 <= line - 1 < i2 and (not keeps or j1 - i1 != 0):
                return True
    return False


class BreakpointTracker:
    """Follows a process's breakpoints, and each file's text as it was when they were placed.

    VS Code moves a breakpoint with the lines the user inserts above it, but tells the
    debugger only after the save, in a race with the reload the save starts. The supervisor
    (whose session gets every breakpoint, from before the first worker) holds a reload while
    the saved files have moved breakpoints the editor has not re-sent yet (`settle`), then
    tells the worker which lines to expect; the worker waits for those (`wait_for`), since
    the same message reaches its own session a moment earlier or later.
    """

    def __init__(self, debugger: Any) -> None:
        self._debugger = debugger
        self._cond = threading.Condition()
        # file -> (its breakpoint lines, its text when they were placed)
        self._placed: dict[str, tuple[frozenset[int], list[str] | None]] = {}

    def install(self) -> bool:
        """Follow pydevd's breakpoint changes; False if its API is not there."""
        original = getattr(self._debugger, "on_breakpoints_changed", None)
        breakpoints = getattr(self._debugger, "breakpoints", None)
        if not callable(original) or not isinstance(breakpoints, dict):
            return False

        def on_breakpoints_changed(*args: Any, **kwargs: Any) -> Any:
            try:
                return original(*args, **kwargs)
            finally:
                self.note()

        self._debugger.on_breakpoints_changed = on_breakpoints_changed
        self.note()
        return True

    def _current(self) -> dict[str, frozenset[int]]:
        try:
            found = dict(self._debugger.breakpoints)
            return {str(f): frozenset(int(n) for n in dict(b)) for f, b in found.items() if b}
        except Exception:  # a future pydevd may keep them differently: nothing to hold then
            return {}

    def note(self) -> None:
        """Take in a change of breakpoints (pydevd calls this on its own thread)."""
        current = self._current()
        with self._cond:
            for path in list(self._placed):
                if path not in current:
                    del self._placed[path]
            for path, lines in current.items():
                known = self._placed.get(path)
                if known is None or known[0] != lines:
                    self._placed[path] = (lines, _read_lines(path))
            self._cond.notify_all()

    def lines(self) -> dict[str, list[int]]:
        """Every file's breakpoint lines, as placed now."""
        with self._cond:
            return {path: sorted(lines) for path, (lines, _) in self._placed.items()}

    def _stale(self) -> list[str]:
        stale = []
        for path, (lines, text) in self._placed.items():
            now = _read_lines(path)
            if text is not None and now is not None and moved(text, now, lines):
                stale.append(path)
        return stale

    def settle(self, timeout: float) -> list[str]:
        """Wait until no saved file has breakpoints the save moved; the files still stale."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                stale = self._stale()
                left = deadline - time.monotonic()
                if not stale:
                    return stale
                if left <= 0:
                    # The client keeps these lines: from now on they stand for this text,
                    # so the next save waits only if it moves them again.
                    for path in stale:
                        lines, _ = self._placed[path]
                        self._placed[path] = (lines, _read_lines(path))
                    return stale
                self._cond.wait(min(left, POLL_S))

    def wait_for(self, expected: dict[str, list[int]], timeout: float) -> bool:
        """Wait until these files have exactly these breakpoint lines; False on timeout."""
        want = {path: frozenset(lines) for path, lines in expected.items()}
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                have = {path: lines for path, (lines, _) in self._placed.items()}
                if all(have.get(path, frozenset()) == lines for path, lines in want.items()):
                    return True
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)


def stale_message(stale: list[str]) -> str:
    """Says which files kept breakpoints on lines the save moved."""
    return (
        "handlerlens: the save moved breakpoints in "
        + ", ".join(os.path.relpath(p) for p in stale)
        + f" and the debugger client did not send their new lines within {MOVED_WAIT_S:g} s;"
        " they stay on their old line numbers\n"
    )


def breakpoint_tracker() -> BreakpointTracker | None:
    """A tracker on this process's pydevd, installed; None if that cannot be done."""
    found = _pydevd()
    if found is None:
        return None
    tracker = BreakpointTracker(found[0])
    return tracker if tracker.install() else None


def hide_thread(thread: threading.Thread) -> threading.Thread:
    """Keep a runner thread out of the editor's thread list and out of tracing."""
    # pydevd neither lists nor traces threads carrying this mark (its own helpers do).
    thread.is_pydev_daemon_thread = True  # type: ignore[attr-defined]
    return thread


def _suspended(skip: int) -> bool:
    for ident, frame in sys._current_frames().items():
        if ident == skip:
            continue
        current: Any = frame
        while current is not None:
            code = current.f_code
            if code.co_name == _SUSPEND_FUNCTION and code.co_filename.endswith(_SUSPEND_FILE):
                return True
            current = current.f_back
    return False


class PauseMonitor:
    """Reports `{"op": "debug", "paused": bool}` frames while an operation runs."""

    def __init__(self, send: Callable[[dict[str, Any]], None]) -> None:
        self.send = send
        self.busy = threading.Event()
        self._thread = hide_thread(
            threading.Thread(target=self._run, name="handlerlens-pause-monitor", daemon=True)
        )

    def start(self) -> PauseMonitor:
        """Start watching; returns self."""
        self._thread.start()
        return self

    def _run(self) -> None:
        me = threading.get_ident()
        reported = False
        while True:
            if not reported:
                # Idle: sleep until an operation starts, so a quiet worker costs nothing.
                self.busy.wait()
            time.sleep(POLL_S)
            paused = self.busy.is_set() and _suspended(me)
            if paused != reported:
                reported = paused
                try:
                    self.send({"op": protocol.DEBUG, "paused": paused})
                except OSError:
                    return
