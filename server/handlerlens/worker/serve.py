"""The worker's loop: frames in on the control pipe, frames out on the result pipe.

stdout and stderr stay the function's own log. After each operation a sentinel is written to
both, so the supervisor knows which request every log line belongs to and when a request's
log is complete. A lifeline pipe, whose write end only the supervisor holds, reaches end of
file when the supervisor dies, however it died; the worker then kills its process group, so
neither it nor anything the handler spawned outlives the runner.
"""

from __future__ import annotations

import io
import os
import signal
import sys
import threading

from . import channel, protocol
from .runtime import Runtime, max_rss_kb

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, NoReturn

    # Loaded only under --debug: every other worker's start skips it.
    from . import debugging
    from . import direct as direct_mod
    from . import later as later_mod

SENTINEL = protocol.END_LINE


def _end_instance(status: int) -> NoReturn:
    # The instance is over: take whatever the handler spawned (same process group) along.
    try:
        if os.getpgrp() == os.getpid():
            os.killpg(os.getpgrp(), signal.SIGKILL)
    finally:
        os._exit(status)


def _watch_lifeline(fd: int) -> None:
    try:
        while os.read(fd, 4096):
            pass
    except OSError:
        pass
    _end_instance(70)


class _TrackingRaw(io.FileIO):
    """fd 1 or 2, remembering whether Python code wrote to it since the last operation."""

    dirty = False

    def write(self, b: Any) -> int:
        self.dirty = True
        return super().write(b)


_tracked: dict[int, _TrackingRaw] = {}


def _track_std_streams() -> None:
    # Same layering CPython uses for unbuffered stdio (raw file + write-through text), so
    # print() behaves as before; the flag lets an operation that printed nothing skip its
    # end marker, sparing the supervisor a wake-up per stream on the hot path.
    for name, fd in (("stdout", 1), ("stderr", 2)):
        old = getattr(sys, name)
        raw = _TrackingRaw(fd, "wb", closefd=False)
        text = io.TextIOWrapper(
            raw,
            encoding=getattr(old, "encoding", None) or "utf-8",
            errors=getattr(old, "errors", None) or "backslashreplace",
            line_buffering=False,
            write_through=True,
        )
        setattr(sys, name, text)
        setattr(sys, f"__{name}__", text)
        _tracked[fd] = raw


def _mark_end_of_op() -> list[int]:
    """Write the end marker to each stream the operation wrote to; which ones got it."""
    marked = []
    for name, fd in (("stdout", 1), ("stderr", 2)):
        stream = getattr(sys, name)
        try:
            stream.flush()
        except Exception:  # a closed or replaced stream must not break the protocol
            pass
        raw = _tracked.get(fd)
        if raw is not None:
            ours = getattr(stream, "buffer", None) is raw
            # Skip only when print() still goes through our wrapper and nothing was written.
            if ours and not raw.dirty:
                continue
            raw.dirty = False
        try:
            os.write(fd, SENTINEL)
            marked.append(fd)
        except OSError:
            pass
    return marked


def _install_fresh_source_loader(root: str) -> None:
    # Modules under the code root are always compiled from source: a .pyc is validated by
    # mtime in whole seconds plus size, so two saves within a second would run stale code.
    import importlib.machinery as machinery

    class FreshSourceLoader(machinery.SourceFileLoader):
        def get_code(self, fullname: str) -> Any:
            return self.source_to_code(self.get_data(self.path), self.path)

    make_finder = machinery.FileFinder.path_hook(
        (machinery.ExtensionFileLoader, machinery.EXTENSION_SUFFIXES),
        (FreshSourceLoader, machinery.SOURCE_SUFFIXES),
        (machinery.SourcelessFileLoader, machinery.BYTECODE_SUFFIXES),
    )
    prefix = root.rstrip(os.sep) + os.sep

    def hook(path: str) -> Any:
        full = os.path.abspath(path or ".")
        inside = full == root or full.startswith(prefix)
        if not inside or "site-packages" in full or f"{os.sep}.venv" in full:
            raise ImportError("not under the code root")
        return make_finder(path)

    sys.path_hooks.insert(0, hook)
    sys.path_importer_cache.clear()


def _start_debugging(send: Callable[[dict[str, Any]], None]) -> debugging.PauseMonitor | None:
    from . import debugging

    if not debugging.under_debugger():
        # debugpy starts sub-processes through its launcher only when it recognises the
        # interpreter; otherwise this worker runs, but no breakpoint can stop in it.
        sys.stderr.write(
            "handlerlens: this worker is not under the debugger (debugpy did not recognise "
            f"{sys.executable} as a Python interpreter); breakpoints will not stop here.\n"
        )
        return None
    debugging.hide_runner_frames()
    # debugpy's launcher let this code run: the editor has attached and configured us.
    send({"op": protocol.DEBUG, "attached": True})
    return debugging.PauseMonitor(send).start()


def _settle_breakpoints(tracker: debugging.BreakpointTracker | None, expected: object) -> None:
    """Before an import: have the breakpoints the supervisor saw (see BreakpointTracker)."""
    from . import debugging

    if tracker is None:
        return
    if isinstance(expected, dict):
        if not tracker.wait_for(expected, debugging.RESEND_WAIT_S):
            sys.stderr.write(
                "handlerlens: the debugger client did not send this worker the breakpoint "
                f"lines it sent the runner within {debugging.RESEND_WAIT_S:g} s; the code is "
                "loaded with the lines this worker has\n"
            )
        return
    # A supervisor that could not follow the breakpoints: judge from this worker's own.
    stale = tracker.settle(debugging.MOVED_WAIT_S)
    if stale:
        sys.stderr.write(debugging.stale_message(stale))


def main(argv: list[str]) -> int:
    """Serve operations until the supervisor says `exit` or goes away."""
    control, result, lifeline = (int(value) for value in argv[:3])
    debug = "--debug" in argv[3:]
    # --direct FD: a Unix socket on which the supervisor lends HTTP connections (direct.py);
    # --direct-later FD: the same, what answering them takes loaded at the first lend.
    later = "--direct-later" in argv[3:]
    flag = "--direct-later" if later else "--direct"
    channel_fd = int(argv[argv.index(flag) + 1]) if flag in argv[3:] else None
    for fd in (control, result, lifeline, *(() if channel_fd is None else (channel_fd,))):
        os.set_inheritable(fd, False)
    watcher = threading.Thread(target=_watch_lifeline, args=(lifeline,), daemon=True)
    if debug:
        from . import debugging

        debugging.hide_thread(watcher)
    watcher.start()
    platforms = None
    # The interpreter's own module path, before the code root (and the function's paths)
    # join it: what lending's modules are loaded with, later too (later.py).
    base_path = list(sys.path)
    # --direct-later: nothing of lending is loaded until the first lend comes (later.py).
    lazy: later_mod.Later | None = None
    if channel_fd is not None and later:
        from . import later as later_mod

        lazy = later_mod.Later(channel_fd, base_path)
        channel_fd = None
    if channel_fd is not None:
        try:
            from . import direct as direct_mod

            # Before the code root joins sys.path: a user's `typing.py` or `http.py` must
            # not stand in for the standard library modules these load. And before init
            # (a standby is idle then), so a request never waits for them.
            platforms = direct_mod.load_platforms()
        except Exception as exc:  # e.g. an interpreter without socket.recv_fds (< 3.9)
            sys.stderr.write(f"handlerlens: connections stay with the runner here: {exc!r}\n")
            channel_fd = None
    root = os.getcwd()
    if not sys.path or sys.path[0] != root:
        sys.path.insert(0, root)
    _install_fresh_source_loader(root)
    _track_std_streams()
    send_lock = threading.Lock()

    def locked_send(meta: dict[str, Any], body: bytes = b"") -> None:
        # The pause monitor writes on the same pipe: one frame at a time.
        with send_lock:
            channel.send(result, meta, body)

    # Without --debug only this thread writes frames (two a request on a lent connection):
    # no lock, no wrapper around channel.send. (functools is loaded already: json needs re.)
    from functools import partial

    send: Callable[..., None] = locked_send if debug else partial(channel.send, result)

    monitor = _start_debugging(send) if debug else None
    tracker = debugging.breakpoint_tracker() if monitor is not None else None
    busy = monitor.busy if monitor is not None else None
    runtime = Runtime()
    direct: direct_mod.DirectServer | None = None
    if channel_fd is not None:
        direct = direct_mod.DirectServer(
            channel_fd, platforms, runtime.invoke, send, _mark_end_of_op, max_rss_kb
        )
        direct.watch(control)

    # One handler per message the supervisor sends (protocol.TO_WORKER): the operation's
    # reply and payload, or None when it answers otherwise.
    def on_init(meta: dict[str, Any], payload: bytes) -> tuple[dict[str, Any], bytes] | None:
        if monitor is not None:
            _settle_breakpoints(tracker, meta.get("breakpoints"))
            debugging.reapply_breakpoints()
        reply = runtime.init(meta)
        if lazy is not None:
            reply["direct"] = True  # it can, once it has loaded what that takes
            lazy.init_ms = float(reply.get("initMs") or 0.0)
        if direct is not None:
            reply["direct"] = True  # this worker can answer lent connections
            # What init took: the first call's time limit may count it (call_timeout).
            direct.init_ms = float(reply.get("initMs") or 0.0)
        return reply, b""

    def on_invoke(meta: dict[str, Any], payload: bytes) -> tuple[dict[str, Any], bytes] | None:
        if lazy is not None:
            lazy.init_ms = 0.0
        if direct is not None:
            direct.init_ms = 0.0  # that call was the first: it counted the init
        return runtime.invoke(meta, payload)

    def on_release(meta: dict[str, Any], payload: bytes) -> tuple[dict[str, Any], bytes] | None:
        if lazy is not None:  # asked before it read its first lend: those go back unread
            send(*lazy.release())
            return None
        if direct is None:
            return {"op": protocol.ERROR, "message": "unknown operation 'release'"}, b""
        # Not an operation of the function's: no end markers (see runner/log_router.py).
        send(*direct.release_all())
        return None

    def on_exit(meta: dict[str, Any], payload: bytes) -> tuple[dict[str, Any], bytes] | None:
        _end_instance(0)

    handlers = {
        protocol.INIT: on_init,
        protocol.INVOKE: on_invoke,
        protocol.RELEASE: on_release,
        protocol.EXIT: on_exit,
    }

    def handle(meta: dict[str, Any], payload: bytes) -> None:
        op = meta.get("op")
        handler = handlers.get(op) if isinstance(op, str) else None
        if busy is not None:
            busy.set()
        if handler is None:
            answer: tuple[dict[str, Any], bytes] | None = (
                {"op": protocol.ERROR, "message": f"unknown operation {op!r}"},
                b"",
            )
        else:
            answer = handler(meta, payload)
        if answer is None:
            return
        reply, body = answer
        if busy is not None:
            busy.clear()
        reply["maxRssKb"] = max_rss_kb()
        reply["marked"] = _mark_end_of_op()
        send(reply, body)

    while True:
        if lazy is not None and not channel.pending(control):
            if lazy.wait(control):  # a lend waits, and no operation does
                # The first lend: lending's modules load now, and their server takes over.
                direct = lazy.server(runtime.invoke, send, _mark_end_of_op, max_rss_kb)
                if direct is not None:
                    direct.watch(control)
                    lazy = None
                continue
        if direct is not None and not channel.pending(control):
            ready = direct.wait()
            if control not in ready:  # the control pipe goes first (a release, an invoke)
                for item in ready:
                    if item is None:
                        direct.take_lent()
                    else:
                        direct.serve(item)
                continue
        frame = channel.recv(control)
        if frame is None:
            _end_instance(0)
        handle(*frame)
