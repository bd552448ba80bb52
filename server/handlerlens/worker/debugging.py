"""The worker under a debugger: hide the runner's frames, report when the handler is paused.

Only loaded when the supervisor runs with `--debug`. The supervisor itself runs under debugpy
with sub-process debugging on, so debugpy starts this interpreter through its own launcher,
which connects to the adapter and waits for the editor's breakpoints before our code runs;
nothing here connects or listens. What is left for the worker (the pydevd calls are guarded:
a debugpy without them degrades to visible runner frames, never to a broken worker):

- its own files (and debugpy's) are marked as debugger-internal, so whatever the client's
  `rules`, the user's call stack starts at their handler and stepping never enters the runner;
- breakpoints are placed again just before the handler's module is imported;
- a monitor thread tells the supervisor when a thread sits paused at a breakpoint, so the
  invocation timeout can stand still meanwhile.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

_HERE = os.path.dirname(os.path.abspath(__file__))
POLL_S = 0.05

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
                    self.send({"op": "debug", "paused": paused})
                except OSError:
                    return
